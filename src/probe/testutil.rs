//! Test support: blkid's `-o export` and partx's `-P` output as the
//! oracle, fixture images, and the truncation / corruption sweeps every
//! fixture goes through.

#![allow(clippy::cast_possible_truncation)]

// The crate is `no_std` without its `std` feature; tests always have std.
extern crate std;

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use super::partition::{PartType, PartitionTable};

/// Undoes blkid's `safe_print` escapes: `\x` for shell-special characters,
/// `^X` for control characters and `M-` for bytes ≥ 0x80 (ambiguous with a
/// literal "M-" or "^", which the fixtures avoid).
fn unescape_blkid(value: &str) -> String {
    let raw = value.as_bytes();
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let mut high = 0u8;
        if raw[i..].starts_with(b"M-") && i + 2 < raw.len() {
            high = 0x80;
            i += 2;
        }
        let b = match raw[i] {
            b'^' if i + 1 < raw.len() => {
                i += 1;
                raw[i] ^ 0x40
            }
            b'\\' if i + 1 < raw.len() => {
                i += 1;
                raw[i]
            }
            b => b,
        };
        bytes.push(b | high);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Parses `blkid -p -o export` output into NAME → value.
pub fn parse_blkid_export(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), unescape_blkid(value)))
        .collect()
}

/// Parses one line of `partx -P` output (`KEY="value" …`, with `\xHH`
/// escapes) into KEY → value.
fn parse_pairs(line: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = line.trim();
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut bytes = Vec::new();
        let raw = after.as_bytes();
        let mut i = 0;
        while i < raw.len() && raw[i] != b'"' {
            if raw[i..].starts_with(b"\\x") && i + 3 < raw.len() {
                let hex = std::str::from_utf8(&raw[i + 2..i + 4]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                i += 4;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        out.insert(key.trim().to_string(), String::from_utf8(bytes).unwrap());
        rest = after.get(i + 1..).unwrap_or("").trim();
    }
    out
}

/// Asserts that `got` is what blkid reported: TYPE, LABEL and UUID (absent
/// keys must be absent here too).
fn assert_fs_agrees(name: &str, got: Option<super::FsInfo>, blkid: &str) {
    let expected = parse_blkid_export(blkid);
    let got_type = got.as_ref().map(|i| i.fstype.as_str().to_string());
    assert_eq!(got_type, expected.get("TYPE").cloned(), "{name}: TYPE");
    let got = got.unwrap();
    assert_eq!(got.label, expected.get("LABEL").cloned(), "{name}: LABEL");
    assert_eq!(got.uuid, expected.get("UUID").cloned(), "{name}: UUID");
}

/// Asserts that `probe()` on the head agrees with blkid on the image.
pub fn assert_agrees(name: &str, head: &[u8], blkid: &str) {
    assert!(
        head.len() <= super::PROBE_BYTES,
        "{name}: fixture longer than PROBE_BYTES"
    );
    assert_fs_agrees(name, super::probe(head), blkid);
}

/// Asserts that `probe_with()` on a fixture image agrees with blkid.
pub fn assert_image_agrees(name: &str, image: &Image, blkid: &str) {
    let got = super::probe_with(&image.head, &mut |off, len| image.read(off, len));
    assert_fs_agrees(name, got, blkid);
}

/// Asserts that a partition table is what blkid (PTTYPE, PTUUID) and partx
/// (per partition) reported.
pub fn assert_table_agrees(name: &str, got: Option<&PartitionTable>, blkid: &str, partx: &str) {
    let expected = parse_blkid_export(blkid);
    assert_eq!(
        got.map(|t| t.kind.as_str().to_string()),
        expected.get("PTTYPE").cloned(),
        "{name}: PTTYPE"
    );
    let got = got.unwrap();
    assert_eq!(got.id, expected.get("PTUUID").cloned(), "{name}: PTUUID");
    let rows: Vec<_> = partx
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_pairs)
        .collect();
    assert_eq!(got.partitions.len(), rows.len(), "{name}: partition count");
    for (p, row) in got.partitions.iter().zip(&rows) {
        let ctx = std::format!("{name}: partition {}", p.number);
        assert_eq!(p.number.to_string(), row["NR"], "{ctx}: NR");
        assert_eq!(p.start.to_string(), row["START"], "{ctx}: START");
        assert_eq!(p.size.to_string(), row["SECTORS"], "{ctx}: SECTORS");
        assert_eq!(
            p.partuuid.clone().unwrap_or_default(),
            row["UUID"],
            "{ctx}: UUID"
        );
        assert_eq!(
            p.partlabel.clone().unwrap_or_default(),
            row["NAME"],
            "{ctx}: NAME"
        );
        let part_type = match &p.part_type {
            PartType::Dos(t) => std::format!("{t:#x}"),
            PartType::Gpt(g) => g.clone(),
        };
        assert_eq!(part_type, row["TYPE"], "{ctx}: TYPE");
    }
}

/// A fixture device: its head, its size and the non-zero sectors beyond
/// the head (`<name>.extents`: the image size as LE u64, then records of
/// LE u64 offset, LE u32 length, bytes). Everything else reads as zeros.
#[derive(Clone)]
pub struct Image {
    pub head: Vec<u8>,
    pub size: u64,
    extents: Vec<(u64, Vec<u8>)>,
}

impl Image {
    pub fn new(head: &[u8], extents: Option<&[u8]>) -> Image {
        let mut image = Image {
            head: head.to_vec(),
            size: head.len() as u64,
            extents: Vec::new(),
        };
        if let Some(mut raw) = extents {
            image.size = u64::from_le_bytes(raw[..8].try_into().unwrap());
            raw = &raw[8..];
            while !raw.is_empty() {
                let off = u64::from_le_bytes(raw[..8].try_into().unwrap());
                let len = u32::from_le_bytes(raw[8..12].try_into().unwrap()) as usize;
                image.extents.push((off, raw[12..12 + len].to_vec()));
                raw = &raw[12 + len..];
            }
        }
        image
    }

    /// `len` bytes at `off`, as a device read; `None` beyond the end.
    pub fn read(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        let end = off.checked_add(len as u64)?;
        if end > self.size {
            return None;
        }
        let mut out = vec![0u8; len];
        let pieces = std::iter::once((0u64, &self.head[..]))
            .chain(self.extents.iter().map(|(o, d)| (*o, &d[..])));
        for (p_off, data) in pieces {
            let p_end = p_off + data.len() as u64;
            let (lo, hi) = (off.max(p_off), end.min(p_end));
            if lo < hi {
                out[(lo - off) as usize..(hi - off) as usize]
                    .copy_from_slice(&data[(lo - p_off) as usize..(hi - p_off) as usize]);
            }
        }
        Some(out)
    }
}

/// xorshift64: deterministic pseudo-random numbers for the corruption sweep.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap()
    }
}

/// Feeds `f` with `head` cut at every 97th length (and every length around
/// each of the `hot` offsets), then with 3000 pseudo-random single-byte
/// corruptions, half of them within 2 KiB after a `hot` offset (where the
/// structures live), then all-ones and all-zero buffers. `f` must not
/// panic; what it answers does not matter.
pub fn sweep(head: &[u8], hot: &[usize], mut f: impl FnMut(&[u8])) {
    let mut cuts: Vec<usize> = (0..=head.len()).step_by(97).collect();
    for &h in hot {
        cuts.extend(h.saturating_sub(8)..(h + 128).min(head.len()));
    }
    cuts.push(head.len());
    for n in cuts {
        f(&head[..n.min(head.len())]);
    }

    let mut img = head.to_vec();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ head.len() as u64);
    for i in 0..3000 {
        if img.is_empty() {
            break;
        }
        let off = if i % 2 == 0 || hot.is_empty() {
            rng.below(img.len())
        } else {
            (hot[rng.below(hot.len())] + rng.below(2048)).min(img.len() - 1)
        };
        let old = img[off];
        img[off] = rng.next().to_le_bytes()[0];
        f(&img);
        img[off] = old;
    }
    f(&vec![0xFF; head.len()]);
    f(&vec![0; head.len()]);
}

/// [`sweep`] with every filesystem probe (`probe` runs them all).
pub fn assert_robust(head: &[u8], hot: &[usize]) {
    sweep(head, hot, |buf| {
        let _ = super::probe(buf);
    });
}
