//! Persistent overlays (docs/dracut-live.md §3.5, §3.6): where
//! `rd.overlay=<devspec>[:<path>|:auto]` points, what was found there, and
//! the steps that put it under the new root.
//!
//! Three forms, as dracut and Fedora's tools make them:
//! - a directory `<path>` with `ovlwork/` beside it: overlayfs upper and
//!   work dirs on the device;
//! - a file `<path>` holding a filesystem with `overlayfs/` and `ovlwork/`
//!   (a FAT stick cannot hold an upper dir itself);
//! - a file `<path>` that is a device-mapper snapshot's persistent
//!   copy-on-write store (Fedora's `overlay-<LABEL>-<UUID>`).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{mkdir, path, MountFlags, Source, Step};
use crate::config::LiveConfig;
use crate::devspec::{DevSpec, SpecError};
use crate::probe::FsType;

/// Where the device holding a persistent overlay is mounted (and, for the
/// image form, then the image inside it), as in dracut.
pub const PERSIST_MNT: &str = "/run/initramfs/overlayfs";
/// A one-line account of the persistent layer, for `liveinit status`.
pub const PERSIST_STATE: &str = "/run/initramfs/persistent-overlay";
/// Links to a persistent overlay kept read-only (`rd.overlay.readonly`).
pub const UPPER_RO_LINK: &str = "/run/overlayfs-r";
pub const WORK_RO_LINK: &str = "/run/ovlwork-r";
/// The read-only snapshot of the base with the persistent COW.
pub const DM_LIVE_RO: &str = "live-ro";
/// How much of a COW store `rd.overlay.reset` zeroes: its header and
/// first metadata area, as dracut's `dd … bs=64k count=1`.
pub const COW_RESET_BYTES: u64 = 64 * 1024;

/// `rd.overlay=<devspec>[:<path>|:auto]`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistSpec {
    pub device: DevSpec,
    /// The path on the device; `None` for the default (`auto` or absent).
    pub path: Option<String>,
}

impl PersistSpec {
    /// dracut's split: the device before the first `:`, the path after the
    /// last; an empty path or `auto` means the default; a relative path is
    /// taken from the device's root.
    pub fn parse(value: &str) -> Result<PersistSpec, SpecError> {
        let (device, path) = match value.split_once(':') {
            Some((device, _)) => (device, value.rsplit(':').next()),
            None => (value, None),
        };
        let path = path.filter(|p| !p.is_empty() && *p != "auto").map(|p| {
            if p.starts_with('/') {
                String::from(p)
            } else {
                format!("/{p}")
            }
        });
        Ok(PersistSpec {
            device: DevSpec::parse(device)?,
            path,
        })
    }

    /// The overlay's path on its device: the one given, else
    /// `/<rd.live.dir>/overlay-<LABEL>-<UUID>` of the live medium.
    pub fn path_on_device(&self, cfg: &LiveConfig, medium: MediumId<'_>) -> String {
        match &self.path {
            Some(p) => p.clone(),
            None => format!(
                "/{}/overlay-{}-{}",
                cfg.live_dir.trim_matches('/'),
                medium.label.unwrap_or(""),
                medium.uuid.unwrap_or("")
            ),
        }
    }
}

/// The live medium's label and UUID, which name the default overlay.
#[derive(Debug, Clone, Copy, Default)]
pub struct MediumId<'a> {
    pub label: Option<&'a str>,
    pub uuid: Option<&'a str>,
}

/// The parent directory of an absolute path (`/` for a top-level entry).
pub fn parent_dir(p: &str) -> &str {
    match p.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((parent, _)) => parent,
    }
}

/// Whether a filesystem can hold an overlayfs upper directory (it needs
/// extended attributes, whiteouts and `rename` exchange).
pub fn can_hold_upper(fstype: FsType) -> bool {
    matches!(
        fstype,
        FsType::Ext4 | FsType::Ext3 | FsType::Ext2 | FsType::Xfs | FsType::Btrfs | FsType::F2fs
    )
}

/// The persistent layer found, as the root will be built on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persistent {
    /// overlayfs upper and work directories that survive reboots.
    Dirs { upper: String, work: String },
    /// A device-mapper snapshot's persistent copy-on-write store, the
    /// file at this path.
    Cow { file: String },
}

/// Mounts the device holding the overlay at [`PERSIST_MNT`]; `None` as
/// `live` when it is the medium itself, already mounted there (a bind).
pub fn mount_device(
    device: &str,
    fstype: FsType,
    live: Option<&str>,
    read_only: bool,
) -> Vec<Step> {
    let mount = match live {
        Some(live) => Step::Mount {
            source: path(live),
            target: String::from(PERSIST_MNT),
            fstype: None,
            flags: MountFlags::BIND,
            data: String::new(),
        },
        None => Step::Mount {
            source: path(device),
            target: String::from(PERSIST_MNT),
            fstype: Some(fstype.mount_type()),
            // Data, not a root: as the medium.
            flags: MountFlags {
                nosuid: true,
                nodev: true,
                read_only,
                ..MountFlags::RW
            },
            data: String::new(),
        },
    };
    vec![mkdir(PERSIST_MNT), mount]
}

/// The image form: the file is attached, the device's mount goes out of
/// sight (the loop keeps it alive) and the image is mounted in its place.
pub fn mount_image(file: &str, fstype: FsType, read_only: bool) -> Vec<Step> {
    vec![
        Step::AttachLoop {
            slot: super::LoopSlot::Persist,
            backing: String::from(file),
            read_only,
        },
        Step::Detach {
            path: String::from(PERSIST_MNT),
        },
        Step::Mount {
            source: Source::Loop(super::LoopSlot::Persist),
            target: String::from(PERSIST_MNT),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags {
                nosuid: true,
                nodev: true,
                read_only,
                ..MountFlags::RW
            },
            data: String::new(),
        },
    ]
}

/// The upper and work dirs of the image form.
pub fn image_dirs() -> Persistent {
    Persistent::Dirs {
        upper: format!("{PERSIST_MNT}/overlayfs"),
        work: format!("{PERSIST_MNT}/ovlwork"),
    }
}

/// The state file's line.
pub fn state_step(text: &str) -> Step {
    Step::WriteFile {
        path: String::from(PERSIST_STATE),
        contents: format!("{text}\n"),
    }
}

/// What a snapshot's persistent exception store says of itself
/// (`drivers/md/dm-snap-persistent.c`: a little-endian header of magic,
/// valid, version and chunk size in sectors in its first chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CowHeader {
    /// All zeros: the kernel starts a new store.
    Fresh,
    Valid {
        chunk_sectors: u32,
    },
    /// The kernel gave up on it (it filled up under a snapshot without
    /// overflow support, or an I/O error): its data cannot be read.
    Invalid,
    /// Not a COW store: something else.
    Unknown,
}

/// `SnAp`, the store's magic.
const COW_MAGIC: u32 = 0x7041_6e53;
/// Bytes of one exception (old chunk, new chunk, both le64).
const EXCEPTION_BYTES: usize = 16;

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn le64(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

impl CowHeader {
    pub fn parse(head: &[u8]) -> CowHeader {
        match (le32(head, 0), le32(head, 4), le32(head, 12)) {
            (Some(0), _, _) => CowHeader::Fresh,
            (Some(COW_MAGIC), Some(0), _) => CowHeader::Invalid,
            (Some(COW_MAGIC), Some(_), Some(chunk)) if chunk > 0 => CowHeader::Valid {
                chunk_sectors: chunk,
            },
            _ => CowHeader::Unknown,
        }
    }
}

/// Where a store's metadata areas are and how full it is, walked area by
/// area as the kernel reads it at activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CowLayout {
    pub chunk_bytes: u64,
    /// Exceptions one metadata area holds.
    pub per_area: u64,
    pub total_chunks: u64,
}

/// One metadata area's exceptions: how many, the highest chunk used, and
/// whether the list ended in it (a zero new chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AreaScan {
    pub exceptions: u64,
    pub max_chunk: u64,
    pub ended: bool,
}

impl CowLayout {
    pub fn new(chunk_sectors: u32, file_bytes: u64) -> Option<CowLayout> {
        let chunk_bytes = u64::from(chunk_sectors) * 512;
        let per_area = chunk_bytes / EXCEPTION_BYTES as u64;
        (per_area > 0).then_some(CowLayout {
            chunk_bytes,
            per_area,
            total_chunks: file_bytes / chunk_bytes,
        })
    }

    /// The byte offset of metadata area `n` (chunk 1, then one after each
    /// area's data chunks).
    pub fn area_offset(&self, n: u64) -> u64 {
        (1 + n * (self.per_area + 1)) * self.chunk_bytes
    }

    /// Whether the store has no room for one more chunk, given the highest
    /// chunk any exception uses (the kernel's `ENOSPC` test).
    pub fn is_full(&self, max_chunk: u64) -> bool {
        let stride = self.per_area + 1;
        // The next chunk after the last one used, skipping a metadata area.
        let mut next = if max_chunk == 0 { 2 } else { max_chunk + 1 };
        if next % stride == 1 {
            next += 1;
        }
        next + 1 > self.total_chunks
    }

    /// Percent of the store's chunks in use.
    pub fn percent_used(&self, max_chunk: u64) -> u64 {
        (max_chunk + 1)
            .saturating_mul(100)
            .checked_div(self.total_chunks)
            .unwrap_or(100)
            .min(100)
    }
}

/// Reads one metadata area's exceptions.
pub fn scan_area(area: &[u8]) -> AreaScan {
    let mut scan = AreaScan::default();
    for entry in area.chunks_exact(EXCEPTION_BYTES) {
        let new_chunk = le64(entry, 8).unwrap_or(0);
        if new_chunk == 0 {
            scan.ended = true;
            return scan;
        }
        scan.exceptions += 1;
        scan.max_chunk = scan.max_chunk.max(new_chunk);
    }
    scan
}

/// The steps that put the persistent layer under the root, for
/// [`super::root::assemble_root_with`]: the overlayfs lower/upper/work, or
/// the snapshot tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistPlan<'a> {
    pub layer: &'a Persistent,
    pub readonly: bool,
    pub reset: bool,
}

/// Stands for the overlay's device in `liveinit explain`.
const OVERLAY_DEVICE: &str = "<overlay device>";

/// Titled step lists, as `liveinit explain` prints them.
pub type TitledPlans = Vec<(String, Vec<Step>)>;

/// What `liveinit explain` says of `rd.overlay=<devspec>…`: one line for
/// the options table, and the steps for each form the overlay can take.
pub fn explain(cfg: &LiveConfig) -> Option<(String, TitledPlans)> {
    let asked = cfg.overlay.persistent.as_deref()?;
    let spec = match PersistSpec::parse(asked) {
        Ok(spec) => spec,
        Err(e) => {
            return Some((
                format!("{asked}: {e}; a warning, then a temporary overlay"),
                Vec::new(),
            ))
        }
    };
    let at = spec.path_on_device(
        cfg,
        MediumId {
            label: Some("<LABEL>"),
            uuid: Some("<UUID>"),
        },
    );
    let o = &cfg.overlay;
    let mode = match (o.readonly, o.reset) {
        (true, _) => "; kept read-only under a temporary overlay (rd.overlay.readonly)",
        (false, true) => "; emptied first (rd.overlay.reset)",
        (false, false) => "",
    };
    let summary = format!(
        "{at} on {} (found like the medium, within the same waits; the medium itself is \
         mounted read-write when it is that device){mode}; a directory with ovlwork beside \
         it, a filesystem image holding overlayfs/ and ovlwork/, or a device-mapper COW store \
         for an ext4 LiveOS/rootfs.img; if none is there: a warning, then a temporary overlay",
        spec.device
    );
    let full = format!("{PERSIST_MNT}{at}");
    let dirs = Persistent::Dirs {
        upper: full.clone(),
        work: format!("{}/ovlwork", parent_dir(&full)),
    };
    let image = image_dirs();
    let cow = Persistent::Cow { file: full.clone() };
    let plan = |layer| {
        Some(PersistPlan {
            layer,
            readonly: o.readonly,
            reset: o.reset,
        })
    };
    let flat = super::Layout::Flattened {
        base: Source::Loop(super::LoopSlot::Image),
    };
    let nested = super::Layout::FsImage {
        path: String::from(super::image::NESTED_ROOTFS),
        fstype: FsType::Ext4,
        in_squashfs: true,
    };
    let device = mount_device(OVERLAY_DEVICE, FsType::Ext4, None, o.readonly);
    let join = |parts: &[&[Step]]| parts.concat();
    let plans = vec![
        (
            format!(
                "the overlay's device (ext4 here), unless it is the medium (then a bind of {})",
                super::LIVE_MNT
            ),
            device,
        ),
        (
            format!("{at} is a directory, flattened image (after its mount, as above)"),
            super::root::assemble_root_with(cfg, &flat, plan(&dirs)),
        ),
        (
            format!("{at} is an ext4 image file, flattened image"),
            join(&[
                &mount_image(&full, FsType::Ext4, o.readonly),
                &super::root::assemble_root_with(cfg, &flat, plan(&image)),
            ]),
        ),
        (
            format!("{at} is a device-mapper COW store, squashfs holding LiveOS/rootfs.img (ext4)"),
            super::root::assemble_root_with(cfg, &nested, plan(&cow)),
        ),
    ];
    Some((summary, plans))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;

    fn cfg(text: &str) -> LiveConfig {
        LiveConfig::from_cmdline(&Cmdline::parse(&format!("root=live:LABEL=x {text}"))).unwrap()
    }

    #[test]
    fn the_spec_splits_as_dracut_does() {
        let s = PersistSpec::parse("LABEL=persist").unwrap();
        assert_eq!(s.device, DevSpec::Label("persist".into()));
        assert_eq!(s.path, None);
        let s = PersistSpec::parse("LABEL=p:/LiveOS/x").unwrap();
        assert_eq!(s.path.as_deref(), Some("/LiveOS/x"));
        assert_eq!(PersistSpec::parse("UUID=1-2:auto").unwrap().path, None);
        assert_eq!(PersistSpec::parse("UUID=1-2:").unwrap().path, None);
        assert_eq!(
            PersistSpec::parse("/dev/sdb1:persist/dir")
                .unwrap()
                .path
                .as_deref(),
            Some("/persist/dir")
        );
        assert!(PersistSpec::parse("nonsense").is_err());
    }

    #[test]
    fn the_default_path_names_the_medium() {
        let s = PersistSpec::parse("LABEL=p").unwrap();
        let id = MediumId {
            label: Some("Fedora-WS-Live-41"),
            uuid: Some("2024-10-24-01-02-03-00"),
        };
        assert_eq!(
            s.path_on_device(&cfg("rd.live.dir=/LiveOS/"), id),
            "/LiveOS/overlay-Fedora-WS-Live-41-2024-10-24-01-02-03-00"
        );
        assert_eq!(
            s.path_on_device(&cfg(""), MediumId::default()),
            "/LiveOS/overlay--"
        );
    }

    #[test]
    fn parents() {
        assert_eq!(parent_dir("/LiveOS/overlay-x"), "/LiveOS");
        assert_eq!(parent_dir("/overlay"), "/");
        assert_eq!(parent_dir("/a/b/"), "/a");
    }

    fn header(magic: u32, valid: u32, chunk: u32) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[0..4].copy_from_slice(&magic.to_le_bytes());
        h[4..8].copy_from_slice(&valid.to_le_bytes());
        h[8..12].copy_from_slice(&1u32.to_le_bytes());
        h[12..16].copy_from_slice(&chunk.to_le_bytes());
        h
    }

    #[test]
    fn cow_headers() {
        assert_eq!(CowHeader::parse(&[0; 16]), CowHeader::Fresh);
        assert_eq!(
            CowHeader::parse(&header(COW_MAGIC, 1, 8)),
            CowHeader::Valid { chunk_sectors: 8 }
        );
        assert_eq!(
            CowHeader::parse(&header(COW_MAGIC, 0, 8)),
            CowHeader::Invalid
        );
        assert_eq!(
            CowHeader::parse(b"\x53\xef junk junk junk"),
            CowHeader::Unknown
        );
        assert_eq!(CowHeader::parse(&[]), CowHeader::Unknown);
    }

    #[test]
    fn cow_fullness_follows_the_kernels_allocation() {
        // 4 KiB chunks: 256 exceptions an area; a 1 MiB store has 256 chunks.
        let l = CowLayout::new(8, 1 << 20).unwrap();
        assert_eq!(l.per_area, 256);
        assert_eq!(l.area_offset(0), 4096);
        assert_eq!(l.area_offset(1), (1 + 257) * 4096);
        assert!(!l.is_full(0));
        assert!(!l.is_full(253));
        assert!(!l.is_full(254));
        assert!(l.is_full(255));
        let mut area = vec![0u8; 4096];
        for (i, chunk) in [2u64, 3, 7].iter().enumerate() {
            area[i * 16 + 8..i * 16 + 16].copy_from_slice(&chunk.to_le_bytes());
        }
        assert_eq!(
            scan_area(&area),
            AreaScan {
                exceptions: 3,
                max_chunk: 7,
                ended: true
            }
        );
        assert_eq!(l.percent_used(7), 3);
    }
}
