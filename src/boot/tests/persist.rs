//! Persistent overlays: found, recognised, stacked, and every way of not
//! finding one ending in a temporary overlay with a warning.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

const PERSIST: &str = "/run/initramfs/overlayfs";

/// `live_machine` (or the nested one) plus an ext4 disk `vdb` whose
/// filesystem holds `entries` once mounted.
fn with_disk(sys: FakeSys, entries: &[(&str, Option<&[u8]>)]) -> FakeSys {
    sys.file("/sys/class/block/vdb/size", b"65536\n")
        .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
        .file("/dev/vdb", EXT4)
        .on_mount(PERSIST, entries);
    sys
}

const CD: &str = r"root=live:CDLABEL=My\x20Disk";

fn booted(sys: &FakeSys) {
    let err = boot(sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}\n{:#?}", sys.calls());
}

fn overlay_mount(lower: &str) -> String {
    format!(
        "mount LiveOS_rootfs /sysroot overlay rw \
         lowerdir={lower},upperdir=/run/overlayfs,workdir=/run/ovlwork"
    )
}

#[test]
fn a_directory_with_ovlwork_beside_it_is_the_upper_dir() {
    let sys = with_disk(
        live_machine(&format!("{CD} rd.overlay=/dev/vdb:/LiveOS/up")),
        &[("LiveOS/up/etc", None), ("LiveOS/ovlwork", None)],
    );
    booted(&sys);
    let calls = sys.calls();
    assert!(
        calls.contains(&format!("mount /dev/vdb {PERSIST} ext4 rw")),
        "{calls:#?}"
    );
    assert!(calls.contains(&format!("symlink /run/overlayfs {PERSIST}/LiveOS/up")));
    assert!(calls.contains(&format!("symlink /run/ovlwork {PERSIST}/LiveOS/ovlwork")));
    assert!(calls.contains(&overlay_mount("/run/rootfsbase")));
    assert!(sys.calls_starting("clear").is_empty());
    // The medium is not the overlay's device: it stays read-only.
    assert!(calls
        .iter()
        .any(|c| c.starts_with("mount /dev/sr0 /run/initramfs/live iso9660 ro")));
    assert!(sys
        .read_file("/run/initramfs/persistent-overlay")
        .is_ok_and(|t| String::from_utf8_lossy(&t).contains("/LiveOS/up on /dev/vdb")));
}

#[test]
fn reset_empties_the_dirs_and_readonly_stacks_them_under_a_temporary_upper() {
    let entries: &[(&str, Option<&[u8]>)] = &[("up/old", Some(b"x")), ("ovlwork", None)];
    let sys = with_disk(
        live_machine(&format!("{CD} rd.overlay=/dev/vdb:up rd.overlay.reset")),
        entries,
    );
    booted(&sys);
    assert_eq!(
        sys.calls_starting("clear"),
        [
            format!("clear {PERSIST}/up"),
            format!("clear {PERSIST}/ovlwork")
        ]
    );
    assert_eq!(
        sys.file_kind(&format!("{PERSIST}/up")),
        Some(crate::sys::FileKind::Dir)
    );

    let sys = with_disk(
        live_machine(&format!(
            "{CD} rd.overlay=/dev/vdb:up rd.overlay.readonly rd.overlay.reset"
        )),
        entries,
    );
    booted(&sys);
    let calls = sys.calls();
    assert!(
        calls.contains(&format!("mount /dev/vdb {PERSIST} ext4 ro")),
        "{calls:#?}"
    );
    assert!(
        sys.calls_starting("clear").is_empty(),
        "read-only wins over reset"
    );
    assert!(calls.contains(&format!("symlink /run/overlayfs-r {PERSIST}/up")));
    assert!(calls.contains(&"symlink /run/overlayfs /run/initramfs/overlay/overlayfs".to_owned()));
    assert!(calls.contains(&overlay_mount("/run/overlayfs-r:/run/rootfsbase")));
}

#[test]
fn an_image_file_is_mounted_in_the_devices_place() {
    let sys = with_disk(
        live_machine(&format!("{CD} rd.overlay=/dev/vdb:/persist.img")),
        &[
            ("persist.img", Some(EXT4)),
            ("overlayfs", None),
            ("ovlwork", None),
        ],
    );
    booted(&sys);
    let calls = sys.calls();
    let at = |c: &str| calls.iter().position(|x| x == c);
    let attach = at(&format!("attach {PERSIST}/persist.img rw")).expect("attached");
    let detach = at(&format!("detach {PERSIST}")).expect("detached");
    let mount = calls
        .iter()
        .position(|c| c.starts_with("mount /dev/loop") && c.contains(&format!("{PERSIST} ext4 rw")))
        .expect("mounted");
    assert!(attach < detach && detach < mount, "{calls:#?}");
    assert!(calls.contains(&format!("symlink /run/overlayfs {PERSIST}/overlayfs")));
}

#[test]
fn a_cow_store_backs_the_snapshot() {
    let sys = with_disk(
        nested_machine(&format!("{CD} rd.live.overlay=/dev/vdb:/cow")),
        &[("cow", Some(&[0u8; 4096]))],
    );
    booted(&sys);
    let dm = sys.calls_starting("dm create");
    assert_eq!(dm.len(), 2, "{dm:?}");
    let mut header = vec![0u8; 4096];
    header[..16].copy_from_slice(b"SnAp\x01\0\0\0\x01\0\0\0\x08\0\0\0");
    assert!(
        dm[1].starts_with("dm create live-rw: 0 2048 snapshot /dev/loop1 /dev/loop2 PO 8"),
        "{dm:?}"
    );
    assert!(sys.calls_starting("sparse").is_empty(), "no temporary COW");
    assert!(sys.calls().contains(&format!("attach {PERSIST}/cow rw")));

    // Reset zeroes its head; read-only puts it under a temporary live-rw.
    let sys = with_disk(
        nested_machine(&format!(
            "{CD} rd.live.overlay=/dev/vdb:/cow rd.overlay.reset"
        )),
        &[("cow", Some(&header))],
    );
    booted(&sys);
    assert_eq!(
        sys.calls_starting("zero"),
        [format!("zero {PERSIST}/cow 65536")]
    );

    let mut header = vec![0u8; 4096];
    header[..16].copy_from_slice(b"SnAp\x01\0\0\0\x01\0\0\0\x08\0\0\0");
    let sys = with_disk(
        nested_machine(&format!(
            "{CD} rd.live.overlay=/dev/vdb:/cow rd.overlay.readonly"
        )),
        &[("cow", Some(&header))],
    );
    booted(&sys);
    let dm = sys.calls_starting("dm create");
    assert!(
        dm[1].starts_with("dm create live-ro ro: 0 2048 snapshot /dev/loop1 /dev/loop2 P 8"),
        "{dm:?}"
    );
    assert!(
        dm[2].starts_with("dm create live-rw: 0 2048 snapshot /dev/mapper/live-ro /dev/loop3 PO 8"),
        "{dm:?}"
    );
}

#[test]
fn a_full_or_invalid_cow_store_is_reported_and_not_used() {
    // 2 areas' worth: a 64 KiB store of 4 KiB chunks has 16 chunks; the
    // exceptions use chunks 2..=15: full.
    let mut store = vec![0u8; 64 * 1024];
    store[..16].copy_from_slice(b"SnAp\x01\0\0\0\x01\0\0\0\x08\0\0\0");
    for (i, chunk) in (2u64..16).enumerate() {
        let at = 4096 + i * 16 + 8;
        store[at..at + 8].copy_from_slice(&chunk.to_le_bytes());
    }
    let mut invalid = store.clone();
    invalid[4] = 0;
    for (store, why) in [(&store, "is full"), (&invalid, "marked invalid")] {
        let sys = with_disk(
            nested_machine(&format!("{CD} rd.live.overlay=/dev/vdb:/cow")),
            &[("cow", Some(store))],
        );
        booted(&sys);
        assert!(sys.calls().contains(&format!("detach {PERSIST}")), "{why}");
        assert_eq!(
            sys.calls_starting("sparse"),
            ["sparse /overlay 34359738368"]
        );
        assert!(
            !sys.calls()
                .iter()
                .any(|c| c.contains(&format!("attach {PERSIST}"))),
            "{why}"
        );
    }
}

#[test]
fn nothing_there_means_a_temporary_overlay() {
    for (cmdline, entries) in [
        // No such path.
        (
            format!("{CD} rd.overlay=/dev/vdb:/nope"),
            &[("x", None)][..],
        ),
        // A directory without ovlwork beside it.
        (format!("{CD} rd.overlay=/dev/vdb:/up"), &[("up", None)][..]),
        // A file that is neither a filesystem nor a COW store.
        (
            format!("{CD} rd.overlay=/dev/vdb:/junk"),
            &[("junk", Some(&b"junk"[..]))][..],
        ),
        // A COW store under a flattened image.
        (
            format!("{CD} rd.overlay=/dev/vdb:/cow"),
            &[("cow", Some(&[0u8; 64][..]))][..],
        ),
    ] {
        let sys = with_disk(live_machine(&cmdline), entries);
        booted(&sys);
        assert!(
            sys.calls()
                .contains(&"symlink /run/overlayfs /run/initramfs/overlay/overlayfs".to_owned()),
            "{cmdline}: {:#?}",
            sys.calls()
        );
        assert!(
            sys.calls().contains(&format!("detach {PERSIST}")),
            "{cmdline}"
        );
    }
}

#[test]
fn no_such_device_means_a_temporary_overlay_after_the_bounded_wait() {
    let sys = live_machine(&format!("{CD} rd.overlay=LABEL=nowhere rd.liveinit.idle=1"));
    booted(&sys);
    assert!(!sys.calls().iter().any(|c| c.contains(PERSIST)));
    assert!(sys
        .calls()
        .contains(&"symlink /run/overlayfs /run/initramfs/overlay/overlayfs".to_owned()));
    // Given up on as the medium would be: 15 s without news once an
    // optical drive is there (rd.liveinit.idle.slow).
    assert!(
        sys.now() <= Duration::from_secs(16),
        "waited {:?}",
        sys.now()
    );
}

#[test]
fn a_read_only_medium_cannot_hold_the_overlay() {
    let sys = live_machine(&format!(r"{CD} rd.overlay=CDLABEL=My\x20Disk"));
    booted(&sys);
    assert!(!sys.calls().iter().any(|c| c.contains(PERSIST)));
    assert!(sys
        .calls()
        .iter()
        .any(|c| c.starts_with("mount /dev/sr0 /run/initramfs/live iso9660 ro")));
}
