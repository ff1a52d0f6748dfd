//! `rd.live.check`: the medium's implanted MD5 verified before it is
//! mounted; pass, fail, and nothing to verify.

// Test images are a few hundred KiB; truncating casts cannot bite here.
#![allow(clippy::cast_possible_truncation)]

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::isomd5::{Mismatch, APPDATA_LEN, APPDATA_OFFSET, DESCRIPTORS_START, SECTOR};
use crate::md5::{hex, Md5};

const CHECK: &str = r"root=live:CDLABEL=My\x20Disk rd.live.check";
/// The fixture's primary volume descriptor says 218 sectors.
const ISO_SECTORS: usize = 218;
const SKIP_SECTORS: usize = 15;
const APPDATA: usize = DESCRIPTORS_START as usize + APPDATA_OFFSET;

/// The fixture ISO grown to its full size, with a sum implanted as
/// `implantisomd5` does (no fragment sums: the whole sum alone).
fn implanted_iso() -> Vec<u8> {
    let mut iso = ISO.to_vec();
    let len = ISO_SECTORS * SECTOR as usize;
    iso.extend((iso.len()..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    iso[APPDATA..APPDATA + APPDATA_LEN].fill(b' ');
    let mut md5 = Md5::new();
    md5.update(&iso[..(ISO_SECTORS - SKIP_SECTORS) * SECTOR as usize]);
    let sum = hex(&md5.finish());
    let field = format!(
        "ISO MD5SUM = {};SKIPSECTORS = {SKIP_SECTORS};RHLISOSTATUS=0;",
        core::str::from_utf8(&sum).unwrap()
    );
    iso[APPDATA..APPDATA + field.len()].copy_from_slice(field.as_bytes());
    iso
}

fn machine_with(cmdline: &str, medium: &[u8]) -> FakeSys {
    let sys = live_machine(cmdline);
    sys.file("/dev/sr0", medium);
    sys
}

/// Index of the first call that mounts the medium.
fn medium_mount(sys: &FakeSys) -> Option<usize> {
    sys.calls()
        .iter()
        .position(|c| c.starts_with("mount /dev/sr0 /run/initramfs/live"))
}

fn whole_reads(sys: &FakeSys) -> Vec<String> {
    sys.calls_starting("read /dev/sr0 @")
        .into_iter()
        .filter(|c| !c.ends_with("+2048"))
        .collect()
}

#[test]
fn an_intact_medium_is_read_once_then_mounted() {
    let sys = machine_with(CHECK, &implanted_iso());
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    // 203 sectors covered: one 1 MiB read would do, it is shorter.
    assert_eq!(whole_reads(&sys), ["read /dev/sr0 @0+415744"]);
    let last_read = sys
        .calls()
        .iter()
        .rposition(|c| c.starts_with("read /dev/sr0 @"))
        .unwrap();
    assert!(last_read < medium_mount(&sys).unwrap());
}

#[test]
fn one_flipped_byte_stops_the_boot_naming_the_medium() {
    let mut iso = implanted_iso();
    iso[200_000] ^= 1;
    let sys = machine_with(CHECK, &iso);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CheckMedium);
    assert_eq!(err.subject, "/dev/sr0");
    assert_eq!(err.cause, Cause::MediumDamaged(Mismatch::Whole));
    assert!(
        err.to_string()
            .starts_with("check medium: /dev/sr0: its contents do not match"),
        "{err}"
    );
    assert_eq!(medium_mount(&sys), None);
}

#[test]
fn a_change_in_the_skipped_tail_or_the_sum_field_is_not_damage() {
    let mut iso = implanted_iso();
    let last = iso.len() - 1;
    iso[last] ^= 1;
    let sys = machine_with(CHECK, &iso);
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
}

#[test]
fn a_medium_without_a_sum_is_used_unverified() {
    let sys = machine_with(CHECK, ISO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(whole_reads(&sys).is_empty(), "{:?}", whole_reads(&sys));
    assert!(medium_mount(&sys).is_some());
}

#[test]
fn a_medium_shorter_than_its_sum_says_is_truncated() {
    let iso = implanted_iso();
    let sys = machine_with(CHECK, &iso[..100 * SECTOR as usize]);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CheckMedium, "{err}");
    assert_eq!(
        err.cause,
        Cause::MediumTruncated {
            covered: 203 * SECTOR,
            ends: 100 * SECTOR
        }
    );
}

#[test]
fn a_read_error_names_the_device_and_the_offset() {
    let sys = machine_with(CHECK, &implanted_iso());
    sys.fail("read /dev/sr0 @0+", Errno::IO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CheckMedium, "{err}");
    assert_eq!(err.subject, "read /dev/sr0 at byte 0");
    assert_eq!(err.cause, Cause::Sys(Errno::IO));
}

#[test]
fn without_the_option_nothing_is_verified() {
    let mut iso = implanted_iso();
    iso[200_000] ^= 1;
    let sys = machine_with(r"root=live:CDLABEL=My\x20Disk", &iso);
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
    assert!(sys.calls_starting("read /dev/sr0 @").is_empty());
}

#[test]
fn a_medium_that_is_not_an_iso_has_nothing_to_verify() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        b"root=live:/dev/vda rd.live.check rd.live.dir=/ rd.live.squashimg=x",
    )
    .file("/sys/class/block/vda/size", b"4096\n")
    .file("/dev/vda", SQUASHFS)
    .on_mount(SQUASH_MNT, &[("usr", None)])
    .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls_starting("read /dev/vda @").is_empty());
}

#[test]
fn esc_on_the_console_skips_the_check_with_a_warning_and_the_boot_goes_on() {
    let mut iso = implanted_iso();
    iso[200_000] ^= 1;
    let sys = machine_with(CHECK, &iso);
    sys.keys_at(Duration::ZERO, b"\x1b");
    let err = boot(&sys);
    // Damaged, but never checked: booted all the same.
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let off = position(&calls, "console keys off");
    assert!(position(&calls, "console keys on") < off);
    assert!(
        off < medium_mount(&sys).unwrap(),
        "the console is put back first"
    );
}

#[test]
fn other_keys_do_not_skip_the_check() {
    let mut iso = implanted_iso();
    iso[200_000] ^= 1;
    let sys = machine_with(CHECK, &iso);
    // An arrow key and Enter: Esc only as the start of a sequence.
    sys.keys_at(Duration::ZERO, b"\x1b[A\r");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::CheckMedium, "{err}");
    assert!(sys.calls().contains(&"console keys off".to_owned()));
}
