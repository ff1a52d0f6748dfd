//! EROFS, as libblkid's `erofs` prober reports it.
//!
//! The superblock is at 1024 (all little-endian): magic 0xE0F5E1E2 at +0,
//! CRC-32C at +4, feature_compat at +8, log2(block size) at +12, the UUID
//! at +0x30 and a 16-byte NUL-padded volume name at +0x40.
//!
//! blkid's rules mirrored here (util-linux 2.39+):
//! - block sizes above 4 KiB are rejected;
//! - with `sb_chksum` (feature_compat bit 0) the CRC-32C of the rest of the
//!   first block, from 1024 on with the checksum field zeroed, must match
//!   (blkid 2.38 skipped this check);
//! - LABEL is the volume name when its first byte is not NUL; UUID unless
//!   all zero.

use super::bytes::{array, dce_uuid, le32, slice, u8_at, zeroed};
use super::{bytes, FsInfo, FsType};

const SB: usize = 1024;
const MAGIC: u32 = 0xE0F5_E1E2;
const CHECKSUM: usize = 4;
const FEATURE_COMPAT: usize = 8;
const BLKSZBITS: usize = 12;
const UUID: usize = 0x30;
const VOLUME_NAME: usize = 0x40;
/// Bytes of `struct erofs_super_block` blkid reads.
const SB_LEN: usize = 128;

const COMPAT_SB_CHKSUM: u32 = 1;

/// Probes for an EROFS superblock at 1 KiB.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    let sb = slice(buf, SB, SB_LEN)?;
    if le32(sb, 0)? != MAGIC {
        return None;
    }
    let blkszbits = u8_at(sb, BLKSZBITS)?;
    let block_size = 1usize.checked_shl(u32::from(blkszbits))?;
    if blkszbits > 31 || block_size > 4096 {
        return None;
    }
    if le32(sb, FEATURE_COMPAT)? & COMPAT_SB_CHKSUM != 0 {
        let covered = slice(buf, SB, block_size.checked_sub(SB)?)?;
        let crc = bytes::crc32c(!0, &zeroed(covered, CHECKSUM, 4));
        if crc != le32(sb, CHECKSUM)? {
            return None;
        }
    }
    let name = slice(sb, VOLUME_NAME, 16)?;
    let label = if u8_at(name, 0)? != 0 {
        bytes::label(name)
    } else {
        None
    };
    Some(FsInfo {
        fstype: FsType::Erofs,
        label,
        uuid: dce_uuid(&array(sb, UUID)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const EROFS: &[u8] = include_bytes!("testdata/erofs.head");
    const EROFS_LABEL: &[u8] = include_bytes!("testdata/erofs-label.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees("erofs", EROFS, include_str!("testdata/erofs.blkid"));
        testutil::assert_agrees(
            "erofs-label",
            EROFS_LABEL,
            include_str!("testdata/erofs-label.blkid"),
        );
    }

    #[test]
    fn survives_truncation_and_corruption() {
        for head in [EROFS, EROFS_LABEL] {
            testutil::assert_robust(head, &[0, SB]);
        }
    }

    #[test]
    fn checksum_and_block_size_are_checked() {
        let mut img = EROFS.to_vec();
        assert_ne!(img[SB + FEATURE_COMPAT] & 1, 0, "fixture has sb_chksum");
        img[SB + VOLUME_NAME] = b'X';
        assert_eq!(probe(&img), None);
        // Without the checksum feature the same edit is accepted.
        img[SB + FEATURE_COMPAT] &= !1;
        assert_eq!(probe(&img).unwrap().label.as_deref(), Some("X"));
        for bits in [9u8, 13, 32, 255] {
            img[SB + BLKSZBITS] = bits;
            img[SB + FEATURE_COMPAT] |= 1;
            assert_eq!(probe(&img), None, "blkszbits {bits}");
        }
        assert_eq!(probe(&EROFS[..SB + SB_LEN - 1]), None);
    }
}
