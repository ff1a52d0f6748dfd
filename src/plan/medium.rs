//! Phase 1: the medium.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{mkdir, path, symlink, MountFlags, Source, Step, LIVEDEV_LINK, LIVE_MNT};

/// Holds the live state; nothing else creates it when no medium is mounted.
const INITRAMFS_RUN_DIR: &str = "/run/initramfs";
use crate::config::LiveConfig;
use crate::probe::FsType;

/// The medium that discovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Medium<'a> {
    /// Device node, e.g. `/dev/sr0`.
    pub device: &'a str,
    pub fstype: FsType,
}

/// What to do with the medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediumPlan {
    /// A filesystem holding the image: mount it at [`LIVE_MNT`].
    Mount(Vec<Step>),
    /// The device itself is the squashfs or EROFS image: nothing to mount
    /// first (docs/dracut-live.md §3.3 B).
    RawImage(Vec<Step>),
}

/// Mounts a filesystem medium at [`LIVE_MNT`]; either way, records its
/// device at [`LIVEDEV_LINK`].
pub fn mount_medium(cfg: &LiveConfig, medium: Medium<'_>) -> MediumPlan {
    let link = symlink(path(medium.device), LIVEDEV_LINK);
    match medium.fstype {
        FsType::Squashfs | FsType::Erofs => {
            MediumPlan::RawImage(vec![mkdir(INITRAMFS_RUN_DIR), link])
        }
        _ => MediumPlan::Mount(vec![
            mkdir(LIVE_MNT),
            Step::Mount {
                source: Source::Path(String::from(medium.device)),
                target: String::from(LIVE_MNT),
                fstype: Some(medium.fstype.mount_type()),
                // The medium is data, not a root: no set-user-ID programs
                // and no device nodes from a stick anyone could have made.
                flags: MountFlags {
                    nosuid: true,
                    nodev: true,
                    ..if cfg.medium_rw {
                        MountFlags::RW
                    } else {
                        MountFlags::RO
                    }
                },
                data: String::new(),
            },
            link,
        ]),
    }
}
