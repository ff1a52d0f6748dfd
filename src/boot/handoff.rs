//! Handing over to the real init: pick one that exists, switch root, exec.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::error::{errno_text, BootError, Cause, Stage};
use crate::config::LiveConfig;
use crate::plan::NEWROOT;
use crate::sys::Sys;

/// Tried after `init=`, in this order (as the kernel itself does).
pub const FALLBACK_INITS: [&str; 4] = ["/sbin/init", "/etc/init", "/bin/init", "/bin/sh"];

/// The init candidates that are executable in the new root, best first.
/// Checked before the switch, while a failure can still be reported with
/// the initramfs intact.
pub fn usable_inits(sys: &impl Sys, cfg: &LiveConfig) -> Result<Vec<String>, BootError> {
    // The check resolves a path from the new root's `/`; so does the exec,
    // once `init=sbin/init` is written as the absolute path it means.
    let asked = cfg.init.as_deref().map(absolute);
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(init) = asked.as_deref() {
        candidates.push(init);
    }
    candidates.extend(
        FALLBACK_INITS
            .iter()
            .filter(|c| Some(**c) != asked.as_deref()),
    );
    let usable: Vec<String> = candidates
        .iter()
        .filter(|c| sys.is_executable_in(NEWROOT, c))
        .map(|c| (*c).to_owned())
        .collect();
    if let Some(init) = asked.as_deref() {
        if usable.first().map(String::as_str) != Some(init) {
            warn!("init={init} is not an executable file in the new root; trying the fallbacks");
        }
    }
    if usable.is_empty() {
        return Err(BootError::new(
            Stage::FindInit,
            NEWROOT,
            Cause::NoInit {
                tried: candidates.iter().map(|c| c.to_string()).collect(),
            },
        ));
    }
    Ok(usable)
}

/// `path` from the root: `sbin/init` → `/sbin/init`.
fn absolute(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// Switches to the new root and execs the first init that starts. Returns
/// only when none could.
pub fn switch_and_exec(sys: &impl Sys, cfg: &LiveConfig, inits: &[String]) -> BootError {
    info!("switching root to {NEWROOT}");
    if let Err(e) = sys.switch_root(NEWROOT) {
        return BootError::sys(Stage::SwitchRoot, format!("{} {}", e.step, e.path), e.errno);
    }
    let mut tried = Vec::new();
    for init in inits {
        info!("running {init}");
        let errno = sys.exec(init, &cfg.init_args);
        warn!("exec {init}: {}", errno_text(errno));
        tried.push(init.as_str());
    }
    BootError::new(Stage::ExecInit, tried.join(", "), Cause::InitsFailed)
}
