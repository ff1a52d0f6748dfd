//! The boot plan: ordered steps (mount, attach a loop device, link…)
//! decided from the configuration and from what discovery found.
//!
//! Planning is pure, so every layout's plan is unit-tested as data and the
//! same plan can be shown to a user before anything runs. The orchestrator
//! executes the steps; loop devices are only known at run time, so steps
//! refer to them through a [`LoopSlot`].

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::config::LiveConfig;
use crate::probe::FsType;

/// Where the live medium is mounted (and stays mounted for the real root).
pub const LIVE_MNT: &str = "/run/initramfs/live";
/// Symlink to the medium's device node.
pub const LIVEDEV_LINK: &str = "/run/initramfs/livedev";
/// Where the squashfs (or EROFS) image is mounted.
pub const SQUASH_MNT: &str = "/run/initramfs/squashfs";
/// The read-only lower layer of the overlay.
pub const ROOTFSBASE: &str = "/run/rootfsbase";
/// The directory holding the temporary overlay's upper and work dirs.
pub const OVERLAY_DIR: &str = "/run/initramfs/overlay";
/// Upper dir link, as dracut ≥ 100 leaves it.
pub const UPPER_LINK: &str = "/run/overlayfs";
/// Work dir link, as dracut ≥ 100 leaves it.
pub const WORK_LINK: &str = "/run/ovlwork";
/// The new root, before the switch.
pub const NEWROOT: &str = "/sysroot";
/// The overlay's source name, which live userspace recognises.
pub const OVERLAY_SOURCE: &str = "LiveOS_rootfs";

/// A loop device whose name is only known once it is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopSlot {
    /// The compressed image (`squashfs.img`).
    Image,
}

/// What a mount's source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A device node or directory path, or a name like `LiveOS_rootfs`.
    Path(String),
    /// The device attached for a slot by an earlier step.
    Loop(LoopSlot),
}

/// Mount flags the plan uses (a subset of `MS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountFlags {
    pub read_only: bool,
    pub bind: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
}

impl MountFlags {
    pub const RW: MountFlags = MountFlags {
        read_only: false,
        bind: false,
        nosuid: false,
        nodev: false,
        noexec: false,
    };
    pub const RO: MountFlags = MountFlags {
        read_only: true,
        ..MountFlags::RW
    };
    pub const BIND: MountFlags = MountFlags {
        bind: true,
        ..MountFlags::RW
    };
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    MakeDir {
        path: String,
    },
    Mount {
        source: Source,
        target: String,
        /// `None` for bind mounts.
        fstype: Option<&'static str>,
        flags: MountFlags,
        /// Filesystem-specific options (`lowerdir=…` for overlayfs).
        data: String,
    },
    AttachLoop {
        slot: LoopSlot,
        backing: String,
        read_only: bool,
    },
    Symlink {
        target: String,
        link: String,
    },
    /// Lazy unmount: the mount goes away once nothing uses it.
    Detach {
        path: String,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(p) => f.write_str(p),
            Source::Loop(LoopSlot::Image) => f.write_str("<image loop>"),
        }
    }
}

impl fmt::Display for Step {
    /// How the step reads in logs, errors and `liveinit explain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::MakeDir { path } => write!(f, "mkdir {path}"),
            Step::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => {
                write!(f, "mount {source} -> {target} (")?;
                if flags.bind {
                    f.write_str("bind")?;
                } else {
                    f.write_str(fstype.unwrap_or("auto"))?;
                }
                f.write_str(if flags.read_only { ", ro" } else { ", rw" })?;
                if !data.is_empty() {
                    write!(f, ", {data}")?;
                }
                f.write_str(")")
            }
            Step::AttachLoop {
                backing, read_only, ..
            } => write!(
                f,
                "attach loop <- {backing} ({})",
                if *read_only { "ro" } else { "rw" }
            ),
            Step::Symlink { target, link } => write!(f, "symlink {link} -> {target}"),
            Step::Detach { path } => write!(f, "detach {path}"),
        }
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The medium's filesystem is not something liveinit can boot from yet.
    UnsupportedMedium(FsType),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::UnsupportedMedium(t) => write!(
                f,
                "a live medium formatted {} is not supported yet",
                t.as_str()
            ),
        }
    }
}

/// The medium that discovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Medium<'a> {
    /// Device node, e.g. `/dev/sr0`.
    pub device: &'a str,
    pub fstype: FsType,
}

/// What the mounted image turned out to contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageLayout {
    /// The image is the root filesystem itself (it has `/usr` or `/ostree`).
    Flattened,
}

/// Phase 1: mount the medium at [`LIVE_MNT`] and record its device.
pub fn mount_medium(cfg: &LiveConfig, medium: Medium<'_>) -> Result<Vec<Step>, PlanError> {
    match medium.fstype {
        FsType::Squashfs | FsType::Erofs => Err(PlanError::UnsupportedMedium(medium.fstype)),
        FsType::Iso9660 | FsType::Ext2 | FsType::Ext3 | FsType::Ext4 => Ok(vec![
            mkdir(LIVE_MNT),
            Step::Mount {
                source: Source::Path(String::from(medium.device)),
                target: String::from(LIVE_MNT),
                fstype: Some(medium.fstype.as_str()),
                flags: if cfg.medium_rw {
                    MountFlags::RW
                } else {
                    MountFlags::RO
                },
                data: String::new(),
            },
            Step::Symlink {
                target: String::from(medium.device),
                link: String::from(LIVEDEV_LINK),
            },
        ]),
    }
}

/// The image file on the mounted medium.
pub fn image_file(cfg: &LiveConfig) -> String {
    alloc::format!("{LIVE_MNT}/{}", cfg.image_path())
}

/// Phase 2: attach the image read-only and mount it at [`SQUASH_MNT`].
pub fn mount_image(cfg: &LiveConfig, image_fstype: FsType) -> Vec<Step> {
    vec![
        Step::AttachLoop {
            slot: LoopSlot::Image,
            backing: image_file(cfg),
            read_only: true,
        },
        mkdir(SQUASH_MNT),
        Step::Mount {
            source: Source::Loop(LoopSlot::Image),
            target: String::from(SQUASH_MNT),
            fstype: Some(image_fstype.as_str()),
            flags: MountFlags::RO,
            data: String::new(),
        },
    ]
}

/// Decides the layout from what the mounted image holds (spec §3.3 D).
pub fn classify_image(has_usr: bool, has_ostree: bool) -> Option<ImageLayout> {
    (has_usr || has_ostree).then_some(ImageLayout::Flattened)
}

/// Phase 3: stack the writable layer and mount the new root at [`NEWROOT`].
pub fn assemble_root(layout: ImageLayout) -> Vec<Step> {
    match layout {
        ImageLayout::Flattened => {
            let upper = alloc::format!("{OVERLAY_DIR}/overlayfs");
            let work = alloc::format!("{OVERLAY_DIR}/ovlwork");
            vec![
                mkdir(ROOTFSBASE),
                Step::Mount {
                    source: Source::Path(String::from(SQUASH_MNT)),
                    target: String::from(ROOTFSBASE),
                    fstype: None,
                    flags: MountFlags::BIND,
                    data: String::new(),
                },
                mkdir(&upper),
                mkdir(&work),
                Step::Symlink {
                    target: upper,
                    link: String::from(UPPER_LINK),
                },
                Step::Symlink {
                    target: work,
                    link: String::from(WORK_LINK),
                },
                mkdir(NEWROOT),
                Step::Mount {
                    source: Source::Path(String::from(OVERLAY_SOURCE)),
                    target: String::from(NEWROOT),
                    fstype: Some("overlay"),
                    flags: MountFlags::RW,
                    data: alloc::format!(
                        "lowerdir={ROOTFSBASE},upperdir={UPPER_LINK},workdir={WORK_LINK}"
                    ),
                },
                // The bind at ROOTFSBASE keeps the image mounted.
                Step::Detach {
                    path: String::from(SQUASH_MNT),
                },
            ]
        }
    }
}

fn mkdir(path: &str) -> Step {
    Step::MakeDir {
        path: String::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;
    use alloc::string::ToString;

    fn cfg(text: &str) -> LiveConfig {
        LiveConfig::from_cmdline(&Cmdline::parse(text)).unwrap()
    }

    fn lines(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn medium_is_mounted_read_only_unless_rw() {
        let medium = Medium {
            device: "/dev/sr0",
            fstype: FsType::Iso9660,
        };
        let steps = mount_medium(&cfg("root=live:LABEL=x"), medium).unwrap();
        assert_eq!(
            lines(&steps),
            [
                "mkdir /run/initramfs/live",
                "mount /dev/sr0 -> /run/initramfs/live (iso9660, ro)",
                "symlink /run/initramfs/livedev -> /dev/sr0",
            ]
        );
        let rw = mount_medium(&cfg("root=live:LABEL=x rw"), medium).unwrap();
        assert_eq!(
            rw[1].to_string(),
            "mount /dev/sr0 -> /run/initramfs/live (iso9660, rw)"
        );
    }

    #[test]
    fn raw_image_media_are_refused_for_now() {
        let medium = Medium {
            device: "/dev/vda",
            fstype: FsType::Squashfs,
        };
        assert_eq!(
            mount_medium(&cfg("root=live:/dev/vda"), medium),
            Err(PlanError::UnsupportedMedium(FsType::Squashfs))
        );
    }

    #[test]
    fn image_is_attached_read_only_from_live_dir() {
        let steps = mount_image(
            &cfg("root=live:LABEL=x rd.live.dir=boot rd.live.squashimg=a.img"),
            FsType::Squashfs,
        );
        assert_eq!(
            lines(&steps),
            [
                "attach loop <- /run/initramfs/live/boot/a.img (ro)",
                "mkdir /run/initramfs/squashfs",
                "mount <image loop> -> /run/initramfs/squashfs (squashfs, ro)",
            ]
        );
    }

    #[test]
    fn flattened_image_needs_usr_or_ostree() {
        assert_eq!(classify_image(true, false), Some(ImageLayout::Flattened));
        assert_eq!(classify_image(false, true), Some(ImageLayout::Flattened));
        assert_eq!(classify_image(false, false), None);
    }

    #[test]
    fn flattened_root_is_an_overlay_over_a_bind_of_the_image() {
        assert_eq!(
            lines(&assemble_root(ImageLayout::Flattened)),
            [
                "mkdir /run/rootfsbase",
                "mount /run/initramfs/squashfs -> /run/rootfsbase (bind, rw)",
                "mkdir /run/initramfs/overlay/overlayfs",
                "mkdir /run/initramfs/overlay/ovlwork",
                "symlink /run/overlayfs -> /run/initramfs/overlay/overlayfs",
                "symlink /run/ovlwork -> /run/initramfs/overlay/ovlwork",
                "mkdir /sysroot",
                "mount LiveOS_rootfs -> /sysroot (overlay, rw, \
                 lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork)",
                "detach /run/initramfs/squashfs",
            ]
        );
    }
}
