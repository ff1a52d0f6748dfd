//! Fuzzing the probes over whole devices, not only their first 68 KiB:
//! every fixture image (the mkfs-made heads, with the sectors beyond the
//! head where `cargo xtask fixtures` kept them) is mutated at any offset —
//! in the head, in what the probes read beyond it, near the device's end
//! where a backup GPT lives, anywhere at all — and cut or grown to any
//! size, then read as discovery reads a device: [`Captured::take`] in the
//! child, the wire format, and the replay in the init. Nothing may panic
//! (the test profile keeps overflow checks on, so an arithmetic overflow
//! is a panic too), and the replay must answer what the capture recorded.
//!
//! Deterministic (fixed seeds) and bounded (a fixed number of rounds), so
//! it runs in every `cargo test`.

// Test sizes are a few MiB; truncating casts cannot bite here.
#![allow(clippy::cast_possible_truncation)]

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::capture::{Captured, MAX_CAPTURE};
use super::testutil::{Image, XorShift};
use super::PROBE_BYTES;

/// A fixture: its name, its head and, where kept, the sectors beyond it.
type Fixture = (&'static str, &'static [u8], Option<&'static [u8]>);

const FIXTURES: &[Fixture] = &[
    (
        "iso9660-plain",
        include_bytes!("testdata/iso9660-plain.head"),
        None,
    ),
    (
        "iso9660-joliet",
        include_bytes!("testdata/iso9660-joliet.head"),
        None,
    ),
    (
        "iso9660-hybrid",
        include_bytes!("testdata/iso9660-hybrid.head"),
        Some(include_bytes!("testdata/iso9660-hybrid.extents")),
    ),
    ("ext2", include_bytes!("testdata/ext2.head"), None),
    ("ext3", include_bytes!("testdata/ext3.head"), None),
    ("ext4", include_bytes!("testdata/ext4.head"), None),
    ("squashfs", include_bytes!("testdata/squashfs.head"), None),
    ("erofs", include_bytes!("testdata/erofs.head"), None),
    (
        "erofs-label",
        include_bytes!("testdata/erofs-label.head"),
        None,
    ),
    ("fat12", include_bytes!("testdata/fat12.head"), None),
    (
        "fat16",
        include_bytes!("testdata/fat16.head"),
        Some(include_bytes!("testdata/fat16.extents")),
    ),
    (
        "fat32",
        include_bytes!("testdata/fat32.head"),
        Some(include_bytes!("testdata/fat32.extents")),
    ),
    ("btrfs", include_bytes!("testdata/btrfs.head"), None),
    ("xfs", include_bytes!("testdata/xfs.head"), None),
    ("f2fs", include_bytes!("testdata/f2fs.head"), None),
    (
        "gpt",
        include_bytes!("testdata/gpt.head"),
        Some(include_bytes!("testdata/gpt.extents")),
    ),
    ("dos", include_bytes!("testdata/dos.head"), None),
];

/// Sector sizes `/sys` might claim, sane or not.
const SECTOR_SIZES: [u32; 8] = [512, 512, 4096, 2048, 0, 1, 65536, u32::MAX];

/// Values that make lengths, counts and offsets overflow.
const EXTREMES: [u64; 8] = [
    0,
    u64::MAX,
    0xFFFF_FFFF,
    0x8000_0000,
    0x7FFF_FFFF,
    0xFFFF,
    0x8000_0000_0000_0000,
    1,
];

/// A fixture image with bytes changed and its size changed: reads past
/// the fixture's end give zeros (a bigger device), reads past `size` fail.
struct Mutated<'a> {
    base: &'a Image,
    size: u64,
    changed: BTreeMap<u64, u8>,
}

impl Mutated<'_> {
    fn read(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        let end = off.checked_add(u64::try_from(len).ok()?)?;
        if end > self.size || len > MAX_CAPTURE * 2 {
            return None;
        }
        let mut out = vec![0u8; len];
        let base_end = end.min(self.base.size);
        if off < base_end {
            let n = usize::try_from(base_end - off).ok()?;
            out[..n].copy_from_slice(&self.base.read(off, n)?);
        }
        for (at, byte) in self.changed.range(off..end) {
            out[usize::try_from(at - off).ok()?] = *byte;
        }
        Some(out)
    }

    /// What discovery's child sends for this device, and its reads.
    fn capture(&self, sector_size: u32) -> (Captured, Vec<(u64, usize)>) {
        self.capture_cut(sector_size, PROBE_BYTES)
    }

    /// [`Mutated::capture`] whose head read came back after `head_max`
    /// bytes (a short read of a device that is bigger).
    fn capture_cut(&self, sector_size: u32, head_max: usize) -> (Captured, Vec<(u64, usize)>) {
        let head_len = self.size.min(head_max.min(PROBE_BYTES) as u64) as usize;
        let head = self.read(0, head_len).unwrap_or_default();
        let mut reads = Vec::new();
        let mut read = |off: u64, len: usize| {
            reads.push((off, len));
            self.read(off, len)
        };
        let captured = Captured::take(head, &mut read, self.size, sector_size);
        (captured, reads)
    }
}

/// Picks where to change a byte: anywhere, in the head, in what the clean
/// image's probes read, or near the end.
fn pick_offset(rng: &mut XorShift, size: u64, reads: &[(u64, usize)]) -> u64 {
    let size = size.max(1);
    match rng.below(4) {
        0 => rng.next() % size,
        1 => rng.next() % size.min(PROBE_BYTES as u64),
        2 if !reads.is_empty() => {
            let (off, len) = reads[rng.below(reads.len())];
            (off + rng.next() % (len.max(1) as u64)).min(size - 1)
        }
        _ => size - 1 - rng.next() % size.min(64 << 10),
    }
}

fn mutate(rng: &mut XorShift, m: &mut Mutated<'_>, reads: &[(u64, usize)]) {
    for _ in 0..=rng.below(6) {
        let at = pick_offset(rng, m.size, reads);
        if rng.below(3) == 0 {
            // A whole field: little-endian, at its natural alignment.
            let width = [2u64, 4, 8][rng.below(3)];
            let at = at & !(width - 1);
            let value = EXTREMES[rng.below(EXTREMES.len())] ^ (rng.next() & 0xF);
            for (i, byte) in value.to_le_bytes().iter().take(width as usize).enumerate() {
                m.changed.insert(at + i as u64, *byte);
            }
        } else {
            m.changed.insert(at, rng.next().to_le_bytes()[0]);
        }
    }
}

fn resize(rng: &mut XorShift, base_size: u64, reads: &[(u64, usize)]) -> u64 {
    match rng.below(6) {
        // Cut anywhere, just before or after a structure the probes read.
        0 => rng.next() % (base_size + 1),
        1 if !reads.is_empty() => {
            let (off, len) = reads[rng.below(reads.len())];
            (off + rng.next() % (len as u64 + 2)).saturating_sub(1)
        }
        2 => rng.next() % (PROBE_BYTES as u64 + 1),
        // A bigger device: the backup GPT and the end checks move.
        3 => base_size + rng.next() % (64 << 20),
        _ => base_size,
    }
}

/// One round: capture, wire, replay; none may panic, and the replay must
/// hold what the capture recorded.
fn round(m: &Mutated<'_>, sector_size: u32, head_max: usize) {
    let (captured, _) = m.capture_cut(sector_size, head_max);
    let wire = captured.encode();
    let decoded = Captured::decode(&wire);
    if wire.len() <= MAX_CAPTURE {
        assert_eq!(decoded.as_ref(), Some(&captured), "the wire lost reads");
    }
    let _ = captured.fs();
    let _ = captured.table(m.size, sector_size);
    let _ = super::probe_all(captured.head());
    // A wire cut anywhere is refused or read as a shorter capture.
    if !wire.is_empty() {
        let _ = Captured::decode(&wire[..m.size as usize % wire.len()]);
    }
}

/// Rounds per fixture in every `cargo test`; `LIVEINIT_FUZZ_ROUNDS` and
/// `LIVEINIT_FUZZ_SEED` make a longer or another run.
const ROUNDS: usize = 500;

#[test]
fn whole_images_mutated_anywhere_and_cut_anywhere_never_panic() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = env("LIVEINIT_FUZZ_ROUNDS").map_or(ROUNDS, |n| n as usize);
    let seed = env("LIVEINIT_FUZZ_SEED").unwrap_or(0xA076_1D64_78BD_642F);
    for (i, (name, head, extents)) in FIXTURES.iter().enumerate() {
        let base = Image::new(head, *extents);
        let mut rng = XorShift(seed ^ (i as u64 + 1));
        let clean = Mutated {
            base: &base,
            size: base.size,
            changed: BTreeMap::new(),
        };
        let (_, reads) = clean.capture(512);
        for _ in 0..rounds {
            let mut m = Mutated {
                base: &base,
                size: resize(&mut rng, base.size, &reads),
                changed: BTreeMap::new(),
            };
            mutate(&mut rng, &mut m, &reads);
            let sector = SECTOR_SIZES[rng.below(SECTOR_SIZES.len())];
            let head_max = match rng.below(8) {
                0 => rng.below(PROBE_BYTES),
                _ => PROBE_BYTES,
            };
            let ok = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
                round(&m, sector, head_max)
            }));
            assert!(
                ok.is_ok(),
                "{name}: {} bytes (head {head_max}), sectors of {sector}, changed {:x?}",
                m.size,
                m.changed
            );
        }
        // All ones and all zeros, at the fixture's size.
        let mut ones = Mutated {
            base: &base,
            size: base.size,
            changed: BTreeMap::new(),
        };
        for at in 0..base.size.min(PROBE_BYTES as u64 + 4096) {
            ones.changed.insert(at, 0xFF);
        }
        round(&ones, 512, PROBE_BYTES);
    }
}
