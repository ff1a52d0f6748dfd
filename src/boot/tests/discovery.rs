//! Finding the medium: uevents and coldplug, the idle and retry bounds,
//! partitions, and the failure report.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

#[test]
fn a_missing_label_times_out_after_rd_retry_and_names_the_spec() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.retry=3");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(err.subject, "LABEL=NOPE");
    assert!(
        matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(3)),
        "{err}"
    );
    assert!(sys.now() >= Duration::from_secs(3));
    assert!(sys.now() < Duration::from_secs(4));
    assert!(sys.calls_starting("mount /dev/sr0").is_empty());
}

#[test]
fn a_medium_that_appears_during_the_wait_is_found() {
    let sys = live_machine("root=live:UUID=2024-01-02-03-04-05-06 rd.retry=10");
    // The drive is there from the start, but its disc arrives after 4 s.
    sys.file("/dev/sr0", &[0u8; 4096]);
    sys.file_at(Duration::from_secs(4), "/dev/sr0", ISO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("mount /dev/sr0"),
        ["mount /dev/sr0 /run/initramfs/live iso9660 ro"]
    );
    assert!(sys.now() >= Duration::from_secs(4) && sys.now() < Duration::from_secs(5));
}

#[test]
fn an_unreadable_drive_is_waited_for_until_the_bound() {
    let sys = live_machine("root=live:CDLABEL=x rd.retry=2");
    sys.fail("read /dev/sr0", Errno::NOMEDIUM);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert!(sys.calls_starting("read /dev/sr0").len() >= 8);
}

#[test]
fn a_medium_announced_by_a_uevent_after_coldplug_is_found_at_once() {
    let sys = late_cd_machine(
        r"root=live:CDLABEL=My\x20Disk rd.retry=30",
        Duration::from_secs(2),
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    // Found the moment the uevent came, read once: no polling.
    assert_eq!(sys.calls_starting("read /dev/sr0"), ["read /dev/sr0"]);
    assert!(sys
        .calls()
        .contains(&"mount /dev/sr0 /run/initramfs/live iso9660 ro".to_owned()));
    assert_eq!(sys.now(), Duration::from_secs(2));
}

#[test]
fn without_uevents_sys_is_looked_at_again_until_the_medium_shows_up() {
    let sys = late_cd_machine(
        r"root=live:CDLABEL=My\x20Disk rd.retry=30",
        Duration::from_secs(2),
    );
    sys.fail_uevents(Errno::PROTONOSUPPORT);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.now() >= Duration::from_secs(2) && sys.now() <= Duration::from_millis(2250));
}

#[test]
fn an_unrelated_uevent_does_not_make_a_device_match() {
    let sys = late_cd_machine("root=live:CDLABEL=NOPE rd.retry=30", Duration::from_secs(1));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(sys.calls_starting("read /dev/sr0"), ["read /dev/sr0"]);
}

#[test]
fn the_idle_timeout_fires_long_before_rd_retry() {
    let sys = disk_machine("root=live:CDLABEL=NOPE");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(sys.now(), Duration::from_secs(5), "the default idle time");
    assert!(
        matches!(err.cause, Cause::NoMatchIdle { idle, .. } if idle == Duration::from_secs(5)),
        "{err}"
    );
    // The message names the option that sets the wait.
    assert!(err.to_string().contains("rd.liveinit.idle="), "{err}");

    // News (any uevent) starts the idle time again.
    let sys = disk_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=2");
    let change = kernel_uevent("change", "/devices/virtual/net/lo", &[("SUBSYSTEM", "net")]);
    sys.uevent_at(Duration::from_secs(1), &change);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(sys.now(), Duration::from_secs(3));
}

#[test]
fn an_idle_time_of_zero_waits_for_rd_retry() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=0 rd.retry=20");
    let err = boot(&sys);
    assert_eq!(sys.now(), Duration::from_secs(20));
    assert!(
        matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(20)),
        "{err}"
    );
    // rd.retry stays the cap when the idle time is longer, however long.
    for idle in ["60", "1e18"] {
        let sys = live_machine(&format!(
            "root=live:CDLABEL=NOPE rd.liveinit.idle={idle} rd.liveinit.idle.slow={idle} rd.retry=7"
        ));
        let err = boot(&sys);
        assert_eq!(sys.now(), Duration::from_secs(7));
        assert!(
            matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(7)),
            "{err}"
        );
    }
}

#[test]
fn a_usb_storage_device_extends_the_idle_time() {
    // Its modalias asks for usb-storage at coldplug.
    let sys = disk_machine("root=live:CDLABEL=NOPE");
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/usb/devices/1-1:1.0/modalias",
        USB_STICK.as_bytes(),
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(
        sys.now(),
        Duration::from_secs(15),
        "the default slow-media idle time"
    );
    assert!(loaded(&sys).contains(&"usb_storage".to_owned()));

    let sys = disk_machine("root=live:CDLABEL=NOPE rd.liveinit.idle.slow=9 rd.liveinit.idle=3");
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/usb/devices/1-1:1.0/modalias",
        USB_STICK.as_bytes(),
    );
    let _ = boot(&sys);
    assert_eq!(sys.now(), Duration::from_secs(9));

    // A built-in usb-storage binding, announced by a uevent.
    let sys = disk_machine("root=live:CDLABEL=NOPE rd.liveinit.idle.slow=9 rd.liveinit.idle=3");
    let bind = kernel_uevent(
        "bind",
        "/devices/pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0",
        &[
            ("SUBSYSTEM", "usb"),
            ("DEVTYPE", "usb_interface"),
            ("DRIVER", "usb-storage"),
        ],
    );
    sys.uevent_at(Duration::from_secs(1), &bind);
    let _ = boot(&sys);
    assert_eq!(sys.now(), Duration::from_secs(10));

    // A USB stick slower than the plain idle time is still found.
    let sys = late_cd_machine(r"root=live:CDLABEL=My\x20Disk", Duration::from_secs(12));
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/usb/devices/1-1:1.0/modalias",
        USB_STICK.as_bytes(),
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
}

#[test]
fn a_removed_device_leaves_the_report() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=3");
    let removed = kernel_uevent(
        "remove",
        "/devices/pci0000:00/0000:00:01.1/block/sr0",
        &[("SUBSYSTEM", "block"), ("DEVNAME", "sr0")],
    );
    sys.uevent_at(Duration::from_secs(1), &removed);
    let err = boot(&sys);
    assert!(
        matches!(
            err.cause,
            Cause::NoMatchInTime { seen: 0, .. } | Cause::NoMatchIdle { seen: 0, .. }
        ),
        "{err}"
    );
}

#[test]
fn partuuid_and_partlabel_come_from_the_disks_table_without_uevent_keys() {
    // Debian 6.1: a partition's uevent has PARTN (and PARTNAME), no PARTUUID.
    let gpt = fixture_image(
        include_bytes!("../../probe/testdata/gpt.head"),
        include_bytes!("../../probe/testdata/gpt.extents"),
        2 << 20,
    );
    for spec in [
        "PARTUUID=11111111-2222-3333-4444-555555555555",
        "PARTLABEL=persistence",
    ] {
        let sys = FakeSys::new();
        sys.file("/proc/cmdline", format!("root=live:{spec}").as_bytes())
            .file("/sys/class/block/vda/size", b"4096\n")
            .file(
                "/sys/class/block/vda/uevent",
                b"DEVNAME=vda\nDEVTYPE=disk\n",
            )
            .file("/dev/vda", &gpt)
            .file("/sys/class/block/vda1/size", b"1024\n")
            .file("/sys/class/block/vda1/partition", b"1\n")
            .file(
                "/sys/class/block/vda1/uevent",
                b"DEVNAME=vda1\nDEVTYPE=partition\nPARTN=1\n",
            )
            .file(
                "/sys/class/block/vda1/../uevent",
                b"DEVNAME=vda\nDEVTYPE=disk\n",
            )
            .file("/dev/vda1", EXT4);
        let err = boot(&sys);
        assert_ne!(err.stage, Stage::FindMedium, "{spec}: {err}");
        assert!(
            sys.calls()
                .contains(&"mount /dev/vda1 /run/initramfs/live ext4 ro".to_owned()),
            "{spec}"
        );
    }
}

#[test]
fn the_failure_report_names_partitions_by_their_table() {
    let gpt = fixture_image(
        include_bytes!("../../probe/testdata/gpt.head"),
        include_bytes!("../../probe/testdata/gpt.extents"),
        2 << 20,
    );
    let sys = FakeSys::new();
    sys.file("/sys/class/block/vda/size", b"4096\n")
        .file("/dev/vda", &gpt)
        .file("/sys/class/block/vda2/size", b"512\n")
        .file("/sys/class/block/vda2/partition", b"2\n")
        .file("/sys/class/block/vda2/../uevent", b"DEVNAME=vda\n")
        .file("/dev/vda2", EXT4);
    let seen = discover::scan(&sys, Duration::from_secs(5));
    let vda2 = seen.iter().find(|s| s.name == "vda2").unwrap().describe();
    assert!(
        vda2.contains("PARTUUID=\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\"")
            && vda2.contains("PARTLABEL=\"EFI System ünï\""),
        "{vda2}"
    );
}

#[test]
fn a_fat_label_in_the_root_directory_is_read_beyond_the_head() {
    let fat = fixture_image(
        include_bytes!("../../probe/testdata/fat32.head"),
        include_bytes!("../../probe/testdata/fat32.extents"),
        1 << 20,
    );
    let sys = live_machine("root=live:LABEL=LIVEUSB32");
    sys.file("/sys/class/block/sdb/size", b"68000\n")
        .file("/dev/sdb", &fat);
    let err = boot(&sys);
    assert_ne!(err.stage, Stage::FindMedium, "{err}");
    assert!(sys
        .calls()
        .contains(&"mount /dev/sdb /run/initramfs/live vfat ro".to_owned()));
    assert!(
        sys.calls_starting("read /dev/sdb @")
            .iter()
            .any(|c| c.starts_with("read /dev/sdb @551936+")),
        "{:#?}",
        sys.calls_starting("read /dev/sdb")
    );
}

#[test]
fn an_optical_drive_gets_the_slow_media_idle_time() {
    // A disc can take seconds to spin up without a word from the kernel.
    let sys = live_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=3 rd.liveinit.idle.slow=12");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(sys.now(), Duration::from_secs(12));
}

#[test]
fn two_drives_with_the_mediums_label_are_named_and_neither_is_used() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file("/sys/class/block/sr1/size", b"4096\n")
        .file("/sys/class/block/sr1/uevent", b"DEVNAME=sr1\n")
        .file("/dev/sr1", ISO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium, "{err}");
    assert_eq!(
        err.cause,
        Cause::AmbiguousMedium {
            devices: vec!["/dev/sr0".to_owned(), "/dev/sr1".to_owned()]
        }
    );
    assert!(
        sys.calls_starting("mount /dev/sr").is_empty(),
        "nothing mounted"
    );
}

#[test]
fn an_isohybrid_stick_is_one_medium_found_on_its_disk() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sda/size", b"4096\n")
        .file(
            "/sys/class/block/sda/uevent",
            b"DEVNAME=sda\nDEVTYPE=disk\n",
        )
        .file("/sys/class/block/sda/sda1/size", b"4096\n")
        .file("/sys/class/block/sda1/size", b"4096\n")
        .file(
            "/sys/class/block/sda1/uevent",
            b"DEVNAME=sda1\nDEVTYPE=partition\nPARTN=1\n",
        )
        .file(
            "/sys/class/block/sda1/../uevent",
            b"DEVNAME=sda\nDEVTYPE=disk\n",
        )
        .file("/dev/sda", ISO)
        .file("/dev/sda1", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(
        sys.calls_starting("mount /dev/sda ").len() == 1,
        "{:?}",
        sys.calls_starting("mount")
    );
}

#[test]
fn the_failure_summary_shows_what_discovery_saw_without_reading_the_disks_again() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.retry=2");
    let err = boot(&sys);
    let reads_during_discovery = sys.calls_starting("read /dev/sr0").len();
    assert!(reads_during_discovery >= 1);
    emergency::fatal(&sys, &Policy::default(), &err);
    assert_eq!(
        sys.calls_starting("read /dev/sr0").len(),
        reads_during_discovery,
        "the summary read the CD again"
    );
    assert!(err
        .devices_seen
        .as_ref()
        .is_some_and(|seen| seen.iter().any(|d| d.starts_with("sr0: iso9660"))));
}

/// `live_machine` whose IDE controller's driver takes `took` to return and
/// brings, just before it does, a disk `sda` holding the same ISO.
fn with_slow_twin(cmdline: &str, took: Duration) -> FakeSys {
    let sys = live_machine(cmdline);
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    )
    .slow_module("/lib/modules/k/ata_piix.ko", took)
    .file_at(took, "/sys/class/block/sda/size", b"4096\n")
    .file_at(took, "/sys/class/block/sda/uevent", b"DEVNAME=sda\n")
    .file_at(took, "/dev/sda", ISO)
    .uevent_at(took, &block_added("sda"));
    sys
}

#[test]
fn a_match_waits_for_the_drivers_still_loading_however_slow_the_host() {
    // On a loaded host the second drive's driver returns long after the
    // first medium matched: the boot still sees both and names them.
    for took in [100, 800, 4000] {
        let sys = with_slow_twin(r"root=live:CDLABEL=My\x20Disk", Duration::from_millis(took));
        let err = boot(&sys);
        assert_eq!(
            err.cause,
            Cause::AmbiguousMedium {
                devices: vec!["/dev/sda".to_owned(), "/dev/sr0".to_owned()]
            },
            "driver returning after {took} ms: {err}"
        );
    }
}

#[test]
fn a_hung_driver_holds_a_match_no_longer_than_the_idle_time() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.liveinit.idle=2");
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    )
    .hang_module("/lib/modules/k/ata_piix.ko");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let now = sys.now();
    assert!(
        now >= Duration::from_secs(2) && now < Duration::from_millis(2500),
        "{now:?}"
    );
}

#[test]
fn a_blank_disk_read_again_each_tick_does_not_hold_the_match() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.liveinit.probe=30");
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    )
    .slow_module("/lib/modules/k/ata_piix.ko", Duration::from_millis(600))
    .file("/sys/class/block/vdb/size", b"4096\n")
    .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
    .file("/dev/vdb", &[0; 4096 * 512]);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    // Only the driver is waited for, not the blank disk's new looks.
    assert!(sys
        .calls()
        .contains(&"mount /dev/sr0 /run/initramfs/live iso9660 ro".to_owned()));
    assert!(sys.now() < Duration::from_millis(1000), "{:?}", sys.now());
}

const USB_INTERFACE: &str = "/sys/bus/usb/drivers/usb-storage/1-1:1.0";

#[test]
fn a_match_waits_for_a_bound_usb_stick_to_show_its_disk() {
    // usb-storage's load returned long ago; the stick's disk (the same
    // ISO) shows up only after its LUN scan, 1.2 s later.
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    let at = Duration::from_millis(1200);
    sys.dir(&format!("{USB_INTERFACE}/host2"))
        .file_at(
            at,
            &format!("{USB_INTERFACE}/host2/target2:0:0/2:0:0:0/block/sda/dev"),
            b"8:0\n",
        )
        .file_at(at, "/sys/class/block/sda/size", b"4096\n")
        .file_at(at, "/sys/class/block/sda/uevent", b"DEVNAME=sda\n")
        .file_at(at, "/dev/sda", ISO)
        .uevent_at(at, &block_added("sda"));
    let err = boot(&sys);
    assert_eq!(
        err.cause,
        Cause::AmbiguousMedium {
            devices: vec!["/dev/sda".to_owned(), "/dev/sr0".to_owned()]
        },
        "{err}"
    );
}

#[test]
fn a_usb_stick_whose_disk_is_there_does_not_hold_the_match() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file(
        &format!("{USB_INTERFACE}/host2/target2:0:0/2:0:0:0/block/sda/dev"),
        b"8:0\n",
    )
    .file("/sys/class/block/sda/size", b"4096\n")
    .file("/sys/class/block/sda/uevent", b"DEVNAME=sda\n")
    .file("/dev/sda", EXT4);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.now() < Duration::from_millis(250), "{:?}", sys.now());
}
