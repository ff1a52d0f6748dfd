//! ISO files as the medium: `iso-scan/filename=` (looked for on every
//! filesystem when no device is the medium itself) and `root=live:/x.iso`
//! (a file in the initramfs).

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

const ISO_ON_DISK: &str = r"root=live:CDLABEL=My\x20Disk iso-scan/filename=/isos/live.iso";

/// A virtio disk whose ext4 partition may hold `isos/live.iso`, and no CD.
fn disk_machine(cmdline: &str, iso_on_it: bool) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/vda1/size", b"4096\n")
        .file("/dev/vda1", EXT4)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    if iso_on_it {
        sys.on_mount(
            "/run/initramfs/isoscan",
            &[("isos", None), ("isos/live.iso", Some(ISO))],
        );
    }
    sys
}

#[test]
fn the_iso_on_a_partition_is_attached_and_booted() {
    let sys = disk_machine(ISO_ON_DISK, true);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let scanned = position(&calls, "mount /dev/vda1 /run/initramfs/isoscan ext4 ro");
    let attached = position(&calls, "attach /run/initramfs/isoscan/isos/live.iso ro");
    let linked = position(&calls, "symlink /run/initramfs/isoscandev /dev/vda1");
    let medium = position(&calls, "mount /dev/loop0 /run/initramfs/live iso9660 ro");
    assert!(
        scanned < attached && attached < linked && linked < medium,
        "{calls:#?}"
    );
    // The filesystem holding the ISO stays mounted under it.
    assert!(sys
        .calls_starting("umount /run/initramfs/isoscan")
        .is_empty());
}

#[test]
fn no_filesystem_holding_the_file_names_the_path_and_each_one_searched() {
    let sys = disk_machine(ISO_ON_DISK, false);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::IsoScan, "{err}");
    assert_eq!(err.subject, "/isos/live.iso");
    assert_eq!(
        err.cause,
        Cause::IsoNotFound {
            searched: vec![String::from("/dev/vda1 (ext4)")]
        }
    );
    assert_eq!(
        sys.calls_starting("umount /run/initramfs/isoscan"),
        ["umount /run/initramfs/isoscan"]
    );
    assert!(sys.calls_starting("attach").is_empty());
}

#[test]
fn an_iso_with_another_label_is_not_the_medium() {
    let sys = disk_machine(
        "root=live:CDLABEL=Other iso-scan/filename=/isos/live.iso",
        true,
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::IsoScan, "{err}");
    assert_eq!(
        err.cause,
        Cause::IsoNotTheMedium {
            spec: String::from("LABEL=Other"),
            label: Some(String::from("My Disk"))
        }
    );
}

#[test]
fn without_the_option_a_missing_device_is_fatal_as_before() {
    let sys = disk_machine(r"root=live:CDLABEL=My\x20Disk", true);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium, "{err}");
    assert!(sys.calls_starting("mount /dev/vda1").is_empty());
}

#[test]
fn an_iso_file_in_the_initramfs_is_attached_and_booted() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", b"root=live:/images/live.iso")
        .file("/images/live.iso", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let attached = position(&calls, "attach /images/live.iso ro");
    let medium = position(&calls, "mount /dev/loop0 /run/initramfs/live iso9660 ro");
    assert!(attached < medium, "{calls:#?}");
}

#[test]
fn a_missing_iso_file_in_the_initramfs_names_the_attach_that_failed() {
    let sys = live_machine("root=live:/images/none.iso");
    sys.fail("attach /images/none.iso", Errno::NOENT);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium, "{err}");
    assert_eq!(err.subject, "attach loop <- /images/none.iso (ro)");
    assert_eq!(err.cause, Cause::Sys(Errno::NOENT));
}
