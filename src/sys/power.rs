//! Powering off.

use rustix::io::Errno;
use rustix::system::{reboot, RebootCommand};

/// Flushes every filesystem, then powers the machine off.
pub fn power_off() -> Errno {
    rustix::fs::sync();
    match reboot(RebootCommand::PowerOff) {
        Ok(()) => Errno::INVAL,
        Err(e) => e,
    }
}
