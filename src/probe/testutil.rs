//! Test support: blkid's `-o export` output as the oracle, and the
//! truncation / corruption sweeps every fixture goes through.

// The crate is `no_std` without its `std` feature; tests always have std.
extern crate std;

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

/// Parses `blkid -p -o export` output into NAME → value, undoing blkid's
/// `safe_print` escapes: `\x` for shell-special characters, `^X` for control
/// characters and `M-` for bytes ≥ 0x80 (ambiguous with a literal "M-" or
/// "^", which the fixtures avoid).
pub fn parse_blkid_export(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
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
        out.insert(
            name.to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        );
    }
    out
}

/// Asserts that `probe()` reports the TYPE, LABEL and UUID blkid reported
/// for the same image (absent keys must be absent here too).
pub fn assert_agrees(name: &str, head: &[u8], blkid: &str) {
    assert!(
        head.len() <= super::PROBE_BYTES,
        "{name}: fixture longer than PROBE_BYTES"
    );
    let expected = parse_blkid_export(blkid);
    let got = super::probe(head);
    let got_type = got.as_ref().map(|i| i.fstype.as_str().to_string());
    assert_eq!(got_type, expected.get("TYPE").cloned(), "{name}: TYPE");
    let got = got.unwrap();
    assert_eq!(got.label, expected.get("LABEL").cloned(), "{name}: LABEL");
    assert_eq!(got.uuid, expected.get("UUID").cloned(), "{name}: UUID");
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

/// Runs every probe on `buf` (`probe` runs all probers; the results don't
/// matter: only that nothing panics or reads out of bounds).
pub fn probe_everything(buf: &[u8]) {
    let _ = super::probe(buf);
}

/// Feeds `head` to every probe cut at every 97th length (and every length
/// around each of `hot` offsets), then with a few thousand pseudo-random
/// single-byte corruptions, half of them within 2 KiB after a `hot` offset
/// (where the structures live).
pub fn assert_robust(head: &[u8], hot: &[usize]) {
    let mut cuts: Vec<usize> = (0..=head.len()).step_by(97).collect();
    for &h in hot {
        cuts.extend(h.saturating_sub(8)..(h + 128).min(head.len()));
    }
    cuts.push(head.len());
    for n in cuts {
        probe_everything(&head[..n.min(head.len())]);
    }

    let mut img = head.to_vec();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ head.len() as u64);
    for i in 0..3000 {
        let off = if i % 2 == 0 || hot.is_empty() {
            rng.below(img.len())
        } else {
            (hot[rng.below(hot.len())] + rng.below(2048)).min(img.len().saturating_sub(1))
        };
        if img.is_empty() {
            break;
        }
        let old = img[off];
        img[off] = rng.next().to_le_bytes()[0];
        probe_everything(&img);
        img[off] = old;
    }
    // Hostile extremes: all ones, all zeros.
    probe_everything(&vec![0xFF; head.len()]);
    probe_everything(&vec![0; head.len()]);
}
