//! The boot sequence against the recording fake: the happy path and a
//! failure injected at each stage.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::plan::SQUASH_MNT;
use crate::sys::fake::FakeSys;
use crate::sys::Errno;

const ISO: &[u8] = include_bytes!("../probe/testdata/iso9660-plain.head");
const SQUASHFS: &[u8] = include_bytes!("../probe/testdata/squashfs.head");
const EXT4: &[u8] = include_bytes!("../probe/testdata/ext4.head");

/// A machine with a CD labelled "My Disk" holding a flattened image.
fn live_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/sys/class/block/sr1/size", b"0\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
}

fn boot(sys: &FakeSys) -> BootError {
    boot_with_policy(sys).0
}

fn boot_with_policy(sys: &FakeSys) -> (BootError, Policy) {
    let mut policy = Policy::default();
    let err = match run(sys, &mut policy) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    (err, policy)
}

#[test]
fn happy_path_mounts_everything_then_switches_and_execs() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk -- single");
    let err = boot(&sys);
    // The fake's exec fails, so the boot ends there: everything before ran.
    assert_eq!(err.stage, Stage::ExecInit);
    let wanted = [
        "mount proc /proc proc rw",
        "mount devtmpfs /dev devtmpfs rw mode=0755",
        "mount tmpfs /run tmpfs rw mode=0755",
        "mount /dev/sr0 /run/initramfs/live iso9660 ro",
        "symlink /run/initramfs/livedev /dev/sr0",
        "attach /run/initramfs/live/LiveOS/squashfs.img ro",
        "mount /dev/loop0 /run/initramfs/squashfs squashfs ro",
        "mount /run/initramfs/squashfs /run/rootfsbase - bind",
        "symlink /run/overlayfs /run/initramfs/overlay/overlayfs",
        "mount LiveOS_rootfs /sysroot overlay rw \
         lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork",
        "detach /run/initramfs/squashfs",
        "switch_root /sysroot",
        "exec /sbin/init single",
    ];
    let calls = sys.calls();
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
fn a_missing_label_times_out_after_rd_retry_and_names_the_spec() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.retry=3");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindMedium);
    assert_eq!(err.subject, "LABEL=NOPE");
    assert!(err.to_string().contains("within 3 s"), "{err}");
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
fn a_failed_medium_mount_names_the_device_and_errno() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("mount /dev/sr0", Errno::INVAL);
    let err = boot(&sys);
    assert_eq!(
        err.to_string(),
        "mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro): \
         Invalid argument (os error 22)"
    );
}

#[test]
fn a_missing_image_names_the_path_and_what_the_medium_holds() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.live.dir=nowhere");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert_eq!(err.subject, "/run/initramfs/live/nowhere/squashfs.img");
    let text = err.to_string();
    assert!(text.contains("rd.live.dir=nowhere"), "{text}");
    assert!(text.contains("LiveOS"), "{text}");
}

#[test]
fn an_image_that_is_not_squashfs_is_refused_before_attaching() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file("/run/initramfs/live/LiveOS/squashfs.img", EXT4);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert!(err.to_string().contains("is ext4"), "{err}");
    assert!(sys.calls_starting("attach").is_empty());
}

#[test]
fn a_failed_loop_attach_is_reported() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("attach", Errno::NXIO);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert!(err
        .subject
        .starts_with("attach loop <- /run/initramfs/live/LiveOS/squashfs.img"));
}

#[test]
fn an_image_without_a_root_filesystem_is_refused() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::AssembleRoot);
    assert!(err.to_string().contains("neither /usr"), "{err}");
}

#[test]
fn a_missing_init_falls_back_to_sbin_init() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk init=/not/there");
    let _ = boot(&sys);
    assert_eq!(sys.calls_starting("exec"), ["exec /sbin/init "]);
}

#[test]
fn no_init_at_all_stops_before_the_switch() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)]);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::FindInit);
    assert!(
        err.to_string()
            .contains("/sbin/init, /etc/init, /bin/init, /bin/sh"),
        "{err}"
    );
    assert!(sys.calls_starting("switch_root").is_empty());
}

#[test]
fn modules_load_in_listed_order_and_a_failure_is_not_fatal() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file(
        modules::LOAD_LIST,
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
fn a_bad_command_line_stops_at_the_cmdline_stage() {
    let sys = live_machine("root=/dev/sda1");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Cmdline);
    assert!(err.to_string().contains("rd.live.image"), "{err}");
}

#[test]
fn emergency_pauses_then_powers_off() {
    let sys = FakeSys::new();
    let err = BootError::message(Stage::FindMedium, "LABEL=x", "gone");
    emergency::fatal(&sys, &Policy::default(), &err);
    assert_eq!(sys.now(), emergency::PAUSE);
    assert_eq!(sys.calls_starting("power"), ["power poweroff"]);
    assert!(sys.calls_starting("shell").is_empty());
}

/// A disc whose squashfs nests `LiveOS/rootfs.img` (ext4): the classic
/// Fedora layout.
fn nested_machine(cmdline: &str) -> FakeSys {
    let sys = live_machine(cmdline);
    sys.on_mount(
        SQUASH_MNT,
        &[("LiveOS", None), ("LiveOS/rootfs.img", Some(EXT4))],
    );
    sys
}

#[test]
fn nested_rootfs_gets_dracuts_snapshot() {
    let sys =
        nested_machine(r"root=live:CDLABEL=My\x20Disk rd.live.overlay.size=64 rootflags=noatime");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let dm = sys.calls_starting("dm ");
    assert_eq!(
        dm,
        [
            "dm create live-base ro: 0 2048 linear /dev/loop1 0",
            "dm create live-rw: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8",
        ]
    );
    assert_eq!(sys.calls_starting("sparse"), ["sparse /overlay 67108864"]);
    assert!(sys
        .calls()
        .contains(&"mount /dev/mapper/live-rw /sysroot ext4 rw".to_owned()));
    assert!(sys
        .calls()
        .contains(&"symlink /dev/live-base /dev/loop1".to_owned()));
    assert!(sys
        .calls()
        .contains(&"write /run/initramfs/.need_shutdown".to_owned()));
}

#[test]
fn nested_rootfs_with_rd_overlay_uses_overlayfs() {
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk rd.overlay");
    let _ = boot(&sys);
    assert!(sys.calls_starting("dm ").is_empty());
    assert!(sys
        .calls()
        .contains(&"mount /dev/loop1 /run/rootfsbase ext4 ro".to_owned()));
    assert_eq!(sys.calls_starting("mount LiveOS_rootfs").len(), 1);
}

#[test]
fn liveos_without_rootfs_img_is_named() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.on_mount(SQUASH_MNT, &[("LiveOS", None)]);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::AssembleRoot);
    assert!(err.to_string().contains("no LiveOS/rootfs.img"), "{err}");
}

#[test]
fn a_raw_squashfs_device_is_mounted_without_a_medium() {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", b"root=live:/dev/vdb")
        .file("/sys/class/block/vdb/size", b"4096\n")
        .file("/dev/vdb", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys
        .calls_starting("mount /dev/vdb /run/initramfs/live")
        .is_empty());
    assert!(sys.calls_starting("attach").is_empty());
    assert!(sys
        .calls()
        .contains(&"mount /dev/vdb /run/initramfs/squashfs squashfs ro".to_owned()));
    assert!(sys
        .calls()
        .contains(&"symlink /dev/live-base /dev/vdb".to_owned()));
}

#[test]
fn an_uncompressed_rootfs_img_on_the_medium_is_used() {
    let sys = FakeSys::new();
    sys.file(
        "/proc/cmdline",
        br"root=live:CDLABEL=My\x20Disk rd.writable.fsimg",
    )
    .file("/sys/class/block/sr0/size", b"4096\n")
    .file("/dev/sr0", ISO)
    .file("/run/initramfs/live/LiveOS/rootfs.img", EXT4)
    .executable("/sysroot", "/sbin/init");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("copy"),
        ["copy /run/initramfs/live/LiveOS/rootfs.img /run/initramfs/fsimg/rootfs.img"]
    );
    assert_eq!(
        sys.calls_starting("dm "),
        ["dm create live-rw: 0 2048 linear /dev/loop0 0"]
    );
}

#[test]
fn a_failed_dm_create_names_the_table() {
    let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("dm create live-rw", Errno::NODEV);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::AssembleRoot);
    assert_eq!(
        err.subject,
        "dm create live-rw: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8 \
         (/dev/loop1 is /run/initramfs/squashfs/LiveOS/rootfs.img, /dev/loop2 is /overlay)"
    );
}

#[test]
fn cmdline_d_comes_before_proc_cmdline_and_run_after() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.retry=1");
    sys.file(
        "/etc/cmdline.d/10-live.conf",
        b"rd.live.dir=ignored root=live:CDLABEL=Early\n",
    )
    .file("/etc/cmdline.d/notes.txt", b"rd.retry=99")
    .file("/run/initramfs/cmdline.d/90-late.conf", b"rd.retry=2");
    let err = boot(&sys);
    // /proc/cmdline's root= beats the early file; the late file's rd.retry wins.
    assert_eq!(err.subject, "LABEL=NOPE");
    assert!(err.to_string().contains("within 2 s"), "{err}");
}

#[test]
fn bad_option_values_stop_the_boot_naming_the_option() {
    for (value, shown) in [("abc", "abc"), ("0", "0"), ("-5", "-5")] {
        let sys = nested_machine(&format!(
            r"root=live:CDLABEL=My\x20Disk rd.live.overlay.size={value}"
        ));
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::Cmdline);
        assert!(
            err.to_string().contains(&format!(
                "rd.live.overlay.size={shown}: expected a size in MiB"
            )),
            "{err}"
        );
        assert!(sys.calls_starting("mount /dev/sr0").is_empty());
    }
}

/// The machine of `live_machine` with a shell in the initramfs.
fn with_shell(sys: FakeSys) -> FakeSys {
    sys.executable("/", emergency::SHELL);
    sys
}

#[test]
fn each_break_point_opens_a_shell_then_the_boot_goes_on() {
    let expectations = [
        ("cmdline", "load"),
        ("pre-udev", "read /dev/sr0"),
        ("pre-trigger", "read /dev/sr0"),
        ("initqueue", "read /dev/sr0"),
        ("pre-mount", "mount /dev/sr0"),
        ("mount", "attach /run/initramfs/squashfs/LiveOS/rootfs.img"),
        ("pre-pivot", "switch_root"),
        ("cleanup", "switch_root"),
    ];
    for (point, comes_after) in expectations {
        let sys = with_shell(nested_machine(&format!(
            r"root=live:CDLABEL=My\x20Disk rd.break={point}"
        )));
        sys.file(modules::LOAD_LIST, b"/lib/modules/k/a.ko\n");
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::ExecInit, "{point}: {err}");
        let calls = sys.calls();
        let shell = calls
            .iter()
            .position(|c| c == &format!("shell /bin/sh (rd.break={point})"))
            .unwrap_or_else(|| panic!("{point}: no shell in {calls:#?}"));
        let next = calls
            .iter()
            .position(|c| c.starts_with(comes_after))
            .unwrap_or_else(|| panic!("{point}: no {comes_after}"));
        assert!(
            shell < next,
            "{point}: shell must come before {comes_after}"
        );
    }
}

#[test]
fn a_bare_break_stops_just_before_the_switch() {
    let sys = with_shell(live_machine(r"root=live:CDLABEL=My\x20Disk rd.break"));
    let _ = boot(&sys);
    let calls = sys.calls();
    let shell = calls
        .iter()
        .position(|c| c == "shell /bin/sh (rd.break)")
        .unwrap();
    let switch = calls
        .iter()
        .position(|c| c == "switch_root /sysroot")
        .unwrap();
    assert_eq!(shell + 1, switch, "{calls:#?}");
}

#[test]
fn a_break_without_a_shell_is_an_error_naming_the_way_out() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.break=pre-mount rd.emergency=reboot");
    let (err, policy) = boot_with_policy(&sys);
    assert_eq!(err.stage, Stage::Break);
    assert_eq!(err.subject, "rd.break=pre-mount");
    assert!(err.to_string().contains("--busybox"), "{err}");
    assert!(sys.calls_starting("mount /dev/sr0").is_empty());
    emergency::fatal(&sys, &policy, &err);
    assert_eq!(sys.calls_starting("power"), ["power reboot"]);
}

#[test]
fn rd_shell_offers_a_shell_on_fatal_errors_then_acts() {
    let sys = with_shell(live_machine(
        "root=live:CDLABEL=NOPE rd.retry=1 rd.shell rd.emergency=halt",
    ));
    let (err, policy) = boot_with_policy(&sys);
    emergency::fatal(&sys, &policy, &err);
    let calls = sys.calls();
    let shell = calls
        .iter()
        .position(|c| c == "shell /bin/sh (emergency)")
        .unwrap();
    let power = calls.iter().position(|c| c == "power halt").unwrap();
    assert!(shell < power);
}

#[test]
fn fatal_errors_without_rd_shell_start_no_shell_even_if_there_is_one() {
    let sys = with_shell(live_machine("root=live:CDLABEL=NOPE rd.retry=1"));
    let (err, policy) = boot_with_policy(&sys);
    emergency::fatal(&sys, &policy, &err);
    assert!(sys.calls_starting("shell").is_empty());
    assert_eq!(sys.calls_starting("power"), ["power poweroff"]);
}

#[test]
fn the_policy_applies_even_when_the_live_options_are_wrong() {
    let sys = live_machine("root=/dev/sda1 rd.emergency=reboot");
    let (err, policy) = boot_with_policy(&sys);
    assert_eq!(err.stage, Stage::Cmdline);
    assert_eq!(policy.action, crate::policy::EmergencyAction::Reboot);
}

#[test]
fn an_injected_failure_at_every_step_is_reported_with_its_step() {
    // Every system operation the nested (dm snapshot) boot makes, failed in
    // turn: the boot must stop with an error naming that very operation.
    let reference = nested_machine(r"root=live:CDLABEL=My\x20Disk");
    let _ = boot(&reference);
    let operations: Vec<String> = reference
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("read ") && !c.starts_with("exec ") && c != "console")
        .collect();
    assert!(operations.len() > 20, "{operations:#?}");
    for op in operations {
        let sys = nested_machine(r"root=live:CDLABEL=My\x20Disk");
        sys.fail(&op, Errno::IO);
        let err = boot(&sys);
        let text = err.to_string();
        assert!(
            text.contains("Input/output error"),
            "failing `{op}` gave: {text}"
        );
        assert_ne!(err.stage, Stage::ExecInit, "failing `{op}` was not noticed");
    }
}

#[test]
fn rw_on_a_write_protected_medium_falls_back_to_read_only() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rw");
    sys.fail("mount /dev/sr0 /run/initramfs/live iso9660 rw", Errno::ROFS);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("mount /dev/sr0"),
        [
            "mount /dev/sr0 /run/initramfs/live iso9660 rw",
            "mount /dev/sr0 /run/initramfs/live iso9660 ro"
        ]
    );
}

// ---------------------------------------------------------------------------
// Discovery: uevents, modules by need, idle bounds, partitions.

/// A kernel uevent as the netlink socket delivers it.
fn kernel_uevent(action: &str, devpath: &str, keys: &[(&str, &str)]) -> Vec<u8> {
    let mut msg = format!("{action}@{devpath}\0ACTION={action}\0DEVPATH={devpath}\0");
    for (key, value) in keys {
        msg.push_str(&format!("{key}={value}\0"));
    }
    msg.into_bytes()
}

fn block_added(name: &str) -> Vec<u8> {
    kernel_uevent(
        "add",
        &format!("/devices/pci0000:00/0000:00:01.1/block/{name}"),
        &[
            ("SUBSYSTEM", "block"),
            ("DEVNAME", name),
            ("DEVTYPE", "disk"),
        ],
    )
}

/// `live_machine` whose CD drive (`sr0`) shows up only at `at`, announced
/// by a uevent.
fn late_cd_machine(cmdline: &str, at: Duration) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .dir("/sys/class/block")
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys.file_at(at, "/sys/class/block/sr0/size", b"4096\n")
        .file_at(at, "/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file_at(at, "/dev/sr0", ISO)
        .uevent_at(at, &block_added("sr0"));
    sys
}

const PIIX: &str = "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80";
const USB_STICK: &str = "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00";

/// Packs module tables like `cargo xtask initramfs` writes them: an IDE
/// controller's and a CD's drivers, USB storage, and a filesystem stack.
fn with_module_tables(sys: &FakeSys) {
    let k = "/lib/modules/k";
    let dep = format!(
        "{k}/scsi_common.ko:\n\
         {k}/scsi_mod.ko: {k}/scsi_common.ko\n\
         {k}/libata.ko: {k}/scsi_common.ko {k}/scsi_mod.ko\n\
         {k}/ata_piix.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/libata.ko\n\
         {k}/ahci.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/libata.ko\n\
         {k}/cdrom.ko:\n\
         {k}/sr_mod.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/cdrom.ko\n\
         {k}/usb-storage.ko: {k}/scsi_common.ko {k}/scsi_mod.ko\n\
         {k}/isofs.ko: {k}/cdrom.ko\n\
         {k}/loop.ko:\n\
         {k}/squashfs.ko:\n\
         {k}/crc16.ko:\n\
         {k}/ext4.ko: {k}/crc16.ko\n\
         {k}/erofs.ko:\n\
         {k}/overlay.ko:\n\
         {k}/dm-mod.ko:\n\
         {k}/dm-snapshot.ko: {k}/dm-mod.ko\n\
         {k}/dm-thin-pool.ko: {k}/dm-mod.ko\n"
    );
    let aliases = "\
alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v*d*sv*sd*bc01sc06i01* ahci
alias scsi:t-0x05* sr_mod
alias scsi:t-0x04* sr_mod
alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage
alias fs-iso9660 isofs
alias fs-squashfs squashfs
alias fs-ext4 ext4
alias fs-ext2 ext4
alias fs-erofs erofs
alias fs-overlay overlay
alias devname:loop-control loop
alias dm-snapshot-origin dm_snapshot
";
    sys.file(modules::DEPS, dep.as_bytes())
        .file(modules::ALIASES, aliases.as_bytes())
        .file(modules::LOAD_LIST, b"# nothing on every boot\n");
}

/// Where the load of `module` is in `calls`, asserting it is there.
fn load_position(calls: &[String], module: &str) -> usize {
    position(calls, &format!("load /lib/modules/k/{module}.ko"))
}

/// The module names loaded, in order.
fn loaded(sys: &FakeSys) -> Vec<String> {
    sys.calls_starting("load ")
        .iter()
        .map(|c| crate::kmod::module_name(c.trim_start_matches("load ")))
        .collect()
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:#?}"))
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
    let text = err.to_string();
    assert!(text.contains("nothing new appeared for 5 s"), "{text}");
    assert!(text.contains("rd.liveinit.idle="), "{text}");

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
    assert!(err.to_string().contains("within 20 s"), "{err}");
    // rd.retry stays the cap when the idle time is longer, however long.
    for idle in ["60", "1e18"] {
        let sys = live_machine(&format!(
            "root=live:CDLABEL=NOPE rd.liveinit.idle={idle} rd.liveinit.idle.slow={idle} rd.retry=7"
        ));
        let err = boot(&sys);
        assert_eq!(sys.now(), Duration::from_secs(7));
        assert!(err.to_string().contains("within 7 s"), "{err}");
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
    sys.file(modules::ALIASES, b"alias fs-squashfs squashfs\n");
    sys.fail("mount /dev/sr0 /run/initramfs/live", Errno::NODEV);
    let err = boot(&sys);
    assert_eq!(
        err.to_string(),
        "mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro): \
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
            .ends_with("iso9660, ro): No such device (os error 19)"),
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
fn a_removed_device_leaves_the_report() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.liveinit.idle=3");
    let removed = kernel_uevent(
        "remove",
        "/devices/pci0000:00/0000:00:01.1/block/sr0",
        &[("SUBSYSTEM", "block"), ("DEVNAME", "sr0")],
    );
    sys.uevent_at(Duration::from_secs(1), &removed);
    let err = boot(&sys);
    assert!(err.to_string().contains("0 devices seen"), "{err}");
}

/// A device image from a probe fixture's head and extents (see
/// `probe::testutil::Image`), cut to `len` bytes.
fn fixture_image(head: &[u8], extents: &[u8], len: usize) -> Vec<u8> {
    let mut image = head.to_vec();
    image.resize(len, 0);
    let mut rest = &extents[8..];
    while !rest.is_empty() {
        let offset = usize::try_from(u64::from_le_bytes(rest[..8].try_into().unwrap())).unwrap();
        let n = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
        if offset + n <= len {
            image[offset..offset + n].copy_from_slice(&rest[12..12 + n]);
        }
        rest = &rest[12 + n..];
    }
    image
}

#[test]
fn partuuid_and_partlabel_come_from_the_disks_table_without_uevent_keys() {
    // Debian 6.1: a partition's uevent has PARTN (and PARTNAME), no PARTUUID.
    let gpt = fixture_image(
        include_bytes!("../probe/testdata/gpt.head"),
        include_bytes!("../probe/testdata/gpt.extents"),
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
        include_bytes!("../probe/testdata/gpt.head"),
        include_bytes!("../probe/testdata/gpt.extents"),
        2 << 20,
    );
    let sys = FakeSys::new();
    sys.file("/sys/class/block/vda/size", b"4096\n")
        .file("/dev/vda", &gpt)
        .file("/sys/class/block/vda2/size", b"512\n")
        .file("/sys/class/block/vda2/partition", b"2\n")
        .file("/sys/class/block/vda2/../uevent", b"DEVNAME=vda\n")
        .file("/dev/vda2", EXT4);
    let seen = discover::scan(&sys);
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
        include_bytes!("../probe/testdata/fat32.head"),
        include_bytes!("../probe/testdata/fat32.extents"),
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
fn listed_and_likely_modules_load_in_the_background_except_what_a_driver_needs_too() {
    let sys = late_cd_machine(r"root=live:CDLABEL=My\x20Disk", Duration::from_millis(1500));
    with_module_tables(&sys);
    // isofs on every boot: its dependency cdrom is sr_mod's too.
    sys.file(
        modules::LOAD_LIST,
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

/// The ISO on a virtio disk: no optical drive, so the short idle applies.
fn disk_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/vda/size", b"4096\n")
        .file("/sys/class/block/vda/uevent", b"DEVNAME=vda\n")
        .file("/dev/vda", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
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
fn a_failing_mount_of_a_loop_names_the_file_behind_it() {
    // A truncated image: its superblock probes fine, the mount fails.
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("mount /dev/loop0 /run/initramfs/squashfs", Errno::INVAL);
    let err = boot(&sys);
    assert_eq!(
        err.to_string(),
        "mount image: mount /dev/loop0 -> /run/initramfs/squashfs (squashfs, ro) \
         (/dev/loop0 is /run/initramfs/live/LiveOS/squashfs.img): Invalid argument (os error 22)"
    );
}
