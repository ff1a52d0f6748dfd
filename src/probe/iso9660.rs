//! ISO 9660 (+ Joliet), as libblkid's `iso9660` prober reports it.
//!
//! Layout (ECMA-119): volume descriptors of 2048 bytes from 32 KiB on, each
//! `type, "CD001", version, …`, ended by a terminator (type 255). The primary
//! descriptor (type 1) holds the ASCII volume identifier (offset 40, 32
//! bytes, space-padded) and dates as 16 ASCII digits + a GMT offset byte
//! (creation at 813, modification at 830). Joliet is a supplementary
//! descriptor (type 2) whose escape sequences (offset 88) are `%/@`, `%/C`
//! or `%/E` and whose volume identifier is UCS-2/UTF-16BE (16 characters).
//!
//! blkid's rules mirrored here (util-linux 2.38+):
//! - the signature is `CD001` at 32 KiB + 1; then up to 16 descriptors are
//!   scanned from 32 KiB until the terminator, keeping the first primary and
//!   the first Joliet descriptor;
//! - LABEL: without Joliet, the primary identifier (to its first NUL,
//!   trailing blanks trimmed). With Joliet, the Joliet label is *merged* with
//!   the primary one when it is a prefix of it — ignoring case and `_`
//!   (which stands for a character ASCII cannot hold) — so a long label cut
//!   to 16 characters by Joliet is reconstructed from the primary
//!   descriptor's tail, and the Joliet spelling (case, non-ASCII letters)
//!   wins for the prefix; when they disagree, the Joliet label alone;
//! - UUID: the modification date as `YYYY-MM-DD-HH-MM-SS-cc`; if that date
//!   is "unset" (all sixteen digits `'0'` *and* a zero GMT offset), the
//!   creation date instead. A date of sixteen NUL bytes is not "unset": it
//!   gives no UUID at all and no fallback.
//!
//! Not handled: High Sierra (`CDROM` at 32 KiB + 9), multi-session offsets.

use alloc::string::String;
use alloc::vec::Vec;

use super::bytes::{has_magic, lossy, slice, u8_at, until_nul, utf16_label};
use super::{bytes, FsInfo, FsType};

const FIRST_DESCRIPTOR: usize = 0x8000;
const SECTOR: usize = 0x800;
const MAX_DESCRIPTORS: usize = 16;
/// Bytes blkid needs to see of each descriptor (its struct, up to
/// `std_version`); a descriptor cut shorter ends the scan.
const DESCRIPTOR_LEN: usize = 882;

const TYPE_PRIMARY: u8 = 1;
const TYPE_SUPPLEMENTARY: u8 = 2;
const TYPE_TERMINATOR: u8 = 255;

const VOLUME_ID: usize = 40;
const VOLUME_ID_LEN: usize = 32;
const ESCAPES: usize = 88;
const CREATED: usize = 813;
const MODIFIED: usize = 830;

/// Probes for ISO 9660 at its fixed place (32 KiB into `buf`).
pub(crate) fn probe(buf: &[u8]) -> Option<FsInfo> {
    if !has_magic(buf, FIRST_DESCRIPTOR + 1, b"CD001") {
        return None;
    }
    let mut primary = None;
    let mut joliet = None;
    for i in 0..MAX_DESCRIPTORS {
        let off = FIRST_DESCRIPTOR + i * SECTOR;
        let Some(desc) = slice(buf, off, DESCRIPTOR_LEN) else {
            break;
        };
        match u8_at(desc, 0)? {
            TYPE_TERMINATOR => break,
            TYPE_PRIMARY if primary.is_none() => primary = Some(desc),
            TYPE_SUPPLEMENTARY if joliet.is_none() && is_joliet(desc) => joliet = Some(desc),
            _ => {}
        }
    }
    let primary = primary?;
    let pvd_label = slice(primary, VOLUME_ID, VOLUME_ID_LEN)?;
    let label = match joliet {
        Some(joliet) => {
            let joliet_label = slice(joliet, VOLUME_ID, VOLUME_ID_LEN)?;
            match merge_utf16be_ascii(joliet_label, pvd_label) {
                Some(merged) => utf16_label(&merged, true),
                None => utf16_label(joliet_label, true),
            }
        }
        None => bytes::label(pvd_label),
    };
    let uuid = match date_uuid(slice(primary, MODIFIED, 17)?) {
        DateUuid::Unset => match date_uuid(slice(primary, CREATED, 17)?) {
            DateUuid::Set(uuid) => Some(uuid),
            DateUuid::Unset | DateUuid::Empty => None,
        },
        DateUuid::Set(uuid) => Some(uuid),
        DateUuid::Empty => None,
    };
    Some(FsInfo {
        fstype: FsType::Iso9660,
        label,
        uuid,
    })
}

fn is_joliet(desc: &[u8]) -> bool {
    [b"%/@", b"%/C", b"%/E"]
        .iter()
        .any(|esc| has_magic(desc, ESCAPES, *esc))
}

enum DateUuid {
    /// All digits `'0'` and offset 0: the standard's "not specified".
    Unset,
    /// Sixteen NUL bytes: blkid sets no UUID (and does not fall back).
    Empty,
    Set(String),
}

/// blkid's `probe_iso9660_set_uuid` on a 17-byte dec-datetime.
fn date_uuid(date: &[u8]) -> DateUuid {
    let (Some(digits), Some(offset)) = (date.get(..16), date.get(16)) else {
        return DateUuid::Empty;
    };
    if digits.iter().all(|&b| b == b'0') && *offset == 0 {
        return DateUuid::Unset;
    }
    if digits.iter().all(|&b| b == 0) {
        return DateUuid::Empty;
    }
    let mut text = Vec::with_capacity(22);
    for (i, &b) in digits.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10 | 12 | 14) {
            text.push(b'-');
        }
        text.push(b);
    }
    // blkid formats with "%c": an embedded NUL ends its string.
    DateUuid::Set(lossy(until_nul(&text)))
}

/// blkid's `merge_utf16be_ascii`: when the Joliet (UTF-16BE) identifier is a
/// prefix of the primary (ASCII) one — comparing case-insensitively, with
/// `_` on either side matching anything — returns the UTF-16BE text made of
/// the Joliet characters (or the ASCII one where Joliet has `_` or where the
/// ASCII character is not upper-case) followed by the rest of the ASCII
/// identifier. `None` when they disagree.
fn merge_utf16be_ascii(utf16: &[u8], ascii: &[u8]) -> Option<Vec<u8>> {
    let len = ascii.len().min(utf16.len());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let mut out = Vec::with_capacity(len * 2 + 4);
    let (mut a, mut u) = (0usize, 0usize);
    while u + 1 < len && a < len {
        // A surrogate pair: copy the high half, match the low half below
        // (which only an ASCII '_' accepts).
        if (0xD8..=0xDB).contains(&at(utf16, u))
            && u + 3 < len
            && (0xDC..=0xDF).contains(&at(utf16, u + 2))
        {
            out.extend_from_slice(&[at(utf16, u), at(utf16, u + 1)]);
            u += 2;
        }
        let (hi, lo, c) = (at(utf16, u), at(utf16, u + 1), at(ascii, a));
        if c == b'_' {
            out.extend_from_slice(&[hi, lo]);
        } else if hi == 0 && lo == b'_' {
            out.extend_from_slice(&[0, c]);
        } else if hi == 0 && c.eq_ignore_ascii_case(&lo) {
            out.extend_from_slice(&[0, if c.is_ascii_uppercase() { lo } else { c }]);
        } else {
            return None;
        }
        a += 1;
        u += 2;
    }
    for &c in ascii.get(a..len).unwrap_or(&[]) {
        out.extend_from_slice(&[0, c]);
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil;

    const PLAIN: &[u8] = include_bytes!("testdata/iso9660-plain.head");
    const JOLIET: &[u8] = include_bytes!("testdata/iso9660-joliet.head");
    const HYBRID: &[u8] = include_bytes!("testdata/iso9660-hybrid.head");

    #[test]
    fn agrees_with_blkid() {
        testutil::assert_agrees(
            "iso9660-plain",
            PLAIN,
            include_str!("testdata/iso9660-plain.blkid"),
        );
        testutil::assert_agrees(
            "iso9660-joliet",
            JOLIET,
            include_str!("testdata/iso9660-joliet.blkid"),
        );
        testutil::assert_agrees(
            "iso9660-hybrid",
            HYBRID,
            include_str!("testdata/iso9660-hybrid.blkid"),
        );
    }

    #[test]
    fn survives_truncation_and_corruption() {
        for head in [PLAIN, JOLIET, HYBRID] {
            testutil::assert_robust(head, &[0, 0x8000, 0x8800, 0x9000, 0x9800]);
        }
    }

    /// Rewrites the volume identifiers of a copy of the Joliet fixture.
    fn with_labels(pvd: &[u8], joliet: &str) -> Vec<u8> {
        let mut img = JOLIET.to_vec();
        let mut off = FIRST_DESCRIPTOR;
        while img[off] != TYPE_TERMINATOR {
            let kind = img[off];
            let field = &mut img[off + VOLUME_ID..off + VOLUME_ID + VOLUME_ID_LEN];
            match kind {
                TYPE_PRIMARY => {
                    field.fill(b' ');
                    field[..pvd.len()].copy_from_slice(pvd);
                }
                TYPE_SUPPLEMENTARY => {
                    let mut units: Vec<u8> =
                        joliet.encode_utf16().flat_map(u16::to_be_bytes).collect();
                    units.resize(VOLUME_ID_LEN, 0);
                    for pad in units.chunks_mut(2).skip(joliet.encode_utf16().count()) {
                        pad.copy_from_slice(&[0, b' ']);
                    }
                    field.copy_from_slice(&units[..VOLUME_ID_LEN]);
                }
                _ => {}
            }
            off += SECTOR;
        }
        img
    }

    fn label_of(img: &[u8]) -> Option<String> {
        probe(img).unwrap().label
    }

    /// Expected values observed with blkid 2.38.1 on the same edits of the
    /// full image.
    #[test]
    fn joliet_merge_matches_blkid() {
        assert_eq!(
            label_of(&with_labels(b"MY DISK", "my disk")).as_deref(),
            Some("my disk")
        );
        assert_eq!(
            label_of(&with_labels(b"FEDORA-WS-LIVE-40-1-14", "Fedora-WS-Live-4")).as_deref(),
            Some("Fedora-WS-Live-40-1-14")
        );
        assert_eq!(
            label_of(&with_labels(b"CAF_", "Caf\u{e9}")).as_deref(),
            Some("Caf\u{e9}")
        );
        assert_eq!(
            label_of(&with_labels(b"ABC", "XYZ")).as_deref(),
            Some("XYZ")
        );
        assert_eq!(
            label_of(&with_labels(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "ABCDEFGHIJKLMNOP"
            ))
            .as_deref(),
            Some("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        );
        // An emoji (surrogate pair) stands behind one '_' in the ASCII name.
        assert_eq!(
            label_of(&with_labels(b"A_B", "A\u{1f600}B")).as_deref(),
            Some("A\u{1f600}B")
        );
    }

    #[test]
    fn uuid_falls_back_to_creation_date_only_when_unset() {
        let mut img = PLAIN.to_vec();
        let pvd = FIRST_DESCRIPTOR;
        img[pvd + CREATED..pvd + CREATED + 16].copy_from_slice(b"2001020304050607");
        img[pvd + MODIFIED..pvd + MODIFIED + 16].copy_from_slice(b"0000000000000000");
        img[pvd + MODIFIED + 16] = 0;
        assert_eq!(
            probe(&img).unwrap().uuid.as_deref(),
            Some("2001-02-03-04-05-06-07")
        );
        // A non-zero GMT offset makes an all-'0' date "set".
        img[pvd + MODIFIED + 16] = 4;
        assert_eq!(
            probe(&img).unwrap().uuid.as_deref(),
            Some("0000-00-00-00-00-00-00")
        );
        // NUL digits: no UUID, no fallback.
        img[pvd + MODIFIED..pvd + MODIFIED + 17].fill(0);
        assert_eq!(probe(&img).unwrap().uuid, None);
    }

    #[test]
    fn rejects_what_is_not_iso9660() {
        assert_eq!(probe(&[]), None);
        assert_eq!(probe(&[0u8; crate::probe::PROBE_BYTES]), None);
        // Signature but the primary descriptor cut short.
        assert_eq!(probe(&PLAIN[..FIRST_DESCRIPTOR + 100]), None);
        // A terminator before any primary descriptor.
        let mut img = PLAIN.to_vec();
        img[FIRST_DESCRIPTOR] = TYPE_TERMINATOR;
        assert_eq!(probe(&img), None);
    }
}
