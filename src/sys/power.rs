//! Powering off, rebooting, halting.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::io::Errno;
use rustix::system::{reboot, RebootCommand};

use crate::policy::EmergencyAction;

/// Flushes every filesystem, then does `action`. Returns only on failure.
pub fn power(action: EmergencyAction) -> Errno {
    rustix::fs::sync();
    let command = match action {
        EmergencyAction::PowerOff => RebootCommand::PowerOff,
        EmergencyAction::Reboot => RebootCommand::Restart,
        EmergencyAction::Halt => RebootCommand::Halt,
    };
    match reboot(command) {
        // Halt returns to the caller on some kernels: nothing runs after it.
        Ok(()) => Errno::INTR,
        Err(e) => e,
    }
}
