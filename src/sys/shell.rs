//! An interactive shell on the console, for `rd.break` and `rd.shell`.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::io::Errno;

use super::process;

/// Runs `path` as an interactive login shell owning the console, and waits
/// for it; `prompt_note` says in its prompt why it was started. Returns its
/// exit code (or -1 if it was killed by a signal).
pub fn run_shell(path: &str, prompt_note: &str) -> Result<i32, Errno> {
    let ps1 = format!("PS1=liveinit ({prompt_note}):\\w# ");
    let env = [
        ps1.as_str(),
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/",
        "TERM=linux",
    ];
    process::run_shell(path, "-sh", &env)
}
