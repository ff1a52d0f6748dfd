//! F2FS, as libblkid's `f2fs` prober reports it.
//!
//! The superblock is at 1 KiB (little-endian): magic 0xF2F52010, major and
//! minor version (+4, +6), the checksum's offset (+0x20), the UUID (+0x6C)
//! and the volume name, 512 UTF-16LE units (+0x7C).
//!
//! blkid's rules mirrored here (util-linux 2.39+): version 1.0 is reported
//! as TYPE only (its layout is not trusted); a non-zero checksum offset must
//! be 4-aligned and within the first 4 KiB, and the CRC-32 (seed
//! 0xF2F52010, no inversion) of the superblock up to it must match the
//! value stored there; LABEL when the name's first *byte* is not NUL; UUID
//! unless all zero.

use super::bytes::{array, dce_uuid, le16, le32, slice, u8_at};
use super::{bytes, FsInfo, FsType};

const SB: usize = 1024;
const MAGIC: u32 = 0xF2F5_2010;
const NAME: usize = 0x7C;
const NAME_LEN: usize = 1024;

/// Probes for an F2FS superblock at 1 KiB.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    let sb = slice(buf, SB, NAME + NAME_LEN)?;
    if le32(sb, 0)? != MAGIC {
        return None;
    }
    if (le16(sb, 4)?, le16(sb, 6)?) == (1, 0) {
        return Some(FsInfo {
            fstype: FsType::F2fs,
            label: None,
            uuid: None,
        });
    }
    let csum_off = usize::try_from(le32(sb, 0x20)?).ok()?;
    if csum_off != 0 {
        if csum_off % 4 != 0 || csum_off > 4092 {
            return None;
        }
        let expected = le32(buf, SB + csum_off)?;
        if bytes::crc32(MAGIC, slice(buf, SB, csum_off)?) != expected {
            return None;
        }
    }
    let name = slice(sb, NAME, NAME_LEN)?;
    let label = if u8_at(name, 0)? != 0 {
        bytes::utf16_label(name, false)
    } else {
        None
    };
    Some(FsInfo {
        fstype: FsType::F2fs,
        label,
        uuid: dce_uuid(&array(sb, 0x6C)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const F2FS: &[u8] = include_bytes!("testdata/f2fs.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees("f2fs", F2FS, include_str!("testdata/f2fs.blkid"));
    }

    #[test]
    fn survives_truncation_and_corruption() {
        testutil::assert_robust(F2FS, &[0, SB]);
    }

    #[test]
    fn checksum_and_version_rules() {
        let mut img = F2FS.to_vec();
        assert_ne!(le32(&img, SB + 0x20).unwrap(), 0, "fixture has a checksum");
        img[SB + NAME] ^= 1;
        assert_eq!(probe(&img), None, "bad CRC");
        // Version 1.0: TYPE only, checksum not looked at.
        img[SB + 4..SB + 8].copy_from_slice(&[1, 0, 0, 0]);
        assert_eq!(
            probe(&img),
            Some(FsInfo {
                fstype: FsType::F2fs,
                label: None,
                uuid: None
            })
        );
        let mut img = F2FS.to_vec();
        img[SB + 0x20..SB + 0x24].copy_from_slice(&4094u32.to_le_bytes());
        assert_eq!(probe(&img), None, "checksum offset out of range");
    }
}
