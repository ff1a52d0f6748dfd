//! XFS, as libblkid's `xfs` prober reports it.
//!
//! The superblock is at 0, big-endian: magic "XFSB", block size (0x04),
//! data blocks (0x08), UUID (0x20), realtime extent size (0x50), AG blocks
//! (0x54) and count (0x58), version (0x64), sector size (0x66), inode size
//! (0x68), the 12-byte name (0x6C), the log2 sizes (0x78–0x7B), imax_pct
//! (0x7F), features2 (0xC8) and, for version 5, the CRC-32C at 0xE0 over
//! the first sector.
//!
//! blkid's rules mirrored here: the geometry sanity checks of
//! `xfs_verify_sb` (sizes within XFS's limits and consistent with their
//! logs, data blocks within what the AGs can hold, realtime extent size in
//! 4 KiB–1 GiB — multiplied in C's wrapping 32-bit arithmetic); for v5
//! filesystems the CRC bit must be set and the checksum must match
//! (util-linux 2.39+); LABEL is the name when its first byte is not NUL;
//! UUID unless all zero. External log devices (`xfs_external_log`) are not
//! reported.

use super::bytes::{array, be16, be32, be64, dce_uuid, has_magic, le32, slice, u8_at};
use super::{bytes, FsInfo, FsType};

const SB_LEN: usize = 264;
const CRC: usize = 0xE0;

/// Probes for an XFS superblock at 0.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    let sb = slice(buf, 0, SB_LEN)?;
    if !has_magic(sb, 0, b"XFSB") || !sane(sb)? {
        return None;
    }
    let version = be16(sb, 0x64)?;
    if version & 0x0F == 5 {
        if version & 0x8000 == 0 || be32(sb, 0xC8)? & 0x100 == 0 {
            return None;
        }
        let sector = slice(buf, 0, usize::from(be16(sb, 0x66)?))?;
        let crc = !bytes::crc32c(!0, &bytes::zeroed(sector, CRC, 4));
        // Stored little-endian (the kernel's xfs_update_cksum).
        if crc != le32(sb, CRC)? {
            return None;
        }
    }
    let name = slice(sb, 0x6C, 12)?;
    let label = if u8_at(name, 0)? != 0 {
        bytes::label(name)
    } else {
        None
    };
    Some(FsInfo {
        fstype: FsType::Xfs,
        label,
        uuid: dce_uuid(&array(sb, 0x20)?),
    })
}

/// `xfs_verify_sb`'s sanity checks (before the checksum).
fn sane(sb: &[u8]) -> Option<bool> {
    let blocksize = be32(sb, 0x04)?;
    let dblocks = be64(sb, 0x08)?;
    let rextsize = be32(sb, 0x50)?;
    let agblocks = be32(sb, 0x54)?;
    let agcount = be32(sb, 0x58)?;
    let sectsize = u32::from(be16(sb, 0x66)?);
    let inodesize = u32::from(be16(sb, 0x68)?);
    let (blocklog, sectlog, inodelog) = (u8_at(sb, 0x78)?, u8_at(sb, 0x79)?, u8_at(sb, 0x7A)?);
    let inopblog = i32::from(u8_at(sb, 0x7B)?);
    let imax_pct = u8_at(sb, 0x7F)?;

    let pow = |log: u8| 1u64.checked_shl(u32::from(log)).unwrap_or(0);
    let rext_bytes = rextsize.wrapping_mul(blocksize);
    let max_dblocks = u64::from(agcount) * u64::from(agblocks);
    let min_dblocks = u64::from(agcount.wrapping_sub(1)) * u64::from(agblocks) + 64;
    Some(
        agcount != 0
            && (512..=32768).contains(&sectsize)
            && (9..=15).contains(&sectlog)
            && u64::from(sectsize) == pow(sectlog)
            && (512..=65536).contains(&blocksize)
            && (9..=16).contains(&blocklog)
            && u64::from(blocksize) == pow(blocklog)
            && (256..=2048).contains(&inodesize)
            && (8..=11).contains(&inodelog)
            && u64::from(inodesize) == pow(inodelog)
            && i32::from(blocklog) - i32::from(inodelog) == inopblog
            && (4096..=1024 * 1024 * 1024).contains(&rext_bytes)
            && imax_pct <= 100
            && dblocks != 0
            && dblocks <= max_dblocks
            && dblocks >= min_dblocks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const XFS: &[u8] = include_bytes!("testdata/xfs.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees("xfs", XFS, include_str!("testdata/xfs.blkid"));
    }

    #[test]
    fn survives_truncation_and_corruption() {
        testutil::assert_robust(XFS, &[0]);
    }

    #[test]
    fn crc_and_geometry_are_checked() {
        let mut img = XFS.to_vec();
        img[0x6C] = b'Z';
        assert_eq!(probe(&img), None, "bad CRC");
        let mut img = XFS.to_vec();
        img[0x7F] = 101; // imax_pct
        assert_eq!(probe(&img), None);
        assert_eq!(probe(&XFS[..SB_LEN - 1]), None);
        assert_eq!(probe(&XFS[..511]), None, "v5 needs the whole sector");
    }
}
