//! `rd.live.ram`: the memory check, the copy and the medium's release.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::plan::ram::TooBig;

const MEMINFO_4G: &[u8] = b"MemTotal:        4194304 kB\nMemFree:         4000000 kB\n";

fn ram_machine(cmdline: &str, meminfo: &[u8]) -> FakeSys {
    let sys = live_machine(cmdline);
    sys.file("/proc/meminfo", meminfo);
    sys
}

#[test]
fn the_image_is_copied_then_the_medium_released_then_the_copy_mounted() {
    let sys = ram_machine(
        r"root=live:CDLABEL=My\x20Disk rd.live.ram rd.minmem=0",
        MEMINFO_4G,
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let copy = position(
        &calls,
        "copy /run/initramfs/live/LiveOS/squashfs.img /run/initramfs/squashed.img",
    );
    let released = position(&calls, "umount /run/initramfs/live");
    let attached = position(&calls, "attach /run/initramfs/squashed.img ro");
    assert!(copy < released && released < attached, "{calls:#?}");
    assert!(sys.calls_starting("attach /run/initramfs/live").is_empty());
}

#[test]
fn an_image_that_does_not_fit_stops_before_a_byte_is_copied() {
    let sys = ram_machine(
        r"root=live:CDLABEL=My\x20Disk rd.live.ram",
        b"MemTotal:        1000000 kB\n",
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CopyToRam);
    assert_eq!(err.subject, "/run/initramfs/live/LiveOS/squashfs.img");
    assert_eq!(
        err.cause,
        Cause::RamTooSmall(TooBig {
            image_mib: 1,
            mem_total_mib: 976,
            minmem_mib: 1024
        })
    );
    assert!(sys.calls_starting("copy").is_empty());
    assert!(sys.calls_starting("umount").is_empty());
}

#[test]
fn run_is_grown_when_the_image_fits_in_ram_but_not_in_run() {
    // The fake's /run has 4 MiB left of 100: the image (1 MiB) and
    // rd.minmem (64) need it grown to 96 + 1 + 64 MiB.
    let sys = ram_machine(
        r"root=live:CDLABEL=My\x20Disk rd.live.ram rd.minmem=64",
        MEMINFO_4G,
    );
    let _ = boot(&sys);
    let calls = sys.calls();
    let grown = position(&calls, "remount /run size=161m");
    assert!(
        grown
            < position(
                &calls,
                "copy /run/initramfs/live/LiveOS/squashfs.img /run/initramfs/squashed.img"
            )
    );
}

#[test]
fn the_copy_shows_progress_on_the_console() {
    let sys = ram_machine(
        r"root=live:CDLABEL=My\x20Disk rd.live.ram rd.minmem=0",
        MEMINFO_4G,
    );
    let _ = boot(&sys);
    assert!(
        sys.console_text().contains("liveinit: copying to RAM: "),
        "{}",
        sys.console_text()
    );
}

#[test]
fn a_medium_still_busy_is_kept_and_the_boot_goes_on() {
    let sys = ram_machine(
        r"root=live:CDLABEL=My\x20Disk rd.live.ram rd.minmem=0",
        MEMINFO_4G,
    );
    sys.fail("umount /run/initramfs/live", Errno::BUSY);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
}

#[test]
fn an_uncompressed_image_is_copied_to_rootfs_img() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        br"root=live:CDLABEL=My\x20Disk rd.live.ram rd.minmem=0",
    )
    .file("/proc/meminfo", MEMINFO_4G)
    .file("/sys/class/block/sr0/size", b"4096\n")
    .file("/dev/sr0", ISO)
    .file("/run/initramfs/live/LiveOS/rootfs.img", EXT4)
    .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("copy"),
        ["copy /run/initramfs/live/LiveOS/rootfs.img /run/initramfs/rootfs.img"]
    );
    assert_eq!(
        sys.calls_starting("attach"),
        ["attach /run/initramfs/rootfs.img ro", "attach /overlay rw"]
    );
}

/// `rd.writable.fsimg` on the classic nested layout, with `meminfo`.
fn fsimg_machine(cmdline: &str, meminfo: &[u8]) -> FakeSys {
    let sys = nested_machine(cmdline);
    sys.file("/proc/meminfo", meminfo);
    sys
}

#[test]
fn a_writable_fsimg_that_does_not_fit_stops_before_a_byte_is_copied() {
    let sys = fsimg_machine(
        r"root=live:CDLABEL=My\x20Disk rd.writable.fsimg",
        b"MemTotal:        1000000 kB\n",
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CopyToRam, "{err}");
    assert_eq!(err.subject, "/run/initramfs/squashfs/LiveOS/rootfs.img");
    assert!(
        matches!(
            err.cause,
            Cause::FsImageTooBig(TooBig {
                minmem_mib: 1024,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("rd.writable.fsimg"), "{err}");
    assert!(sys.calls_starting("copy").is_empty());
}

#[test]
fn a_writable_fsimg_grows_run_to_hold_its_data_and_rd_minmem() {
    let sys = fsimg_machine(
        r"root=live:CDLABEL=My\x20Disk rd.writable.fsimg rd.minmem=64",
        MEMINFO_4G,
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    // /run holds 96 MiB; the image's data (1 MiB) and rd.minmem need more.
    let grown = position(&calls, "remount /run size=161m");
    let copy = position(
        &calls,
        "copy /run/initramfs/squashfs/LiveOS/rootfs.img /run/initramfs/fsimg/rootfs.img",
    );
    assert!(grown < copy, "{calls:#?}");
}
