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
/// The name dracut up to 109 also accepted for the nested image.
pub const NESTED_EXT3FS: &str = "/run/initramfs/squashfs/LiveOS/ext3fs.img";

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
    /// `LiveOS/rootfs.img` is a file.
    pub rootfs_img: bool,
    /// `LiveOS/ext3fs.img` is a file (dracut ≤ 109's other name for it).
    pub ext3fs_img: bool,
    pub usr: bool,
    pub ostree: bool,
    /// `/proc` exists: dracut 059 up to 105 recognised a root by it.
    pub proc: bool,
    /// `/sbin/init` resolves, inside the image, to an executable file.
    pub sbin_init: bool,
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

/// The squashfs holds neither layout any dracut version knew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoot {
    /// `LiveOS/` is there but without `rootfs.img` (or `ext3fs.img`).
    LiveOsWithoutRootfs,
    /// None of the marks of a root filesystem.
    Nothing,
}

impl fmt::Display for NoRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoRoot::LiveOsWithoutRootfs => {
                "has LiveOS/ but neither LiveOS/rootfs.img nor LiveOS/ext3fs.img in it"
            }
            NoRoot::Nothing => {
                "holds no root filesystem: looked for LiveOS/rootfs.img, /usr, /ostree, /proc \
                 and an executable /sbin/init, found none"
            }
        })
    }
}

/// What the compressed image turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inside {
    /// A filesystem image at this path (under [`SQUASH_MNT`]).
    Nested(&'static str),
    /// The image is the root itself ("flattened").
    Flattened,
}

/// Nested `LiveOS/rootfs.img` or a flattened root (docs/dracut-live.md
/// §3.3 D). A `LiveOS/` directory decides for nesting before anything
/// else is looked at, as in every dracut. A flattened root is accepted by
/// any mark some dracut version took for one (`/usr` and `/ostree` from
/// 106, `/proc` before), and by an executable `/sbin/init`, which small
/// embedded roots have even without `/usr` or `/proc`.
pub fn classify_image(facts: ImageFacts) -> Result<Inside, NoRoot> {
    if facts.liveos_dir {
        if facts.rootfs_img {
            Ok(Inside::Nested(NESTED_ROOTFS))
        } else if facts.ext3fs_img {
            Ok(Inside::Nested(NESTED_EXT3FS))
        } else {
            Err(NoRoot::LiveOsWithoutRootfs)
        }
    } else if facts.usr || facts.ostree || facts.proc || facts.sbin_init {
        Ok(Inside::Flattened)
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
    fn classification_accepts_what_any_dracut_accepted() {
        let none = ImageFacts::default();
        let nested = ImageFacts {
            liveos_dir: true,
            rootfs_img: true,
            usr: true,
            ..none
        };
        assert_eq!(classify_image(nested), Ok(Inside::Nested(NESTED_ROOTFS)));
        let ext3 = ImageFacts {
            liveos_dir: true,
            ext3fs_img: true,
            ..none
        };
        assert_eq!(classify_image(ext3), Ok(Inside::Nested(NESTED_EXT3FS)));
        for flat in [
            ImageFacts { usr: true, ..none },
            ImageFacts {
                ostree: true,
                ..none
            },
            ImageFacts { proc: true, ..none },
            ImageFacts {
                sbin_init: true,
                ..none
            },
        ] {
            assert_eq!(classify_image(flat), Ok(Inside::Flattened), "{flat:?}");
        }
        let liveos_only = ImageFacts {
            liveos_dir: true,
            usr: true,
            ..none
        };
        assert_eq!(
            classify_image(liveos_only),
            Err(NoRoot::LiveOsWithoutRootfs)
        );
        assert_eq!(classify_image(none), Err(NoRoot::Nothing));
    }

    #[test]
    fn a_refusal_names_everything_looked_for() {
        let text = NoRoot::Nothing.to_string();
        for mark in [
            "LiveOS/rootfs.img",
            "/usr",
            "/ostree",
            "/proc",
            "/sbin/init",
        ] {
            assert!(text.contains(mark), "{text}");
        }
    }
}
