//! Debian live-boot's remaining options (distro-live-spec §7, D6, D8, D9):
//!
//! - D8, `live-media=removable-usb`: a CD (removable, not USB) and a SATA
//!   disk (not removable) hold a medium whose image is no root, and only
//!   a removable USB stick holds the probe: the boot reaches the probe only
//!   if the others were passed over. `persistence-media=removable-usb` in
//!   the same boot: a `persistence` volume on a virtio disk is left alone,
//!   the one on a second removable USB stick holds the upper layer.
//!   `live-media=removable` with the ISO on a virtio disk only: the boot
//!   gives up after `rd.retry`, saying only removable disks were searched.
//! - D9, `verify-checksums`: live-build's `sha256sum.txt` matching, the
//!   machine reboots after 10 s without booting; a changed byte in
//!   `live/filesystem.packages`: the boot stops naming that file.
//! - D6, `persistence-label=foo persistence-path=sub`: an image file
//!   `sub/foo` on a FAT disk holds `/ union` (the `foo` beside `sub/` and a
//!   filesystem labelled `persistence` are not used), an ext4 labelled `foo`
//!   holds `/home bind`; then `persistence-read-only` boots with the marker
//!   but its write is gone on the boot after.
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use qemu_tests::harness::{cdrom, probe_root, shared, virtio_ro, Case, Shared};
use qemu_tests::media::{
    fat_disk, fat_put, mksquashfs, Image, Layout, LiveImages, LiveRoot, PartitionFs, SquashComp,
};
use qemu_tests::out_dir;
use qemu_tests::persist::{boot_marking, ext4_volume, root_upper, virtio_rw, NO_MARKER};
use qemu_tests::qemu::Drive;

const PACKAGES: &str = "live/filesystem.packages";

fn media_dir() -> PathBuf {
    out_dir().join("media-distro-debian")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

/// live-build's `live/`: the probe as `filesystem.squashfs` (or an image
/// that is no root at all), `filesystem.packages`, and `sha256sum.txt`
/// listing both at the root (`./path`, as live-build writes it), the
/// packages list then changed by a byte when `damaged`.
fn debian_files(name: &str, live_root: bool, damaged: bool) -> anyhow::Result<LiveImages> {
    let dir = media_dir().join(name);
    let tree = dir.join("tree");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(tree.join("live"))?;
    let image = tree.join("live/filesystem.squashfs");
    if live_root {
        mksquashfs(&root().dir, &image, SquashComp::Gzip)?;
    } else {
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty)?;
        std::fs::write(empty.join("README"), "no root here\n")?;
        mksquashfs(&empty, &image, SquashComp::Gzip)?;
    }
    std::fs::write(tree.join(PACKAGES), "base-files\t13.8\nlibc6\t2.41-12\n")?;
    let out = Command::new("sha256sum")
        .args(["./live/filesystem.squashfs", &format!("./{PACKAGES}")])
        .current_dir(&tree)
        .output()?;
    anyhow::ensure!(out.status.success(), "sha256sum failed");
    std::fs::write(tree.join("sha256sum.txt"), &out.stdout)?;
    if damaged {
        std::fs::write(tree.join(PACKAGES), "base-files\t13.9\nlibc6\t2.41-12\n")?;
    }
    let files = ["live/filesystem.squashfs", PACKAGES, "sha256sum.txt"]
        .iter()
        .map(|p| (p.to_string(), tree.join(p)))
        .collect();
    Ok(LiveImages {
        layout: Layout::FlatSquashfs,
        files,
    })
}

fn iso(cell: &'static Shared<Image>, name: &str, live_root: bool, damaged: bool) -> &'static Image {
    shared(cell, name, || {
        debian_files(name, live_root, damaged)?
            .iso("DEBLIVE", &media_dir().join(format!("{name}.iso")))
    })
}

fn good_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, "good", true, false)
}

/// A live-boot medium whose image is no root: booting it fails.
fn dud_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, "dud", false, false)
}

fn damaged_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, "damaged", true, true)
}

/// QEMU arguments for USB sticks that say they are removable (QEMU's
/// usb-storage does not by default), on a controller of their own.
fn removable_usb(sticks: &[(&Path, bool)]) -> Vec<String> {
    let mut args = vec!["-device".to_string(), "qemu-xhci,id=rmxhci".to_string()];
    for (i, (path, readonly)) in sticks.iter().enumerate() {
        args.extend([
            "-drive".to_string(),
            format!(
                "file={},format=raw,if=none,id=rmstick{i}{}",
                path.display(),
                if *readonly { ",readonly=on" } else { "" }
            ),
            "-device".to_string(),
            format!("usb-storage,bus=rmxhci.0,drive=rmstick{i},removable=on"),
        ]);
    }
    args
}

/// D8: only removable USB disks are searched, for the medium and for
/// persistence.
#[test]
fn live_media_and_persistence_media_removable_usb() {
    let dir = media_dir().join("removable");
    std::fs::create_dir_all(&dir).unwrap();
    let fixed = dir.join("fixed-persistence.img");
    ext4_volume(
        &fixed,
        Some("persistence"),
        &[("persistence.conf", "/ union\n")],
        &[],
    );
    let stick = dir.join("stick-persistence.img");
    ext4_volume(
        &stick,
        Some("persistence"),
        &[("persistence.conf", "/ union\n")],
        &[],
    );
    let args = removable_usb(&[(&good_iso().path, true), (&stick, false)]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = Case::new(
        "debian-removable-usb",
        vec![
            cdrom(dud_iso()),
            Drive::AhciDisk(dud_iso().path.clone()),
            virtio_rw(&fixed),
        ],
        "boot=live live-media=removable-usb persistence persistence-media=removable-usb",
    )
    .qemu_args(&args)
    .boot_probe();
    let r = &b.report;
    let medium = r.mount_at("/run/live/medium");
    b.check(
        medium.is_some_and(|m| m.fstype == "iso9660" && m.source.starts_with("/dev/sd")),
        &format!("/run/live/medium is not the USB stick's ISO: {medium:?}"),
    );
    // The CD (removable, not USB) and the SATA disk (not removable) were
    // seen and passed over; had either been taken, its image is no root.
    let passed_over = b
        .ended
        .lines()
        .iter()
        .filter(|l| l.contains(": not searched: not one of the removable USB disks"))
        .count();
    b.check(
        b.ended.has_line(&["sr0: not searched"]) && passed_over >= 2,
        &format!("the CD and the SATA disk were not both named as passed over ({passed_over})"),
    );
    let upper = root_upper(&b).unwrap_or_default();
    b.check(
        upper.starts_with("/run/live/persistence/sd") && upper.ends_with("/rw"),
        &format!("the upper layer is not on the removable stick's volume: {upper}"),
    );
    b.check(
        r.mount_at("/run/live/persistence/vda").is_none(),
        "the volume on the fixed virtio disk was used",
    );
}

/// D8: the ISO on a disk that is not removable is not found.
#[test]
fn live_media_removable_passes_over_a_fixed_disk() {
    let b = Case::new(
        "debian-removable-none",
        vec![virtio_ro(good_iso().path.clone())],
        "boot=live live-media=removable rd.retry=5",
    )
    .boot_fatal(&[
        "searched for on removable disks (sysfs removable=1) only (live-media=removable)",
        "no block device matched",
    ]);
    b.check(
        b.has_line(&["vda: not searched: not one of the removable disks"]),
        "vda is not named as passed over",
    );
    b.check(
        b.has_line(&["block devices:", "vda: iso9660"]),
        "the summary does not list vda",
    );
}

/// D9: a good medium is tested and the machine reboots without booting.
#[test]
fn verify_checksums_passes_and_reboots() {
    let b = Case::new(
        "debian-verify-good",
        vec![cdrom(good_iso())],
        "boot=live verify-checksums",
    )
    .boot();
    let log = &b.out.log;
    b.check(
        b.has_line(&["verify-checksums: found sha256sum.txt"]),
        "the listing was not found",
    );
    b.check(
        b.has_line(&["all 2 files sha256sum.txt lists match", "rebooting in 10 s"]),
        "no line saying the medium passed and the machine reboots",
    );
    b.check(
        b.has_line(&["reboot: Restarting system"]),
        "the machine did not reboot",
    );
    b.check(
        !log.contains("FATAL") && !log.contains(qemu_tests::report::BEGIN),
        "the media test booted on, or failed",
    );
}

/// D9: a changed byte in `filesystem.packages` stops the boot naming it.
#[test]
fn verify_checksums_names_the_damaged_file() {
    Case::new(
        "debian-verify-damaged",
        vec![cdrom(damaged_iso())],
        "boot=live verify-checksums",
    )
    .boot_fatal(&[
        "live/filesystem.packages has sha256 ",
        "1 of the 2 files sha256sum.txt lists failed",
    ]);
}

/// A disk holding the probe's `live/filesystem.squashfs` (read-only: it
/// is `vda`, and the volumes follow it).
fn live_disk() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "live disk", || {
        let disk = debian_files("disk", true, false)?.partition_disk(
            PartitionFs::Ext4,
            "DEBDISK",
            16,
            &media_dir().join("live-disk.img"),
        )?;
        Ok(disk.path)
    })
}

/// D6: `persistence-label=`, `persistence-path=`, `persistence-read-only`.
#[test]
fn persistence_label_path_and_read_only() {
    let dir = media_dir().join("persist");
    std::fs::create_dir_all(&dir).unwrap();
    let union = dir.join("union.ext4");
    ext4_volume(&union, None, &[("persistence.conf", "/ union\n")], &[]);
    let stick = dir.join("stick.img");
    fat_disk(&stick, 40, "STICK", "5e1f0a12").expect("building the FAT stick");
    fat_put(&stick, "sub/foo", &union).expect("copying sub/foo");
    fat_put(&stick, "foo", &union).expect("copying foo");
    let home = dir.join("home.img");
    ext4_volume(
        &home,
        Some("foo"),
        &[
            ("persistence.conf", "/home bind\n"),
            ("home/from-foo", "kept"),
        ],
        &[],
    );
    let decoy = dir.join("decoy.img");
    ext4_volume(
        &decoy,
        Some("persistence"),
        &[("persistence.conf", "/ union\n")],
        &[],
    );
    let drives = || {
        vec![
            virtio_ro(live_disk().to_path_buf()),
            virtio_rw(&stick),
            virtio_rw(&home),
            virtio_rw(&decoy),
        ]
    };
    let args = "boot=live persistence persistence-label=foo persistence-path=sub";

    let b = boot_marking(
        "debian-persist-label-path",
        drives(),
        args,
        "one",
        NO_MARKER,
    );
    let r = &b.report;
    let upper = root_upper(&b).unwrap_or_default();
    let loop_name = upper
        .strip_prefix("/run/live/persistence/")
        .and_then(|rest| rest.strip_suffix("/rw"))
        .unwrap_or_default();
    b.check(
        r.loop_device(loop_name)
            .is_some_and(|l| l.backing == "/run/live/persistence/vdb/sub/foo"),
        &format!("the upper layer is not on the attached sub/foo: {upper}"),
    );
    let home_mount = r.mount_at("/home");
    b.check(
        home_mount.is_some_and(|m| m.source == "/dev/vdc"),
        &format!("/home is not the home/ of the volume labelled foo: {home_mount:?}"),
    );
    b.check(
        r.mount_at("/run/live/persistence/vdd").is_none(),
        "the volume labelled persistence was used under persistence-label=foo",
    );

    let b = boot_marking(
        "debian-persist-read-only",
        drives(),
        &format!("{args} persistence-read-only"),
        "two",
        "one",
    );
    b.check(
        root_upper(&b) == Some("/run/live/overlay/rw"),
        &format!(
            "persistence-read-only: the upper layer is not the tmpfs: {:?}",
            b.report.root_mount()
        ),
    );
    let lower = b
        .report
        .root_mount()
        .and_then(|m| m.super_option("lowerdir"))
        .unwrap_or_default();
    let volume = lower
        .split(':')
        .next()
        .and_then(|l| l.strip_suffix("/rw"))
        .unwrap_or_default();
    let mount = b.report.mount_at(volume);
    b.check(
        volume.starts_with("/run/live/persistence/loop") && mount.is_some_and(|m| m.has_option("ro")),
        &format!("persistence-read-only: the volume's rw/ is not a read-only lower layer: {lower}, {mount:?}"),
    );

    boot_marking("debian-persist-after-ro", drives(), args, "three", "one");
}
