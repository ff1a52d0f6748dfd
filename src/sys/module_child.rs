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

use rustix::fd::BorrowedFd;
use rustix::io::Errno;
use rustix::process;

use super::child::{self, Child, Spawned};
use super::{kmod, SysResult};

/// The nice value of background loads: the lowest CPU priority.
const BACKGROUND_NICE: i32 = 19;

/// A load running in a child process.
pub struct Loading {
    pub path: String,
    child: Child,
}

/// How a load was started.
pub enum Started {
    Child(Loading),
    /// No child could be made (or watched): the load ran to the end.
    Done(SysResult<()>),
}

/// Forks a child that loads the module at `path` and exits with the
/// outcome (0, or the errno).
pub fn start(path: &str, background: bool) -> Started {
    let work = || {
        if background {
            let _ = process::setpriority_process(None, BACKGROUND_NICE);
        }
        match kmod::load(path) {
            Ok(()) => 0,
            Err(e) => e.raw_os_error(),
        }
    };
    match child::spawn(work) {
        Ok(Spawned::Running(child)) => Started::Child(Loading {
            path: String::from(path),
            child,
        }),
        Ok(Spawned::Finished(code)) => Started::Done(code_to_result(code)),
        // No process to be had: load here.
        Err(_) => Started::Done(kmod::load(path)),
    }
}

impl Loading {
    /// Readable (for `poll`) once the child has exited.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.child.fd()
    }

    /// The outcome, once [`Loading::fd`] is readable; reaps the child.
    pub fn outcome(&self) -> Option<SysResult<()>> {
        self.child.exit_code().map(code_to_result)
    }
}

/// Exit code 0 is success, a positive one the errno; a child killed by a
/// signal (the OOM killer, say) reports `ECHILD`.
fn code_to_result(code: i32) -> SysResult<()> {
    match code {
        0 => Ok(()),
        errno if errno > 0 => Err(Errno::from_raw_os_error(errno)),
        _ => Err(Errno::CHILD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_become_results() {
        assert_eq!(code_to_result(0), Ok(()));
        assert_eq!(code_to_result(2), Err(Errno::NOENT));
        assert_eq!(code_to_result(-1), Err(Errno::CHILD));
    }
}
