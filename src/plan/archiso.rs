//! archiso's writable layer (distro-live-spec §3.4, §3.6): the COW space
//! at `/run/archiso/cowspace` is a tmpfs, or the filesystem `cow_label=` /
//! `cow_device=` names; when the image holds `airootfs.img` (archiso's
//! ext4-in-squashfs build), the root is the dm-snapshot `arch_airootfs` of
//! that image over a COW file in that space, else archiso's overlayfs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::layers::ARCHISO;
use super::root::snapshot_of_base;
use super::{mkdir, path, split_mount_options, LoopSlot, MountFlags, Source, Step, NEWROOT};
use crate::probe::FsType;

/// The snapshot's name (archiso's `<dm_snap_prefix>_<image name>`).
pub const DM_SNAPSHOT: &str = "arch_airootfs";
/// The filesystem image inside the mounted image that selects the snapshot.
pub const NESTED_IMAGE: &str = "airootfs.img";
/// The COW file's name in `cow_directory`.
pub const COW_FILE_NAME: &str = "airootfs.cow";
/// The snapshot's mode. archiso's `N` (and `P`) stores invalidate the
/// snapshot when full, after which every read of the root fails; a
/// persistent store with overflow support (`PO`, as dracut's path uses)
/// turns the root read-only instead. With `N` the file is unlinked at
/// once, so nothing of it outlives the boot either way.
pub const SNAPSHOT_MODE: &str = "PO";

/// `<cowspace>/<cow_directory>`.
pub fn cow_holder(cow_dir: &str) -> String {
    let cow_dir = cow_dir.trim_matches('/');
    if cow_dir.is_empty() {
        String::from(ARCHISO.overlay)
    } else {
        format!("{}/{cow_dir}", ARCHISO.overlay)
    }
}

/// The device holding the COW space, mounted read-only with `cow_flags`
/// (archiso remounts it read-write next: read-only first lets it be the
/// boot medium itself).
pub fn mount_cow_device(device: &str, fstype: FsType, cow_flags: &str) -> Vec<Step> {
    let (mut flags, data) = split_mount_options(cow_flags, MountFlags::RO);
    flags.read_only = true;
    Vec::from([
        mkdir(ARCHISO.overlay),
        Step::Mount {
            source: path(device),
            target: String::from(ARCHISO.overlay),
            fstype: Some(fstype.mount_type()),
            flags,
            data,
        },
    ])
}

/// `airootfs.img` attached read-only as the origin, the COW file (made
/// first, of `create` bytes, when given) attached read-write, and the
/// snapshot table over both.
pub fn snapshot(image: &str, cow_file: &str, create: Option<u64>, chunk: &str) -> Vec<Step> {
    let mut steps = Vec::from([Step::AttachLoop {
        slot: LoopSlot::Base,
        backing: String::from(image),
        read_only: true,
    }]);
    if let Some(bytes) = create {
        steps.push(Step::CreateSparse {
            path: String::from(cow_file),
            bytes,
        });
    }
    steps.extend([
        Step::AttachLoop {
            slot: LoopSlot::Cow,
            backing: String::from(cow_file),
            read_only: false,
        },
        snapshot_of_base(
            DM_SNAPSHOT,
            Source::Loop(LoopSlot::Base),
            Source::Loop(LoopSlot::Cow),
            SNAPSHOT_MODE,
            chunk,
        ),
    ]);
    steps
}

/// `/dev/mapper/arch_airootfs` mounted read-write as the new root.
pub fn mount_snapshot(fstype: FsType) -> [Step; 2] {
    [
        mkdir(NEWROOT),
        Step::Mount {
            source: Source::Path(format!("/dev/mapper/{DM_SNAPSHOT}")),
            target: String::from(NEWROOT),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags::RW,
            data: String::new(),
        },
    ]
}

/// The bytes a tmpfs-style size means (`256M`, `1G`, `512k`, bytes, or a
/// share of `mem_total` bytes with `%`); `None` if it is not one.
pub fn size_bytes(size: &str, mem_total: Option<u64>) -> Option<u64> {
    let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
    let n: u64 = digits.parse().ok()?;
    let shift = |bits: u32| n.checked_mul(1u64 << bits);
    match size.get(digits.len()..)? {
        "" => Some(n),
        "k" | "K" => shift(10),
        "m" | "M" => shift(20),
        "g" | "G" => shift(30),
        "%" => mem_total.map(|m| (m / 100).saturating_mul(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_snapshot_is_archisos_table_with_overflow() {
        let cow = "/run/archiso/cowspace/persistent_/x86_64/airootfs.cow";
        let steps: Vec<String> = snapshot(
            "/run/archiso/airootfs/airootfs.img",
            cow,
            Some(256 << 20),
            "8",
        )
        .iter()
        .chain(&mount_snapshot(FsType::Ext4))
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            steps,
            [
                "attach loop <- /run/archiso/airootfs/airootfs.img (ro)",
                "create sparse /run/archiso/cowspace/persistent_/x86_64/airootfs.cow (256 MiB)",
                "attach loop <- /run/archiso/cowspace/persistent_/x86_64/airootfs.cow (rw)",
                "dm create arch_airootfs: 0 <sectors of <base loop>> snapshot <base loop> \
                 <cow loop> PO 8",
                "mkdir /sysroot",
                "mount /dev/mapper/arch_airootfs -> /sysroot (ext4, rw)",
            ]
        );
        // A kept file is reused as it is.
        assert!(!snapshot("/i", cow, None, "16")
            .iter()
            .any(|s| matches!(s, Step::CreateSparse { .. })));
    }

    #[test]
    fn the_cow_device_is_mounted_read_only_with_its_flags() {
        let steps: Vec<String> = mount_cow_device("/dev/vdb", FsType::Ext4, "noatime,commit=5")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "mkdir /run/archiso/cowspace",
                "mount /dev/vdb -> /run/archiso/cowspace (ext4, ro, noatime, commit=5)",
            ]
        );
        assert_eq!(cow_holder("/a/b/"), "/run/archiso/cowspace/a/b");
        assert_eq!(cow_holder(""), "/run/archiso/cowspace");
    }

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("256M", None), Some(256 << 20));
        assert_eq!(size_bytes("1g", None), Some(1 << 30));
        assert_eq!(size_bytes("4096", None), Some(4096));
        assert_eq!(size_bytes("8k", None), Some(8192));
        assert_eq!(size_bytes("50%", Some(1000)), Some(500));
        assert_eq!(size_bytes("50%", None), None);
        assert_eq!(size_bytes("big", None), None);
        assert_eq!(size_bytes("1T", None), None);
    }
}
