//! Ubuntu casper gaps (distro-live-spec §2.2–2.7, fixtures U5–U8), booted
//! on the layered replica of `qemu_tests::casper` (its base a marker
//! layer, the probe on top):
//!
//! - U5 `uuid=`: the medium's `.disk/casper-uuid-generic` holds it, so the
//!   CD is taken; another UUID passes the CD over and the search gives up
//!   naming the UUID asked and the one seen;
//! - U6 `toram` (with `ignore_uuid` after a wrong `uuid=`, which must clear
//!   it): `/cdrom` a tmpfs copy, the CD released and ejected while every
//!   file of the root, `/cdrom` included, still reads back;
//! - U8 `iso-scan/filename=` with no keyword (Ubuntu's GRUB loopback
//!   entry): the ISO a file on an ext4 partition, loop-attached;
//! - U7 what casper's persistence scenarios add to `distro_persist.rs`:
//!   `nopersistent` leaves an existing `writable` alone, and a `casper-rw`
//!   image file on a FAT disk holds the upper layer.
//!
//! Media under `target/qemu-tests/media-distro-casper/` (the persistence
//! volumes rebuilt by each boot); console logs `target/qemu-tests/<case>.log`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use qemu_tests::casper::{self, CASPER_UUID, LAYERED_CHAIN};
use qemu_tests::harness::{cdrom, probe_root, shared, virtio_ro, Case, Probed, Shared};
use qemu_tests::media::{
    fat_disk, fat_put, mkfs_ext4, mksquashfs, Disk, Image, Layout, LiveImages, LiveRoot,
    PartitionFs, SquashComp,
};
use qemu_tests::out_dir;
use qemu_tests::persist::{printed, BEFORE, MARKER_FILE, MARK_PARAM, NO_MARKER, WROTE};
use qemu_tests::qemu::Drive;

/// The replica's leaf, named because `boot=casper` alone stacks every image.
const LEAF: &str = "layerfs-path=minimal.standard.live.squashfs";

fn media_dir() -> PathBuf {
    out_dir().join("media-distro-casper")
}

fn probe() -> &'static LiveRoot {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    probe_root(&ROOT, &media_dir())
}

fn layered_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "casper layered iso", || {
        let image = media_dir().join("probe.squashfs");
        mksquashfs(&probe().dir, &image, SquashComp::Gzip)?;
        let base = casper::marker_image(&media_dir(), "base")?;
        casper::layered_iso(&media_dir(), &base, &image, true, "casper.iso")
    })
}

/// An MBR disk whose ext4 partition holds the replica as `/ubuntu.iso`.
fn iso_host_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "casper iso host disk", || {
        let iso_mib = std::fs::metadata(&layered_iso().path)?.len() >> 20;
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![("ubuntu.iso".to_string(), layered_iso().path.clone())],
        }
        .partition_disk(
            PartitionFs::Ext4,
            "ISOHOST",
            u32::try_from(iso_mib)? + 8,
            &media_dir().join("iso-host.img"),
        )
    })
}

/// U5: `uuid=` as the replica's `.disk/casper-uuid-generic` says: taken.
#[test]
fn casper_uuid_matches() {
    let b = Case::new(
        "casper_uuid",
        vec![cdrom(layered_iso())],
        &format!("boot=casper {LEAF} uuid={CASPER_UUID}"),
    )
    .boot_probe();
    casper::check_state(&b, "iso9660", &LAYERED_CHAIN);
    b.check(
        b.ended.has_line(&[
            "liveinit: ",
            &format!("/dev/sr0 carries uuid={CASPER_UUID}"),
        ]),
        "the console does not say the CD carries the UUID asked",
    );
}

/// U5: another UUID: the CD holds images but is passed over; the search
/// gives up at rd.retry naming the UUID asked and the one the CD carries.
#[test]
fn casper_uuid_mismatch_is_not_taken() {
    Case::new(
        "casper_uuid_mismatch",
        vec![cdrom(layered_iso())],
        &format!("boot=casper {LEAF} uuid=0b0e-not-this-one rd.retry=4"),
    )
    .boot_fatal(&[
        "and carrying uuid=0b0e-not-this-one",
        &format!("media with casper/ seen: /dev/sr0 (.disk/casper-uuid-generic {CASPER_UUID}"),
    ]);
}

/// U6 (+ U5's `ignore_uuid`, which clears the wrong `uuid=` before it):
/// `/cdrom` is a tmpfs holding the whole medium, the layers are read from
/// it, and the CD, released, is ejected while the root (with `/cdrom`)
/// still reads back.
#[test]
fn casper_toram_releases_the_cd() {
    let b = Case::new(
        "casper_toram",
        vec![cdrom(layered_iso())],
        &format!(
            "boot=casper {LEAF} uuid=0b0e-not-this-one ignore_uuid toram rd.minmem=64 \
             liveinit.probe.eject=/dev/sr0"
        ),
    )
    .eject_cd_after(qemu_tests::report::EJECT_MARKER)
    .boot_probe();
    let r = &b.report;
    let medium = r.mount_at("/cdrom");
    b.check(
        medium.is_some_and(|m| m.fstype == "tmpfs"),
        &format!("/cdrom is not the tmpfs copy: {medium:?}"),
    );
    for image in LAYERED_CHAIN {
        let backing = format!("/cdrom/casper/{image}");
        b.check(
            r.loops.iter().any(|l| l.backing == backing),
            &format!("no loop reads {backing}: {:?}", r.loops),
        );
    }
    b.check_released("/dev/sr0");
    for what in ["disc_gone", "read_root"] {
        match r.after_check(what) {
            Some(Ok(_)) => {}
            other => b.fail(&format!("after the eject, {what}: {other:?}")),
        }
    }
}

/// U8: Ubuntu's loopback entry, no keyword: the ISO file on an ext4
/// partition is found, loop-attached and mounted at `/cdrom`; its host
/// stays at `/isodevice` in the initramfs (casper does not show it).
#[test]
fn casper_iso_scan_on_ext4_without_a_keyword() {
    let b = Case::new(
        "casper_iso_scan",
        vec![virtio_ro(iso_host_disk().path.clone())],
        "iso-scan/filename=/ubuntu.iso --- quiet splash",
    )
    .boot_probe();
    casper::check_state(&b, "iso9660", &LAYERED_CHAIN);
    let r = &b.report;
    let medium = r.mount_at("/cdrom");
    let source = medium.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        r.loop_at(&source)
            .is_some_and(|l| l.backing == "/isodevice/ubuntu.iso"),
        &format!(
            "/cdrom is not a loop on /isodevice/ubuntu.iso: {medium:?} {:?}",
            r.loops
        ),
    );
    b.check(
        r.mount_at("/isodevice").is_none(),
        "/isodevice is visible in the root",
    );
}

// ---------------------------------------------------------------------------
// U7: persistence (§2.7). The volumes hold a marker in `upper/` already: a
// boot that uses the volume sees it, one that does not sees none.

/// What the marker says on a volume made here.
const ON_THE_VOLUME: &str = "left-on-the-volume";

/// An 8 MiB ext4 filesystem at `out` (labelled `label`) whose `upper/`
/// holds the probe's marker.
fn marked_ext4(out: &Path, label: Option<&str>) {
    let tree = out.with_extension("tree");
    let _ = std::fs::remove_dir_all(&tree);
    let upper = tree.join("upper");
    std::fs::create_dir_all(&upper).unwrap();
    let marker = MARKER_FILE.trim_start_matches('/');
    std::fs::write(upper.join(marker), format!("{ON_THE_VOLUME}\n")).unwrap();
    mkfs_ext4(&tree, out, 8, label).expect("building an ext4 volume");
}

fn virtio_rw(path: &Path) -> Drive {
    Drive::VirtioDisk {
        path: path.to_path_buf(),
        readonly: false,
    }
}

/// One boot of the CD with `drives` that leaves a marker; what it saw.
fn boot_marking(name: &str, drives: Vec<Drive>, args: &str) -> (Probed, Option<String>) {
    let mut all = vec![cdrom(layered_iso())];
    all.extend(drives);
    let b = Case::new(
        name,
        all,
        &format!("boot=casper {LEAF} {args} {MARK_PARAM}=new"),
    )
    .boot_probe();
    let log = &b.ended.out.log;
    b.check(
        printed(log, WROTE) == Some("new"),
        "the probe could not write its marker",
    );
    let before = printed(log, BEFORE).map(String::from);
    (b, before)
}

/// U7: `nopersistent` wins over `persistent`: an existing `writable`
/// volume (writable, so a wrong use would show) is neither mounted nor
/// read; the upper layer is the tmpfs.
#[test]
fn casper_nopersistent_leaves_writable_alone() {
    let dir = media_dir().join("nopersistent");
    std::fs::create_dir_all(&dir).unwrap();
    let writable = dir.join("writable.img");
    marked_ext4(&writable, Some("writable"));
    let (b, before) = boot_marking(
        "casper_nopersistent",
        vec![virtio_rw(&writable)],
        "persistent nopersistent",
    );
    b.check(
        before.as_deref() == Some(NO_MARKER),
        &format!("the boot saw the volume's marker: {before:?}"),
    );
    b.check(
        !b.ended.has_line(&["persistence:", "upper layer on"]),
        "a persistence volume was used",
    );
    casper::check_state(&b, "iso9660", &LAYERED_CHAIN);
}

/// U7: a `casper-rw` image file on a FAT disk (casper's `find_cow_device`
/// looks only on FAT): attached, it holds the upper layer, whose marker
/// the boot sees.
#[test]
fn casper_rw_file_on_fat() {
    let dir = media_dir().join("casper-rw-file");
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("casper-rw.ext4");
    marked_ext4(&image, None);
    let stick = dir.join("stick.img");
    fat_disk(&stick, 40, "STICK", "c4a5e7f1").expect("building the FAT stick");
    fat_put(&stick, "casper-rw", &image).expect("copying the image file");
    let (b, before) = boot_marking("casper_rw_file", vec![virtio_rw(&stick)], "persistent");
    b.check(
        before.as_deref() == Some(ON_THE_VOLUME),
        &format!("the boot did not see the marker in the file's upper/: {before:?}"),
    );
    b.check(
        b.ended.has_line(&[
            "persistence:",
            "the root's upper layer on /casper-rw on /dev/vda",
        ]),
        "no line naming the casper-rw file as the upper layer",
    );
    b.check(
        b.report
            .loops
            .iter()
            .any(|l| l.backing == "/casper-rw-backing/casper-rw"),
        &format!("no loop on the casper-rw file: {:?}", b.report.loops),
    );
}
