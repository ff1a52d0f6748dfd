//! Starting programs: the real init (exec) and the rescue shell (fork,
//! exec, wait), with libc's `fork`/`execve` (the init has no `std`).

use alloc::ffi::CString;
use core::ffi::c_char;
use core::ptr;

use rustix::io::Errno;
use rustix::process::{self, Pid, WaitOptions};

#[allow(unused_imports)]
use crate::prelude::*;

/// `strings` as C strings; a string with a NUL byte cannot be passed.
fn c_strings<'a>(strings: impl IntoIterator<Item = &'a str>) -> Result<Vec<CString>, Errno> {
    strings
        .into_iter()
        .map(|s| CString::new(s).map_err(|_| Errno::INVAL))
        .collect()
}

/// A NULL-terminated array of pointers into `strings`.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(core::iter::once(ptr::null()))
        .collect()
}

/// Replaces the init with `path`, `argv` and the environment the kernel
/// gave the init; returns only on failure.
pub fn exec(path: &str, argv: &[&str]) -> Errno {
    let (path, argv) = match (CString::new(path), c_strings(argv.iter().copied())) {
        (Ok(path), Ok(argv)) => (path, argv),
        _ => return Errno::INVAL,
    };
    let argv = pointers(&argv);
    // SAFETY: `path` and every `argv` pointer point into C strings that
    // live until the call returns (it only returns on failure), and the
    // array is NULL-terminated; `execv` passes the process's environment.
    unsafe { libc::execv(path.as_ptr(), argv.as_ptr()) };
    Errno::from_raw_os_error(libc_errno())
}

fn libc_errno() -> i32 {
    // SAFETY: `__errno_location` returns this thread's errno slot, valid
    // for the life of the thread.
    unsafe { *libc::__errno_location() }
}

/// Runs `path` as an interactive shell owning the console (a new session
/// whose controlling terminal is fd 0, so job control and Ctrl-C work),
/// with `env` as its environment, and waits for it. Returns its exit code
/// (-1 if a signal ended it).
pub fn run_shell(path: &str, argv0: &str, env: &[&str]) -> Result<i32, Errno> {
    let path = CString::new(path).map_err(|_| Errno::INVAL)?;
    let argv = c_strings([argv0])?;
    let env = c_strings(env.iter().copied())?;
    let (argv, envp) = (pointers(&argv), pointers(&env));
    // SAFETY: the init is single-threaded, so the child is a consistent
    // copy; it makes only system calls (setsid, ioctl, execve) on memory
    // prepared before the fork and leaves with `_exit` if exec fails.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let _ = process::setsid();
        // SAFETY: as above; fd 0 is the console (or the ioctl fails with
        // EBADF, ignored), the pointer arrays are NULL-terminated and
        // point into C strings that outlive the call.
        unsafe {
            let _ = process::ioctl_tiocsctty(rustix::stdio::stdin());
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127)
        }
    }
    let pid = Pid::from_raw(pid).ok_or_else(|| Errno::from_raw_os_error(libc_errno()))?;
    loop {
        match process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => return Ok(status.exit_status().unwrap_or(-1)),
            Ok(None) | Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}
