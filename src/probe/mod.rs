//! Superblock and partition-table probes: pure functions over the first
//! bytes of a block device that answer what util-linux's libblkid answers
//! (`blkid -p`: TYPE, LABEL, UUID; `partx`: PARTUUID, PARTLABEL, …).
//!
//! - [`probe`]: the filesystem on a device, from its first
//!   [`PROBE_BYTES`]; [`probe_with`] when FAT's label (in the root
//!   directory, usually further in) matters; [`probe_all`] for diagnostics.
//! - [`partition`]: MBR and GPT partition tables.
//!
//! One file per format; each documents the blkid rules it mirrors and where
//! it knowingly differs. Every probe takes bytes that may be short, hostile
//! or zero-filled, never reads past them and never panics: it answers
//! `None` instead. The tests compare every answer with what the real blkid
//! said about real images (`src/probe/testdata`, made by
//! `cargo xtask fixtures`).

/// How many bytes from the start of a device the probes need to see.
/// (btrfs keeps its superblock at 64 KiB; ISO 9660 descriptors start at 32 KiB.)
pub const PROBE_BYTES: usize = 68 * 1024;

mod btrfs;
mod bytes;
pub mod capture;
mod erofs;
mod ext;
mod f2fs;
#[cfg(test)]
mod fuzz_whole;
mod iso9660;
pub mod partition;
mod squashfs;
#[cfg(test)]
mod testutil;
mod vfat;
mod xfs;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Filesystem types the probes recognise, named as blkid names them
/// (`TYPE=`), which is also the name `mount(2)` expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsType {
    Iso9660,
    Ext2,
    Ext3,
    Ext4,
    Squashfs,
    Erofs,
    Vfat,
    Btrfs,
    Xfs,
    F2fs,
}

impl FsType {
    /// Every filesystem the probes recognise; the initramfs contract
    /// (`crate::contract`) says what each needs to be mounted.
    pub const ALL: [FsType; 10] = [
        FsType::Iso9660,
        FsType::Ext2,
        FsType::Ext3,
        FsType::Ext4,
        FsType::Squashfs,
        FsType::Erofs,
        FsType::Vfat,
        FsType::Btrfs,
        FsType::Xfs,
        FsType::F2fs,
    ];

    /// The blkid / mount(2) name.
    pub fn as_str(self) -> &'static str {
        match self {
            FsType::Iso9660 => "iso9660",
            FsType::Ext2 => "ext2",
            FsType::Ext3 => "ext3",
            FsType::Ext4 => "ext4",
            FsType::Squashfs => "squashfs",
            FsType::Erofs => "erofs",
            FsType::Vfat => "vfat",
            FsType::Btrfs => "btrfs",
            FsType::Xfs => "xfs",
            FsType::F2fs => "f2fs",
        }
    }

    /// The filesystem type to hand to `mount(2)`. ext2 and ext3 volumes are
    /// mounted with the ext4 driver: distribution kernels build only that
    /// one (`CONFIG_EXT4_USE_FOR_EXT2`), and it serves all three.
    pub fn mount_type(self) -> &'static str {
        match self {
            FsType::Ext2 | FsType::Ext3 => "ext4",
            other => other.as_str(),
        }
    }
}

/// What a probe learnt about a filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsInfo {
    pub fstype: FsType,
    /// `LABEL=` as blkid reports it (trailing padding removed).
    pub label: Option<String>,
    /// `UUID=` as blkid prints it (lower-case hex with dashes; for ISO 9660
    /// the date-derived `YYYY-MM-DD-HH-MM-SS-cc`; for FAT `XXXX-XXXX`).
    pub uuid: Option<String>,
}

/// Reads `len` bytes at byte offset `offset` of the device being probed;
/// `None` when it cannot (beyond the end, I/O error). Lets the probes that
/// need more than [`PROBE_BYTES`] (FAT's root directory, the partition
/// tables' later sectors) look further.
pub type ReadAt<'r> = &'r mut dyn FnMut(u64, usize) -> Option<Vec<u8>>;

/// Largest single read a probe asks for (a FAT32 cluster is at most
/// 256 KiB, a GPT entry array in practice 16 KiB): hostile sizes are
/// refused rather than allocated.
pub(crate) const MAX_READ: usize = 1 << 20;

/// The device as a probe sees it: the head the caller read, plus an
/// optional way to read further.
pub(crate) struct Device<'a, 'r> {
    head: &'a [u8],
    more: Option<ReadAt<'r>>,
}

impl<'a, 'r> Device<'a, 'r> {
    pub(crate) fn new(head: &'a [u8], more: Option<ReadAt<'r>>) -> Self {
        Device { head, more }
    }

    pub(crate) fn head(&self) -> &'a [u8] {
        self.head
    }

    /// `len` bytes at `offset`: from the head when it holds them, else
    /// from the reader (which must return exactly `len` bytes).
    pub(crate) fn read(&mut self, offset: u64, len: usize) -> Option<Cow<'a, [u8]>> {
        if len > MAX_READ {
            return None;
        }
        if let Some(bytes) = usize::try_from(offset)
            .ok()
            .and_then(|off| bytes::slice(self.head, off, len))
        {
            return Some(Cow::Borrowed(bytes));
        }
        let data = (self.more.as_mut()?)(offset, len)?;
        (data.len() == len).then_some(Cow::Owned(data))
    }
}

/// One filesystem prober: whether blkid flags it "tolerant" (may coexist
/// with another filesystem on the same device), and the probe itself.
struct Prober {
    tolerant: bool,
    probe: fn(&mut Device<'_, '_>) -> Option<FsInfo>,
}

/// The probers in libblkid's order (`superblocks.c` `idinfos[]`): blkid
/// reports the first that matches. Only ISO 9660 is "tolerant".
const PROBERS: &[Prober] = &[
    Prober {
        tolerant: false,
        probe: vfat::probe,
    },
    Prober {
        tolerant: false,
        probe: |d| xfs::probe(d.head()),
    },
    Prober {
        tolerant: false,
        probe: |d| ext::probe(d.head()),
    },
    Prober {
        tolerant: true,
        probe: |d| iso9660::probe(d.head()),
    },
    Prober {
        tolerant: false,
        probe: |d| squashfs::probe(d.head()),
    },
    Prober {
        tolerant: false,
        probe: |d| btrfs::probe(d.head()),
    },
    Prober {
        tolerant: false,
        probe: |d| f2fs::probe(d.head()),
    },
    Prober {
        tolerant: false,
        probe: |d| erofs::probe(d.head()),
    },
];

/// Every filesystem whose signature the device holds, in blkid's probing
/// order, each with whether blkid tolerates it next to another.
fn matches(dev: &mut Device<'_, '_>) -> Vec<(FsInfo, bool)> {
    PROBERS
        .iter()
        .filter_map(|p| (p.probe)(dev).map(|info| (info, p.tolerant)))
        .collect()
}

/// blkid's "safe probe" verdict over all matches.
fn verdict(found: Vec<(FsInfo, bool)>) -> Option<FsInfo> {
    let ambivalent = found.len() > 1 && found.iter().any(|(_, tolerant)| !tolerant);
    if ambivalent {
        return None;
    }
    found.into_iter().next().map(|(info, _)| info)
}

/// What `blkid -p` would report for a device whose first bytes are `head`
/// (at least [`PROBE_BYTES`] of them, or the whole device if smaller).
///
/// Like blkid's "safe probe", the first match in blkid's order wins, except
/// that two or more matches of which at least one is not "tolerant" are
/// *ambivalent* and answer `None` (blkid: "ambivalent result", so udev
/// creates no by-label/by-uuid links for such a device either). A hybrid ISO
/// (ISO 9660 plus MBR/GPT in its system area) answers `iso9660`.
///
/// FAT keeps its label in the root directory, usually beyond the head: use
/// [`probe_with`] to let the probe read it.
pub fn probe(head: &[u8]) -> Option<FsInfo> {
    verdict(matches(&mut Device::new(head, None)))
}

/// [`probe`], reading beyond `head` with `read` where a format needs to
/// (FAT's root directory and cluster chain, FAT32's FSInfo sector).
pub fn probe_with(head: &[u8], read: ReadAt<'_>) -> Option<FsInfo> {
    verdict(matches(&mut Device::new(head, Some(read))))
}

/// Every filesystem whose signature `head` holds, in blkid's probing order.
/// More than one answer means leftovers of an older filesystem (or a
/// deliberately layered image); useful for diagnostics.
pub fn probe_all(head: &[u8]) -> Vec<FsInfo> {
    matches(&mut Device::new(head, None))
        .into_iter()
        .map(|(info, _)| info)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &[(&str, &[u8])] = &[
        ("iso9660", include_bytes!("testdata/iso9660-plain.head")),
        ("iso9660", include_bytes!("testdata/iso9660-joliet.head")),
        ("iso9660", include_bytes!("testdata/iso9660-hybrid.head")),
        ("ext2", include_bytes!("testdata/ext2.head")),
        ("ext3", include_bytes!("testdata/ext3.head")),
        ("ext4", include_bytes!("testdata/ext4.head")),
        ("squashfs", include_bytes!("testdata/squashfs.head")),
        ("erofs", include_bytes!("testdata/erofs.head")),
        ("erofs", include_bytes!("testdata/erofs-label.head")),
        ("vfat", include_bytes!("testdata/fat12.head")),
        ("vfat", include_bytes!("testdata/fat16.head")),
        ("vfat", include_bytes!("testdata/fat32.head")),
        ("xfs", include_bytes!("testdata/xfs.head")),
        ("btrfs", include_bytes!("testdata/btrfs.head")),
        ("f2fs", include_bytes!("testdata/f2fs.head")),
    ];

    #[test]
    fn each_fixture_matches_exactly_one_prober() {
        for (fstype, head) in FIXTURES {
            let all = probe_all(head);
            assert_eq!(all.len(), 1, "{fstype}: {all:?}");
            assert_eq!(all[0].fstype.as_str(), *fstype);
        }
    }

    #[test]
    fn two_filesystems_are_ambivalent_unless_tolerated() {
        // An ext2 superblock left in the (empty) system area of an ISO.
        let mut img = FIXTURES[0].1.to_vec();
        img[1024..2048].copy_from_slice(&FIXTURES[3].1[1024..2048]);
        let all: Vec<_> = probe_all(&img).iter().map(|i| i.fstype).collect();
        assert_eq!(all, [FsType::Ext2, FsType::Iso9660]);
        assert_eq!(probe(&img), None);
    }

    #[test]
    fn bare_partition_tables_hold_no_filesystem() {
        assert_eq!(probe_all(include_bytes!("testdata/dos.head")), []);
        assert_eq!(probe_all(include_bytes!("testdata/gpt.head")), []);
    }

    #[test]
    fn reads_beyond_the_head_are_bounded_and_exact() {
        let head = [1u8; 16];
        let mut calls = Vec::new();
        let mut read = |off: u64, len: usize| {
            calls.push((off, len));
            (off < 100).then(|| alloc::vec![2u8; len + usize::from(off == 50)])
        };
        {
            let mut dev = Device::new(&head, Some(&mut read));
            assert_eq!(
                dev.read(4, 8).as_deref(),
                Some(&[1u8; 8][..]),
                "from the head"
            );
            assert_eq!(
                dev.read(20, 4).as_deref(),
                Some(&[2u8; 4][..]),
                "from the reader"
            );
            assert_eq!(dev.read(50, 4), None, "a reader answering the wrong length");
            assert_eq!(dev.read(200, 4), None);
            assert_eq!(dev.read(0, MAX_READ + 1), None, "too big to ask for");
        }
        assert_eq!(calls, [(20, 4), (50, 4), (200, 4)]);
    }

    #[test]
    fn nothing_in_nothing() {
        assert_eq!(probe(&[]), None);
        assert_eq!(probe(&[0; PROBE_BYTES]), None);
        assert_eq!(probe(&[0xff; PROBE_BYTES]), None);
    }
}
