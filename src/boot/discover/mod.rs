//! Finding the live medium.
//!
//! Listen first, then look (booster's and nlplug-findfs's order): subscribe
//! to the kernel's uevents, then coldplug, so nothing that appears in
//! between is missed. Then react to what the kernel says: a device's
//! `MODALIAS` starts its driver, a block device's `add`/`change` gets its
//! superblock probed. Stop the moment a device matches; when to give up is
//! [`crate::discovery::Timing`]'s decision. Without a uevent socket (a
//! kernel without netlink) `/sys` is looked at again every tick instead.
//!
//! The loop never reads a device: each probe runs in a child process
//! ([`Sys::start_probe`]) and its answer is one more event, after which the
//! loop looks for a match at once. A device that has not answered within
//! `rd.liveinit.probe` is named as stalling and no longer waited for, so a
//! stalling disk neither delays a medium that answered nor pushes the
//! FATAL past `rd.retry`. What the search saw is handed back for the
//! failure summary and iso-scan, which never read every disk again.

mod coldplug;
mod content;
mod removable;
mod report;
mod search;

pub use coldplug::usb_disk_pending;
pub use content::{find_by_content, matches};
pub use removable::admits;

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{info, warn};

pub use report::{Found, Seen};

use super::error::{errno_text, BootError};
use super::events::{self, DeviceNews};
use super::modules::Loader;
use crate::config::LiveConfig;
use crate::devspec::DevSpec;
use crate::discovery::{later, seconds_text, Timing, Unfinished, TICK};

use search::Search;

use crate::sys::{Sys, SysEvent};

/// Waits for a block device matching `spec`, loading the drivers the
/// devices that show up ask for; see the module documentation.
/// Every block device the search saw is left in `seen`, whatever the
/// outcome.
pub fn find_medium(
    sys: &impl Sys,
    spec: &DevSpec,
    cfg: &LiveConfig,
    modules: &mut Loader,
    seen: &mut Vec<Seen>,
) -> Result<Found, BootError> {
    let mut search = Search::new(cfg.idle.probe);
    let found = search_for(sys, spec, cfg, modules, &mut search);
    *seen = search.report();
    found
}

fn search_for(
    sys: &impl Sys,
    spec: &DevSpec,
    cfg: &LiveConfig,
    modules: &mut Loader,
    search: &mut Search,
) -> Result<Found, BootError> {
    let retry = Duration::from_secs(cfg.retry_secs.into());
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
    // Once the medium matches, device drivers still loading may bring a
    // second device with the same identity: the match waits for them
    // (`Timing::hold_match`), until `hold` at most.
    let mut matched_at: Option<Duration> = None;
    coldplug::walk(sys, search, modules);
    modules.start_background(sys);
    search.look_for_new(sys);
    loop {
        let matched = search.matching(spec);
        let hold = match matched {
            Ok(Some(_)) => {
                let now = sys.now();
                let at = *matched_at.get_or_insert(now);
                timing.hold_match(at, now, unfinished(sys, search, modules, at))
            }
            _ => {
                matched_at = None;
                None
            }
        };
        match matched {
            Ok(None) => {}
            Ok(Some(_)) if hold.is_some() => {}
            Ok(Some((found, seen))) => {
                info!("found the live medium: {}", seen.describe());
                // Drivers still loading go on in the background; the
                // medium's filesystem is loaded when it is mounted.
                sys.stop_uevents();
                return Ok(found);
            }
            Err(candidates) => {
                sys.stop_uevents();
                return Err(report::ambiguous(spec, &candidates));
            }
        }
        let now = sys.now();
        search.name_stalls(now);
        let state = search.state(modules, listening);
        if let Some(why) = timing.gave_up(now, state) {
            search.give_up(sys, modules);
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
        let mut wake = timing.next_wake(state);
        if let Some(at) = hold {
            wake = wake.min(at);
        }
        if let Some(at) = search.next_stall() {
            wake = wake.min(at);
        }
        let happened = events::wait(sys, modules, wake.saturating_sub(now));
        if happened.any {
            timing.news(sys.now());
        }
        for news in happened.devices {
            match news {
                DeviceNews::Uevent(uevent) => search.uevent(&uevent, modules),
                DeviceNews::Probed { node, result } => {
                    if search.probed(sys, &node, result) {
                        timing.news(sys.now());
                    }
                }
                DeviceNews::Lost => {
                    warn!("uevents were lost (receive buffer full); looking at /sys again");
                    coldplug::walk(sys, search, modules);
                    search.rescan_all(sys);
                }
            }
        }
        modules.pump(sys);
        if timing.tick_due(sys.now()) {
            if !listening {
                coldplug::walk(sys, search, modules);
                if search.look_for_new(sys) {
                    timing.news(sys.now());
                }
            }
            search.recheck_unsettled();
        }
        search.probe_dirty(sys);
    }
}

/// What may still bring a second device like the one matched at `matched`.
fn unfinished(sys: &impl Sys, search: &Search, modules: &Loader, matched: Duration) -> Unfinished {
    let (early_probes, new_probes) = search.probing_around(matched);
    Unfinished {
        drivers: modules.drivers_busy()
            || coldplug::usb_disk_pending(sys)
            || crate::discovery::usb_ports_scanning(modules.usb_host_loaded(), sys.now()),
        new_probes,
        early_probes,
    }
}

/// Looks at every block device once, for the failure summary of a boot
/// that stopped before discovery: each is read in a child process, and a
/// device that has not answered within `bound` is reported as stalling.
pub fn scan(sys: &impl Sys, bound: Duration) -> Vec<Seen> {
    let mut search = Search::new(bound);
    search.look_for_new(sys);
    let end = later(sys.now(), bound);
    while search.probing() && sys.now() < end {
        for event in sys.wait_events(end.saturating_sub(sys.now())) {
            if let SysEvent::Probed { node, result } = event {
                let _ = search.probed(sys, &node, result);
            }
        }
        search.probe_dirty(sys);
        search.name_stalls(sys.now());
    }
    search.name_stalls(Duration::MAX);
    search.report()
}

/// One line per device, for [`BootError::with_devices_seen`].
pub fn describe_all(seen: &[Seen]) -> Vec<String> {
    seen.iter().map(Seen::describe).collect()
}
