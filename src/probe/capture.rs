//! The bytes a probe of one device reads, captured where the device is read
//! and replayed where the answer is needed.
//!
//! Reading a device can stall for minutes (a scratched disc, a dying
//! stick), so discovery reads devices in child processes and never in the
//! loop that enforces its deadlines. The child runs every probe against the
//! device, recording each read ([`Captured::take`]); the bytes travel back
//! through a pipe ([`Captured::encode`] / [`Captured::decode`]); the loop
//! runs the same probes again over the recorded reads ([`Captured::fs`],
//! [`Captured::table`]). The probes are pure functions of what they read,
//! so the replay asks for exactly the reads the child made and gets the
//! same answers, without touching the device. Anything else that wants to
//! recognise a device by its content takes [`Captured::head`]: bytes in,
//! answer out.

use alloc::vec::Vec;

use super::partition::{self, PartitionTable};
use super::{probe_with, FsInfo, ReadAt, PROBE_BYTES};

/// Most bytes one capture may hold (the head, FAT's root directory and
/// chain, a GPT entry array): a hostile filesystem cannot make the child
/// send, or the init keep, more than this.
pub const MAX_CAPTURE: usize = 4 << 20;

/// Every read a probe made of one device: the head first (at offset 0,
/// up to [`PROBE_BYTES`], shorter only for a smaller device), then the
/// reads beyond it, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    head: Vec<u8>,
    more: Vec<(u64, Vec<u8>)>,
}

impl Captured {
    /// Runs every probe over a device of `device_bytes` bytes with logical
    /// sectors of `sector_size` bytes, whose first bytes are `head`,
    /// reading further through `read`; keeps what was read.
    pub fn take(head: Vec<u8>, read: ReadAt<'_>, device_bytes: u64, sector_size: u32) -> Captured {
        let mut captured = Captured {
            head,
            more: Vec::new(),
        };
        let mut size = captured.head.len();
        let mut more = Vec::new();
        let mut recording = |offset: u64, len: usize| {
            if size.saturating_add(len) > MAX_CAPTURE {
                return None;
            }
            let bytes = read(offset, len)?;
            size = size.saturating_add(bytes.len());
            more.push((offset, bytes.clone()));
            Some(bytes)
        };
        let head = captured.head.as_slice();
        let _ = probe_with(head, &mut recording);
        let mut from_head_or_read = |offset: u64, len: usize| {
            slice_at(head, offset, len).or_else(|| recording(offset, len))
        };
        let _ = partition::read_table(&mut from_head_or_read, device_bytes, sector_size);
        captured.more = more;
        captured
    }

    /// The device's first bytes, for a probe that needs no more.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The filesystem on the device, as [`probe_with`] answers it.
    pub fn fs(&self) -> Option<FsInfo> {
        probe_with(&self.head, &mut |offset, len| self.replay(offset, len))
    }

    /// The device's partition table, as [`partition::read_table`] answers it.
    pub fn table(&self, device_bytes: u64, sector_size: u32) -> Option<PartitionTable> {
        let mut read = |offset: u64, len: usize| {
            slice_at(&self.head, offset, len).or_else(|| self.replay(offset, len))
        };
        partition::read_table(&mut read, device_bytes, sector_size)
    }

    /// A read the capture holds (only reads beyond the head are asked for).
    fn replay(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        self.more
            .iter()
            .find(|(at, bytes)| *at == offset && bytes.len() == len)
            .map(|(_, bytes)| bytes.clone())
    }

    /// The wire format between the child and the init: for the head and
    /// then each read, its offset (8 bytes) and length (4 bytes), little
    /// endian, and the bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + 64);
        for (offset, bytes) in
            core::iter::once((0, &self.head)).chain(self.more.iter().map(|(o, b)| (*o, b)))
        {
            out.extend_from_slice(&offset.to_le_bytes());
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    /// The capture [`Captured::encode`] wrote; `None` if `wire` is not one
    /// (cut short, too big, no head).
    pub fn decode(wire: &[u8]) -> Option<Captured> {
        if wire.len() > MAX_CAPTURE.saturating_add(1 << 16) {
            return None;
        }
        let mut rest = wire;
        let mut reads = Vec::new();
        while !rest.is_empty() {
            let offset = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
            let len = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?);
            let len = usize::try_from(len).ok()?;
            let bytes = rest.get(12..12usize.checked_add(len)?)?;
            reads.push((offset, bytes.to_vec()));
            rest = rest.get(12 + len..)?;
        }
        let mut reads = reads.into_iter();
        let (at, head) = reads.next()?;
        if at != 0 || head.len() > PROBE_BYTES {
            return None;
        }
        Some(Captured {
            head,
            more: reads.collect(),
        })
    }
}

/// `len` bytes at `offset` of `head`, if it holds them.
fn slice_at(head: &[u8], offset: u64, len: usize) -> Option<Vec<u8>> {
    let start = usize::try_from(offset).ok()?;
    head.get(start..start.checked_add(len)?).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::testutil::Image;
    use alloc::format;
    use alloc::vec;

    fn fixture(name: &str) -> Image {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/probe/testdata");
        let head = std::fs::read(format!("{dir}/{name}.head")).unwrap();
        let extents = std::fs::read(format!("{dir}/{name}.extents")).ok();
        Image::new(&head, extents.as_deref())
    }

    fn take(image: &Image) -> Captured {
        let head = image.head.get(..PROBE_BYTES).unwrap_or(&image.head);
        Captured::take(
            head.to_vec(),
            &mut |offset, len| image.read(offset, len),
            image.size,
            512,
        )
    }

    #[test]
    fn a_replayed_capture_answers_what_the_device_answers() {
        for name in [
            "iso9660-plain",
            "iso9660-hybrid",
            "fat16",
            "fat32",
            "gpt",
            "dos",
            "ext4",
        ] {
            let image = fixture(name);
            let captured = take(&image);
            let head = image.head.get(..PROBE_BYTES).unwrap_or(&image.head);
            let direct = probe_with(head, &mut |offset, len| image.read(offset, len));
            let decoded = Captured::decode(&captured.encode()).expect(name);
            assert_eq!(decoded, captured, "{name}");
            assert_eq!(decoded.fs(), direct, "{name}");
            let table = partition::read_table(&mut |o, l| image.read(o, l), image.size, 512);
            assert_eq!(decoded.table(image.size, 512), table, "{name}");
        }
        assert!(take(&fixture("fat32"))
            .fs()
            .is_some_and(|fs| fs.label.is_some()));
        assert!(take(&fixture("gpt"))
            .table(fixture("gpt").size, 512)
            .is_some());
    }

    #[test]
    fn a_cut_or_hostile_wire_is_refused_not_trusted() {
        let wire = take(&fixture("iso9660-plain")).encode();
        for cut in [0, 5, 12, wire.len() - 1] {
            assert_eq!(Captured::decode(&wire[..cut]), None, "cut at {cut}");
        }
        let mut huge = vec![0u8; 12];
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Captured::decode(&huge), None);
        let mut not_at_zero = wire.clone();
        not_at_zero[0] = 1;
        assert_eq!(Captured::decode(&not_at_zero), None);
    }
}
