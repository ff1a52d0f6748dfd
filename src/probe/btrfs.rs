//! Btrfs, as libblkid's `btrfs` prober reports it.
//!
//! The primary superblock is the 4 KiB at 64 KiB (little-endian): checksum
//! at +0 (32 bytes) over the rest of those 4 KiB, fsid at +0x20, magic
//! "_BHRfS_M" at +0x40, sector size at +0x90, checksum type at +0xC4, the
//! device item's UUID at +0x10B (blkid's UUID_SUB) and the 256-byte label
//! at +0x12B.
//!
//! blkid's rules mirrored here (util-linux 2.39+): the CRC-32C checksum
//! (type 0) must match; a zero sector size is refused; LABEL when its first
//! byte is not NUL; UUID is the fsid unless all zero. Differences: blkid
//! also verifies xxhash64 (type 1) and SHA-256 (type 2) checksums, which
//! this probe accepts unverified (blkid does the same for BLAKE2, type 3);
//! blkid skips devices under 1 MiB and handles zoned devices, neither of
//! which a head alone can tell.

use super::bytes::{array, dce_uuid, has_magic, le16, le32, slice, u8_at};
use super::{bytes, FsInfo, FsType};

const SB: usize = 0x10000;
const SB_LEN: usize = 4096;
const CSUM_LEN: usize = 32;

/// Probes for the primary btrfs superblock at 64 KiB.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    let sb = slice(buf, SB, SB_LEN)?;
    if !has_magic(sb, 0x40, b"_BHRfS_M") {
        return None;
    }
    if le16(sb, 0xC4)? == 0 {
        let crc = !bytes::crc32c(!0, slice(sb, CSUM_LEN, SB_LEN - CSUM_LEN)?);
        if crc != le32(sb, 0)? {
            return None;
        }
    }
    if le32(sb, 0x90)? == 0 {
        return None;
    }
    let name = slice(sb, 0x12B, 256)?;
    let label = if u8_at(name, 0)? != 0 {
        bytes::label(name)
    } else {
        None
    };
    Some(FsInfo {
        fstype: FsType::Btrfs,
        label,
        uuid: dce_uuid(&array(sb, 0x20)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const BTRFS: &[u8] = include_bytes!("testdata/btrfs.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees("btrfs", BTRFS, include_str!("testdata/btrfs.blkid"));
    }

    #[test]
    fn survives_truncation_and_corruption() {
        testutil::assert_robust(BTRFS, &[0, SB]);
    }

    #[test]
    fn checksum_and_sector_size_are_checked() {
        let mut img = BTRFS.to_vec();
        img[SB + 0x12B] ^= 1;
        assert_eq!(probe(&img), None, "bad CRC");
        // Another checksum type is accepted unverified.
        img[SB + 0xC4] = 3;
        assert!(probe(&img).is_some());
        img[SB + 0x90..SB + 0x94].fill(0);
        assert_eq!(probe(&img), None, "zero sector size");
        assert_eq!(probe(&BTRFS[..SB + SB_LEN - 1]), None);
    }
}
