//! kiwi-live's root (distro-live-spec §4.2): the steps, in kiwi's order
//! and at kiwi's paths, once the medium is found.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{LoopSlot, MountFlags, Source, Step, NEWROOT};
use crate::probe::FsType;

/// The tmpfs holding all of kiwi's state.
pub const RUN_OVERLAY: &str = "/run/overlay";
/// The medium, read-only.
pub const LIVE: &str = "/run/overlay/live";
/// A symlink to the medium's device.
pub const ISODEV: &str = "/run/overlay/isodev";
/// The squashfs container (`LiveOS/squashfs.img`).
pub const CONTAINER: &str = "/run/overlay/squashfs_container";
/// The root filesystem image (`LiveOS/rootfs.img` in the container), or
/// the container itself when it is the root.
pub const ROOTFSBASE: &str = "/run/overlay/rootfsbase";
/// Where the writable layer's directories are: in the tmpfs, or the
/// mount point of the `cow` partition (kiwi's persistent mode).
pub const OVERLAYFS: &str = "/run/overlay/overlayfs";
/// The label of kiwi's persistent write partition.
pub const COW_LABEL: &str = "cow";
/// The writable layer's upper and work directories.
pub const UPPER: &str = "/run/overlay/overlayfs/rw";
pub const WORK: &str = "/run/overlay/overlayfs/work";
/// The root overlay's source name, which kiwi's generator gives it.
pub const SOURCE: &str = "LiveOS_rootfs";
/// The root filesystem image inside the container.
pub const ROOTFS_IMG: &str = "LiveOS/rootfs.img";

fn mkdir(path: &str) -> Step {
    Step::MakeDir {
        path: String::from(path),
    }
}

fn ro_noatime() -> MountFlags {
    MountFlags {
        noatime: true,
        ..MountFlags::RO
    }
}

/// kiwi's first step: the `/run/overlay` tmpfs, sized by
/// `rd.live.overlay.size` as tmpfs reads it.
pub fn overlay_tmpfs(size: &str) -> Vec<Step> {
    Vec::from([
        mkdir(RUN_OVERLAY),
        Step::Mount {
            source: Source::Path(String::from("tmpfs")),
            target: String::from(RUN_OVERLAY),
            fstype: Some("tmpfs"),
            flags: MountFlags::RW,
            data: format!("mode=755,size={size}"),
        },
        mkdir(UPPER),
        mkdir(WORK),
    ])
}

/// The medium read-only at [`LIVE`], and [`ISODEV`] naming its device.
pub fn mount_medium(device: &str, fstype: FsType) -> Vec<Step> {
    Vec::from([
        mkdir(LIVE),
        Step::Mount {
            source: Source::Path(String::from(device)),
            target: String::from(LIVE),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags::DATA_RO,
            data: String::new(),
        },
        Step::Symlink {
            target: Source::Path(String::from(device)),
            link: String::from(ISODEV),
        },
    ])
}

/// The container file (on the medium) attached and mounted at [`CONTAINER`].
pub fn mount_container(file: &str, fstype: FsType) -> Vec<Step> {
    Vec::from([
        Step::AttachLoop {
            slot: LoopSlot::Image,
            backing: String::from(file),
            read_only: true,
        },
        mkdir(CONTAINER),
        Step::Mount {
            source: Source::Loop(LoopSlot::Image),
            target: String::from(CONTAINER),
            fstype: Some(fstype.mount_type()),
            flags: ro_noatime(),
            data: String::new(),
        },
    ])
}

/// [`ROOTFSBASE`]: `rootfs.img` of the container (with its filesystem),
/// or with none the container itself, bound.
pub fn mount_rootfsbase(rootfs_img: Option<FsType>) -> Vec<Step> {
    let mount = match rootfs_img {
        Some(fstype) => {
            return Vec::from([
                Step::AttachLoop {
                    slot: LoopSlot::Base,
                    backing: format!("{CONTAINER}/{ROOTFS_IMG}"),
                    read_only: true,
                },
                mkdir(ROOTFSBASE),
                Step::Mount {
                    source: Source::Loop(LoopSlot::Base),
                    target: String::from(ROOTFSBASE),
                    fstype: Some(fstype.mount_type()),
                    flags: ro_noatime(),
                    data: String::new(),
                },
            ])
        }
        None => Step::Mount {
            source: Source::Path(String::from(CONTAINER)),
            target: String::from(ROOTFSBASE),
            fstype: None,
            flags: MountFlags::BIND,
            data: String::new(),
        },
    };
    Vec::from([mkdir(ROOTFSBASE), mount])
}

/// kiwi's persistent mode: the `cow` partition mounted at [`OVERLAYFS`]
/// (over the tmpfs's directories), with the upper and work directories
/// made on it when missing.
pub fn mount_cow(device: &str, fstype: FsType) -> Vec<Step> {
    let mut steps = super::layered_persist::mount_volume(device, fstype, OVERLAYFS, false);
    steps.extend([mkdir(UPPER), mkdir(WORK)]);
    steps
}

/// The root: overlayfs `LiveOS_rootfs` over [`ROOTFSBASE`], `rootflags=`
/// first as kiwi's generator writes them.
pub fn overlay_root(rootflags: Option<&str>) -> Vec<Step> {
    let dirs = format!("lowerdir={ROOTFSBASE},upperdir={UPPER},workdir={WORK}");
    Vec::from([
        mkdir(NEWROOT),
        Step::Mount {
            source: Source::Path(String::from(SOURCE)),
            target: String::from(NEWROOT),
            fstype: Some("overlay"),
            flags: MountFlags::RW,
            data: match rootflags {
                Some(flags) if !flags.is_empty() => format!("{flags},{dirs}"),
                _ => dirs,
            },
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn kiwis_paths_and_order() {
        let steps: Vec<String> = overlay_tmpfs("25%")
            .iter()
            .chain(&mount_medium("/dev/sr0", FsType::Iso9660))
            .chain(&mount_container(
                "/run/overlay/live/LiveOS/squashfs.img",
                FsType::Squashfs,
            ))
            .chain(&mount_rootfsbase(Some(FsType::Ext4)))
            .chain(&overlay_root(None))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps[1],
            "mount tmpfs -> /run/overlay (tmpfs, rw, mode=755,size=25%)"
        );
        assert!(steps
            .iter()
            .any(|s| s.contains("-> /run/overlay/live (iso9660, ro")));
        assert!(steps
            .iter()
            .any(|s| s.contains("-> /run/overlay/rootfsbase (ext4, ro, noatime)")));
        assert_eq!(
            steps.last().map(String::as_str),
            Some(
                "mount LiveOS_rootfs -> /sysroot (overlay, rw, lowerdir=/run/overlay/rootfsbase,\
                 upperdir=/run/overlay/overlayfs/rw,workdir=/run/overlay/overlayfs/work)"
            )
        );
        let bound: Vec<String> = mount_rootfsbase(None)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            bound[1],
            "mount /run/overlay/squashfs_container -> /run/overlay/rootfsbase (bind)"
        );
        let cow: Vec<String> = mount_cow("/dev/vda2", FsType::Ext4)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            cow[1..],
            [
                "mount /dev/vda2 -> /run/overlay/overlayfs (ext4, rw, noatime)",
                "mkdir /run/overlay/overlayfs/rw",
                "mkdir /run/overlay/overlayfs/work"
            ]
        );
        assert!(overlay_root(Some("noatime"))[1]
            .to_string()
            .contains("(overlay, rw, noatime,lowerdir="));
    }
}
