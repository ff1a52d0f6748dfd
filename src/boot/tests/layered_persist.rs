//! live-boot's and casper's persistence against the fake: volumes found
//! by label, GPT name or image file; `persistence.conf` carried out; and
//! every missing or unusable volume ending in the tmpfs with a warning.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

/// The ext4 fixture with its label replaced.
pub(super) fn ext4_labelled(label: &str) -> Vec<u8> {
    let mut fs = EXT4.to_vec();
    let at = 1024 + 120;
    fs[at..at + 16].fill(0);
    fs[at..at + label.len()].copy_from_slice(label.as_bytes());
    // Sealed again: the superblock's checksum (metadata_csum) covers it.
    let crc = crc32c(&fs[1024..1024 + 0x3FC]);
    fs[1024 + 0x3FC..1024 + 0x400].copy_from_slice(&crc.to_le_bytes());
    fs
}

/// CRC-32C seeded with !0, not inverted at the end, as ext4 seals it.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

/// A CD holding `live/filesystem.squashfs` (or `casper/…`), and a disk
/// `vdb` with `fs` on it.
fn machine(cmdline: &str, dir: &str, fs: &[u8]) -> FakeSys {
    let sys = FakeSys::new();
    let medium = if dir == "live" {
        "/run/live/medium"
    } else {
        "/cdrom"
    };
    let image = format!("{dir}/filesystem.squashfs");
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/dev/sr0", ISO)
        .on_mount(medium, &[(dir, None), (&image, Some(SQUASHFS))])
        .file("/sys/class/block/vdb/size", b"65536\n")
        .file("/sys/class/block/vdb/uevent", b"DEVNAME=vdb\n")
        .file("/dev/vdb", fs)
        .executable("/sysroot", "/sbin/init");
    sys
}

fn booted(sys: &FakeSys) -> Vec<String> {
    let err = boot(sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}\n{:#?}", sys.calls());
    sys.calls()
}

fn has(calls: &[String], want: &str) {
    assert!(
        calls.iter().any(|c| c == want),
        "missing {want}\n{calls:#?}"
    );
}

const VOL: &str = "/run/live/persistence/vdb";

#[test]
fn a_persistence_volume_with_root_union_holds_the_upper_layer() {
    let sys = machine(
        "boot=live persistence",
        "live",
        &ext4_labelled("persistence"),
    );
    sys.on_mount(VOL, &[("persistence.conf", Some(b"/ union\n"))]);
    let calls = booted(&sys);
    has(&calls, &format!("mount /dev/vdb {VOL} ext4 rw"));
    has(
        &calls,
        &format!(
            "mount overlay /sysroot overlay rw lowerdir=/run/live/rootfs/filesystem.squashfs,\
             upperdir={VOL}/rw,workdir={VOL}/work,redirect_dir=on"
        ),
    );
    let state = sys.read_file("/run/initramfs/persistent-overlay").unwrap();
    assert!(String::from_utf8_lossy(&state).contains("/ union on /dev/vdb (LABEL=persistence)"));
}

#[test]
fn home_bind_and_read_only() {
    let sys = machine(
        "boot=live persistence persistence-read-only",
        "live",
        &ext4_labelled("persistence"),
    );
    sys.on_mount(
        VOL,
        &[
            (
                "persistence.conf",
                Some(b"/ union\n/home bind source=h\n/x link\n"),
            ),
            ("rw", None),
        ],
    );
    let calls = booted(&sys);
    has(&calls, &format!("mount /dev/vdb {VOL} ext4 ro"));
    assert!(calls
        .iter()
        .any(|c| c.contains(&format!("lowerdir={VOL}/rw:/run/live/rootfs"))));
    // The read-only volume's missing h/ is not created, and link is named.
    assert!(
        !calls.iter().any(|c| c.contains("/sysroot/home")),
        "{calls:#?}"
    );

    let sys = machine(
        "boot=live persistence",
        "live",
        &ext4_labelled("persistence"),
    );
    sys.on_mount(
        VOL,
        &[("persistence.conf", Some(b"/home bind\n")), ("home", None)],
    );
    let calls = booted(&sys);
    has(&calls, &format!("mount {VOL}/home /sysroot/home - bind"));
    assert!(calls
        .iter()
        .any(|c| c.contains("upperdir=/run/live/overlay/rw")));
}

#[test]
fn a_volume_without_persistence_conf_or_with_another_label_is_not_used() {
    // A dracut rd.overlay volume, even labelled `persistence`.
    let sys = machine(
        "boot=live persistence",
        "live",
        &ext4_labelled("persistence"),
    );
    sys.on_mount(VOL, &[("LiveOS/overlay-x", None), ("LiveOS/ovlwork", None)]);
    let calls = booted(&sys);
    has(&calls, &format!("umount {VOL}"));
    assert!(calls
        .iter()
        .any(|c| c.contains("upperdir=/run/live/overlay/rw")));
    assert!(sys.read_file("/run/initramfs/persistent-overlay").is_err());

    // casper's `writable`, under live-boot: looked in for a file only.
    let sys = machine("boot=live persistence", "live", &ext4_labelled("writable"));
    let calls = booted(&sys);
    assert!(!calls.iter().any(|c| c.contains(VOL)), "{calls:#?}");

    // nopersistence: not even looked for.
    let sys = machine(
        "boot=live persistence nopersistence",
        "live",
        &ext4_labelled("persistence"),
    );
    let calls = booted(&sys);
    assert!(!calls.iter().any(|c| c.contains("/run/live/persistence")));
}

#[test]
fn an_image_file_on_a_partition_is_a_volume() {
    let sys = machine("boot=live persistence", "live", &ext4_labelled("other"));
    let file = ext4_labelled("x");
    sys.on_mount("/persistence-probe", &[("persistence", Some(&file))])
        .on_mount(VOL, &[("persistence", Some(&file))])
        .on_mount(
            "/run/live/persistence/loop1",
            &[("persistence.conf", Some(b"/ union\n"))],
        );
    let calls = booted(&sys);
    has(&calls, "mount /dev/vdb /persistence-probe ext4 ro");
    has(&calls, &format!("mount /dev/vdb {VOL} ext4 rw"));
    has(&calls, &format!("attach {VOL}/persistence rw"));
    has(
        &calls,
        "mount /dev/loop1 /run/live/persistence/loop1 ext4 rw",
    );
    assert!(calls
        .iter()
        .any(|c| c.contains("upperdir=/run/live/persistence/loop1/rw")));
}

#[test]
fn a_volume_that_cannot_be_mounted_leaves_the_tmpfs() {
    let sys = machine(
        "boot=live persistence",
        "live",
        &ext4_labelled("persistence"),
    );
    sys.fail(&format!("mount /dev/vdb {VOL}"), Errno::IO);
    let calls = booted(&sys);
    assert!(calls
        .iter()
        .any(|c| c.contains("upperdir=/run/live/overlay/rw")));
}

#[test]
fn casper_puts_upper_on_writable() {
    let sys = machine(
        "boot=casper persistent",
        "casper",
        &ext4_labelled("writable"),
    );
    sys.on_mount("/cow", &[("lost+found", None)]);
    let calls = booted(&sys);
    has(&calls, "mount /dev/vdb /cow ext4 rw");
    assert!(!calls.iter().any(|c| c.starts_with("mount tmpfs /cow")));
    has(
        &calls,
        "mount /cow /sysroot overlay rw lowerdir=/filesystem.squashfs,\
         upperdir=/cow/upper,workdir=/cow/work",
    );

    // Without a volume: a warning and the tmpfs; nothing is created.
    let sys = machine(
        "boot=casper persistent",
        "casper",
        &ext4_labelled("persistence"),
    );
    let calls = booted(&sys);
    assert!(calls.iter().any(|c| c.starts_with("mount tmpfs /cow")));
    assert!(!calls.iter().any(|c| c.starts_with("mount /dev/vdb /cow")));

    let sys = machine(
        "boot=casper nopersistent",
        "casper",
        &ext4_labelled("writable"),
    );
    let calls = booted(&sys);
    assert!(!calls.iter().any(|c| c.starts_with("mount /dev/vdb")));
}
