//! live-boot's `live-media=removable[-usb]`, `persistence-media=` and
//! `verify-checksums` against the fake: the disks searched as sysfs says,
//! and the media test that reboots or stops the boot.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::grammar::verify_checksums::{Digest, Hasher};

/// `disks` (name, sysfs `removable`), each holding the ISO, and a
/// medium whose `live/` holds an image, plus `extra` at its root.
fn machine(cmdline: &str, disks: &[(&str, &str)], extra: &[(&str, Option<&[u8]>)]) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .executable("/sysroot", "/sbin/init");
    for (name, removable) in disks {
        sys.file(&format!("/sys/class/block/{name}/size"), b"4096\n")
            .file(
                &format!("/sys/class/block/{name}/uevent"),
                format!("DEVNAME={name}\n").as_bytes(),
            )
            .file(
                &format!("/sys/block/{name}/removable"),
                removable.as_bytes(),
            )
            .file(&format!("/dev/{name}"), ISO);
    }
    let mut entries: Vec<(&str, Option<&[u8]>)> =
        Vec::from([("live", None), ("live/filesystem.squashfs", Some(SQUASHFS))]);
    entries.extend_from_slice(extra);
    sys.on_mount("/run/live/medium", &entries);
    sys
}

fn mounted_medium(sys: &FakeSys) -> Vec<String> {
    sys.calls_starting("mount /dev/")
        .into_iter()
        .filter(|c| c.contains(" /run/live/medium "))
        .collect()
}

#[test]
fn live_media_removable_searches_removable_disks_only() {
    let sys = machine(
        "boot=live live-media=removable",
        &[("sda", "0\n"), ("sr0", "1\n")],
        &[],
    );
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
    assert_eq!(
        mounted_medium(&sys),
        ["mount /dev/sr0 /run/live/medium iso9660 ro"]
    );
}

#[test]
fn live_media_removable_with_none_gives_up_naming_the_restriction() {
    let sys = machine(
        "boot=live live-media=removable rd.retry=2",
        &[("sda", "0\n")],
        &[],
    );
    let err = boot(&sys);
    assert!(err.cause.is_no_match(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(
            "searched for on removable disks (sysfs removable=1) only (live-media=removable)"
        ),
        "{text}"
    );
    assert_eq!(err.devices_seen.unwrap_or_default().len(), 1);
    assert!(mounted_medium(&sys).is_empty());
}

#[test]
fn removable_usb_wants_the_disk_on_usb_mass_storage() {
    let sys = machine(
        "boot=live live-media=removable-usb",
        &[("sdb", "1\n"), ("sdc", "1\n")],
        &[],
    );
    sys.dir("/sys/bus/usb/drivers/usb-storage/1-1:1.0/host2/target2:0:0/2:0:0:0/block/sdc");
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
    assert_eq!(
        mounted_medium(&sys),
        ["mount /dev/sdc /run/live/medium iso9660 ro"]
    );
}

fn sha256_of(bytes: &[u8]) -> String {
    let mut h = Hasher::new(Digest::Sha256).unwrap();
    h.update(bytes);
    h.hex()
}

#[test]
fn verify_checksums_passes_then_reboots_after_10_s() {
    let listing = format!(
        "# made by live-build\n{}  ./live/filesystem.squashfs\n",
        sha256_of(SQUASHFS)
    );
    let sys = machine(
        "boot=live verify-checksums",
        &[("sr0", "1\n")],
        &[
            ("sha1sum.txt", Some(b"x")),
            ("sha256sum.txt", Some(listing.as_bytes())),
        ],
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CheckMedium, "{err}");
    assert!(
        err.to_string().contains("reboot after the media test"),
        "{err}"
    );
    let calls = sys.calls();
    assert!(calls.iter().any(|c| c == "power reboot"), "{calls:#?}");
    assert!(
        !calls.iter().any(|c| c.starts_with("attach ")),
        "{calls:#?}"
    );
    assert!(sys.now() >= Duration::from_secs(10));
}

#[test]
fn verify_checksums_failures_name_the_first_bad_file() {
    let listing = format!(
        "{}  ./live/filesystem.squashfs\n{}  ./live/missing\n",
        sha256_of(b"other"),
        sha256_of(b"")
    );
    let sys = machine(
        "boot=live live-boot.verify-checksums=sha256",
        &[("sr0", "1\n")],
        &[("SHA256SUMS", Some(listing.as_bytes()))],
    );
    let err = boot(&sys);
    let text = err.to_string();
    assert!(
        text.contains("live/filesystem.squashfs has sha256 ")
            && text.contains("2 of the 2 files SHA256SUMS lists failed"),
        "{text}"
    );
    assert!(!sys.calls().iter().any(|c| c == "power reboot"));

    // Only a listing of a digest liveinit does not compute: nothing to test.
    let sys = machine(
        "boot=live verify-checksums",
        &[("sr0", "1\n")],
        &[("SHA1SUMS", Some(b"x"))],
    );
    let text = boot(&sys).to_string();
    assert!(
        text.contains("found SHA1SUMS, whose digest liveinit does not compute"),
        "{text}"
    );
}

#[test]
fn esc_stops_the_media_test_and_boots() {
    let listing = format!("{}  live/filesystem.squashfs\n", sha256_of(SQUASHFS));
    let sys = machine(
        "boot=live verify-checksums",
        &[("sr0", "1\n")],
        &[("sha256sum.txt", Some(listing.as_bytes()))],
    );
    sys.keys_at(Duration::ZERO, b"\x1b");
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
}

#[test]
fn persistence_media_removable_looks_at_removable_disks_only() {
    for (removable, used) in [("0\n", false), ("1\n", true)] {
        let sys = machine(
            "boot=live persistence persistence-label=live-persistence \
             persistence-media=removable",
            &[("sr0", "1\n")],
            &[],
        );
        sys.file("/sys/class/block/vdb/size", b"65536\n")
            .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
            .file("/sys/block/vdb/removable", removable.as_bytes())
            .file("/dev/vdb", EXT4)
            .on_mount(
                "/run/live/persistence/vdb",
                &[("persistence.conf", Some(b"/ union\n"))],
            );
        assert_eq!(boot(&sys).stage, Stage::ExecInit);
        let mounted = sys
            .calls()
            .iter()
            .any(|c| c.starts_with("mount /dev/vdb /run/live/persistence/vdb"));
        assert_eq!(mounted, used, "removable={removable}");
    }
}
