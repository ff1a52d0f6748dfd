//! Boot tests: real Debian kernel + liveinit's initramfs + live media whose
//! root has the probe as `/sbin/init`. Run by `cargo xtask test`, which
//! prepares the kernel, the initramfs and the probe and passes their paths in
//! the environment.
//!
//! Media (each built once per run, on first use, under
//! `target/qemu-tests/media/`):
//! - ISOs on an IDE CD drive: a flattened `LiveOS/squashfs.img` (two labels),
//!   a `squashfs.img` holding an ext4 `LiveOS/rootfs.img`, an uncompressed
//!   ext4 `LiveOS/rootfs.img`, a flattened EROFS `squashfs.img`, and one with
//!   no `LiveOS` at all;
//! - read-only virtio disks: a raw SquashFS, a raw EROFS, and an
//!   MBR-partitioned disk whose ext4 partition `LIVEPART` holds a SquashFS
//!   `LiveOS/rootfs.img` (dracut's TEST-30 layout).
//!
//! Every successful boot is checked against the state dracut hands to the
//! real root (spec §3.10): `/`, the medium at `/run/initramfs/live`,
//! `/run/initramfs/livedev`, `/run/rootfsbase`, `/dev/live-base`, the
//! device-mapper devices and their `/dev/mapper` nodes, the RAM copies,
//! `.need_shutdown`; and for absence of what that mode must not leave.
//!
//! Console logs: `target/qemu-tests/<case>.log`.

mod common;

use common::{cdrom, shared, Shared};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use qemu_tests::media::{Disk, Image, Layout, LiveImages, LiveRoot, LiveRootSpec};
use qemu_tests::qemu::{self, BootOutcome, Drive, QemuConfig};
use qemu_tests::report::{ProbeReport, RunKind};
use qemu_tests::{out_dir, ENV_INITRAMFS, ENV_KERNEL, ENV_PROBE};

const LABEL: &str = "LIVEINIT_TEST";
const SPACED_LABEL: &str = "My Live Disk";
const NESTED_LABEL: &str = "LIVEINIT_NESTED";
const UNCOMPRESSED_LABEL: &str = "LIVEINIT_UNCOMP";
const EROFS_LABEL: &str = "LIVEINIT_EROFS";
const EMPTY_LABEL: &str = "LIVEINIT_EMPTY";
const PART_LABEL: &str = "LIVEPART";
/// Size of the ext4 partition of the partitioned disk.
const PART_MIB: u32 = 16;

/// The size of `LiveOS/rootfs.img` (ext4) in 512-byte sectors.
const ROOTFS_SECTORS: u64 = qemu_tests::media::ROOTFS_IMG_MIB as u64 * 2048;

struct Env {
    kernel: PathBuf,
    initramfs: PathBuf,
    probe: PathBuf,
}

/// The inputs prepared by `cargo xtask test`; a missing one fails the test.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let get = common::input_path;
        Env {
            kernel: get(ENV_KERNEL),
            initramfs: get(ENV_INITRAMFS),
            probe: get(ENV_PROBE),
        }
    })
}

// ---------------------------------------------------------------------------
// Shared media, each built once per run on first use.

fn media_dir() -> PathBuf {
    out_dir().join("media")
}

/// The probe root every medium is made of.
fn root() -> &'static LiveRoot {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    shared(&ROOT, "live root", || {
        LiveRoot::create(
            &media_dir().join("root"),
            &LiveRootSpec::probe(&env().probe),
        )
    })
}

/// The images of `layout`, built from [`root`].
fn images(layout: Layout) -> &'static LiveImages {
    static IMAGES: [Shared<LiveImages>; 6] = [const { OnceLock::new() }; 6];
    let i = match layout {
        Layout::FlatSquashfs => 0,
        Layout::FlatErofs => 1,
        Layout::NestedExt4 => 2,
        Layout::UncompressedExt4 => 3,
        Layout::SquashfsRootfsImg => 4,
        Layout::NoLiveOs => 5,
    };
    shared(&IMAGES[i], layout.slug(), || {
        LiveImages::build(root(), layout, &media_dir())
    })
}

/// The host file of the single image of `layout` (to use as a raw disk).
fn single_image(layout: Layout) -> PathBuf {
    match images(layout).files.as_slice() {
        [(_, host)] => host.clone(),
        other => panic!("{layout:?} has {} images, expected one", other.len()),
    }
}

fn iso(cell: &'static Shared<Image>, layout: Layout, label: &str, file: &str) -> &'static Image {
    shared(cell, file, || {
        images(layout).iso(label, &media_dir().join(file))
    })
}

fn test_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatSquashfs, LABEL, "live.iso")
}

fn spaced_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatSquashfs, SPACED_LABEL, "live-spaced.iso")
}

fn nested_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::NestedExt4, NESTED_LABEL, "nested-ext4.iso")
}

fn uncompressed_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(
        &C,
        Layout::UncompressedExt4,
        UNCOMPRESSED_LABEL,
        "uncompressed-ext4.iso",
    )
}

fn erofs_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::FlatErofs, EROFS_LABEL, "flat-erofs.iso")
}

fn empty_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    iso(&C, Layout::NoLiveOs, EMPTY_LABEL, "no-liveos.iso")
}

/// MBR disk, one ext4 partition `LIVEPART` with a SquashFS `LiveOS/rootfs.img`.
fn partitioned_disk() -> &'static Disk {
    static C: Shared<Disk> = OnceLock::new();
    shared(&C, "partitioned disk", || {
        images(Layout::SquashfsRootfsImg).ext4_partition_disk(
            PART_LABEL,
            PART_MIB,
            &media_dir().join("livepart-disk.img"),
        )
    })
}

/// Read-only, so that boots running in parallel can share the image.
fn virtio_ro(path: PathBuf) -> Drive {
    Drive::VirtioDisk {
        path,
        readonly: true,
    }
}

// ---------------------------------------------------------------------------
// Booting and checking.

/// Boots with `drives` and `args`; panics on timeout.
fn boot(case: &str, drives: Vec<Drive>, args: &str) -> BootOutcome {
    let env = env();
    let log = out_dir().join(format!("{case}.log"));
    let cfg = drives.into_iter().fold(
        QemuConfig::new(&env.kernel, &env.initramfs, &log).append(args),
        QemuConfig::drive,
    );
    eprintln!("[{case}] booting: {}", cfg.cmdline());
    match qemu::boot(&cfg) {
        Ok(out) => {
            eprintln!(
                "[{case}] QEMU exited after {:.1}s ({})",
                out.elapsed.as_secs_f64(),
                out.status
            );
            out
        }
        Err(e) => panic!("[{case}] {e:#}"),
    }
}

fn fail(case: &str, out: &BootOutcome, why: &str) -> ! {
    panic!(
        "[{case}] {why}\nlog: {}\nlast {} console lines:\n{}",
        out.log_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        qemu::TAIL_LINES,
        out.tail(qemu::TAIL_LINES)
    )
}

/// What `/` must be.
#[derive(Debug, Clone, Copy)]
enum RootFs {
    /// overlay `LiveOS_rootfs` over `/run/rootfsbase`.
    Overlay,
    /// ext4 on `/dev/mapper/live-rw`.
    LiveRw,
}

/// What the medium must look like after the boot.
#[derive(Debug, Clone, Copy)]
enum Medium {
    /// A filesystem mounted read-only at `/run/initramfs/live` with `entry`.
    Mounted {
        fstype: &'static str,
        entry: &'static str,
    },
    /// The device is the image itself: nothing at `/run/initramfs/live`.
    Raw,
}

/// What `/dev/live-base` must be.
#[derive(Debug, Clone, Copy)]
enum LiveBase {
    /// A symlink to a read-only `/dev/loopN` whose backing file ends with this.
    Loop(&'static str),
    /// A symlink to this device.
    Device(&'static str),
    Absent,
}

/// What `/run/rootfsbase` must be.
#[derive(Debug, Clone, Copy)]
enum Base {
    /// A read-only mount of this filesystem type.
    Mount(&'static str),
    Absent,
}

/// Everything a successful boot must (and must not) leave behind.
#[derive(Debug, Clone, Copy)]
struct Expect {
    root: RootFs,
    /// Mount options `/` must have.
    root_options: &'static [&'static str],
    medium: Medium,
    /// The target of `/run/initramfs/livedev`.
    livedev: &'static str,
    /// The device-mapper devices, exactly (sorted).
    dm: &'static [&'static str],
    live_base: LiveBase,
    rootfsbase: Base,
    /// `/run/initramfs/fsimg/rootfs.img` (the `rd.writable.fsimg` copy).
    fsimg_copy: bool,
}

impl Expect {
    /// A flattened image or raw device: overlayfs, no device-mapper.
    const fn overlay(
        medium: Medium,
        livedev: &'static str,
        live_base: LiveBase,
        base: &'static str,
    ) -> Self {
        Expect {
            root: RootFs::Overlay,
            root_options: &["rw"],
            medium,
            livedev,
            dm: &[],
            live_base,
            rootfsbase: Base::Mount(base),
            fsimg_copy: false,
        }
    }

    /// The default device-mapper snapshot over an ext4 `rootfs.img`.
    const fn snapshot(medium: Medium, livedev: &'static str) -> Self {
        Expect {
            root: RootFs::LiveRw,
            root_options: &["rw"],
            medium,
            livedev,
            dm: &["live-base", "live-rw"],
            live_base: LiveBase::Loop("LiveOS/rootfs.img"),
            rootfsbase: Base::Absent,
            fsimg_copy: false,
        }
    }
}

const ISO_SQUASHFS_IMG: Medium = Medium::Mounted {
    fstype: "iso9660",
    entry: "LiveOS/squashfs.img",
};
const ISO_ROOTFS_IMG: Medium = Medium::Mounted {
    fstype: "iso9660",
    entry: "LiveOS/rootfs.img",
};
const PART_ROOTFS_IMG: Medium = Medium::Mounted {
    fstype: "ext4",
    entry: "LiveOS/rootfs.img",
};

/// The flattened SquashFS ISO of issue 2.
const FLAT_ISO: Expect = Expect::overlay(
    ISO_SQUASHFS_IMG,
    "/dev/sr0",
    LiveBase::Loop("LiveOS/squashfs.img"),
    "squashfs",
);

/// The nested ext4 `rootfs.img` with overlayfs on top.
const NESTED_OVERLAY: Expect = Expect::overlay(
    ISO_SQUASHFS_IMG,
    "/dev/sr0",
    LiveBase::Loop("LiveOS/rootfs.img"),
    "ext4",
);

/// The partitioned disk: SquashFS `rootfs.img` on ext4, overlayfs on top.
const PARTITION: Expect = Expect::overlay(
    PART_ROOTFS_IMG,
    "/dev/vda1",
    LiveBase::Loop("LiveOS/rootfs.img"),
    "squashfs",
);

/// A passed boot: its console and what the probe reported.
struct Booted {
    case: String,
    out: BootOutcome,
    report: ProbeReport,
}

impl Booted {
    fn fail(&self, what: &str) -> ! {
        fail(
            &self.case,
            &self.out,
            &format!("{what}\nreport: {:#?}", self.report),
        )
    }

    fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    /// The bound loop device `/dev/live-base` points at.
    fn live_base_loop(&self) -> &qemu_tests::report::LoopDevice {
        let target = match self.report.dev_entry("/dev/live-base") {
            Some(RunKind::Symlink(t)) => t.clone(),
            other => {
                self.check(
                    false,
                    &format!("/dev/live-base is {other:?}, not a symlink"),
                );
                unreachable!()
            }
        };
        match self.report.loop_at(&target) {
            Some(l) => l,
            None => {
                self.check(
                    false,
                    &format!("/dev/live-base -> {target}: not a bound loop device"),
                );
                unreachable!()
            }
        }
    }

    /// The bound loop devices among the slaves of dm device `name`.
    fn dm_slave_loops(&self, name: &str) -> Vec<&qemu_tests::report::LoopDevice> {
        let Some(dm) = self.report.dm_device(name) else {
            self.fail(&format!("no device-mapper device {name}"));
        };
        dm.slaves
            .iter()
            .filter_map(|s| self.report.loop_device(s))
            .collect()
    }
}

/// Boots and checks everything a successful live boot must show for `expect`.
fn boot_live(case: &str, drives: Vec<Drive>, args: &str, expect: &Expect) -> Booted {
    let out = boot(case, drives, args);
    let report = match ProbeReport::parse_log(&out.log) {
        Ok(r) => r,
        Err(e) => fail(case, &out, &format!("{e:#}")),
    };
    if let Some(up) = report.uptime_secs {
        match qemu::kernel_timestamp_of(&out.log, "Run /init as init process") {
            Some(start) => eprintln!(
                "[{case}] guest: /init started at {start:.2}s, probe at {up:.2}s ({:.2}s in liveinit)",
                up - start
            ),
            None => eprintln!("[{case}] guest: probe at {up:.2}s"),
        }
    }
    let b = Booted {
        case: case.to_string(),
        out,
        report,
    };
    check_common(&b);
    check_root(&b, expect);
    check_medium(&b, expect);
    check_dm(&b, expect);
    check_live_base(&b, expect);
    check_rootfsbase(&b, expect);
    let copy = b.report.run_entry("/run/initramfs/fsimg/rootfs.img");
    if expect.fsimg_copy {
        b.check(
            copy == Some(&RunKind::File),
            "/run/initramfs/fsimg/rootfs.img (the rd.writable.fsimg copy) is not a file",
        );
    } else {
        b.check(
            copy == Some(&RunKind::Missing),
            "/run/initramfs/fsimg/rootfs.img exists without rd.writable.fsimg",
        );
    }
    b
}

/// The kernel modules loaded by the time the real init started: those the
/// boot needed are there, and those nothing asked for are not (loading by
/// need, not by list).
fn check_modules(b: &Booted, loaded: &[&str], not_loaded: &[&str]) {
    for name in loaded {
        b.check(
            b.report.has_module(name),
            &format!("kernel module {name} was not loaded"),
        );
    }
    for name in not_loaded {
        b.check(
            !b.report.has_module(name),
            &format!("kernel module {name} was loaded though nothing needed it"),
        );
    }
}

/// What every successful boot must show, whatever the layout.
fn check_common(b: &Booted) {
    let r = &b.report;
    b.check(r.pid == Some(1), "the probe is not PID 1");
    b.check(r.root_write == Some(Ok(())), "the write test on `/` failed");
    let fd_numbers: Vec<u32> = r.fds.iter().map(|f| f.fd).collect();
    b.check(
        fd_numbers == [0, 1, 2],
        "PID 1 has other fds open than 0, 1, 2 (leaked by the init?)",
    );
    b.check(
        r.fds.iter().all(|f| f.is_console()),
        "PID 1's fds 0-2 are not the console (char device 5:1 or a tty)",
    );
    // The init reopens the console after the switch, so the real init does
    // not hold fds on the deleted initramfs node.
    b.check(
        r.fds.iter().all(|f| f.target == "/dev/console"),
        "PID 1's fds 0-2 do not point at the new root's /dev/console",
    );
    b.check(r.errors.is_empty(), "the probe reported errors");
    b.check(
        r.run_entry("/run/initramfs/.need_shutdown") == Some(&RunKind::File),
        "/run/initramfs/.need_shutdown is not a file",
    );
    // Lazily unmounted at the end (§3.10); still referenced by the loops.
    b.check(
        r.mount_at("/run/initramfs/squashfs").is_none(),
        "/run/initramfs/squashfs is still a mount point",
    );
    // The "root is ready" flag is removed before switch_root.
    b.check(
        r.dev_entry("/dev/root") == Some(&RunKind::Missing),
        "/dev/root exists in the real root",
    );
}

fn check_root(b: &Booted, expect: &Expect) {
    let r = &b.report;
    let Some(root) = r.root_mount() else {
        b.fail("no mount at `/`");
    };
    match expect.root {
        RootFs::Overlay => {
            b.check(root.fstype == "overlay", "`/` is not an overlay mount");
            b.check(
                root.source == "LiveOS_rootfs",
                "`/` does not have the source `LiveOS_rootfs`",
            );
            for (key, value) in [
                ("lowerdir", "/run/rootfsbase"),
                ("upperdir", "/run/overlayfs"),
                ("workdir", "/run/ovlwork"),
            ] {
                b.check(
                    root.super_option(key) == Some(value),
                    &format!("`/` is not mounted with {key}={value}"),
                );
            }
            for (link, target) in [
                ("/run/overlayfs", "/run/initramfs/overlay/overlayfs"),
                ("/run/ovlwork", "/run/initramfs/overlay/ovlwork"),
            ] {
                b.check(
                    r.run_entry(link) == Some(&RunKind::Symlink(target.into())),
                    &format!("{link} is not a symlink to {target}"),
                );
            }
        }
        RootFs::LiveRw => {
            b.check(root.fstype == "ext4", "`/` is not ext4");
            b.check(
                root.source == "/dev/mapper/live-rw",
                "`/` is not mounted from /dev/mapper/live-rw",
            );
            b.check(
                r.dm_device("live-rw").is_some_and(|d| d.dev == root.dev),
                "`/` is not the live-rw device-mapper device",
            );
            for link in ["/run/overlayfs", "/run/ovlwork"] {
                b.check(
                    r.run_entry(link) == Some(&RunKind::Missing),
                    &format!("{link} exists although `/` is not an overlay"),
                );
            }
        }
    }
    for opt in expect.root_options {
        b.check(
            root.has_option(opt),
            &format!("`/` is not mounted with `{opt}`"),
        );
    }
}

fn check_medium(b: &Booted, expect: &Expect) {
    let r = &b.report;
    b.check(
        r.run_entry("/run/initramfs/livedev") == Some(&RunKind::Symlink(expect.livedev.into())),
        &format!(
            "/run/initramfs/livedev is not a symlink to {}",
            expect.livedev
        ),
    );
    match expect.medium {
        Medium::Mounted { fstype, entry } => {
            b.check(
                r.live_mounted == Some(true),
                "/run/initramfs/live is not a mount point",
            );
            let live = r.mount_at("/run/initramfs/live");
            b.check(
                live.is_some_and(|m| m.fstype == fstype && m.source == expect.livedev),
                &format!(
                    "/run/initramfs/live is not the {fstype} medium {}",
                    expect.livedev
                ),
            );
            b.check(
                live.is_some_and(|m| m.has_option("ro")),
                "/run/initramfs/live is not mounted read-only",
            );
            b.check(
                r.live_entries.iter().any(|e| e == entry),
                &format!("/run/initramfs/live does not contain {entry}"),
            );
        }
        Medium::Raw => {
            b.check(
                r.live_mounted == Some(false) && r.mount_at("/run/initramfs/live").is_none(),
                "/run/initramfs/live is a mount point although the device is the image",
            );
        }
    }
}

fn check_dm(b: &Booted, expect: &Expect) {
    let r = &b.report;
    b.check(
        r.dm_names() == expect.dm,
        &format!("the device-mapper devices are not exactly {:?}", expect.dm),
    );
    for d in &r.dm {
        b.check(
            d.has_mapper_node(),
            &format!(
                "/dev/mapper/{} is not the block node of {} ({}): {}",
                d.name, d.kname, d.dev, d.mapper
            ),
        );
    }
    for (path, kind) in &r.dev_entries {
        let Some(name) = path.strip_prefix("/dev/mapper/") else {
            continue;
        };
        if name != "control" && !expect.dm.contains(&name) {
            b.check(
                *kind == RunKind::Missing,
                &format!("{path} exists ({kind:?}) but {name} is not expected"),
            );
        }
    }
    if let Some(base) = r.dm_device("live-base") {
        b.check(base.read_only == Some(true), "live-base is not read-only");
    }
    if let Some(rw) = r.dm_device("live-rw") {
        b.check(rw.read_only == Some(false), "live-rw is read-only");
    }
}

fn check_live_base(b: &Booted, expect: &Expect) {
    let r = &b.report;
    match expect.live_base {
        LiveBase::Loop(suffix) => {
            let l = b.live_base_loop();
            b.check(
                l.backing.ends_with(suffix),
                &format!(
                    "/dev/live-base is {} backed by {}, not by …{suffix}",
                    l.kname, l.backing
                ),
            );
            b.check(
                l.read_only == Some(true),
                "the loop device behind /dev/live-base is not read-only",
            );
            if let Some(base) = r.dm_device("live-base") {
                b.check(
                    base.slaves == [l.kname.clone()],
                    "live-base does not map (only) the loop device /dev/live-base points at",
                );
            }
        }
        LiveBase::Device(dev) => b.check(
            r.dev_entry("/dev/live-base") == Some(&RunKind::Symlink(dev.into())),
            &format!("/dev/live-base is not a symlink to {dev}"),
        ),
        LiveBase::Absent => b.check(
            r.dev_entry("/dev/live-base") == Some(&RunKind::Missing),
            "/dev/live-base exists",
        ),
    }
}

fn check_rootfsbase(b: &Booted, expect: &Expect) {
    let r = &b.report;
    match expect.rootfsbase {
        Base::Mount(fstype) => {
            let m = r.mount_at("/run/rootfsbase");
            b.check(
                m.is_some_and(|m| m.fstype == fstype),
                &format!("/run/rootfsbase is not a {fstype} mount"),
            );
            b.check(
                m.is_some_and(|m| m.has_option("ro")),
                "/run/rootfsbase is not mounted read-only",
            );
        }
        Base::Absent => b.check(
            r.run_entry("/run/rootfsbase") == Some(&RunKind::Missing)
                && r.mount_at("/run/rootfsbase").is_none(),
            "/run/rootfsbase exists although `/` is not an overlay",
        ),
    }
}

/// Boots a case that must fail: it ends by itself, quickly, with a
/// `liveinit: FATAL:` line containing all of `needles`, no kernel panic and
/// no probe.
fn boot_fatal(case: &str, drives: Vec<Drive>, args: &str, needles: &[&str]) -> BootOutcome {
    let out = boot(case, drives, args);
    // It ended by itself (boot() fails on a timeout). The init's pause and
    // the kernel's boot take ~20 s of guest time; the wall clock depends on
    // the host (TCG, 2 boots in parallel), hence two bounds.
    let guest = qemu::last_kernel_timestamp(&out.log).unwrap_or(f64::MAX);
    eprintln!("[{case}] guest stopped at {guest:.1}s of uptime");
    let (guest_limit, wall_limit) = (45.0, Duration::from_secs(90));
    if guest > guest_limit || out.elapsed > wall_limit {
        fail(
            case,
            &out,
            &format!(
                "the failing boot took too long: guest {guest:.0}s (limit {guest_limit}s), \
                 wall {:.0}s (limit {}s); does the init honour rd.retry?",
                out.elapsed.as_secs_f64(),
                wall_limit.as_secs()
            ),
        );
    }
    let fatal = out
        .log
        .lines()
        .any(|l| l.contains("liveinit: FATAL:") && needles.iter().all(|n| l.contains(n)));
    if !fatal {
        fail(
            case,
            &out,
            &format!("no `liveinit: FATAL:` line containing all of {needles:?}"),
        );
    }
    for bad in ["Kernel panic", "Attempted to kill init"] {
        if out.log.contains(bad) {
            fail(case, &out, &format!("the log contains `{bad}`"));
        }
    }
    if out.log.contains(qemu_tests::report::BEGIN) {
        fail(
            case,
            &out,
            "the probe ran although the boot should have failed",
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Issue 2: a flattened squashfs.img on an ISO, found by label or UUID.

#[test]
fn live_cdlabel() {
    let b = boot_live(
        "live_cdlabel",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &FLAT_ISO,
    );
    check_modules(
        &b,
        &["ata_piix", "sr_mod", "isofs", "loop", "squashfs", "overlay"],
        &[
            "ext4",
            "erofs",
            "vfat",
            "dm_mod",
            "dm_snapshot",
            "dm_thin_pool",
            "ahci",
            "nvme",
            "virtio_blk",
            "usb_storage",
        ],
    );
}

#[test]
fn live_cdlabel_with_space_quoted() {
    let iso = spaced_iso();
    assert_eq!(iso.label.as_deref(), Some(SPACED_LABEL));
    boot_live(
        "live_cdlabel_space_quoted",
        vec![cdrom(iso)],
        "root=\"live:CDLABEL=My Live Disk\"",
        &FLAT_ISO,
    );
}

#[test]
fn live_cdlabel_with_space_escaped() {
    boot_live(
        "live_cdlabel_space_escaped",
        vec![cdrom(spaced_iso())],
        "root=live:CDLABEL=My\\x20Live\\x20Disk",
        &FLAT_ISO,
    );
}

#[test]
fn legacy_rd_live_image_cdlabel() {
    boot_live(
        "legacy_rd_live_image",
        vec![cdrom(test_iso())],
        "rd.live.image root=CDLABEL=LIVEINIT_TEST",
        &FLAT_ISO,
    );
}

#[test]
fn live_uuid() {
    let iso = test_iso();
    let Some(uuid) = iso.uuid.as_deref() else {
        panic!("blkid reports no UUID for {}", iso.path.display());
    };
    boot_live(
        "live_uuid",
        vec![cdrom(iso)],
        &format!("root=live:UUID={uuid}"),
        &FLAT_ISO,
    );
}

#[test]
fn missing_label_fails_cleanly() {
    boot_fatal(
        "missing_label",
        vec![cdrom(test_iso())],
        "root=live:CDLABEL=NO_SUCH_LABEL rd.retry=5",
        &["NO_SUCH_LABEL"],
    );
}

// ---------------------------------------------------------------------------
// Issue 3: layouts and writable layers.

/// Classic Fedora layout, default writable layer: a device-mapper snapshot
/// of the ext4 rootfs.img with a sparse COW in RAM; `rootflags=` reach `/`.
#[test]
fn nested_rootfs_img_dm_snapshot() {
    let b = boot_live(
        "nested_dm_snapshot",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rootflags=noatime rd.live.overlay.size=256",
        &Expect {
            root_options: &["rw", "noatime"],
            ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
        },
    );
    check_snapshot(&b, 256);
    check_modules(
        &b,
        &["squashfs", "ext4", "dm_mod", "dm_snapshot"],
        &["erofs", "dm_thin_pool"],
    );
}

/// `live-rw` = snapshot of the base loop with a COW loop of `cow_mib` MiB
/// (the sparse `/overlay`), both as big as the base.
fn check_snapshot(b: &Booted, cow_mib: u64) {
    let r = &b.report;
    let base_loop = b.live_base_loop().kname.clone();
    let loops = b.dm_slave_loops("live-rw");
    b.check(
        loops.len() == 2 && r.dm_device("live-rw").is_some_and(|d| d.slaves.len() == 2),
        "live-rw does not map exactly two loop devices (base and COW)",
    );
    b.check(
        loops.iter().any(|l| l.kname == base_loop),
        "live-rw does not map the base loop device",
    );
    let cow = loops.iter().find(|l| l.kname != base_loop);
    b.check(
        cow.is_some_and(|l| l.backing.starts_with("/overlay") && l.read_only == Some(false)),
        "live-rw's COW is not a writable loop on /overlay",
    );
    b.check(
        cow.is_some_and(|l| l.sectors == Some(cow_mib * 2048)),
        &format!("the COW is not {cow_mib} MiB (rd.live.overlay.size)"),
    );
    for name in ["live-base", "live-rw"] {
        b.check(
            r.dm_device(name)
                .is_some_and(|d| d.sectors == Some(ROOTFS_SECTORS)),
            &format!("{name} is not as big as rootfs.img ({ROOTFS_SECTORS} sectors)"),
        );
    }
}

/// `rd.overlay`: overlayfs over the rootfs.img mounted read-only.
#[test]
fn nested_rootfs_img_rd_overlay() {
    boot_live(
        "nested_rd_overlay",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.overlay",
        &NESTED_OVERLAY,
    );
}

/// The deprecated `rd.live.overlay.overlayfs=1` does the same, with one
/// warning line.
#[test]
fn nested_rootfs_img_deprecated_overlayfs() {
    let b = boot_live(
        "nested_deprecated_overlayfs",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.live.overlay.overlayfs=1",
        &NESTED_OVERLAY,
    );
    let warnings: Vec<&str> = b
        .out
        .log
        .lines()
        .filter(|l| l.contains("deprecated, use 'rd.overlay' instead"))
        .collect();
    b.check(
        warnings.len() == 1
            && warnings[0].contains("liveinit:")
            && warnings[0].contains("rd.live.overlay.overlayfs"),
        &format!(
            "expected one `liveinit:` line saying rd.live.overlay.overlayfs is deprecated, \
             use 'rd.overlay' instead; found {warnings:?}"
        ),
    );
}

/// `rd.writable.fsimg`: rootfs.img copied to RAM, a writable linear
/// `live-rw` over it, no `live-base`.
#[test]
fn nested_rootfs_img_writable_fsimg() {
    let b = boot_live(
        "nested_writable_fsimg",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.writable.fsimg",
        &Expect {
            dm: &["live-rw"],
            live_base: LiveBase::Absent,
            fsimg_copy: true,
            ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
        },
    );
    let loops = b.dm_slave_loops("live-rw");
    b.check(
        loops.len() == 1
            && loops[0].backing == "/run/initramfs/fsimg/rootfs.img"
            && loops[0].read_only == Some(false),
        "live-rw does not map (only) a writable loop on /run/initramfs/fsimg/rootfs.img",
    );
    b.check(
        b.report
            .dm_device("live-rw")
            .is_some_and(|d| d.sectors == Some(ROOTFS_SECTORS)),
        "live-rw is not as big as rootfs.img",
    );
}

/// `rd.live.overlay.thin`: a thin pool on sparse files in /run and a thin
/// `live-rw` with the base as external origin.
#[test]
fn nested_rootfs_img_thin() {
    let b = boot_live(
        "nested_thin",
        vec![cdrom(nested_iso())],
        "root=live:CDLABEL=LIVEINIT_NESTED rd.live.overlay.thin rd.live.overlay.size=512",
        &Expect {
            dm: &["live-base", "live-overlay-pool", "live-rw"],
            ..Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0")
        },
    );
    let r = &b.report;
    for f in ["data", "meta"] {
        let path = format!("/run/initramfs/thin-overlay/{f}");
        b.check(
            r.run_entry(&path) == Some(&RunKind::File),
            &format!("{path} is not a file"),
        );
    }
    let mut backing: Vec<String> = b
        .dm_slave_loops("live-overlay-pool")
        .iter()
        .map(|l| l.backing.clone())
        .collect();
    backing.sort();
    b.check(
        backing
            == [
                "/run/initramfs/thin-overlay/data",
                "/run/initramfs/thin-overlay/meta",
            ],
        "live-overlay-pool does not map loops on /run/initramfs/thin-overlay/{data,meta}",
    );
    b.check(
        r.loops.iter().any(|l| {
            l.backing == "/run/initramfs/thin-overlay/data" && l.sectors == Some(512 * 2048)
        }),
        "the thin pool's data is not 512 MiB (rd.live.overlay.size)",
    );
    let base_loop = b.live_base_loop().kname.clone();
    let pool = r
        .dm_device("live-overlay-pool")
        .map(|d| d.kname.clone())
        .unwrap_or_default();
    b.check(
        r.dm_device("live-rw").is_some_and(|d| {
            d.slaves.contains(&pool)
                && d.slaves.contains(&base_loop)
                && d.sectors == Some(512 * 2048)
        }),
        "live-rw is not a 512 MiB thin device of the pool with the base loop as origin",
    );
    check_modules(&b, &["dm_thin_pool", "ext4"], &["dm_snapshot", "overlay"]);
}

/// An uncompressed ext4 `LiveOS/rootfs.img` on the ISO: the default
/// snapshot, with the default (32 GiB, sparse) COW.
#[test]
fn uncompressed_rootfs_img_dm_snapshot() {
    let b = boot_live(
        "uncompressed_dm_snapshot",
        vec![cdrom(uncompressed_iso())],
        "root=live:CDLABEL=LIVEINIT_UNCOMP",
        &Expect::snapshot(ISO_ROOTFS_IMG, "/dev/sr0"),
    );
    check_snapshot(&b, 32 * 1024);
    // The base loop reads the file on the mounted medium directly.
    let base = b.live_base_loop();
    b.check(
        base.backing == "/run/initramfs/live/LiveOS/rootfs.img",
        "the base loop is not on /run/initramfs/live/LiveOS/rootfs.img",
    );
}

/// A virtio disk that is itself a (flattened) SquashFS.
#[test]
fn raw_squashfs_disk() {
    boot_live(
        "raw_squashfs_disk",
        vec![virtio_ro(single_image(Layout::FlatSquashfs))],
        "root=live:/dev/vda",
        &Expect::overlay(
            Medium::Raw,
            "/dev/vda",
            LiveBase::Device("/dev/vda"),
            "squashfs",
        ),
    );
}

/// A virtio disk that is itself an EROFS (dracut TEST-30 case 4).
#[test]
fn raw_erofs_disk() {
    boot_live(
        "raw_erofs_disk",
        vec![virtio_ro(single_image(Layout::FlatErofs))],
        "root=live:/dev/vda",
        &Expect::overlay(
            Medium::Raw,
            "/dev/vda",
            LiveBase::Device("/dev/vda"),
            "erofs",
        ),
    );
}

/// `LiveOS/squashfs.img` that is a flattened EROFS, on an ISO.
#[test]
fn flat_erofs_squashfs_img() {
    let b = boot_live(
        "flat_erofs_iso",
        vec![cdrom(erofs_iso())],
        "root=live:CDLABEL=LIVEINIT_EROFS",
        &Expect::overlay(
            ISO_SQUASHFS_IMG,
            "/dev/sr0",
            LiveBase::Loop("LiveOS/squashfs.img"),
            "erofs",
        ),
    );
    check_modules(&b, &["erofs", "overlay"], &["ext4", "dm_mod"]);
}

/// dracut TEST-30 case 1: `root=live:/dev/disk/by-label/…` (resolved without
/// udev) on a partition holding a SquashFS `LiveOS/rootfs.img`.
#[test]
fn partition_by_label_path_rd_overlay() {
    let disk = partitioned_disk();
    assert_eq!(disk.partitions[0].label.as_deref(), Some(PART_LABEL));
    boot_live(
        "partition_by_label_path",
        vec![virtio_ro(disk.path.clone())],
        "root=live:/dev/disk/by-label/LIVEPART rd.overlay",
        &PARTITION,
    );
}

/// dracut TEST-30 case 2: the legacy `rd.live.image root=LABEL=…`; a
/// SquashFS rootfs.img gets overlayfs without `rd.overlay`.
#[test]
fn partition_legacy_root_label() {
    boot_live(
        "partition_legacy_root_label",
        vec![virtio_ro(partitioned_disk().path.clone())],
        "rd.live.image root=LABEL=LIVEPART",
        &PARTITION,
    );
}

/// A medium without `LiveOS`: a FATAL line naming the missing image and
/// what the medium holds, then power off (no panic).
#[test]
fn medium_without_liveos_fails_cleanly() {
    boot_fatal(
        "no_liveos",
        vec![cdrom(empty_iso())],
        "root=live:CDLABEL=LIVEINIT_EMPTY",
        &["LiveOS/squashfs.img", "README.txt"],
    );
}

// ---- Buses: the same ISO, found by label behind each storage driver ----
//
// On disks rather than CD drives: QEMU's pc machine always has an empty IDE
// CD drive, so a second CD's sr number would depend on probe order.

const fn flat_iso_on(device: &'static str) -> Expect {
    Expect::overlay(
        ISO_SQUASHFS_IMG,
        device,
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    )
}

#[test]
fn bus_virtio_blk() {
    let b = boot_live(
        "bus_virtio_blk",
        vec![virtio_ro(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &flat_iso_on("/dev/vda"),
    );
    check_modules(
        &b,
        &["virtio_blk", "isofs"],
        &["ahci", "nvme", "usb_storage", "virtio_scsi"],
    );
}

#[test]
fn bus_virtio_scsi() {
    boot_live(
        "bus_virtio_scsi",
        vec![Drive::VirtioScsiDisk(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &flat_iso_on("/dev/sda"),
    );
}

#[test]
fn bus_ahci_sata() {
    boot_live(
        "bus_ahci_sata",
        vec![Drive::AhciDisk(test_iso().path.clone())],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &flat_iso_on("/dev/sda"),
    );
}

#[test]
fn bus_nvme() {
    boot_live(
        "bus_nvme",
        vec![Drive::NvmeDisk {
            path: test_iso().path.clone(),
            readonly: true,
        }],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &flat_iso_on("/dev/nvme0n1"),
    );
}

#[test]
fn bus_usb_storage() {
    boot_live(
        "bus_usb_storage",
        vec![Drive::UsbDisk {
            path: test_iso().path.clone(),
            readonly: true,
        }],
        "root=live:CDLABEL=LIVEINIT_TEST",
        &flat_iso_on("/dev/sda"),
    );
}
