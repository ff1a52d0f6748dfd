//! Coldplug: the devices that were there before discovery listened. Every
//! device's `modalias` under `/sys/bus` goes to the module loader (the same
//! devices as `/sys/devices/**/modalias`: modaliases are a bus matter, and
//! this walk follows no symlink loops), storage buses first.

#[allow(unused_imports)]
use crate::prelude::*;

use super::search::Search;
use crate::boot::modules::Loader;
use crate::sys::Sys;

const SYS_BUS: &str = "/sys/bus";
/// Buses whose devices are walked first (the rest follow in name order).
const FIRST_BUSES: &[&str] = &["pci", "virtio", "usb", "scsi"];
/// Drivers whose binding means a USB mass-storage device is there.
pub(super) const USB_STORAGE_DRIVERS: &[&str] = &["usb-storage", "uas"];

/// Walks `/sys/bus`, starting each device's driver as it goes, and notes
/// whether a USB storage driver is bound already.
pub(super) fn walk(sys: &impl Sys, search: &mut Search, modules: &mut Loader) {
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
            search.usb_bound = true;
        }
    }
    modules.pump(sys);
}

/// A USB mass-storage interface is bound whose disk has not shown up yet:
/// usb-storage scans a stick's LUNs a while after binding to it (its
/// `delay_use`, a second), long after its own load returned, so the
/// stick's disk comes later than its driver says.
pub fn usb_disk_pending(sys: &impl Sys) -> bool {
    interfaces(sys).any(|interface| luns(sys, &interface).is_empty())
}

/// The disks on USB mass storage (`sda`…): those under a bound
/// usb-storage or uas interface, whose sysfs path therefore holds `usb`.
pub(super) fn usb_disks(sys: &impl Sys) -> Vec<String> {
    interfaces(sys)
        .flat_map(|interface| luns(sys, &interface))
        .flat_map(|lun| sys.read_dir(&format!("{lun}/block")).unwrap_or_default())
        .collect()
}

/// The bound USB mass-storage interfaces' sysfs directories.
fn interfaces(sys: &impl Sys) -> impl Iterator<Item = String> + '_ {
    USB_STORAGE_DRIVERS.iter().flat_map(move |driver| {
        let dir = format!("{SYS_BUS}/usb/drivers/{driver}");
        sys.read_dir(&dir)
            .unwrap_or_default()
            .into_iter()
            // Bound interfaces are named like `1-1:1.0`.
            .filter(|name| name.contains(':'))
            .map(move |name| format!("{dir}/{name}"))
    })
}

/// The SCSI devices of the USB interface at `interface` that have their
/// block device: `hostN/targetN:C:T/N:C:T:L/block`.
fn luns(sys: &impl Sys, interface: &str) -> Vec<String> {
    let entries = |path: &str, wanted: &dyn Fn(&str) -> bool| -> Vec<String> {
        let names = sys.read_dir(path).unwrap_or_default();
        names
            .into_iter()
            .filter(|n| wanted(n))
            .map(|n| format!("{path}/{n}"))
            .collect()
    };
    entries(interface, &|n| n.starts_with("host"))
        .iter()
        .flat_map(|host| entries(host, &|n| n.starts_with("target")))
        .flat_map(|target| entries(&target, &|n| n.contains(':')))
        .filter(|lun| sys.file_kind(&format!("{lun}/block")).is_some())
        .collect()
}
