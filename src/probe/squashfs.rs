//! SquashFS 4.x, as libblkid's `squashfs` prober reports it: `hsqs` at 0
//! (little-endian magic 0x73717368) and a major version (LE16 at 28) of 4 or
//! more. SquashFS has neither label nor UUID, so blkid reports TYPE only.
//! Older SquashFS 1–3 (blkid's `squashfs3`, which kernels no longer mount)
//! answers nothing.

use super::bytes::{has_magic, le16};
use super::{FsInfo, FsType};

const MAJOR: usize = 28;

/// Probes for a SquashFS 4 superblock at 0.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    if !has_magic(buf, 0, b"hsqs") || le16(buf, MAJOR)? < 4 {
        return None;
    }
    Some(FsInfo {
        fstype: FsType::Squashfs,
        label: None,
        uuid: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const SQUASHFS: &[u8] = include_bytes!("testdata/squashfs.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees(
            "squashfs",
            SQUASHFS,
            include_str!("testdata/squashfs.blkid"),
        );
    }

    #[test]
    fn survives_truncation_and_corruption() {
        testutil::assert_robust(SQUASHFS, &[0]);
    }

    #[test]
    fn version_3_and_short_buffers_are_not_squashfs() {
        let mut img = SQUASHFS.to_vec();
        img[MAJOR..MAJOR + 2].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(probe(&img), None);
        assert_eq!(probe(&SQUASHFS[..MAJOR + 1]), None);
        assert_eq!(probe(b"sqsh"), None);
    }
}
