//! Phase 2: the image on the medium (docs/dracut-live.md §3.3 C–E).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::{mkdir, LoopSlot, MountFlags, Source, Step, LIVE_MNT, SQUASH_MNT};
use crate::config::LiveConfig;
use crate::probe::FsType;

/// The name of an uncompressed image, on the medium or inside squashfs.img.
pub const ROOTFS_IMG: &str = "rootfs.img";
/// Where dracut looks for a nested image inside the squashfs: always
/// `LiveOS`, whatever `rd.live.dir` says (docs/dracut-live.md §6-B7).
pub const NESTED_ROOTFS: &str = "/run/initramfs/squashfs/LiveOS/rootfs.img";

/// Where the image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// `<rd.live.dir>/<rd.live.squashimg>` on the mounted medium.
    SquashedFile(String),
    /// The medium itself is the squashfs or EROFS image.
    SquashedDevice(String),
    /// An uncompressed `<rd.live.dir>/rootfs.img` on the mounted medium.
    FsImage(String),
}

/// The compressed image's path on the mounted medium.
pub fn squash_img_path(cfg: &LiveConfig) -> String {
    format!("{LIVE_MNT}/{}", cfg.image_path())
}

/// The uncompressed image's path on the mounted medium.
pub fn rootfs_img_path(cfg: &LiveConfig) -> String {
    format!("{LIVE_MNT}/{}", cfg.in_live_dir(ROOTFS_IMG))
}

/// Picks the image on a mounted medium: the compressed one wins.
pub fn locate_image(cfg: &LiveConfig, squash_img: bool, rootfs_img: bool) -> Option<ImageSource> {
    if squash_img {
        Some(ImageSource::SquashedFile(squash_img_path(cfg)))
    } else if rootfs_img {
        Some(ImageSource::FsImage(rootfs_img_path(cfg)))
    } else {
        None
    }
}

/// Mounts a squashfs or EROFS image read-only at [`SQUASH_MNT`]. Returns
/// no steps for an uncompressed image, which is not mounted here.
pub fn mount_image(source: &ImageSource, fstype: FsType) -> Vec<Step> {
    let mount = |source| Step::Mount {
        source,
        target: String::from(SQUASH_MNT),
        fstype: Some(fstype.mount_type()),
        flags: MountFlags::RO,
        data: String::new(),
    };
    match source {
        ImageSource::SquashedFile(file) => vec![
            Step::AttachLoop {
                slot: LoopSlot::Image,
                backing: file.clone(),
                read_only: true,
            },
            mkdir(SQUASH_MNT),
            mount(Source::Loop(LoopSlot::Image)),
        ],
        ImageSource::SquashedDevice(device) => {
            vec![mkdir(SQUASH_MNT), mount(Source::Path(device.clone()))]
        }
        ImageSource::FsImage(_) => Vec::new(),
    }
}

/// What the mounted squashfs holds, as far as the layout depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageFacts {
    pub liveos_dir: bool,
    pub rootfs_img: bool,
    pub usr: bool,
    pub ostree: bool,
}

/// What the root will be built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The squashfs/EROFS image is the root filesystem itself; `base` is
    /// the device behind [`SQUASH_MNT`].
    Flattened { base: Source },
    /// A filesystem image (`rootfs.img`): nested in the squashfs, or
    /// uncompressed on the medium.
    FsImage {
        path: String,
        fstype: FsType,
        in_squashfs: bool,
    },
}

/// The squashfs holds neither layout dracut knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoot {
    /// `LiveOS/` is there but without `rootfs.img`.
    LiveOsWithoutRootfs,
    /// Neither `LiveOS/`, `/usr` nor `/ostree`.
    Nothing,
}

impl fmt::Display for NoRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoRoot::LiveOsWithoutRootfs => "has LiveOS/ but no LiveOS/rootfs.img in it",
            NoRoot::Nothing => {
                "holds no root filesystem: neither /usr, /ostree nor LiveOS/rootfs.img"
            }
        })
    }
}

/// Whether the squashfs nests `LiveOS/rootfs.img` (`Ok(true)`) or is the
/// root itself (`Ok(false)`, "flattened"). A `LiveOS/` directory decides
/// for nesting before `/usr` is looked at, as dracut does.
pub fn classify_image(facts: ImageFacts) -> Result<bool, NoRoot> {
    if facts.liveos_dir {
        if facts.rootfs_img {
            Ok(true)
        } else {
            Err(NoRoot::LiveOsWithoutRootfs)
        }
    } else if facts.usr || facts.ostree {
        Ok(false)
    } else {
        Err(NoRoot::Nothing)
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

    #[test]
    fn the_compressed_image_wins_over_rootfs_img() {
        let c = cfg("root=live:LABEL=x rd.live.dir=boot");
        assert_eq!(
            locate_image(&c, true, true),
            Some(ImageSource::SquashedFile(
                "/run/initramfs/live/boot/squashfs.img".into()
            ))
        );
        assert_eq!(
            locate_image(&c, false, true),
            Some(ImageSource::FsImage(
                "/run/initramfs/live/boot/rootfs.img".into()
            ))
        );
        assert_eq!(locate_image(&c, false, false), None);
    }

    #[test]
    fn a_file_image_is_attached_read_only_a_device_is_mounted_directly() {
        let file = mount_image(&ImageSource::SquashedFile("/m/a.img".into()), FsType::Erofs);
        let lines: Vec<_> = file.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            lines,
            [
                "attach loop <- /m/a.img (ro)",
                "mkdir /run/initramfs/squashfs",
                "mount <image loop> -> /run/initramfs/squashfs (erofs, ro)",
            ]
        );
        let device = mount_image(
            &ImageSource::SquashedDevice("/dev/vdb".into()),
            FsType::Squashfs,
        );
        assert_eq!(
            device.last().unwrap().to_string(),
            "mount /dev/vdb -> /run/initramfs/squashfs (squashfs, ro)"
        );
        assert!(mount_image(&ImageSource::FsImage("/x".into()), FsType::Ext4).is_empty());
    }

    #[test]
    fn classification_follows_dracut() {
        let f = |liveos_dir, rootfs_img, usr, ostree| ImageFacts {
            liveos_dir,
            rootfs_img,
            usr,
            ostree,
        };
        assert_eq!(classify_image(f(true, true, false, false)), Ok(true));
        assert_eq!(classify_image(f(true, true, true, false)), Ok(true));
        assert_eq!(classify_image(f(false, false, true, false)), Ok(false));
        assert_eq!(classify_image(f(false, false, false, true)), Ok(false));
        assert_eq!(
            classify_image(f(true, false, true, false)),
            Err(NoRoot::LiveOsWithoutRootfs)
        );
        assert_eq!(
            classify_image(f(false, false, false, false)),
            Err(NoRoot::Nothing)
        );
    }
}
