//! Switching to the new root the way that works from an initramfs:
//! `pivot_root` cannot pivot away from rootfs, so move the new root onto `/`
//! and `chroot` into it (as util-linux `switch_root` and systemd's fallback
//! do), then free the initramfs memory by deleting its files.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::{AsFd, OwnedFd};

use rustix::fs::{self, AtFlags, Dir, FileType, Mode, OFlags};

use super::{fsops, mounts, SwitchError};

/// The API filesystems that move with the root; `/run` carries the live
/// state (`/run/initramfs/live`, `/run/rootfsbase`, …) to the real system.
const MOVED: [&str; 4] = ["/dev", "/proc", "/sys", "/run"];

const RAMFS_MAGIC: u64 = 0x8584_58f6;
const TMPFS_MAGIC: u64 = 0x0102_1994;

pub fn switch_root(new_root: &str) -> Result<(), SwitchError> {
    let fail = |step: &'static str, path: &str| {
        let path = path.to_owned();
        move |errno| SwitchError { step, path, errno }
    };
    for api in MOVED {
        let target = format!("{new_root}{api}");
        if fsops::file_kind(&target).is_none() {
            fsops::mkdir_all(&target).map_err(fail("create mount point", &target))?;
        }
        mounts::mount_move(api, &target).map_err(fail("move mount", api))?;
    }
    let old_root = fs::open(
        "/",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(fail("open", "/"))?;
    rustix::process::chdir(new_root).map_err(fail("chdir", new_root))?;
    mounts::mount_move(".", "/").map_err(fail("move mount", new_root))?;
    rustix::process::chroot(".").map_err(fail("chroot", new_root))?;
    rustix::process::chdir("/").map_err(fail("chdir", "/"))?;
    empty_initramfs(&old_root);
    super::console::reattach_console();
    Ok(())
}

/// Deletes the old root's files, but only if it is the initramfs (ramfs or
/// tmpfs), and never descends into another filesystem. Best effort: what
/// cannot be deleted only costs memory.
fn empty_initramfs(old_root: &OwnedFd) {
    let Ok(statfs) = fs::fstatfs(old_root) else {
        return;
    };
    let magic = u64::try_from(statfs.f_type).unwrap_or(0);
    if magic != RAMFS_MAGIC && magic != TMPFS_MAGIC {
        return;
    }
    let Ok(stat) = fs::fstat(old_root) else {
        return;
    };
    remove_children(old_root, stat.st_dev);
}

fn remove_children(dir: &OwnedFd, device: u64) {
    let Ok(entries) = Dir::read_from(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let Ok(stat) = fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        if stat.st_dev != device {
            continue;
        }
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            if let Ok(child) = fs::openat(
                dir.as_fd(),
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                remove_children(&child, device);
            }
            let _ = fs::unlinkat(dir.as_fd(), name, AtFlags::REMOVEDIR);
        } else {
            let _ = fs::unlinkat(dir.as_fd(), name, AtFlags::empty());
        }
    }
}
