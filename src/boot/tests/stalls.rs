//! Devices whose reads stall (a scratched disc, a dying stick): discovery
//! reads each device in a child and never waits on one past its bound.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

/// `live_machine` (the medium on sr0) with a disk `sdb` whose reads
/// stall until `until` (`None`: for ever).
fn with_stalling_disk(cmdline: &str, until: Option<Duration>) -> FakeSys {
    let sys = live_machine(cmdline);
    sys.file("/sys/class/block/sdb/size", b"4096\n")
        .file("/sys/class/block/sdb/uevent", b"DEVNAME=sdb\n")
        .file("/dev/sdb", EXT4)
        .stall_reads("/dev/sdb", until);
    sys
}

#[test]
fn a_stalling_disk_does_not_delay_the_medium_that_answered() {
    let sys = with_stalling_disk("root=live:CDLABEL=My\\x20Disk rd.retry=30", None);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys
        .calls()
        .contains(&"mount /dev/sr0 /run/initramfs/live iso9660 ro".to_owned()));
    // At most the short wait for a second device with the same label.
    assert!(sys.now() <= Duration::from_millis(250), "{:?}", sys.now());
}

#[test]
fn a_stalling_disk_cannot_push_the_fatal_past_rd_retry_and_is_named() {
    let sys = with_stalling_disk("root=live:CDLABEL=NOPE rd.retry=3 rd.liveinit.idle=0", None);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert!(
        matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(3)),
        "{err}"
    );
    assert_eq!(sys.now(), Duration::from_secs(3));
    let seen = err.devices_seen.clone().unwrap_or_default();
    assert!(
        seen.contains(&"sdb: reads stall (no answer)".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|d| d.starts_with("sr0: iso9660")),
        "{seen:?}"
    );
    // The summary shows what discovery saw: no new read of either device.
    let reads = sys.calls_starting("read /dev/").len();
    emergency::fatal(&sys, &Policy::default(), &err);
    assert_eq!(sys.calls_starting("read /dev/").len(), reads);
}

#[test]
fn past_its_bound_a_stalling_disk_no_longer_holds_the_idle_rule() {
    let sys = with_stalling_disk(
        "root=live:CDLABEL=NOPE rd.liveinit.probe=1 rd.liveinit.idle=2 rd.liveinit.idle.slow=2",
        None,
    );
    let err = boot(&sys);
    assert!(matches!(err.cause, Cause::NoMatchIdle { .. }), "{err}");
    assert_eq!(sys.now(), Duration::from_secs(2));

    // Within its bound, the probe may still bring the medium: it is waited for.
    let sys = with_stalling_disk(
        "root=live:CDLABEL=NOPE rd.liveinit.probe=4 rd.liveinit.idle=2 rd.liveinit.idle.slow=2",
        None,
    );
    let _ = boot(&sys);
    assert_eq!(sys.now(), Duration::from_secs(4));
}

#[test]
fn a_slow_device_that_answers_late_is_still_the_medium() {
    let sys = with_stalling_disk(
        "root=live:LABEL=live-persistence rd.retry=30 rd.liveinit.probe=2",
        Some(Duration::from_secs(8)),
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys
        .calls()
        .contains(&"mount /dev/sdb /run/initramfs/live ext4 ro".to_owned()));
    assert_eq!(sys.now(), Duration::from_secs(8));
}

#[test]
fn a_later_failure_summary_shows_what_discovery_saw() {
    let sys = live_machine("root=live:CDLABEL=My\\x20Disk");
    sys.fail("mount /dev/sr0", Errno::IO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountMedium, "{err}");
    let seen = err.devices_seen.clone().unwrap_or_default();
    assert!(
        seen.iter().any(|d| d.starts_with("sr0: iso9660")),
        "{seen:?}"
    );
    let reads = sys.calls_starting("read /dev/sr0").len();
    emergency::fatal(&sys, &Policy::default(), &err);
    assert_eq!(
        sys.calls_starting("read /dev/sr0").len(),
        reads,
        "read again"
    );
}

/// A drive read again each tick that keeps saying the same (no disc) is no
/// news: the idle rule still ends the search.
#[test]
fn a_drive_that_keeps_failing_the_same_way_does_not_hold_the_idle_rule() {
    let sys = disk_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=2 rd.liveinit.idle.slow=2");
    sys.file("/sys/class/block/sr1/size", b"4096\n")
        .file("/dev/sr1", &[0u8; 4096])
        .fail("read /dev/sr1", Errno::NOMEDIUM);
    let err = boot(&sys);
    assert!(matches!(err.cause, Cause::NoMatchIdle { .. }), "{err}");
    assert_eq!(sys.now(), Duration::from_secs(2));
    assert!(
        sys.calls_starting("read /dev/sr1").len() >= 4,
        "read again each tick"
    );
}

/// A stalling disk pulled while its probe runs: no longer waited for nor
/// named, and its late answer (the child's read failing) is ignored.
#[test]
fn a_stalling_disk_pulled_mid_probe_is_forgotten() {
    let sys = with_stalling_disk(
        "root=live:CDLABEL=NOPE rd.liveinit.probe=30 rd.liveinit.idle=2 rd.liveinit.idle.slow=2",
        Some(Duration::from_secs(4)),
    );
    let removed = kernel_uevent(
        "remove",
        "/devices/pci0000:00/0000:00:01.1/block/sdb",
        &[("SUBSYSTEM", "block"), ("DEVNAME", "sdb")],
    );
    sys.uevent_at(Duration::from_secs(1), &removed);
    let err = boot(&sys);
    // The idle time counts from the removal, not from the probe's bound.
    assert!(matches!(err.cause, Cause::NoMatchIdle { .. }), "{err}");
    assert_eq!(sys.now(), Duration::from_secs(3));
    let seen = err.devices_seen.clone().unwrap_or_default();
    assert!(!seen.iter().any(|d| d.starts_with("sdb")), "{seen:?}");
}
