//! Bounds-checked reads and the string/UUID conventions blkid applies to
//! every superblock field. Everything answers `None` rather than reading
//! past the buffer.

use alloc::string::String;
use alloc::vec::Vec;

/// `len` bytes at `off`, or `None` when the buffer is too short.
pub(crate) fn slice(buf: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    buf.get(off..off.checked_add(len)?)
}

/// A fixed-size copy of the bytes at `off`.
pub(crate) fn array<const N: usize>(buf: &[u8], off: usize) -> Option<[u8; N]> {
    slice(buf, off, N)?.try_into().ok()
}

pub(crate) fn u8_at(buf: &[u8], off: usize) -> Option<u8> {
    buf.get(off).copied()
}

pub(crate) fn le16(buf: &[u8], off: usize) -> Option<u16> {
    array(buf, off).map(u16::from_le_bytes)
}

pub(crate) fn le32(buf: &[u8], off: usize) -> Option<u32> {
    array(buf, off).map(u32::from_le_bytes)
}

pub(crate) fn le64(buf: &[u8], off: usize) -> Option<u64> {
    array(buf, off).map(u64::from_le_bytes)
}

pub(crate) fn be16(buf: &[u8], off: usize) -> Option<u16> {
    array(buf, off).map(u16::from_be_bytes)
}

pub(crate) fn be32(buf: &[u8], off: usize) -> Option<u32> {
    array(buf, off).map(u32::from_be_bytes)
}

pub(crate) fn be64(buf: &[u8], off: usize) -> Option<u64> {
    array(buf, off).map(u64::from_be_bytes)
}

/// Does `buf` hold `magic` at `off`?
pub(crate) fn has_magic(buf: &[u8], off: usize, magic: &[u8]) -> bool {
    slice(buf, off, magic.len()) == Some(magic)
}

/// C `isspace()` in the C locale, which is what blkid trims with
/// (note: includes the vertical tab, unlike `u8::is_ascii_whitespace`).
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `bytes` cut at the first NUL, as blkid copies a C string.
pub(crate) fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => bytes.get(..end).unwrap_or(bytes),
        None => bytes,
    }
}

/// Drops trailing C white space (blkid's `blkid_rtrim_whitespace`).
fn rtrim(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| !is_c_space(b))
        .map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or(&[])
}

/// Bytes to a `String`; invalid UTF-8 becomes U+FFFD (blkid passes raw
/// bytes through, which a Rust string cannot hold).
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A label as `blkid_probe_set_label` stores it: the field up to its first
/// NUL, trailing white space removed; nothing when that leaves it empty.
pub(crate) fn label(raw: &[u8]) -> Option<String> {
    let trimmed = rtrim(until_nul(raw));
    if trimmed.is_empty() {
        None
    } else {
        Some(lossy(trimmed))
    }
}

/// Decodes UTF-16 to UTF-8 the way util-linux's `ul_encode_to_utf8` does:
/// stops at U+0000, joins surrogate pairs, ignores a dangling odd byte.
/// (An unpaired surrogate, which blkid writes as raw 3-byte CESU-8, becomes
/// U+FFFD here.)
pub(crate) fn utf16_to_string(raw: &[u8], big_endian: bool) -> String {
    let units = raw.chunks_exact(2).map(|pair| {
        let pair: [u8; 2] = pair.try_into().unwrap_or([0, 0]);
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let units = units.take_while(|&u| u != 0);
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// A UTF-16 label as `blkid_probe_set_utf8label` stores it: decoded,
/// trailing white space removed, nothing when empty.
pub(crate) fn utf16_label(raw: &[u8], big_endian: bool) -> Option<String> {
    let text = utf16_to_string(raw, big_endian);
    let trimmed = rtrim(text.as_bytes());
    if trimmed.is_empty() {
        None
    } else {
        Some(lossy(trimmed))
    }
}

/// A GUID stored the EFI way (first three fields little-endian) as the
/// byte order of a textual UUID.
pub(crate) fn swap_guid(raw: [u8; 16]) -> [u8; 16] {
    let mut out = raw;
    out.swap(0, 3);
    out.swap(1, 2);
    out.swap(4, 5);
    out.swap(6, 7);
    out
}

/// A 16-byte binary UUID as blkid prints it (lower-case 8-4-4-4-12);
/// nothing when all bytes are zero (`blkid_uuid_is_empty`).
pub(crate) fn dce_uuid(raw: &[u8; 16]) -> Option<String> {
    if raw.iter().all(|&b| b == 0) {
        return None;
    }
    let mut out = String::with_capacity(36);
    for (i, b) in raw.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        push_hex(&mut out, *b);
    }
    Some(out)
}

/// Two lower-case hex digits.
pub(crate) fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for nibble in [b >> 4, b & 0x0f] {
        out.push(char::from(
            HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
        ));
    }
}

/// A 16-entry table for a reflected CRC-32 with polynomial `poly`.
const fn nibble_table(poly: u32) -> [u32; 16] {
    let mut table = [0u32; 16];
    let mut i: u32 = 0;
    while i < 16 {
        let mut crc = i;
        let mut bit = 0;
        while bit < 4 {
            crc = (crc >> 1) ^ (poly & (crc & 1).wrapping_neg());
            bit += 1;
        }
        // Evaluated at compile time: an out-of-range index is a build error.
        #[allow(clippy::indexing_slicing)]
        {
            table[i as usize] = crc;
        }
        i += 1;
    }
    table
}

/// Reflected CRC-32 update with a nibble table (64 bytes instead of 1 KiB;
/// the probes checksum a few KiB once per device).
fn crc32_with(table: &[u32; 16], seed: u32, data: &[u8]) -> u32 {
    let step = |crc: u32| (crc >> 4) ^ table.get((crc & 0xF) as usize).copied().unwrap_or(0);
    data.iter()
        .fold(seed, |crc, &b| step(step(crc ^ u32::from(b))))
}

/// CRC-32C (Castagnoli) update without pre/post inversion, as the kernel's
/// and util-linux's `crc32c(seed, buf, len)`: callers pass `!0` as seed.
pub(crate) fn crc32c(seed: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 16] = nibble_table(0x82F6_3B78);
    crc32_with(&TABLE, seed, data)
}

/// CRC-32 (IEEE 802.3, the zlib/GPT one) update without pre/post
/// inversion, as util-linux's `ul_crc32(seed, buf, len)`.
pub(crate) fn crc32(seed: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 16] = nibble_table(0xEDB8_8320);
    crc32_with(&TABLE, seed, data)
}

/// `data` with `len` bytes at `off` replaced by zeros (for checksums that
/// cover their own field).
pub(crate) fn zeroed(data: &[u8], off: usize, len: usize) -> Vec<u8> {
    let mut copy = data.to_vec();
    if let Some(field) = off.checked_add(len).and_then(|end| copy.get_mut(off..end)) {
        field.fill(0);
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let buf = [1u8, 2, 3, 4];
        assert_eq!(le16(&buf, 2), Some(0x0403));
        assert_eq!(le16(&buf, 3), None);
        assert_eq!(le32(&buf, usize::MAX), None);
        assert_eq!(slice(&buf, usize::MAX, 2), None);
    }

    #[test]
    fn labels_follow_blkid() {
        assert_eq!(label(b"My Disk   \0junk"), Some("My Disk".into()));
        assert_eq!(label(b"  lead kept\t\x0b"), Some("  lead kept".into()));
        assert_eq!(label(b"   \0"), None);
        assert_eq!(label(b""), None);
        assert_eq!(utf16_label(b"\0A\0b\0 \0 \0\0\0C", true), Some("Ab".into()));
        assert_eq!(utf16_label(b"A\0b\0", false), Some("Ab".into()));
        // U+1F600 as a surrogate pair, then a lone high surrogate.
        assert_eq!(
            utf16_to_string(&[0xd8, 0x3d, 0xde, 0x00, 0xd8, 0x00], true),
            "\u{1f600}\u{fffd}"
        );
    }

    #[test]
    fn uuids_follow_blkid() {
        let raw: [u8; 16] = *b"\x01\x23\xab\xcd\x45\x67\x89\xef\x01\x23\x45\x67\x89\xab\xcd\xef";
        assert_eq!(
            dce_uuid(&raw).as_deref(),
            Some("0123abcd-4567-89ef-0123-456789abcdef")
        );
        assert_eq!(dce_uuid(&[0; 16]), None);
    }

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // CRC-32C("123456789") with the usual pre/post inversion is 0xE3069283.
        assert_eq!(!crc32c(!0, b"123456789"), 0xE306_9283);
        // CRC-32("123456789") is 0xCBF43926.
        assert_eq!(!crc32(!0, b"123456789"), 0xCBF4_3926);
    }
}
