//! Block device probes in child processes.
//!
//! A read of a scratched disc or a dying stick can stall for minutes (SCSI
//! retries), and the process that reads is stuck with it. So the init
//! never reads a device to identify it: a forked child opens the device,
//! makes every read the probes need ([`Captured::take`]), sends the bytes
//! back through a pipe and exits. The init polls the pipe with everything
//! else it waits for, so the loop that enforces the deadlines never blocks
//! on a device, and a read that never returns holds up only its child.
//!
//! The device is opened `O_NONBLOCK`, as blkid opens what it probes: an
//! optical drive then opens at once even without a disc (the open does not
//! wait on the tray). Like blkid, a drive that says it holds no readable
//! disc (`CDROM_DRIVE_STATUS`) is then not read at all: `ENOMEDIUM`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::string::String;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::Pid;

use super::child;
use super::fsops::{pread_full as read_at, write_all};
use super::SysResult;
use crate::probe::capture::{Captured, MAX_CAPTURE};
use crate::probe::PROBE_BYTES;

/// The first byte on the pipe: what follows is a capture, or an errno.
const CAPTURED: u8 = 0;
const FAILED: u8 = 1;
/// How much of the pipe is read at once.
const CHUNK: usize = 64 * 1024;

/// A probe running in a child process.
pub struct Probing {
    pub node: String,
    pid: Pid,
    pipe: OwnedFd,
    received: Vec<u8>,
}

/// How a probe was started.
pub enum Started {
    Child(Probing),
    /// No child or pipe could be had: the probe could not run.
    Failed(Errno),
}

/// Forks a child that probes `node` (`device_bytes` long, with logical
/// sectors of `sector_size` bytes) and writes what it read to a pipe.
pub fn start(node: &str, device_bytes: u64, sector_size: u32) -> Started {
    let (reader, writer) = match pipe_with(PipeFlags::CLOEXEC) {
        Ok(ends) => ends,
        Err(e) => return Started::Failed(e),
    };
    // The closure owns the write end: in the init it is dropped (closed)
    // when `fork` returns, so the pipe ends when the child's copy closes.
    let work = move || {
        let (wire, device) = capture(node, device_bytes, sector_size);
        let code = i32::from(write_all(&writer, &wire).is_err());
        // The pipe is closed before the device, whose release may itself
        // wait on the drive: the init has its answer either way.
        drop(writer);
        drop(device);
        code
    };
    match child::fork(work) {
        Ok(pid) => Started::Child(Probing {
            node: String::from(node),
            pid,
            pipe: reader,
            received: Vec::new(),
        }),
        Err(e) => Started::Failed(e),
    }
}

/// What the child does: opens and reads the device and encodes the outcome.
fn capture(node: &str, device_bytes: u64, sector_size: u32) -> (Vec<u8>, Option<OwnedFd>) {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rfs::open(node, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => return (failed(e), None),
    };
    if let Some(e) = no_disc(&fd) {
        return (failed(e), Some(fd));
    }
    let head = match read_at(&fd, 0, PROBE_BYTES) {
        Ok(head) => head,
        Err(e) => return (failed(e), Some(fd)),
    };
    let mut more = |offset: u64, len: usize| {
        read_at(&fd, offset, len)
            .ok()
            .filter(|bytes| bytes.len() == len)
    };
    let captured = Captured::take(head, &mut more, device_bytes, sector_size);
    let mut wire = vec![CAPTURED];
    wire.extend_from_slice(&captured.encode());
    (wire, Some(fd))
}

/// `CDROM_DRIVE_STATUS` and its answers (linux/cdrom.h).
const CDROM_DRIVE_STATUS: libc::Ioctl = 0x5326;
const CDSL_CURRENT: libc::c_int = libc::c_int::MAX;
const CDS_NO_INFO: libc::c_int = 0;
const CDS_DISC_OK: libc::c_int = 4;

/// For an optical drive without a readable disc (none, tray open, not
/// ready), the error to report instead of reading; `None` for any other
/// device, or a drive that cannot tell.
fn no_disc(fd: &OwnedFd) -> Option<Errno> {
    use rustix::fd::AsRawFd;
    // SAFETY: `fd` is an open descriptor for the call's duration; this
    // ioctl takes an integer argument (the slot) and writes no memory. A
    // device that is not a CD drive answers ENOTTY.
    let status = unsafe { libc::ioctl(fd.as_raw_fd(), CDROM_DRIVE_STATUS, CDSL_CURRENT) };
    (status >= 0 && status != CDS_NO_INFO && status != CDS_DISC_OK).then_some(Errno::NOMEDIUM)
}

fn failed(e: Errno) -> Vec<u8> {
    let mut wire = vec![FAILED];
    wire.extend_from_slice(&e.raw_os_error().to_le_bytes());
    wire
}

impl Probing {
    /// Readable (for `poll`) when the child has sent more, or is done.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.pipe.as_fd()
    }

    /// The child's pid, to be reaped once it is done.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Takes what the pipe holds now (call when [`Probing::fd`] is
    /// readable, so this does not wait); the outcome once the child has
    /// closed its end.
    pub fn receive(&mut self) -> Option<SysResult<Captured>> {
        let mut chunk = vec![0u8; CHUNK];
        match rustix::io::read(&self.pipe, &mut chunk) {
            Ok(0) => Some(decode(&self.received)),
            Ok(n) => {
                self.received
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                // A child cannot make the init hold more than a capture.
                (self.received.len() > MAX_CAPTURE.saturating_add(CHUNK))
                    .then_some(Err(Errno::FBIG))
            }
            Err(Errno::INTR | Errno::AGAIN) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The outcome the child wrote; a child that died before writing it all
/// (killed, out of memory) reports `EIO`.
fn decode(wire: &[u8]) -> SysResult<Captured> {
    match wire.split_first() {
        Some((&CAPTURED, rest)) => Captured::decode(rest).ok_or(Errno::IO),
        Some((&FAILED, rest)) => {
            let raw = rest.try_into().map(i32::from_le_bytes).unwrap_or(0);
            Err(if raw > 0 {
                Errno::from_raw_os_error(raw)
            } else {
                Errno::IO
            })
        }
        _ => Err(Errno::IO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_child_writes_is_what_the_init_reads() {
        assert_eq!(decode(&failed(Errno::NOMEDIUM)), Err(Errno::NOMEDIUM));
        assert_eq!(decode(&[]), Err(Errno::IO));
        assert_eq!(decode(&[FAILED, 1]), Err(Errno::IO));
        let mut wire = vec![CAPTURED];
        wire.extend_from_slice(&Captured::default().encode());
        assert_eq!(decode(&wire), Ok(Captured::default()));
    }
}
