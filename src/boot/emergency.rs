//! What happens when the boot cannot go on: say why, then power off.

use std::time::Duration;

use log::error;

use super::error::{errno_text, BootError};
use crate::sys::Sys;

/// Time to read the reason on the console before the machine goes away.
pub const PAUSE: Duration = Duration::from_secs(5);

/// Reports `err` and powers off. Returns only if powering off failed.
pub fn fatal(sys: &impl Sys, err: &BootError) {
    error!("FATAL: {err}");
    error!("powering off in {} s", PAUSE.as_secs());
    sys.sleep(PAUSE);
    let errno = sys.power_off();
    error!("power off failed: {}; halting here", errno_text(errno));
}

/// Sends a panic anywhere in the init to the same policy as any other fatal
/// error, instead of the kernel's "Attempted to kill init". The hook formats
/// into the logger's stack buffer and never returns.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        error!("FATAL: internal error (please report): {info}");
        let sys = crate::sys::RealSys::new();
        error!("powering off in {} s", PAUSE.as_secs());
        sys.sleep(PAUSE);
        let errno = sys.power_off();
        error!("power off failed: {}; halting here", errno_text(errno));
        loop {
            sys.sleep(Duration::from_secs(3600));
        }
    }));
}
