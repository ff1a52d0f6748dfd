//! The SHA-256 of a download, computed in a child process beside it.
//!
//! Hashing costs about as much CPU as receiving: done in the loop that
//! receives, it halves the download rate wherever the CPU, not the wire,
//! is the limit (QEMU's TCG, a 10 GbE link, a CPU without SHA
//! instructions). A forked child at the lowest priority reads the `.part`
//! file behind the writer (from the page cache: it is a tmpfs) and hashes
//! it, while the init only receives and writes: on a second CPU at once,
//! on a single one whenever the init waits. Still one pass over the data.
//! A digest that is only recorded is computed after the last byte (then
//! nothing competes with the transfer: under an emulator, a busy guest
//! CPU slows the host thread that delivers its packets).
//!
//! Pipes, both ways non-blocking in the init:
//! - wake (init → child): 8-byte little-endian lengths. A plain one says
//!   "the file has grown" (the child reads the file's size itself, so a
//!   wake-up that does not fit the pipe is simply dropped); one with the
//!   top bit set says "the file is complete at this length".
//! - answers (child → init): `HASHED` + u64 now and then, `DONE` + the
//!   32-byte digest at the end, or `FAILED` + an errno.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::{AsRawFd, OwnedFd, RawFd};
use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::{self as rio, Errno};
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::{kill_process, Pid, Signal};

use super::child;
use super::fsops::write_all;
use super::{DigestState, SysResult};
use crate::fetch::sha256::Sha256;

const COMPLETE: u64 = 1 << 63;
const HASHED: u8 = 0;
const DONE: u8 = 1;
const FAILED: u8 = 2;
/// How much of the file the child reads at once.
const CHUNK: usize = 256 * 1024;
/// The child says how far it is at least this often (in bytes).
const REPORT_EVERY: u64 = 8 << 20;
/// How long the child sleeps when it has caught up and nobody wakes it.
const IDLE: Duration = Duration::from_millis(200);

/// A child hashing a growing file.
pub struct Digesting {
    pid: Pid,
    wake: OwnedFd,
    answers: OwnedFd,
    received: Vec<u8>,
    /// The "complete at" message went out.
    told_complete: bool,
}

/// Forks the child that hashes `path` from its first byte: as it grows,
/// or only once it is complete (`after_last_byte`).
pub fn start(path: &str, after_last_byte: bool) -> SysResult<Digesting> {
    let file = rfs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let (wake_rx, wake_tx) = pipe_with(PipeFlags::CLOEXEC)?;
    let (answers_rx, answers_tx) = pipe_with(PipeFlags::CLOEXEC)?;
    rio::ioctl_fionbio(&wake_tx, true)?;
    rio::ioctl_fionbio(&answers_rx, true)?;
    // The closure owns the child's ends: the init closes its copies when
    // `fork` returns, so each side sees the other's end of the pipes.
    let work = move || {
        close_all_but(&[
            file.as_raw_fd(),
            wake_rx.as_raw_fd(),
            answers_tx.as_raw_fd(),
        ]);
        let answer = match hash_following(&file, &wake_rx, &answers_tx, after_last_byte) {
            Ok(digest) => {
                let mut wire = vec![DONE];
                wire.extend_from_slice(&digest);
                wire
            }
            Err(e) => {
                let mut wire = vec![FAILED];
                wire.extend_from_slice(&e.raw_os_error().to_le_bytes());
                wire
            }
        };
        i32::from(write_all(&answers_tx, &answer).is_err())
    };
    let pid = child::fork(work)?;
    Ok(Digesting {
        pid,
        wake: wake_tx,
        answers: answers_rx,
        received: Vec::new(),
        told_complete: false,
    })
}

/// Closes every descriptor the child inherited but `keep` (and the
/// standard three): a connection the init gives up on must really close,
/// not live on in this child until the download ends. Best effort: a
/// kernel before 5.9 has no `close_range`, and then nothing is closed.
fn close_all_but(keep: &[RawFd]) {
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    let mut first: RawFd = 3;
    for fd in keep.into_iter().chain([RawFd::MAX]) {
        if fd > first {
            let last = fd.saturating_sub(1);
            // SAFETY: close_range only closes descriptors; the child never
            // uses any of these again (its own three are outside every
            // range) and leaves with `_exit`, running no destructor that
            // could close one a second time.
            unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    first as libc::c_uint,
                    last as libc::c_uint,
                    0,
                );
            }
        }
        first = fd.saturating_add(1);
    }
}

/// The child's loop: hash what the file holds, sleep until woken, until
/// told the length of the whole file and all of it is hashed.
fn hash_following(
    file: &OwnedFd,
    wake: &OwnedFd,
    answers: &OwnedFd,
    after_last_byte: bool,
) -> SysResult<[u8; 32]> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut hashed: u64 = 0;
    let mut reported: u64 = 0;
    let mut complete: Option<u64> = None;
    loop {
        if after_last_byte && complete.is_none() {
            if let Some(word) = wait_for_word(wake)? {
                complete = Some(word & !COMPLETE);
            }
            continue;
        }
        let size = u64::try_from(rfs::fstat(file)?.st_size).unwrap_or(0);
        let end = complete.map_or(size, |c| c.min(size));
        while hashed < end {
            let want = usize::try_from(end - hashed).unwrap_or(CHUNK).min(CHUNK);
            let part = buf.get_mut(..want).ok_or(Errno::INVAL)?;
            let n = rio::pread(file, &mut *part, hashed)?;
            if n == 0 {
                break;
            }
            hash.update(part.get(..n).unwrap_or_default());
            hashed += n as u64;
            if hashed - reported >= REPORT_EVERY {
                reported = hashed;
                let mut wire = vec![HASHED];
                wire.extend_from_slice(&hashed.to_le_bytes());
                write_all(answers, &wire)?;
            }
        }
        if complete == Some(hashed) {
            return Ok(hash.finish());
        }
        if let Some(c) = complete {
            if size < c {
                // The init wrote all of it before saying so: the file was
                // cut behind our back.
                return Err(Errno::IO);
            }
        }
        match wait_for_word(wake)? {
            Some(word) if word & COMPLETE != 0 => complete = Some(word & !COMPLETE),
            _ => {}
        }
    }
}

/// Sleeps until a wake-up (at most [`IDLE`]); the last "complete" word
/// read, if any. `PIPE` once the init closed its end.
fn wait_for_word(wake: &OwnedFd) -> SysResult<Option<u64>> {
    let spec = Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(IDLE.subsec_nanos()),
    };
    let mut fds = [PollFd::new(wake, PollFlags::IN)];
    match poll(&mut fds, Some(&spec)) {
        Ok(0) | Err(Errno::INTR) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    let mut words = [0u8; 4096];
    let n = rio::read(wake, &mut words)?;
    if n == 0 {
        return Err(Errno::PIPE);
    }
    // Writes of 8 bytes are atomic, so the pipe only ever holds whole words.
    Ok(words
        .get(..n)
        .unwrap_or_default()
        .chunks_exact(8)
        .filter_map(|w| w.try_into().ok().map(u64::from_le_bytes))
        .rfind(|w| w & COMPLETE != 0))
}

impl Digesting {
    /// The file now holds `len` bytes. Dropped when the pipe is full: the
    /// child is behind, and finds the size itself.
    pub fn grown(&self, len: u64) {
        let _ = rio::write(&self.wake, &len.to_le_bytes());
    }

    /// Waits up to `timeout` for the child, which is told the whole file
    /// is `len` bytes: how far it got, or the digest.
    pub fn wait(&mut self, len: u64, timeout: Duration) -> SysResult<DigestState> {
        if !self.told_complete {
            match rio::write(&self.wake, &(len | COMPLETE).to_le_bytes()) {
                Ok(_) => self.told_complete = true,
                Err(Errno::AGAIN) => {}
                Err(e) => return Err(e),
            }
        }
        let spec = Timespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&self.answers, PollFlags::IN)];
        match poll(&mut fds, Some(&spec)) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
        let mut chunk = [0u8; 512];
        loop {
            match rio::read(&self.answers, &mut chunk) {
                Ok(0) => break,
                Ok(n) => self
                    .received
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(Errno::AGAIN) => return Ok(self.state()),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
        // The child closed its end: it said all it will say.
        match self.state() {
            done @ DigestState::Done(_) => Ok(done),
            DigestState::Hashed(_) => Err(self.failure().unwrap_or(Errno::IO)),
        }
    }

    /// What the messages so far say.
    fn state(&self) -> DigestState {
        let mut hashed = 0;
        let mut at = self.received.as_slice();
        while let Some((&kind, rest)) = at.split_first() {
            match kind {
                HASHED if rest.len() >= 8 => {
                    let (n, more) = rest.split_at(8);
                    hashed = n.try_into().map_or(hashed, u64::from_le_bytes);
                    at = more;
                }
                DONE if rest.len() >= 32 => {
                    if let Some(digest) = rest.get(..32).and_then(|d| d.try_into().ok()) {
                        return DigestState::Done(digest);
                    }
                    break;
                }
                _ => break,
            }
        }
        DigestState::Hashed(hashed)
    }

    /// The errno the child reported, if it did.
    fn failure(&self) -> Option<Errno> {
        let at = self.received.iter().position(|&b| b == FAILED)?;
        let code = self.received.get(at + 1..at + 5)?.try_into().ok()?;
        Some(Errno::from_raw_os_error(i32::from_le_bytes(code)))
    }
}

impl Drop for Digesting {
    /// Ends the child (done or not) and reaps it.
    fn drop(&mut self) {
        let _ = kill_process(self.pid, Signal::KILL);
        child::wait_pid(self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn expected(data: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(data);
        h.finish()
    }

    fn wait_done(d: &mut Digesting, len: u64) -> [u8; 32] {
        for _ in 0..200 {
            match d.wait(len, Duration::from_millis(50)).unwrap() {
                DigestState::Done(digest) => return digest,
                DigestState::Hashed(_) => {}
            }
        }
        panic!("the child never finished");
    }

    #[test]
    fn hashes_a_file_while_it_is_written() {
        let dir = std::env::temp_dir().join(format!("liveinit-digest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("image.part");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut file = std::fs::File::create(&path).unwrap();
        let mut d = start(path.to_str().unwrap(), false).unwrap();
        let mut len = 0u64;
        for piece in data.chunks(100_003) {
            file.write_all(piece).unwrap();
            len += piece.len() as u64;
            d.grown(len);
        }
        assert_eq!(wait_done(&mut d, len), expected(&data));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_shorter_than_announced_is_an_error_not_a_wait() {
        let dir =
            std::env::temp_dir().join(format!("liveinit-digest-short-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("image.part");
        std::fs::write(&path, b"only this").unwrap();
        let mut d = start(path.to_str().unwrap(), true).unwrap();
        let mut outcome = None;
        for _ in 0..200 {
            match d.wait(100, Duration::from_millis(50)) {
                Ok(DigestState::Hashed(_)) => {}
                other => {
                    outcome = Some(other);
                    break;
                }
            }
        }
        assert_eq!(outcome, Some(Err(Errno::IO)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
