//! `iso-scan/filename=` (docs/dracut-live.md §3.12): the steps that look
//! for the ISO file on one filesystem and, once it is there, attach it.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{mkdir, path, symlink, LoopSlot, MountFlags, Source, Step};
use crate::probe::FsType;

/// Where each filesystem is mounted while the file is looked for; the one
/// holding it stays mounted there (the loop device reads from it).
pub const ISOSCAN_MNT: &str = "/run/initramfs/isoscan";
/// Symlink to the device whose filesystem holds the ISO, as dracut leaves it.
pub const ISOSCAN_DEV_LINK: &str = "/run/initramfs/isoscandev";

/// Whether a filesystem can hold the ISO file: an image filesystem
/// (squashfs, EROFS) is a root, not a place to keep files on.
pub fn can_hold_files(fstype: FsType) -> bool {
    !matches!(fstype, FsType::Squashfs | FsType::Erofs)
}

/// Mounts `device` read-only at [`ISOSCAN_MNT`]: like the medium, data
/// from a disk anyone could have written, so no set-user-ID and no devices.
pub fn mount_candidate(device: &str, fstype: FsType) -> Vec<Step> {
    vec![
        mkdir(ISOSCAN_MNT),
        Step::Mount {
            source: path(device),
            target: String::from(ISOSCAN_MNT),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags::DATA_RO,
            data: String::new(),
        },
    ]
}

/// The file at `iso_path` (absolute on the mounted filesystem).
pub fn iso_file(iso_path: &str) -> String {
    format!("{ISOSCAN_MNT}/{}", iso_path.trim_start_matches('/'))
}

/// Attaches the ISO read-only and records the device that holds it.
pub fn attach_iso(device: &str, iso_path: &str) -> Vec<Step> {
    vec![
        Step::AttachLoop {
            slot: LoopSlot::Iso,
            backing: iso_file(iso_path),
            read_only: true,
        },
        symlink(Source::Path(String::from(device)), ISOSCAN_DEV_LINK),
    ]
}

/// `root=live:/x.iso`: the ISO file in the initramfs, attached read-only.
pub fn attach_initramfs_iso(path: &str) -> Vec<Step> {
    vec![Step::AttachLoop {
        slot: LoopSlot::Iso,
        backing: String::from(path),
        read_only: true,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn a_candidate_is_mounted_read_only_nosuid_nodev() {
        let steps: Vec<String> = mount_candidate("/dev/vda1", FsType::Ext4)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "mkdir /run/initramfs/isoscan",
                "mount /dev/vda1 -> /run/initramfs/isoscan (ext4, ro, nosuid, nodev)"
            ]
        );
    }

    #[test]
    fn the_iso_is_attached_from_the_mounted_filesystem() {
        let steps: Vec<String> = attach_iso("/dev/vda1", "/isos/live.iso")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "attach loop <- /run/initramfs/isoscan/isos/live.iso (ro)",
                "symlink /run/initramfs/isoscandev -> /dev/vda1"
            ]
        );
        assert!(!can_hold_files(FsType::Squashfs));
        assert!(can_hold_files(FsType::Vfat));
    }
}
