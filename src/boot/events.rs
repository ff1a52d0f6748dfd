//! The one event pump: every wait of the boot (discovery, a step waiting
//! for its modules, the settle before the switch) goes through [`wait`],
//! so a new kind of background event is handled in one place. Module loads
//! that finish go straight to the loader; device events go back to the
//! caller, which is discovery while it listens.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use super::modules::Loader;
use crate::sys::{Captured, Sys, SysEvent, SysResult};
use crate::uevent::Uevent;

/// A device event for discovery.
pub enum DeviceNews {
    Uevent(Box<Uevent>),
    /// A probe of a block device has its answer.
    Probed {
        node: String,
        result: SysResult<Captured>,
    },
    /// The kernel dropped events: look at `/sys` again.
    Lost,
}

/// What one wait brought.
#[derive(Default)]
pub struct Happened {
    pub devices: Vec<DeviceNews>,
    /// Anything happened (a module finishing counts as news; a probe's
    /// answer is left to the caller to judge).
    pub any: bool,
}

/// Waits up to `timeout` for something to happen; hands finished module
/// loads to `modules` (which starts what was waiting for them) and
/// returns the device events.
pub fn wait(sys: &impl Sys, modules: &mut Loader, timeout: Duration) -> Happened {
    let mut happened = Happened::default();
    for event in sys.wait_events(timeout) {
        // A probe's answer is news only if it tells something new, which
        // the caller decides (a drive re-read each tick is not news).
        happened.any |= !matches!(event, SysEvent::Probed { .. });
        match event {
            SysEvent::Uevent(msg) => {
                if let Some(uevent) = Uevent::from_netlink(&msg) {
                    happened.devices.push(DeviceNews::Uevent(Box::new(uevent)));
                }
            }
            SysEvent::UeventsLost => happened.devices.push(DeviceNews::Lost),
            SysEvent::Probed { node, result } => {
                happened.devices.push(DeviceNews::Probed { node, result });
            }
            SysEvent::ModuleLoaded { path, result } => modules.finished(sys, &path, result),
        }
    }
    modules.pump(sys);
    happened
}
