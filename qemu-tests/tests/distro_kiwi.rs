//! kiwi's persistence (distro-live-spec §4.2 step 3, fixture K2): the
//! replica ISO as a hybrid image written to a stick (virtio disk `vda`),
//! booted with kiwi's own command line (`rd.live.overlay.persistent
//! rd.live.overlay.cowfs=ext4`).
//!
//! - With an ext4 partition labelled `cow` behind the ISO (`vda2`, empty):
//!   it is mounted at `/run/overlay/overlayfs` (the ISO through `vda1`), `rw/` and `work/` are made
//!   on it, and a marker the probe writes in the first boot is seen by the
//!   second.
//! - Without one: one warning that kiwi would have made it and liveinit
//!   does not; the writable layer stays in the tmpfs (kiwi's temporary
//!   mode), and a `cow` filesystem on another disk is left alone.
//!
//! The CD (temporary mode) is booted by `distro.rs` (`kiwi_cd`). Media
//! under `target/qemu-tests/media-distro-kiwi/`; the stick is rebuilt by
//! each run (the boots write to it). Console logs:
//! `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{probe_root, shared, virtio_ro, Shared};
use qemu_tests::kiwi::{check_kiwi_state, kiwi_images, kiwi_stick};
use qemu_tests::media::{mkfs_ext4, Layout, LiveImages, LiveRoot};
use qemu_tests::out_dir;
use qemu_tests::persist::{boot_marking, virtio_rw, NO_MARKER};

const CMDLINE: &str =
    "root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent rd.live.overlay.cowfs=ext4";

fn media_dir() -> PathBuf {
    out_dir().join("media-distro-kiwi")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

/// The ISO's files: `LiveOS/squashfs.img` holding an ext4 `rootfs.img`.
fn images() -> &'static LiveImages {
    static C: Shared<LiveImages> = OnceLock::new();
    shared(&C, "kiwi images", || {
        kiwi_images(root(), Layout::NestedExt4, &media_dir().join("kiwi.iso"))
    })
}

#[test]
fn the_cow_partition_keeps_the_root_across_reboots() {
    let stick = media_dir().join("kiwi-stick-cow.img");
    kiwi_stick(images(), Some(8), &stick).expect("building the kiwi stick");
    for (name, mark, before) in [
        ("kiwi-cow-1", "one", NO_MARKER),
        ("kiwi-cow-2", "two", "one"),
    ] {
        let b = boot_marking(name, vec![virtio_rw(&stick)], CMDLINE, mark, before);
        // The ISO through its partition: no partition of a disk can be
        // mounted while the whole disk is.
        check_kiwi_state(&b, "/dev/vda1", "ext4", None);
        let cow = b.report.mount_at("/run/overlay/overlayfs");
        b.check(
            cow.is_some_and(|m| {
                m.source == "/dev/vda2" && m.fstype == "ext4" && m.has_option("rw")
            }),
            &format!("/run/overlay/overlayfs is not the cow partition vda2, rw: {cow:?}"),
        );
        b.check(
            b.ended.has_line(&[
                "rd.live.overlay.persistent: the writable layer is on /dev/vda2 (LABEL=cow)",
            ]),
            "no line naming the cow partition as the writable layer",
        );
    }
}

#[test]
fn without_a_cow_partition_none_is_made_and_the_root_is_in_ram() {
    let stick = media_dir().join("kiwi-stick.img");
    kiwi_stick(images(), None, &stick).expect("building the kiwi stick");
    // A `cow` filesystem on another disk: not the medium's, left alone.
    let empty = media_dir().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let other = media_dir().join("other-cow.img");
    mkfs_ext4(&empty, &other, 8, Some("cow")).expect("building the other cow");
    let b = boot_marking(
        "kiwi-no-cow",
        vec![virtio_ro(stick.clone()), virtio_rw(&other)],
        CMDLINE,
        "one",
        NO_MARKER,
    );
    check_kiwi_state(&b, "/dev/vda", "ext4", None);
    b.check(
        b.report.mount_at("/run/overlay/overlayfs").is_none(),
        "something is mounted at /run/overlay/overlayfs",
    );
    b.check(
        !b.report
            .mounts
            .iter()
            .any(|m| m.source.starts_with("/dev/vdb")),
        "the other disk's cow filesystem is mounted",
    );
    b.check(
        b.ended.has_line(&[
            "/dev/vda has no partition labelled cow; kiwi would create one",
            "liveinit never partitions nor formats a disk",
            "kiwi's temporary mode",
        ]),
        "no warning that kiwi would have made the cow partition and liveinit does not",
    );
}
