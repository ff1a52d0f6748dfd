//! The checksum `implantisomd5` (isomd5sum) writes into an ISO's primary
//! volume descriptor, and its verification as a stream
//! (docs/dracut-live.md §3.9). Pure: the caller reads the medium.
//!
//! The format: the PVD's application-use field (512 bytes at 883) holds
//! `ISO MD5SUM = <32 hex>;SKIPSECTORS = <n>;RHLISOSTATUS=<0|1>;FRAGMENT SUMS = <60 hex>;FRAGMENT COUNT = <n>;`.
//! The sum covers the image from byte 0 up to its last `SKIPSECTORS`
//! sectors, with that field read as spaces. The fragment sums let a check
//! stop at the first bad part: after each 32 KiB read that enters part `k`
//! of `count + 1` equal parts, the first hex digit of each of the first
//! `60 / count` bytes of the running MD5 must match the `k`th group.

use crate::md5::{hex, Md5};

pub const SECTOR: u64 = 2048;
/// The primary volume descriptor is looked for from here (sector 16).
pub const DESCRIPTORS_START: u64 = 16 * SECTOR;
/// The application-use field in a volume descriptor.
pub const APPDATA_OFFSET: usize = 883;
pub const APPDATA_LEN: usize = 512;
/// isomd5sum reads (and checks fragments) in blocks of this size; the
/// fragment sums depend on it.
pub const READ_BLOCK: usize = 16 * 2048;
const FRAGMENT_SUMS_LEN: usize = 60;

/// What `implantisomd5` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implanted {
    /// Byte offset of the primary volume descriptor.
    pub pvd_offset: u64,
    /// The volume's size in bytes (from the PVD).
    pub iso_bytes: u64,
    pub md5: [u8; 32],
    pub skip_sectors: u64,
    pub fragment_count: u64,
    pub fragment_sums: Option<[u8; FRAGMENT_SUMS_LEN]>,
}

/// Reads the implanted sum from a volume descriptor found at
/// `pvd_offset`; `None` if it is not a primary volume descriptor or holds
/// no sum (`ISO MD5SUM` and `SKIPSECTORS` are both needed).
pub fn parse(descriptor: &[u8], pvd_offset: u64) -> Option<Implanted> {
    if descriptor.first() != Some(&1) || descriptor.get(1..6) != Some(b"CD001") {
        return None;
    }
    let size: [u8; 4] = descriptor.get(84..88)?.try_into().ok()?;
    let appdata = descriptor.get(APPDATA_OFFSET..APPDATA_OFFSET + APPDATA_LEN)?;
    let mut md5 = None;
    let mut skip = None;
    let mut count = 20;
    let mut sums = None;
    for field in appdata.split(|&b| b == b';') {
        let text = core::str::from_utf8(field).unwrap_or("").trim_start();
        if let Some(v) = text.strip_prefix("ISO MD5SUM = ") {
            md5 = v.as_bytes().get(..32)?.try_into().ok();
        } else if let Some(v) = text.strip_prefix("SKIPSECTORS = ") {
            skip = v.trim().parse().ok();
        } else if let Some(v) = text.strip_prefix("FRAGMENT SUMS = ") {
            // `implantisomd5` writes fewer digits for an ISO whose parts
            // are smaller than its reads; the whole sum still holds.
            sums = v
                .as_bytes()
                .get(..FRAGMENT_SUMS_LEN)
                .and_then(|digits| digits.try_into().ok());
        } else if let Some(v) = text.strip_prefix("FRAGMENT COUNT = ") {
            count = v.trim().parse().ok()?;
        }
    }
    Some(Implanted {
        pvd_offset,
        iso_bytes: u64::from(u32::from_be_bytes(size)) * SECTOR,
        md5: md5?,
        skip_sectors: skip?,
        fragment_count: count,
        fragment_sums: sums,
    })
}

/// Where the check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// A fragment sum (1-based part) did not match.
    Fragment(u64),
    /// The whole image's sum did not match.
    Whole,
}

/// The check as a stream: feed it the image in order.
#[derive(Debug, Clone)]
pub struct Verifier {
    sum: Implanted,
    md5: Md5,
    offset: u64,
    previous_fragment: u64,
}

impl Verifier {
    pub fn new(sum: Implanted) -> Verifier {
        Verifier {
            sum,
            md5: Md5::new(),
            offset: 0,
            previous_fragment: 0,
        }
    }

    /// The bytes the sum covers (everything but the skipped last sectors).
    pub fn total(&self) -> u64 {
        self.sum
            .iso_bytes
            .saturating_sub(self.sum.skip_sectors.saturating_mul(SECTOR))
    }

    /// How many bytes to read next (at most [`READ_BLOCK`]); 0 when done.
    pub fn next_len(&self) -> usize {
        let left = self.total().saturating_sub(self.offset);
        usize::try_from(left).unwrap_or(READ_BLOCK).min(READ_BLOCK)
    }

    /// Bytes fed so far.
    pub fn done(&self) -> u64 {
        self.offset
    }

    /// Hashes the next `block` (of [`Verifier::next_len`] bytes; its copy
    /// of the sum's own field is blanked here) and checks the fragment
    /// sum it completes, if any.
    pub fn feed(&mut self, block: &mut [u8]) -> Result<(), Mismatch> {
        self.blank_appdata(block);
        self.md5.update(block);
        let fragment_size = self.total() / (self.sum.fragment_count + 1);
        if let (Some(sums), true) = (&self.sum.fragment_sums, fragment_size > 0) {
            let current = self.offset / fragment_size;
            if current != self.previous_fragment {
                if !fragment_matches(&self.md5, current, self.sum.fragment_count, sums) {
                    return Err(Mismatch::Fragment(current));
                }
                self.previous_fragment = current;
            }
        }
        self.offset += block.len() as u64;
        Ok(())
    }

    /// The verdict once everything was fed.
    pub fn finish(self) -> Result<(), Mismatch> {
        if hex(&self.md5.finish()) == self.sum.md5 {
            Ok(())
        } else {
            Err(Mismatch::Whole)
        }
    }

    fn blank_appdata(&self, block: &mut [u8]) {
        let field = self.sum.pvd_offset + APPDATA_OFFSET as u64;
        let start = field.saturating_sub(self.offset);
        let end = (field + APPDATA_LEN as u64).saturating_sub(self.offset);
        let len = block.len() as u64;
        if end == 0 || start >= len {
            return;
        }
        let range = usize::try_from(start).unwrap_or(0)..usize::try_from(end.min(len)).unwrap_or(0);
        if let Some(bytes) = block.get_mut(range) {
            bytes.fill(b' ');
        }
    }
}

/// Fragment `k` (1-based): the first hex digit of each of the first
/// `60 / count` bytes of the running sum, against the `k`th group.
fn fragment_matches(md5: &Md5, k: u64, count: u64, sums: &[u8; FRAGMENT_SUMS_LEN]) -> bool {
    let per = usize::try_from(FRAGMENT_SUMS_LEN as u64 / count.max(1)).unwrap_or(0);
    let digest = md5.clone().finish();
    let start = usize::try_from(k.saturating_sub(1))
        .unwrap_or(usize::MAX)
        .saturating_mul(per);
    digest
        .iter()
        .take(per.min(16))
        .enumerate()
        .all(|(i, byte)| sums.get(start + i) == Some(&first_hex_digit(*byte)))
}

/// `printf("%01x")` of a byte, first character: the high digit unless it
/// is zero.
fn first_hex_digit(byte: u8) -> u8 {
    let digit = if byte >= 16 { byte >> 4 } else { byte };
    b"0123456789abcdef"
        .get(usize::from(digit))
        .copied()
        .unwrap_or(b'0')
}

#[cfg(test)]
// Test data sizes are small; truncating casts cannot bite here.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;
    use std::process::Command;

    /// An ISO of about 2 MiB (several fragments of 32 KiB reads), with the
    /// sum `implantisomd5` writes (isomd5sum is a host package).
    fn implanted_iso(name: &str) -> Vec<u8> {
        implanted_iso_of(name, 2_000_000)
    }

    /// An ISO holding `data_bytes` of data, with an implanted sum.
    fn implanted_iso_of(name: &str, data_bytes: u32) -> Vec<u8> {
        let dir =
            std::env::temp_dir().join(format!("liveinit-isomd5-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tree")).unwrap();
        let data: Vec<u8> = (0..data_bytes)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(dir.join("tree/data.bin"), data).unwrap();
        let iso = dir.join("x.iso");
        let ok = Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-V", "MD5TEST", "-o"])
            .arg(&iso)
            .arg(dir.join("tree"))
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "xorriso failed");
        assert!(Command::new("implantisomd5")
            .arg(&iso)
            .output()
            .unwrap()
            .status
            .success());
        let bytes = std::fs::read(&iso).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    }

    fn check(iso: &[u8]) -> Option<Result<(), Mismatch>> {
        let pvd = iso.get(DESCRIPTORS_START as usize..)?;
        let sum = parse(pvd, DESCRIPTORS_START)?;
        let mut v = Verifier::new(sum);
        loop {
            let len = v.next_len();
            if len == 0 {
                break;
            }
            let at = v.done() as usize;
            let mut block = iso[at..at + len].to_vec();
            if let Err(e) = v.feed(&mut block) {
                return Some(Err(e));
            }
        }
        Some(v.finish())
    }

    /// checkisomd5's verdict: 0 pass, 1 fail or no sum.
    fn checkisomd5(iso: &[u8]) -> i32 {
        let path =
            std::env::temp_dir().join(format!("liveinit-isomd5-check-{}.iso", std::process::id()));
        std::fs::write(&path, iso).unwrap();
        let code = Command::new("checkisomd5")
            .arg(&path)
            .output()
            .unwrap()
            .status
            .code()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        code
    }

    #[test]
    fn an_intact_implanted_iso_passes_as_with_checkisomd5() {
        let iso = implanted_iso("intact");
        let sum = parse(&iso[DESCRIPTORS_START as usize..], DESCRIPTORS_START).unwrap();
        assert_eq!(sum.skip_sectors, 15);
        assert_eq!(sum.fragment_count, 20);
        assert!(sum.fragment_sums.is_some());
        assert_eq!(checkisomd5(&iso), 0);
        assert_eq!(check(&iso), Some(Ok(())));
    }

    #[test]
    fn one_flipped_byte_fails_at_its_fragment_as_with_checkisomd5() {
        let mut iso = implanted_iso("flipped");
        let at = iso.len() / 2;
        iso[at] ^= 1;
        assert_eq!(checkisomd5(&iso), 1);
        let verdict = check(&iso).unwrap();
        assert!(
            matches!(verdict, Err(Mismatch::Fragment(k)) if (10..=12).contains(&k)),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_flip_in_the_last_part_is_caught_by_the_whole_sum() {
        let mut iso = implanted_iso("tail");
        let sum = parse(&iso[DESCRIPTORS_START as usize..], DESCRIPTORS_START).unwrap();
        let covered = (sum.iso_bytes - sum.skip_sectors * SECTOR) as usize;
        iso[covered - 10] ^= 0x80;
        assert_eq!(check(&iso), Some(Err(Mismatch::Whole)));
    }

    /// Under about 700 KiB the parts are smaller than isomd5sum's reads
    /// and it writes broken fragment sums (checkisomd5 then fails even an
    /// intact ISO): the whole sum is checked alone.
    #[test]
    fn a_tiny_iso_is_checked_by_its_whole_sum() {
        let mut iso = implanted_iso_of("tiny", 100_000);
        let sum = parse(&iso[DESCRIPTORS_START as usize..], DESCRIPTORS_START).unwrap();
        assert_eq!(sum.fragment_sums, None);
        assert_eq!(check(&iso), Some(Ok(())));
        let at = iso.len() / 2;
        iso[at] ^= 1;
        assert_eq!(check(&iso), Some(Err(Mismatch::Whole)));
    }

    #[test]
    fn an_iso_without_a_sum_has_none() {
        let iso = implanted_iso("none");
        let mut plain = iso.clone();
        let field = DESCRIPTORS_START as usize + APPDATA_OFFSET;
        plain[field..field + APPDATA_LEN].fill(b' ');
        assert_eq!(check(&plain), None);
        assert_eq!(checkisomd5(&plain), 1);
        assert_eq!(parse(b"not a descriptor", 0), None);
    }
}
