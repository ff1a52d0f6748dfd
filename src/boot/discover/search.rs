//! What discovery knows about the block devices: each one's superblock
//! and partition identity, which are worth looking at again, which are
//! being read (each in a child process) and which stall, and which matches
//! the medium asked for. Nothing here reads a device: the loop that
//! enforces the deadlines starts probes and takes their answers as events.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, BTreeSet};
use core::time::Duration;

use log::{debug, info, warn};

use super::coldplug::USB_STORAGE_DRIVERS;
use super::report::{Found, Seen};
use crate::boot::modules::Loader;
use crate::devspec::DevSpec;
use crate::discovery::{choose_medium, later, seconds_text, Choice, State};
use crate::probe::partition::PartitionTable;
use crate::sys::{Captured, Sys, SysResult};
use crate::uevent::Uevent;

const SYS_BLOCK: &str = "/sys/class/block";

/// A block device and whether it is worth looking at again by itself.
struct Device {
    seen: Seen,
    /// Unreadable, or neither a filesystem nor a partition table on it:
    /// perhaps a drive whose medium is not in or not ready yet.
    unsettled: bool,
    /// For a partition, its number in its disk's table.
    number: Option<u32>,
}

/// A probe running in a child process.
struct Probe {
    since: Duration,
    /// Named as stalling already.
    stalled: bool,
    /// Something changed meanwhile: probe again once this one answers.
    again: bool,
    /// The device's first look: what it holds is not known yet.
    first: bool,
}

/// What discovery knows so far.
pub(super) struct Search {
    devices: BTreeMap<String, Device>,
    /// Block devices of size 0 (an empty drive): checked again each tick.
    empty: BTreeSet<String>,
    /// Devices to probe (again) before the next wait.
    dirty: BTreeSet<String>,
    /// Probes under way, by device name.
    probing: BTreeMap<String, Probe>,
    /// How long a probe may take before its device is named as stalling.
    probe_bound: Duration,
    /// Partition tables of the disks probed, for PARTUUID/PARTLABEL.
    tables: BTreeMap<String, Option<PartitionTable>>,
    /// A USB mass-storage driver is bound to a device.
    pub(super) usb_bound: bool,
}

impl Search {
    /// What the waiting rules look at now; `listening` is false when no
    /// uevents come (devices are looked for by polling).
    pub fn state(&self, modules: &Loader, listening: bool) -> State {
        State {
            slow_media: modules.usb_storage() || self.usb_bound || self.has_optical_drive(),
            // A probe within its bound may still bring the medium.
            loading: modules.busy() || self.probing(),
            unsettled: !listening || self.unsettled(),
        }
    }

    /// Ends a search that found nothing: a device still silent now is
    /// named too, whatever its bound; drivers go on loading unwatched.
    pub fn give_up(&mut self, sys: &impl Sys, modules: &Loader) {
        self.name_stalls(Duration::MAX);
        sys.stop_uevents();
        modules.report();
    }

    pub(super) fn new(probe_bound: Duration) -> Search {
        Search {
            devices: BTreeMap::new(),
            empty: BTreeSet::new(),
            dirty: BTreeSet::new(),
            probing: BTreeMap::new(),
            probe_bound,
            tables: BTreeMap::new(),
            usb_bound: false,
        }
    }

    /// An optical drive is there: a disc takes seconds to spin up and says
    /// nothing meanwhile, so it gets the longer idle time, as USB does.
    pub(super) fn has_optical_drive(&self) -> bool {
        self.devices
            .keys()
            .chain(self.empty.iter())
            .chain(self.probing.keys())
            .any(|name| name.starts_with("sr"))
    }

    /// Looks for block devices not known yet; true if there were some.
    pub(super) fn look_for_new(&mut self, sys: &impl Sys) -> bool {
        let names = sys.read_dir(SYS_BLOCK).unwrap_or_default();
        let mut new = false;
        for name in names.into_iter().filter(|n| !n.starts_with("ram")) {
            let known = self.devices.contains_key(&name)
                || self.empty.contains(&name)
                || self.probing.contains_key(&name);
            if !known {
                new = true;
                self.dirty.insert(name);
            }
        }
        self.probe_dirty(sys);
        new
    }

    /// After lost events: everything may have changed.
    pub(super) fn rescan_all(&mut self, sys: &impl Sys) {
        let known = self.devices.keys().chain(self.empty.iter()).cloned();
        self.dirty.extend(known.collect::<Vec<_>>());
        self.tables.clear();
        self.look_for_new(sys);
    }

    pub(super) fn uevent(&mut self, event: &Uevent, modules: &mut Loader) {
        if let Some(modalias) = &event.modalias {
            if event.is("add") {
                modules.device(modalias);
            }
        }
        if event.is("bind")
            && event
                .driver
                .as_deref()
                .is_some_and(|d| USB_STORAGE_DRIVERS.contains(&d))
        {
            self.usb_bound = true;
        }
        let Some(name) = event.block_name() else {
            return;
        };
        if name.starts_with("ram") {
            return;
        }
        debug!(
            "uevent {} {name}",
            event.action.as_deref().unwrap_or_default()
        );
        if event.is("remove") {
            self.devices.remove(name);
            self.empty.remove(name);
            self.dirty.remove(name);
            self.probing.remove(name);
            self.tables.remove(name);
        } else if event.is("add") || event.is("change") || event.is("online") {
            // The device's own probe brings its partition table again.
            self.dirty.insert(name.to_owned());
        }
    }

    pub(super) fn unsettled(&self) -> bool {
        !self.empty.is_empty() || self.devices.values().any(|d| d.unsettled)
    }

    pub(super) fn recheck_unsettled(&mut self) {
        let again = self
            .devices
            .iter()
            .filter(|(_, d)| d.unsettled)
            .map(|(name, _)| name.clone())
            .chain(self.empty.iter().cloned());
        self.dirty.extend(again.collect::<Vec<_>>());
    }

    /// Starts a probe of every device marked for one; a device whose probe
    /// is still running is probed again once it answers (never two
    /// children reading one device).
    pub(super) fn probe_dirty(&mut self, sys: &impl Sys) {
        for name in core::mem::take(&mut self.dirty) {
            let sectors = sectors(sys, &name);
            if sectors == 0 {
                self.devices.remove(&name);
                // An empty drive is looked at again each tick; an unused
                // loop device is not (attaching one sends a uevent), nor
                // one that is gone.
                let exists = sys.file_kind(&format!("{SYS_BLOCK}/{name}")).is_some();
                if exists && !name.starts_with("loop") {
                    self.empty.insert(name);
                } else {
                    self.empty.remove(&name);
                }
                continue;
            }
            self.empty.remove(&name);
            if let Some(probe) = self.probing.get_mut(&name) {
                probe.again = true;
                continue;
            }
            sys.start_probe(
                &format!("/dev/{name}"),
                sectors.saturating_mul(512),
                sector_size(sys, &name),
            );
            let probe = Probe {
                since: sys.now(),
                stalled: false,
                again: false,
                first: !self.devices.contains_key(&name),
            };
            self.probing.insert(name, probe);
        }
    }

    /// A probe answered: what the device holds, from the bytes its child
    /// read, and its partition identity from `/sys`. True if that is news:
    /// a device not seen before, or seen otherwise (a drive looked at again
    /// each tick that still says the same is not).
    pub(super) fn probed(
        &mut self,
        sys: &impl Sys,
        node: &str,
        result: SysResult<Captured>,
    ) -> bool {
        let Some(name) = node.strip_prefix("/dev/") else {
            return false;
        };
        let Some(probe) = self.probing.remove(name) else {
            // A device removed meanwhile.
            return false;
        };
        if probe.stalled {
            info!("{node} answered after all");
        }
        let device = self.look_at(sys, name, result);
        let news = self.devices.get(name).map(|d| &d.seen) != Some(&device.seen);
        self.devices.insert(name.to_owned(), device);
        if probe.again {
            self.dirty.insert(name.to_owned());
        }
        self.fill_partuuids();
        news
    }

    fn look_at(&mut self, sys: &impl Sys, name: &str, result: SysResult<Captured>) -> Device {
        let (fs, read_error, has_table) = match result {
            Ok(captured) => {
                let bytes = sectors(sys, name).saturating_mul(512);
                let table = captured.table(bytes, sector_size(sys, name));
                debug!(
                    "partition table of {name}: {}",
                    table.as_ref().map_or("none", |t| t.kind.as_str())
                );
                let has_table = table.is_some();
                self.tables.insert(name.to_owned(), table);
                (captured.fs(), None, has_table)
            }
            Err(e) => {
                self.tables.remove(name);
                (None, Some(e), false)
            }
        };
        let uevent = sys
            .read_file(&format!("{SYS_BLOCK}/{name}/uevent"))
            .map(|b| Uevent::from_sysfs(&b))
            .unwrap_or_default();
        let number = uevent.partn.or_else(|| {
            sys.read_file(&format!("{SYS_BLOCK}/{name}/partition"))
                .ok()
                .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        });
        let parent = number.and_then(|_| parent_disk(sys, name));
        let unsettled = read_error.is_some() || (fs.is_none() && !has_table);
        Device {
            seen: Seen {
                name: name.to_owned(),
                fs,
                partuuid: uevent.partuuid,
                partlabel: uevent.partname,
                read_error,
                stalled: false,
                parent,
            },
            unsettled,
            number,
        }
    }

    /// Kernels before 6.x put no PARTUUID in a partition's uevent: it is
    /// taken from its disk's partition table, which the disk's own probe
    /// brings (a disk not probed yet is probed now).
    fn fill_partuuids(&mut self) {
        for device in self.devices.values_mut() {
            let (None, Some(number), Some(disk)) =
                (&device.seen.partuuid, device.number, &device.seen.parent)
            else {
                continue;
            };
            match self.tables.get(disk) {
                Some(table) => {
                    let entry = table
                        .as_ref()
                        .and_then(|t| t.partitions.iter().find(|p| p.number == number));
                    if let Some(entry) = entry {
                        device.seen.partuuid = entry.partuuid.clone();
                        if device.seen.partlabel.is_none() {
                            device.seen.partlabel = entry.partlabel.clone();
                        }
                    }
                }
                None if !self.probing.contains_key(disk) => {
                    self.dirty.insert(disk.clone());
                }
                None => {}
            }
        }
    }

    /// Names, once, each device whose probe has run past its bound.
    pub(super) fn name_stalls(&mut self, now: Duration) {
        let bound = self.probe_bound;
        for (name, probe) in &mut self.probing {
            if !probe.stalled && now >= later(probe.since, bound) {
                probe.stalled = true;
                warn!(
                    "/dev/{name}: its reads stall (no answer in {}); going on without it",
                    seconds_text(bound)
                );
            }
        }
    }

    /// A probe is running and within its bound: it may bring the medium.
    pub(super) fn probing(&self) -> bool {
        self.probing.values().any(|p| !p.stalled)
    }

    /// Whether first looks at devices, within their bound, are running
    /// that started by `t`, and that started after it (a device looked at
    /// again, an unreadable one each tick, is known already).
    pub(super) fn probing_around(&self, t: Duration) -> (bool, bool) {
        let running = self.probing.values().filter(|p| !p.stalled && p.first);
        let (mut before, mut since) = (false, false);
        for probe in running {
            if probe.since <= t {
                before = true;
            } else {
                since = true;
            }
        }
        // Devices marked for a first look not started yet count as new.
        let unseen = self.dirty.iter().any(|n| !self.devices.contains_key(n));
        (before, since || unseen)
    }

    /// When the next running probe reaches its bound.
    pub(super) fn next_stall(&self) -> Option<Duration> {
        self.probing
            .values()
            .filter(|p| !p.stalled)
            .map(|p| later(p.since, self.probe_bound))
            .min()
    }

    /// The device matching `spec` that holds a filesystem, chosen by
    /// [`choose_medium`] among all that match; `Err` with every candidate
    /// when it will not choose.
    pub(super) fn matching(&self, spec: &DevSpec) -> Result<Option<(Found, &Seen)>, Vec<&Seen>> {
        let candidates: Vec<&Seen> = self
            .devices
            .values()
            .map(|d| &d.seen)
            .filter(|seen| seen.fs.is_some() && spec.matches(&seen.id()))
            .collect();
        let names: Vec<(&str, Option<&str>)> = candidates
            .iter()
            .map(|seen| (seen.name.as_str(), seen.parent.as_deref()))
            .collect();
        let chosen = match choose_medium(&names) {
            Choice::None => return Ok(None),
            Choice::One(name) => name,
            Choice::Ambiguous => return Err(candidates),
        };
        let seen = candidates.into_iter().find(|seen| seen.name == chosen);
        Ok(seen.and_then(|seen| {
            let fs = seen.fs.clone()?;
            Some((
                Found {
                    device: format!("/dev/{}", seen.name),
                    fs,
                },
                seen,
            ))
        }))
    }

    /// Every device seen, in name order, those whose reads stall named so.
    pub(super) fn report(&self) -> Vec<Seen> {
        let stalled = self
            .probing
            .iter()
            .filter(|(name, p)| p.stalled && !self.devices.contains_key(*name))
            .map(|(name, _)| Seen::stalled(name));
        let mut seen: Vec<Seen> = self
            .devices
            .values()
            .map(|d| d.seen.clone())
            .chain(stalled)
            .collect();
        seen.sort_by(|a, b| a.name.cmp(&b.name));
        seen
    }
}

fn sectors(sys: &impl Sys, name: &str) -> u64 {
    read_number(sys, &format!("{SYS_BLOCK}/{name}/size")).unwrap_or(0)
}

fn sector_size(sys: &impl Sys, name: &str) -> u32 {
    read_number(sys, &format!("{SYS_BLOCK}/{name}/queue/logical_block_size"))
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(512)
}

fn read_number(sys: &impl Sys, path: &str) -> Option<u64> {
    sys.read_file(path)
        .ok()
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
}

/// The disk holding partition `name`: `/sys/class/block/sda1` links into
/// `…/block/sda/sda1`, so `..` is the disk.
fn parent_disk(sys: &impl Sys, name: &str) -> Option<String> {
    let devname = sys
        .read_file(&format!("{SYS_BLOCK}/{name}/../uevent"))
        .ok()
        .and_then(|b| Uevent::from_sysfs(&b).devname)?;
    devname.rsplit('/').next().map(str::to_owned)
}
