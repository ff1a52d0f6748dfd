//! archiso's writable layers and loop boot (distro-live-spec §3.4–3.6,
//! fixtures A5, A7, A8), on the replica media of `qemu_tests::archiso`:
//!
//! - A5: `airootfs.sfs` holding an ext4 `airootfs.img` (mkarchiso's
//!   ext4+squashfs mode): the root is the dm-snapshot `arch_airootfs`,
//!   read-write, its COW file unlinked (`cow_persistent=N`, the default).
//! - A7: `cow_label=` naming an ext4 volume: the overlay's upper layer is on
//!   it under `persistent_<label>/x86_64/`, and the probe's marker survives
//!   a second boot.
//! - A8: `img_dev=UUID=` + `img_loop=`: the ISO is a file on an ext4
//!   partition, mounted at `/run/archiso/img_dev`; with `copytoram=y` that
//!   filesystem is released once the image is in RAM.
//!
//! Media under `target/qemu-tests/media-distro-arch/`. Console logs:
//! `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::archiso::{self, ARCH_LABEL};
use qemu_tests::harness::{cdrom, probe_root, shared, virtio_ro, Case, Probed, Shared};
use qemu_tests::media::{
    mkfs_ext4, mksquashfs, Disk, Image, Layout, LiveImages, LiveRoot, PartitionFs, SquashComp,
};
use qemu_tests::out_dir;
use qemu_tests::persist::{boot_marking, virtio_rw, NO_MARKER};

fn media_dir() -> PathBuf {
    out_dir().join("media-distro-arch")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

/// The archiso ISO with the probe root as `airootfs.sfs`.
fn plain_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "archiso iso", || {
        let sfs = media_dir().join("airootfs.sfs");
        mksquashfs(&root().dir, &sfs, SquashComp::Gzip)?;
        archiso::iso("airootfs.sfs", &sfs, &[], &media_dir().join("archiso.iso"))
    })
}

/// The command line naming the ISO by its label.
fn by_label(rest: &str) -> String {
    format!("archisobasedir=arch archisolabel={ARCH_LABEL} {rest}")
}

const COW_DIR: &str = "/run/archiso/cowspace/persistent_ARCH_202601/x86_64";

/// The ISO whose `airootfs.sfs` holds the probe root as `airootfs.img`.
fn nested_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "archiso ext4+squashfs iso", || {
        let sfs = archiso::nested_sfs(&root().dir, 8, &media_dir().join("nested.sfs"))?;
        archiso::iso(
            "airootfs.sfs",
            &sfs,
            &[],
            &media_dir().join("archiso-ext4.iso"),
        )
    })
}

/// An empty ext4 volume labelled `PERSIST` of `mib` MiB at `<dir>/persist.img`.
fn persist_volume(dir: &str, mib: u32) -> PathBuf {
    let dir = media_dir().join(dir);
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let volume = dir.join("persist.img");
    mkfs_ext4(&tree, &volume, mib, Some("PERSIST")).expect("building the COW volume");
    volume
}

/// A5: the ext4-in-squashfs image: the root is the snapshot, read-write,
/// its 256M COW file gone from the COW space while the loop holds it.
#[test]
fn archiso_airootfs_img_is_a_snapshot_root() {
    let iso = nested_iso();
    let b = Case::new(
        "archiso_airootfs_img",
        vec![cdrom(iso)],
        &by_label("copytoram=n"),
    )
    .boot_probe();
    let r = &b.report;
    let root = r.root_mount();
    b.check(
        root.is_some_and(|m| {
            m.source == "/dev/mapper/arch_airootfs" && m.fstype == "ext4" && m.has_option("rw")
        }),
        &format!("/ is not /dev/mapper/arch_airootfs (ext4, rw): {root:?}"),
    );
    b.check(r.root_write == Some(Ok(())), "/ is not writable");
    let dm = r.dm_device("arch_airootfs");
    b.check(
        dm.is_some_and(|d| d.slaves.len() == 2),
        &format!("no snapshot arch_airootfs over two loops: {dm:?}"),
    );
    let cow_file = format!("{COW_DIR}/airootfs.cow");
    let cow = r.loops.iter().find(|l| l.backing.starts_with(&cow_file));
    b.check(
        cow.is_some_and(|l| l.backing.ends_with("(deleted)") && l.read_only == Some(false)),
        &format!("the COW loop's file is not unlinked (cow_persistent=N): {cow:?}"),
    );
    b.check(
        cow.is_some_and(|l| l.sectors == Some(256 << 11)),
        &format!("the COW file is not 256M (cow_spacesize): {cow:?}"),
    );
    let origin = r
        .loops
        .iter()
        .find(|l| l.backing == "/run/archiso/airootfs/airootfs.img");
    b.check(
        origin.is_some_and(|l| l.read_only == Some(true)),
        &format!("airootfs.img is not on a read-only loop: {:?}", r.loops),
    );
    let space = r.mount_at("/run/archiso/cowspace");
    b.check(
        space.is_some_and(|m| m.fstype == "tmpfs" && m.super_option("size") == Some("262144k")),
        &format!("/run/archiso/cowspace is not a 256M tmpfs: {space:?}"),
    );
}

/// A7: `cow_label=PERSIST`: the COW space is that ext4 volume, read-write;
/// the upper layer under `persistent_<archisolabel>/x86_64/` keeps the
/// marker from one boot to the next.
#[test]
fn archiso_cow_label_keeps_changes_across_boots() {
    let volume = persist_volume("cow-label", 8);
    // Both on virtio: the medium `vda`, the volume `vdb`.
    let drives = || vec![virtio_ro(plain_iso().path.clone()), virtio_rw(&volume)];
    let args = by_label("copytoram=n cow_label=PERSIST");
    let first = boot_marking("archiso_cow_label_1", drives(), &args, "one", NO_MARKER);
    let r = &first.report;
    let space = r.mount_at("/run/archiso/cowspace");
    first.check(
        space.is_some_and(|m| m.fstype == "ext4" && m.source == "/dev/vdb" && m.has_option("rw")),
        &format!("/run/archiso/cowspace is not the PERSIST volume, read-write: {space:?}"),
    );
    let upper = format!("{COW_DIR}/upperdir");
    let root = r.root_mount();
    first.check(
        root.is_some_and(|m| {
            m.source == "airootfs" && m.super_option("upperdir") == Some(upper.as_str())
        }),
        &format!("/ is not the overlay with its upper layer on the volume: {root:?}"),
    );
    boot_marking("archiso_cow_label_2", drives(), &args, "two", "one");
}

/// A5 + A7: the snapshot's COW file on the `cow_label=` volume, kept
/// (`cow_persistent=P`, the default with a device), sized to the room
/// there rather than the 256M asked, and read again at the next boot.
#[test]
fn archiso_snapshot_cow_file_on_a_volume_is_kept() {
    let volume = persist_volume("cow-snapshot", 16);
    let drives = || vec![virtio_ro(nested_iso().path.clone()), virtio_rw(&volume)];
    let args = by_label("copytoram=n cow_label=PERSIST");
    let first = boot_marking("archiso_cow_snapshot_1", drives(), &args, "one", NO_MARKER);
    let r = &first.report;
    let cow_file = format!("{COW_DIR}/airootfs.cow");
    let cow = r.loops.iter().find(|l| l.backing.starts_with(&cow_file));
    first.check(
        cow.is_some_and(|l| l.backing == cow_file && l.sectors.is_some_and(|s| s < 16 << 11)),
        &format!("the COW file is not kept on the 16 MiB volume: {cow:?}"),
    );
    let root = r.root_mount();
    first.check(
        root.is_some_and(|m| m.source == "/dev/mapper/arch_airootfs"),
        &format!("/ is not the snapshot: {root:?}"),
    );
    boot_marking("archiso_cow_snapshot_2", drives(), &args, "two", "one");
}

/// An MBR disk whose ext4 partition holds the ISO as `/iso/arch.iso`.
fn iso_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "archiso iso on ext4", || {
        LiveImages {
            layout: Layout::FlatSquashfs,
            files: vec![("iso/arch.iso".to_string(), plain_iso().path.clone())],
        }
        .partition_disk(
            PartitionFs::Ext4,
            "ISOS",
            8,
            &media_dir().join("iso-disk.img"),
        )
    })
}

fn img_loop_args(rest: &str) -> String {
    let uuid = iso_disk().partitions[0].uuid.clone().expect("ext4 UUID");
    format!("archisobasedir=arch img_dev=UUID={uuid} img_loop=/iso/arch.iso {rest}")
}

/// The medium is the ISO file's loop device.
fn check_iso_medium(b: &Probed) {
    let r = &b.report;
    let boot = r.mount_at("/run/archiso/bootmnt");
    let source = boot.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        boot.is_some_and(|m| m.fstype == "iso9660")
            && r.loop_at(&source)
                .is_some_and(|l| l.backing == "/run/archiso/img_dev/iso/arch.iso"),
        &format!(
            "/run/archiso/bootmnt is not the ISO file on a loop: {boot:?} {:?}",
            r.loops
        ),
    );
}

/// A8: `img_dev=UUID=<ext4> img_loop=/iso/arch.iso`: the partition at
/// `/run/archiso/img_dev` (read-only), the ISO on a loop as the medium.
#[test]
fn archiso_img_loop_on_ext4() {
    let b = Case::new(
        "archiso_img_loop",
        vec![virtio_ro(iso_disk().path.clone())],
        &img_loop_args("copytoram=n"),
    )
    .boot_probe();
    let host = b.report.mount_at("/run/archiso/img_dev");
    b.check(
        host.is_some_and(|m| m.fstype == "ext4" && m.source == "/dev/vda1" && m.has_option("ro")),
        &format!("/run/archiso/img_dev is not /dev/vda1 (ext4, ro): {host:?}"),
    );
    check_iso_medium(&b);
    let root = b.report.root_mount();
    b.check(
        root.is_some_and(|m| m.source == "airootfs"),
        &format!("/ is not archiso's overlay: {root:?}"),
    );
}

/// A8 with `copytoram=y`: the image in RAM, and both the ISO's loop and
/// `/run/archiso/img_dev` released.
#[test]
fn archiso_img_loop_copytoram_releases_img_dev() {
    let b = Case::new(
        "archiso_img_loop_copytoram",
        vec![virtio_ro(iso_disk().path.clone())],
        &img_loop_args("copytoram=y rd.minmem=64"),
    )
    .boot_probe();
    let r = &b.report;
    for gone in ["/run/archiso/img_dev", "/run/archiso/bootmnt"] {
        b.check(
            r.mount_at(gone).is_none(),
            &format!("{gone} is still mounted: {:?}", r.mount_at(gone)),
        );
    }
    b.check(
        !r.loops.iter().any(|l| l.backing.contains("arch.iso")),
        &format!("the ISO's loop is still attached: {:?}", r.loops),
    );
    let airootfs = r.mount_at("/run/archiso/airootfs");
    let source = airootfs.map(|m| m.source.clone()).unwrap_or_default();
    b.check(
        r.loop_at(&source)
            .is_some_and(|l| l.backing == "/run/archiso/copytoram/airootfs.sfs"),
        &format!("/run/archiso/airootfs does not read the copy: {airootfs:?}"),
    );
}
