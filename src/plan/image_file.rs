//! An image file that is already in RAM: `root=live:/path.img` in the
//! initramfs, or a downloaded network image (docs: network-boot-spec §3.2).
//! Its first bytes decide what it is, as dracut's `dmsquash-live-root`
//! decides for a regular file: squashfs or EROFS is the squashed image (the
//! root itself, or holding `LiveOS/rootfs.img`); an ext* or other mountable
//! filesystem is the root filesystem image.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{mkdir, path, symlink, ImageSource, Step, LIVEDEV_LINK, LIVE_MNT};
use crate::probe::FsType;

/// The image `path` holds, from its filesystem type.
pub fn image_file_source(path: &str, fstype: FsType) -> ImageSource {
    match fstype {
        FsType::Squashfs | FsType::Erofs => ImageSource::SquashedFile(String::from(path)),
        _ => ImageSource::FsImage(String::from(path)),
    }
}

/// The state dracut leaves for a file root: `livedev` names the file, and
/// `/run/initramfs/live` exists (empty: there is no medium to mount).
pub fn record_image_file(file: &str) -> Vec<Step> {
    vec![mkdir(LIVE_MNT), symlink(path(file), LIVEDEV_LINK)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn squashed_images_are_mounted_and_filesystems_are_the_root() {
        assert_eq!(
            image_file_source("/x.img", FsType::Squashfs),
            ImageSource::SquashedFile("/x.img".into())
        );
        assert_eq!(
            image_file_source("/x.img", FsType::Erofs),
            ImageSource::SquashedFile("/x.img".into())
        );
        assert_eq!(
            image_file_source("/x.img", FsType::Ext4),
            ImageSource::FsImage("/x.img".into())
        );
        let steps: Vec<String> = record_image_file("/x.img")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "mkdir /run/initramfs/live",
                "symlink /run/initramfs/livedev -> /x.img"
            ]
        );
    }
}
