//! From the found medium to a mounted new root: the three plan phases, with
//! the looks between them that decide the next phase.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::Found;
use super::error::{BootError, Cause, MissingImage, Stage};
use super::execute::Executor;
use super::{ram, ram_auto};
use crate::config::LiveConfig;
use crate::plan::image::{rootfs_img_path, squash_img_path, Inside, NESTED_EXT3FS, NESTED_ROOTFS};
use crate::plan::persist::{PersistPlan, Persistent};
use crate::plan::ram_bound::ram_bound;
use crate::plan::{
    self, ImageFacts, ImageSource, Layer, Layout, LoopSlot, Medium, MediumPlan, Source, LIVE_MNT,
    SQUASH_MNT,
};
use crate::probe::{self, FsType, PROBE_BYTES};
use crate::sys::{Errno, FileKind, Sys};
use crate::usage::mem_total_mib;

/// Mounts the medium, then the image on it; returns what the root will be
/// built on.
pub fn open_image<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    found: &Found,
) -> Result<Layout, BootError> {
    let medium = Medium {
        device: &found.device,
        fstype: found.fs.fstype,
    };
    let source = match plan::mount_medium(cfg, medium) {
        MediumPlan::Mount(steps) => {
            exec.run(Stage::MountMedium, &steps)?;
            let on_medium = image_on_medium(sys, cfg, found)?;
            if ram_auto::wanted(sys, cfg, &found.device, &on_medium) {
                let in_ram = ram::copy_image(sys, cfg.minmem_mib, on_medium)?;
                ram::release_medium(sys, &found.device);
                in_ram
            } else {
                on_medium
            }
        }
        MediumPlan::RawImage(steps) => {
            exec.run(Stage::MountMedium, &steps)?;
            info!("{} is itself the image", found.device);
            let device = ImageSource::SquashedDevice(found.device.clone());
            if ram_auto::wanted(sys, cfg, &found.device, &device) {
                ram::copy_image(sys, cfg.minmem_mib, device)?
            } else {
                device
            }
        }
    };
    open_source(exec, sys, &source, found.fs.fstype)
}

/// From where the image is to what the root will be built on: mounts a
/// squashed image and looks inside it. `device_fs` is the medium's type,
/// used when the medium itself is the image.
pub fn open_source<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    source: &ImageSource,
    device_fs: FsType,
) -> Result<Layout, BootError> {
    match source {
        ImageSource::FsImage(path) => Ok(Layout::FsImage {
            path: path.clone(),
            fstype: image_type(sys, path, Stage::MountImage)?,
            in_squashfs: false,
        }),
        ImageSource::SquashedFile(path) => {
            let fstype = squashed_type(sys, path)?;
            exec.run(Stage::MountImage, &plan::mount_image(source, fstype))?;
            inside_image(sys, Source::Loop(LoopSlot::Image), path)
        }
        ImageSource::SquashedDevice(device) => {
            exec.run(Stage::MountImage, &plan::mount_image(source, device_fs))?;
            inside_image(sys, Source::Path(device.clone()), device)
        }
    }
}

/// Stacks the writable layer and mounts the new root.
pub fn assemble<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    layout: &Layout,
    persistent: Option<&Persistent>,
) -> Result<(), BootError> {
    let layer = plan::root::choose_layer_with(cfg, layout, persistent);
    info!("writable layer: {layer:?}");
    let mut cfg = cfg.clone();
    // A persistent COW store replaces the RAM one, unless kept read-only.
    let cow_in_ram = cfg.overlay.readonly || !matches!(persistent, Some(Persistent::Cow { .. }));
    if matches!(layer, Layer::Snapshot | Layer::Thin) && cow_in_ram {
        cfg.overlay.size_mib = bound_by_ram(sys, cfg.overlay.size_mib);
    }
    if let (true, Layout::FsImage { path, .. }) = (cfg.writable_fsimg, layout) {
        super::ram::check_writable_copy(sys, cfg.minmem_mib, path)?;
    }
    let persist = persistent.map(|layer| PersistPlan {
        layer,
        readonly: cfg.overlay.readonly,
        reset: cfg.overlay.reset,
    });
    exec.run(
        Stage::AssembleRoot,
        &plan::root::assemble_root_with(&cfg, layout, persist),
    )
}

/// The copy-on-write store lives in RAM: capped at half of it
/// ([`ram_bound`]), so that filling it ends in the snapshot's overflow
/// (the root turns read-only, the machine stays up), never in OOM.
fn bound_by_ram(sys: &impl Sys, size_mib: u64) -> u64 {
    let ram_mib = sys
        .read_file("/proc/meminfo")
        .ok()
        .and_then(|b| mem_total_mib(&String::from_utf8_lossy(&b)));
    let bound = ram_bound(size_mib, ram_mib);
    if bound.capped {
        warn!(
            "the overlay is kept in RAM: {} MiB instead of the {size_mib} MiB asked for \
             (rd.live.overlay.size), half of the {} MiB this machine has, so that filling it \
             turns the root read-only instead of exhausting memory",
            bound.mib,
            ram_mib.unwrap_or_default()
        );
    }
    bound.mib
}

/// Finds `<rd.live.dir>/<rd.live.squashimg>` or `<rd.live.dir>/rootfs.img`.
fn image_on_medium(
    sys: &impl Sys,
    cfg: &LiveConfig,
    found: &Found,
) -> Result<ImageSource, BootError> {
    let squash = squash_img_path(cfg);
    let rootfs = rootfs_img_path(cfg);
    let is_file = |p: &str| is_file_beneath(sys, LIVE_MNT, p);
    if let Some(source) = plan::locate_image(cfg, is_file(&squash), is_file(&rootfs)) {
        return Ok(source);
    }
    Err(BootError::new(
        Stage::MountImage,
        squash,
        Cause::ImageNotFound(Box::new(MissingImage {
            device: found.device.clone(),
            nested: rootfs,
            live_dir: cfg.live_dir.clone(),
            squash_img: cfg.squash_img.clone(),
            top_level: sys.read_dir(LIVE_MNT).unwrap_or_default(),
        })),
    ))
}

/// Whether `path` is a regular file reached without leaving `root`: a
/// symlink on the medium (or in the image) that leads out of it is not
/// followed, and said so, so that a medium cannot make the boot use a file
/// of the initramfs or of another device.
fn is_file_beneath(sys: &impl Sys, root: &str, path: &str) -> bool {
    match sys.file_kind_beneath(root, path) {
        Ok(kind) => kind == FileKind::File,
        Err(Errno::XDEV) => {
            warn!("{path}: a symlink on the way leads out of {root}; not followed");
            false
        }
        Err(_) => false,
    }
}

/// The filesystem of an image file, from its first bytes.
fn image_type(sys: &impl Sys, path: &str, stage: Stage) -> Result<FsType, BootError> {
    let head = sys
        .read_head(path, PROBE_BYTES)
        .map_err(|e| BootError::sys(stage, path, e))?;
    probe::probe(&head)
        .map(|fs| fs.fstype)
        .ok_or_else(|| BootError::new(stage, path, Cause::NoFilesystem))
}

/// A compressed image must be squashfs or EROFS.
fn squashed_type(sys: &impl Sys, path: &str) -> Result<FsType, BootError> {
    match image_type(sys, path, Stage::MountImage)? {
        t @ (FsType::Squashfs | FsType::Erofs) => Ok(t),
        other => Err(BootError::new(
            Stage::MountImage,
            path,
            Cause::NotCompressed(other),
        )),
    }
}

/// Looks inside the mounted image: nested `LiveOS/rootfs.img`, or flattened.
fn inside_image(sys: &impl Sys, base: Source, image: &str) -> Result<Layout, BootError> {
    let at = |name: &str| sys.file_kind(&format!("{SQUASH_MNT}/{name}"));
    let facts = ImageFacts {
        liveos_dir: at("LiveOS") == Some(FileKind::Dir),
        rootfs_img: is_file_beneath(sys, SQUASH_MNT, NESTED_ROOTFS),
        ext3fs_img: is_file_beneath(sys, SQUASH_MNT, NESTED_EXT3FS),
        usr: at("usr").is_some(),
        ostree: at("ostree").is_some(),
        proc: at("proc").is_some(),
        sbin_init: sys.is_executable_in(SQUASH_MNT, "/sbin/init"),
    };
    match plan::classify_image(facts) {
        Ok(Inside::Nested(path)) => Ok(Layout::FsImage {
            path: path.to_owned(),
            fstype: image_type(sys, path, Stage::AssembleRoot)?,
            in_squashfs: true,
        }),
        Ok(Inside::Flattened) => Ok(Layout::Flattened { base }),
        Err(why) => Err(BootError::new(
            Stage::AssembleRoot,
            image,
            Cause::NoRoot(why),
        )),
    }
}
