//! ext2 / ext3 / ext4, as libblkid's `ext2`, `ext3`, `ext4` (and `jbd`)
//! probers tell them apart.
//!
//! The superblock is 1024 bytes at 1024: magic 0xEF53 (LE) at +0x38, the
//! feature words compat/incompat/ro_compat at +0x5C/+0x60/+0x64, the UUID at
//! +0x68, the 16-byte NUL-padded label at +0x78, the CRC-32C of the first
//! 0x3FC bytes at +0x3FC (when `metadata_csum` is on).
//!
//! blkid's rules mirrored here:
//! - with `metadata_csum` (ro_compat 0x400) the superblock checksum must
//!   match, or nothing is reported (util-linux 2.39+; the kernel refuses
//!   such a superblock too);
//! - `journal_dev` (incompat 0x8) is an external journal (`jbd`), not a
//!   filesystem: no answer;
//! - with a journal (compat 0x4): ext3 if every incompat/ro_compat feature
//!   is one ext3 knows, else ext4;
//! - without a journal: ext2 if every feature is one ext2 knows, ext4 if any
//!   is beyond ext3, else (only `needs_recovery` without a journal) nothing.
//!
//! blkid also consults the running kernel (`/proc/filesystems`,
//! `modules.dep`): on a kernel with ext4 but neither ext2 nor ext4dev it
//! calls a journal-less ext2 "ext4", and it honours the `test_fs` flag for
//! ext4dev. A pure probe cannot see the kernel, so it answers as blkid does
//! on a usual kernel (ext2 available, no ext4dev). Mounting an "ext2" or
//! "ext3" answer with the "ext4" driver works on every modern kernel.

use super::bytes::{array, dce_uuid, has_magic, le32, slice};
use super::{bytes, FsInfo, FsType};

const SB: usize = 1024;
const SB_LEN: usize = 1024;
const MAGIC: usize = 0x38;
const COMPAT: usize = 0x5C;
const INCOMPAT: usize = 0x60;
const RO_COMPAT: usize = 0x64;
const UUID: usize = 0x68;
const LABEL: usize = 0x78;
const CHECKSUM: usize = 0x3FC;

const COMPAT_HAS_JOURNAL: u32 = 0x0004;

const INCOMPAT_FILETYPE: u32 = 0x0002;
const INCOMPAT_RECOVER: u32 = 0x0004;
const INCOMPAT_JOURNAL_DEV: u32 = 0x0008;
const INCOMPAT_META_BG: u32 = 0x0010;

const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
const RO_COMPAT_BTREE_DIR: u32 = 0x0004;
const RO_COMPAT_METADATA_CSUM: u32 = 0x0400;

/// Features ext2 and ext3 understand (blkid's `EXT{2,3}_FEATURE_*_SUPP`).
const EXT2_INCOMPAT_SUPP: u32 = INCOMPAT_FILETYPE | INCOMPAT_META_BG;
const EXT3_INCOMPAT_SUPP: u32 = EXT2_INCOMPAT_SUPP | INCOMPAT_RECOVER;
const EXT23_RO_COMPAT_SUPP: u32 =
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;

/// Probes for an ext2/3/4 superblock at 1 KiB.
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    let sb = slice(buf, SB, SB_LEN)?;
    if !has_magic(sb, MAGIC, &[0x53, 0xEF]) {
        return None;
    }
    let compat = le32(sb, COMPAT)?;
    let incompat = le32(sb, INCOMPAT)?;
    let ro_compat = le32(sb, RO_COMPAT)?;

    if ro_compat & RO_COMPAT_METADATA_CSUM != 0 {
        let stored = le32(sb, CHECKSUM)?;
        if bytes::crc32c(!0, slice(sb, 0, CHECKSUM)?) != stored {
            return None;
        }
    }
    if incompat & INCOMPAT_JOURNAL_DEV != 0 {
        return None;
    }
    let beyond_ext3 = incompat & !EXT3_INCOMPAT_SUPP != 0 || ro_compat & !EXT23_RO_COMPAT_SUPP != 0;
    let fstype = if compat & COMPAT_HAS_JOURNAL != 0 {
        if beyond_ext3 {
            FsType::Ext4
        } else {
            FsType::Ext3
        }
    } else if incompat & !EXT2_INCOMPAT_SUPP == 0 && ro_compat & !EXT23_RO_COMPAT_SUPP == 0 {
        FsType::Ext2
    } else if beyond_ext3 {
        FsType::Ext4
    } else {
        return None;
    };
    Some(FsInfo {
        fstype,
        label: bytes::label(slice(sb, LABEL, 16)?),
        uuid: dce_uuid(&array(sb, UUID)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const EXT2: &[u8] = include_bytes!("testdata/ext2.head");
    const EXT3: &[u8] = include_bytes!("testdata/ext3.head");
    const EXT4: &[u8] = include_bytes!("testdata/ext4.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees("ext2", EXT2, include_str!("testdata/ext2.blkid"));
        testutil::assert_agrees("ext3", EXT3, include_str!("testdata/ext3.blkid"));
        testutil::assert_agrees("ext4", EXT4, include_str!("testdata/ext4.blkid"));
    }

    #[test]
    fn survives_truncation_and_corruption() {
        for head in [EXT2, EXT3, EXT4] {
            testutil::assert_robust(head, &[0, SB, SB + 0x200]);
        }
    }

    fn patch_le32(img: &mut [u8], off: usize, f: impl Fn(u32) -> u32) {
        let v = u32::from_le_bytes(img[off..off + 4].try_into().unwrap());
        img[off..off + 4].copy_from_slice(&f(v).to_le_bytes());
    }

    #[test]
    fn metadata_csum_is_verified() {
        let mut img = EXT4.to_vec();
        assert_ne!(
            le32(&img, SB + RO_COMPAT).unwrap() & RO_COMPAT_METADATA_CSUM,
            0
        );
        img[SB + LABEL] ^= 1;
        assert_eq!(probe(&img), None);
        // Re-sealed, the edit is accepted.
        let crc = bytes::crc32c(!0, &img[SB..SB + CHECKSUM]);
        img[SB + CHECKSUM..SB + CHECKSUM + 4].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(probe(&img).unwrap().fstype, FsType::Ext4);
    }

    #[test]
    fn feature_rules() {
        // ext3 + an ext4-only feature (extents, incompat 0x40) is ext4.
        let mut img = EXT3.to_vec();
        patch_le32(&mut img, SB + INCOMPAT, |v| v | 0x40);
        assert_eq!(probe(&img).unwrap().fstype, FsType::Ext4);
        // ext2 + needs_recovery but no journal: no type at all.
        let mut img = EXT2.to_vec();
        patch_le32(&mut img, SB + INCOMPAT, |v| v | INCOMPAT_RECOVER);
        assert_eq!(probe(&img), None);
        // An external journal device is not a filesystem.
        let mut img = EXT3.to_vec();
        patch_le32(&mut img, SB + INCOMPAT, |v| v | INCOMPAT_JOURNAL_DEV);
        assert_eq!(probe(&img), None);
        // A zero UUID and an all-blank label are not reported.
        let mut img = EXT2.to_vec();
        img[SB + UUID..SB + UUID + 16].fill(0);
        img[SB + LABEL..SB + LABEL + 16].fill(b' ');
        let info = probe(&img).unwrap();
        assert_eq!((info.label, info.uuid), (None, None));
    }

    #[test]
    fn rejects_short_or_blank() {
        assert_eq!(probe(&EXT2[..SB + 0x3A]), None);
        assert_eq!(probe(&EXT2[..SB + SB_LEN - 1]), None);
        assert_eq!(probe(&[0u8; 4096]), None);
    }
}
