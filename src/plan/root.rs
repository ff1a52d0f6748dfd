//! Phase 3: the writable layer and the new root (docs/dracut-live.md §3.4–3.6).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::persist::{PersistPlan, Persistent, DM_LIVE_RO, UPPER_RO_LINK, WORK_RO_LINK};
use super::{
    mkdir, path, split_mount_options, symlink, DmTable, Layout, LoopSlot, MountFlags, Sectors,
    Source, Step, COW_FILE, DM_LIVE_BASE, DM_LIVE_RW, DM_THIN_POOL, FSIMG_COPY, LIVE_BASE_LINK,
    NEED_SHUTDOWN, NEWROOT, OVERLAY_DIR, OVERLAY_SOURCE, ROOTFSBASE, SQUASH_MNT, THIN_DIR,
    UPPER_LINK, WORK_LINK,
};
use crate::config::LiveConfig;
use crate::probe::FsType;

/// Snapshot chunk size in sectors (4 KiB), as dracut uses.
const CHUNK_SECTORS: &str = "8";
/// Thin-pool data block size and low-water mark, in sectors, as dracut.
const THIN_BLOCK: &str = "1024";

/// How the root is made writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// overlayfs over the read-only image, upper and work dirs in RAM.
    OverlayFs,
    /// `live-rw` = dm snapshot of the image with a sparse COW file in RAM.
    Snapshot,
    /// `live-rw` = thin volume of a RAM-backed pool, the image as origin.
    Thin,
    /// `live-rw` = the image itself, writable (`rd.writable.fsimg`,
    /// `rd.overlay=none`).
    Linear,
}

/// dracut's choice (docs/dracut-live.md §3.4): a flattened image needs overlayfs; otherwise a
/// writable base, overlayfs, a thin pool or a snapshot, in that order.
pub fn choose_layer(cfg: &LiveConfig, layout: &Layout) -> Layer {
    choose_layer_with(cfg, layout, None)
}

/// [`choose_layer`] once a persistent overlay was found: its form decides
/// (a directory needs overlayfs, a COW store a snapshot; §3.5.2).
pub fn choose_layer_with(
    cfg: &LiveConfig,
    layout: &Layout,
    persistent: Option<&Persistent>,
) -> Layer {
    match persistent {
        Some(Persistent::Dirs { .. }) => return Layer::OverlayFs,
        Some(Persistent::Cow { .. }) if cow_fits(layout) => return Layer::Snapshot,
        _ => {}
    }
    match layout {
        Layout::Flattened { .. } => Layer::OverlayFs,
        // A read-only filesystem can only be made writable by overlayfs (a
        // snapshot of a squashfs rootfs.img would still mount read-only).
        Layout::FsImage {
            fstype: FsType::Squashfs | FsType::Erofs,
            ..
        } => Layer::OverlayFs,
        Layout::FsImage { .. } => {
            if cfg.writable_fsimg || cfg.overlay.none {
                if cfg.overlay.readonly {
                    Layer::Snapshot
                } else {
                    Layer::Linear
                }
            } else if cfg.overlay.overlayfs {
                Layer::OverlayFs
            } else if cfg.overlay.thin {
                Layer::Thin
            } else {
                Layer::Snapshot
            }
        }
    }
}

/// Whether a snapshot (hence a persistent COW store) can make this
/// layout writable: only a writable filesystem image can.
pub fn cow_fits(layout: &Layout) -> bool {
    matches!(
        layout,
        Layout::FsImage { fstype, .. } if !matches!(fstype, FsType::Squashfs | FsType::Erofs)
    )
}

/// The steps from a mounted image to a mounted new root at [`NEWROOT`].
pub fn assemble_root(cfg: &LiveConfig, layout: &Layout) -> Vec<Step> {
    assemble_root_with(cfg, layout, None)
}

/// [`assemble_root`] on a persistent overlay.
pub fn assemble_root_with(
    cfg: &LiveConfig,
    layout: &Layout,
    persist: Option<PersistPlan<'_>>,
) -> Vec<Step> {
    let layer = choose_layer_with(cfg, layout, persist.map(|p| p.layer));
    let mut steps = Vec::new();
    let squashfs_mounted = match layout {
        Layout::Flattened { base } => {
            steps.extend([
                mkdir(ROOTFSBASE),
                Step::Mount {
                    source: path(SQUASH_MNT),
                    target: String::from(ROOTFSBASE),
                    fstype: None,
                    flags: MountFlags::BIND,
                    data: String::new(),
                },
                symlink(base.clone(), LIVE_BASE_LINK),
            ]);
            overlay_root(cfg, &mut steps, persist);
            true
        }
        Layout::FsImage {
            path: image,
            fstype,
            in_squashfs,
        } => {
            let mut image = image.clone();
            if cfg.writable_fsimg {
                steps.extend([
                    mkdir("/run/initramfs/fsimg"),
                    Step::CopyFile {
                        from: image,
                        to: String::from(FSIMG_COPY),
                    },
                ]);
                image = String::from(FSIMG_COPY);
            }
            steps.push(Step::AttachLoop {
                slot: LoopSlot::Base,
                backing: image,
                read_only: layer != Layer::Linear,
            });
            match layer {
                Layer::Linear => steps.push(linear(DM_LIVE_RW, false)),
                Layer::Snapshot => snapshot(cfg, &mut steps, persist),
                Layer::Thin => thin(cfg, &mut steps),
                Layer::OverlayFs => {
                    steps.extend([
                        mkdir(ROOTFSBASE),
                        Step::Mount {
                            source: Source::Loop(LoopSlot::Base),
                            target: String::from(ROOTFSBASE),
                            fstype: Some(fstype.mount_type()),
                            flags: MountFlags::RO,
                            data: String::new(),
                        },
                        symlink(Source::Loop(LoopSlot::Base), LIVE_BASE_LINK),
                    ]);
                    overlay_root(cfg, &mut steps, persist);
                }
            }
            if layer != Layer::OverlayFs {
                steps.extend(mount_live_rw(cfg, *fstype));
            }
            *in_squashfs
        }
    };
    steps.push(Step::WriteFile {
        path: String::from(NEED_SHUTDOWN),
        contents: String::new(),
    });
    if squashfs_mounted {
        // Whatever still uses the image (the bind at /run/rootfsbase, the
        // loop on rootfs.img) keeps it mounted, out of sight.
        steps.push(Step::Detach {
            path: String::from(SQUASH_MNT),
        });
    }
    steps
}

/// `<name>`: `0 <base sectors> linear <base loop> 0`.
fn linear(name: &'static str, read_only: bool) -> Step {
    Step::DmCreate {
        name,
        read_only,
        table: DmTable {
            length: Sectors::Of(LoopSlot::Base),
            target: "linear",
            args: vec![Source::Loop(LoopSlot::Base), path("0")],
        },
    }
}

/// `live-base` and the `/dev/live-base` link, which installers look for.
fn live_base(steps: &mut Vec<Step>) {
    steps.push(linear(DM_LIVE_BASE, true));
    steps.push(symlink(Source::Loop(LoopSlot::Base), LIVE_BASE_LINK));
}

/// `live-rw` = snapshot of the base over a sparse COW file; `PO` keeps a
/// full COW from invalidating the snapshot (it turns read-only instead).
/// A persistent COW store takes the temporary file's place; kept
/// read-only, it is `live-ro` (`P`, read-only) under a temporary `live-rw`.
fn snapshot(cfg: &LiveConfig, steps: &mut Vec<Step>, persist: Option<PersistPlan<'_>>) {
    live_base(steps);
    let mut origin = Source::Loop(LoopSlot::Base);
    if let Some(PersistPlan {
        layer: Persistent::Cow { file },
        readonly,
        reset,
    }) = persist
    {
        if reset && !readonly {
            steps.push(Step::ZeroStart {
                path: file.clone(),
                bytes: super::persist::COW_RESET_BYTES,
            });
        }
        steps.push(Step::AttachLoop {
            slot: LoopSlot::Persist,
            backing: file.clone(),
            read_only: readonly,
        });
        let cow = Source::Loop(LoopSlot::Persist);
        if !readonly {
            steps.push(snapshot_table(DM_LIVE_RW, origin, cow, "PO"));
            return;
        }
        let mut live_ro = snapshot_table(DM_LIVE_RO, origin, cow, "P");
        if let Step::DmCreate { read_only, .. } = &mut live_ro {
            *read_only = true;
        }
        steps.push(live_ro);
        origin = Source::Path(format!("/dev/mapper/{DM_LIVE_RO}"));
    }
    steps.extend([
        Step::CreateSparse {
            path: String::from(COW_FILE),
            bytes: mib_to_bytes(cfg.overlay.size_mib),
        },
        Step::AttachLoop {
            slot: LoopSlot::Cow,
            backing: String::from(COW_FILE),
            read_only: false,
        },
        snapshot_table(DM_LIVE_RW, origin, Source::Loop(LoopSlot::Cow), "PO"),
    ]);
}

/// `<name>`: `0 <base sectors> snapshot <origin> <cow> <mode> 8`.
fn snapshot_table(name: &'static str, origin: Source, cow: Source, mode: &str) -> Step {
    snapshot_of_base(name, origin, cow, mode, CHUNK_SECTORS)
}

/// `<name>`: `0 <base sectors> snapshot <origin> <cow> <mode> <chunk>`.
pub fn snapshot_of_base(
    name: &'static str,
    origin: Source,
    cow: Source,
    mode: &str,
    chunk: &str,
) -> Step {
    Step::DmCreate {
        name,
        read_only: false,
        table: DmTable {
            length: Sectors::Of(LoopSlot::Base),
            target: "snapshot",
            args: vec![origin, cow, path(mode), path(chunk)],
        },
    }
}

/// `live-rw` = thin volume with the base as external origin, sized by the
/// overlay so the filesystem can be grown (dracut-ng 100).
fn thin(cfg: &LiveConfig, steps: &mut Vec<Step>) {
    let data_bytes = mib_to_bytes(cfg.overlay.size_mib);
    let data_sectors = data_bytes / 512;
    let data = format!("{THIN_DIR}/data");
    let meta = format!("{THIN_DIR}/meta");
    live_base(steps);
    steps.extend([
        mkdir(THIN_DIR),
        Step::CreateSparse {
            path: data.clone(),
            bytes: data_bytes,
        },
        Step::CreateSparse {
            path: meta.clone(),
            bytes: (data_bytes / 10).max(1 << 20),
        },
        Step::AttachLoop {
            slot: LoopSlot::ThinData,
            backing: data,
            read_only: false,
        },
        Step::AttachLoop {
            slot: LoopSlot::ThinMeta,
            backing: meta,
            read_only: false,
        },
        Step::DmCreate {
            name: DM_THIN_POOL,
            read_only: false,
            table: DmTable {
                length: Sectors::Fixed(data_sectors),
                target: "thin-pool",
                args: vec![
                    Source::Loop(LoopSlot::ThinMeta),
                    Source::Loop(LoopSlot::ThinData),
                    path(THIN_BLOCK),
                    path(THIN_BLOCK),
                ],
            },
        },
        Step::DmMessage {
            name: DM_THIN_POOL,
            text: "create_thin 0",
        },
        Step::DmCreate {
            name: DM_LIVE_RW,
            read_only: false,
            table: DmTable {
                length: Sectors::Fixed(data_sectors),
                target: "thin",
                args: vec![
                    Source::Path(format!("/dev/mapper/{DM_THIN_POOL}")),
                    path("0"),
                    Source::Loop(LoopSlot::Base),
                ],
            },
        },
    ]);
}

/// Mounts `live-rw` as the new root, with `rootflags=`.
fn mount_live_rw(cfg: &LiveConfig, fstype: FsType) -> [Step; 2] {
    let (flags, data) = split_mount_options(cfg.rootflags.as_deref().unwrap_or(""), MountFlags::RW);
    [
        mkdir(NEWROOT),
        Step::Mount {
            source: Source::Path(format!("/dev/mapper/{DM_LIVE_RW}")),
            target: String::from(NEWROOT),
            fstype: Some(fstype.mount_type()),
            flags,
            data,
        },
    ]
}

/// overlayfs `LiveOS_rootfs` on [`NEWROOT`] over [`ROOTFSBASE`], upper and
/// work dirs in `/run` (or a dedicated tmpfs with `rd.overlay=tmpfs:…`), or
/// on the persistent overlay; a persistent overlay kept read-only is one
/// more lower layer under fresh upper and work dirs (§3.5.4).
fn overlay_root(cfg: &LiveConfig, steps: &mut Vec<Step>, persist: Option<PersistPlan<'_>>) {
    let mut lower = String::from(ROOTFSBASE);
    let mut persistent = None;
    if let Some(PersistPlan {
        layer: Persistent::Dirs { upper, work },
        readonly,
        reset,
    }) = persist
    {
        if readonly {
            steps.extend([
                symlink(Source::Path(upper.clone()), UPPER_RO_LINK),
                symlink(Source::Path(work.clone()), WORK_RO_LINK),
            ]);
            lower = format!("{UPPER_RO_LINK}:{ROOTFSBASE}");
        } else {
            if reset {
                steps.extend([
                    Step::ClearDir {
                        path: upper.clone(),
                    },
                    Step::ClearDir { path: work.clone() },
                ]);
            }
            persistent = Some((upper.clone(), work.clone()));
        }
    }
    let (upper, work) = match persistent {
        Some(dirs) => dirs,
        None => {
            if let Some(options) = &cfg.overlay.tmpfs_options {
                steps.extend([
                    mkdir(OVERLAY_DIR),
                    Step::Mount {
                        source: path("tmpfs"),
                        target: String::from(OVERLAY_DIR),
                        fstype: Some("tmpfs"),
                        flags: MountFlags::RW,
                        data: options.clone(),
                    },
                ]);
            }
            let dirs = (
                format!("{OVERLAY_DIR}/overlayfs"),
                format!("{OVERLAY_DIR}/ovlwork"),
            );
            steps.extend([mkdir(&dirs.0), mkdir(&dirs.1)]);
            dirs
        }
    };
    steps.extend([
        symlink(Source::Path(upper), UPPER_LINK),
        symlink(Source::Path(work), WORK_LINK),
        mkdir(NEWROOT),
        Step::Mount {
            source: path(OVERLAY_SOURCE),
            target: String::from(NEWROOT),
            fstype: Some("overlay"),
            flags: MountFlags::RW,
            data: format!("lowerdir={lower},upperdir={UPPER_LINK},workdir={WORK_LINK}"),
        },
    ]);
}

fn mib_to_bytes(mib: u64) -> u64 {
    // The configuration caps the size so that this cannot overflow.
    mib.saturating_mul(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;
    use alloc::string::ToString;

    fn cfg(text: &str) -> LiveConfig {
        LiveConfig::from_cmdline(&Cmdline::parse(&format!("root=live:LABEL=x {text}"))).unwrap()
    }

    fn nested() -> Layout {
        Layout::FsImage {
            path: "/run/initramfs/squashfs/LiveOS/rootfs.img".into(),
            fstype: FsType::Ext4,
            in_squashfs: true,
        }
    }

    fn lines(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layer_choice_follows_dracut() {
        let flat = Layout::Flattened {
            base: Source::Loop(LoopSlot::Image),
        };
        let squashfs_rootfs = Layout::FsImage {
            path: "/run/initramfs/live/LiveOS/rootfs.img".into(),
            fstype: FsType::Squashfs,
            in_squashfs: false,
        };
        let cases = [
            ("", &flat, Layer::OverlayFs),
            ("rd.live.overlay.thin", &flat, Layer::OverlayFs),
            ("", &nested(), Layer::Snapshot),
            ("rd.overlay", &nested(), Layer::OverlayFs),
            ("rd.live.overlay.overlayfs", &nested(), Layer::OverlayFs),
            ("rd.live.overlay.thin", &nested(), Layer::Thin),
            ("rd.writable.fsimg", &nested(), Layer::Linear),
            ("rd.overlay=none", &nested(), Layer::Linear),
            (
                "rd.overlay=none rd.overlay.readonly",
                &nested(),
                Layer::Snapshot,
            ),
            ("rd.writable.fsimg rd.overlay", &nested(), Layer::Linear),
            ("", &squashfs_rootfs, Layer::OverlayFs),
            ("rd.live.overlay.thin", &squashfs_rootfs, Layer::OverlayFs),
        ];
        for (text, layout, want) in cases {
            assert_eq!(choose_layer(&cfg(text), layout), want, "{text}");
        }
    }

    #[test]
    fn default_is_dracuts_snapshot_exactly() {
        let steps = assemble_root(&cfg("rootflags=noatime,discard"), &nested());
        assert_eq!(
            lines(&steps),
            [
                "attach loop <- /run/initramfs/squashfs/LiveOS/rootfs.img (ro)",
                "dm create live-base (ro): 0 <sectors of <base loop>> linear <base loop> 0",
                "symlink /dev/live-base -> <base loop>",
                "create sparse /overlay (32768 MiB)",
                "attach loop <- /overlay (rw)",
                "dm create live-rw: 0 <sectors of <base loop>> snapshot <base loop> <cow loop> PO 8",
                "mkdir /sysroot",
                "mount /dev/mapper/live-rw -> /sysroot (ext4, rw, noatime, discard)",
                "write /run/initramfs/.need_shutdown",
                "detach /run/initramfs/squashfs",
            ]
        );
        let Some(Step::Mount { flags, .. }) = steps.get(7) else {
            panic!("no root mount")
        };
        assert!(flags.noatime && !flags.read_only);
    }

    #[test]
    fn overlay_size_sets_the_cow_file() {
        let steps = assemble_root(&cfg("rd.live.overlay.size=512"), &nested());
        assert!(steps.contains(&Step::CreateSparse {
            path: "/overlay".into(),
            bytes: 512 << 20
        }));
    }

    #[test]
    fn thin_pool_tables_match_dracut() {
        let steps = assemble_root(
            &cfg("rd.live.overlay.thin rd.live.overlay.size=1024"),
            &nested(),
        );
        let l = lines(&steps);
        assert!(l.contains(&"create sparse /run/initramfs/thin-overlay/data (1024 MiB)".into()));
        assert!(l.contains(&"create sparse /run/initramfs/thin-overlay/meta (102 MiB)".into()));
        assert!(l.contains(
            &"dm create live-overlay-pool: 0 2097152 thin-pool <thin meta loop> <thin data loop> 1024 1024"
                .into()
        ));
        assert!(l.contains(&"dm message live-overlay-pool 0 create_thin 0".into()));
        assert!(l.contains(
            &"dm create live-rw: 0 2097152 thin /dev/mapper/live-overlay-pool 0 <base loop>".into()
        ));
    }

    #[test]
    fn overlayfs_on_a_nested_image_mounts_it_at_rootfsbase() {
        let l = lines(&assemble_root(&cfg("rd.overlay"), &nested()));
        assert_eq!(
            l,
            [
                "attach loop <- /run/initramfs/squashfs/LiveOS/rootfs.img (ro)",
                "mkdir /run/rootfsbase",
                "mount <base loop> -> /run/rootfsbase (ext4, ro)",
                "symlink /dev/live-base -> <base loop>",
                "mkdir /run/initramfs/overlay/overlayfs",
                "mkdir /run/initramfs/overlay/ovlwork",
                "symlink /run/overlayfs -> /run/initramfs/overlay/overlayfs",
                "symlink /run/ovlwork -> /run/initramfs/overlay/ovlwork",
                "mkdir /sysroot",
                "mount LiveOS_rootfs -> /sysroot (overlay, rw, \
                 lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork)",
                "write /run/initramfs/.need_shutdown",
                "detach /run/initramfs/squashfs",
            ]
        );
    }

    #[test]
    fn flattened_binds_the_image_and_needs_no_dm() {
        let l = lines(&assemble_root(
            &cfg(""),
            &Layout::Flattened {
                base: Source::Loop(LoopSlot::Image),
            },
        ));
        assert_eq!(l[0], "mkdir /run/rootfsbase");
        assert_eq!(
            l[1],
            "mount /run/initramfs/squashfs -> /run/rootfsbase (bind)"
        );
        assert_eq!(l[2], "symlink /dev/live-base -> <image loop>");
        assert!(!l.iter().any(|s| s.starts_with("dm ")));
        assert_eq!(l.last().unwrap(), "detach /run/initramfs/squashfs");
    }

    #[test]
    fn writable_fsimg_copies_then_maps_it_linear() {
        let l = lines(&assemble_root(&cfg("rd.writable.fsimg"), &nested()));
        assert_eq!(
            &l[..4],
            [
                "mkdir /run/initramfs/fsimg",
                "copy /run/initramfs/squashfs/LiveOS/rootfs.img -> /run/initramfs/fsimg/rootfs.img",
                "attach loop <- /run/initramfs/fsimg/rootfs.img (rw)",
                "dm create live-rw: 0 <sectors of <base loop>> linear <base loop> 0",
            ]
        );
        assert!(!l.iter().any(|s| s.contains("live-base")));
    }

    #[test]
    fn uncompressed_image_on_the_medium_is_not_detached() {
        let layout = Layout::FsImage {
            path: "/run/initramfs/live/LiveOS/rootfs.img".into(),
            fstype: FsType::Ext4,
            in_squashfs: false,
        };
        let l = lines(&assemble_root(&cfg(""), &layout));
        assert_eq!(
            l[0],
            "attach loop <- /run/initramfs/live/LiveOS/rootfs.img (ro)"
        );
        assert!(!l.iter().any(|s| s.starts_with("detach")));
    }

    #[test]
    fn tmpfs_overlay_gets_its_own_mount() {
        let l = lines(&assemble_root(
            &cfg("rd.overlay=tmpfs:size=32M"),
            &Layout::Flattened {
                base: Source::Path("/dev/vdb".into()),
            },
        ));
        assert!(l.contains(&"mount tmpfs -> /run/initramfs/overlay (tmpfs, rw, size=32M)".into()));
        assert!(l.contains(&"symlink /dev/live-base -> /dev/vdb".into()));
    }

    #[test]
    fn generic_mount_options_become_flags() {
        let (flags, data) = split_mount_options("ro,noatime,,data=ordered,nodev", MountFlags::RW);
        assert!(flags.read_only && flags.noatime && flags.nodev);
        assert_eq!(data, "data=ordered");
    }
}
