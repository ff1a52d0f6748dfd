//! The layered grammars' copy to RAM (distro-live-spec §1.7, §2.6, §3.5),
//! made once the medium is found and before any image is mounted, with
//! `rd.live.ram`'s memory rule, progress line and release of the medium
//! ([`super::ram`]). A copy the RAM cannot hold is not an error for these
//! grammars: live-boot and casper warn and boot from the medium, and so
//! does liveinit for archiso (whose own copy would run out of space).

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::error::{BootError, Stage};
use super::ram;
use crate::config::LiveConfig;
use crate::grammar::to_ram::{archiso_auto, meminfo_kib, ToRam, ARCHISO_COPY_DIR};
use crate::grammar::{ImageChoice, LayeredConfig};
use crate::plan::layers::{self, Image};
use crate::plan::ram::fits_in_ram;
use crate::plan::MountFlags;
use crate::progress::size_text;
use crate::sys::{Errno, FileKind, Sys};
use crate::usage::mem_total_mib;

/// A medium's tree deeper than this is not walked further.
const MAX_DEPTH: usize = 32;
/// tmpfs stores a file in whole pages.
const PAGE: u64 = 4096;

/// The images to choose from: `toram=IMG` boots that image alone.
pub fn choice<S: Sys>(sys: &S, live: &LayeredConfig) -> Result<ImageChoice, BootError> {
    match &live.to_ram {
        ToRam::Image(name) => {
            let file = layers::on_medium(live.paths, &live.media_path, name);
            if sys.file_kind(&file) != Some(FileKind::File) {
                return Err(BootError::sys(
                    Stage::MountImage,
                    format!("toram={name}: {file}"),
                    Errno::NOENT,
                ));
            }
            Ok(ImageChoice::FirstOf(Vec::from([name.clone()])))
        }
        _ => Ok(live.images.clone()),
    }
}

/// Copies what the grammar asks for into RAM; returns the directory the
/// images are then read from when it is not the medium's.
pub fn copy<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    device: &str,
    images: &[Image],
) -> Result<Option<String>, BootError> {
    let paths = live.paths;
    let dir = live.media_path.as_str();
    match &live.to_ram {
        ToRam::Off => Ok(None),
        ToRam::Medium => {
            let mut files = Vec::new();
            let mut skipped = 0;
            walk(sys, paths.medium, "", 0, &mut files, &mut skipped);
            if skipped > 0 {
                warn!("toram: {skipped} entries of {device} that are neither files nor directories (symbolic links…) are not copied");
            }
            swap_medium(sys, cfg, live, device, &files)?;
            Ok(None)
        }
        ToRam::Image(name) => {
            let rel = format!("{dir}/{name}");
            let size = sys
                .file_size(&format!("{}/{rel}", paths.medium))
                .map_err(|e| BootError::sys(Stage::CopyToRam, rel.as_str(), e))?;
            swap_medium(sys, cfg, live, device, &[(rel, size)])?;
            Ok(None)
        }
        ToRam::ChosenImage(size) => copy_image(sys, cfg, live, device, images, size),
        ToRam::Auto(size) => {
            let [image] = images else { return Ok(None) };
            let file = layers::on_medium(paths, dir, &image.name);
            let bytes = sys
                .file_size(&file)
                .map_err(|e| BootError::sys(Stage::CopyToRam, file.as_str(), e))?;
            let available = meminfo_kib(&meminfo(sys), "MemAvailable");
            let Some(available) = available else {
                warn!("copytoram=auto: no MemAvailable in /proc/meminfo; running from the medium");
                return Ok(None);
            };
            match archiso_auto(device, bytes, available) {
                Ok(why) => {
                    info!("copytoram=auto: {why}: copying to RAM");
                    copy_image(sys, cfg, live, device, images, size)
                }
                Err(why) => {
                    info!("copytoram=auto: {why}: running from the medium");
                    Ok(None)
                }
            }
        }
    }
}

/// Every regular file under `root`, as (path relative to it, size).
fn walk<S: Sys>(
    sys: &S,
    root: &str,
    rel: &str,
    depth: usize,
    files: &mut Vec<(String, u64)>,
    skipped: &mut usize,
) {
    let here = if rel.is_empty() {
        String::from(root)
    } else {
        format!("{root}/{rel}")
    };
    let Ok(names) = sys.read_dir(&here) else {
        *skipped += 1;
        return;
    };
    for name in names {
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let full = format!("{root}/{child}");
        match sys.file_kind(&full) {
            Some(FileKind::Dir) if depth < MAX_DEPTH => {
                walk(sys, root, &child, depth + 1, files, skipped)
            }
            Some(FileKind::File) => match sys.file_size(&full) {
                Ok(size) => files.push((child, size)),
                Err(_) => *skipped += 1,
            },
            _ => *skipped += 1,
        }
    }
}

/// `/proc/meminfo`, or nothing.
fn meminfo(sys: &impl Sys) -> String {
    let bytes = sys.read_file("/proc/meminfo").unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether `bytes` fit in RAM leaving `rd.minmem`; a warning if not.
fn fits<S: Sys>(sys: &S, cfg: &LiveConfig, what: &str, bytes: u64) -> bool {
    let total = mem_total_mib(&meminfo(sys));
    let Some(total) = total else {
        warn!("{what}: no MemTotal in /proc/meminfo; running from the medium");
        return false;
    };
    match fits_in_ram(bytes, total, cfg.minmem_mib) {
        Ok(()) => true,
        Err(too_big) => {
            warn!(
                "{what}: {} MiB do not fit in RAM: {} MiB total, {} MiB of which must stay \
                 free (rd.minmem); running from the medium",
                too_big.image_mib, too_big.mem_total_mib, too_big.minmem_mib
            );
            false
        }
    }
}

/// live-boot's and casper's copy: `files` (relative to the medium) into
/// a tmpfs at `<medium>_swap` sized to them plus 5%, the medium released,
/// the copy put in its place.
fn swap_medium<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    device: &str,
    files: &[(String, u64)],
) -> Result<(), BootError> {
    let medium = live.paths.medium;
    let pages: u64 = files
        .iter()
        .map(|(_, size)| size.div_ceil(PAGE).saturating_mul(PAGE))
        .sum();
    let size = format!(
        "{}k",
        pages.saturating_add(pages / 20).div_ceil(1024).max(64)
    );
    let swap = format!("{medium}_swap");
    if !copy_into(
        sys,
        cfg,
        live,
        device,
        ("tmpfs", &swap, &size),
        medium,
        files,
    )? {
        return Ok(());
    }
    sys.mount(&swap, medium, None, MountFlags::BIND, "")
        .map_err(|e| BootError::sys(Stage::CopyToRam, medium, e))?;
    // The bind holds the tmpfs; its first mount point is not needed.
    if let Err(e) = sys.detach(&swap) {
        warn!("umount -l {swap}: {e}");
    }
    Ok(())
}

/// archiso's copy: the image into a tmpfs at `/run/archiso/copytoram`;
/// the medium released.
fn copy_image<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    device: &str,
    images: &[Image],
    size: &str,
) -> Result<Option<String>, BootError> {
    let [image] = images else { return Ok(None) };
    let dir = layers::on_medium(live.paths, &live.media_path, "");
    let dir = dir.trim_end_matches('/');
    let from = format!("{dir}/{}", image.name);
    let bytes = sys
        .file_size(&from)
        .map_err(|e| BootError::sys(Stage::CopyToRam, from.as_str(), e))?;
    let files = [(image.name.clone(), bytes)];
    let tmpfs = ("copytoram", ARCHISO_COPY_DIR, size);
    Ok(copy_into(sys, cfg, live, device, tmpfs, dir, &files)?
        .then(|| String::from(ARCHISO_COPY_DIR)))
}

/// Copies `files` (relative to `from`) into a new tmpfs (source name,
/// mount point, size) if RAM holds them, then releases the medium (and
/// the ISO's host). False: it does not fit (warned), nothing was done.
fn copy_into<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    device: &str,
    (source, at, size): (&str, &str, &str),
    from: &str,
    files: &[(String, u64)],
) -> Result<bool, BootError> {
    let bytes: u64 = files.iter().map(|(_, size)| size).sum();
    let what = match &live.to_ram {
        ToRam::Medium => "toram",
        ToRam::Image(_) => "toram=IMAGE",
        _ => "copytoram",
    };
    if !fits(sys, cfg, what, bytes) {
        return Ok(false);
    }
    let fail = |subject: &str, e| BootError::sys(Stage::CopyToRam, subject, e);
    sys.mkdir_all(at).map_err(|e| fail(at, e))?;
    sys.mount(
        source,
        at,
        Some("tmpfs"),
        MountFlags::RW,
        &format!("mode=755,size={size}"),
    )
    .map_err(|e| fail(at, e))?;
    info!(
        "{what}: copying {} files ({}) of {device} to RAM at {at}",
        files.len(),
        size_text(bytes)
    );
    let mut pairs = Vec::new();
    for (rel, _) in files {
        let to = format!("{at}/{rel}");
        if let Some((parent, _)) = to.rsplit_once('/') {
            sys.mkdir_all(parent).map_err(|e| fail(parent, e))?;
        }
        pairs.push((format!("{from}/{rel}"), to));
    }
    ram::copy_files(sys, &pairs, bytes)?;
    ram::release(sys, live.paths.medium, device);
    // findiso/fromiso: the ISO's loop went with its mount; its host goes too.
    if let Some(host) = &live.iso {
        super::layered_iso::unmount(sys, host.at);
    }
    Ok(true)
}
