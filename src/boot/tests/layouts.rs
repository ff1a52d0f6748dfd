//! Each image layout and writable layer, and their failures.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

#[test]
fn the_ram_backed_cow_is_capped_at_half_the_ram() {
    for (cmdline, ram_kib, cow_mib) in [
        // dracut's default 32 GiB on a 1 GiB machine: half of it.
        (r"root=live:CDLABEL=My\x20Disk", 1_048_576, 512),
        // Asked for less than that: as asked.
        (
            r"root=live:CDLABEL=My\x20Disk rd.live.overlay.size=64",
            1_048_576,
            64,
        ),
        (
            r"root=live:CDLABEL=My\x20Disk rd.live.overlay.thin",
            524_288,
            256,
        ),
    ] {
        let sys = nested_machine(cmdline);
        sys.file(
            "/proc/meminfo",
            format!("MemTotal:       {ram_kib} kB\nMemFree: 1 kB\n").as_bytes(),
        );
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::ExecInit, "{err}");
        let bytes = cow_mib * 1024 * 1024;
        let sparse = sys.calls_starting("sparse");
        assert!(
            sparse
                .first()
                .is_some_and(|c| c.ends_with(&format!(" {bytes}"))),
            "{cmdline}: {sparse:?}"
        );
    }
}

#[test]
fn nested_rootfs_gets_dracuts_snapshot() {
    let sys =
        nested_machine(r"root=live:CDLABEL=My\x20Disk rd.live.overlay.size=64 rootflags=noatime");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let dm = sys.calls_starting("dm ");
    assert_eq!(
        dm,
        [
            "dm create live-base ro: 0 2048 linear /dev/loop1 0",
            "dm create live-rw: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8",
        ]
    );
    assert_eq!(sys.calls_starting("sparse"), ["sparse /overlay 67108864"]);
    assert!(sys
        .calls()
        .contains(&"mount /dev/mapper/live-rw /sysroot ext4 rw".to_owned()));
    assert!(sys
        .calls()
        .contains(&"symlink /dev/live-base /dev/loop1".to_owned()));
    assert!(sys
        .calls()
        .contains(&"write /run/initramfs/.need_shutdown".to_owned()));
}

#[test]
fn nested_rootfs_with_rd_overlay_uses_overlayfs() {
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk rd.overlay");
    let _ = boot(&sys);
    assert!(sys.calls_starting("dm ").is_empty());
    assert!(sys
        .calls()
        .contains(&"mount /dev/loop1 /run/rootfsbase ext4 ro".to_owned()));
    assert_eq!(sys.calls_starting("mount LiveOS_rootfs").len(), 1);
}

#[test]
fn liveos_without_rootfs_img_is_named() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.on_mount(SQUASH_MNT, &[("LiveOS", None)]);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::AssembleRoot);
    assert_eq!(
        err.cause,
        Cause::NoRoot(crate::plan::image::NoRoot::LiveOsWithoutRootfs)
    );
}

#[test]
fn a_raw_squashfs_device_is_mounted_without_a_medium() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", b"root=live:/dev/vdb")
        .file("/sys/class/block/vdb/size", b"4096\n")
        .file("/dev/vdb", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys
        .calls_starting("mount /dev/vdb /run/initramfs/live")
        .is_empty());
    assert!(sys.calls_starting("attach").is_empty());
    assert!(sys
        .calls()
        .contains(&"mount /dev/vdb /run/initramfs/squashfs squashfs ro".to_owned()));
    assert!(sys
        .calls()
        .contains(&"symlink /dev/live-base /dev/vdb".to_owned()));
}

#[test]
fn an_uncompressed_rootfs_img_on_the_medium_is_used() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        br"root=live:CDLABEL=My\x20Disk rd.writable.fsimg",
    )
    .file("/sys/class/block/sr0/size", b"4096\n")
    .file("/dev/sr0", ISO)
    .file("/run/initramfs/live/LiveOS/rootfs.img", EXT4)
    .file("/proc/meminfo", b"MemTotal:        4194304 kB\n")
    .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("copy"),
        ["copy /run/initramfs/live/LiveOS/rootfs.img /run/initramfs/fsimg/rootfs.img"]
    );
    assert_eq!(
        sys.calls_starting("dm "),
        ["dm create live-rw: 0 2048 linear /dev/loop0 0"]
    );
}

#[test]
fn a_failed_dm_create_names_the_table() {
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("dm create live-rw", Errno::NODEV);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::AssembleRoot);
    assert_eq!(
        err.subject,
        "dm create live-rw: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8 \
         (/dev/loop1 is /run/initramfs/squashfs/LiveOS/rootfs.img, /dev/loop2 is /overlay)"
    );
}

#[test]
fn a_root_with_only_an_executable_sbin_init_is_flattened() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("bin", None)])
        .executable(SQUASH_MNT, "/sbin/init")
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.calls_starting("mount LiveOS_rootfs").len(), 1);
}

#[test]
fn a_root_recognised_by_proc_as_dracut_059_did_is_flattened() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("proc", None)])
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
}
