//! Writing to fds 1 and 2, for the user tools and the console.

use rustix::fd::BorrowedFd;

/// Writes all of `bytes` to `fd`; errors are ignored, there is nowhere
/// else to say them.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) if n > 0 => bytes = bytes.get(n..).unwrap_or_default(),
            Err(rustix::io::Errno::INTR) => {}
            _ => return,
        }
    }
}

/// Standard output.
pub fn out(bytes: &[u8]) {
    // SAFETY: fd 1 is only borrowed for this write; if it is not open the
    // write fails with EBADF, which is ignored.
    write_all(unsafe { rustix::stdio::stdout() }, bytes);
}

/// Standard error, which is the console for PID 1.
pub fn err(bytes: &[u8]) {
    // SAFETY: as for `out`, with fd 2.
    write_all(unsafe { rustix::stdio::stderr() }, bytes);
}

/// Ends the process (a user tool) with `code`.
pub fn exit(code: i32) -> ! {
    // SAFETY: plain `exit`; the tools hold no state that needs unwinding.
    unsafe { libc::exit(code) }
}
