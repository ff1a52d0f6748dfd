//! Finding the live medium.
//!
//! Listen first, then look (booster's and nlplug-findfs's order): subscribe
//! to the kernel's uevents, then coldplug — every device's `modalias` under
//! `/sys/bus`, every block device under `/sys/class/block` — so nothing that
//! appears in between is missed. Then react to what the kernel says: a
//! device's `MODALIAS` starts its driver (see `modules.rs`), a block
//! device's `add`/`change` gets its superblock probed.
//!
//! Stop the moment a device matches. Otherwise give up once nothing new has
//! happened for [`IDLE_OPTION`] seconds (no uevent, no module finishing
//! loading) — longer ([`USB_IDLE_OPTION`]) once a USB mass-storage device
//! is there, as sticks take a while to show their partitions — and in any
//! case after `rd.retry`. Devices that could not be read, or held nothing
//! recognisable, are looked at again every [`TICK`]: a CD drive does not
//! announce a disc being inserted.
//!
//! Without a uevent socket (a kernel without netlink) `/sys` is looked at
//! again every [`TICK`] instead.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, BTreeSet};
use core::fmt::Write as _;
use core::time::Duration;

use log::{debug, error, info, warn};

use super::error::{errno_text, BootError, Stage};
use super::modules::Loader;
use crate::cmdline::Cmdline;
use crate::devspec::{BlockId, DevSpec};
use crate::probe::partition::{self, PartitionTable};
use crate::probe::{self, FsInfo, PROBE_BYTES};
use crate::sys::{Errno, Sys, SysEvent};
use crate::uevent::Uevent;

const SYS_BLOCK: &str = "/sys/class/block";
const SYS_BUS: &str = "/sys/bus";
/// How often devices that may still change are looked at again.
const TICK: Duration = Duration::from_millis(250);
/// How often to say that we are still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Seconds without any news after which the search gives up (0: never,
/// wait for `rd.retry`).
pub const IDLE_OPTION: &str = "rd.liveinit.idle";
/// The same once slow media are there: a USB mass-storage device, or an
/// optical drive.
pub const USB_IDLE_OPTION: &str = "rd.liveinit.idle.slow";
const DEFAULT_IDLE: Duration = Duration::from_secs(5);
const DEFAULT_USB_IDLE: Duration = Duration::from_secs(15);
/// Buses whose devices are walked first at coldplug (the rest follow in
/// name order).
const FIRST_BUSES: &[&str] = &["pci", "virtio", "usb", "scsi"];
/// Drivers whose binding means a USB mass-storage device is there.
const USB_STORAGE_DRIVERS: &[&str] = &["usb-storage", "uas"];

/// How long the search may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// `rd.retry`: the hard cap.
    pub retry: Duration,
    /// Give up after this long without news (`None`: only the cap counts).
    pub idle: Option<Duration>,
    /// The same once a USB storage device is there (never shorter).
    pub usb_idle: Option<Duration>,
}

impl Bounds {
    /// `rd.retry` (already read into the configuration) and the idle
    /// options from the command line; a value that is not a number of
    /// seconds is reported and the default used.
    pub fn from_cmdline(cmdline: &Cmdline, retry_secs: u32) -> Bounds {
        let idle = seconds(cmdline, IDLE_OPTION, DEFAULT_IDLE);
        let usb = seconds(cmdline, USB_IDLE_OPTION, DEFAULT_USB_IDLE);
        let idle = (!idle.is_zero()).then_some(idle);
        Bounds {
            retry: Duration::from_secs(retry_secs.into()),
            idle,
            usb_idle: idle.map(|idle| idle.max(usb)),
        }
    }
}

/// `key=<seconds>` (decimals allowed), else `default`.
fn seconds(cmdline: &Cmdline, key: &str, default: Duration) -> Duration {
    let Some(value) = cmdline.value(key) else {
        return default;
    };
    match value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
    {
        Some(d) => d,
        None => {
            warn!(
                "{key}={value}: expected a number of seconds; using {} s",
                default.as_secs_f64()
            );
            default
        }
    }
}

/// The medium that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Device node, e.g. `/dev/sr0`.
    pub device: String,
    pub fs: FsInfo,
}

/// One block device as seen by a scan, kept for the failure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    pub fs: Option<FsInfo>,
    pub partuuid: Option<String>,
    pub partlabel: Option<String>,
    pub read_error: Option<Errno>,
}

impl Seen {
    fn id(&self) -> BlockId<'_> {
        BlockId {
            name: &self.name,
            fs: self.fs.as_ref(),
            partuuid: self.partuuid.as_deref(),
            partlabel: self.partlabel.as_deref(),
        }
    }

    /// One line for the user: `sr0: iso9660 LABEL="X" UUID="…"`.
    pub fn describe(&self) -> String {
        let mut line = format!("{}:", self.name);
        match (&self.fs, self.read_error) {
            (Some(fs), _) => {
                let _ = write!(line, " {}", fs.fstype.as_str());
                if let Some(label) = &fs.label {
                    let _ = write!(line, " LABEL=\"{label}\"");
                }
                if let Some(uuid) = &fs.uuid {
                    let _ = write!(line, " UUID=\"{uuid}\"");
                }
            }
            (None, Some(e)) => {
                let _ = write!(line, " unreadable ({})", errno_text(e));
            }
            (None, None) => line.push_str(" no known filesystem"),
        }
        if let Some(partuuid) = &self.partuuid {
            let _ = write!(line, " PARTUUID=\"{partuuid}\"");
        }
        if let Some(partlabel) = &self.partlabel {
            let _ = write!(line, " PARTLABEL=\"{partlabel}\"");
        }
        line
    }
}

/// Why the search stopped without a match.
enum GaveUp {
    Retry,
    Idle(Duration),
}

/// Waits for a block device matching `spec`, loading the drivers the
/// devices that show up ask for; see the module documentation.
pub fn find_medium(
    sys: &impl Sys,
    spec: &DevSpec,
    bounds: &Bounds,
    modules: &mut Loader,
) -> Result<Found, BootError> {
    let start = sys.now();
    info!(
        "looking for the live medium {spec} (up to {} s{})",
        bounds.retry.as_secs(),
        match bounds.idle {
            Some(idle) => format!(", or {} s without news", idle.as_secs_f64()),
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
    search.coldplug(sys, modules);
    modules.start_background(sys);
    search.look_for_new(sys);

    let deadline = later(start, bounds.retry);
    let mut last_news = sys.now();
    let mut next_tick = later(last_news, TICK);
    let mut next_progress = later(start, PROGRESS_EVERY);
    loop {
        if let Some(found) = search.matching(spec) {
            info!("found the live medium: {}", found.1.describe());
            // Drivers still loading go on in the background; the
            // medium's filesystem is loaded when it is mounted.
            sys.stop_uevents();
            return Ok(found.0);
        }
        let now = sys.now();
        let slow = modules.usb_storage() || search.usb_bound || search.has_optical_drive();
        let idle = if slow { bounds.usb_idle } else { bounds.idle };
        let idle_end = idle
            .filter(|_| !modules.busy())
            .map(|i| later(last_news, i));
        if now >= deadline || idle_end.is_some_and(|end| now >= end) {
            sys.stop_uevents();
            modules.report();
            let why = match idle {
                Some(idle) if now < deadline => GaveUp::Idle(idle),
                _ => GaveUp::Retry,
            };
            let waited = now.saturating_sub(start);
            return Err(not_found(spec, bounds, why, waited, &search.report()));
        }
        if now >= next_progress {
            info!(
                "still waiting for {spec} ({} s of {} s); {} block devices so far",
                now.saturating_sub(start).as_secs(),
                bounds.retry.as_secs(),
                search.report().len()
            );
            next_progress = later(now, PROGRESS_EVERY);
        }
        let ticking = !listening || search.unsettled();
        let mut wake = deadline.min(next_progress);
        if let Some(end) = idle_end {
            wake = wake.min(end);
        }
        if ticking {
            wake = wake.min(next_tick);
        }
        for event in sys.wait_events(wake.saturating_sub(now)) {
            last_news = sys.now();
            match event {
                SysEvent::Uevent(msg) => {
                    if let Some(uevent) = Uevent::from_netlink(&msg) {
                        search.uevent(&uevent, modules);
                    }
                }
                SysEvent::UeventsLost => {
                    warn!("uevents were lost (receive buffer full); looking at /sys again");
                    search.coldplug(sys, modules);
                    search.rescan_all(sys);
                }
                SysEvent::ModuleLoaded { path, result } => modules.finished(sys, &path, result),
            }
        }
        modules.pump(sys);
        if sys.now() >= next_tick {
            next_tick = later(sys.now(), TICK);
            if !listening {
                search.coldplug(sys, modules);
                modules.pump(sys);
                if search.look_for_new(sys) {
                    last_news = sys.now();
                }
            }
            search.recheck_unsettled();
        }
        search.probe_dirty(sys);
    }
}

/// `t + d`, saturating: bounds come from the command line.
fn later(t: Duration, d: Duration) -> Duration {
    t.checked_add(d).unwrap_or(Duration::MAX)
}

/// Looks at every block device once (for the emergency summary).
pub fn scan(sys: &impl Sys) -> Vec<Seen> {
    let mut search = Search::default();
    search.look_for_new(sys);
    search.devices.into_values().map(|d| d.seen).collect()
}

fn not_found(
    spec: &DevSpec,
    bounds: &Bounds,
    why: GaveUp,
    waited: Duration,
    seen: &[&Seen],
) -> BootError {
    error!("block devices present ({}):", seen.len());
    for device in seen {
        error!("  {}", device.describe());
    }
    let text = match why {
        GaveUp::Retry => format!(
            "no block device matched within {} s ({} devices seen; rd.retry= sets the wait)",
            bounds.retry.as_secs(),
            seen.len()
        ),
        GaveUp::Idle(idle) => format!(
            "no block device matched, and nothing new appeared for {} s \
             ({} devices seen in {} s; {IDLE_OPTION}= sets that wait, {USB_IDLE_OPTION}= \
             once a USB disk is there, 0 waits for rd.retry= ({} s))",
            idle.as_secs_f64(),
            seen.len(),
            waited.as_secs(),
            bounds.retry.as_secs()
        ),
    };
    BootError::message(Stage::FindMedium, spec.to_string(), text)
}

/// A block device and whether it is worth looking at again by itself.
struct Device {
    seen: Seen,
    /// Unreadable, or neither a filesystem nor a partition table on it:
    /// perhaps a drive whose medium is not in or not ready yet.
    unsettled: bool,
}

/// What discovery knows so far.
#[derive(Default)]
struct Search {
    devices: BTreeMap<String, Device>,
    /// Block devices of size 0 (an empty drive): checked again each tick.
    empty: BTreeSet<String>,
    /// Devices to probe (again) before the next wait.
    dirty: BTreeSet<String>,
    /// Partition tables read from disks, for PARTUUID/PARTLABEL.
    tables: BTreeMap<String, Option<PartitionTable>>,
    /// A USB mass-storage driver is bound to a device.
    usb_bound: bool,
}

impl Search {
    /// Hands every device's `modalias` under `/sys/bus` to the loader (the
    /// same devices as `/sys/devices/**/modalias`: modaliases are a bus
    /// matter, and this walk follows no symlink loops).
    fn coldplug(&mut self, sys: &impl Sys, modules: &mut Loader) {
        let mut buses = sys.read_dir(SYS_BUS).unwrap_or_default();
        // Storage controllers first: their drivers start while the walk
        // goes on through the (many) ACPI and platform devices.
        buses.sort_by_key(|bus| {
            FIRST_BUSES
                .iter()
                .position(|b| b == bus)
                .unwrap_or(usize::MAX)
        });
        for bus in buses {
            let dir = format!("{SYS_BUS}/{bus}/devices");
            for device in sys.read_dir(&dir).unwrap_or_default() {
                if let Ok(alias) = sys.read_file(&format!("{dir}/{device}/modalias")) {
                    modules.device(&String::from_utf8_lossy(&alias));
                    // Start a driver at once, while the walk goes on.
                    modules.pump(sys);
                }
            }
        }
        for driver in USB_STORAGE_DRIVERS {
            let bound = sys
                .read_dir(&format!("{SYS_BUS}/usb/drivers/{driver}"))
                .unwrap_or_default();
            // Bound interfaces are named like `1-1:1.0`.
            if bound.iter().any(|name| name.contains(':')) {
                self.usb_bound = true;
            }
        }
        modules.pump(sys);
    }

    /// An optical drive is there: a disc takes seconds to spin up and says
    /// nothing meanwhile, so it gets the longer idle time, as USB does.
    fn has_optical_drive(&self) -> bool {
        self.devices
            .keys()
            .chain(self.empty.iter())
            .any(|name| name.starts_with("sr"))
    }

    /// Looks for block devices not known yet; true if there were some.
    fn look_for_new(&mut self, sys: &impl Sys) -> bool {
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
    fn rescan_all(&mut self, sys: &impl Sys) {
        let known = self.devices.keys().chain(self.empty.iter()).cloned();
        self.dirty.extend(known.collect::<Vec<_>>());
        self.tables.clear();
        self.look_for_new(sys);
    }

    fn uevent(&mut self, event: &Uevent, modules: &mut Loader) {
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

    fn unsettled(&self) -> bool {
        !self.empty.is_empty() || self.devices.values().any(|d| d.unsettled)
    }

    fn recheck_unsettled(&mut self) {
        let again = self
            .devices
            .iter()
            .filter(|(_, d)| d.unsettled)
            .map(|(name, _)| name.clone())
            .chain(self.empty.iter().cloned());
        self.dirty.extend(again.collect::<Vec<_>>());
    }

    fn probe_dirty(&mut self, sys: &impl Sys) {
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
        if let (None, Some(number)) = (&partuuid, number) {
            // Kernels before 6.x put no PARTUUID in the uevent: read the
            // disk's partition table.
            if let Some(entry) = self
                .table_of_parent(sys, name)
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
            },
            unsettled,
        }
    }

    /// The partition table of the disk holding partition `name` (read once
    /// per disk until a uevent says it changed).
    fn table_of_parent(&mut self, sys: &impl Sys, name: &str) -> Option<&PartitionTable> {
        // `/sys/class/block/sda1` links into `…/block/sda/sda1`: `..` is the disk.
        let parent = sys
            .read_file(&format!("{SYS_BLOCK}/{name}/../uevent"))
            .ok()
            .and_then(|b| Uevent::from_sysfs(&b).devname)?;
        let disk = parent.rsplit('/').next().unwrap_or(&parent).to_owned();
        self.tables
            .entry(disk.clone())
            .or_insert_with(|| read_table(sys, &disk))
            .as_ref()
    }

    /// The first device matching `spec` that holds a filesystem.
    fn matching(&self, spec: &DevSpec) -> Option<(Found, &Seen)> {
        self.devices.values().find_map(|d| {
            let fs = d.seen.fs.as_ref()?;
            spec.matches(&d.seen.id()).then(|| {
                (
                    Found {
                        device: format!("/dev/{}", d.seen.name),
                        fs: fs.clone(),
                    },
                    &d.seen,
                )
            })
        })
    }

    fn report(&self) -> Vec<&Seen> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(text: &str) -> Bounds {
        Bounds::from_cmdline(&Cmdline::parse(text), 180)
    }

    #[test]
    fn idle_bounds_come_from_the_command_line() {
        let secs = |s: u64| Some(Duration::from_secs(s));
        let b = bounds("");
        assert_eq!(
            (b.retry, b.idle, b.usb_idle),
            (Duration::from_secs(180), secs(5), secs(15))
        );
        let b = bounds("rd.liveinit.idle=1.5 rd.liveinit.idle.slow=4");
        assert_eq!(b.idle, Some(Duration::from_millis(1500)));
        assert_eq!(b.usb_idle, secs(4));
        // The USB time is never shorter than the plain one.
        assert_eq!(bounds("rd.liveinit.idle=30").usb_idle, secs(30));
        assert_eq!(
            bounds("rd.liveinit.idle=0"),
            Bounds {
                retry: Duration::from_secs(180),
                idle: None,
                usb_idle: None
            }
        );
        for bad in ["abc", "-1", "", "nan", "1e30"] {
            let b = bounds(&format!(
                "rd.liveinit.idle={bad} rd.liveinit.idle.slow={bad}"
            ));
            assert_eq!((b.idle, b.usb_idle), (secs(5), secs(15)), "{bad}");
        }
    }
}
