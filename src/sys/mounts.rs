//! Mounting and unmounting.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::ffi::CString;

use rustix::io::Errno;
use rustix::mount::{self, MountFlags as MsFlags, UnmountFlags};

use super::MountFlags;

pub fn mount(
    source: &str,
    target: &str,
    fstype: Option<&str>,
    flags: MountFlags,
    data: &str,
) -> Result<(), Errno> {
    let mut ms = MsFlags::empty();
    for (on, flag) in [
        (flags.read_only, MsFlags::RDONLY),
        (flags.bind, MsFlags::BIND),
        (flags.nosuid, MsFlags::NOSUID),
        (flags.nodev, MsFlags::NODEV),
        (flags.noexec, MsFlags::NOEXEC),
        (flags.noatime, MsFlags::NOATIME),
        (flags.nodiratime, MsFlags::NODIRATIME),
    ] {
        if on {
            ms |= flag;
        }
    }
    let data = if data.is_empty() {
        None
    } else {
        Some(CString::new(data).map_err(|_| Errno::INVAL)?)
    };
    mount::mount(source, target, fstype.unwrap_or(""), ms, data.as_deref())
}

pub fn detach(target: &str) -> Result<(), Errno> {
    mount::unmount(target, UnmountFlags::DETACH)
}

pub fn unmount(target: &str) -> Result<(), Errno> {
    mount::unmount(target, UnmountFlags::empty())
}

/// `mount -o remount,<data> <target>`, keeping the mount's flags.
pub fn remount(target: &str, data: &str) -> Result<(), Errno> {
    let data = CString::new(data).map_err(|_| Errno::INVAL)?;
    mount::mount_remount(target, MsFlags::empty(), &data)
}

pub fn mount_move(from: &str, to: &str) -> Result<(), Errno> {
    mount::mount_move(from, to)
}
