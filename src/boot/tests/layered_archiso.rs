//! archiso's writable layer against the fake: the dm-snapshot root of an
//! `airootfs.img`, the COW space on the device `cow_label=` names (and the
//! tmpfs, with a warning, when it is missing), and the ISO file of
//! `img_dev=` + `img_loop=` as the medium.

#[allow(unused_imports)]
use crate::prelude::*;

use super::layered_persist::ext4_labelled;
use super::*;

const IMAGE: &str = "arch/x86_64/airootfs.sfs";
const HOLDER: &str = "/run/archiso/cowspace/persistent_/x86_64";

/// A CD holding the archiso tree; `nested`: its image holds `airootfs.img`.
/// `cow`: a disk `vdb` with that filesystem.
fn machine(cmdline: &str, nested: bool, cow: Option<&[u8]>) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file(
            "/proc/meminfo",
            b"MemTotal: 1048576 kB\nMemAvailable: 900000 kB\n",
        )
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/dev/sr0", ISO)
        .on_mount(
            "/run/archiso/bootmnt",
            &[("arch/x86_64", None), (IMAGE, Some(SQUASHFS))],
        )
        .executable("/sysroot", "/sbin/init");
    if nested {
        sys.on_mount("/run/archiso/airootfs", &[("airootfs.img", Some(EXT4))]);
    }
    if let Some(fs) = cow {
        sys.file("/sys/class/block/vdb/size", b"65536\n")
            .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
            .file("/dev/vdb", fs);
    }
    sys
}

fn booted(sys: &FakeSys) -> Vec<String> {
    let err = boot(sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}\n{:#?}", sys.calls());
    sys.calls()
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
fn an_airootfs_img_becomes_the_snapshot_root_and_its_cow_file_goes() {
    let sys = machine("archisodevice=/dev/sr0 copytoram=n", true, None);
    let calls = booted(&sys);
    let cow = format!("{HOLDER}/airootfs.cow");
    in_order(
        &calls,
        &[
            "mount /dev/loop0 /run/archiso/airootfs squashfs ro",
            "mount tmpfs /run/archiso/cowspace tmpfs rw mode=755,size=256M",
            &format!("mkdir {HOLDER}"),
            &format!("chmod {HOLDER} 700"),
            "attach /run/archiso/airootfs/airootfs.img ro",
            &format!("attach {cow} rw"),
            "dm create arch_airootfs: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8",
            &format!("unlink {cow}"),
            "mount /dev/mapper/arch_airootfs /sysroot ext4 rw",
            "switch_root /sysroot",
        ],
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with(&format!("sparse {cow} "))),
        "{calls:#?}"
    );
    assert!(!calls.iter().any(|c| c.contains("overlay /sysroot")));
}

#[test]
fn a_cow_label_device_holds_the_overlay_upper_and_is_named_for_status() {
    let sys = machine(
        "archisodevice=/dev/sr0 copytoram=n cow_label=PERSIST cow_flags=noatime",
        false,
        Some(&ext4_labelled("PERSIST")),
    );
    let calls = booted(&sys);
    in_order(
        &calls,
        &[
            "mount /dev/vdb /run/archiso/cowspace ext4 ro",
            "remount /run/archiso/cowspace ",
            &format!("mkdir {HOLDER}"),
            &format!("chmod {HOLDER} 700"),
            &format!(
                "mount airootfs /sysroot overlay rw lowerdir=/run/archiso/airootfs,\
                 upperdir={HOLDER}/upperdir,workdir={HOLDER}/workdir"
            ),
        ],
    );
    assert!(!calls
        .iter()
        .any(|c| c.starts_with("mount tmpfs /run/archiso/cowspace")));
    let state = sys.read_file("/run/initramfs/persistent-overlay").unwrap();
    assert!(String::from_utf8_lossy(&state).contains("/dev/vdb (cow_label, ext4)"));
}

#[test]
fn a_kept_cow_file_is_reused_on_the_device() {
    let sys = machine(
        "archisodevice=/dev/sr0 copytoram=n cow_device=/dev/vdb",
        true,
        Some(EXT4),
    );
    let cow = format!("{HOLDER}/airootfs.cow");
    sys.on_mount("/run/archiso/cowspace", &[(&cow[22..], Some(b"SnAp"))]);
    let calls = booted(&sys);
    assert!(calls.contains(&format!("attach {cow} rw")), "{calls:#?}");
    assert!(!calls
        .iter()
        .any(|c| c.starts_with("sparse ") || c.starts_with("unlink ")));
}

#[test]
fn a_missing_cow_device_is_a_warning_and_the_tmpfs_is_used() {
    let sys = machine(
        "archisodevice=/dev/sr0 copytoram=n cow_label=NOPE rd.retry=2",
        false,
        None,
    );
    let calls = booted(&sys);
    assert!(calls.contains(&"mount tmpfs /run/archiso/cowspace tmpfs rw mode=755,size=256M".into()));
    assert!(sys.file_kind("/run/initramfs/persistent-overlay").is_none());
}
