//! Debian live-boot's and casper's way to the new root (distro-live-spec
//! §1.3–1.6, §1.10, §2.3–2.5): the medium is the device whose
//! `<live-media-path>/` holds images; the images the grammar chooses are
//! mounted and stacked, the last on top, under one overlayfs with its
//! writable layer in a tmpfs. Which paths are left for the real root is
//! the plan's data ([`StatePaths`]), not code here.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{self, Seen};
use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use super::modules::Loader;
use crate::config::LiveConfig;
use crate::grammar::casper::{flat_list, name_chain};
use crate::grammar::{ImageChoice, LayeredConfig};
use crate::plan::layers::{self, Image, StatePaths};
use crate::plan::NEWROOT;
use crate::policy::BreakPoint;
use crate::probe::{self, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// Finds the medium, mounts its images and the overlay root at [`NEWROOT`].
pub fn mount_root<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    modules: &mut Loader,
    stop: &dyn Fn(BreakPoint) -> Result<(), BootError>,
) -> Result<(), BootError> {
    let paths = live.paths;
    let dir = live.media_path.as_str();
    let what = match &live.iso {
        Some(host) => format!(
            "a filesystem holding {} ({}=), an ISO whose {dir}/ holds images",
            host.path, host.option
        ),
        None => format!("a medium holding {dir}/*.squashfs ({})", cfg.grammar.why),
    };
    let what = match &live.uuid {
        Some(u) if live.iso.is_none() => format!("{what} and carrying uuid={u}"),
        _ => what,
    };
    // The media holding images but another UUID, for the final message.
    let mut others: Vec<String> = Vec::new();
    let what = match live.removable {
        Some(only) => format!(
            "{what}, searched for on {} only (live-media={})",
            only.disks(),
            only.name()
        ),
        None => what,
    };
    let found = discover::find_by_content(
        sys,
        &what,
        live.media.as_ref(),
        cfg,
        modules,
        &mut |modules, seen| match live.removable {
            Some(only) if !discover::admits(sys, only, seen) => {
                info!(
                    "{}: not searched: not one of the {} (live-media={})",
                    seen.name,
                    only.disks(),
                    only.name()
                );
                false
            }
            _ => holds_images(sys, modules, live, seen, &mut others),
        },
    )
    .map_err(|e| match e.cause.is_no_match() {
        // No keyword and no casper medium: the line named no root at all.
        true if cfg.grammar.by_content && others.is_empty() => BootError {
            stage: Stage::Cmdline,
            subject: String::new(),
            cause: Cause::Config(crate::config::ConfigError::NoRoot),
            ..e
        },
        true if live.uuid.is_some() => BootError {
            subject: format!(
                "{}; media with {dir}/ seen: {}",
                e.subject,
                match others.is_empty() {
                    true => String::from("none"),
                    false => others.join("; "),
                }
            ),
            ..e
        },
        _ => e,
    })?;
    if let Some(digests) = &live.verify {
        super::media_test::run(sys, paths.medium, digests)?;
    }
    stop(BreakPoint::PreMount)?;
    let choice = super::layered_ram::choice(sys, live)?;
    let images = images(sys, paths, dir, &choice, &found.device)?;
    info!(
        "images, bottom first: {}",
        images
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let (Some(list), [only]) = (&live.sha512_list, images.as_slice()) {
        let images_dir = layers::on_medium(paths, dir, "");
        super::checksum::verify_sha512(sys, images_dir.trim_end_matches('/'), &only.name, list)?;
    }
    let in_ram = super::layered_ram::copy(sys, cfg, live, &found.device, &images)?;
    Executor::new(sys, modules).run(
        Stage::MountImage,
        &match in_ram {
            Some(from) => layers::mount_images_from(paths, &from, &images),
            None => layers::mount_images(paths, dir, &images),
        },
    )?;
    stop(BreakPoint::Mount)?;
    let root = layers::overlay_root(
        paths,
        dir,
        &images,
        live.overlay_size.as_deref(),
        &live.cow_dir,
    );
    let lowers = layers::lower_dirs(paths, dir, &images);
    match &live.cow_space {
        Some(cow) => super::layered_archiso::assemble(sys, modules, cfg, live, cow, root)?,
        None => {
            super::layered_persist::assemble(sys, modules, cfg, live, &found.device, root, &lowers)?
        }
    }
    if !live.nofstab && !paths.fstab.is_empty() {
        add_fstab_lines(sys, paths);
    }
    Ok(())
}

/// Mounts `seen` at the medium's place and keeps it there if the image
/// directory holds an image (live-boot's `is_live_path`) and, with
/// casper's `uuid=`, the medium carries it (else it is added to `others`).
fn holds_images<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    live: &LayeredConfig,
    seen: &Seen,
    others: &mut Vec<String>,
) -> bool {
    let (paths, dir) = (live.paths, live.media_path.as_str());
    let Some(fs) = &seen.fs else { return false };
    let device = format!("/dev/{}", seen.name);
    if let Some(host) = &live.iso {
        if !super::layered_iso::mount(sys, modules, live, host, seen) {
            return false;
        }
    } else if let Err(e) = Executor::new(sys, modules).run(
        Stage::FindMedium,
        &layers::mount_medium(paths, &device, fs.fstype),
    ) {
        warn!("{e}");
        return false;
    }
    let images_dir = layers::on_medium(paths, dir, "");
    let images = sys
        .read_dir(images_dir.trim_end_matches('/'))
        .unwrap_or_default()
        .iter()
        .any(|name| layers::is_image(paths, name));
    let holds = images
        && (!live.media_required || is_the_medium(sys, live, seen))
        && carries_uuid(sys, live, seen, others);
    if !holds {
        if !images {
            info!("{device} has no images in {dir}/");
        }
        if let Err(e) = sys.unmount(paths.medium) {
            warn!(
                "umount {} ({device}): {}",
                paths.medium,
                super::error::errno_text(e)
            );
        }
        if let Some(host) = &live.iso {
            super::layered_iso::unmount(sys, host.at);
        }
    }
    holds
}

/// casper's `uuid=`: unchecked for the `live-media=` device and an ISO
/// file, as casper skips it there.
fn carries_uuid(
    sys: &impl Sys,
    live: &LayeredConfig,
    seen: &Seen,
    others: &mut Vec<String>,
) -> bool {
    let Some(asked) = &live.uuid else { return true };
    if live.iso.is_some()
        || live
            .media
            .as_ref()
            .is_some_and(|spec| discover::matches(spec, seen))
    {
        return true;
    }
    match super::layered_uuid::check(sys, live.paths.medium, asked, seen) {
        Ok(()) => true,
        Err(carried) => {
            if !others.contains(&carried) {
                others.push(carried);
            }
            false
        }
    }
}

/// archiso's identity check: the device matches `archisodevice` (or the
/// label or UUID), or holds the marker file `archisosearchuuid` implies.
fn is_the_medium(sys: &impl Sys, live: &LayeredConfig, seen: &Seen) -> bool {
    live.media
        .as_ref()
        .is_some_and(|spec| discover::matches(spec, seen))
        || live.marker.as_ref().is_some_and(|marker| {
            let file = format!("{}/{}", live.paths.medium, marker.trim_start_matches('/'));
            sys.file_kind(&file) == Some(FileKind::File)
        })
        || (live.media.is_none() && live.marker.is_none())
}

/// The images to stack, bottom first, each with its filesystem.
fn images(
    sys: &impl Sys,
    paths: &StatePaths,
    dir: &str,
    choice: &ImageChoice,
    device: &str,
) -> Result<Vec<Image>, BootError> {
    let images_dir = layers::on_medium(paths, dir, "");
    let images_dir = images_dir.trim_end_matches('/');
    let entries = sys
        .read_dir(images_dir)
        .map_err(|e| BootError::sys(Stage::MountImage, images_dir, e))?;
    let names = match choice {
        ImageChoice::ModuleList(module) => {
            let listed = layers::module_lists(module).iter().find_map(|list| {
                let text = sys.read_file(&layers::on_medium(paths, dir, list)).ok()?;
                info!("images as listed in {dir}/{list}");
                Some(String::from_utf8_lossy(&text).into_owned())
            });
            let (names, missing) = layers::image_list(listed.as_deref(), &entries);
            for name in missing {
                warn!("{dir}/{name} is listed but not on {device}; skipped");
            }
            names
        }
        ImageChoice::NameChain(Some(leaf)) => {
            let chain = name_chain(leaf);
            let missing: Vec<String> = chain
                .iter()
                .filter(|n| !entries.contains(n))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(BootError::new(
                    Stage::MountImage,
                    format!("layerfs-path={leaf}"),
                    Cause::MissingLayers {
                        dir: images_dir.to_owned(),
                        missing,
                    },
                ));
            }
            chain
        }
        ImageChoice::NameChain(None) => flat_list(&entries),
        ImageChoice::Detect => {
            crate::grammar::no_keyword::detect(&entries).map_err(|candidates| {
                BootError::new(
                    Stage::MountImage,
                    device,
                    Cause::UnsettledLayers {
                        dir: images_dir.to_owned(),
                        candidates,
                    },
                )
            })?
        }
        ImageChoice::FirstOf(names) => names
            .iter()
            .find(|n| entries.contains(n))
            .cloned()
            .into_iter()
            .collect(),
    };
    if names.is_empty() {
        return Err(BootError::new(
            Stage::MountImage,
            images_dir,
            Cause::NoListedImages,
        ));
    }
    names
        .into_iter()
        .map(|name| {
            let file = layers::on_medium(paths, dir, &name);
            let fstype = if sys.file_kind(&file) == Some(FileKind::Dir) {
                None
            } else {
                let head = sys
                    .read_head(&file, PROBE_BYTES)
                    .map_err(|e| BootError::sys(Stage::MountImage, file.as_str(), e))?;
                let fs = probe::probe(&head).ok_or_else(|| {
                    BootError::new(Stage::MountImage, file.as_str(), Cause::NoFilesystem)
                })?;
                Some(fs.fstype)
            };
            Ok(Image { name, fstype })
        })
        .collect()
}

/// live-boot's fstab lines (§1.10); a root whose fstab cannot be written
/// still boots, with a warning.
fn add_fstab_lines(sys: &impl Sys, paths: &StatePaths) {
    let fstab = format!("{NEWROOT}/etc/fstab");
    let existing = sys
        .read_file(&fstab)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if let Some(text) = layers::fstab_with(paths, &existing) {
        if let Err(e) = sys.write_file(&fstab, text.as_bytes()) {
            warn!(
                "cannot add live-boot's lines to {fstab}: {}",
                super::error::errno_text(e)
            );
        }
    }
}
