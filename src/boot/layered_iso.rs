//! live-boot's `findiso=` / `fromiso=` at boot (distro-live-spec §1.4): a
//! candidate device whose filesystem holds the ISO file is mounted
//! read-only at `/run/live/findiso` (or `fromiso`), the file is attached
//! to a loop device, and that is mounted where the medium goes; the usual
//! check of the image directory then decides, as for any medium.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{self, Seen};
use super::error::{BootError, Cause, Stage};
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
    let host_mount = [
        Step::MakeDir {
            path: String::from(host.at),
        },
        Step::Mount {
            source: Source::Path(device.clone()),
            target: String::from(host.at),
            fstype: Some(fs.fstype.mount_type()),
            flags: MountFlags {
                noatime: true,
                ..MountFlags::DATA_RO
            },
            data: String::new(),
        },
    ];
    if let Err(e) = exec.run(Stage::IsoScan, &host_mount) {
        warn!("{}: {e}", host.option);
        return false;
    }
    let file = format!("{}{}", host.at, host.path);
    let mounted = sys.file_kind(&file) == Some(FileKind::File)
        && match attach_and_mount(sys, &mut exec, live, &file) {
            Ok(iso) => {
                info!(
                    "{}: {} on {device}, attached as {iso}",
                    host.option, host.path
                );
                true
            }
            Err(e) => {
                warn!("{}: {e}", host.option);
                false
            }
        };
    if !mounted {
        unmount(sys, host.at);
    }
    mounted
}

/// The ISO `file` on a loop device, mounted where the medium goes.
fn attach_and_mount<S: Sys>(
    sys: &S,
    exec: &mut Executor<'_, S>,
    live: &LayeredConfig,
    file: &str,
) -> Result<String, BootError> {
    exec.run(
        Stage::IsoScan,
        &[Step::AttachLoop {
            slot: LoopSlot::Iso,
            backing: String::from(file),
            read_only: true,
        }],
    )?;
    let iso = String::from(exec.loop_device(LoopSlot::Iso).unwrap_or_default());
    let head = sys
        .read_head(&iso, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::IsoScan, iso.as_str(), e))?;
    let fs = probe::probe(&head)
        .ok_or_else(|| BootError::new(Stage::IsoScan, file, Cause::NoFilesystem))?;
    exec.run(
        Stage::FindMedium,
        &layers::mount_medium(live.paths, &iso, fs.fstype),
    )?;
    Ok(iso)
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
