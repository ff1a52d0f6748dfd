//! The boot sequence end to end: the happy path, each step's failure
//! named with its subject, the command line's sources, the hand-off.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

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
fn a_failed_medium_mount_names_the_device_and_errno() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.fail("mount /dev/sr0", Errno::INVAL);
    let err = boot(&sys);
    assert_eq!(
        err.to_string(),
        "mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro, nosuid, nodev): \
         Invalid argument (os error 22)"
    );
}

#[test]
fn a_missing_image_names_the_path_and_what_the_medium_holds() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.live.dir=nowhere");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert_eq!(err.subject, "/run/initramfs/live/nowhere/squashfs.img");
    let Cause::ImageNotFound(missing) = &err.cause else {
        panic!("{err}");
    };
    assert_eq!(missing.live_dir, "nowhere");
    assert!(
        missing.top_level.iter().any(|name| name == "LiveOS"),
        "{err}"
    );
}

#[test]
fn an_image_that_is_not_squashfs_is_refused_before_attaching() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file("/run/initramfs/live/LiveOS/squashfs.img", EXT4);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage);
    assert_eq!(err.cause, Cause::NotCompressed(crate::probe::FsType::Ext4));
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
    assert_eq!(
        err.cause,
        Cause::NoRoot(crate::plan::image::NoRoot::Nothing)
    );
}

#[test]
fn a_missing_init_falls_back_to_sbin_init() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk init=/not/there");
    let _ = boot(&sys);
    assert_eq!(sys.calls_starting("exec"), ["exec /sbin/init "]);
}

#[test]
fn a_relative_init_is_run_by_the_path_it_was_checked_at() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk init=usr/lib/systemd/systemd");
    sys.executable("/sysroot", "/usr/lib/systemd/systemd");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("exec").first().map(String::as_str),
        Some("exec /usr/lib/systemd/systemd ")
    );
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
    assert_eq!(
        err.cause,
        Cause::NoInit {
            tried: ["/sbin/init", "/etc/init", "/bin/init", "/bin/sh"]
                .map(String::from)
                .to_vec()
        }
    );
    assert!(sys.calls_starting("switch_root").is_empty());
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
    assert!(
        matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(2)),
        "{err}"
    );
}

#[test]
fn a_stray_quote_in_a_conf_file_does_not_swallow_the_kernels_command_line() {
    let sys = live_machine("root=live:CDLABEL=NOPE rd.retry=1");
    sys.file("/etc/cmdline.d/10-bad.conf", b"rd.live.dir=\"unclosed\n");
    let err = boot(&sys);
    assert_eq!(err.subject, "LABEL=NOPE", "{err}");
    assert!(
        matches!(err.cause, Cause::NoMatchInTime { retry, .. } if retry == Duration::from_secs(1)),
        "{err}"
    );
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
