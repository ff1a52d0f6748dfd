//! From the found medium to a mounted new root: the three plan phases,
//! with the checks between them that decide the next phase.

use super::discover::Found;
use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use crate::config::LiveConfig;
use crate::plan::{self, Medium, SQUASH_MNT};
use crate::probe::{self, FsType, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// Mounts the medium, then the image on it, then the writable root.
pub fn prepare_root<S: Sys>(sys: &S, cfg: &LiveConfig, found: &Found) -> Result<(), BootError> {
    let mut exec = Executor::new(sys);
    let medium = Medium {
        device: &found.device,
        fstype: found.fs.fstype,
    };
    let steps = plan::mount_medium(cfg, medium)
        .map_err(|e| BootError::new(Stage::MountMedium, found.device.clone(), Cause::Plan(e)))?;
    exec.run(Stage::MountMedium, &steps)?;

    let image = plan::image_file(cfg);
    let fstype = image_fstype(sys, cfg, found, &image)?;
    exec.run(Stage::MountImage, &plan::mount_image(cfg, fstype))?;

    let layout = plan::classify_image(
        sys.file_kind(&format!("{SQUASH_MNT}/usr")).is_some(),
        sys.file_kind(&format!("{SQUASH_MNT}/ostree")).is_some(),
    )
    .ok_or_else(|| no_root_in_image(sys, &image))?;
    exec.run(Stage::AssembleRoot, &plan::assemble_root(layout))
}

/// Checks the image exists and is a squashfs or EROFS image.
fn image_fstype(
    sys: &impl Sys,
    cfg: &LiveConfig,
    found: &Found,
    image: &str,
) -> Result<FsType, BootError> {
    if sys.file_kind(image) != Some(FileKind::File) {
        let listing = sys
            .read_dir(plan::LIVE_MNT)
            .map(|names| names.join(" "))
            .unwrap_or_default();
        return Err(BootError::message(
            Stage::MountImage,
            image,
            format!(
                "not found on {} (rd.live.dir={}, rd.live.squashimg={}); the medium's top level has: {}",
                found.device,
                cfg.live_dir,
                cfg.squash_img,
                if listing.is_empty() { "nothing" } else { &listing }
            ),
        ));
    }
    let head = sys
        .read_head(image, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::MountImage, image, e))?;
    match probe::probe(&head).map(|fs| fs.fstype) {
        Some(t @ (FsType::Squashfs | FsType::Erofs)) => Ok(t),
        Some(other) => Err(BootError::message(
            Stage::MountImage,
            image,
            format!("is {}, expected a squashfs or EROFS image", other.as_str()),
        )),
        None => Err(BootError::message(
            Stage::MountImage,
            image,
            "is neither a squashfs nor an EROFS image (damaged or truncated?)",
        )),
    }
}

fn no_root_in_image(sys: &impl Sys, image: &str) -> BootError {
    let nested = format!("{SQUASH_MNT}/LiveOS/rootfs.img");
    let text = if sys.file_kind(&nested).is_some() {
        "holds LiveOS/rootfs.img; nested root images are not supported yet".to_owned()
    } else {
        "holds no root filesystem: neither /usr, /ostree nor LiveOS/rootfs.img".to_owned()
    };
    BootError::message(Stage::AssembleRoot, image, text)
}
