//! `rd.live.ram=auto` at boot: the decision's inputs read from the machine
//! (the image's size, `MemTotal`, what kind of device the medium is), the
//! decision logged with them.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use crate::config::{LiveConfig, RamCopy};
use crate::plan::ram_auto::{decide, AutoFacts, MediumKind};
use crate::plan::ImageSource;
use crate::sys::Sys;
use crate::usage::mem_total_mib;

const SYS_BLOCK: &str = "/sys/class/block";
/// How many devices up from a disk's own a USB interface may sit (scsi
/// device, target, host, interface: four on every kernel seen).
const USB_SEARCH_DEPTH: usize = 6;

/// Whether the image at `source`, on the medium `device`, goes to RAM.
pub fn wanted(sys: &impl Sys, cfg: &LiveConfig, device: &str, source: &ImageSource) -> bool {
    match cfg.ram {
        RamCopy::Off => false,
        RamCopy::Always => true,
        RamCopy::Auto => auto(sys, cfg.minmem_mib, device, source),
    }
}

fn auto(sys: &impl Sys, minmem_mib: u64, device: &str, source: &ImageSource) -> bool {
    let path = match source {
        ImageSource::SquashedFile(p) | ImageSource::FsImage(p) => p,
        ImageSource::SquashedDevice(_) => {
            info!("rd.live.ram=auto: {device} is itself the image; a device is used in place");
            return false;
        }
    };
    let image_bytes = match sys.file_size(path) {
        Ok(b) => b,
        Err(e) => {
            warn!("rd.live.ram=auto: the size of {path}: {e}; running from the medium");
            return false;
        }
    };
    let Some(mem_total_mib) = sys
        .read_file("/proc/meminfo")
        .ok()
        .and_then(|b| mem_total_mib(&String::from_utf8_lossy(&b)))
    else {
        warn!("rd.live.ram=auto: no MemTotal in /proc/meminfo; running from the medium");
        return false;
    };
    let facts = AutoFacts {
        image_bytes,
        mem_total_mib,
        medium: medium_kind(sys, device),
    };
    let decision = decide(facts, minmem_mib);
    info!("rd.live.ram=auto: {device}: {decision}");
    decision.copies()
}

/// An `sr` node is an optical drive; a disk (or a partition's disk) with a
/// USB interface among the devices above it is a USB disk.
pub fn medium_kind(sys: &impl Sys, device: &str) -> MediumKind {
    let name = device.rsplit('/').next().unwrap_or(device);
    if name.starts_with("sr") {
        return MediumKind::Optical;
    }
    // `device` of a disk, or of a partition's disk (`..` is the disk).
    for start in ["device", "../device"] {
        let mut dir = format!("{SYS_BLOCK}/{name}/{start}");
        for _ in 0..USB_SEARCH_DEPTH {
            if let Ok(uevent) = sys.read_file(&format!("{dir}/uevent")) {
                if is_usb(&String::from_utf8_lossy(&uevent)) {
                    return MediumKind::Usb;
                }
            }
            dir.push_str("/..");
        }
    }
    MediumKind::Other
}

fn is_usb(uevent: &str) -> bool {
    uevent.lines().any(|l| {
        matches!(
            l.trim(),
            "DEVTYPE=usb_interface" | "DEVTYPE=usb_device" | "DRIVER=usb-storage" | "DRIVER=uas"
        )
    })
}
