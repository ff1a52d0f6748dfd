//! Orchestration: the boot sequence, one step per function, no raw syscalls.

mod discover;
mod early;
mod emergency;
mod error;
mod execute;
mod handoff;
mod live;
mod modules;

use std::convert::Infallible;
use std::time::Duration;

use log::{info, warn};

pub use error::{BootError, Cause, Stage};

use crate::cmdline::Cmdline;
use crate::config::LiveConfig;
use crate::sys::{RealSys, Sys};

/// Runs the boot as PID 1; never returns.
pub fn pid1_main() -> ! {
    crate::logger::init();
    emergency::install_panic_hook();
    let sys = RealSys::new();
    let err = match run(&sys) {
        Ok(never) => match never {},
        Err(err) => err,
    };
    emergency::fatal(&sys, &err);
    loop {
        sys.sleep(Duration::from_secs(3600));
    }
}

/// The whole boot. Succeeds only by exec'ing the real init, so it only
/// ever returns the reason it stopped.
pub fn run<S: Sys>(sys: &S) -> Result<Infallible, BootError> {
    early::mount_api_filesystems(sys)?;
    sys.attach_console();
    info!("liveinit {} starting", env!("CARGO_PKG_VERSION"));
    let throttle = early::unthrottle_kmsg(sys);

    let cfg = read_config(sys)?;
    modules::load_packed(sys);
    let found =
        discover::find_medium(sys, &cfg.medium, Duration::from_secs(cfg.retry_secs.into()))?;
    live::prepare_root(sys, &cfg, &found)?;
    let inits = handoff::usable_inits(sys, &cfg)?;

    early::restore_kmsg(sys, throttle);
    Err(handoff::switch_and_exec(sys, &cfg, &inits))
}

fn read_config(sys: &impl Sys) -> Result<LiveConfig, BootError> {
    let bytes = sys
        .read_file("/proc/cmdline")
        .map_err(|e| BootError::sys(Stage::Cmdline, "/proc/cmdline", e))?;
    let text = String::from_utf8_lossy(&bytes);
    info!("command line: {}", text.trim());
    let cmdline = Cmdline::parse(&text);
    crate::logger::set_verbose(
        cmdline.bool("rd.debug", false) || cmdline.bool("rd.live.debug", false),
    );
    let cfg = LiveConfig::from_cmdline(&cmdline)
        .map_err(|e| BootError::new(Stage::Cmdline, "", Cause::Config(e)))?;
    for warning in &cfg.warnings {
        warn!("{warning}");
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests;
