//! Kernel modules: drivers by modalias, filesystems and block layers
//! just before the step that needs them, failures named.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

#[test]
fn modules_load_in_listed_order_and_a_failure_is_not_fatal() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file(
        crate::contract::MODULES_LOAD,
        b"/lib/modules/k/a.ko\n\n# comment\n/lib/modules/k/b.ko\n/lib/modules/k/c.ko\n",
    );
    sys.fail("load /lib/modules/k/b.ko", Errno::NOEXEC);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit);
    assert_eq!(
        sys.calls_starting("load"),
        [
            "load /lib/modules/k/a.ko",
            "load /lib/modules/k/b.ko",
            "load /lib/modules/k/c.ko"
        ]
    );
}

#[test]
fn drivers_load_by_modalias_dependencies_first_each_once() {
    let sys = late_cd_machine(r"root=live:CDLABEL=My\x20Disk", Duration::from_millis(1500));
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    );
    // The controller's driver finds a CD: a SCSI device asks for sr_mod
    // (twice: the same MODALIAS again changes nothing).
    let cd = kernel_uevent(
        "add",
        "/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0",
        &[
            ("SUBSYSTEM", "scsi"),
            ("DEVTYPE", "scsi_device"),
            ("MODALIAS", "scsi:t-0x05"),
        ],
    );
    sys.uevent_at(Duration::from_secs(1), &cd);
    sys.uevent_at(Duration::from_millis(1100), &cd);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let names = loaded(&sys);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "a module loaded twice: {names:?}"
    );
    for (module, deps) in [
        ("scsi_mod", &["scsi_common"][..]),
        ("libata", &["scsi_common", "scsi_mod"]),
        ("ata_piix", &["libata"]),
        ("sr_mod", &["scsi_mod", "cdrom"]),
        ("isofs", &["cdrom"]),
    ] {
        let at = names
            .iter()
            .position(|n| n == module)
            .unwrap_or_else(|| panic!("{module} not loaded: {names:?}"));
        for dep in deps {
            let dep_at = names.iter().position(|n| n == dep).unwrap();
            assert!(dep_at < at, "{dep} after {module}: {names:?}");
        }
    }
    // Neither a device nor a step asked for these.
    for absent in [
        "ahci",
        "usb_storage",
        "ext4",
        "erofs",
        "dm_mod",
        "dm_thin_pool",
    ] {
        assert!(!names.contains(&absent.to_owned()), "{absent}: {names:?}");
    }
}

#[test]
fn each_filesystem_and_block_layer_loads_just_before_the_step_that_needs_it() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let steps = [
        ("isofs", "mount /dev/sr0 /run/initramfs/live iso9660 ro"),
        ("loop", "attach /run/initramfs/live/LiveOS/squashfs.img ro"),
        (
            "squashfs",
            "mount /dev/loop0 /run/initramfs/squashfs squashfs ro",
        ),
        (
            "overlay",
            "mount LiveOS_rootfs /sysroot overlay rw \
             lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork",
        ),
    ];
    for (module, step) in steps {
        let load = load_position(&calls, module);
        assert!(
            load < position(&calls, step),
            "{module} not loaded before `{step}`"
        );
    }
    // The likely ones were loaded in the background during discovery; the
    // medium's filesystem once it was found. A flattened squashfs under
    // overlayfs needs nothing more.
    let mut background = sys.background_loads();
    background.sort();
    assert_eq!(
        background,
        [
            "/lib/modules/k/loop.ko",
            "/lib/modules/k/overlay.ko",
            "/lib/modules/k/squashfs.ko"
        ]
    );
    assert!(position(&calls, "read /dev/sr0") < load_position(&calls, "isofs"));
    let mut names = loaded(&sys);
    names.sort();
    assert_eq!(names, ["cdrom", "isofs", "loop", "overlay", "squashfs"]);
}

#[test]
fn a_filesystem_the_kernel_lacks_is_named_as_such() {
    // An ISO medium, but isofs neither built in nor packed.
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    sys.file(
        crate::contract::MODULES_ALIAS,
        b"alias fs-squashfs squashfs\n",
    );
    sys.fail("mount /dev/sr0 /run/initramfs/live", Errno::NODEV);
    let err = boot(&sys);
    assert_eq!(
        err.to_string(),
        "mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro, nosuid, nodev): \
         No such device (os error 19) (the kernel has no iso9660 filesystem: it is not \
         built in, and no module in the initramfs provides it)"
    );
    // With the module packed, ENODEV is the kernel's own word.
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    sys.fail("mount /dev/sr0 /run/initramfs/live", Errno::NODEV);
    let err = boot(&sys);
    assert!(
        err.to_string()
            .ends_with("iso9660, ro, nosuid, nodev): No such device (os error 19)"),
        "{err}"
    );
}

#[test]
fn a_module_that_fails_to_load_is_named_in_the_error_of_the_step_needing_it() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    sys.fail("load /lib/modules/k/squashfs.ko", Errno::NOEXEC);
    // What the kernel says when it has no such filesystem.
    sys.fail("mount /dev/loop0 /run/initramfs/squashfs", Errno::NODEV);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert!(
        err.to_string().ends_with(
            "No such device (os error 19) (the kernel module it needs did not load: \
             squashfs: Exec format error (os error 8))"
        ),
        "{err}"
    );
}

#[test]
fn a_failing_module_does_not_stop_discovery() {
    let sys = late_cd_machine(r"root=live:CDLABEL=My\x20Disk", Duration::from_millis(1500));
    with_module_tables(&sys);
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    );
    sys.fail("load /lib/modules/k/libata.ko", Errno::NOEXEC);
    sys.fail("load /lib/modules/k/squashfs.ko", Errno::INVAL);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    // Its dependants are still tried: the kernel says what is missing.
    assert!(loaded(&sys).contains(&"ata_piix".to_owned()));
}

#[test]
fn device_mapper_targets_load_only_for_the_layer_that_uses_them() {
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk rd.live.overlay.thin");
    with_module_tables(&sys);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let pool = calls
        .iter()
        .position(|c| c.starts_with("dm create live-overlay-pool"))
        .unwrap_or_else(|| panic!("no thin pool in {calls:#?}"));
    assert!(load_position(&calls, "dm-mod") < load_position(&calls, "dm-thin-pool"));
    assert!(load_position(&calls, "dm-thin-pool") < pool);
    assert!(
        load_position(&calls, "ext4")
            < position(&calls, "mount /dev/mapper/live-rw /sysroot ext4 rw")
    );
    let names = loaded(&sys);
    // A thin pool was asked for: overlayfs is not even guessed.
    for absent in ["dm_snapshot", "overlay"] {
        assert!(!names.contains(&absent.to_owned()), "{absent}: {names:?}");
    }

    // The default for an ext4 rootfs.img: a snapshot, no thin pool.
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    let _ = boot(&sys);
    let names = loaded(&sys);
    assert!(names.contains(&"dm_snapshot".to_owned()), "{names:?}");
    for absent in ["dm_thin_pool", "erofs"] {
        assert!(!names.contains(&absent.to_owned()), "{absent}: {names:?}");
    }
}

#[test]
fn listed_and_likely_modules_load_in_the_background_except_what_a_driver_needs_too() {
    let sys = late_cd_machine(r"root=live:CDLABEL=My\x20Disk", Duration::from_millis(1500));
    with_module_tables(&sys);
    // isofs on every boot: its dependency cdrom is sr_mod's too.
    sys.file(
        crate::contract::MODULES_LOAD,
        b"/lib/modules/k/cdrom.ko\n/lib/modules/k/isofs.ko\n/lib/modules/k/loop.ko\n",
    );
    sys.file(
        "/sys/bus/pci/devices/0000:00:01.1/modalias",
        PIIX.as_bytes(),
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let mut background = sys.background_loads();
    background.sort();
    // Listed (but for cdrom), and guessed from the command line.
    assert_eq!(
        background,
        [
            "/lib/modules/k/isofs.ko",
            "/lib/modules/k/loop.ko",
            "/lib/modules/k/overlay.ko",
            "/lib/modules/k/squashfs.ko"
        ]
    );
    let names = loaded(&sys);
    assert!(names.contains(&"cdrom".to_owned()) && names.contains(&"ata_piix".to_owned()));
}

#[test]
fn a_driver_stuck_in_its_probe_does_not_hold_up_the_exec() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    with_module_tables(&sys);
    // An AHCI controller whose driver never returns from its probe.
    sys.file(
        "/sys/bus/pci/devices/0000:00:1f.2/modalias",
        b"pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",
    )
    .hang_module("/lib/modules/k/ahci.ko");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(
        sys.calls_starting("load ")
            .iter()
            .any(|c| c.ends_with("/ahci.ko")),
        "the stuck driver was started"
    );
    assert!(
        sys.now() < Duration::from_secs(10),
        "the exec waited {:?} for a load that never returns",
        sys.now()
    );
}
