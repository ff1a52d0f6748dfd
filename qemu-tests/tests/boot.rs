//! Boot tests: real Debian kernel + liveinit's initramfs + live media whose
//! root has the probe as `/sbin/init`. Run by `cargo xtask test`, which
//! prepares the kernel, the initramfs and the probe and passes their paths in
//! the environment. The harness (booting, the checks every boot gets, the
//! state a live boot must leave) is `qemu_tests::harness`.
//!
//! Media (each built once per run, on first use, under
//! `target/qemu-tests/media/`):
//! - ISOs on an IDE CD drive: a flattened `LiveOS/squashfs.img` (two labels;
//!   a third with 8 MiB of filler and an implanted MD5 for `rd.live.check`),
//!   a `squashfs.img` holding an ext4 `LiveOS/rootfs.img`, an uncompressed
//!   ext4 `LiveOS/rootfs.img`, a flattened EROFS `squashfs.img`, and one with
//!   no `LiveOS` at all;
//! - read-only virtio disks: a raw SquashFS, a raw EROFS, and an
//!   MBR-partitioned disk whose ext4 partition `LIVEPART` holds a SquashFS
//!   `LiveOS/rootfs.img` (dracut's TEST-30 layout), and one whose ext4
//!   partition holds the flattened ISO as the file `isos/live.iso`
//!   (iso-scan);
//! - read-only USB sticks, MBR-partitioned, whose FAT32 or F2FS partition
//!   holds a flattened `LiveOS/squashfs.img`.
//!
//! Every successful boot is checked against the state dracut hands to the
//! real root (docs/dracut-live.md §3.10): `/`, the medium at `/run/initramfs/live`,
//! `/run/initramfs/livedev`, `/run/rootfsbase`, `/dev/live-base`, the
//! device-mapper devices and their `/dev/mapper` nodes, the RAM copies,
//! `.need_shutdown`; and for absence of what that mode must not leave.
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{
    cdrom, probe_root, shared, usb_ro, virtio_ro, Case, Expect, LiveBase, Medium, Probed, Shared,
    FLAT_ISO, ISO_SQUASHFS_IMG,
};
use qemu_tests::media::{
    mksquashfs, Disk, Image, Layout, LiveImages, LiveRoot, PartitionFs, SquashComp,
};
use qemu_tests::out_dir;
use qemu_tests::qemu::Drive;
use qemu_tests::report::{RunKind, EJECT_MARKER};

const LABEL: &str = "LIVEINIT_TEST";
const SPACED_LABEL: &str = "My Live Disk";
const NESTED_LABEL: &str = "LIVEINIT_NESTED";
const UNCOMPRESSED_LABEL: &str = "LIVEINIT_UNCOMP";
const EROFS_LABEL: &str = "LIVEINIT_EROFS";
const EMPTY_LABEL: &str = "LIVEINIT_EMPTY";
const CHECKED_LABEL: &str = "LIVEINIT_MD5";
const ISO_STORE_LABEL: &str = "ISOSTORE";
/// Where the ISO file is on the iso-scan disk.
const ISO_FILE: &str = "isos/live.iso";
/// Incompressible filler on the checked ISO, so the check takes several
/// reads and reports its progress at every 10%.
const CHECK_PADDING_MIB: usize = 8;
const PART_LABEL: &str = "LIVEPART";
/// Size of the ext4 partition of the partitioned disk.
const PART_MIB: u32 = 16;
const FAT_STICK_LABEL: &str = "LIVE_FAT";
const F2FS_STICK_LABEL: &str = "LIVE_F2FS";
const SEED_STICK_LABEL: &str = "SEEDS";
/// The seed stick's only file: the squashfs, at the top of the stick.
const SEED_IMAGE: &str = "seed.sqfs";
/// Size of the live sticks' partitions: room for FAT32's 65525 clusters
/// and above the smallest volume `mkfs.f2fs` accepts (about 52 MiB).
const STICK_MIB: u32 = 64;

/// The size of `LiveOS/rootfs.img` (ext4) in 512-byte sectors.
const ROOTFS_SECTORS: u64 = qemu_tests::media::ROOTFS_IMG_MIB as u64 * 2048;

// ---------------------------------------------------------------------------
// Shared media, each built once per run on first use.

fn media_dir() -> PathBuf {
    out_dir().join("media")
}

/// The probe root every medium is made of.
fn root() -> &'static LiveRoot {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    probe_root(&ROOT, &media_dir())
}

/// The images of `layout`, built from [`root`].
fn images(layout: Layout) -> &'static LiveImages {
    static IMAGES: [Shared<LiveImages>; 6] = [const { OnceLock::new() }; 6];
    let i = match layout {
        Layout::FlatSquashfs => 0,
        Layout::FlatErofs => 1,
        Layout::NestedExt4 => 2,
        Layout::UncompressedExt4 => 3,
        Layout::SquashfsRootfsImg => 4,
        Layout::NoLiveOs => 5,
    };
    shared(&IMAGES[i], layout.slug(), || {
        LiveImages::build(root(), layout, &media_dir())
    })
}

/// The host file of the single image of `layout` (to use as a raw disk).
fn single_image(layout: Layout) -> PathBuf {
    match images(layout).files.as_slice() {
        [(_, host)] => host.clone(),
        other => panic!("{layout:?} has {} images, expected one", other.len()),
    }
}

fn iso(cell: &'static Shared<Image>, layout: Layout, label: &str, file: &str) -> &'static Image {
    shared(cell, file, || {
        images(layout).iso(label, &media_dir().join(file))
    })
}

fn test_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatSquashfs, LABEL, "live.iso")
}

fn spaced_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatSquashfs, SPACED_LABEL, "live-spaced.iso")
}

fn nested_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::NestedExt4, NESTED_LABEL, "nested-ext4.iso")
}

fn uncompressed_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(
        &C,
        Layout::UncompressedExt4,
        UNCOMPRESSED_LABEL,
        "uncompressed-ext4.iso",
    )
}

fn erofs_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatErofs, EROFS_LABEL, "flat-erofs.iso")
}

/// The flattened ISO with filler, and isomd5sum's MD5 implanted.
fn checked_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "live-md5.iso", || {
        images(Layout::FlatSquashfs).checked_iso(
            CHECKED_LABEL,
            CHECK_PADDING_MIB,
            &media_dir().join("live-md5.iso"),
        )
    })
}

fn empty_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::NoLiveOs, EMPTY_LABEL, "no-liveos.iso")
}

/// MBR disk, one ext4 partition `ISOSTORE` holding the flattened ISO as a
/// file, `isos/live.iso` (a GRUB loopback boot's layout).
fn iso_file_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "iso-file disk", || {
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![(ISO_FILE.to_string(), test_iso().path.clone())],
        }
        .partition_disk(
            PartitionFs::Ext4,
            ISO_STORE_LABEL,
            PART_MIB,
            &media_dir().join("iso-file-disk.img"),
        )
    })
}

/// MBR disk, one ext4 partition `LIVEPART` with a SquashFS `LiveOS/rootfs.img`.
fn partitioned_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "partitioned disk", || {
        images(Layout::SquashfsRootfsImg).partition_disk(
            PartitionFs::Ext4,
            PART_LABEL,
            PART_MIB,
            &media_dir().join("livepart-disk.img"),
        )
    })
}

/// A USB stick, MBR-partitioned, whose single `fs` partition labelled
/// `label` holds a flattened `LiveOS/squashfs.img` (livecd-iso-to-disk's
/// layout).
fn live_stick(cell: &'static Shared<Disk>, fs: PartitionFs, label: &str) -> &'static Disk {
    let file = format!("{}-stick.img", fs.name());
    shared(cell, &file, || {
        images(Layout::FlatSquashfs).partition_disk(fs, label, STICK_MIB, &media_dir().join(&file))
    })
}

fn fat_stick() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    live_stick(&C, PartitionFs::Vfat, FAT_STICK_LABEL)
}

/// The seeds' flash stick: a FAT partition holding one SquashFS file at
/// its top, of an embedded root with neither `/usr` nor `/proc` (only an
/// executable `/sbin/init` says it is a root).
fn seed_stick() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "seed stick", || {
        let embedded = root().copy_without(&media_dir().join("embedded-root"), &["usr", "proc"])?;
        let image = media_dir().join("embedded.sqfs");
        mksquashfs(&embedded.dir, &image, SquashComp::Xz)?;
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![(SEED_IMAGE.to_string(), image)],
        }
        .partition_disk(
            PartitionFs::Vfat,
            SEED_STICK_LABEL,
            STICK_MIB,
            &media_dir().join("seed-stick.img"),
        )
    })
}

fn f2fs_stick() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    live_stick(&C, PartitionFs::F2fs, F2FS_STICK_LABEL)
}

const ISO_ROOTFS_IMG: Medium = Medium::Mounted {
    fstype: "iso9660",
    entry: "LiveOS/rootfs.img",
};
const PART_ROOTFS_IMG: Medium = Medium::Mounted {
    fstype: "ext4",
    entry: "LiveOS/rootfs.img",
};

/// The nested ext4 `rootfs.img` with overlayfs on top.
const NESTED_OVERLAY: Expect = Expect::overlay(
    ISO_SQUASHFS_IMG,
    "/dev/sr0",
    LiveBase::Loop("LiveOS/rootfs.img"),
    "ext4",
);

/// The partitioned disk: SquashFS `rootfs.img` on ext4, overlayfs on top.
const PARTITION: Expect = Expect::overlay(
    PART_ROOTFS_IMG,
    "/dev/vda1",
    LiveBase::Loop("LiveOS/rootfs.img"),
    "squashfs",
);

// ---------------------------------------------------------------------------
// A flattened squashfs.img on an ISO, found by label or UUID.

#[test]
fn live_cdlabel() {
    let b = Case::new(
        "live_cdlabel",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&FLAT_ISO);
    b.check_modules(
        &["ata_piix", "sr_mod", "isofs", "loop", "squashfs", "overlay"],
        &[
            "ext4",
            "erofs",
            "vfat",
            "dm_mod",
            "dm_snapshot",
            "dm_thin_pool",
            "ahci",
            "nvme",
            "virtio_blk",
            "usb_storage",
        ],
    );
}

#[test]
fn live_cdlabel_with_space_quoted() {
    let iso = spaced_iso();
    assert_eq!(iso.label.as_deref(), Some(SPACED_LABEL));
    Case::new(
        "live_cdlabel_space_quoted",
        vec![cdrom(iso)],
        "root=\"live:CDLABEL=My Live Disk\"",
    )
    .boot_live(&FLAT_ISO);
}

#[test]
fn live_cdlabel_with_space_escaped() {
    Case::new(
        "live_cdlabel_space_escaped",
        vec![cdrom(spaced_iso())],
        "root=live:CDLABEL=My\\x20Live\\x20Disk",
    )
    .boot_live(&FLAT_ISO);
}

#[test]
fn legacy_rd_live_image_cdlabel() {
    Case::new(
        "legacy_rd_live_image",
        vec![cdrom(test_iso())],
        "rd.live.image root=CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&FLAT_ISO);
}

#[test]
fn live_uuid() {
    let iso = test_iso();
    let Some(uuid) = iso.uuid.as_deref() else {
        panic!("blkid reports no UUID for {}", iso.path.display());
    };
    Case::new(
        "live_uuid",
        vec![cdrom(iso)],
        &format!("root=live:UUID={uuid}"),
    )
    .boot_live(&FLAT_ISO);
}

#[test]
fn missing_label_fails_cleanly() {
    Case::new(
        "missing_label",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=NO_SUCH_LABEL rd.retry=5",
    )
    .boot_fatal(&["NO_SUCH_LABEL"]);
}

// ---------------------------------------------------------------------------
// rd.live.check: the medium's implanted MD5 verified before it is used.

/// An intact ISO with an implanted sum: read once, with a kernel-log line
/// at every 10%, passed, then booted.
#[test]
fn media_check_passes_an_intact_iso() {
    let b = Case::new(
        "media_check_pass",
        vec![cdrom(checked_iso())],
        "root=live:CDLABEL=LIVEINIT_MD5 rd.live.check",
    )
    .boot_live(&FLAT_ISO);
    // 1 MiB reads of 8 MiB: a kernel-log line each time a 10% step is
    // passed (8 here, as every read passes one), the last at 100%.
    let progress = b
        .ended
        .lines()
        .iter()
        .filter(|l| l.contains("liveinit: checking /dev/sr0: ") && l.contains(" MiB/s"))
        .count();
    b.check(
        progress >= 8,
        &format!("{progress} progress lines in the kernel log, expected one per 10% step"),
    );
    b.check(
        b.ended
            .has_line(&["liveinit: checking /dev/sr0: 100% (8 of 8 MiB"]),
        "no progress line at 100%",
    );
    b.check(
        b.ended
            .has_line(&["liveinit: medium check passed: /dev/sr0"]),
        "the check did not say it passed",
    );
}

/// An ISO without an implanted sum: a warning, then the boot goes on.
#[test]
fn media_check_of_an_iso_without_a_sum_warns_and_boots() {
    let b = Case::new(
        "media_check_none",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.check",
    )
    .boot_live(&FLAT_ISO);
    b.check(
        b.ended.has_line(&[
            "liveinit: rd.live.check: /dev/sr0 carries no implanted checksum",
            "used unverified",
        ]),
        "no warning that the medium has no checksum",
    );
    b.check(
        !b.ended.has_line(&["medium check passed"]),
        "a medium without a sum was said to pass",
    );
}

// ---------------------------------------------------------------------------
// iso-scan: the ISO as a file on a partition.

/// No device carries the label: the ISO file on the ext4 partition is
/// found, attached to a loop device, matched and booted; the partition
/// stays mounted at `/run/initramfs/isoscan`.
#[test]
fn iso_scan_boots_the_iso_file_on_an_ext4_partition() {
    let b = Case::new(
        "iso_scan_ext4",
        vec![virtio_ro(iso_file_disk().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST iso-scan/filename=/isos/live.iso \
         rd.liveinit.idle=2 rd.liveinit.idle.slow=2",
    )
    .boot_live(&Expect::overlay(
        ISO_SQUASHFS_IMG,
        "/dev/loop0",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    ));
    let r = &b.report;
    b.check(
        r.run_entry("/run/initramfs/isoscandev") == Some(&RunKind::Symlink("/dev/vda1".into())),
        "/run/initramfs/isoscandev is not a symlink to /dev/vda1",
    );
    let isoscan = r.mount_at("/run/initramfs/isoscan");
    b.check(
        isoscan.is_some_and(|m| {
            m.source == "/dev/vda1"
                && m.fstype == "ext4"
                && m.has_option("ro")
                && m.has_option("nosuid")
                && m.has_option("nodev")
        }),
        &format!("/run/initramfs/isoscan is not /dev/vda1 (ext4, ro, nosuid, nodev): {isoscan:?}"),
    );
}

// ---------------------------------------------------------------------------
// Layouts and writable layers.

/// Classic Fedora layout, default writable layer: a device-mapper snapshot
/// of the ext4 rootfs.img with a sparse COW in RAM; `rootflags=` reach `/`.
#[test]
fn nested_rootfs_img_dm_snapshot() {
    let b = Case::new(
        "nested_dm_snapshot",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rootflags=noatime rd.live.overlay.size=256",
    )
    .boot_live(&Expect {
        root_options: &["rw", "noatime"],
        ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
    });
    check_snapshot(&b, 256);
    b.check_modules(
        &["squashfs", "ext4", "dm_mod", "dm_snapshot"],
        &["erofs", "dm_thin_pool"],
    );
}

/// `live-rw` = snapshot of the base loop with a COW loop of `cow_mib` MiB
/// (the sparse `/overlay`), both as big as the base.
fn check_snapshot(b: &Probed, cow_mib: u64) {
    let r = &b.report;
    let base_loop = b.live_base_loop().kname.clone();
    let loops = b.dm_slave_loops("live-rw");
    b.check(
        loops.len() == 2 && r.dm_device("live-rw").is_some_and(|d| d.slaves.len() == 2),
        "live-rw does not map exactly two loop devices (base and COW)",
    );
    b.check(
        loops.iter().any(|l| l.kname == base_loop),
        "live-rw does not map the base loop device",
    );
    let cow = loops.iter().find(|l| l.kname != base_loop);
    b.check(
        cow.is_some_and(|l| l.backing.starts_with("/overlay") && l.read_only == Some(false)),
        "live-rw's COW is not a writable loop on /overlay",
    );
    b.check(
        cow.is_some_and(|l| l.sectors == Some(cow_mib * 2048)),
        &format!("the COW is not {cow_mib} MiB (rd.live.overlay.size)"),
    );
    for name in ["live-base", "live-rw"] {
        b.check(
            r.dm_device(name)
                .is_some_and(|d| d.sectors == Some(ROOTFS_SECTORS)),
            &format!("{name} is not as big as rootfs.img ({ROOTFS_SECTORS} sectors)"),
        );
    }
}

/// `rd.overlay`: overlayfs over the rootfs.img mounted read-only.
#[test]
fn nested_rootfs_img_rd_overlay() {
    Case::new(
        "nested_rd_overlay",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.overlay",
    )
    .boot_live(&NESTED_OVERLAY);
}

/// The deprecated `rd.live.overlay.overlayfs=1` does the same, with one
/// warning line.
#[test]
fn nested_rootfs_img_deprecated_overlayfs() {
    let b = Case::new(
        "nested_deprecated_overlayfs",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.live.overlay.overlayfs=1",
    )
    .boot_live(&NESTED_OVERLAY);
    let warnings: Vec<&str> = b
        .ended
        .lines()
        .into_iter()
        .filter(|l| l.contains("deprecated, use 'rd.overlay' instead"))
        .collect();
    b.check(
        warnings.len() == 1
            && warnings[0].contains("liveinit:")
            && warnings[0].contains("rd.live.overlay.overlayfs"),
        &format!(
            "expected one `liveinit:` line saying rd.live.overlay.overlayfs is deprecated, \
             use 'rd.overlay' instead; found {warnings:?}"
        ),
    );
}

/// `rd.writable.fsimg`: rootfs.img copied to RAM, a writable linear
/// `live-rw` over it, no `live-base`.
#[test]
fn nested_rootfs_img_writable_fsimg() {
    let b = Case::new(
        "nested_writable_fsimg",
        vec![cdrom(nested_iso())],
        // The writable copy must leave rd.minmem free (1024 MiB by
        // default, more than this 1 GiB guest has): a small one here.
        "root=live:CDLABEL=LIVEINIT_NESTED rd.writable.fsimg rd.minmem=256",
    )
    .boot_live(&Expect {
        dm: &["live-rw"],
        live_base: LiveBase::Absent,
        fsimg_copy: true,
        ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
    });
    let loops = b.dm_slave_loops("live-rw");
    b.check(
        loops.len() == 1
            && loops[0].backing == "/run/initramfs/fsimg/rootfs.img"
            && loops[0].read_only == Some(false),
        "live-rw does not map (only) a writable loop on /run/initramfs/fsimg/rootfs.img",
    );
    b.check(
        b.report
            .dm_device("live-rw")
            .is_some_and(|d| d.sectors == Some(ROOTFS_SECTORS)),
        "live-rw is not as big as rootfs.img",
    );
}

/// `rd.live.overlay.thin`: a thin pool on sparse files in /run and a thin
/// `live-rw` with the base as external origin.
#[test]
fn nested_rootfs_img_thin() {
    let b = Case::new(
        "nested_thin",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.live.overlay.thin rd.live.overlay.size=384",
    )
    .boot_live(&Expect {
        dm: &["live-base", "live-overlay-pool", "live-rw"],
        ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
    });
    let r = &b.report;
    for f in ["data", "meta"] {
        let path = format!("/run/initramfs/thin-overlay/{f}");
        b.check(
            r.run_entry(&path) == Some(&RunKind::File),
            &format!("{path} is not a file"),
        );
    }
    let mut backing: Vec<String> = b
        .dm_slave_loops("live-overlay-pool")
        .iter()
        .map(|l| l.backing.clone())
        .collect();
    backing.sort();
    b.check(
        backing
            == [
                "/run/initramfs/thin-overlay/data",
                "/run/initramfs/thin-overlay/meta",
            ],
        "live-overlay-pool does not map loops on /run/initramfs/thin-overlay/{data,meta}",
    );
    b.check(
        r.loops.iter().any(|l| {
            l.backing == "/run/initramfs/thin-overlay/data" && l.sectors == Some(384 * 2048)
        }),
        "the thin pool's data is not 384 MiB (rd.live.overlay.size)",
    );
    let base_loop = b.live_base_loop().kname.clone();
    let pool = r
        .dm_device("live-overlay-pool")
        .map(|d| d.kname.clone())
        .unwrap_or_default();
    b.check(
        r.dm_device("live-rw").is_some_and(|d| {
            d.slaves.contains(&pool)
                && d.slaves.contains(&base_loop)
                && d.sectors == Some(384 * 2048)
        }),
        "live-rw is not a 384 MiB thin device of the pool with the base loop as origin",
    );
    b.check_modules(&["dm_thin_pool", "ext4"], &["dm_snapshot", "overlay"]);
}

/// An uncompressed ext4 `LiveOS/rootfs.img` on the ISO: the default
/// snapshot. The default (32 GiB, sparse) COW is capped at half the RAM,
/// which the init says.
#[test]
fn uncompressed_rootfs_img_dm_snapshot() {
    let b = Case::new(
        "uncompressed_dm_snapshot",
        vec![cdrom(uncompressed_iso())],
        "root=live:CDLABEL=LIVEINIT_UNCOMP",
    )
    .boot_live(&Expect::snapshot(ISO_ROOTFS_IMG, "/dev/sr0"));
    let capped_mib = b.ended.lines().iter().find_map(|line| {
        let (_, rest) = line.split_once("the overlay is kept in RAM: ")?;
        rest.split_once(" MiB instead of the 32768 MiB")?
            .0
            .parse::<u64>()
            .ok()
    });
    let Some(capped_mib) = capped_mib else {
        b.fail("the init did not say it capped the 32 GiB COW");
    };
    b.check(
        capped_mib > 256 && capped_mib <= 512,
        &format!("a {capped_mib} MiB COW is not half of a 1 GiB machine"),
    );
    check_snapshot(&b, capped_mib);
    // The base loop reads the file on the mounted medium directly.
    let base = b.live_base_loop();
    b.check(
        base.backing == "/run/initramfs/live/LiveOS/rootfs.img",
        "the base loop is not on /run/initramfs/live/LiveOS/rootfs.img",
    );
}

/// A virtio disk that is itself a (flattened) SquashFS.
#[test]
fn raw_squashfs_disk() {
    Case::new(
        "raw_squashfs_disk",
        vec![virtio_ro(single_image(Layout::FlatSquashfs))],
        "root=live:/dev/vda",
    )
    .boot_live(&Expect::overlay(
        Medium::Raw,
        "/dev/vda",
        LiveBase::Device("/dev/vda"),
        "squashfs",
    ));
}

/// A virtio disk that is itself an EROFS (dracut TEST-30 case 4).
#[test]
fn raw_erofs_disk() {
    Case::new(
        "raw_erofs_disk",
        vec![virtio_ro(single_image(Layout::FlatErofs))],
        "root=live:/dev/vda",
    )
    .boot_live(&Expect::overlay(
        Medium::Raw,
        "/dev/vda",
        LiveBase::Device("/dev/vda"),
        "erofs",
    ));
}

/// `LiveOS/squashfs.img` that is a flattened EROFS, on an ISO.
#[test]
fn flat_erofs_squashfs_img() {
    let b = Case::new(
        "flat_erofs_iso",
        vec![cdrom(erofs_iso())],
        "root=live:CDLABEL=LIVEINIT_EROFS",
    )
    .boot_live(&Expect::overlay(
        ISO_SQUASHFS_IMG,
        "/dev/sr0",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "erofs",
    ));
    b.check_modules(&["erofs", "overlay"], &["ext4", "dm_mod"]);
}

/// dracut TEST-30 case 1: `root=live:/dev/disk/by-label/…` (resolved without
/// udev) on a partition holding a SquashFS `LiveOS/rootfs.img`.
#[test]
fn partition_by_label_path_rd_overlay() {
    let disk = partitioned_disk();
    assert_eq!(disk.partitions[0].label.as_deref(), Some(PART_LABEL));
    Case::new(
        "partition_by_label_path",
        vec![virtio_ro(disk.path.clone())],
        "root=live:/dev/disk/by-label/LIVEPART rd.overlay",
    )
    .boot_live(&PARTITION);
}

/// dracut TEST-30 case 2: the legacy `rd.live.image root=LABEL=…`; a
/// SquashFS rootfs.img gets overlayfs without `rd.overlay`.
#[test]
fn partition_legacy_root_label() {
    Case::new(
        "partition_legacy_root_label",
        vec![virtio_ro(partitioned_disk().path.clone())],
        "rd.live.image root=LABEL=LIVEPART",
    )
    .boot_live(&PARTITION);
}

/// A medium without `LiveOS`: a FATAL line naming the missing image and
/// what the medium holds, then power off (no panic).
#[test]
fn medium_without_liveos_fails_cleanly() {
    Case::new(
        "no_liveos",
        vec![cdrom(empty_iso())],
        "root=live:CDLABEL=LIVEINIT_EMPTY",
    )
    .boot_fatal(&["LiveOS/squashfs.img", "README.txt"]);
}

// ---- Buses: the same ISO, found by label behind each storage driver ----
//
// On disks rather than CD drives: QEMU's pc machine always has an empty IDE
// CD drive, so a second CD's sr number would depend on probe order.

const fn flat_iso_on(device: &'static str) -> Expect {
    Expect::overlay(
        ISO_SQUASHFS_IMG,
        device,
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    )
}

#[test]
fn bus_virtio_blk() {
    let b = Case::new(
        "bus_virtio_blk",
        vec![virtio_ro(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&flat_iso_on("/dev/vda"));
    b.check_modules(
        &["virtio_blk", "isofs"],
        &["ahci", "nvme", "usb_storage", "virtio_scsi"],
    );
}

#[test]
fn bus_virtio_scsi() {
    Case::new(
        "bus_virtio_scsi",
        vec![Drive::VirtioScsiDisk(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&flat_iso_on("/dev/sda"));
}

#[test]
fn bus_ahci_sata() {
    Case::new(
        "bus_ahci_sata",
        vec![Drive::AhciDisk(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&flat_iso_on("/dev/sda"));
}

#[test]
fn bus_nvme() {
    Case::new(
        "bus_nvme",
        vec![Drive::NvmeDisk {
            path: test_iso().path.clone(),
            readonly: true,
        }],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&flat_iso_on("/dev/nvme0n1"));
}

#[test]
fn bus_usb_storage() {
    Case::new(
        "bus_usb_storage",
        vec![Drive::UsbDisk {
            path: test_iso().path.clone(),
            readonly: true,
        }],
        "root=live:CDLABEL=LIVEINIT_TEST",
    )
    .boot_live(&flat_iso_on("/dev/sda"));
}

// ---- Live USB sticks: the flattened image on a FAT32 or F2FS partition ----

/// A live stick of filesystem `fs` found by its label: the partition is
/// the medium, mounted read-only, with overlayfs over the SquashFS.
fn boot_stick(case: &str, disk: &Disk, fs: PartitionFs, label: &str) -> Probed {
    assert_eq!(disk.partitions[0].label.as_deref(), Some(label));
    let medium = Medium::Mounted {
        fstype: fs.name(),
        entry: "LiveOS/squashfs.img",
    };
    Case::new(
        case,
        vec![usb_ro(disk.path.clone())],
        &format!("root=live:LABEL={label}"),
    )
    .boot_live(&Expect::overlay(
        medium,
        "/dev/sda1",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    ))
}

/// FAT needs its codepage (437) and its I/O charset (`ascii` in Debian's
/// kernel): without `nls_ascii` the kernel refuses the mount with `FAT-fs:
/// IO charset ascii not found`.
#[test]
fn fat_live_stick() {
    let b = boot_stick(
        "fat_live_stick",
        fat_stick(),
        PartitionFs::Vfat,
        FAT_STICK_LABEL,
    );
    b.check_modules(
        &[
            "usb_storage",
            "vfat",
            "nls_cp437",
            "nls_ascii",
            "squashfs",
            "overlay",
        ],
        &["f2fs", "ext4", "dm_snapshot"],
    );
}

/// F2FS, as livecd-iso-to-disk can format a stick: the module and the
/// checksum driver it asks for while mounting (`crc32`).
#[test]
fn f2fs_live_stick() {
    let b = boot_stick(
        "f2fs_live_stick",
        f2fs_stick(),
        PartitionFs::F2fs,
        F2FS_STICK_LABEL,
    );
    b.check_modules(
        &[
            "usb_storage",
            "f2fs",
            "crc32_generic",
            "squashfs",
            "overlay",
        ],
        &["vfat", "ext4", "dm_snapshot"],
    );
}

/// The seeds' flash stick as a new user would boot it: `rd.live.dir=/`
/// with the squashfs named by `rd.live.squashimg`, on FAT, holding a root
/// without `/usr` or `/proc` (dracut 059 recognised a root by `/proc`,
/// dracut 106 by `/usr`; this one has only an executable `/sbin/init`).
#[test]
fn seed_stick_embedded_root_at_the_top_of_fat() {
    let disk = seed_stick();
    let medium = Medium::Mounted {
        fstype: "vfat",
        entry: SEED_IMAGE,
    };
    let b = Case::new(
        "seed_stick_embedded_root_at_the_top_of_fat",
        vec![usb_ro(disk.path.clone())],
        &format!("root=live:LABEL={SEED_STICK_LABEL} rd.live.dir=/ rd.live.squashimg={SEED_IMAGE}"),
    )
    .boot_live(&Expect::overlay(
        medium,
        "/dev/sda1",
        LiveBase::Loop(SEED_IMAGE),
        "squashfs",
    ));
    b.check_modules(
        &["usb_storage", "vfat", "nls_ascii", "squashfs", "overlay"],
        &[],
    );
}

// ---- rd.live.ram: the image in RAM, the medium let go ----

/// The flattened image copied to `/run/initramfs/squashed.img`, the CD
/// unmounted; QEMU then ejects the disc, and every file of the root still
/// reads back (from RAM, after the page cache is dropped).
#[test]
fn live_ram_releases_the_cd_and_runs_after_eject() {
    let b = Case::new(
        "live_ram_releases_the_cd_and_runs_after_eject",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.ram rd.minmem=64 liveinit.probe.eject=/dev/sr0",
    )
    .eject_cd_after(EJECT_MARKER)
    .boot_live(&Expect::overlay(
        Medium::Released,
        "/dev/sr0",
        LiveBase::Loop("/run/initramfs/squashed.img"),
        "squashfs",
    ));
    b.check(
        !b.report
            .loops
            .iter()
            .any(|l| l.backing.contains("/run/initramfs/live")),
        "a loop device still reads from the medium",
    );
    b.check(
        b.ended
            .has_line(&["liveinit: ", "/dev/sr0 is released and can be removed"]),
        "the console does not say the medium can be removed",
    );
    b.check(
        b.ended.has_line(&["liveinit: copying to RAM: done, "]),
        "no copy summary (size, time, rate) on the console",
    );
    for what in ["disc_gone", "read_root"] {
        match b.report.after_check(what) {
            Some(Ok(_)) => {}
            other => b.fail(&format!("after the eject, {what}: {other:?}")),
        }
    }
}

// ---- rd.live.ram=auto: copied from a slow medium when the RAM has room ----

/// A CD is slow, the image is small and the 2600 MiB machine holds it
/// plus 2 GiB: the copy is made and the CD released, as with rd.live.ram.
#[test]
fn live_ram_auto_copies_from_a_cd_with_room() {
    let b = Case::new(
        "live_ram_auto_copies_from_a_cd_with_room",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.ram=auto",
    )
    .memory(2600)
    .boot_live(&Expect::overlay(
        Medium::Released,
        "/dev/sr0",
        LiveBase::Loop("/run/initramfs/squashed.img"),
        "squashfs",
    ));
    b.check(
        b.ended.has_line(&[
            "liveinit: rd.live.ram=auto: /dev/sr0: medium: an optical drive; image: ",
            "MemTotal: ",
            "copying to RAM: the medium is slow",
        ]),
        "no rd.live.ram=auto line with the medium, the sizes and the decision to copy",
    );
    b.check(
        b.ended
            .has_line(&["liveinit: ", "/dev/sr0 is released and can be removed"]),
        "the console does not say the medium can be removed",
    );
}

/// The same CD on the default 1024 MiB machine: the image and 2 GiB do
/// not fit, so the boot runs from the CD, which stays mounted.
#[test]
fn live_ram_auto_runs_from_the_cd_without_room() {
    let b = Case::new(
        "live_ram_auto_runs_from_the_cd_without_room",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.ram=auto",
    )
    .boot_live(&FLAT_ISO);
    b.check(
        b.ended.has_line(&[
            "liveinit: rd.live.ram=auto: /dev/sr0: medium: an optical drive; image: ",
            "running from the medium: copying needs ",
        ]),
        "no rd.live.ram=auto line saying why the image stays on the CD",
    );
    b.check(
        !b.ended.has_line(&["liveinit: copying "]),
        "the image was copied although the RAM lacks room",
    );
}

/// A USB stick counts as slow: found by the USB interface above its disk
/// in sysfs, the image is copied and the stick released.
#[test]
fn live_ram_auto_copies_from_a_usb_stick() {
    let b = Case::new(
        "live_ram_auto_copies_from_a_usb_stick",
        vec![usb_ro(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.ram=auto",
    )
    .memory(2600)
    .boot_live(&Expect::overlay(
        Medium::Released,
        "/dev/sda",
        LiveBase::Loop("/run/initramfs/squashed.img"),
        "squashfs",
    ));
    b.check(
        b.ended.has_line(&[
            "liveinit: rd.live.ram=auto: /dev/sda: medium: a USB disk; image: ",
            "copying to RAM: the medium is slow",
        ]),
        "no rd.live.ram=auto line naming a USB disk and the decision to copy",
    );
}

/// A virtio disk is not slow: with room to spare all the same, the image
/// is read in place.
#[test]
fn live_ram_auto_reads_a_virtio_disk_in_place() {
    let b = Case::new(
        "live_ram_auto_reads_a_virtio_disk_in_place",
        vec![virtio_ro(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST rd.live.ram=auto",
    )
    .memory(2600)
    .boot_live(&flat_iso_on("/dev/vda"));
    b.check(
        b.ended.has_line(&[
            "liveinit: rd.live.ram=auto: /dev/vda: medium: neither an optical drive nor a USB disk",
            "running from the medium: only an optical drive or a USB disk",
        ]),
        "no rd.live.ram=auto line saying a virtio disk is read in place",
    );
}
