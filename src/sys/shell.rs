//! An interactive shell on the console, for `rd.break` and `rd.shell`.

use std::os::unix::process::CommandExt;
use std::process::Command;

use rustix::io::Errno;

use super::fsops;

/// Runs `path` as an interactive shell owning the console, and waits for
/// it. Returns its exit code (or -1 if it was killed by a signal).
pub fn run_shell(path: &str, prompt_note: &str) -> Result<i32, Errno> {
    let mut command = Command::new(path);
    command
        .arg0("-sh")
        .env("PS1", format!("liveinit ({prompt_note}):\\w# "))
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two system calls (setsid, the TIOCSCTTY ioctl on fd 0), which
    // are async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        command.pre_exec(|| {
            // A new session whose controlling terminal is the console,
            // so that job control and Ctrl-C work in the shell.
            let _ = rustix::process::setsid();
            let _ = rustix::process::ioctl_tiocsctty(rustix::stdio::stdin());
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| fsops::errno(&e))?;
    let status = child.wait().map_err(|e| fsops::errno(&e))?;
    Ok(status.code().unwrap_or(-1))
}
