//! Boot tests for the other distributions' live grammars (distro-live-spec
//! §7): replica media built here, booted with that distribution's command
//! line, checked against the state its own initramfs leaves.
//!
//! Debian live-boot (`boot=live`) media: `live/filesystem.squashfs` is a
//! root whose `/sbin/init` cannot run (an interpreter that does not exist),
//! and `live/zz-probe.squashfs` holds the probe. Only the right stack (the
//! last image on top) reaches the probe, so each boot also proves the order.
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::archiso::{self, ARCH_LABEL};
use qemu_tests::harness::{cdrom, probe_root, shared, virtio_ro, Case, Probed, Shared};
use qemu_tests::media::{
    mksquashfs, Disk, Image, Layout, LiveImages, LiveRoot, LiveRootSpec, PartitionFs, SquashComp,
};
use qemu_tests::{casper, kiwi, out_dir};

/// The Debian ISO's volume id (live-boot never looks at it).
const DEBIAN_LABEL: &str = "LIVEINIT_DEB";
/// Size of the ext4 partition of the Debian disk.
const DEBIAN_PART_MIB: u32 = 16;

fn media_dir() -> PathBuf {
    out_dir().join("media-distro")
}

fn probe() -> &'static LiveRoot {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    probe_root(&ROOT, &media_dir())
}

/// A squashfs of the probe root.
fn probe_image() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "probe squashfs", || {
        let out = media_dir().join("probe.squashfs");
        mksquashfs(&probe().dir, &out, SquashComp::Gzip)?;
        Ok(out)
    })
}

/// A squashfs of a root whose `/sbin/init` cannot be run: booted on top,
/// it stops the boot.
fn dead_image() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "dead-init squashfs", || {
        let root = LiveRoot::create(
            &media_dir().join("dead-root"),
            &LiveRootSpec::probe(qemu_tests::harness::inputs::probe()),
        )?;
        root.add_text("sbin/init", "#!/nonexistent/interpreter\n", 0o755)?;
        root.add_text("etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n", 0o644)?;
        let out = media_dir().join("dead.squashfs");
        mksquashfs(&root.dir, &out, SquashComp::Gzip)?;
        Ok(out)
    })
}

/// live-build's layout: the base image and one more, in `live/`.
fn debian_files(extra: &[(&str, PathBuf)]) -> LiveImages {
    let mut files = vec![
        ("live/filesystem.squashfs".to_string(), dead_image().clone()),
        ("live/zz-probe.squashfs".to_string(), probe_image().clone()),
    ];
    files.extend(extra.iter().map(|(p, h)| (p.to_string(), h.clone())));
    LiveImages {
        layout: Layout::FlatSquashfs,
        files,
    }
}

fn debian_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "debian live iso", || {
        debian_files(&[]).iso(DEBIAN_LABEL, &media_dir().join("debian-live.iso"))
    })
}

/// An MBR disk whose ext4 partition holds `live/` with a third image,
/// `zzz-decoy.squashfs` (a dead init, on top by name), and the list
/// `live/filesystem.module` that leaves it out.
fn debian_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "debian live disk", || {
        let list = media_dir().join("filesystem.module");
        std::fs::create_dir_all(media_dir())?;
        std::fs::write(
            &list,
            "filesystem.squashfs\nzz-probe.squashfs missing.squashfs\n",
        )?;
        debian_files(&[
            ("live/zzz-decoy.squashfs", dead_image().clone()),
            ("live/filesystem.module", list),
        ])
        .partition_disk(
            PartitionFs::Ext4,
            "DEBLIVE",
            DEBIAN_PART_MIB,
            &media_dir().join("debian-live-disk.img"),
        )
    })
}

/// A dracut medium only (`LiveOS/squashfs.img`): not a live-boot medium.
fn dracut_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "dracut iso", || {
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![("LiveOS/squashfs.img".to_string(), probe_image().clone())],
        }
        .iso("LIVEINIT_DRACUT", &media_dir().join("dracut.iso"))
    })
}

/// live-boot's state (distro-live-spec §1.10, `debian-boot1-plain`):
/// the medium, each image under `/run/live/rootfs`, the tmpfs overlay, and
/// the root stacked from `lower` (top first).
fn check_live_boot_state(b: &Probed, medium_fs: &str, lower: &[&str], tmpfs_size: Option<&str>) {
    let r = &b.report;
    let medium = r.mount_at("/run/live/medium");
    b.check(
        medium.is_some_and(|m| {
            m.fstype == medium_fs && m.has_option("ro") && m.has_option("noatime")
        }),
        &format!("/run/live/medium is not {medium_fs} ro,noatime: {medium:?}"),
    );
    for image in lower {
        let at = format!("/run/live/rootfs/{image}");
        let m = r.mount_at(&at);
        b.check(
            m.is_some_and(|m| {
                m.fstype == "squashfs" && m.has_option("ro") && m.has_option("noatime")
            }),
            &format!("{at} is not a squashfs mounted ro,noatime: {m:?}"),
        );
        let backing = format!("/run/live/medium/live/{image}");
        let source = m.map(|m| m.source.clone()).unwrap_or_default();
        b.check(
            r.loop_at(&source).is_some_and(|l| l.backing == backing),
            &format!("{at} is not mounted from a loop device on {backing}: {source}"),
        );
    }
    let overlay = r.mount_at("/run/live/overlay");
    b.check(
        overlay.is_some_and(|m| m.fstype == "tmpfs" && m.has_option("rw")),
        &format!("/run/live/overlay is not a tmpfs: {overlay:?}"),
    );
    if let Some(size) = tmpfs_size {
        b.check(
            overlay.is_some_and(|m| m.super_option("size") == Some(size)),
            &format!("/run/live/overlay's size is not {size}: {overlay:?}"),
        );
    }
    let root = r.root_mount();
    let lowerdir: Vec<String> = lower
        .iter()
        .rev()
        .map(|i| format!("/run/live/rootfs/{i}"))
        .collect();
    let want = lowerdir.join(":");
    b.check(
        root.is_some_and(|m| {
            m.fstype == "overlay"
                && m.source == "overlay"
                && m.super_option("lowerdir") == Some(want.as_str())
                && m.super_option("upperdir") == Some("/run/live/overlay/rw")
                && m.super_option("workdir") == Some("/run/live/overlay/work")
                && m.super_options.split(',').any(|o| o == "redirect_dir=on")
        }),
        &format!("/ is not live-boot's overlay over {want}: {root:?}"),
    );
    b.check(
        r.root_write == Some(Ok(())),
        &format!("/ is not writable: {:?}", r.root_write),
    );
    b.check(
        r.cmdline
            .as_deref()
            .is_some_and(|c| c.split_whitespace().any(|w| w == "boot=live")),
        "boot=live is not on /proc/cmdline for live-config",
    );
    b.check(
        r.mount_at("/run/initramfs/live").is_none(),
        "dracut's /run/initramfs/live is mounted in live-boot mode",
    );
}

/// D1 + X4: the live-build layout on a CD; archiso's options are named as
/// ignored, not acted on.
#[test]
fn debian_live_cd() {
    let b = Case::new(
        "debian_live_cd",
        vec![cdrom(debian_iso())],
        "boot=live components archisobasedir=arch copytoram",
    )
    .boot_probe();
    check_live_boot_state(
        &b,
        "iso9660",
        &["filesystem.squashfs", "zz-probe.squashfs"],
        None,
    );
    b.check(
        b.ended
            .has_line(&["archisobasedir is archiso's option, ignored under Debian live-boot"]),
        "no warning that archisobasedir= is ignored",
    );
    b.check(
        b.ended
            .has_line(&["copytoram is archiso's option, ignored"]),
        "no warning that copytoram is ignored",
    );
    b.check(
        r_has_no_loop_on(&b, "/run/live/medium/live/zzz-decoy.squashfs"),
        "a decoy image was attached",
    );
}

fn r_has_no_loop_on(b: &Probed, backing: &str) -> bool {
    !b.report.loops.iter().any(|l| l.backing == backing)
}

/// D2 + D3 + D5: the medium is the disk's partition; `live/filesystem.module`
/// decides the stack (the decoy on top by name is left out, a listed image
/// that is missing is skipped); `overlay-size=64M` sizes the tmpfs.
#[test]
fn debian_live_disk_module_list_overlay_size() {
    let b = Case::new(
        "debian_live_disk_module",
        vec![virtio_ro(debian_disk().path.clone())],
        "boot=live overlay-size=64M",
    )
    .boot_probe();
    check_live_boot_state(
        &b,
        "ext4",
        &["filesystem.squashfs", "zz-probe.squashfs"],
        Some("65536k"),
    );
    b.check(
        r_has_no_loop_on(&b, "/run/live/medium/live/zzz-decoy.squashfs"),
        "the decoy left out of filesystem.module was attached",
    );
    b.check(
        b.ended.has_line(&["missing.squashfs is listed but not on"]),
        "no warning about the listed image that is missing",
    );
    let medium = b.report.mount_at("/run/live/medium");
    b.check(
        medium.is_some_and(|m| m.source == "/dev/vda1"),
        &format!("the medium is not the partition /dev/vda1: {medium:?}"),
    );
}

/// X1 (live-boot's side): `boot=live` with only a dracut medium present
/// finds nothing, within the wait, and says what it looked for.
#[test]
fn debian_live_without_a_live_boot_medium() {
    Case::new(
        "debian_live_no_medium",
        vec![cdrom(dracut_iso())],
        "boot=live rd.retry=4",
    )
    .boot_fatal(&["a medium holding live/*.squashfs (boot=live)", "rd.retry"]);
}

// ---------------------------------------------------------------------------
// Ubuntu casper (`boot=casper`), a 24.04-style layered replica and casper's
// own flat test layout.

/// The complete layered replica, shared by the tests that boot it.
fn casper_full_iso() -> &'static Image {
    static ISO: Shared<Image> = OnceLock::new();
    casper_iso(&ISO, true)
}

/// The layered replica (`qemu_tests::casper::layered_iso`), its base a
/// dead init; without `minimal.standard` when `complete` is false.
fn casper_iso(cell: &'static Shared<Image>, complete: bool) -> &'static Image {
    let file = if complete {
        "casper.iso"
    } else {
        "casper-broken.iso"
    };
    shared(cell, file, || {
        casper::layered_iso(&media_dir(), dead_image(), probe_image(), complete, file)
    })
}

/// casper's own test layout, its `0_root` a dead init.
fn casper_flat_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "casper flat disk", || {
        casper::flat_disk(&media_dir(), dead_image(), probe_image(), DEBIAN_PART_MIB)
    })
}

/// U1/U2: the layered replica with `layerfs-path=`: the three layers of
/// the chain, the leaf on top, the decoys left out.
#[test]
fn casper_layered_cd() {
    let b = Case::new(
        "casper_layered_cd",
        vec![cdrom(casper_full_iso())],
        "boot=casper layerfs-path=minimal.standard.live.squashfs",
    )
    .boot_probe();
    casper::check_state(
        &b,
        "iso9660",
        &[
            "minimal.squashfs",
            "minimal.standard.squashfs",
            "minimal.standard.live.squashfs",
        ],
    );
}

/// U2: a missing middle layer stops the boot, naming it.
#[test]
fn casper_missing_layer() {
    static ISO: Shared<Image> = OnceLock::new();
    Case::new(
        "casper_missing_layer",
        vec![cdrom(casper_iso(&ISO, false))],
        "boot=casper layerfs-path=/cdrom/casper/minimal.standard.live.squashfs",
    )
    .boot_fatal(&[
        "layerfs-path=minimal.standard.live.squashfs",
        "minimal.standard.squashfs",
    ]);
}

/// U4: casper's own test layout, flat (no layerfs-path), on a disk
/// partition: `1_overlay` on top of `0_root`.
#[test]
fn casper_flat_disk_partition() {
    let b = Case::new(
        "casper_flat_disk",
        vec![virtio_ro(casper_flat_disk().path.clone())],
        "boot=casper",
    )
    .boot_probe();
    casper::check_state(&b, "ext4", &["0_root.squashfs", "1_overlay.squashfs"]);
}

// ---------------------------------------------------------------------------
// Arch archiso: a replica ISO (`/arch/x86_64/airootfs.*`, label
// `ARCH_202601`), and the same tree on a FAT32 partition with the marker
// file `/boot/<the ISO's UUID>.uuid` (a stick the ISO was copied to).

fn archiso_iso(cell: &'static Shared<Image>, erofs: bool) -> &'static Image {
    let file = if erofs {
        "archiso-erofs.iso"
    } else {
        "archiso.iso"
    };
    shared(cell, file, || {
        let (name, image) = if erofs {
            let out = media_dir().join("airootfs.erofs");
            qemu_tests::media::mkfs_erofs(&probe().dir, &out)?;
            ("airootfs.erofs", out)
        } else {
            ("airootfs.sfs", probe_image().clone())
        };
        archiso::iso(name, &image, &[], &media_dir().join(file))
    })
}

fn archiso_plain_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    archiso_iso(&C, false)
}

/// The FAT32 stick: `arch/x86_64/airootfs.sfs` and the marker of the
/// plain ISO's UUID.
fn archiso_fat_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "archiso fat disk", || {
        let uuid = archiso_plain_iso()
            .uuid
            .clone()
            .expect("the ISO has a UUID");
        let marker = media_dir().join("marker.uuid");
        std::fs::write(&marker, "")?;
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![
                (
                    "arch/x86_64/airootfs.sfs".to_string(),
                    probe_image().clone(),
                ),
                (format!("boot/{uuid}.uuid"), marker),
            ],
        }
        .partition_disk(
            PartitionFs::Vfat,
            "ARCHSTICK",
            64,
            &media_dir().join("archiso-fat-disk.img"),
        )
    })
}

/// archiso's state (distro-live-spec §3.4, §3.7).
fn check_archiso_state(b: &Probed, medium_fs: &str, image_fs: &str, image: &str, cow_dir: &str) {
    let r = &b.report;
    let boot = r.mount_at("/run/archiso/bootmnt");
    b.check(
        boot.is_some_and(|m| m.fstype == medium_fs && m.has_option("ro")),
        &format!("/run/archiso/bootmnt is not the {medium_fs} medium, read-only: {boot:?}"),
    );
    let airootfs = r.mount_at("/run/archiso/airootfs");
    let backing = format!("/run/archiso/bootmnt/arch/x86_64/{image}");
    let source = airootfs.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        airootfs.is_some_and(|m| m.fstype == image_fs && m.has_option("ro"))
            && r.loop_at(&source).is_some_and(|l| l.backing == backing),
        &format!("/run/archiso/airootfs is not {backing} ({image_fs}) on a loop: {airootfs:?}"),
    );
    let cow = r.mount_at("/run/archiso/cowspace");
    b.check(
        cow.is_some_and(|m| m.fstype == "tmpfs" && m.super_option("size") == Some("262144k")),
        &format!("/run/archiso/cowspace is not a 256M tmpfs: {cow:?}"),
    );
    let root = r.root_mount();
    let upper = format!("/run/archiso/cowspace/{cow_dir}/upperdir");
    b.check(
        root.is_some_and(|m| {
            m.fstype == "overlay"
                && m.source == "airootfs"
                && m.super_option("lowerdir") == Some("/run/archiso/airootfs")
                && m.super_option("upperdir") == Some(upper.as_str())
        }),
        &format!("/ is not archiso's airootfs overlay: {root:?}"),
    );
    b.check(r.root_write == Some(Ok(())), "/ is not writable");
}

/// A1/A4 + X4: the label, on a CD; live-boot's `toram` named as ignored.
#[test]
fn archiso_label_cd() {
    let b = Case::new(
        "archiso_label_cd",
        vec![cdrom(archiso_plain_iso())],
        &format!("archisobasedir=arch archisolabel={ARCH_LABEL} toram"),
    )
    .boot_probe();
    // The medium stays: copytoram=auto does not copy from an optical
    // drive, and live-boot's toram is not archiso's.
    check_archiso_state(
        &b,
        "iso9660",
        "squashfs",
        "airootfs.sfs",
        &format!("persistent_{ARCH_LABEL}/x86_64"),
    );
    b.check(
        b.ended.has_line(&[
            "toram is Debian live-boot and Ubuntu casper's option, ignored under archiso",
        ]),
        "no warning that toram is ignored under archiso",
    );
    b.check(
        b.ended.has_line(&[
            "copytoram=auto: /dev/sr0",
            "an optical drive is not copied from",
        ]),
        "no copytoram=auto line saying the CD is not copied from",
    );
}

/// A3: archisosearchuuid= with only the FAT32 copy present: found by its
/// marker file, although its own UUID differs.
#[test]
fn archiso_search_uuid_marker_on_fat() {
    let uuid = archiso_plain_iso()
        .uuid
        .clone()
        .expect("the ISO has a UUID");
    let b = Case::new(
        "archiso_marker_fat",
        vec![virtio_ro(archiso_fat_disk().path.clone())],
        &format!("archisobasedir=arch archisosearchuuid={uuid}"),
    )
    .boot_probe();
    check_archiso_state(&b, "vfat", "squashfs", "airootfs.sfs", "persistent_/x86_64");
}

/// A5: `airootfs.erofs` instead of `.sfs`.
#[test]
fn archiso_erofs_cd() {
    static C: Shared<Image> = OnceLock::new();
    let iso = archiso_iso(&C, true);
    let b = Case::new(
        "archiso_erofs_cd",
        vec![cdrom(iso)],
        &format!(
            "archisobasedir=arch archisodevice=UUID={}",
            iso.uuid.clone().unwrap()
        ),
    )
    .boot_probe();
    check_archiso_state(
        &b,
        "iso9660",
        "erofs",
        "airootfs.erofs",
        "persistent_/x86_64",
    );
}

/// A6: a check liveinit cannot do stops the boot, saying so.
#[test]
fn archiso_cms_verify_refused() {
    Case::new(
        "archiso_cms_verify",
        vec![cdrom(archiso_plain_iso())],
        &format!("archisobasedir=arch archisolabel={ARCH_LABEL} cms_verify=y"),
    )
    .boot_fatal(&["cms_verify: CMS signatures", "are not checked by liveinit"]);
}

/// The plain ISO's tree with `airootfs.sha512`, right or not.
fn archiso_checksum_iso(cell: &'static Shared<Image>, right: bool) -> &'static Image {
    let file = if right {
        "archiso-sum.iso"
    } else {
        "archiso-badsum.iso"
    };
    shared(cell, file, || {
        let image = probe_image().clone();
        let out = std::process::Command::new("sha512sum")
            .arg(&image)
            .output()?;
        let hash = String::from_utf8(out.stdout)?
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let hash = if right {
            hash
        } else {
            // One digit changed: a damaged image, as far as the listing knows.
            let flipped = if hash.starts_with('0') { "1" } else { "0" };
            format!("{flipped}{}", &hash[1..])
        };
        let list = media_dir().join(format!("{file}.sha512"));
        std::fs::write(&list, format!("{hash}  airootfs.sfs\n"))?;
        let extra = [(archiso::image_path("airootfs.sha512"), list)];
        archiso::iso("airootfs.sfs", &image, &extra, &media_dir().join(file))
    })
}

/// A6: `checksum=y` with the right listing boots; with a wrong one the
/// boot stops naming both hashes.
#[test]
fn archiso_checksum() {
    static RIGHT: Shared<Image> = OnceLock::new();
    static WRONG: Shared<Image> = OnceLock::new();
    let args = format!("archisobasedir=arch archisolabel={ARCH_LABEL} checksum");
    let b = Case::new(
        "archiso_checksum",
        vec![cdrom(archiso_checksum_iso(&RIGHT, true))],
        &args,
    )
    .boot_probe();
    b.check(
        b.ended
            .has_line(&["checksum passed: /run/archiso/bootmnt/arch/x86_64/airootfs.sfs"]),
        "no line saying the checksum passed",
    );
    Case::new(
        "archiso_checksum_wrong",
        vec![cdrom(archiso_checksum_iso(&WRONG, false))],
        &args,
    )
    .boot_fatal(&[
        "airootfs.sfs",
        "lists: the image is damaged",
        "(checksum=y)",
    ]);
}

// ---------------------------------------------------------------------------
// Copy to RAM (distro-live-spec §1.7, §2.6, §3.5; D4, A2).

/// Nothing mounted in the root comes from `device` any more.
fn check_released(b: &Probed, device: &str) {
    b.check_released(device);
}

/// D4: `toram` copies the whole medium to a tmpfs that takes its place at
/// `/run/live/medium`; the images are read from there, and the CD, let
/// go, is ejected while the root still reads back.
#[test]
fn debian_live_toram_releases_the_cd() {
    let b = Case::new(
        "debian_live_toram",
        vec![cdrom(debian_iso())],
        "boot=live toram rd.minmem=64 liveinit.probe.eject=/dev/sr0",
    )
    .eject_cd_after(qemu_tests::report::EJECT_MARKER)
    .boot_probe();
    let r = &b.report;
    let medium = r.mount_at("/run/live/medium");
    b.check(
        medium.is_some_and(|m| m.fstype == "tmpfs"),
        &format!("/run/live/medium is not the tmpfs copy: {medium:?}"),
    );
    for image in ["filesystem.squashfs", "zz-probe.squashfs"] {
        let backing = format!("/run/live/medium/live/{image}");
        b.check(
            r.loops.iter().any(|l| l.backing == backing),
            &format!("no loop reads {backing}: {:?}", r.loops),
        );
    }
    check_released(&b, "/dev/sr0");
    b.check(
        b.ended.has_line(&[
            "liveinit: toram: copying ",
            " files (",
            "of /dev/sr0 to RAM",
        ]),
        "no line saying how much of the medium is copied",
    );
    for what in ["disc_gone", "read_root"] {
        match b.report.after_check(what) {
            Some(Ok(_)) => {}
            other => b.fail(&format!("after the eject, {what}: {other:?}")),
        }
    }
}

/// D4: `toram=zz-probe.squashfs` copies that image alone and boots it
/// alone (the dead base image is neither copied nor stacked).
#[test]
fn debian_live_toram_one_image() {
    let b = Case::new(
        "debian_live_toram_image",
        vec![virtio_ro(debian_disk().path.clone())],
        "boot=live toram=zz-probe.squashfs rd.minmem=64",
    )
    .boot_probe();
    let r = &b.report;
    b.check(
        r.loops.len() == 1 && r.loops[0].backing == "/run/live/medium/live/zz-probe.squashfs",
        &format!("not the one image copied: {:?}", r.loops),
    );
    b.check(
        r.mount_at("/run/live/medium")
            .is_some_and(|m| m.fstype == "tmpfs"),
        "/run/live/medium is not the tmpfs copy",
    );
    check_released(&b, "/dev/vda1");
}

/// A2: `copytoram=y`: the image in `/run/archiso/copytoram`, `bootmnt`
/// gone, the CD released.
#[test]
fn archiso_copytoram_y() {
    let b = Case::new(
        "archiso_copytoram_y",
        vec![cdrom(archiso_plain_iso())],
        &format!("archisobasedir=arch archisolabel={ARCH_LABEL} copytoram=y rd.minmem=64"),
    )
    .boot_probe();
    let r = &b.report;
    let copy = r.mount_at("/run/archiso/copytoram");
    b.check(
        copy.is_some_and(|m| m.fstype == "tmpfs"),
        &format!("/run/archiso/copytoram is not a tmpfs: {copy:?}"),
    );
    let airootfs = r.mount_at("/run/archiso/airootfs");
    let source = airootfs.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        r.loop_at(&source)
            .is_some_and(|l| l.backing == "/run/archiso/copytoram/airootfs.sfs"),
        &format!(
            "/run/archiso/airootfs does not read the copy: {airootfs:?} {:?}",
            r.loops
        ),
    );
    b.check(
        r.mount_at("/run/archiso/bootmnt").is_none(),
        "/run/archiso/bootmnt is still mounted",
    );
    check_released(&b, "/dev/sr0");
}

/// A2: `copytoram=auto` (no option) from a disk on a machine whose
/// MemAvailable holds the image plus 2 GiB: copied.
#[test]
fn archiso_copytoram_auto_from_a_disk() {
    let uuid = archiso_plain_iso()
        .uuid
        .clone()
        .expect("the ISO has a UUID");
    let b = Case::new(
        "archiso_copytoram_auto",
        vec![virtio_ro(archiso_fat_disk().path.clone())],
        &format!("archisobasedir=arch archisosearchuuid={uuid}"),
    )
    .memory(2600)
    .boot_probe();
    b.check(
        b.ended.has_line(&[
            "liveinit: copytoram=auto: /dev/vda1, image ",
            ": copying to RAM",
        ]),
        "no copytoram=auto line with the facts and the decision",
    );
    b.check(
        b.report.mount_at("/run/archiso/bootmnt").is_none(),
        "/run/archiso/bootmnt is still mounted",
    );
    check_released(&b, "/dev/vda1");
}

// ---------------------------------------------------------------------------
// No keyword at all (distro-live-spec §2.1, §6.1 step 5; U1, U3).

/// U1: Ubuntu 22.10 on: `--- quiet splash` and nothing else. The medium's
/// `casper/` chooses casper; its one `*.live.squashfs` is the leaf, so the
/// chain is stacked and the decoys (a language layer, a `.live.fr`) are not.
#[test]
fn casper_no_keyword_cd() {
    let b = Case::new(
        "casper_no_keyword_cd",
        vec![cdrom(casper_full_iso())],
        "--- quiet splash",
    )
    .boot_probe();
    casper::check_state(
        &b,
        "iso9660",
        &[
            "minimal.squashfs",
            "minimal.standard.squashfs",
            "minimal.standard.live.squashfs",
        ],
    );
    b.check(
        b.ended.has_line(&[
            "liveinit: looking for a medium holding casper/*.squashfs (no root=, boot= or archiso",
        ]),
        "the console does not say casper was chosen with no keyword",
    );
}

/// U3: with no keyword, a medium whose names do not settle the leaf (two
/// images, neither `*.live.squashfs`) is refused, the candidates named.
#[test]
fn casper_no_keyword_unsettled_layers() {
    Case::new(
        "casper_no_keyword_unsettled",
        vec![virtio_ro(casper_flat_disk().path.clone())],
        "quiet",
    )
    .boot_fatal(&[
        "does not settle it",
        "0_root.squashfs, 1_overlay.squashfs",
        "layerfs-path=",
    ]);
}

// ---------------------------------------------------------------------------
// live-boot's ISO file on another filesystem (distro-live-spec §1.4; D7).

/// A disk whose one partition (`fs`) holds the Debian ISO as a file.
fn iso_host_disk(cell: &'static Shared<Disk>, fs: PartitionFs) -> &'static Disk {
    let (name, size, dest) = match fs {
        PartitionFs::Vfat => ("iso-host-fat.img", 64, "debian-live.iso"),
        _ => ("iso-host-ext4.img", 16, "isos/debian-live.iso"),
    };
    shared(cell, name, || {
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![(dest.to_string(), debian_iso().path.clone())],
        }
        .partition_disk(fs, "ISOHOST", size, &media_dir().join(name))
    })
}

fn iso_host_ext4() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    iso_host_disk(&C, PartitionFs::Ext4)
}

/// The ISO's host filesystem at `at` (read-only, from `/dev/vda1`), and
/// the medium a loop device on the file.
fn check_iso_host(b: &Probed, at: &str, fstype: &str, file: &str) {
    let r = &b.report;
    let host = r.mount_at(at);
    b.check(
        host.is_some_and(|m| m.fstype == fstype && m.source == "/dev/vda1" && m.has_option("ro")),
        &format!("{at} is not /dev/vda1 ({fstype}) read-only: {host:?}"),
    );
    let medium = r.mount_at("/run/live/medium");
    let source = medium.map(|m| m.source.clone()).unwrap_or_default();
    let backing = format!("{at}/{file}");
    b.check(
        r.loop_at(&source).is_some_and(|l| l.backing == backing),
        &format!(
            "/run/live/medium is not a loop on {backing}: {medium:?} {:?}",
            r.loops
        ),
    );
}

/// D7: `findiso=` on an ext4 partition: the ISO found there, the
/// partition left at `/run/live/findiso`, the ISO the medium.
#[test]
fn debian_live_findiso_on_ext4() {
    let b = Case::new(
        "debian_live_findiso_ext4",
        vec![virtio_ro(iso_host_ext4().path.clone())],
        "boot=live findiso=/isos/debian-live.iso",
    )
    .boot_probe();
    check_live_boot_state(
        &b,
        "iso9660",
        &["filesystem.squashfs", "zz-probe.squashfs"],
        None,
    );
    check_iso_host(&b, "/run/live/findiso", "ext4", "isos/debian-live.iso");
}

/// D7: `fromiso=/dev/vda1/<file>` on a FAT32 partition.
#[test]
fn debian_live_fromiso_on_fat() {
    static C: Shared<Disk> = OnceLock::new();
    let b = Case::new(
        "debian_live_fromiso_fat",
        vec![virtio_ro(iso_host_disk(&C, PartitionFs::Vfat).path.clone())],
        "boot=live fromiso=/dev/vda1/debian-live.iso",
    )
    .boot_probe();
    check_live_boot_state(
        &b,
        "iso9660",
        &["filesystem.squashfs", "zz-probe.squashfs"],
        None,
    );
    check_iso_host(&b, "/run/live/fromiso", "vfat", "debian-live.iso");
}

/// D7 + D4: `findiso=` with `toram`: the medium copied, then the ISO's
/// loop and its host partition released (§1.7).
#[test]
fn debian_live_findiso_toram_releases_the_host() {
    let b = Case::new(
        "debian_live_findiso_toram",
        vec![virtio_ro(iso_host_ext4().path.clone())],
        "boot=live findiso=/isos/debian-live.iso toram rd.minmem=64",
    )
    .boot_probe();
    let r = &b.report;
    b.check(
        r.mount_at("/run/live/medium")
            .is_some_and(|m| m.fstype == "tmpfs"),
        "/run/live/medium is not the tmpfs copy",
    );
    b.check(
        r.mount_at("/run/live/findiso").is_none(),
        "/run/live/findiso is still mounted",
    );
    b.check(
        !r.loops
            .iter()
            .any(|l| l.backing.ends_with("debian-live.iso")),
        &format!("a loop still reads the ISO: {:?}", r.loops),
    );
    check_released(&b, "/dev/vda1");
}

// ---------------------------------------------------------------------------
// openSUSE kiwi (distro-live-spec §4, §5.4; K1, K3): a replica ISO with
// kiwi's volume id `CDROM`, `LiveOS/squashfs.img` holding
// `LiveOS/rootfs.img` (ext4), or an EROFS `squashfs.img` that is the root.

fn kiwi_iso(cell: &'static Shared<Image>, layout: Layout, file: &str) -> &'static Image {
    shared(cell, file, || {
        kiwi::kiwi_iso(probe(), layout, &media_dir().join(file))
    })
}

fn kiwi_nested_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    kiwi_iso(&C, Layout::NestedExt4, "kiwi.iso")
}

fn check_kiwi_state(b: &Probed, base_fs: &str, size: Option<&str>) {
    kiwi::check_kiwi_state(b, "/dev/sr0", base_fs, size);
}

/// K1: kiwi's own command line (`hybridpersistent`'s flags): kiwi mode,
/// `rootfs.img` of the container at `rootfsbase`; on a CD, kiwi's
/// persistence stays in RAM, as kiwi's (K2).
#[test]
fn kiwi_cd_with_kiwis_options() {
    let b = Case::new(
        "kiwi_cd",
        vec![cdrom(kiwi_nested_iso())],
        "root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent rd.live.overlay.cowfs=ext4",
    )
    .boot_probe();
    check_kiwi_state(&b, "ext4", None);
    let base = b.report.mount_at("/run/overlay/rootfsbase");
    let source = base.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        b.report
            .loop_at(&source)
            .is_some_and(|l| l.backing == "/run/overlay/squashfs_container/LiveOS/rootfs.img"),
        &format!("rootfsbase is not LiveOS/rootfs.img of the container: {base:?}"),
    );
    b.check(
        b.ended.has_line(&[
            "rd.live.overlay.persistent: the medium /dev/sr0 is a CD",
            "kiwi's temporary mode",
        ]),
        "no warning that a CD keeps kiwi's temporary mode",
    );
}

/// K1: the same ISO with only `root=live:CDLABEL=CDROM rd.live.image`
/// boots the dracut way, as before.
#[test]
fn kiwi_cd_dracut_by_default() {
    let b = Case::new(
        "kiwi_cd_dracut",
        vec![cdrom(kiwi_nested_iso())],
        "root=live:CDLABEL=CDROM rd.live.image",
    )
    .boot_probe();
    b.check(
        b.report.mount_at("/run/initramfs/live").is_some()
            && b.report.mount_at("/run/overlay").is_none(),
        "not the dracut way: /run/initramfs/live missing or /run/overlay present",
    );
    b.check(b.report.root_write == Some(Ok(())), "/ is not writable");
}

/// K3: an EROFS `squashfs.img` that is the root: the container bound as
/// `rootfsbase`; `rd.live.overlay.size=64m` read as tmpfs reads it (dracut
/// would want MiB).
#[test]
fn kiwi_erofs_root_and_size() {
    static C: Shared<Image> = OnceLock::new();
    let b = Case::new(
        "kiwi_erofs",
        vec![cdrom(kiwi_iso(&C, Layout::FlatErofs, "kiwi-erofs.iso"))],
        "root=live:CDLABEL=CDROM rd.live.image rd.liveinit.flavour=kiwi rd.live.overlay.size=64m",
    )
    .boot_probe();
    check_kiwi_state(&b, "erofs", Some("65536k"));
}

// ---------------------------------------------------------------------------
// Cross-grammar negatives (distro-live-spec §7 X1; §6.1 step 5).

/// X1: `boot=live` with only a casper medium: live-boot's search finds
/// nothing (casper/ is not live/), and says so within rd.retry.
#[test]
fn live_boot_ignores_a_casper_medium() {
    Case::new(
        "x1_live_boot_casper_medium",
        vec![cdrom(casper_full_iso())],
        "boot=live rd.retry=4",
    )
    .boot_fatal(&["a medium holding live/*.squashfs (boot=live)", "rd.retry"]);
}

/// No keyword with a Debian medium: only casper media are recognised
/// without one, so the boot stops as it always did: no root=.
#[test]
fn no_keyword_does_not_boot_a_debian_medium() {
    Case::new(
        "no_keyword_debian_medium",
        vec![cdrom(debian_iso())],
        "quiet rd.retry=4",
    )
    .boot_fatal(&["FATAL: command line: ", "no root="]);
}
