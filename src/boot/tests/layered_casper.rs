//! casper's `uuid=` and `iso-scan/filename=` against the fake: a medium
//! carrying another UUID is passed over and named when the search gives
//! up; an ISO file on a partition is the medium, taken unchecked.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

/// A CD whose `casper/` holds an image and whose `.disk/` the given UUID.
fn casper_cd(cmdline: &str, uuid_file: &[u8]) -> FakeSys {
    let sys = casper_disc(cmdline, uuid_file);
    sys.file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n");
    sys
}

/// The disc of [`casper_cd`] in `/dev/sr0`, its drive not in `/sys` yet.
fn casper_disc(cmdline: &str, uuid_file: &[u8]) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .dir("/sys/class/block")
        .file("/dev/sr0", ISO)
        .on_mount(
            "/cdrom",
            &[
                ("casper", None),
                ("casper/filesystem.squashfs", Some(SQUASHFS)),
                (".disk", None),
                (".disk/info", Some(b"Ubuntu 24.04 LTS")),
                (".disk/casper-uuid-generic", Some(uuid_file)),
            ],
        )
        .executable("/sysroot", "/sbin/init");
    sys
}

#[test]
fn a_medium_carrying_the_uuid_asked_is_taken() {
    let sys = casper_cd("boot=casper uuid=1c2d-77", b"1c2d-77\n");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
}

#[test]
fn another_uuid_is_passed_over_and_named_when_the_search_gives_up() {
    let sys = casper_cd("boot=casper uuid=0000 rd.retry=3", b"1c2d-77\n");
    let err = boot(&sys);
    assert!(err.cause.is_no_match(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("carrying uuid=0000")
            && text.contains("media with casper/ seen: /dev/sr0 (.disk/casper-uuid-generic 1c2d-77, filesystem UUID"),
        "{text}"
    );
    // Let go each time, never used.
    assert!(!sys.calls_starting("umount /cdrom").is_empty());
    assert!(sys.calls_starting("attach").is_empty());
}

#[test]
fn ignore_uuid_and_live_media_take_it_unchecked() {
    for line in [
        "boot=casper uuid=0000 ignore_uuid",
        "boot=casper uuid=0000 live-media=/dev/sr0",
    ] {
        let sys = casper_cd(line, b"1c2d-77\n");
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::ExecInit, "{line}: {err}");
    }
}

#[test]
fn iso_scan_finds_the_iso_on_a_partition_without_a_keyword() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        b"iso-scan/filename=/ubuntu.iso uuid=0000 --- quiet splash",
    )
    .file("/sys/class/block/vda1/size", b"4096\n")
    .file("/dev/vda1", EXT4)
    .on_mount("/isodevice", &[("ubuntu.iso", Some(ISO))])
    .on_mount(
        "/cdrom",
        &[
            ("casper", None),
            ("casper/minimal.squashfs", Some(SQUASHFS)),
            ("casper/minimal.live.squashfs", Some(SQUASHFS)),
        ],
    )
    .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let host = position(&calls, "mount /dev/vda1 /isodevice ext4 ro");
    let attached = position(&calls, "attach /isodevice/ubuntu.iso ro");
    let medium = position(&calls, "mount /dev/loop0 /cdrom iso9660 ro");
    let base = position(&calls, "attach /cdrom/casper/minimal.squashfs ro");
    assert!(
        host < attached && attached < medium && medium < base,
        "{calls:#?}"
    );
    assert!(sys.calls_starting("umount /isodevice").is_empty());
}

/// A disc drive that appears while another device is being looked into
/// (its filesystem's module still loading) is not lost: its uevent is
/// held for the search, which then finds the medium on it. (The fake
/// shows `casper/` on whatever is mounted at `/cdrom`: the disc's
/// filesystem UUID, asked for, tells the two apart.)
#[test]
fn a_cd_appearing_during_another_devices_mount_is_found() {
    let sys = casper_disc(
        "boot=casper rd.liveinit.idle=3 uuid=2024-01-02-03-04-05-06",
        b"",
    );
    with_module_tables(&sys);
    let at = Duration::from_secs(1);
    sys.file("/sys/class/block/vda/size", b"4096\n")
        .file("/sys/class/block/vda/uevent", b"DEVNAME=vda\n")
        .file("/dev/vda", EXT4)
        .slow_module("/lib/modules/k/ext4.ko", Duration::from_secs(2))
        .file_at(at, "/sys/class/block/sr0/size", b"4096\n")
        .file_at(at, "/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .uevent_at(at, &block_added("sr0"));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    assert!(
        position(&calls, "mount /dev/vda /cdrom ext4 ro")
            < position(&calls, "mount /dev/sr0 /cdrom iso9660 ro"),
        "{calls:#?}"
    );
}
