//! Debian live-boot's and casper's sequence against the fake: the medium
//! found by what it holds, the images stacked, the state left.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

/// A CD whose `live/` holds two images, and a root with an fstab.
fn debian_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/dev/sr0", ISO)
        .on_mount(
            "/run/live/medium",
            &[
                ("live", None),
                ("live/zz-probe.squashfs", Some(SQUASHFS)),
                ("live/filesystem.squashfs", Some(SQUASHFS)),
                ("live/vmlinuz", Some(b"kernel")),
            ],
        )
        .file(
            "/sysroot/etc/fstab",
            b"# UNCONFIGURED FSTAB FOR BASE SYSTEM\n",
        )
        .executable("/sysroot", "/sbin/init");
    sys
}

fn in_order(calls: &[String], wanted: &[&str]) {
    let mut at = 0;
    for want in wanted {
        let found = calls[at..].iter().position(|c| c == want);
        assert!(
            found.is_some(),
            "missing or out of order: {want}\ncalls: {calls:#?}"
        );
        at += found.unwrap() + 1;
    }
}

#[test]
fn boot_live_stacks_every_image_in_name_order_and_adds_fstab_lines() {
    let sys = debian_machine("boot=live components");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    in_order(
        &sys.calls(),
        &[
            "mount /dev/sr0 /run/live/medium iso9660 ro",
            "attach /run/live/medium/live/filesystem.squashfs ro",
            "mount /dev/loop0 /run/live/rootfs/filesystem.squashfs squashfs ro",
            "attach /run/live/medium/live/zz-probe.squashfs ro",
            "mount /dev/loop1 /run/live/rootfs/zz-probe.squashfs squashfs ro",
            "mount tmpfs /run/live/overlay tmpfs rw mode=755,size=50%",
            "mount overlay /sysroot overlay rw lowerdir=/run/live/rootfs/zz-probe.squashfs:\
             /run/live/rootfs/filesystem.squashfs,upperdir=/run/live/overlay/rw,\
             workdir=/run/live/overlay/work,redirect_dir=on",
            "switch_root /sysroot",
            "exec /sbin/init ",
        ],
    );
    let fstab = String::from_utf8(sys.read_file("/sysroot/etc/fstab").unwrap()).unwrap();
    assert_eq!(
        fstab,
        "# UNCONFIGURED FSTAB FOR BASE SYSTEM\noverlay / overlay rw 0 0\n\
         tmpfs /tmp tmpfs nosuid,nodev 0 0\n"
    );
}

#[test]
fn a_casper_leaf_with_a_missing_layer_is_named() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        b"boot=casper layerfs-path=minimal.standard.live.squashfs",
    )
    .file("/sys/class/block/sr0/size", b"4096\n")
    .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
    .file("/dev/sr0", ISO)
    .on_mount(
        "/cdrom",
        &[
            ("casper", None),
            ("casper/minimal.squashfs", Some(SQUASHFS)),
            ("casper/minimal.standard.live.squashfs", Some(SQUASHFS)),
        ],
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage, "{err}");
    assert!(
        err.to_string()
            .contains("missing from /cdrom/casper: minimal.standard.squashfs"),
        "{err}"
    );
}
