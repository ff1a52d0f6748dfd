//! Making sure fds 0, 1 and 2 are the console.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::BorrowedFd;

use rustix::fs::{self, Mode, OFlags};

/// The kernel opens `/dev/console` as fds 0–2 only if the node exists in
/// the initramfs; if it did not, open it now that devtmpfs is mounted.
pub fn attach_console() {
    let all_open = (0..3).all(|fd| {
        // SAFETY: the borrowed fd only lives for this fcntl, which merely
        // asks whether the number is open (EBADF if not).
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        rustix::io::fcntl_getfd(fd).is_ok()
    });
    if !all_open {
        open_console();
    }
}

/// Points fds 0–2 at `/dev/console` as it is now. After the switch this is
/// the new root's devtmpfs node, so the real init does not inherit fds on
/// the deleted initramfs node.
pub fn reattach_console() {
    open_console();
}

fn open_console() {
    let Ok(console) = fs::open(
        "/dev/console",
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    // The duplicates do not inherit CLOEXEC: the real init gets them.
    // With nothing open, `open` itself returned fd 0 (or 1, 2): that one
    // is kept, not closed with `console`, or the shell has no stdin.
    let _ = rustix::stdio::dup2_stdin(&console);
    let _ = rustix::stdio::dup2_stdout(&console);
    let _ = rustix::stdio::dup2_stderr(&console);
    // (`dup2` onto itself changes nothing, so it is still close-on-exec.)
    if rustix::fd::AsRawFd::as_raw_fd(&console) <= 2 {
        let _ = rustix::io::fcntl_setfd(&console, rustix::io::FdFlags::empty());
        let _ = rustix::fd::IntoRawFd::into_raw_fd(console);
    }
}
