//! Kernel module loads in child processes.
//!
//! `finit_module` blocks until the module's init has run, bus probing
//! included, and a driver can hang there for as long as its hardware
//! does. Each load therefore runs in a forked child that makes the one
//! call and exits with its errno; the init watches the child through a
//! pidfd, so independent modules load side by side, a wait for them is
//! part of the same `poll` as the uevents, and a load that never returns
//! cannot hold up the exec of the real init (the child is left to it). No
//! threads: the init stays a single-threaded process, which is also what
//! makes `fork` safe to use here.
//!
//! A background load lowers the child's CPU priority to nice 19 first: the
//! kernel does a module's relocation, signature check and init in the
//! loading task, so on a machine with one CPU the drivers the boot waits
//! for are not slowed down by filesystems it may never mount.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::string::String;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{self, Pid, PidfdFlags, WaitIdOptions, WaitOptions};

use super::{kmod, SysResult};

/// The nice value of background loads: the lowest CPU priority.
const BACKGROUND_NICE: i32 = 19;

/// A load running in a child process.
pub struct Loading {
    pub path: String,
    pidfd: OwnedFd,
}

/// How a load was started.
pub enum Started {
    Child(Loading),
    /// No child could be made (or watched): the load ran here, to the end.
    Done(SysResult<()>),
}

/// Forks a child that loads the module at `path` and exits with the
/// outcome.
pub fn start(path: &str, background: bool) -> Started {
    // SAFETY: the init is single-threaded (no thread is ever started), so
    // the child is a full copy of a consistent process; it only makes
    // system calls and leaves with `_exit`, never returning into the
    // parent's code or running its destructors or atexit handlers.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        if background {
            let _ = process::setpriority_process(None, BACKGROUND_NICE);
        }
        let code = match kmod::load(path) {
            Ok(()) => 0,
            Err(e) => e.raw_os_error(),
        };
        // SAFETY: `_exit` ends the child at once, as a forked child must.
        unsafe { libc::_exit(code) }
    }
    let Some(pid) = Pid::from_raw(pid) else {
        return Started::Done(kmod::load(path));
    };
    match process::pidfd_open(pid, PidfdFlags::empty()) {
        Ok(pidfd) => Started::Child(Loading {
            path: String::from(path),
            pidfd,
        }),
        // A kernel before 5.3 has no pidfds: wait for this child now.
        Err(_) => Started::Done(wait_pid(pid)),
    }
}

impl Loading {
    /// Readable (for `poll`) once the child has exited.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The outcome, once [`Loading::fd`] is readable; reaps the child.
    pub fn outcome(&self) -> Option<SysResult<()>> {
        let status = process::waitid(
            process::WaitId::PidFd(self.pidfd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        )
        .ok()??;
        Some(exit_to_result(
            status.exit_status(),
            status.terminating_signal(),
        ))
    }
}

fn wait_pid(pid: Pid) -> SysResult<()> {
    match process::waitpid(Some(pid), WaitOptions::empty()) {
        Ok(Some((_, status))) => exit_to_result(status.exit_status(), status.terminating_signal()),
        Ok(None) => Err(Errno::CHILD),
        Err(e) => Err(e),
    }
}

/// Exit code 0 is success, any other the errno; a child killed by a signal
/// (the OOM killer) reports `EINTR`-like failure as `ECHILD`.
fn exit_to_result(code: Option<i32>, signal: Option<i32>) -> SysResult<()> {
    match (code, signal) {
        (Some(0), _) => Ok(()),
        (Some(errno), _) => Err(Errno::from_raw_os_error(errno)),
        (None, _) => Err(Errno::CHILD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_become_results() {
        assert_eq!(exit_to_result(Some(0), None), Ok(()));
        assert_eq!(exit_to_result(Some(2), None), Err(Errno::NOENT));
        assert_eq!(exit_to_result(None, Some(9)), Err(Errno::CHILD));
    }
}
