//! The first things PID 1 does: API filesystems and a console.

#[allow(unused_imports)]
use crate::prelude::*;

use log::warn;

use super::error::{BootError, Stage};
use crate::sys::{Errno, MountFlags, Sys};

const KMSG_THROTTLE: &str = "/proc/sys/kernel/printk_devkmsg";

/// Mounts `/proc`, `/sys`, `/dev` (devtmpfs) and `/run` (tmpfs).
pub fn mount_api_filesystems(sys: &impl Sys) -> Result<(), BootError> {
    let locked = MountFlags {
        nosuid: true,
        nodev: true,
        noexec: true,
        ..MountFlags::RW
    };
    let table = [
        ("proc", "/proc", locked, ""),
        ("sysfs", "/sys", locked, ""),
        (
            "devtmpfs",
            "/dev",
            MountFlags {
                nosuid: true,
                ..MountFlags::RW
            },
            "mode=0755",
        ),
        (
            "tmpfs",
            "/run",
            MountFlags {
                nosuid: true,
                nodev: true,
                ..MountFlags::RW
            },
            "mode=0755",
        ),
    ];
    for (fstype, target, flags, data) in table {
        sys.mkdir_all(target)
            .map_err(|e| BootError::sys(Stage::EarlyMounts, format!("mkdir {target}"), e))?;
        match sys.mount(fstype, target, Some(fstype), flags, data) {
            // The kernel may have mounted devtmpfs itself.
            Ok(()) | Err(Errno::BUSY) => {}
            Err(e) => {
                return Err(BootError::sys(
                    Stage::EarlyMounts,
                    format!("mount {fstype} -> {target}"),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// Lifts the per-fd rate limit on `/dev/kmsg` (10 lines per 5 s by default)
/// so no boot message is lost. Returns the setting to restore before the
/// real init runs; `None` when nothing was changed.
pub fn unthrottle_kmsg(sys: &impl Sys) -> Option<Vec<u8>> {
    let old = sys.read_file(KMSG_THROTTLE).ok()?;
    if old.trim_ascii() != b"ratelimit" {
        return None;
    }
    // The kernel insists on the trailing newline. Fails when
    // printk.devkmsg= locked the setting on the command line: keep it then.
    sys.write_file(KMSG_THROTTLE, b"on\n").ok()?;
    Some(old)
}

pub fn restore_kmsg(sys: &impl Sys, old: Option<Vec<u8>>) {
    if let Some(old) = old {
        if let Err(e) = sys.write_file(KMSG_THROTTLE, &old) {
            warn!("could not restore {KMSG_THROTTLE}: {e}");
        }
    }
}
