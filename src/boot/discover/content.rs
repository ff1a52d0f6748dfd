//! Finding the medium by what it holds rather than by its name (Debian
//! live-boot, distro-live-spec §1.3): every block device with a filesystem
//! is offered, partitions before their disk, to a test that mounts it and
//! looks inside; the first it accepts is the medium. Devices appear and
//! drivers load exactly as for a search by name ([`super::find_medium`]).

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::BTreeSet;
use core::time::Duration;

use log::{error, info, warn};

use super::coldplug;
use super::events::{self, DeviceNews};
use super::report::{Found, Seen};
use super::search::Search;
use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::boot::modules::Loader;
use crate::config::LiveConfig;
use crate::devspec::DevSpec;
use crate::discovery::{GaveUp, Timing};
use crate::plan::iso_scan::can_hold_files;
use crate::sys::Sys;

/// Waits for a block device that `holds_medium` accepts (it mounts the
/// device and leaves it mounted when it says yes). Devices matching
/// `preferred` are offered first (`live-media=`). `what` names what is
/// looked for, in messages.
pub fn find_by_content<S: Sys>(
    sys: &S,
    what: &str,
    preferred: Option<&DevSpec>,
    cfg: &LiveConfig,
    modules: &mut Loader,
    holds_medium: &mut dyn FnMut(&mut Loader, &Seen) -> bool,
) -> Result<Found, BootError> {
    let retry = Duration::from_secs(cfg.retry_secs.into());
    let mut timing = Timing::new(sys.now(), retry, cfg.idle);
    info!(
        "looking for {what} on every block device (up to {} s)",
        retry.as_secs()
    );
    let listening = match sys.listen_uevents() {
        Ok(()) => true,
        Err(e) => {
            warn!(
                "cannot listen to uevents ({}); looking at /sys instead",
                errno_text(e)
            );
            false
        }
    };
    let mut search = Search::new(cfg.idle.probe);
    let mut tried: BTreeSet<String> = BTreeSet::new();
    coldplug::walk(sys, &mut search, modules);
    modules.start_background(sys);
    search.look_for_new(sys);
    loop {
        let candidates = candidates(&search.report(), preferred, &tried);
        for seen in candidates {
            tried.insert(seen.name.clone());
            if let Some(fs) = seen.fs.clone() {
                if holds_medium(modules, &seen) {
                    info!("found the live medium: {}", seen.describe());
                    sys.stop_uevents();
                    return Ok(Found {
                        device: format!("/dev/{}", seen.name),
                        fs,
                    });
                }
            }
        }
        // Devices that appeared while `holds_medium` waited for modules.
        let held = modules.take_held();
        if !held.is_empty() {
            timing.news(sys.now());
            take_news(sys, modules, &mut search, &mut tried, held);
            modules.pump(sys);
            search.probe_dirty(sys);
            continue;
        }
        let now = sys.now();
        search.name_stalls(now);
        let state = search.state(modules, listening);
        if let Some(why) = timing.gave_up(now, state) {
            search.give_up(sys, modules);
            return Err(not_found(what, &timing, why, now, &search.report()));
        }
        if timing.progress_due(now) {
            info!(
                "still looking for {what} ({} s of {} s); {} block devices tried",
                timing.elapsed(now).as_secs(),
                retry.as_secs(),
                tried.len()
            );
        }
        let mut wake = timing.next_wake(state);
        if let Some(at) = search.next_stall() {
            wake = wake.min(at);
        }
        let happened = events::wait(sys, modules, wake.saturating_sub(now));
        if happened.any {
            timing.news(sys.now());
        }
        if take_news(sys, modules, &mut search, &mut tried, happened.devices) {
            timing.news(sys.now());
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

/// Hands device events to the search; true if a probe's answer told
/// something new.
fn take_news<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    search: &mut Search,
    tried: &mut BTreeSet<String>,
    news: Vec<DeviceNews>,
) -> bool {
    let mut new = false;
    for news in news {
        match news {
            DeviceNews::Uevent(uevent) => {
                // A changed device (a disc put in) is worth a new look.
                if let Some(name) = uevent.block_name() {
                    if uevent.is("change") {
                        tried.remove(name);
                    }
                }
                search.uevent(&uevent, modules);
            }
            DeviceNews::Probed { node, result } => new |= search.probed(sys, &node, result),
            DeviceNews::Lost => {
                coldplug::walk(sys, search, modules);
                search.rescan_all(sys);
                tried.clear();
            }
        }
    }
    new
}

/// The devices to offer now, in order: the preferred ones, then by disk,
/// each disk's partitions before the disk itself (a hybrid ISO's first
/// partition is the ISO too, and live-boot takes it), never a loop, RAM or
/// device-mapper device, nor an image filesystem (squashfs, EROFS).
fn candidates(seen: &[Seen], preferred: Option<&DevSpec>, tried: &BTreeSet<String>) -> Vec<Seen> {
    let mut list: Vec<&Seen> = seen
        .iter()
        .filter(|s| !tried.contains(&s.name))
        .filter(|s| {
            !["loop", "ram", "dm-", "fd"]
                .iter()
                .any(|p| s.name.starts_with(p))
        })
        .filter(|s| s.fs.as_ref().is_some_and(|fs| can_hold_files(fs.fstype)))
        .collect();
    list.sort_by_key(|s| {
        (
            !preferred.is_some_and(|p| p.matches(&s.id())),
            s.parent.clone().unwrap_or_else(|| s.name.clone()),
            s.parent.is_none(),
            s.name.clone(),
        )
    });
    list.into_iter().cloned().collect()
}

/// Whether `seen` is the device `spec` names.
pub fn matches(spec: &DevSpec, seen: &Seen) -> bool {
    spec.matches(&seen.id())
}

fn not_found(what: &str, timing: &Timing, why: GaveUp, now: Duration, seen: &[Seen]) -> BootError {
    error!("block devices present ({}):", seen.len());
    for device in seen {
        error!("  {}", device.describe());
    }
    let cause = match why {
        GaveUp::Retry => Cause::NoMatchInTime {
            retry: timing.retry(),
            seen: seen.len(),
        },
        GaveUp::Idle(idle) => Cause::NoMatchIdle {
            idle,
            waited: timing.elapsed(now),
            retry: timing.retry(),
            seen: seen.len(),
        },
    };
    BootError::new(Stage::FindMedium, what, cause)
        .with_devices_seen(seen.iter().map(|d| d.describe()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{FsInfo, FsType};

    fn seen(name: &str, parent: Option<&str>, fstype: Option<FsType>) -> Seen {
        Seen {
            name: name.into(),
            fs: fstype.map(|fstype| FsInfo {
                fstype,
                label: Some(format!("L{name}")),
                uuid: None,
            }),
            partuuid: None,
            partlabel: None,
            read_error: None,
            parent: parent.map(String::from),
            stalled: false,
        }
    }

    #[test]
    fn partitions_come_before_their_disk_and_preferred_devices_first() {
        let all = [
            seen("vda", None, Some(FsType::Iso9660)),
            seen("vda1", Some("vda"), Some(FsType::Iso9660)),
            seen("sr0", None, Some(FsType::Iso9660)),
            seen("loop0", None, Some(FsType::Ext4)),
            seen("vdb", None, Some(FsType::Squashfs)),
            seen("vdc", None, None),
        ];
        let names = |list: Vec<Seen>| list.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(candidates(&all, None, &BTreeSet::new())),
            ["sr0", "vda1", "vda"]
        );
        let preferred = DevSpec::Label("Lvda".into());
        assert_eq!(
            names(candidates(&all, Some(&preferred), &BTreeSet::new())),
            ["vda", "sr0", "vda1"]
        );
        let tried: BTreeSet<String> = ["sr0".to_string()].into();
        assert_eq!(names(candidates(&all, None, &tried)), ["vda1", "vda"]);
    }
}
