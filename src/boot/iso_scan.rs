//! `iso-scan/filename=` (docs/dracut-live.md §3.12): when no device is the
//! medium itself, the ISO file is looked for on every filesystem, attached
//! to a loop device, and that device matched against `root=live:` like
//! any medium. The filesystem holding it stays mounted at
//! `/run/initramfs/isoscan`; `/run/initramfs/isoscandev` names its device.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{Found, Seen};
use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use super::modules::Loader;
use crate::devspec::{BlockId, DevSpec};
use crate::plan::iso_scan::{attach_iso, can_hold_files, iso_file, mount_candidate, ISOSCAN_MNT};
use crate::plan::LoopSlot;
use crate::probe::{self, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// Looks for `iso_path` on each block device's filesystem, in name order,
/// and returns the loop device of the first copy found.
pub fn find_iso<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    spec: &DevSpec,
    iso_path: &str,
    seen: &[Seen],
) -> Result<Found, BootError> {
    info!("no device is {spec} itself; looking for {iso_path} on every filesystem (iso-scan/filename)");
    let mut exec = Executor::new(sys, modules);
    let mut searched = Vec::new();
    // What discovery saw: no device is read again here.
    for seen in seen {
        let Some(fs) = seen.fs.as_ref().filter(|fs| can_hold_files(fs.fstype)) else {
            continue;
        };
        let device = format!("/dev/{}", seen.name);
        let tried = format!("{device} ({})", fs.fstype.as_str());
        if let Err(e) = exec.run(Stage::IsoScan, &mount_candidate(&device, fs.fstype)) {
            warn!("iso-scan: {e}");
            searched.push(format!("{tried}, not mountable"));
            continue;
        }
        if sys.file_kind(&iso_file(iso_path)) == Some(FileKind::File) {
            info!("iso-scan: {iso_path} is on {device}");
            exec.run(Stage::IsoScan, &attach_iso(&device, iso_path))?;
            let attached = exec.loop_device(LoopSlot::Iso).unwrap_or_default();
            return medium_in(sys, spec, iso_path, attached);
        }
        searched.push(tried);
        sys.unmount(ISOSCAN_MNT).map_err(|e| {
            BootError::sys(
                Stage::IsoScan,
                format!("umount {ISOSCAN_MNT} ({device})"),
                e,
            )
        })?;
    }
    Err(BootError::new(
        Stage::IsoScan,
        iso_path,
        Cause::IsoNotFound { searched },
    ))
}

/// The attached ISO is the medium if it matches the spec, as the loop
/// device would under dracut's udev rule.
fn medium_in(
    sys: &impl Sys,
    spec: &DevSpec,
    iso_path: &str,
    device: &str,
) -> Result<Found, BootError> {
    let head = sys
        .read_head(device, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::IsoScan, device, e))?;
    let fs = probe::probe(&head)
        .ok_or_else(|| BootError::new(Stage::IsoScan, iso_path, Cause::NoFilesystem))?;
    let id = BlockId {
        name: device.trim_start_matches("/dev/"),
        fs: Some(&fs),
        ..BlockId::default()
    };
    if !spec.matches(&id) {
        return Err(BootError::new(
            Stage::IsoScan,
            iso_path,
            Cause::IsoNotTheMedium {
                spec: spec.to_string(),
                label: fs.label.clone(),
            },
        ));
    }
    info!("found the live medium: {iso_path} on {device}");
    Ok(Found {
        device: String::from(device),
        fs,
    })
}
