//! arm64 boots: liveinit built for `aarch64-unknown-linux-musl`, packed
//! with the modules of Debian's arm64 kernel, booted in
//! `qemu-system-aarch64` (TCG, `virt` machine, `-cpu cortex-a57`), with a live root
//! whose `/sbin/init` is the probe built for arm64. `cargo xtask test`
//! prepares the kernel, the initramfs and the probe and names them in
//! `LIVEINIT_KERNEL_ARM64`, `LIVEINIT_INITRAMFS_ARM64` and
//! `LIVEINIT_PROBE_ARM64`.
//!
//! The `virt` machine has no IDE: the ISOs sit on read-only virtio disks
//! and on a CD behind virtio-scsi, where Debian's arm64 kernel needs
//! `virtio_pci` itself as a module, loaded by its PCI alias like any driver.
//!
//! Media (built once per run under `target/qemu-tests/media-arm64/`): a
//! flattened `LiveOS/squashfs.img` ISO and the nested ext4 `rootfs.img` ISO.

use std::sync::OnceLock;

use qemu_tests::arm64::ENV_INITRAMFS_ARM64;
use qemu_tests::harness::inputs::probe_arm64;
use qemu_tests::harness::{
    cdrom, shared, virtio_ro, Case, Expect, Initramfs, LiveBase, Shared, ISO_SQUASHFS_IMG,
};
use qemu_tests::media::{Image, Layout, LiveImages, LiveRoot, LiveRootSpec};
use qemu_tests::out_dir;
use qemu_tests::qemu::{Arch, Drive};

const FLAT_LABEL: &str = "LIVEINIT_ARM64";
const NESTED_LABEL: &str = "LIVEINIT_ARM64_NESTED";
/// The size of `LiveOS/rootfs.img` (ext4) in 512-byte sectors.
const ROOTFS_SECTORS: u64 = qemu_tests::media::ROOTFS_IMG_MIB as u64 * 2048;

fn media_dir() -> std::path::PathBuf {
    out_dir().join("media-arm64")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    shared(&C, "arm64 live root", || {
        LiveRoot::create(
            &media_dir().join("root"),
            &LiveRootSpec::probe(probe_arm64()),
        )
    })
}

fn flat_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "arm64 flat ISO", || {
        LiveImages::build(root(), Layout::FlatSquashfs, &media_dir())?
            .iso(FLAT_LABEL, &media_dir().join("flat.iso"))
    })
}

fn nested_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "arm64 nested ISO", || {
        LiveImages::build(root(), Layout::NestedExt4, &media_dir())?
            .iso(NESTED_LABEL, &media_dir().join("nested.iso"))
    })
}

fn arm64_case(name: &str, drives: Vec<Drive>, args: &str) -> Case {
    Case::new(name, drives, args)
        .arch(Arch::Aarch64)
        .initramfs(Initramfs::Env(ENV_INITRAMFS_ARM64))
}

/// A flattened squashfs ISO on a virtio disk: overlayfs over the image.
#[test]
fn arm64_flat_iso_on_virtio_blk() {
    let b = arm64_case(
        "arm64_flat_iso_on_virtio_blk",
        vec![virtio_ro(flat_iso().path.clone())],
        &format!("root=live:CDLABEL={FLAT_LABEL}"),
    )
    .boot_live(&Expect::overlay(
        ISO_SQUASHFS_IMG,
        "/dev/vda",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    ));
    b.check_modules(
        &["virtio_pci", "virtio_blk", "isofs", "squashfs", "overlay"],
        &["virtio_scsi", "dm_mod"],
    );
}

/// The classic Fedora layout on a virtio disk: a device-mapper snapshot
/// of the nested ext4 `rootfs.img`.
#[test]
fn arm64_nested_dm_snapshot_on_virtio_blk() {
    let b = arm64_case(
        "arm64_nested_dm_snapshot_on_virtio_blk",
        vec![virtio_ro(nested_iso().path.clone())],
        &format!("root=live:CDLABEL={NESTED_LABEL} rd.live.overlay.size=256"),
    )
    .boot_live(&Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/vda"));
    b.check_modules(&["virtio_blk", "ext4", "dm_mod", "dm_snapshot"], &[]);
    for name in ["live-base", "live-rw"] {
        b.check(
            b.report
                .dm_device(name)
                .is_some_and(|d| d.sectors == Some(ROOTFS_SECTORS)),
            &format!("{name} is not as big as rootfs.img ({ROOTFS_SECTORS} sectors)"),
        );
    }
}

/// The flattened ISO on a CD behind virtio-scsi (`scsi-cd`): the optical
/// path (`virtio_scsi`, `sr_mod`) on a machine without IDE.
#[test]
fn arm64_flat_iso_on_a_virtio_scsi_cd() {
    let b = arm64_case(
        "arm64_flat_iso_on_a_virtio_scsi_cd",
        vec![cdrom(flat_iso())],
        &format!("root=live:CDLABEL={FLAT_LABEL}"),
    )
    .boot_live(&Expect::overlay(
        ISO_SQUASHFS_IMG,
        "/dev/sr0",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    ));
    b.check_modules(
        &[
            "virtio_pci",
            "virtio_scsi",
            "sr_mod",
            "isofs",
            "squashfs",
            "overlay",
        ],
        &["virtio_blk"],
    );
}
