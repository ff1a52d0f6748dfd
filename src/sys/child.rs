//! Work that may hang in the kernel, done in a forked child the init can
//! stop waiting for: a module load stuck in a driver's probe, a `sync` on a
//! dying disk. The child makes its system calls and exits with a code; the
//! parent watches it through a pidfd, in a `poll` with a bound.

use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{self, Pid, PidfdFlags, WaitIdOptions, WaitOptions};

/// A running child.
pub struct Child {
    pidfd: OwnedFd,
}

/// How starting the work went.
pub enum Spawned {
    Running(Child),
    /// The child could not be watched (a kernel before 5.3 has no pidfds)
    /// and was waited for to the end: its exit code.
    Finished(i32),
}

/// Forks a child that runs `work` and exits with its result.
pub fn spawn(work: impl FnOnce() -> i32) -> Result<Spawned, Errno> {
    // SAFETY: the init is single-threaded (it never starts a thread), so
    // the child is a full copy of a consistent process; it runs `work`
    // (system calls only) and leaves with `_exit`, never returning into
    // the parent's code or running its destructors or atexit handlers.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = work();
        // SAFETY: `_exit` ends the child at once, as a forked child must.
        unsafe { libc::_exit(code) }
    }
    let pid = Pid::from_raw(pid).ok_or(Errno::AGAIN)?;
    match process::pidfd_open(pid, PidfdFlags::empty()) {
        Ok(pidfd) => Ok(Spawned::Running(Child { pidfd })),
        Err(_) => Ok(Spawned::Finished(wait_pid(pid))),
    }
}

impl Child {
    /// Readable (for `poll`) once the child has exited.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The exit code once the child has exited (reaping it); a child
    /// killed by a signal counts as -1.
    pub fn exit_code(&self) -> Option<i32> {
        let status = process::waitid(
            process::WaitId::PidFd(self.pidfd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        )
        .ok()??;
        Some(status.exit_status().unwrap_or(-1))
    }

    /// Waits at most `limit` for the child; `None` if it is still running
    /// (it is left to run, and is reaped by whoever is PID 1 then).
    pub fn wait_for(&self, limit: Duration) -> Option<i32> {
        let timeout = Timespec {
            tv_sec: i64::try_from(limit.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(limit.subsec_nanos()),
        };
        let mut fds = [PollFd::from_borrowed_fd(self.fd(), PollFlags::IN)];
        loop {
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => return None,
                Ok(_) => return self.exit_code(),
                Err(Errno::INTR) => {}
                Err(_) => return None,
            }
        }
    }
}

/// Waits for `pid` to end and reaps it; its exit code (-1 if killed).
pub fn wait_pid(pid: Pid) -> i32 {
    loop {
        match process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => return status.exit_status().unwrap_or(-1),
            Err(Errno::INTR) => {}
            Ok(None) | Err(_) => return -1,
        }
    }
}

/// Forks a child that runs `work` and exits with its result, and returns
/// its pid at once; the caller learns of its end some other way (a pipe
/// it writes to) and reaps it with [`reaped`].
pub fn fork(work: impl FnOnce() -> i32) -> Result<Pid, Errno> {
    // SAFETY: as in `spawn`: the init is single-threaded, and the child
    // runs `work` and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = work();
        // SAFETY: `_exit` ends the child at once, as a forked child must.
        unsafe { libc::_exit(code) }
    }
    Pid::from_raw(pid).ok_or(Errno::AGAIN)
}

/// Reaps `pid` if it has exited (without waiting); true once it is gone.
pub fn reaped(pid: Pid) -> bool {
    !matches!(
        process::waitpid(Some(pid), WaitOptions::NOHANG),
        Ok(None) | Err(Errno::INTR)
    )
}
