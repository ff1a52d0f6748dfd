//! Partition tables — MBR ("dos") and GPT — as libblkid's partitions chain
//! (and so `partx`, udev's `ID_PART_ENTRY_*`, `/dev/disk/by-partuuid`)
//! reports them: the table's type and id (PTTYPE, PTUUID) and, per
//! partition, its number, start and size in 512-byte sectors, PARTUUID,
//! PARTLABEL and type.
//!
//! # What is read
//! [`read_table`] asks its reader for (sector = the device's logical sector
//! size, 512 unless told otherwise):
//! - bytes 0..512 (the MBR: boot signature, disk signature at 440, four
//!   entries at 446);
//! - GPT: one sector at LBA 1 (the header), then the entry array it names
//!   (LBA `entries_lba`, `count × 128` bytes — normally LBA 2, 16 KiB); if
//!   the primary header or its entries are damaged, the backup header in
//!   the device's last sector and its array;
//! - MBR with an extended partition: each extended boot record (512 bytes)
//!   along the chain.
//!
//! [`parse`] does the same from a head alone (e.g. the first
//! [`super::PROBE_BYTES`]), which holds the MBR, a primary GPT and its
//! entries, but not the backup GPT nor far-away extended boot records.
//!
//! # blkid's rules mirrored here
//! - MBR: 0x55AA at 510 is required; a disk starting with the AIX magic,
//!   or whose sector 0 is a valid FAT boot sector, or any of whose entries
//!   has a boot flag other than 0/0x80, is not "dos"; one with a 0xEE entry
//!   is GPT's protective MBR. Primary partitions are 1–4 (an empty slot
//!   still uses its number), logical ones 5, 6, … in chain order (blkid's
//!   checks on the 3rd/4th entries of an extended boot record included);
//!   PTUUID is the disk signature as 8 hex digits, PARTUUID
//!   `<signature>-<number as 2 hex digits>` — none when the signature is 0.
//! - GPT: needs the protective MBR; the header must have its signature, a
//!   size in 92..=sector, a correct CRC-32, `my_lba` where it was read,
//!   usable LBAs inside the device and not around the header, 128-byte
//!   entries and a correct entry-array CRC-32; else the backup header is
//!   tried. Unused entries and entries outside the usable range are skipped
//!   but keep their number. PARTUUID/PTUUID are the GUIDs in lower case,
//!   PARTLABEL the UTF-16LE name up to its first NUL, trailing blanks
//!   trimmed. (Some libblkid versions skip GPT on floppy-sized devices;
//!   2.38 does not, nor does this.)
//!
//! Deliberate limits for hostile input: at most 256 logical partitions and
//! entry arrays of at most 1 MiB (blkid has neither bound).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::bytes::{array, dce_uuid, has_magic, le32, le64, slice, swap_guid, u8_at};
use super::{bytes, vfat, Device, ReadAt};

/// Table types, named as blkid's PTTYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Dos,
    Gpt,
}

impl TableKind {
    /// blkid's PTTYPE.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Dos => "dos",
            TableKind::Gpt => "gpt",
        }
    }
}

/// A partition's type: the MBR system id or the GPT type GUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartType {
    Dos(u8),
    /// Lower-case GUID text.
    Gpt(String),
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The kernel's (and blkid's) partition number: `sda<number>`.
    pub number: u32,
    /// First sector, in 512-byte units (as sysfs counts).
    pub start: u64,
    /// Length in 512-byte units.
    pub size: u64,
    /// PARTUUID as blkid prints it.
    pub partuuid: Option<String>,
    /// PARTLABEL (GPT only).
    pub partlabel: Option<String>,
    pub part_type: PartType,
}

/// A partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    pub kind: TableKind,
    /// PTUUID as blkid prints it.
    pub id: Option<String>,
    pub partitions: Vec<Partition>,
}

/// Most logical partitions followed along an extended chain.
const MAX_LOGICAL: usize = 256;
const MBR_ENTRIES: usize = 446;
const GPT_ENTRY: u32 = 128;
const ENTRY_LEN: usize = 128;

/// The partition table of a device of `device_bytes` bytes whose logical
/// sectors are `sector_size` bytes (512, or 4096 for 4Kn disks), reading
/// what it needs through `read` (see the module documentation).
pub fn read_table(read: ReadAt<'_>, device_bytes: u64, sector_size: u32) -> Option<PartitionTable> {
    table(&mut Device::new(&[], Some(read)), device_bytes, sector_size)
}

/// [`read_table`] for a device with 512-byte sectors of which only `head`
/// (its first bytes) is at hand.
pub fn parse(head: &[u8], device_bytes: u64) -> Option<PartitionTable> {
    table(&mut Device::new(head, None), device_bytes, 512)
}

pub(crate) fn table(
    dev: &mut Device<'_, '_>,
    device_bytes: u64,
    sector_size: u32,
) -> Option<PartitionTable> {
    if sector_size < 512 || !sector_size.is_power_of_two() {
        return None;
    }
    let mbr = dev.read(0, 512)?.into_owned();
    if !has_magic(&mbr, 510, b"\x55\xAA") {
        return None;
    }
    // blkid tries "dos" first, which steps aside for a protective MBR;
    // "gpt" then only needs a 0xEE entry.
    if let Some(table) = dos(dev, &mbr, sector_size / 512) {
        return Some(table);
    }
    let protective = (0..4).any(|i| entry(&mbr, i).and_then(|e| u8_at(e, 4)) == Some(0xEE));
    if protective {
        gpt(dev, device_bytes, sector_size)
    } else {
        None
    }
}

fn entry(mbr: &[u8], i: usize) -> Option<&[u8]> {
    slice(mbr, MBR_ENTRIES + 16 * i, 16)
}

fn is_extended(sys_type: u8) -> bool {
    matches!(sys_type, 0x05 | 0x0F | 0x85)
}

/// (boot flag, type, start, size) of an MBR entry, start and size scaled to
/// 512-byte units with C's wrapping 32-bit arithmetic.
fn fields(e: &[u8], ssf: u32) -> Option<(u8, u8, u32, u32)> {
    Some((
        u8_at(e, 0)?,
        u8_at(e, 4)?,
        le32(e, 8)?.wrapping_mul(ssf),
        le32(e, 12)?.wrapping_mul(ssf),
    ))
}

/// blkid's `probe_dos_pt`.
fn dos(dev: &mut Device<'_, '_>, mbr: &[u8], ssf: u32) -> Option<PartitionTable> {
    if has_magic(mbr, 0, b"\xC9\xC2\xD4\xC1") || vfat::is_vfat(mbr) {
        return None;
    }
    let mut primaries = Vec::with_capacity(4);
    for i in 0..4 {
        primaries.push(fields(entry(mbr, i)?, ssf)?);
    }
    let bad_boot_flag = primaries
        .iter()
        .any(|&(boot, ..)| boot != 0 && boot != 0x80);
    let protective = primaries.iter().any(|&(_, sys_type, ..)| sys_type == 0xEE);
    if bad_boot_flag || protective {
        return None;
    }
    let signature = le32(mbr, 440)?;
    let id = (signature != 0).then(|| format!("{signature:08x}"));
    let mut parts = Vec::new();
    for (i, &(_, sys_type, start, size)) in (1u32..).zip(&primaries) {
        if size != 0 {
            parts.push((i, start, size, sys_type));
        }
    }
    let mut next = 5u32;
    for &(_, sys_type, start, size) in &primaries {
        if size != 0 && is_extended(sys_type) {
            logical(dev, start, size, ssf, &mut next, &mut parts);
        }
    }
    let partitions = parts
        .into_iter()
        .map(|(number, start, size, sys_type)| Partition {
            number,
            start: u64::from(start),
            size: u64::from(size),
            partuuid: id.as_ref().map(|id| format!("{id}-{number:02x}")),
            partlabel: None,
            part_type: PartType::Dos(sys_type),
        })
        .collect();
    Some(PartitionTable {
        kind: TableKind::Dos,
        id,
        partitions,
    })
}

/// Follows an extended partition's chain of boot records (blkid's
/// `parse_dos_extended`).
fn logical(
    dev: &mut Device<'_, '_>,
    ex_start: u32,
    ex_size: u32,
    ssf: u32,
    next: &mut u32,
    parts: &mut Vec<(u32, u32, u32, u8)>,
) {
    let (mut cur_start, mut cur_size) = (ex_start, ex_size);
    let mut without_data = 0;
    let mut found = 0usize;
    loop {
        without_data += 1;
        if without_data > 100 || found >= MAX_LOGICAL {
            return;
        }
        let Some(ebr) = dev.read(u64::from(cur_start) * 512, 512) else {
            return;
        };
        if !has_magic(&ebr, 510, b"\x55\xAA") {
            return;
        }
        let mut entries = [(0u8, 0u8, 0u32, 0u32); 4];
        for (i, slot) in entries.iter_mut().enumerate() {
            let Some(f) = entry(&ebr, i).and_then(|e| fields(e, ssf)) else {
                return;
            };
            *slot = f;
        }
        for (i, &(_, sys_type, start, size)) in entries.iter().enumerate() {
            let abs_start = cur_start.wrapping_add(start);
            if size == 0 || is_extended(sys_type) {
                continue;
            }
            if i >= 2
                && (start.wrapping_add(size) > cur_size
                    || abs_start < ex_start
                    || abs_start.wrapping_add(size) > ex_start.wrapping_add(ex_size))
            {
                continue;
            }
            parts.push((*next, abs_start, size, sys_type));
            *next += 1;
            found += 1;
            without_data = 0;
        }
        let Some(&(_, _, start, size)) = entries
            .iter()
            .find(|&&(_, sys_type, _, size)| size != 0 && is_extended(sys_type))
        else {
            return;
        };
        cur_start = ex_start.wrapping_add(start);
        cur_size = size;
    }
}

/// A validated GPT header.
struct GptHeader {
    first_usable: u64,
    last_usable: u64,
    disk_guid: [u8; 16],
    entry_count: u32,
}

fn gpt(dev: &mut Device<'_, '_>, device_bytes: u64, sector_size: u32) -> Option<PartitionTable> {
    let ssz = u64::from(sector_size);
    if device_bytes < ssz {
        return None;
    }
    let last_lba = device_bytes / ssz - 1;
    let (header, entries) = gpt_header(dev, 1, last_lba, sector_size)
        .or_else(|| gpt_header(dev, last_lba, last_lba, sector_size))?;
    let ssf = u64::from(sector_size / 512);
    let mut partitions = Vec::new();
    for (number, e) in (1u32..).zip(
        entries
            .chunks_exact(ENTRY_LEN)
            .take(usize::try_from(header.entry_count).unwrap_or(usize::MAX)),
    ) {
        let type_guid: [u8; 16] = array(e, 0)?;
        if type_guid == [0; 16] {
            continue;
        }
        let start = le64(e, 32)?;
        let size = le64(e, 40)?.wrapping_sub(start).wrapping_add(1);
        if start < header.first_usable
            || start.wrapping_add(size).wrapping_sub(1) > header.last_usable
        {
            continue;
        }
        partitions.push(Partition {
            number,
            start: start.wrapping_mul(ssf),
            size: size.wrapping_mul(ssf),
            partuuid: dce_uuid(&swap_guid(array(e, 16)?)),
            partlabel: bytes::utf16_label(slice(e, 56, 72)?, false),
            part_type: PartType::Gpt(guid_text(swap_guid(type_guid))),
        });
    }
    Some(PartitionTable {
        kind: TableKind::Gpt,
        id: dce_uuid(&swap_guid(header.disk_guid)),
        partitions,
    })
}

/// A GUID in text, even all zero.
fn guid_text(raw: [u8; 16]) -> String {
    dce_uuid(&raw).unwrap_or_else(|| String::from("00000000-0000-0000-0000-000000000000"))
}

/// blkid's `get_gpt_header`: the header at `lba` and its entry array, both
/// checked.
fn gpt_header(
    dev: &mut Device<'_, '_>,
    lba: u64,
    last_lba: u64,
    sector_size: u32,
) -> Option<(GptHeader, Vec<u8>)> {
    let ssz = u64::from(sector_size);
    let h = dev
        .read(lba.checked_mul(ssz)?, usize::try_from(sector_size).ok()?)?
        .into_owned();
    if !has_magic(&h, 0, b"EFI PART") {
        return None;
    }
    let hsz = le32(&h, 12)?;
    if hsz > sector_size || hsz < 92 {
        return None;
    }
    let covered = slice(&h, 0, usize::try_from(hsz).ok()?)?;
    if !bytes::crc32(!0, &bytes::zeroed(covered, 16, 4)) != le32(&h, 16)? {
        return None;
    }
    if le64(&h, 24)? != lba {
        return None;
    }
    let (first_usable, last_usable) = (le64(&h, 40)?, le64(&h, 48)?);
    if last_usable < first_usable || first_usable > last_lba || last_usable > last_lba {
        return None;
    }
    if first_usable < lba && lba < last_usable {
        return None;
    }
    let entry_count = le32(&h, 80)?;
    let entry_size = le32(&h, 84)?;
    let array_len = u64::from(entry_count) * u64::from(entry_size);
    if array_len == 0 || array_len >= u64::from(u32::MAX) || entry_size != GPT_ENTRY {
        return None;
    }
    let entries_at = le64(&h, 72)?.checked_mul(ssz)?;
    let entries = dev
        .read(entries_at, usize::try_from(array_len).ok()?)?
        .into_owned();
    if !bytes::crc32(!0, &entries) != le32(&h, 88)? {
        return None;
    }
    let header = GptHeader {
        first_usable,
        last_usable,
        disk_guid: array(&h, 56)?,
        entry_count,
    };
    Some((header, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil::{self, Image};
    use alloc::vec;

    fn check(name: &str, image: &Image, blkid: &str, partx: &str) {
        let got = read_table(&mut |off, len| image.read(off, len), image.size, 512);
        testutil::assert_table_agrees(name, got.as_ref(), blkid, partx);
        // The head alone knows as much here (primary GPT, near EBRs).
        assert_eq!(parse(&image.head, image.size), got, "{name}: head only");
    }

    #[test]
    fn agrees_with_blkid() {
        let dos = Image::new(include_bytes!("testdata/dos.head"), None);
        check(
            "dos",
            &dos,
            include_str!("testdata/dos.blkid"),
            include_str!("testdata/dos.partx"),
        );
        let gpt = Image::new(
            include_bytes!("testdata/gpt.head"),
            Some(include_bytes!("testdata/gpt.extents")),
        );
        check(
            "gpt",
            &gpt,
            include_str!("testdata/gpt.blkid"),
            include_str!("testdata/gpt.partx"),
        );
        let hybrid = Image::new(
            include_bytes!("testdata/iso9660-hybrid.head"),
            Some(include_bytes!("testdata/iso9660-hybrid.extents")),
        );
        check(
            "iso9660-hybrid",
            &hybrid,
            include_str!("testdata/iso9660-hybrid.blkid"),
            include_str!("testdata/iso9660-hybrid.partx"),
        );
    }

    #[test]
    fn backup_gpt_is_used_when_the_primary_is_damaged() {
        let gpt = Image::new(
            include_bytes!("testdata/gpt.head"),
            Some(include_bytes!("testdata/gpt.extents")),
        );
        let good = read_table(&mut |off, len| gpt.read(off, len), gpt.size, 512).unwrap();
        let mut damaged = gpt.clone();
        damaged.head[512 + 40] ^= 0xFF; // first_usable: breaks the header CRC
        let got = read_table(&mut |off, len| damaged.read(off, len), damaged.size, 512).unwrap();
        assert_eq!(got, good);
        // With the head alone there is no backup to fall back on.
        assert_eq!(parse(&damaged.head, damaged.size), None);
    }

    #[test]
    fn gpt_needs_only_a_0xee_entry_from_the_mbr() {
        let gpt = Image::new(
            include_bytes!("testdata/gpt.head"),
            Some(include_bytes!("testdata/gpt.extents")),
        );
        let good = parse(&gpt.head, gpt.size).unwrap();
        let mut img = gpt.head.clone();
        img[MBR_ENTRIES] = 0x7F; // a boot flag "dos" would refuse
        assert_eq!(parse(&img, gpt.size).as_ref(), Some(&good));
        img[MBR_ENTRIES + 4] = 0x83; // no protective entry left
        assert_eq!(parse(&img, gpt.size), None);
        // Floppy-sized devices have no GPT for blkid.
        assert_eq!(parse(&gpt.head, 1_474_560), None);
        assert!(
            parse(&gpt.head, 1_474_561).is_none(),
            "usable area beyond the end"
        );
        assert!(parse(&gpt.head, 2 << 20).is_some());
    }

    #[test]
    fn mbr_rules() {
        let dos: &[u8] = include_bytes!("testdata/dos.head");
        // A boot flag other than 0/0x80 disqualifies the table.
        let mut img = dos.to_vec();
        img[MBR_ENTRIES + 16] = 0x01;
        assert_eq!(parse(&img, img.len() as u64), None);
        // No signature: no table.
        let mut img = dos.to_vec();
        img[510] = 0;
        assert_eq!(parse(&img, img.len() as u64), None);
        // A zero disk signature: partitions but no PARTUUIDs.
        let mut img = dos.to_vec();
        img[440..444].fill(0);
        let t = parse(&img, img.len() as u64).unwrap();
        assert_eq!(t.id, None);
        assert!(t.partitions.iter().all(|p| p.partuuid.is_none()));
        // A FAT boot sector is not a partition table.
        let fat: &[u8] = include_bytes!("testdata/fat12.head");
        assert_eq!(parse(fat, 1_474_560), None);
    }

    #[test]
    fn survives_truncation_and_corruption() {
        // Every table here lives in the first 24 KiB (MBR, EBRs at sectors
        // 16 and 40, GPT header and 16 KiB of entries).
        for head in [
            &include_bytes!("testdata/dos.head")[..24 << 10],
            &include_bytes!("testdata/gpt.head")[..24 << 10],
            &include_bytes!("testdata/iso9660-hybrid.head")[..24 << 10],
        ] {
            testutil::sweep(head, &[0, 440, 512, 1024, 8192, 20480], |buf| {
                let _ = parse(buf, 2 << 20);
                let _ = parse(buf, buf.len() as u64);
            });
        }
    }

    #[test]
    fn an_extended_chain_that_loops_ends() {
        // An EBR whose "next" link points back at itself, holding a data
        // partition each time round.
        let mut img = vec![0u8; 4096];
        img[510..512].copy_from_slice(&[0x55, 0xAA]);
        img[MBR_ENTRIES + 4] = 0x05;
        img[MBR_ENTRIES + 8..MBR_ENTRIES + 12].copy_from_slice(&2u32.to_le_bytes());
        img[MBR_ENTRIES + 12..MBR_ENTRIES + 16].copy_from_slice(&6u32.to_le_bytes());
        let ebr = 1024;
        img[ebr + 510..ebr + 512].copy_from_slice(&[0x55, 0xAA]);
        img[ebr + MBR_ENTRIES + 4] = 0x83;
        img[ebr + MBR_ENTRIES + 8..ebr + MBR_ENTRIES + 12].copy_from_slice(&1u32.to_le_bytes());
        img[ebr + MBR_ENTRIES + 12..ebr + MBR_ENTRIES + 16].copy_from_slice(&1u32.to_le_bytes());
        img[ebr + MBR_ENTRIES + 16 + 4] = 0x05;
        img[ebr + MBR_ENTRIES + 16 + 12..ebr + MBR_ENTRIES + 16 + 16]
            .copy_from_slice(&1u32.to_le_bytes());
        let t = parse(&img, img.len() as u64).unwrap();
        assert_eq!(t.partitions.len(), 1 + MAX_LOGICAL);
    }
}
