//! Where log records are written: `/dev/kmsg` once it can be opened, and
//! the console (fd 2). Kept as a raw fd in an atomic so the logger (and a
//! panic) can write without a lock or an allocation.

use core::sync::atomic::{AtomicI32, Ordering};

use rustix::fd::{BorrowedFd, IntoRawFd};
use rustix::fs::{self, Mode, OFlags};

/// The open `/dev/kmsg`, or -1.
static KMSG: AtomicI32 = AtomicI32::new(-1);

/// Opens `/dev/kmsg` for writing (once devtmpfs is mounted); true if it is
/// open now.
pub fn open() -> bool {
    if KMSG.load(Ordering::Relaxed) >= 0 {
        return true;
    }
    let Ok(fd) = fs::open(
        "/dev/kmsg",
        OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    ) else {
        return false;
    };
    // Kept for the life of the init; CLOEXEC, so the real init never has it.
    KMSG.store(fd.into_raw_fd(), Ordering::Relaxed);
    true
}

/// Writes one record to the kernel log; false if it is not open (or the
/// kernel refused the record).
pub fn write_kmsg(record: &[u8]) -> bool {
    let raw = KMSG.load(Ordering::Relaxed);
    if raw < 0 {
        return false;
    }
    // SAFETY: `raw` came from `into_raw_fd` in `open` and is never closed.
    let fd = unsafe { BorrowedFd::borrow_raw(raw) };
    rustix::io::write(fd, record).is_ok()
}

/// Writes to the console (fd 2, whatever the kernel or `attach_console`
/// made it).
pub fn write_console(bytes: &[u8]) {
    super::stdio::err(bytes);
}
