//! Hostile media: symlinks that lead the image lookup off the medium.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

/// `live_machine` whose medium has no `LiveOS` directory but a `LiveOS`
/// symlink to `target`; the initramfs has a squashfs at `/etc/squashfs.img`.
fn linked_machine(target: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", br"root=live:CDLABEL=My\x20Disk")
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/dev/sr0", ISO)
        .dir("/run/initramfs/live")
        .link("/run/initramfs/live/LiveOS", target)
        .file("/etc/squashfs.img", SQUASHFS)
        .file("/run/initramfs/live/boot/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
}

#[test]
fn a_directory_symlink_leading_off_the_medium_is_not_followed() {
    for target in ["/etc", "../../../../etc", "../../../etc"] {
        let sys = linked_machine(target);
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::MountImage, "{target}: {err}");
        assert!(
            matches!(err.cause, Cause::ImageNotFound(_)),
            "{target}: {err}"
        );
        assert!(sys.calls_starting("attach").is_empty(), "{target}");
    }
}

#[test]
fn a_symlink_that_stays_on_the_medium_is_followed() {
    let sys = linked_machine("boot/LiveOS");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.calls_starting("attach"),
        ["attach /run/initramfs/live/LiveOS/squashfs.img ro"]
    );
}

#[test]
fn a_nested_rootfs_img_linked_out_of_the_image_is_not_used() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk");
    sys.file("/etc/rootfs.img", EXT4)
        .dir(SQUASH_MNT)
        .link(&format!("{SQUASH_MNT}/LiveOS"), "/etc");
    let err = boot(&sys);
    // Flattened (the image has /usr), never the initramfs's ext4 file.
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls_starting("attach /etc").is_empty());
    assert!(sys
        .calls_starting("attach")
        .iter()
        .all(|c| !c.contains("rootfs.img")));
}
