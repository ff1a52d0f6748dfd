//! kiwi mode at boot (distro-live-spec §4.2): the `/run/overlay` tmpfs
//! first, the medium `root=live:` names found as dracut finds it, then the
//! container, the root filesystem image and the overlay, at kiwi's paths
//! ([`crate::plan::kiwi`]), the writable layer on the `cow` partition with
//! `rd.live.overlay.persistent` ([`cow`]).

mod cow;

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use super::discover::{self, Seen};
use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use super::modules::Loader;
use crate::config::{LiveConfig, LiveRoot};
use crate::grammar::kiwi::KiwiConfig;
use crate::plan::kiwi::{self as plan, CONTAINER, LIVE, ROOTFS_IMG};
use crate::policy::BreakPoint;
use crate::probe::{self, FsType, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// Builds kiwi's root at [`crate::plan::NEWROOT`].
pub fn mount_root<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    kiwi: &KiwiConfig,
    modules: &mut Loader,
    seen: &mut Option<Vec<Seen>>,
    stop: &dyn Fn(BreakPoint) -> Result<(), BootError>,
) -> Result<(), BootError> {
    let LiveRoot::Device(spec) = &cfg.root else {
        return Err(BootError::new(
            Stage::FindMedium,
            format!("root=live:{}", cfg.root),
            Cause::RootNotSupported,
        ));
    };
    Executor::new(sys, modules).run(
        Stage::AssembleRoot,
        &plan::overlay_tmpfs(&kiwi.overlay_size),
    )?;
    let devices = seen.insert(Vec::new());
    let found = discover::find_medium(sys, spec, cfg, modules, devices)?;
    let cow = kiwi
        .persistent
        .as_ref()
        .and_then(|cowfs| cow::find(sys, cfg, &found, cowfs));
    let medium = cow.as_ref().map_or(&found.device, |c| &c.medium);
    stop(BreakPoint::PreMount)?;
    let mut exec = Executor::new(sys, modules);
    exec.run(
        Stage::MountMedium,
        &plan::mount_medium(medium, found.fs.fstype),
    )?;
    let container = format!("{LIVE}/{}", cfg.in_live_dir(&cfg.squash_img));
    let fstype = fs_of(sys, &container)?;
    exec.run(
        Stage::MountImage,
        &plan::mount_container(&container, fstype),
    )?;
    let rootfs_img = format!("{CONTAINER}/{ROOTFS_IMG}");
    let base = match sys.file_kind(&rootfs_img) {
        Some(FileKind::File) => Some(fs_of(sys, &rootfs_img)?),
        _ => {
            info!("{container} holds no {ROOTFS_IMG}: it is the root itself");
            None
        }
    };
    exec.run(Stage::MountImage, &plan::mount_rootfsbase(base))?;
    let on_cow = cow.is_some_and(|c| cow::open(&mut exec, sys, &c));
    stop(BreakPoint::Mount)?;
    let root = plan::overlay_root(cfg.rootflags.as_deref());
    match exec.run(Stage::AssembleRoot, &root) {
        Err(e) if on_cow => {
            cow::temporary(&format!("the root on the cow partition: {e}"));
            let _ = sys.unmount(plan::OVERLAYFS);
            exec.run(Stage::AssembleRoot, &root)
        }
        done => done,
    }
}

/// The filesystem of the image file at `path`.
fn fs_of(sys: &impl Sys, path: &str) -> Result<FsType, BootError> {
    let head = sys
        .read_head(path, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::MountImage, path, e))?;
    probe::probe(&head)
        .map(|fs| fs.fstype)
        .ok_or_else(|| BootError::new(Stage::MountImage, path, Cause::NoFilesystem))
}
