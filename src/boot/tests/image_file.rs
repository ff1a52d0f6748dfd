//! `root=live:/x.img`: an image file in the initramfs, booted like the
//! image on a medium (the door a downloaded network image goes through).

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

fn image_machine(cmdline: &str, image: &[u8]) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/images/live.img", image)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:#?}"))
}

#[test]
fn a_squashfs_file_is_attached_mounted_and_overlaid() {
    let sys = image_machine("root=live:/images/live.img rd.live.ram", SQUASHFS);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let link = position(&calls, "symlink /run/initramfs/livedev /images/live.img");
    let attached = position(&calls, "attach /images/live.img ro");
    let mounted = position(
        &calls,
        "mount /dev/loop0 /run/initramfs/squashfs squashfs ro",
    );
    assert!(link < attached && attached < mounted, "{calls:#?}");
    // No discovery, no medium, and no second copy for rd.live.ram.
    assert!(sys.calls_starting("mount /dev/sr").is_empty(), "{calls:#?}");
    assert!(sys.calls_starting("copy").is_empty(), "{calls:#?}");
    assert!(
        sys.calls_starting("mount LiveOS_rootfs /sysroot overlay")
            .len()
            == 1,
        "{calls:#?}"
    );
}

#[test]
fn an_ext4_file_is_the_root_filesystem_image() {
    let sys = image_machine("root=live:/images/live.img", EXT4);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    position(&calls, "attach /images/live.img ro");
    assert!(sys
        .calls_starting("mount /dev/loop0 /run/initramfs/squashfs")
        .is_empty());
    assert_eq!(
        sys.calls_starting("dm create live-rw").len(),
        1,
        "{calls:#?}"
    );
}

#[test]
fn a_file_with_no_filesystem_is_refused_by_name() {
    let sys = image_machine("root=live:/images/live.img", b"<html>nope</html>");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage, "{err}");
    assert_eq!(err.subject, "/images/live.img");
    assert_eq!(err.cause, Cause::NoFilesystem);
}

#[test]
fn a_missing_file_names_it() {
    let sys = image_machine("root=live:/images/other.img", SQUASHFS);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::MountImage, "{err}");
    assert_eq!(err.cause, Cause::Sys(Errno::NOENT));
}
