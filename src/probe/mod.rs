//! Superblock and partition-table probes: pure functions over the first
//! bytes of a block device, in the spirit of util-linux's libblkid.
//!
//! Every probe takes a byte slice that may be short, hostile or zero-filled
//! and never reads past it and never panics: it answers `None` instead.

/// How many bytes from the start of a device the probes need to see.
/// (btrfs keeps its superblock at 64 KiB; ISO 9660 descriptors start at 32 KiB.)
pub const PROBE_BYTES: usize = 68 * 1024;

mod bytes;
mod erofs;
mod ext;
mod iso9660;
mod squashfs;
#[cfg(test)]
mod testutil;

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
}

impl FsType {
    /// The blkid / mount(2) name.
    pub fn as_str(self) -> &'static str {
        match self {
            FsType::Iso9660 => "iso9660",
            FsType::Ext2 => "ext2",
            FsType::Ext3 => "ext3",
            FsType::Ext4 => "ext4",
            FsType::Squashfs => "squashfs",
            FsType::Erofs => "erofs",
        }
    }
}

/// What a probe learnt about a filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsInfo {
    pub fstype: FsType,
    /// `LABEL=` as blkid reports it (trailing padding removed).
    pub label: Option<alloc::string::String>,
    /// `UUID=` as blkid prints it (lower-case hex with dashes; for ISO 9660
    /// the date-derived `YYYY-MM-DD-HH-MM-SS-cc`).
    pub uuid: Option<alloc::string::String>,
}

/// One filesystem prober: whether blkid flags it "tolerant" (may coexist
/// with another filesystem on the same device), and the probe itself.
struct Prober {
    tolerant: bool,
    probe: fn(&[u8]) -> Option<FsInfo>,
}

/// The probers in libblkid's order (`superblocks.c` `idinfos[]`): blkid
/// reports the first that matches. Only ISO 9660 is "tolerant".
const PROBERS: &[Prober] = &[
    Prober {
        tolerant: false,
        probe: ext::probe,
    },
    Prober {
        tolerant: true,
        probe: iso9660::probe,
    },
    Prober {
        tolerant: false,
        probe: squashfs::probe,
    },
    Prober {
        tolerant: false,
        probe: erofs::probe,
    },
];

/// Every filesystem whose signature `buf` holds, in blkid's probing order.
/// More than one answer means leftovers of an older filesystem (or a
/// deliberately layered image); useful for diagnostics.
pub fn probe_all(buf: &[u8]) -> Vec<FsInfo> {
    PROBERS.iter().filter_map(|p| (p.probe)(buf)).collect()
}

/// What `blkid -p` would report for a device whose first bytes are `buf`
/// (at least [`PROBE_BYTES`] of them, or the whole device if smaller).
///
/// Like blkid's "safe probe", the first match in blkid's order wins, except
/// that two or more matches of which at least one is not "tolerant" are
/// *ambivalent* and answer `None` (blkid: "ambivalent result", so udev
/// creates no by-label/by-uuid links for such a device either). A hybrid ISO
/// (ISO 9660 plus MBR/GPT in its system area) answers `iso9660`.
pub fn probe(buf: &[u8]) -> Option<FsInfo> {
    let mut first = None;
    let mut count = 0usize;
    let mut intolerant = false;
    for p in PROBERS {
        if let Some(info) = (p.probe)(buf) {
            count += 1;
            intolerant |= !p.tolerant;
            first.get_or_insert(info);
        }
    }
    if count > 1 && intolerant {
        return None;
    }
    first
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
    fn nothing_in_nothing() {
        assert_eq!(probe(&[]), None);
        assert_eq!(probe(&[0; PROBE_BYTES]), None);
        assert_eq!(probe(&[0xff; PROBE_BYTES]), None);
    }
}
