//! Long work's progress (a copy to RAM, a media check) on the console: one
//! line overwritten in place a few times a second, and the 10% milestones
//! in the kernel log, where an overwritten line would only be noise.

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use crate::progress::Said;
use crate::sys::Sys;

/// Erases the console's progress line.
const CLEAR_LINE: &str = "\r\x1b[K";

/// Says what [`crate::progress::Progress::update`] decided to say.
pub fn show(sys: &impl Sys, said: Said) {
    if let Some(line) = said.log {
        clear(sys);
        info!("{line}");
    }
    if let Some(line) = said.console {
        sys.console(&format!("\rliveinit: {line}\x1b[K"));
    }
}

/// Erases the progress line, so the next message starts on a clean line.
pub fn clear(sys: &impl Sys) {
    sys.console(CLEAR_LINE);
}
