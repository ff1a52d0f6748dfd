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
