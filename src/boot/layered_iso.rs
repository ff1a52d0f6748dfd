//! live-boot's `findiso=` / `fromiso=` at boot (distro-live-spec §1.4): a
//! candidate device whose filesystem holds the ISO file is mounted
//! read-only at `/run/live/findiso` (or `fromiso`), the file is attached
//! to a loop device, and that is mounted where the medium goes; the usual
//! check of the image directory then decides, as for any medium.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{self, Seen};
use super::error::Stage;
use super::execute::Executor;
use super::modules::Loader;
use crate::grammar::iso_host::IsoHost;
use crate::grammar::LayeredConfig;
use crate::plan::iso_scan::can_hold_files;
use crate::plan::layers;
use crate::plan::{LoopSlot, MountFlags, Source, Step};
use crate::probe::{self, PROBE_BYTES};
use crate::sys::{Errno, FileKind, Sys};

/// Mounts the ISO file on `seen` at the medium's place; false if `seen`
/// is not the device asked for or does not hold the file (nothing is left
/// mounted then).
pub fn mount<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    live: &LayeredConfig,
    host: &IsoHost,
    seen: &Seen,
) -> bool {
    if host
        .device
        .as_ref()
        .is_some_and(|spec| !discover::matches(spec, seen))
    {
        return false;
    }
    let Some(fs) = seen.fs.as_ref().filter(|fs| can_hold_files(fs.fstype)) else {
        return false;
    };
    let device = format!("/dev/{}", seen.name);
    let mut exec = Executor::new(sys, modules);
    let mount_host = [
        Step::MakeDir {
            path: String::from(host.at),
        },
        Step::Mount {
            source: Source::Path(device.clone()),
            target: String::from(host.at),
            fstype: Some(fs.fstype.mount_type()),
            flags: MountFlags {
                noatime: true,
                nosuid: true,
                nodev: true,
                ..MountFlags::RO
            },
            data: String::new(),
        },
    ];
    if let Err(e) = exec.run(Stage::IsoScan, &mount_host) {
        warn!("{}: {e}", host.option);
        return false;
    }
    let file = format!("{}{}", host.at, host.path);
    if sys.file_kind(&file) != Some(FileKind::File) {
        info!("{device} does not hold {} ({})", host.path, host.option);
        unmount(sys, host.at);
        return false;
    }
    let attached = exec.run(
        Stage::IsoScan,
        &[Step::AttachLoop {
            slot: LoopSlot::Iso,
            backing: file.clone(),
            read_only: true,
        }],
    );
    let iso = match (attached, exec.loop_device(LoopSlot::Iso)) {
        (Ok(()), Some(iso)) => String::from(iso),
        (Err(e), _) => {
            warn!("{}: {e}", host.option);
            unmount(sys, host.at);
            return false;
        }
        (Ok(()), None) => {
            unmount(sys, host.at);
            return false;
        }
    };
    let iso_fs = sys
        .read_head(&iso, PROBE_BYTES)
        .ok()
        .and_then(|head| probe::probe(&head));
    let mounted = match iso_fs {
        Some(iso_fs) => exec
            .run(
                Stage::FindMedium,
                &layers::mount_medium(live.paths, &iso, iso_fs.fstype),
            )
            .map_err(|e| warn!("{}: {e}", host.option))
            .is_ok(),
        None => {
            warn!(
                "{}: {file} holds no filesystem liveinit recognises",
                host.option
            );
            false
        }
    };
    if mounted {
        info!(
            "{}: {} on {device}, attached as {iso}",
            host.option, host.path
        );
    } else {
        unmount(sys, host.at);
    }
    mounted
}

/// Lets go of the filesystem holding the ISO. Its loop device lets go of
/// the file a moment after the ISO's own mount is gone (the kernel clears
/// it asynchronously), so a busy filesystem is detached lazily: it goes
/// as soon as the loop does, with no wait here.
pub fn unmount(sys: &impl Sys, at: &str) {
    let done = match sys.unmount(at) {
        Err(e) if e == Errno::BUSY => sys.detach(at),
        other => other,
    };
    if let Err(e) = done {
        warn!("umount {at}: {}", super::error::errno_text(e));
    }
}
