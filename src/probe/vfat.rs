//! FAT12/16/32, as libblkid's `vfat` prober reports it.
//!
//! The boot sector holds the BIOS parameter block: bytes per sector (LE16
//! at 0x0B), sectors per cluster (0x0D), reserved sectors (LE16 0x0E),
//! number of FATs (0x10), root entries (LE16 0x11), total sectors (LE16
//! 0x13, or LE32 0x20), media (0x15) and sectors per FAT (LE16 0x16, or for
//! FAT32 LE32 0x24). FAT12/16 keep their extended BPB (signature 0x26,
//! serial 0x27, label 0x2B) right after; FAT32 has the root cluster at
//! 0x2C, the FSInfo sector at 0x30, and its extended BPB at 0x42 (serial
//! 0x43, label 0x47).
//!
//! blkid's rules mirrored here (util-linux 2.38+):
//! - a signature: "MSWIN"/"FAT32   " at 0x52, "MSDOS"/"FAT16   "/"FAT12   "/
//!   "FAT     " at 0x36, else a jump (0xEB/0xE9) at 0, else 0x55AA at 510;
//!   for the last three, 0x55AA is required and JFS/HPFS pseudo-BPBs are
//!   refused; then the BPB must be sane (≥ 1 FAT, reserved sectors, media
//!   0xF0/0xF8–0xFF, power-of-two cluster and sector sizes, a cluster count
//!   within the FAT type's range — computed with C's wrapping 32-bit
//!   arithmetic) and not BitLocker;
//! - LABEL comes *only* from the volume-label entry of the root directory
//!   (first entry with the volume attribute, not a directory, not a long
//!   name, no cluster; a leading 0x05 stands for 0xE5). The boot sector's
//!   label is blkid's LABEL_FATBOOT, not LABEL: a volume whose root entry is
//!   gone has no LABEL, even if its boot sector still names one;
//! - UUID is the serial as `XXXX-XXXX` (upper-case hex, high word first),
//!   for FAT12/16 only when the extended boot signature is 0x28 or 0x29,
//!   never when all zero;
//! - FAT32 follows the root directory's cluster chain (at most 99 clusters)
//!   and requires a sane FSInfo sector.
//!
//! The root directory usually lies beyond [`super::PROBE_BYTES`]: without a
//! reader for the rest of the device (see [`super::probe_with`]) the LABEL
//! is missing. BitLocker To Go (which also says "MSWIN4.1") is not told
//! apart.

use alloc::string::String;

use super::bytes::{has_magic, le16, le32, slice, u8_at};
use super::{bytes, Device, FsInfo, FsType};

const FAT12_MAX: u32 = 0xFF4;
const FAT16_MAX: u32 = 0xFFF4;
const FAT32_MAX: u32 = 0x0FFF_FFF6;

const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_DIR: u8 = 0x10;
const ATTR_LONG_NAME: u8 = 0x0F;
const ATTR_MASK: u8 = 0x3F;
const ENTRY_FREE: u8 = 0xE5;
const DIR_ENTRY: u32 = 32;

/// The signatures in blkid's order: (magic, offset).
const MAGICS: &[(&[u8], usize)] = &[
    (b"MSWIN", 0x52),
    (b"FAT32   ", 0x52),
    (b"MSDOS", 0x36),
    (b"FAT16   ", 0x36),
    (b"FAT12   ", 0x36),
    (b"FAT     ", 0x36),
    (b"\xEB", 0),
    (b"\xE9", 0),
    (b"\x55\xAA", 0x1FE),
];

/// The boot-sector fields both the filesystem and the partition-table
/// probes need.
struct Bpb {
    sector_size: u32,
    cluster_size: u32,
    reserved: u32,
    fat_length16: u16,
    fat32_length: u32,
    fat_size: u32,
}

/// blkid's `fat_valid_superblock` on a boot sector.
fn valid_bpb(sector: &[u8]) -> Option<Bpb> {
    let (magic, _) = MAGICS.iter().find(|(m, off)| has_magic(sector, *off, m))?;
    if magic.len() <= 2 {
        if !has_magic(sector, 0x1FE, b"\x55\xAA") {
            return None;
        }
        if has_magic(sector, 0x36, b"JFS     ") || has_magic(sector, 0x36, b"HPFS    ") {
            return None;
        }
    }
    let fats = u32::from(u8_at(sector, 0x10)?);
    let reserved = u32::from(le16(sector, 0x0E)?);
    let media = u8_at(sector, 0x15)?;
    let cluster_size = u32::from(u8_at(sector, 0x0D)?);
    if fats == 0
        || reserved == 0
        || !(media >= 0xF8 || media == 0xF0)
        || !cluster_size.is_power_of_two()
    {
        return None;
    }
    let sector_size = u32::from(le16(sector, 0x0B)?);
    if !sector_size.is_power_of_two() || !(512..=4096).contains(&sector_size) {
        return None;
    }
    let dir_entries = u32::from(le16(sector, 0x11)?);
    let mut sect_count = u32::from(le16(sector, 0x13)?);
    if sect_count == 0 {
        sect_count = le32(sector, 0x20)?;
    }
    let fat_length16 = le16(sector, 0x16)?;
    let fat32_length = le32(sector, 0x24)?;
    let fat_length = if fat_length16 == 0 {
        fat32_length
    } else {
        u32::from(fat_length16)
    };
    // C's uint32_t arithmetic, overflow included.
    let fat_size = fat_length.wrapping_mul(fats);
    let dir_size = (dir_entries * DIR_ENTRY).div_ceil(sector_size);
    let cluster_count = sect_count
        .wrapping_sub(reserved.wrapping_add(fat_size).wrapping_add(dir_size))
        / cluster_size;
    let max_count = if fat_length16 == 0 && fat32_length != 0 {
        FAT32_MAX
    } else if cluster_count > FAT12_MAX {
        FAT16_MAX
    } else {
        FAT12_MAX
    };
    if cluster_count > max_count || is_bitlocker(sector) {
        return None;
    }
    Some(Bpb {
        sector_size,
        cluster_size,
        reserved,
        fat_length16,
        fat32_length,
        fat_size,
    })
}

/// BitLocker (Vista/7 and later) volumes keep a FAT-like BPB under the OEM
/// name "-FVE-FS-".
fn is_bitlocker(sector: &[u8]) -> bool {
    has_magic(sector, 3, b"-FVE-FS-")
}

/// Is sector 0 a valid FAT boot sector? (blkid's `blkid_probe_is_vfat`,
/// which keeps the MBR parser from reading a FAT boot sector as a
/// partition table.)
pub(crate) fn is_vfat(sector0: &[u8]) -> bool {
    valid_bpb(sector0).is_some()
}

/// Probes for FAT at the start of the device.
pub(crate) fn probe(dev: &mut Device<'_, '_>) -> Option<FsInfo> {
    let sector = slice(dev.head(), 0, 512)?;
    let bpb = valid_bpb(sector)?;
    let mut label = None;
    let mut serial = None;
    if bpb.fat_length16 != 0 {
        let root_start = bpb
            .reserved
            .wrapping_add(bpb.fat_size)
            .wrapping_mul(bpb.sector_size);
        let entries = u32::from(le16(sector, 0x11)?);
        label = root_dir_label(dev, u64::from(root_start), entries);
        if matches!(u8_at(sector, 0x26)?, 0x28 | 0x29) {
            serial = Some(bytes::array::<4>(sector, 0x27)?);
        }
    } else if bpb.fat32_length != 0 {
        let cluster_bytes = bpb.cluster_size * bpb.sector_size;
        let data_start = bpb.reserved.wrapping_add(bpb.fat_size);
        // Truncated to 32 bits, as blkid's uint32_t does.
        let [a, b, c, d, ..] =
            (u64::from(bpb.fat32_length) * u64::from(bpb.sector_size) / 4).to_le_bytes();
        let entries = u32::from_le_bytes([a, b, c, d]);
        let mut next = le32(sector, 0x2C)?;
        let mut loops_left = 99;
        while next != 0 && next < entries && loops_left > 0 {
            loops_left -= 1;
            let sect_off = next.wrapping_sub(2).wrapping_mul(bpb.cluster_size);
            let off = u64::from(data_start.wrapping_add(sect_off)) * u64::from(bpb.sector_size);
            label = root_dir_label(dev, off, cluster_bytes / DIR_ENTRY);
            if label.is_some() {
                break;
            }
            let fat_entry =
                u64::from(bpb.reserved) * u64::from(bpb.sector_size) + u64::from(next) * 4;
            let Some(entry) = dev.read(fat_entry, 4) else {
                break;
            };
            next = le32(&entry, 0)? & 0x0FFF_FFFF;
        }
        serial = Some(bytes::array::<4>(sector, 0x43)?);

        let fsinfo_sector = u64::from(le16(sector, 0x30)?);
        if fsinfo_sector != 0 {
            let fsinfo = dev.read(fsinfo_sector * u64::from(bpb.sector_size), 512)?;
            let sig1_ok = [b"RRaA", b"RRdA", b"\0\0\0\0"]
                .iter()
                .any(|s| has_magic(&fsinfo, 0, *s));
            let sig2_ok = [b"rrAa", b"\0\0\0\0"]
                .iter()
                .any(|s| has_magic(&fsinfo, 484, *s));
            if !sig1_ok || !sig2_ok {
                return None;
            }
        }
    }
    Some(FsInfo {
        fstype: FsType::Vfat,
        label: label.and_then(|l| bytes::label(&l)),
        uuid: serial.and_then(serial_uuid),
    })
}

/// `XXXX-XXXX` from the little-endian serial; nothing when all zero.
fn serial_uuid(serial: [u8; 4]) -> Option<String> {
    if serial == [0; 4] {
        return None;
    }
    let mut out = String::with_capacity(9);
    for (i, b) in serial.iter().rev().enumerate() {
        if i == 2 {
            out.push('-');
        }
        bytes::push_hex(&mut out, *b);
    }
    Some(out.to_ascii_uppercase())
}

/// blkid's `search_fat_label`: the raw 11-byte name of the volume-label
/// entry among the first `entries` of a directory at `offset`.
fn root_dir_label(dev: &mut Device<'_, '_>, offset: u64, entries: u32) -> Option<[u8; 11]> {
    let len = usize::try_from(entries)
        .ok()?
        .checked_mul(DIR_ENTRY as usize)?;
    let dir = dev.read(offset, len)?;
    for entry in dir.chunks_exact(DIR_ENTRY as usize) {
        let mut name: [u8; 11] = bytes::array(entry, 0)?;
        let attr = u8_at(entry, 11)?;
        match name.first().copied()? {
            0 => break,
            ENTRY_FREE => continue,
            _ => {}
        }
        if le16(entry, 20)? != 0 || le16(entry, 26)? != 0 || attr & ATTR_MASK == ATTR_LONG_NAME {
            continue;
        }
        if attr & (ATTR_VOLUME_ID | ATTR_DIR) == ATTR_VOLUME_ID {
            if let Some(first) = name.first_mut().filter(|b| **b == 0x05) {
                *first = ENTRY_FREE;
            }
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil::{self, Image};

    fn fat12() -> Image {
        Image::new(include_bytes!("testdata/fat12.head"), None)
    }
    fn fat16() -> Image {
        Image::new(
            include_bytes!("testdata/fat16.head"),
            Some(include_bytes!("testdata/fat16.extents")),
        )
    }
    fn fat32() -> Image {
        Image::new(
            include_bytes!("testdata/fat32.head"),
            Some(include_bytes!("testdata/fat32.extents")),
        )
    }

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_image_agrees("fat12", &fat12(), include_str!("testdata/fat12.blkid"));
        testutil::assert_image_agrees("fat16", &fat16(), include_str!("testdata/fat16.blkid"));
        testutil::assert_image_agrees("fat32", &fat32(), include_str!("testdata/fat32.blkid"));
        // FAT12's root directory lies within the head.
        testutil::assert_agrees("fat12", &fat12().head, include_str!("testdata/fat12.blkid"));
    }

    #[test]
    fn without_the_root_directory_there_is_no_label() {
        let info = crate::probe::probe(&fat32().head).unwrap();
        assert_eq!(
            (info.fstype, info.label, info.uuid.as_deref()),
            (FsType::Vfat, None, Some("1234-ABCD"))
        );
    }

    #[test]
    fn survives_truncation_and_corruption() {
        for image in [fat12(), fat16(), fat32()] {
            testutil::sweep(&image.head.clone(), &[0, 512, 0x4000], |buf| {
                let _ = crate::probe::probe_with(buf, &mut |off, len| image.read(off, len));
            });
        }
    }

    /// Expected values observed with blkid 2.38.1 on the same edits of the
    /// FAT12 image.
    #[test]
    fn label_and_serial_rules_match_blkid() {
        const ROOT: usize = 9728;
        let probe = |img: &[u8]| crate::probe::probe(img).unwrap();
        let base = fat12().head;

        let mut img = base.clone();
        img[ROOT..ROOT + 11].copy_from_slice(b"ROOTNAME   ");
        assert_eq!(
            probe(&img).label.as_deref(),
            Some("ROOTNAME"),
            "root entry wins"
        );

        let mut img = base.clone();
        img[ROOT] = ENTRY_FREE;
        assert_eq!(
            probe(&img).label,
            None,
            "no root entry: no LABEL, boot label ignored"
        );

        let mut img = base.clone();
        img[ROOT] = 0x05;
        assert_eq!(
            probe(&img).label.as_deref(),
            Some("\u{fffd}AT12 LBL"),
            "0x05 stands for 0xE5"
        );

        let mut img = base.clone();
        img[ROOT..ROOT + 11].copy_from_slice(b"NO NAME    ");
        assert_eq!(probe(&img).label.as_deref(), Some("NO NAME"));

        let mut img = base.clone();
        img[0x27..0x2B].fill(0);
        assert_eq!(probe(&img).uuid, None, "zero serial");

        let mut img = base.clone();
        img[0x26] = 0x28;
        assert_eq!(probe(&img).uuid.as_deref(), Some("1234-ABCD"));
        img[0x26] = 0;
        assert_eq!(probe(&img).uuid, None, "no extended boot signature");
    }

    #[test]
    fn insane_boot_sectors_are_not_fat() {
        let base = fat12().head;
        for (off, value) in [
            (0x10, 0u8),
            (0x0E, 0),
            (0x15, 0xF1),
            (0x0D, 3),
            (0x0C, 0x01),
        ] {
            let mut img = base.clone();
            img[off] = value;
            if off == 0x0E {
                img[0x0F] = 0;
            }
            assert!(!is_vfat(&img), "byte {off:#x} = {value:#x}");
        }
        let mut img = base.clone();
        img[3..11].copy_from_slice(b"-FVE-FS-");
        assert!(!is_vfat(&img), "BitLocker");
    }
}
