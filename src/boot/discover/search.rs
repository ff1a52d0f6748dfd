//! What discovery knows about the block devices: each one's superblock
//! and partition identity, which are worth looking at again, and which
//! matches the medium asked for.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, BTreeSet};

use log::debug;

use super::coldplug::USB_STORAGE_DRIVERS;
use super::report::{Found, Seen};
use crate::boot::modules::Loader;
use crate::devspec::DevSpec;
use crate::discovery::{choose_medium, Choice};
use crate::probe::partition::{self, PartitionTable};
use crate::probe::{self, PROBE_BYTES};
use crate::sys::Sys;
use crate::uevent::Uevent;

const SYS_BLOCK: &str = "/sys/class/block";

/// A block device and whether it is worth looking at again by itself.
struct Device {
    seen: Seen,
    /// Unreadable, or neither a filesystem nor a partition table on it:
    /// perhaps a drive whose medium is not in or not ready yet.
    unsettled: bool,
}

/// What discovery knows so far.
#[derive(Default)]
pub(super) struct Search {
    devices: BTreeMap<String, Device>,
    /// Block devices of size 0 (an empty drive): checked again each tick.
    empty: BTreeSet<String>,
    /// Devices to probe (again) before the next wait.
    dirty: BTreeSet<String>,
    /// Partition tables read from disks, for PARTUUID/PARTLABEL.
    tables: BTreeMap<String, Option<PartitionTable>>,
    /// A USB mass-storage driver is bound to a device.
    pub(super) usb_bound: bool,
}

impl Search {
    /// An optical drive is there: a disc takes seconds to spin up and says
    /// nothing meanwhile, so it gets the longer idle time, as USB does.
    pub(super) fn has_optical_drive(&self) -> bool {
        self.devices
            .keys()
            .chain(self.empty.iter())
            .any(|name| name.starts_with("sr"))
    }

    /// Looks for block devices not known yet; true if there were some.
    pub(super) fn look_for_new(&mut self, sys: &impl Sys) -> bool {
        let names = sys.read_dir(SYS_BLOCK).unwrap_or_default();
        let mut new = false;
        for name in names.into_iter().filter(|n| !n.starts_with("ram")) {
            if !self.devices.contains_key(&name) && !self.empty.contains(&name) {
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
        // Whatever happened to a disk, its partition table may be new.
        self.tables.remove(name);
        if let Some(disk) = event.parent_disk() {
            if event.is("add") || event.is("change") {
                self.tables.remove(disk);
            }
        }
        if event.is("remove") {
            self.devices.remove(name);
            self.empty.remove(name);
            self.dirty.remove(name);
        } else if event.is("add") || event.is("change") || event.is("online") {
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
            let device = self.look_at(sys, &name, sectors);
            self.devices.insert(name, device);
        }
    }

    fn look_at(&mut self, sys: &impl Sys, name: &str, sectors: u64) -> Device {
        let node = format!("/dev/{name}");
        let (fs, read_error, has_table) = match sys.read_head(&node, PROBE_BYTES) {
            Ok(head) => {
                let mut more = |offset: u64, len: usize| {
                    sys.read_at(&node, offset, len)
                        .ok()
                        .filter(|b| b.len() == len)
                };
                let fs = probe::probe_with(&head, &mut more);
                let table = partition::parse(&head, sectors.saturating_mul(512)).is_some();
                (fs, None, table)
            }
            Err(e) => (None, Some(e), false),
        };
        let uevent = sys
            .read_file(&format!("{SYS_BLOCK}/{name}/uevent"))
            .map(|b| Uevent::from_sysfs(&b))
            .unwrap_or_default();
        let (mut partuuid, mut partlabel) = (uevent.partuuid, uevent.partname);
        let number = uevent.partn.or_else(|| {
            sys.read_file(&format!("{SYS_BLOCK}/{name}/partition"))
                .ok()
                .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        });
        let parent = number.and_then(|_| parent_disk(sys, name));
        if let (None, Some(number), Some(disk)) = (&partuuid, number, &parent) {
            // Kernels before 6.x put no PARTUUID in the uevent: read the
            // disk's partition table.
            if let Some(entry) = self
                .table_of(sys, disk)
                .and_then(|t| t.partitions.iter().find(|p| p.number == number))
            {
                partuuid = entry.partuuid.clone();
                partlabel = partlabel.or_else(|| entry.partlabel.clone());
            }
        }
        let unsettled = read_error.is_some() || (fs.is_none() && !has_table);
        Device {
            seen: Seen {
                name: name.to_owned(),
                fs,
                partuuid,
                partlabel,
                read_error,
                parent,
            },
            unsettled,
        }
    }

    /// The partition table of the disk holding partition `name` (read once
    /// per disk until a uevent says it changed).
    fn table_of(&mut self, sys: &impl Sys, disk: &str) -> Option<&PartitionTable> {
        self.tables
            .entry(disk.to_owned())
            .or_insert_with(|| read_table(sys, disk))
            .as_ref()
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

    pub(super) fn into_seen(self) -> Vec<Seen> {
        self.devices.into_values().map(|d| d.seen).collect()
    }

    pub(super) fn report(&self) -> Vec<&Seen> {
        self.devices.values().map(|d| &d.seen).collect()
    }
}

fn sectors(sys: &impl Sys, name: &str) -> u64 {
    read_number(sys, &format!("{SYS_BLOCK}/{name}/size")).unwrap_or(0)
}

fn read_number(sys: &impl Sys, path: &str) -> Option<u64> {
    sys.read_file(path)
        .ok()
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
}

fn read_table(sys: &impl Sys, disk: &str) -> Option<PartitionTable> {
    let bytes = sectors(sys, disk).saturating_mul(512);
    let sector = read_number(sys, &format!("{SYS_BLOCK}/{disk}/queue/logical_block_size"))
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(512);
    let node = format!("/dev/{disk}");
    let mut read = |offset: u64, len: usize| {
        sys.read_at(&node, offset, len)
            .ok()
            .filter(|b| b.len() == len)
    };
    let table = partition::read_table(&mut read, bytes, sector);
    debug!(
        "partition table of {disk}: {}",
        table.as_ref().map_or("none", |t| t.kind.as_str())
    );
    table
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
