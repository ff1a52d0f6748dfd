//! Boot tests: real Debian kernel + liveinit's initramfs + an ISO on an IDE
//! CD drive whose `LiveOS/squashfs.img` is a flattened root with the probe as
//! `/sbin/init`. Run by `cargo xtask test`, which prepares the kernel, the
//! initramfs and the probe and passes their paths in the environment.
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use qemu_tests::media::{Image, Layout, LiveImages, LiveRoot, LiveRootSpec};
use qemu_tests::qemu::{self, BootOutcome, Drive, QemuConfig};
use qemu_tests::report::{ProbeReport, RunKind};
use qemu_tests::{out_dir, ENV_INITRAMFS, ENV_KERNEL, ENV_PROBE};

const LABEL: &str = "LIVEINIT_TEST";
const SPACED_LABEL: &str = "My Live Disk";

struct Env {
    kernel: PathBuf,
    initramfs: PathBuf,
    probe: PathBuf,
}

/// The inputs prepared by `cargo xtask test`; a missing one fails the test.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let get = |name: &str| {
            let Some(v) = std::env::var_os(name) else {
                panic!(
                    "{name} is not set: the boot tests need a kernel, an initramfs and the \
                     probe prepared by `cargo xtask test` (run that instead of cargo test)"
                );
            };
            // Relative paths are taken from the workspace root (tests run in qemu-tests/).
            let p = qemu_tests::workspace_root().join(v);
            assert!(
                p.is_file(),
                "{name}={} does not exist; run `cargo xtask test`",
                p.display()
            );
            p
        };
        Env {
            kernel: get(ENV_KERNEL),
            initramfs: get(ENV_INITRAMFS),
            probe: get(ENV_PROBE),
        }
    })
}

struct Media {
    test_iso: Image,
    spaced_iso: Image,
}

/// The probe root and its ISOs, built once per test run.
fn media() -> &'static Media {
    static MEDIA: OnceLock<Result<Media, String>> = OnceLock::new();
    let built = MEDIA.get_or_init(|| {
        let build = || -> anyhow::Result<Media> {
            let work = out_dir().join("media");
            let root = LiveRoot::create(&work.join("root"), &LiveRootSpec::probe(&env().probe))?;
            let images = LiveImages::build(&root, Layout::FlatSquashfs, &work)?;
            Ok(Media {
                test_iso: images.iso(LABEL, &work.join("live.iso"))?,
                spaced_iso: images.iso(SPACED_LABEL, &work.join("live-spaced.iso"))?,
            })
        };
        build().map_err(|e| format!("{e:#}"))
    });
    match built {
        Ok(m) => m,
        Err(e) => panic!("building the test media failed: {e}"),
    }
}

/// Boots `iso` on a CD drive with `args`; panics on timeout.
fn boot(case: &str, iso: &Image, args: &str) -> BootOutcome {
    let env = env();
    let log = out_dir().join(format!("{case}.log"));
    let cfg = QemuConfig::new(&env.kernel, &env.initramfs, &log)
        .append(args)
        .drive(Drive::Cdrom(iso.path.clone()));
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

/// Boots and checks everything a successful live boot must show.
fn boot_live(case: &str, iso: &Image, args: &str) -> ProbeReport {
    let out = boot(case, iso, args);
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
    let check = |ok: bool, what: &str| {
        if !ok {
            fail(case, &out, &format!("{what}\nreport: {report:#?}"));
        }
    };
    check(report.pid == Some(1), "the probe is not PID 1");
    let root = report.root_mount();
    check(
        root.is_some_and(|m| m.fstype == "overlay"),
        "`/` is not an overlay mount",
    );
    check(
        root.is_some_and(|m| m.source == "LiveOS_rootfs"),
        "`/` does not have the source `LiveOS_rootfs`",
    );
    check(
        report.root_write == Some(Ok(())),
        "the write test on `/` failed",
    );
    check(
        report.live_mounted == Some(true),
        "/run/initramfs/live is not a mount point",
    );
    check(
        report
            .mount_at("/run/initramfs/live")
            .is_some_and(|m| m.fstype == "iso9660"),
        "/run/initramfs/live is not the iso9660 medium",
    );
    check(
        report
            .live_entries
            .iter()
            .any(|e| e == "LiveOS/squashfs.img"),
        "/run/initramfs/live does not contain LiveOS/squashfs.img",
    );
    check(
        matches!(report.run_entry("/run/rootfsbase"), Some(k) if *k != RunKind::Missing),
        "/run/rootfsbase does not exist",
    );
    let fd_numbers: Vec<u32> = report.fds.iter().map(|f| f.fd).collect();
    check(
        fd_numbers == [0, 1, 2],
        "PID 1 has other fds open than 0, 1, 2 (leaked by the init?)",
    );
    check(
        report.fds.iter().all(|f| f.is_console()),
        "PID 1's fds 0-2 are not the console (char device 5:1 or a tty)",
    );
    // The init reopens the console after the switch, so the real init does
    // not hold fds on the deleted initramfs node.
    check(
        report.fds.iter().all(|f| f.target == "/dev/console"),
        "PID 1's fds 0-2 do not point at the new root's /dev/console",
    );
    check(report.errors.is_empty(), "the probe reported errors");
    report
}

#[test]
fn live_cdlabel() {
    boot_live(
        "live_cdlabel",
        &media().test_iso,
        "root=live:CDLABEL=LIVEINIT_TEST",
    );
}

#[test]
fn live_cdlabel_with_space_quoted() {
    let m = media();
    assert_eq!(m.spaced_iso.label.as_deref(), Some(SPACED_LABEL));
    boot_live(
        "live_cdlabel_space_quoted",
        &m.spaced_iso,
        "root=\"live:CDLABEL=My Live Disk\"",
    );
}

#[test]
fn live_cdlabel_with_space_escaped() {
    boot_live(
        "live_cdlabel_space_escaped",
        &media().spaced_iso,
        "root=live:CDLABEL=My\\x20Live\\x20Disk",
    );
}

#[test]
fn legacy_rd_live_image_cdlabel() {
    boot_live(
        "legacy_rd_live_image",
        &media().test_iso,
        "rd.live.image root=CDLABEL=LIVEINIT_TEST",
    );
}

#[test]
fn live_uuid() {
    let iso = &media().test_iso;
    let Some(uuid) = iso.uuid.as_deref() else {
        panic!("blkid reports no UUID for {}", iso.path.display());
    };
    boot_live("live_uuid", iso, &format!("root=live:UUID={uuid}"));
}

#[test]
fn missing_label_fails_cleanly() {
    let case = "missing_label";
    let out = boot(
        case,
        &media().test_iso,
        "root=live:CDLABEL=NO_SUCH_LABEL rd.retry=5",
    );
    // It ended by itself (boot() fails on a timeout). rd.retry=5, the init's
    // pause and the kernel's boot take ~20 s of guest time; the wall clock
    // depends on the host (TCG, 2 boots in parallel), hence two bounds.
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
        .any(|l| l.contains("liveinit: FATAL:") && l.contains("NO_SUCH_LABEL"));
    if !fatal {
        fail(
            case,
            &out,
            "no `liveinit: FATAL:` line naming NO_SUCH_LABEL",
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
            "the probe ran although the medium does not exist",
        );
    }
}
