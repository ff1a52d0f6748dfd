//! Powering off, rebooting, halting.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use rustix::io::Errno;
use rustix::system::{reboot, RebootCommand};

use crate::policy::EmergencyAction;

use super::child::{self, Spawned};

/// How long the flush before a power action may take: a disk that stopped
/// answering must not keep the machine from powering off.
const SYNC_LIMIT: Duration = Duration::from_secs(10);

/// Flushes every filesystem (for at most [`SYNC_LIMIT`]), then does
/// `action`. Returns only on failure.
pub fn power(action: EmergencyAction) -> Errno {
    sync_bounded();
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

/// `sync` in a child, waited for at most [`SYNC_LIMIT`].
fn sync_bounded() {
    let work = || {
        rustix::fs::sync();
        0
    };
    match child::spawn(work) {
        Ok(Spawned::Running(child)) => {
            if child.wait_for(SYNC_LIMIT).is_none() {
                log::warn!(
                    "sync is still running after {} s (a disk not answering?); going on",
                    SYNC_LIMIT.as_secs()
                );
            }
        }
        Ok(Spawned::Finished(_)) => {}
        Err(_) => rustix::fs::sync(),
    }
}
