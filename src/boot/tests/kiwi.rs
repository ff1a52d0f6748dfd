//! kiwi mode against the fake: the root at kiwi's paths, and
//! `rd.live.overlay.persistent` putting the writable layer on the `cow`
//! partition of the medium's disk, or (never making one) in the tmpfs.

#[allow(unused_imports)]
use crate::prelude::*;

use super::layered_persist::ext4_labelled;
use super::*;

const PERSISTENT: &str = r"root=live:CDLABEL=My\x20Disk rd.live.image rd.live.overlay.persistent rd.live.overlay.cowfs=ext4";
const ROOT_ON_COW: &str =
    "mount LiveOS_rootfs /sysroot overlay rw lowerdir=/run/overlay/rootfsbase,\
     upperdir=/run/overlay/overlayfs/rw,workdir=/run/overlay/overlayfs/work";

/// The medium's files once mounted at kiwi's paths: the container holding
/// an ext4 `rootfs.img`.
fn with_root(sys: &FakeSys) {
    sys.file("/run/overlay/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(
            "/run/overlay/squashfs_container",
            &[("LiveOS", None), ("LiveOS/rootfs.img", Some(EXT4))],
        )
        .executable("/sysroot", "/sbin/init");
}

/// A hybrid ISO written to the disk `vda` (seen on the disk and its first
/// partition), with `part2` as a second partition when given.
fn stick(cmdline: &str, part2: Option<&[u8]>) -> FakeSys {
    let mut parts = vec![ISO];
    parts.extend(part2);
    disk(cmdline, &parts)
}

/// The ISO on the whole disk `vda`, whose partitions hold `parts`.
fn disk(cmdline: &str, parts: &[&[u8]]) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/vda/size", b"65536\n")
        .file(
            "/sys/class/block/vda/uevent",
            b"DEVNAME=vda\nDEVTYPE=disk\n",
        )
        .file("/dev/vda", ISO);
    for (n, fs) in parts.iter().enumerate() {
        let name = format!("vda{}", n + 1);
        sys.file(&format!("/sys/class/block/vda/{name}/size"), b"4096\n")
            .file(&format!("/sys/class/block/{name}/size"), b"4096\n")
            .file(
                &format!("/sys/class/block/{name}/uevent"),
                format!("DEVNAME={name}\nDEVTYPE=partition\nPARTN={}\n", n + 1).as_bytes(),
            )
            .file(
                &format!("/sys/class/block/{name}/../uevent"),
                b"DEVNAME=vda\nDEVTYPE=disk\n",
            )
            .file(&format!("/dev/{name}"), fs);
    }
    with_root(&sys);
    sys
}

fn booted(sys: &FakeSys) -> Vec<String> {
    let err = boot(sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}\n{:#?}", sys.calls());
    sys.calls()
}

fn position(calls: &[String], start: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(start))
        .unwrap_or_else(|| panic!("no {start}\n{calls:#?}"))
}

#[test]
fn the_cow_partition_of_the_medium_disk_holds_the_writable_layer() {
    let sys = stick(PERSISTENT, Some(&ext4_labelled("cow")));
    let calls = booted(&sys);
    let cow = position(&calls, "mount /dev/vda2 /run/overlay/overlayfs ext4 rw");
    let upper = position(&calls, "mkdir /run/overlay/overlayfs/rw");
    let root = position(&calls, ROOT_ON_COW);
    // The ISO through its partition: the kernel lets no partition be
    // mounted beside a mounted whole disk.
    let medium = position(&calls, "mount /dev/vda1 /run/overlay/live iso9660 ro");
    // The upper dir is made on the partition, after mounting it (the
    // tmpfs's own was made before).
    assert!(medium < cow && cow < root, "{calls:#?}");
    assert!(
        calls[cow..root]
            .iter()
            .any(|c| c.starts_with("mkdir /run/overlay/overlayfs/rw"))
            && upper < cow,
        "{calls:#?}"
    );
    let state = sys.read_file("/run/initramfs/persistent-overlay").unwrap();
    assert!(String::from_utf8_lossy(&state).contains("/dev/vda2 (LABEL=cow)"));
}

#[test]
fn without_a_cow_partition_nothing_is_made_and_the_tmpfs_holds_it() {
    for part2 in [None, Some(EXT4)] {
        let sys = stick(PERSISTENT, part2);
        let calls = booted(&sys);
        assert!(
            calls.iter().all(|c| !c.contains("/run/overlay/overlayfs ")),
            "{calls:#?}"
        );
        // Nothing is written to the disk: no write calls on any device.
        assert!(
            calls.iter().all(|c| !c.starts_with("write /dev/")),
            "{calls:#?}"
        );
        position(&calls, "mount /dev/vda /run/overlay/live iso9660 ro");
        position(&calls, ROOT_ON_COW);
    }
}

#[test]
fn a_cow_partition_that_fails_to_mount_is_left_for_the_tmpfs() {
    let sys = stick(PERSISTENT, Some(&ext4_labelled("cow")));
    sys.fail("mount /dev/vda2", Errno::IO);
    let calls = booted(&sys);
    let tried = position(&calls, "mount /dev/vda2");
    assert!(
        calls[tried..]
            .iter()
            .all(|c| !c.starts_with("mkdir /run/overlay/overlayfs/")),
        "{calls:#?}"
    );
    position(&calls, ROOT_ON_COW);
}

#[test]
fn on_a_cd_kiwi_stays_temporary_without_looking_at_other_disks() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", PERSISTENT.as_bytes())
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/dev/sr0", ISO)
        .file("/sys/class/block/vdb/size", b"65536\n")
        .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
        .file("/dev/vdb", &ext4_labelled("cow"));
    with_root(&sys);
    let calls = booted(&sys);
    assert!(
        calls.iter().all(|c| !c.starts_with("mount /dev/vdb")),
        "{calls:#?}"
    );
    position(&calls, "mount /dev/sr0 /run/overlay/live iso9660 ro");
    position(&calls, ROOT_ON_COW);
}

#[test]
fn a_cow_partition_beside_an_iso_on_the_whole_disk_alone_is_not_used() {
    // No partition holds the ISO: the cow one could not be mounted while
    // the whole disk is.
    let sys = disk(PERSISTENT, &[&ext4_labelled("cow")]);
    let calls = booted(&sys);
    position(&calls, "mount /dev/vda /run/overlay/live iso9660 ro");
    assert!(
        calls.iter().all(|c| !c.starts_with("mount /dev/vda1")),
        "{calls:#?}"
    );
    position(&calls, ROOT_ON_COW);
}
