//! `root=live:/path/x.iso` (docs/dracut-live.md §3.3 row 6, §2.2): an ISO
//! file inside the initramfs, attached to a loop device that is then the
//! medium, as dracut's `liveiso:` rule does. Nothing to discover, and no
//! label to match: the file is named exactly.

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use super::discover::Found;
use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use super::modules::Loader;
use crate::plan::iso_scan::attach_initramfs_iso;
use crate::plan::LoopSlot;
use crate::probe::{self, PROBE_BYTES};
use crate::sys::Sys;

/// Attaches the ISO at `path` and returns its loop device as the medium.
pub fn open_iso_file<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    path: &str,
) -> Result<Found, BootError> {
    let mut exec = Executor::new(sys, modules);
    exec.run(Stage::FindMedium, &attach_initramfs_iso(path))?;
    let device = exec.loop_device(LoopSlot::Iso).unwrap_or_default();
    let head = sys
        .read_head(device, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::FindMedium, device, e))?;
    let fs = probe::probe(&head)
        .ok_or_else(|| BootError::new(Stage::FindMedium, path, Cause::NoFilesystem))?;
    info!("the live medium is {path}, attached as {device}");
    Ok(Found {
        device: String::from(device),
        fs,
    })
}
