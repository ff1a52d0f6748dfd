//! A persistent overlay (docs/dracut-live.md §3.5): the device
//! `rd.overlay=<devspec>` names is found like the medium (the same bounded
//! discovery), mounted, and the overlay on it recognised as a directory,
//! a filesystem image or a device-mapper COW store. Anything missing or
//! unusable is said on the console and in the kernel log, naming what was
//! looked for, and the boot goes on with a temporary overlay: never a
//! prompt, which would hang a headless machine.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{self, Found};
use super::error::Stage;
use super::execute::Executor;
use super::modules::Loader;
use crate::config::LiveConfig;
use crate::devspec::BlockId;
use crate::plan::persist::{
    can_hold_upper, image_dirs, mount_device, mount_image, parent_dir, scan_area, state_step,
    CowHeader, CowLayout, MediumId, PersistSpec, Persistent, PERSIST_MNT,
};
use crate::plan::root::cow_fits;
use crate::plan::{Layout, LIVE_MNT};
use crate::probe::{self, FsInfo, FsType, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// The device that holds the requested overlay, and where on it.
#[derive(Debug, Clone)]
pub struct Target {
    /// `rd.overlay=`'s value, to name it in messages.
    asked: String,
    device: String,
    fs: FsInfo,
    /// It is the live medium itself (mounted read-write for it).
    on_medium: bool,
    /// The overlay's path on the device.
    path: String,
}

/// Before the medium is mounted: finds the device `rd.overlay=` names.
pub fn find_device(
    sys: &impl Sys,
    cfg: &LiveConfig,
    medium: &Found,
    modules: &mut Loader,
) -> Option<Target> {
    let asked = cfg.overlay.persistent.as_ref()?;
    let spec = match PersistSpec::parse(asked) {
        Ok(spec) => spec,
        Err(e) => {
            temporary(&format!("rd.overlay={asked}: {e}"));
            return None;
        }
    };
    let path = spec.path_on_device(
        cfg,
        MediumId {
            label: medium.fs.label.as_deref(),
            uuid: medium.fs.uuid.as_deref(),
        },
    );
    let medium_id = BlockId {
        name: medium.device.trim_start_matches("/dev/"),
        fs: Some(&medium.fs),
        ..BlockId::default()
    };
    let found = if spec.device.matches(&medium_id) {
        medium.clone()
    } else {
        info!(
            "looking for the persistent overlay's device {} (rd.overlay={asked})",
            spec.device
        );
        match discover::find_medium(sys, &spec.device, cfg, modules, &mut Vec::new()) {
            Ok(found) => found,
            Err(e) => {
                temporary(&format!(
                    "no device is {} (rd.overlay={asked}): {e}",
                    spec.device
                ));
                return None;
            }
        }
    };
    let on_medium = found.device == medium.device;
    let fstype = found.fs.fstype;
    if matches!(fstype, FsType::Iso9660 | FsType::Squashfs | FsType::Erofs) && !cfg.overlay.readonly
    {
        temporary(&format!(
            "{} (rd.overlay={asked}) holds a read-only {} filesystem: no overlay can be kept on it",
            found.device,
            fstype.as_str()
        ));
        return None;
    }
    info!(
        "the persistent overlay should be {path} on {}{}",
        found.device,
        if on_medium { " (the live medium)" } else { "" }
    );
    Some(Target {
        asked: asked.clone(),
        device: found.device,
        fs: found.fs,
        on_medium,
        path,
    })
}

/// The configuration the medium is mounted with: read-write when the
/// overlay lives on it and is to be written.
pub fn with_medium_rw(mut cfg: LiveConfig, target: Option<&Target>) -> LiveConfig {
    if target.is_some_and(|t| t.on_medium) && !cfg.overlay.readonly {
        cfg.medium_rw = true;
    }
    cfg
}

/// Once the image is mounted: mounts the overlay's device and finds out
/// what the overlay is; `None` (after saying why) for a temporary one.
pub fn open<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    layout: &Layout,
    target: Option<Target>,
) -> Option<Persistent> {
    let target = target?;
    let readonly = cfg.overlay.readonly;
    // After a copy to RAM (always, or as rd.live.ram=auto decided) the
    // medium is no longer mounted: mount it anew.
    let live = (target.on_medium && medium_mounted(sys, cfg)).then_some(LIVE_MNT);
    let steps = mount_device(&target.device, target.fs.fstype, live, readonly);
    if let Err(e) = exec.run(Stage::AssembleRoot, &steps) {
        temporary(&format!("rd.overlay={}: {e}", target.asked));
        return None;
    }
    let found = recognise(exec, sys, cfg, layout, &target);
    match &found {
        Some(layer) => {
            let form = match layer {
                Persistent::Dirs { .. } => "overlayfs directories",
                Persistent::Cow { .. } => "device-mapper COW store",
            };
            let mode = match (readonly, cfg.overlay.reset) {
                (true, _) => ", read-only under a temporary overlay (rd.overlay.readonly)",
                (false, true) => ", emptied first (rd.overlay.reset)",
                (false, false) => "",
            };
            let line = format!("{} on {} ({form}{mode})", target.path, target.device);
            info!("persistent overlay: {line}");
            // Only for `liveinit status`: a failure to write it is no reason to stop.
            let _ = exec.run(Stage::AssembleRoot, &[state_step(&line)]);
        }
        None => {
            let _ = sys.detach(PERSIST_MNT);
        }
    }
    found
}

/// What is at the overlay's path: a directory with `ovlwork` beside it, an
/// image file with `overlayfs/` and `ovlwork/` inside, or a COW store.
fn recognise<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    layout: &Layout,
    target: &Target,
) -> Option<Persistent> {
    let full = format!("{PERSIST_MNT}{}", target.path);
    let named = format!("{} on {}", target.path, target.device);
    match sys.file_kind(&full) {
        Some(FileKind::Dir) => {
            let work = format!("{}/ovlwork", parent_dir(&full));
            if sys.file_kind(&work) != Some(FileKind::Dir) {
                temporary(&format!(
                    "{named} has no ovlwork directory beside it ({}/ovlwork), \
                     which overlayfs needs as its work directory",
                    parent_dir(&target.path)
                ));
                return None;
            }
            if !can_hold_upper(target.fs.fstype) {
                temporary(&format!(
                    "{named} is on {}, which cannot hold an overlayfs upper directory; \
                     use a filesystem image file holding overlayfs/ and ovlwork/ instead",
                    target.fs.fstype.as_str()
                ));
                return None;
            }
            Some(Persistent::Dirs { upper: full, work })
        }
        Some(FileKind::File) => {
            let head = match sys.read_head(&full, PROBE_BYTES) {
                Ok(head) => head,
                Err(e) => {
                    temporary(&format!("{named} cannot be read: {e}"));
                    return None;
                }
            };
            match probe::probe(&head) {
                Some(fs) => image(exec, sys, cfg, &full, &named, fs.fstype),
                None => cow(sys, cfg, layout, &full, &named, &head),
            }
        }
        _ => {
            temporary(&format!(
                "there is no persistent overlay {named} (looked for a directory with \
                 ovlwork beside it, a filesystem image or a device-mapper COW store \
                 at that path)"
            ));
            None
        }
    }
}

/// The image form: mounted in the device's place, it must hold the dirs.
fn image<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    full: &str,
    named: &str,
    fstype: FsType,
) -> Option<Persistent> {
    let steps = mount_image(full, fstype, cfg.overlay.readonly);
    if let Err(e) = exec.run(Stage::AssembleRoot, &steps) {
        temporary(&format!("the overlay image {named}: {e}"));
        return None;
    }
    let layer = image_dirs();
    if let Persistent::Dirs { upper, work } = &layer {
        if sys.file_kind(upper) != Some(FileKind::Dir) || sys.file_kind(work) != Some(FileKind::Dir)
        {
            temporary(&format!(
                "the overlay image {named} ({}) has no overlayfs/ and ovlwork/ directories",
                fstype.as_str()
            ));
            return None;
        }
    }
    Some(layer)
}

/// The COW form: only on a writable filesystem image, and not once it is
/// full or invalid (reported, not silently mounted).
fn cow(
    sys: &impl Sys,
    cfg: &LiveConfig,
    layout: &Layout,
    full: &str,
    named: &str,
    head: &[u8],
) -> Option<Persistent> {
    let o = &cfg.overlay;
    let header = CowHeader::parse(head);
    if header == CowHeader::Unknown {
        temporary(&format!(
            "{named} is neither a filesystem image nor a device-mapper COW store"
        ));
        return None;
    }
    if !cow_fits(layout) {
        temporary(&format!(
            "{named} is a device-mapper COW store, which needs an ext4 (or other \
             writable) LiveOS/rootfs.img image; this image is made writable by overlayfs"
        ));
        return None;
    }
    let layer = Some(Persistent::Cow {
        file: full.to_owned(),
    });
    if o.reset && !o.readonly {
        return layer;
    }
    match header {
        CowHeader::Invalid => {
            temporary(&format!(
                "the COW store {named} is marked invalid by the kernel (it filled up, or \
                 failed, under an earlier boot): its data cannot be read; rd.overlay.reset \
                 starts it again"
            ));
            None
        }
        CowHeader::Fresh if o.readonly => {
            temporary(&format!(
                "the COW store {named} is empty: nothing to show read-only"
            ));
            None
        }
        CowHeader::Valid { chunk_sectors } => {
            let size = sys.file_size(full).unwrap_or(0);
            let layout = CowLayout::new(chunk_sectors, size)?;
            let max_chunk = highest_chunk(sys, full, &layout);
            let percent = layout.percent_used(max_chunk);
            if layout.is_full(max_chunk) && !o.readonly {
                temporary(&format!(
                    "the persistent overlay {named} is full ({percent}% of {} MiB, its COW store \
                     overflowed): it is not used, as the root would fail every write; \
                     rd.overlay.readonly shows its data, rd.overlay.reset starts it again",
                    size >> 20
                ));
                return None;
            }
            info!(
                "the persistent COW store {named} is {percent}% used (of {} MiB)",
                size >> 20
            );
            layer
        }
        _ => layer,
    }
}

/// The highest data chunk the store's exceptions use, area by area, as the
/// kernel reads it; stops at the first area that is not full.
fn highest_chunk(sys: &impl Sys, file: &str, layout: &CowLayout) -> u64 {
    let mut max = 0;
    let Ok(len) = usize::try_from(layout.chunk_bytes) else {
        return 0;
    };
    for n in 0..=layout.total_chunks / (layout.per_area + 1) {
        let Ok(area) = sys.read_at(file, layout.area_offset(n), len) else {
            break;
        };
        let scan = scan_area(&area);
        max = max.max(scan.max_chunk);
        if scan.ended || scan.exceptions < layout.per_area {
            break;
        }
    }
    max
}

/// Says that persistence was asked for and why there is none this boot.
pub(super) fn temporary(why: &str) {
    warn!("{why}");
    warn!("using a temporary overlay: changes will be lost at shutdown");
}

/// Whether the medium is still mounted at [`LIVE_MNT`]: it is not once its
/// image was copied to RAM and the medium released, which with
/// `rd.live.ram=auto` only the boot itself decided. Without a mount table
/// to read, what the command line asked for.
fn medium_mounted(sys: &impl Sys, cfg: &LiveConfig) -> bool {
    match sys.read_file("/proc/self/mountinfo") {
        Ok(m) => crate::usage::mount_at(&String::from_utf8_lossy(&m), LIVE_MNT).is_some(),
        Err(_) => !cfg.ram.may_copy(),
    }
}
