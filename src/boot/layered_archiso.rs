//! archiso's writable layer and root at boot (distro-live-spec §3.4, §3.6),
//! once its image is mounted at `/run/archiso/airootfs`: the COW space (the
//! device `cow_label=` / `cow_device=` names, else a tmpfs of
//! `cow_spacesize`), `cow_directory` in it (mode 0700), then the root: the
//! dm-snapshot `arch_airootfs` when the image holds `airootfs.img`, else the
//! overlay. A COW device that is missing or unusable is named in a warning
//! and the tmpfs is used, as for every other persistence request: liveinit
//! writes to the device only because the command line named it, and never
//! formats it.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover;
use super::error::{errno_text, BootError, Cause, Stage};
use super::execute::Executor;
use super::modules::Loader;
use super::persist::temporary;
use crate::config::LiveConfig;
use crate::grammar::archiso::CowSpace;
use crate::grammar::LayeredConfig;
use crate::plan::archiso::{
    cow_holder, mount_cow_device, mount_snapshot, size_bytes, snapshot, COW_FILE_NAME, NESTED_IMAGE,
};
use crate::plan::layers::{image_mount, overlay_tmpfs};
use crate::plan::persist::can_hold_upper;
use crate::plan::ram_bound::ram_bound;
use crate::plan::Step;
use crate::probe::{self, FsType, PROBE_BYTES};
use crate::sys::{FileKind, Sys};
use crate::usage::mem_total_mib;

/// Builds the root at `/sysroot`. `overlay` is the overlay root's plan
/// (tmpfs included), used when the image holds no `airootfs.img`.
pub fn assemble<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    cow: &CowSpace,
    overlay: Vec<Step>,
) -> Result<(), BootError> {
    let paths = live.paths;
    let image = format!("{}/{NESTED_IMAGE}", image_mount(paths, ""));
    let dm = sys.file_kind(&image) == Some(FileKind::File);
    let device = cow
        .device
        .as_ref()
        .and_then(|(option, spec)| cow_device(sys, modules, cfg, option, spec, &cow.flags, dm));
    let mut exec = Executor::new(sys, modules);
    let tmpfs = overlay_tmpfs(paths, live.overlay_size.as_deref());
    if device.is_none() {
        exec.run(Stage::AssembleRoot, &tmpfs)?;
    }
    let holder = cow_holder(&live.cow_dir);
    if sys.file_kind(&holder).is_none() {
        sys.mkdir_all(&holder)
            .map_err(|e| BootError::sys(Stage::AssembleRoot, holder.as_str(), e))?;
        if let Err(e) = sys.set_mode(&holder, 0o700) {
            warn!("chmod 0700 {holder}: {}", errno_text(e));
        }
    }
    let kept = if dm {
        let cow_file = format!("{holder}/{COW_FILE_NAME}");
        let exists = sys.file_kind(&cow_file) == Some(FileKind::File);
        if exists && !cow.persistent {
            // cow_persistent=N: a fresh store, as archiso.
            remove(sys, &cow_file);
        }
        let create =
            (!exists || !cow.persistent).then(|| cow_bytes(sys, live, &holder, device.is_none()));
        let fstype = image_fs(sys, &image)?;
        exec.run(
            Stage::AssembleRoot,
            &snapshot(&image, &cow_file, create, &cow.chunk),
        )?;
        if !cow.persistent {
            // The loop device holds the file; nothing else should.
            remove(sys, &cow_file);
        }
        exec.run(Stage::AssembleRoot, &mount_snapshot(fstype))?;
        match cow.persistent {
            true => format!("the snapshot's COW file {cow_file}, kept (cow_persistent=P)"),
            false => String::from("the snapshot's COW file, unlinked (cow_persistent=N)"),
        }
    } else {
        let rest: Vec<Step> = overlay
            .into_iter()
            .filter(|step| !tmpfs.contains(step))
            .collect();
        exec.run(Stage::AssembleRoot, &rest)?;
        format!("the overlay's upper layer in {holder}")
    };
    if let Some(named) = device {
        super::layered_persist::record(&mut exec, &format!("the COW space on {named}, {kept}"));
    }
    Ok(())
}

/// Finds, mounts read-only then remounts read-write the COW space's device
/// at `/run/archiso/cowspace`; its description, or `None` after a warning.
fn cow_device<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    cfg: &LiveConfig,
    option: &str,
    spec: &crate::devspec::DevSpec,
    flags: &str,
    dm: bool,
) -> Option<String> {
    info!("looking for the COW space's device {spec} ({option}=)");
    let found = match discover::find_medium(sys, spec, cfg, modules, &mut Vec::new()) {
        Ok(found) => found,
        Err(e) => {
            temporary(&format!("{option}: no device is {spec}: {e}"));
            return None;
        }
    };
    let named = format!("{} ({option}, {})", found.device, found.fs.fstype.as_str());
    let fstype = found.fs.fstype;
    let unusable = match fstype {
        FsType::Iso9660 | FsType::Squashfs | FsType::Erofs => Some("is read-only"),
        _ if !dm && !can_hold_upper(fstype) => Some("cannot hold an overlayfs upper directory"),
        _ => None,
    };
    if let Some(why) = unusable {
        temporary(&format!("{option}: {named} {why}"));
        return None;
    }
    let steps = mount_cow_device(&found.device, fstype, flags);
    if let Err(e) = Executor::new(sys, modules).run(Stage::AssembleRoot, &steps) {
        temporary(&format!("{option}: {e}"));
        return None;
    }
    let at = crate::plan::layers::ARCHISO.overlay;
    // Without MS_RDONLY; the filesystem keeps the options it was given.
    if let Err(e) = sys.remount(at, "") {
        temporary(&format!(
            "{option}: remount {at} ({named}) read-write: {}",
            errno_text(e)
        ));
        let _ = sys.unmount(at);
        return None;
    }
    Some(named)
}

/// The filesystem of `airootfs.img`.
fn image_fs(sys: &impl Sys, image: &str) -> Result<FsType, BootError> {
    let head = sys
        .read_head(image, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::AssembleRoot, image, e))?;
    probe::probe(&head)
        .map(|fs| fs.fstype)
        .ok_or_else(|| BootError::new(Stage::AssembleRoot, image, Cause::NoFilesystem))
}

/// The new COW file's size: `cow_spacesize`, but no more than its
/// filesystem has free (nor, in RAM, half of it), so that the snapshot
/// overflows, turning the root read-only, before that filesystem fills.
fn cow_bytes(sys: &impl Sys, live: &LayeredConfig, holder: &str, in_ram: bool) -> u64 {
    let meminfo = sys.read_file("/proc/meminfo").unwrap_or_default();
    let ram_mib = mem_total_mib(&String::from_utf8_lossy(&meminfo));
    let asked = live.overlay_size.as_deref().unwrap_or("256M");
    let mut bytes = size_bytes(asked, ram_mib.map(|m| m << 20)).unwrap_or(256 << 20);
    if let Ok((used, total)) = sys.fs_usage(holder) {
        let free = total.saturating_sub(used);
        // On a disk the file's own metadata takes room too: keep 1/32 spare.
        bytes = bytes.min(if in_ram { free } else { free - free / 32 });
    }
    let bound = ram_bound(bytes >> 20, ram_mib);
    if in_ram && bound.capped {
        bytes = bound.mib << 20;
    }
    bytes - bytes % 4096
}

fn remove(sys: &impl Sys, file: &str) {
    if let Err(e) = sys.remove_file(file) {
        warn!("rm {file}: {}", errno_text(e));
    }
}
