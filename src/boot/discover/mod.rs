//! Finding the live medium.
//!
//! Listen first, then look (booster's and nlplug-findfs's order): subscribe
//! to the kernel's uevents, then coldplug, so nothing that appears in
//! between is missed. Then react to what the kernel says: a device's
//! `MODALIAS` starts its driver, a block device's `add`/`change` gets its
//! superblock probed. Stop the moment a device matches; when to give up is
//! [`crate::discovery::Timing`]'s decision. Without a uevent socket (a
//! kernel without netlink) `/sys` is looked at again every tick instead.

mod coldplug;
mod report;
mod search;

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

pub use report::{Found, Seen};

use super::error::{errno_text, BootError};
use super::events::{self, DeviceNews};
use super::modules::Loader;
use crate::config::LiveConfig;
use crate::devspec::DevSpec;
use crate::discovery::{seconds_text, State, Timing, TICK};
use search::Search;

use crate::sys::Sys;

/// Waits for a block device matching `spec`, loading the drivers the
/// devices that show up ask for; see the module documentation.
pub fn find_medium(
    sys: &impl Sys,
    spec: &DevSpec,
    cfg: &LiveConfig,
    modules: &mut Loader,
) -> Result<Found, BootError> {
    let retry = core::time::Duration::from_secs(cfg.retry_secs.into());
    let mut timing = Timing::new(sys.now(), retry, cfg.idle);
    info!(
        "looking for the live medium {spec} (up to {} s{})",
        retry.as_secs(),
        match cfg.idle.idle {
            Some(idle) => format!(", or {} without news", seconds_text(idle)),
            None => String::new(),
        }
    );
    let listening = match sys.listen_uevents() {
        Ok(()) => true,
        Err(e) => {
            warn!(
                "cannot listen to uevents ({}); looking at /sys every {} ms instead",
                errno_text(e),
                TICK.as_millis()
            );
            false
        }
    };
    let mut search = Search::default();
    coldplug::walk(sys, &mut search, modules);
    modules.start_background(sys);
    search.look_for_new(sys);
    loop {
        if let Some((found, seen)) = search.matching(spec) {
            info!("found the live medium: {}", seen.describe());
            // Drivers still loading go on in the background; the
            // medium's filesystem is loaded when it is mounted.
            sys.stop_uevents();
            return Ok(found);
        }
        let now = sys.now();
        let state = State {
            slow_media: modules.usb_storage() || search.usb_bound || search.has_optical_drive(),
            loading: modules.busy(),
            unsettled: !listening || search.unsettled(),
        };
        if let Some(why) = timing.gave_up(now, state) {
            sys.stop_uevents();
            modules.report();
            return Err(report::not_found(spec, &timing, why, now, &search.report()));
        }
        if timing.progress_due(now) {
            info!(
                "still waiting for {spec} ({} s of {} s); {} block devices so far",
                timing.elapsed(now).as_secs(),
                retry.as_secs(),
                search.report().len()
            );
        }
        let happened = events::wait(sys, modules, timing.next_wake(state).saturating_sub(now));
        if happened.any {
            timing.news(sys.now());
        }
        for news in happened.devices {
            match news {
                DeviceNews::Uevent(uevent) => search.uevent(&uevent, modules),
                DeviceNews::Lost => {
                    warn!("uevents were lost (receive buffer full); looking at /sys again");
                    coldplug::walk(sys, &mut search, modules);
                    search.rescan_all(sys);
                }
            }
        }
        modules.pump(sys);
        if timing.tick_due(sys.now()) {
            if !listening {
                coldplug::walk(sys, &mut search, modules);
                if search.look_for_new(sys) {
                    timing.news(sys.now());
                }
            }
            search.recheck_unsettled();
        }
        search.probe_dirty(sys);
    }
}

/// Looks at every block device once (for the emergency summary).
pub fn scan(sys: &impl Sys) -> Vec<Seen> {
    let mut search = Search::default();
    search.look_for_new(sys);
    search.into_seen()
}
