//! Persistence under Debian live-boot (`persistence`) and casper
//! (`persistent`), distro-live-spec §1.8, §2.7, fixtures D6, U7, X2: the
//! same writable disks booted several times, the probe leaving a marker in
//! `/` each time (written and fsynced) and reporting the one the boot
//! before left.
//!
//! - live-boot, a disk holding `live/filesystem.squashfs` and three more:
//!   an ext4 filesystem labelled `persistence` whose `persistence.conf`
//!   says `/ union`; a GPT disk whose partition is *named* `persistence`
//!   (its ext4 unlabelled) saying `/home bind`; and a dracut `rd.overlay`
//!   volume (`LiveOS/overlay-…` and `ovlwork`), labelled `persistence` too
//!   but without `persistence.conf`, which must be left alone. Two boots
//!   keep the marker; then `nopersistence` sees none and mounts no volume.
//! - casper, a disk holding `casper/filesystem.squashfs` and an ext4
//!   filesystem labelled `writable`: two boots keep the marker in
//!   `upper/` on it, the root's `/cow` the volume.
//!
//! - live-boot, an image file `persistence` (ext4, `/ union`) on a FAT
//!   disk: the file is attached and its filesystem holds the upper layer.
//!
//! Media under `target/qemu-tests/media-distro-persist/`, rebuilt by each
//! test (the boots write to them). Console logs:
//! `target/qemu-tests/<case>.log`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use qemu_tests::harness::{probe_root, shared, virtio_ro, Shared};
use qemu_tests::media::{
    fat_disk, fat_put, mksquashfs, Layout, LiveImages, LiveRoot, PartitionFs, SquashComp,
};
use qemu_tests::out_dir;
use qemu_tests::persist::{boot_marking, ext4_volume, root_upper, virtio_rw, NO_MARKER};
use qemu_tests::qemu::Drive;

/// What the `/home bind` volume holds beforehand, seen through `/home`.
const HOME_FILE: &str = "home-from-the-volume";

fn media_dir() -> PathBuf {
    out_dir().join("media-distro-persist")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

fn probe_squashfs() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "probe squashfs", || {
        let out = media_dir().join("probe.squashfs");
        mksquashfs(&root().dir, &out, SquashComp::Gzip)?;
        Ok(out)
    })
}

/// A disk whose ext4 partition holds the probe root as
/// `<dir>/filesystem.squashfs` (read-only, so it is the first virtio disk,
/// `vda`, and the volumes follow it).
fn live_disk(dir: &str) -> Drive {
    let disk = LiveImages {
        layout: Layout::FlatSquashfs,
        files: vec![(
            format!("{dir}/filesystem.squashfs"),
            probe_squashfs().clone(),
        )],
    }
    .partition_disk(
        PartitionFs::Ext4,
        "LIVEPERSIST",
        16,
        &media_dir().join(format!("{dir}-medium.img")),
    )
    .expect("building the live disk");
    virtio_ro(disk.path)
}

/// A GPT disk at `out` whose one partition, named `name`, holds `part`.
fn gpt_disk(part: &Path, name: &str, out: &Path) {
    let sectors = std::fs::metadata(part).unwrap().len() / 512;
    let disk = std::fs::File::create(out).unwrap();
    // 1 MiB in front, and room for the backup table behind.
    disk.set_len((2048 * 2 + sectors) * 512).unwrap();
    drop(disk);
    let mut sfdisk = Command::new("sfdisk")
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("running sfdisk");
    let script = format!(
        "label: gpt\nstart=2048, size={sectors}, \
         type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"{name}\"\n"
    );
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(sfdisk.wait().unwrap().success(), "sfdisk failed");
    let dd = Command::new("dd")
        .arg(format!("if={}", part.display()))
        .arg(format!("of={}", out.display()))
        .args(["bs=512", "seek=2048", "conv=notrunc,sparse", "status=none"])
        .status()
        .unwrap();
    assert!(dd.success(), "dd failed");
}

#[test]
fn live_boot_union_and_home_bind_survive_reboots_and_nopersistence_ignores_them() {
    let dir = media_dir().join("live-boot");
    std::fs::create_dir_all(&dir).unwrap();
    let medium = live_disk("live");
    let union = dir.join("union.img");
    ext4_volume(
        &union,
        Some("persistence"),
        &[("persistence.conf", "/ union\n")],
        &[],
    );
    let home_part = dir.join("home-part.img");
    ext4_volume(
        &home_part,
        None,
        &[
            ("persistence.conf", "# the homes only\n/home bind\n"),
            (&format!("home/{HOME_FILE}"), "kept"),
        ],
        &[],
    );
    let home = dir.join("home-gpt.img");
    gpt_disk(&home_part, "persistence", &home);
    let dracut = dir.join("dracut.img");
    ext4_volume(
        &dracut,
        Some("persistence"),
        &[],
        &["LiveOS/overlay-LIVEPERSIST-x", "LiveOS/ovlwork"],
    );
    let drives = || {
        vec![
            medium.clone(),
            virtio_rw(&union),
            virtio_rw(&home),
            virtio_rw(&dracut),
        ]
    };

    let b = boot_marking(
        "lb-persist-1",
        drives(),
        "boot=live persistence",
        "one",
        NO_MARKER,
    );
    let r = &b.report;
    let vol = r.mount_at("/run/live/persistence/vdb");
    b.check(
        vol.is_some_and(|m| m.fstype == "ext4" && m.has_option("rw") && m.has_option("noatime")),
        &format!("/run/live/persistence/vdb is not the ext4 volume rw,noatime: {vol:?}"),
    );
    b.check(
        root_upper(&b) == Some("/run/live/persistence/vdb/rw"),
        &format!(
            "the root's upper layer is not on the volume: {:?}",
            r.root_mount()
        ),
    );
    let home_mount = r.mount_at("/home");
    b.check(
        home_mount.is_some_and(|m| m.source == "/dev/vdc1"),
        &format!("/home is not the bound home/ of vdc1: {home_mount:?}"),
    );
    b.check(
        r.mount_at("/run/live/persistence/vdd").is_none(),
        "the dracut volume without persistence.conf is still mounted",
    );
    b.check(
        b.ended
            .has_line(&["/dev/vdd", "has no persistence.conf at its root: not used"]),
        "no warning naming the dracut volume as not used",
    );
    b.check(
        r.mount_at("/run/live/overlay").is_some(),
        "live-boot's tmpfs /run/live/overlay is not there",
    );

    let b = boot_marking(
        "lb-persist-2",
        drives(),
        "boot=live persistence",
        "two",
        "one",
    );
    b.check(
        root_upper(&b) == Some("/run/live/persistence/vdb/rw"),
        "the second boot's upper layer is not on the volume",
    );

    let b = boot_marking(
        "lb-persist-3-nopersistence",
        drives(),
        "boot=live persistence nopersistence",
        "three",
        NO_MARKER,
    );
    b.check(
        root_upper(&b) == Some("/run/live/overlay/rw"),
        "nopersistence: the upper layer is not the tmpfs",
    );
    b.check(
        !b.report
            .mounts
            .iter()
            .any(|m| m.mount_point.starts_with("/run/live/persistence")),
        "nopersistence: a volume is mounted",
    );
}

#[test]
fn casper_writable_survives_a_reboot() {
    let dir = media_dir().join("casper");
    std::fs::create_dir_all(&dir).unwrap();
    let medium = live_disk("casper");
    let writable = dir.join("writable.img");
    ext4_volume(&writable, Some("writable"), &[], &[]);
    let drives = || vec![medium.clone(), virtio_rw(&writable)];
    for (name, mark, before) in [
        ("casper-persist-1", "one", NO_MARKER),
        ("casper-persist-2", "two", "one"),
    ] {
        let b = boot_marking(name, drives(), "boot=casper persistent", mark, before);
        let root = b.report.root_mount();
        b.check(
            root.is_some_and(|m| {
                m.source == "/cow" && m.super_option("upperdir") == Some("/cow/upper")
            }),
            &format!("/ is not casper's overlay with its upper on /cow: {root:?}"),
        );
        b.check(
            b.ended
                .has_line(&["persistence:", "the root's upper layer on /dev/vdb"]),
            "no line naming the writable volume as the upper layer",
        );
    }
}

#[test]
fn live_boot_image_file_on_fat() {
    let dir = media_dir().join("live-boot-file");
    std::fs::create_dir_all(&dir).unwrap();
    let medium = live_disk("live");
    let image = dir.join("persistence.ext4");
    ext4_volume(&image, None, &[("persistence.conf", "/ union\n")], &[]);
    let stick = dir.join("stick.img");
    fat_disk(&stick, 40, "STICK", "5e1f0a11").expect("building the FAT stick");
    fat_put(&stick, "persistence", &image).expect("copying the image file");
    let b = boot_marking(
        "lb-persist-file",
        vec![medium, virtio_rw(&stick)],
        "boot=live persistence",
        "one",
        NO_MARKER,
    );
    let r = &b.report;
    let host = r.mount_at("/run/live/persistence/vdb");
    b.check(
        host.is_some_and(|m| m.fstype == "vfat" && m.has_option("rw")),
        &format!("the FAT partition is not mounted rw at /run/live/persistence/vdb: {host:?}"),
    );
    let upper = root_upper(&b).unwrap_or_default();
    let loop_name = upper
        .strip_prefix("/run/live/persistence/")
        .and_then(|rest| rest.strip_suffix("/rw"))
        .unwrap_or_default();
    b.check(
        loop_name.starts_with("loop")
            && r.loop_device(loop_name)
                .is_some_and(|l| l.backing == "/run/live/persistence/vdb/persistence"),
        &format!("the root's upper layer is not on the attached image file: {upper}"),
    );
}
