//! `rd.live.ram=auto`: the inputs read from the machine and the decision
//! carried out.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::boot::ram_auto::medium_kind;
use crate::plan::ram_auto::MediumKind;

const SQUASHED_COPY: &str =
    "copy /run/initramfs/live/LiveOS/squashfs.img /run/initramfs/squashed.img";

fn cd_machine(meminfo: &[u8]) -> FakeSys {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.live.ram=auto");
    sys.file("/proc/meminfo", meminfo);
    sys
}

#[test]
fn auto_copies_a_small_image_from_a_cd_with_room_to_spare() {
    let sys = cd_machine(b"MemTotal:        4194304 kB\n");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.calls_starting("copy"), [SQUASHED_COPY]);
    assert!(!sys.calls_starting("umount /run/initramfs/live").is_empty());
}

#[test]
fn auto_runs_from_the_cd_when_ram_lacks_two_gib_beside_the_image() {
    let sys = cd_machine(b"MemTotal:        2097152 kB\n");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls_starting("copy").is_empty());
    assert!(sys.calls_starting("umount /run/initramfs/live").is_empty());
    assert!(!sys
        .calls_starting("attach /run/initramfs/live/LiveOS/squashfs.img")
        .is_empty());
}

#[test]
fn auto_without_meminfo_runs_from_the_medium() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.live.ram=auto");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls_starting("copy").is_empty());
}

#[test]
fn the_medium_kind_comes_from_the_node_name_and_the_usb_interface_above_it() {
    let sys = FakeSys::new();
    assert_eq!(medium_kind(&sys, "/dev/sr0"), MediumKind::Optical);
    assert_eq!(medium_kind(&sys, "/dev/vda"), MediumKind::Other);
    // sda's SCSI device, its target, its host, then the USB interface.
    sys.file(
        "/sys/class/block/sda/device/uevent",
        b"DEVTYPE=scsi_device\nDRIVER=sd\n",
    )
    .file(
        "/sys/class/block/sda/device/../../../uevent",
        b"DEVTYPE=usb_interface\nDRIVER=usb-storage\n",
    );
    assert_eq!(medium_kind(&sys, "/dev/sda"), MediumKind::Usb);
    // A partition: `..` is its disk.
    sys.file(
        "/sys/class/block/sdb1/../device/../../../uevent",
        b"DEVTYPE=usb_interface\nDRIVER=uas\n",
    );
    assert_eq!(medium_kind(&sys, "/dev/sdb1"), MediumKind::Usb);
    sys.file(
        "/sys/class/block/sdc/device/../../../uevent",
        b"DEVTYPE=scsi_host\n",
    );
    assert_eq!(medium_kind(&sys, "/dev/sdc"), MediumKind::Other);
}
