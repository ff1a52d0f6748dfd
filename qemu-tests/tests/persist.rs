//! Persistent overlays (docs/dracut-live.md §3.5, §3.6): the same writable
//! disk image booted several times, the probe leaving a marker in `/` each
//! time (written and fsynced) and reporting the one the previous boot left.
//!
//! - the overlayfs directory form on an ext4 stick that is also the medium:
//!   a clean power-off, then a power cut (QEMU killed once the marker is
//!   synced), then `rd.overlay.readonly` (the marker of that boot must not
//!   survive), then dracut's old spellings with `rd.live.overlay.reset`;
//! - the image form: an ext4 image holding `overlayfs/` and `ovlwork/` on a
//!   FAT32 USB stick that is also the medium: a clean power-off, then a
//!   power cut;
//! - the device-mapper form: Fedora's `overlay-<LABEL>-<UUID>` COW store on
//!   a FAT32 disk beside a CD, named by the old `rd.live.overlay=`: a clean
//!   power-off, then a power cut; then filled until it overflows: the next boot reports it and runs on a
//!   temporary overlay, and `rd.overlay.readonly` still shows its data;
//! - persistence asked for but missing (no such device, no such path): a
//!   warning naming what was looked for, and a temporary overlay.
//!
//! Media under `target/qemu-tests/media-persist/`, rebuilt by each test
//! (the boots write to them). Console logs: `target/qemu-tests/<case>.log`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use qemu_tests::harness::{cdrom, probe_root, Case, Probed, Shared};
use qemu_tests::media::{
    ext4_disk, fat_disk, fat_put, mkfs_ext4, zero_file, Image, IsoBuilder, Layout, LiveImages,
    LiveRoot,
};
use qemu_tests::out_dir;
use qemu_tests::persist::{printed, BEFORE, CUT_MARKER, CUT_PARAM, MARK_PARAM, NO_MARKER, WROTE};
use qemu_tests::qemu::{self, Drive};
use qemu_tests::report::RunKind;

const DIR_LABEL: &str = "LIVEPERSIST";
const DIR_UUID: &str = "6c1d2e0a-51f4-4b8e-9a57-0f3b1c2d4e5f";
const IMG_LABEL: &str = "LIVEFATIMG";
const IMG_VOLID: &str = "1234abcd";
const COW_ISO_LABEL: &str = "LIVECOWISO";
const COW_STICK_LABEL: &str = "COWSTICK";
const COW_VOLID: &str = "c0ffee01";
/// Small, so that the overflow case fills it in a second; the marker
/// boots use a few dozen of its 4 KiB chunks.
const COW_MIB: u32 = 2;
/// Enough to overflow [`COW_MIB`].
const FILL_MIB: u32 = 8;
/// The discovery's idle bounds for the missing-device case (QEMU's empty
/// CD drive would make it the slow one).
const IDLE: &str = "rd.liveinit.idle=1 rd.liveinit.idle.slow=1";

fn media_dir() -> PathBuf {
    out_dir().join("media-persist")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

fn virtio_rw(path: &Path) -> Drive {
    Drive::VirtioDisk {
        path: path.to_path_buf(),
        readonly: false,
    }
}

/// The flattened squashfs of the probe root.
fn flat_images(work: &Path) -> LiveImages {
    LiveImages::build(root(), Layout::FlatSquashfs, work).expect("building the squashfs")
}

/// An ext4 stick holding the flattened image and, beside it, the overlay
/// dracut looks for by default: `LiveOS/overlay-<LABEL>-<UUID>/` and
/// `LiveOS/ovlwork/`.
fn dir_stick(name: &str) -> PathBuf {
    let work = media_dir().join(name);
    let images = flat_images(&work);
    let out = work.join("stick.img");
    let upper = format!("LiveOS/overlay-{DIR_LABEL}-{DIR_UUID}");
    ext4_disk(
        &out,
        24,
        DIR_LABEL,
        DIR_UUID,
        &images.files,
        &[&upper, "LiveOS/ovlwork"],
    )
    .expect("building the ext4 stick");
    out
}

/// One boot of `drives` that leaves `mark` in `/`: checks what the boot
/// before left (`before`) and that this one's marker was synced.
fn boot_marking(name: &str, drives: Vec<Drive>, args: &str, mark: &str, before: &str) -> Probed {
    let b = Case::new(name, drives, &format!("{args} {MARK_PARAM}={mark}")).boot_probe();
    check_marks(&b.ended.out.log, name, mark, before, |why| b.fail(why));
    b
}

fn check_marks(log: &str, name: &str, mark: &str, before: &str, fail: impl Fn(&str)) {
    let seen = printed(log, BEFORE);
    if seen != Some(before) {
        fail(&format!(
            "[{name}] the marker at boot was {seen:?}, expected {before:?}"
        ));
    }
    let wrote = printed(log, WROTE);
    if wrote != Some(mark) {
        fail(&format!("[{name}] the probe's write: {wrote:?}"));
    }
}

/// A boot whose power is cut once the probe has synced `mark`.
fn boot_cut(name: &str, drives: Vec<Drive>, args: &str, mark: &str, before: &str) {
    let case = Case::new(
        name,
        drives,
        &format!("{args} {MARK_PARAM}={mark} {CUT_PARAM}"),
    );
    let out = case.boot_until_power_cut(CUT_MARKER);
    check_marks(&out.log, name, mark, before, |why| {
        panic!("{why}\n{}", out.tail(qemu::TAIL_LINES))
    });
}

/// `/` is the overlay and its upper dir is `upper` (through `/run/overlayfs`).
fn check_overlay_upper(b: &Probed, upper: &str) {
    let r = &b.report;
    b.check(
        r.mount_at("/").is_some_and(|m| m.fstype == "overlay"),
        "/ is not an overlay",
    );
    b.check(
        r.run_entry("/run/overlayfs") == Some(&RunKind::Symlink(upper.into())),
        &format!("/run/overlayfs does not point to {upper}"),
    );
}

fn check_overlay_temporary(b: &Probed) {
    check_overlay_upper(b, "/run/initramfs/overlay/overlayfs");
}

fn check_warned(b: &Probed, needles: &[&str]) {
    b.check(
        b.ended
            .has_line(&["liveinit:", "using a temporary overlay"]),
        "no warning that a temporary overlay is used",
    );
    b.check(
        b.ended.has_line(needles),
        &format!("no console line with all of {needles:?}"),
    );
}

#[test]
fn directory_form_survives_poweroff_power_cut_and_readonly_then_resets() {
    let stick = dir_stick("dir");
    let drives = || vec![virtio_rw(&stick)];
    let root = format!("root=live:LABEL={DIR_LABEL}");
    let persist = format!("{root} rd.overlay=LABEL={DIR_LABEL}");
    let upper = format!("/run/initramfs/overlayfs/LiveOS/overlay-{DIR_LABEL}-{DIR_UUID}");

    let b = boot_marking("persist-dir-1", drives(), &persist, "one", NO_MARKER);
    check_overlay_upper(&b, &upper);
    b.check(
        b.report
            .mount_at("/run/initramfs/live")
            .is_some_and(|m| m.has_option("rw")),
        "the medium holding the overlay is not mounted read-write",
    );

    boot_cut("persist-dir-2-cut", drives(), &persist, "two", "one");

    let b = boot_marking(
        "persist-dir-3-readonly",
        drives(),
        &format!("{persist} rd.overlay.readonly"),
        "three",
        "two",
    );
    check_overlay_temporary(&b);
    b.check(
        b.report.run_entry("/run/overlayfs-r") == Some(&RunKind::Symlink(upper.clone())),
        "/run/overlayfs-r does not point to the persistent overlay",
    );

    // What the read-only boot wrote is gone; dracut's old spellings.
    let old = format!("{root} rd.live.overlay=LABEL={DIR_LABEL} rd.live.overlay.overlayfs");
    let b = boot_marking("persist-dir-4", drives(), &old, "four", "two");
    check_overlay_upper(&b, &upper);

    let b = boot_marking(
        "persist-dir-5-reset",
        drives(),
        &format!("{old} rd.live.overlay.reset"),
        "five",
        NO_MARKER,
    );
    check_overlay_upper(&b, &upper);
    boot_marking("persist-dir-6", drives(), &persist, "six", "five");
}

#[test]
fn image_form_on_a_fat_usb_stick_survives_a_reboot_and_a_power_cut() {
    let work = media_dir().join("image");
    let images = flat_images(&work);
    let stick = work.join("stick.img");
    fat_disk(&stick, 40, IMG_LABEL, IMG_VOLID).expect("mkfs.fat");
    for (dest, host) in &images.files {
        fat_put(&stick, dest, host).expect("mcopy");
    }
    let tree = work.join("overlay-tree");
    let _ = std::fs::remove_dir_all(&tree);
    for d in ["overlayfs", "ovlwork"] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    let overlay = work.join("persist.img");
    mkfs_ext4(&tree, &overlay, 8, None).expect("the overlay image");
    fat_put(&stick, "LiveOS/persist.img", &overlay).expect("mcopy");
    let drives = || {
        vec![Drive::UsbDisk {
            path: stick.clone(),
            readonly: false,
        }]
    };
    let args =
        format!("root=live:LABEL={IMG_LABEL} rd.overlay=LABEL={IMG_LABEL}:LiveOS/persist.img");
    let upper = "/run/initramfs/overlayfs/overlayfs";
    let b = boot_marking("persist-image-1", drives(), &args, "one", NO_MARKER);
    check_overlay_upper(&b, upper);
    b.check(
        b.report
            .mount_at("/run/initramfs/overlayfs")
            .is_some_and(|m| m.fstype == "ext4" && m.source.starts_with("/dev/loop")),
        "the overlay image is not mounted at /run/initramfs/overlayfs",
    );
    boot_cut("persist-image-2-cut", drives(), &args, "two", "one");
    let b = boot_marking("persist-image-3", drives(), &args, "three", "two");
    check_overlay_upper(&b, upper);
}

#[test]
fn fedora_cow_store_survives_a_power_cut_and_its_overflow_is_reported() {
    let work = media_dir().join("cow");
    let images = LiveImages::build(root(), Layout::NestedExt4, &work).expect("nested image");
    let iso: Image = images
        .files
        .iter()
        .fold(IsoBuilder::new(COW_ISO_LABEL), |b, (p, h)| b.file(p, h))
        .build(&work.join("live.iso"))
        .expect("the ISO");
    let uuid = iso.uuid.clone().expect("the ISO has a UUID");
    let stick = work.join("stick.img");
    fat_disk(&stick, 40, COW_STICK_LABEL, COW_VOLID).expect("mkfs.fat");
    let cow = work.join("cow.img");
    zero_file(&cow, COW_MIB).unwrap();
    fat_put(
        &stick,
        &format!("LiveOS/overlay-{COW_ISO_LABEL}-{uuid}"),
        &cow,
    )
    .expect("mcopy");
    let drives = || vec![cdrom(&iso), virtio_rw(&stick)];
    let args = format!("root=live:CDLABEL={COW_ISO_LABEL} rd.live.overlay=LABEL={COW_STICK_LABEL}");

    let check_persistent_cow = |b: &Probed| {
        b.check(
            b.report.dm_names() == ["live-base", "live-rw"],
            "the device-mapper devices are not live-base and live-rw",
        );
        let cow_loop = b.report.loops.iter().any(|l| {
            l.backing
                .ends_with(&format!("overlay-{COW_ISO_LABEL}-{uuid}"))
        });
        b.check(cow_loop, "no loop device on the persistent COW store");
    };
    let b = boot_marking("persist-cow-1", drives(), &args, "one", NO_MARKER);
    check_persistent_cow(&b);
    boot_cut("persist-cow-2-cut", drives(), &args, "two", "one");

    // Fill it up: the snapshot overflows (PO: it turns read-only).
    let b = Case::new(
        "persist-cow-3-fill",
        drives(),
        &format!("{args} liveinit.probe.fill={FILL_MIB}"),
    )
    .boot_probe();
    check_persistent_cow(&b);

    let b = boot_marking("persist-cow-4-full", drives(), &args, "four", NO_MARKER);
    check_warned(&b, &["liveinit:", "is full", "rd.overlay.readonly"]);
    b.check(
        b.report.dm_names() == ["live-base", "live-rw"]
            && b.report
                .loops
                .iter()
                .any(|l| l.backing.starts_with("/overlay")),
        "the full store was not replaced by the temporary /overlay",
    );

    let b = boot_marking(
        "persist-cow-5-readonly",
        drives(),
        &format!("{args} rd.overlay.readonly"),
        "five",
        "two",
    );
    b.check(
        b.report.dm_names() == ["live-base", "live-ro", "live-rw"],
        "the device-mapper devices are not live-base, live-ro and live-rw",
    );
}

#[test]
fn missing_overlay_falls_back_to_a_temporary_one() {
    let stick = dir_stick("missing");
    let root = format!("root=live:LABEL={DIR_LABEL}");
    let b = boot_marking(
        "persist-missing-device",
        vec![virtio_rw(&stick)],
        &format!("{root} rd.overlay=LABEL=NOSUCHSTICK {IDLE}"),
        "one",
        NO_MARKER,
    );
    check_overlay_temporary(&b);
    check_warned(&b, &["liveinit:", "no device is LABEL=NOSUCHSTICK"]);

    let b = boot_marking(
        "persist-missing-path",
        vec![virtio_rw(&stick)],
        &format!("{root} rd.overlay=LABEL={DIR_LABEL}:/LiveOS/nothing-here"),
        "one",
        NO_MARKER,
    );
    check_overlay_temporary(&b);
    check_warned(
        &b,
        &[
            "liveinit:",
            "no persistent overlay /LiveOS/nothing-here on /dev/vda",
        ],
    );
}
