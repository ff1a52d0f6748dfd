//! Boot tests of bad input (issue 5): damaged images, wrong options, junk on
//! the command line, `init=` that is not there, a write-protected medium
//! asked for `rw`, the emergency policy (`rd.emergency`, `rd.break`,
//! `rd.shell`) and a writable layer that fills up. Run by `cargo xtask test`
//! after `tests/boot.rs`, with the same kernel and probe and two more
//! initramfs variants (with busybox; with junk in `etc/cmdline.d`).
//!
//! Every boot must end by itself, well inside its timeout, with the
//! expected message, and never with `Kernel panic` or `Attempted to kill
//! init`. A fatal error must print exactly one `liveinit: FATAL:` line,
//! then the summary (`liveinit: block devices: …`), then the action
//! (`liveinit: poweroff in 5 s (rd.emergency=poweroff)`), and the kernel
//! must then say `reboot: Power down` (or `reboot: Restarting system`).
//!
//! Media (built once per run, on first use, under
//! `target/qemu-tests/media-failures/`): a flattened SquashFS ISO, the same
//! with its `squashfs.img` overwritten at the start or cut in half, and a
//! `squashfs.img` holding a 64 MiB ext4 `rootfs.img` (room to overflow a
//! small snapshot COW).
//!
//! Console logs: `target/qemu-tests/<case>.log`.

mod common;

use common::{cdrom, shared, Shared};
use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::media::{
    cmdline_junk, cmdline_junk_conf, damaged_copy, Damage, Image, JunkStyle, Layout, LiveImages,
    LiveRoot, LiveRootSpec,
};
use qemu_tests::qemu::{self, BootOutcome, Console, ConsoleStep, Drive, QemuConfig};
use qemu_tests::report::{FillStop, ProbeReport, BEGIN};
use qemu_tests::{
    out_dir, ENV_INITRAMFS, ENV_INITRAMFS_BUSYBOX, ENV_INITRAMFS_JUNK, ENV_KERNEL, ENV_PROBE,
};

const LABEL: &str = "LIVEINIT_FAIL";
const CORRUPT_LABEL: &str = "LIVEINIT_CORRUPT";
const TRUNCATED_LABEL: &str = "LIVEINIT_TRUNC";
const FILL_LABEL: &str = "LIVEINIT_FILL";
/// The ext4 `rootfs.img` of the snapshot-overflow medium: much bigger than
/// the COW, so the COW fills up before the filesystem does.
const FILL_ROOTFS_MIB: u32 = 64;
const FILL_COW_MIB: u64 = 16;
const FILL_TMPFS_MIB: u64 = 8;
/// x86's `COMMAND_LINE_SIZE`: longer kernel command lines are cut (or
/// refused by QEMU).
const KERNEL_CMDLINE_MAX: usize = 2048;

const EIO: i32 = 5;
const ENOSPC: i32 = 28;

struct Env {
    kernel: PathBuf,
    initramfs: PathBuf,
    busybox_initramfs: PathBuf,
    junk_initramfs: PathBuf,
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
            busybox_initramfs: get(ENV_INITRAMFS_BUSYBOX),
            junk_initramfs: get(ENV_INITRAMFS_JUNK),
            probe: get(ENV_PROBE),
        }
    })
}

// ---------------------------------------------------------------------------
// Shared media, each built once per run on first use.

fn media_dir() -> PathBuf {
    out_dir().join("media-failures")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    shared(&C, "live root", || {
        LiveRoot::create(
            &media_dir().join("root"),
            &LiveRootSpec::probe(&env().probe),
        )
    })
}

fn flat_images() -> &'static LiveImages {
    static C: Shared<LiveImages> = OnceLock::new();
    shared(&C, "flattened squashfs", || {
        LiveImages::build(root(), Layout::FlatSquashfs, &media_dir())
    })
}

/// The good flattened SquashFS ISO.
fn good_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "live.iso", || {
        flat_images().iso(LABEL, &media_dir().join("live.iso"))
    })
}

/// The flattened ISO with its `squashfs.img` damaged by `damage`.
fn damaged_iso(label: &str, name: &str, damage: Damage) -> anyhow::Result<Image> {
    let [(path, host)] = flat_images().files.as_slice() else {
        anyhow::bail!("the flattened layout has more than one image");
    };
    let bad = media_dir().join(format!("{name}.squashfs.img"));
    damaged_copy(host, &bad, damage)?;
    LiveImages {
        layout: Layout::FlatSquashfs,
        files: vec![(path.clone(), bad)],
    }
    .iso(label, &media_dir().join(format!("{name}.iso")))
}

/// Garbage over the first 4 KiB of `squashfs.img` (superblock included).
fn corrupt_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "corrupt.iso", || {
        damaged_iso(
            CORRUPT_LABEL,
            "corrupt",
            Damage::GarbageHead { bytes: 4096 },
        )
    })
}

/// `squashfs.img` cut to half its size (its tables are at the end).
fn truncated_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "truncated.iso", || {
        damaged_iso(
            TRUNCATED_LABEL,
            "truncated",
            Damage::Truncate { percent: 50 },
        )
    })
}

/// `squashfs.img` holding a 64 MiB ext4 `LiveOS/rootfs.img`.
fn fill_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "nested-ext4-64m.iso", || {
        LiveImages::build_sized(root(), Layout::NestedExt4, &media_dir(), FILL_ROOTFS_MIB)?
            .iso(FILL_LABEL, &media_dir().join("nested-ext4-64m.iso"))
    })
}

// ---------------------------------------------------------------------------
// Booting and checking.

/// Which initramfs a boot gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Initramfs {
    /// What `cargo xtask initramfs` packs by default: no shell.
    Plain,
    /// With a static busybox as `/bin/sh`.
    Busybox,
    /// With 4 KiB of junk as `etc/cmdline.d/junk.conf`.
    Junk,
}

impl Initramfs {
    fn path(self) -> &'static PathBuf {
        let env = env();
        match self {
            Initramfs::Plain => &env.initramfs,
            Initramfs::Busybox => &env.busybox_initramfs,
            Initramfs::Junk => &env.junk_initramfs,
        }
    }
}

/// One boot to run.
struct Case {
    name: &'static str,
    initramfs: Initramfs,
    drives: Vec<Drive>,
    args: String,
    /// Typed into the console when their markers appear.
    steps: Vec<ConsoleStep>,
}

impl Case {
    fn new(name: &'static str, drives: Vec<Drive>, args: &str) -> Case {
        Case {
            name,
            initramfs: Initramfs::Plain,
            drives,
            args: args.to_string(),
            steps: Vec::new(),
        }
    }

    fn initramfs(mut self, initramfs: Initramfs) -> Case {
        self.initramfs = initramfs;
        self
    }

    fn type_after(mut self, marker: &str, input: &str) -> Case {
        self.steps.push(ConsoleStep::new(marker, input));
        self
    }

    fn config(&self) -> QemuConfig {
        let env = env();
        let log = out_dir().join(format!("{}.log", self.name));
        let console = if self.steps.is_empty() {
            Console::Log(log.clone())
        } else {
            Console::Scripted {
                log: log.clone(),
                steps: self.steps.clone(),
            }
        };
        self.drives.iter().cloned().fold(
            QemuConfig::new(&env.kernel, self.initramfs.path(), &log)
                .append(&self.args)
                .console(console),
            QemuConfig::drive,
        )
    }

    /// Boots; panics on a timeout, a kernel panic, a guest that ran for
    /// too long, or console input that could not be typed.
    fn boot(&self) -> BootOutcome {
        let cfg = self.config();
        let case = self.name;
        eprintln!("[{case}] booting: {}", cfg.cmdline());
        let out = match qemu::boot(&cfg) {
            Ok(out) => out,
            Err(e) => panic!("[{case}] {e:#}"),
        };
        let guest = qemu::last_kernel_timestamp(&out.log).unwrap_or(f64::MAX);
        eprintln!(
            "[{case}] QEMU exited after {:.1}s ({}); guest stopped at {guest:.1}s of uptime",
            out.elapsed.as_secs_f64(),
            out.status
        );
        for bad in ["Kernel panic", "Attempted to kill init"] {
            if out.log.contains(bad) {
                fail(case, &out, &format!("the log contains `{bad}`"));
            }
        }
        // The kernel's boot, the init's 5 s pause and the probe take
        // 10-20 s of guest time. (The wall clock, 2-3 times that on a busy
        // TCG host, is bounded by QEMU's timeout.)
        const GUEST_LIMIT: f64 = 60.0;
        if guest > GUEST_LIMIT {
            fail(
                case,
                &out,
                &format!(
                    "the guest ran for {guest:.0}s (limit {GUEST_LIMIT}s): does the init \
                     wait for nothing?"
                ),
            );
        }
        if out.steps_sent < self.steps.len() {
            fail(
                case,
                &out,
                &format!(
                    "only {} of the {} console inputs were typed: `{}` never appeared",
                    out.steps_sent,
                    self.steps.len(),
                    self.steps[out.steps_sent].wait_for
                ),
            );
        }
        out
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

fn check(case: &str, out: &BootOutcome, ok: bool, what: &str) {
    if !ok {
        fail(case, out, what);
    }
}

/// The console lines without the serial console's `\r`.
fn lines(out: &BootOutcome) -> Vec<&str> {
    out.log.lines().map(|l| l.trim_end_matches('\r')).collect()
}

/// The index of the first line at or after `from` containing all of `needles`.
fn find_line(lines: &[&str], from: usize, needles: &[&str]) -> Option<usize> {
    lines
        .iter()
        .skip(from)
        .position(|l| needles.iter().all(|n| l.contains(n)))
        .map(|i| i + from)
}

/// How a failed boot must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    PowerOff,
    Reboot,
}

impl Ending {
    fn action(self) -> &'static str {
        match self {
            Ending::PowerOff => "poweroff",
            Ending::Reboot => "reboot",
        }
    }

    /// What the kernel prints last.
    fn kernel_line(self) -> &'static str {
        match self {
            Ending::PowerOff => "reboot: Power down",
            Ending::Reboot => "reboot: Restarting system",
        }
    }
}

/// A fatal error: exactly one `liveinit: FATAL:` line, containing all of
/// `needles`; then the summary, the action, and the kernel carrying it out;
/// the probe never ran.
fn check_fatal(case: &str, out: &BootOutcome, needles: &[&str], ending: Ending) {
    let lines = lines(out);
    let fatal: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("liveinit: FATAL:"))
        .collect();
    let [at] = fatal.as_slice() else {
        fail(
            case,
            out,
            &format!(
                "expected one `liveinit: FATAL:` line, found {}",
                fatal.len()
            ),
        );
    };
    let at = *at;
    if !needles.iter().all(|n| lines[at].contains(n)) {
        fail(
            case,
            out,
            &format!(
                "the FATAL line does not contain all of {needles:?}:\n{}",
                lines[at]
            ),
        );
    }
    eprintln!("[{case}] {}", lines[at].trim());
    let Some(summary) = find_line(&lines, at, &["liveinit: block devices: "]) else {
        fail(
            case,
            out,
            "no `liveinit: block devices:` line after the FATAL line",
        );
    };
    let action = format!("liveinit: {0} in 5 s (rd.emergency={0})", ending.action());
    let Some(act) = find_line(&lines, summary, &[&action]) else {
        fail(case, out, &format!("no `{action}` line after the summary"));
    };
    check(
        case,
        out,
        find_line(&lines, act, &[ending.kernel_line()]).is_some(),
        &format!(
            "the kernel did not say `{}` after the action",
            ending.kernel_line()
        ),
    );
    check(
        case,
        out,
        !out.log.contains(BEGIN),
        "the probe ran although the boot should have failed",
    );
}

/// Boots a case that must fail with a FATAL line containing `needles` and
/// power off.
fn boot_fatal(case: Case, needles: &[&str]) -> BootOutcome {
    let out = case.boot();
    check_fatal(case.name, &out, needles, Ending::PowerOff);
    out
}

/// A boot that must reach the probe: its report, with the probe as PID 1
/// and the machine powered off by it.
fn boot_probe(case: &Case) -> (BootOutcome, ProbeReport) {
    let out = case.boot();
    let report = match ProbeReport::parse_log(&out.log) {
        Ok(r) => r,
        Err(e) => fail(case.name, &out, &format!("{e:#}")),
    };
    check(
        case.name,
        &out,
        report.pid == Some(1),
        &format!("the probe is not PID 1 (pid {:?})", report.pid),
    );
    check(
        case.name,
        &out,
        !out.log.contains("liveinit: FATAL:"),
        "the init reported a FATAL error",
    );
    check(
        case.name,
        &out,
        out.log.contains("reboot: Power down"),
        "the probe did not power the machine off",
    );
    (out, report)
}

// ---------------------------------------------------------------------------
// Damaged images.

#[test]
fn corrupted_squashfs_img_fails_cleanly() {
    boot_fatal(
        Case::new(
            "fail_corrupt_squashfs",
            vec![cdrom(corrupt_iso())],
            "root=live:CDLABEL=LIVEINIT_CORRUPT",
        ),
        &[
            "FATAL: mount image: /run/initramfs/live/LiveOS/squashfs.img: ",
            "damaged or truncated",
        ],
    );
}

/// Half a `squashfs.img`: its superblock is intact, so the init takes it
/// for SquashFS and the kernel refuses to mount it. The boot ends cleanly.
#[test]
fn truncated_squashfs_img_fails_cleanly() {
    boot_fatal(
        Case::new(
            "fail_truncated_squashfs",
            vec![cdrom(truncated_iso())],
            "root=live:CDLABEL=LIVEINIT_TRUNC",
        ),
        &["FATAL: mount image: "],
    );
}

/// The same boot: the FATAL line must also name the image, not only the
/// loop device it is on.
#[test]
fn truncated_squashfs_img_fatal_names_the_image() {
    boot_fatal(
        Case::new(
            "fail_truncated_squashfs_named",
            vec![cdrom(truncated_iso())],
            "root=live:CDLABEL=LIVEINIT_TRUNC",
        ),
        &["FATAL: mount image: ", "LiveOS/squashfs.img"],
    );
}

// ---------------------------------------------------------------------------
// Wrong options.

/// The image is looked for in a directory the medium does not have: the
/// FATAL line names the path it looked for and what the medium holds.
#[test]
fn rd_live_dir_nowhere_fails_cleanly() {
    boot_fatal(
        Case::new(
            "fail_live_dir_nowhere",
            vec![cdrom(good_iso())],
            "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere",
        ),
        &[
            "mount image: /run/initramfs/live/nowhere/squashfs.img",
            "rd.live.dir=nowhere",
            "LiveOS",
        ],
    );
}

/// `rd.live.overlay.size=<bad>`: fatal at `command line` before anything
/// is looked for. (No medium and a short `rd.retry`: if the value were
/// accepted, the boot would still end quickly, with another message.)
fn bad_overlay_size(name: &'static str, value: &str) {
    let option = format!("rd.live.overlay.size={value}");
    boot_fatal(
        Case::new(
            name,
            Vec::new(),
            &format!("root=live:CDLABEL=LIVEINIT_FAIL {option} rd.retry=3"),
        ),
        &[
            &format!("FATAL: command line: {option}: "),
            "expected a size in MiB greater than 0",
        ],
    );
}

#[test]
fn overlay_size_not_a_number_fails_cleanly() {
    bad_overlay_size("fail_overlay_size_abc", "abc");
}

#[test]
fn overlay_size_zero_fails_cleanly() {
    bad_overlay_size("fail_overlay_size_0", "0");
}

#[test]
fn overlay_size_negative_fails_cleanly() {
    bad_overlay_size("fail_overlay_size_negative", "-5");
}

#[test]
fn empty_root_live_fails_cleanly() {
    boot_fatal(
        Case::new("fail_root_live_empty", Vec::new(), "root=live: rd.retry=3"),
        &[
            "FATAL: command line: root=live:: ",
            "empty device specification",
        ],
    );
}

#[test]
fn unknown_root_live_form_fails_cleanly() {
    boot_fatal(
        Case::new(
            "fail_root_live_nonsense",
            Vec::new(),
            "root=live:nonsense rd.retry=3",
        ),
        &[
            "FATAL: command line: root=live:nonsense: ",
            "'nonsense'",
            "expected LABEL=, CDLABEL=, UUID=",
        ],
    );
}

// ---------------------------------------------------------------------------
// A command line of 6 KiB of junk: 4 KiB in the initramfs's
// etc/cmdline.d/junk.conf (read before /proc/cmdline) and ~1.9 KiB on the
// kernel's (which x86 cuts at 2048 bytes).

/// The kernel's part of the junk, with `tail` after it, and the command
/// line QEMU gets (checked to fit).
fn junk_case(name: &'static str, drives: Vec<Drive>, tail: &str) -> Case {
    let junk = String::from_utf8(cmdline_junk(1900, 0x4b, JunkStyle::Kernel))
        .expect("kernel junk is ASCII");
    let case = Case::new(name, drives, &format!("{junk} {tail}")).initramfs(Initramfs::Junk);
    let len = case.config().cmdline().len();
    assert!(
        (1900..KERNEL_CMDLINE_MAX).contains(&len),
        "the kernel command line is {len} bytes; it must fit in {KERNEL_CMDLINE_MAX}"
    );
    case
}

/// The first word of the junk file, as the init's log shows it.
fn first_conf_junk_word() -> String {
    let conf = String::from_utf8_lossy(&cmdline_junk_conf()).into_owned();
    conf.split_whitespace()
        .find(|w| w.starts_with("junk") && w.is_ascii() && !w.contains('"'))
        .expect("the junk has plain words")
        .to_string()
}

/// With a valid `root=` after all the junk, the boot goes on: the probe
/// sees the whole kernel command line, and the init read the junk file.
#[test]
fn junk_command_line_with_root_boots() {
    let case = junk_case(
        "junk_cmdline_with_root",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL",
    );
    let (out, report) = boot_probe(&case);
    let name = case.name;
    check(
        name,
        &out,
        report.cmdline.as_deref() == Some(case.config().cmdline().as_str()),
        "the probe's /proc/cmdline is not the command line QEMU was given",
    );
    let word = first_conf_junk_word();
    check(
        name,
        &out,
        lines(&out)
            .iter()
            .any(|l| l.contains("liveinit: command line: ") && l.contains(&word)),
        &format!("the init's `command line:` line does not show the junk file ({word})"),
    );
    check(
        name,
        &out,
        report.root_mount().is_some_and(|m| m.fstype == "overlay"),
        "`/` is not the overlay",
    );
    check(
        name,
        &out,
        report.root_write == Some(Ok(())),
        "the write test on `/` failed",
    );
}

/// Junk and no `root=` at all: a clear FATAL about the missing root.
#[test]
fn junk_command_line_without_root_fails_cleanly() {
    boot_fatal(
        junk_case("fail_junk_cmdline_no_root", Vec::new(), "rd.retry=3"),
        &["FATAL: command line: ", "no root="],
    );
}

// ---------------------------------------------------------------------------
// Recoverable mistakes: a warning, and the boot goes on.

/// `init=` that is not in the new root: warn, then the fallback
/// (/sbin/init, the probe) runs as PID 1.
#[test]
fn init_not_there_falls_back() {
    let case = Case::new(
        "init_not_there",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL init=/not/there",
    );
    let (out, report) = boot_probe(&case);
    check(
        case.name,
        &out,
        lines(&out).iter().any(|l| {
            l.contains("liveinit: ")
                && l.contains(
                    "init=/not/there is not an executable file in the new root; \
                     trying the fallbacks",
                )
        }),
        "no warning that init=/not/there is not there",
    );
    check(
        case.name,
        &out,
        report.argv.first().map(String::as_str) == Some("/sbin/init"),
        &format!(
            "the fallback that ran is not /sbin/init: argv {:?}",
            report.argv
        ),
    );
}

/// `rw` with the ISO on a CD (write-protected): a warning, the medium
/// mounted read-only, and the live system works as usual.
#[test]
fn rw_on_write_protected_cd_mounts_read_only() {
    let case = Case::new(
        "rw_on_cd",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rw",
    );
    let (out, report) = boot_probe(&case);
    check(
        case.name,
        &out,
        lines(&out).iter().any(|l| {
            l.contains("liveinit: ") && l.contains("is write-protected; mounting it read-only")
        }),
        "no warning that the medium is write-protected",
    );
    let live = report.mount_at("/run/initramfs/live");
    check(
        case.name,
        &out,
        live.is_some_and(|m| m.fstype == "iso9660" && m.has_option("ro")),
        &format!("/run/initramfs/live is not the ISO mounted read-only: {live:?}"),
    );
    check(
        case.name,
        &out,
        report.root_write == Some(Ok(())),
        "the write test on `/` failed",
    );
}

// ---------------------------------------------------------------------------
// The emergency policy. (Every fatal boot above checks the default:
// `poweroff in 5 s (rd.emergency=poweroff)` and the kernel's `Power down`.)

/// `rd.emergency=reboot`: the kernel restarts (and QEMU, run with
/// `-no-reboot`, exits).
#[test]
fn rd_emergency_reboot_restarts() {
    let case = Case::new(
        "fail_emergency_reboot",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere rd.emergency=reboot",
    );
    let out = case.boot();
    check_fatal(case.name, &out, &["nowhere/squashfs.img"], Ending::Reboot);
    check(
        case.name,
        &out,
        !out.log.contains("reboot: Power down"),
        "the machine powered off instead of restarting",
    );
}

/// `rd.break=pre-mount` without a shell in the initramfs cannot stop:
/// that is an error, and the machine powers off.
#[test]
fn rd_break_without_shell_fails_cleanly() {
    boot_fatal(
        Case::new(
            "fail_break_no_shell",
            vec![cdrom(good_iso())],
            "root=live:CDLABEL=LIVEINIT_FAIL rd.break=pre-mount",
        ),
        &[
            "FATAL: break: rd.break=pre-mount: no shell in this initramfs to break into",
            "cargo xtask initramfs --busybox",
        ],
    );
}

/// `rd.break=pre-mount` with busybox: a shell on the console; a command
/// typed there runs, and when the shell exits the boot continues to the
/// real init.
#[test]
fn rd_break_with_shell_continues_the_boot() {
    let case = Case::new(
        "break_pre_mount_shell",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.break=pre-mount",
    )
    .initramfs(Initramfs::Busybox)
    // The output (`BREAK-SHELL-42`) differs from the echoed input.
    .type_after(
        "liveinit (rd.break=pre-mount):",
        "echo BREAK-SHELL-$((40+2)); exit\n",
    );
    let (out, report) = boot_probe(&case);
    let lines = lines(&out);
    let prompt = find_line(&lines, 0, &["liveinit (rd.break=pre-mount):"]);
    let ran = prompt.and_then(|p| {
        (p..lines.len())
            .find(|&i| lines[i].trim().ends_with("BREAK-SHELL-42") && !lines[i].contains("echo"))
    });
    let Some(ran) = ran else {
        fail(
            case.name,
            &out,
            "the command typed into the break shell did not run",
        );
    };
    let Some(exited) = find_line(&lines, ran, &["liveinit: shell exited with status 0"]) else {
        fail(
            case.name,
            &out,
            "no `shell exited with status 0` after the command",
        );
    };
    check(
        case.name,
        &out,
        find_line(
            &lines,
            exited,
            &["liveinit: rd.break=pre-mount: continuing the boot"],
        )
        .is_some(),
        "the init did not say it continues the boot",
    );
    check(
        case.name,
        &out,
        report.mount_at("/run/initramfs/live").is_some(),
        "the medium is not mounted after the break",
    );
}

/// `rd.shell` on a failing boot with busybox: after the FATAL line and the
/// summary, an emergency shell; when it exits, the machine powers off.
#[test]
fn rd_shell_on_fatal_error_then_power_off() {
    let case = Case::new(
        "fail_emergency_shell",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere rd.shell",
    )
    .initramfs(Initramfs::Busybox)
    .type_after(
        "liveinit (emergency):",
        "echo EMERGENCY-SHELL-$((6*7)); exit\n",
    );
    let out = case.boot();
    check_fatal(case.name, &out, &["nowhere/squashfs.img"], Ending::PowerOff);
    let lines = lines(&out);
    let Some(fatal) = find_line(&lines, 0, &["liveinit: FATAL:"]) else {
        unreachable!("check_fatal found it")
    };
    let Some(offer) = find_line(
        &lines,
        fatal,
        &["liveinit: rd.shell: starting an emergency shell"],
    ) else {
        fail(
            case.name,
            &out,
            "no emergency shell was offered after the FATAL line",
        );
    };
    let ran = (offer..lines.len())
        .find(|&i| lines[i].trim().ends_with("EMERGENCY-SHELL-42") && !lines[i].contains("echo"));
    let Some(ran) = ran else {
        fail(
            case.name,
            &out,
            "the command typed into the emergency shell did not run",
        );
    };
    check(
        case.name,
        &out,
        find_line(&lines, ran, &["liveinit: shell exited with status 0"]).is_some()
            && find_line(&lines, ran, &["liveinit: poweroff in 5 s"]).is_some(),
        "no `shell exited` and `poweroff in 5 s` after the shell",
    );
}

// ---------------------------------------------------------------------------
// The writable layer fills up: the writer gets an error, the system keeps
// running.

/// The fill stopped on an error among `errnos`, before `max_mib`, and the
/// system still answered afterwards.
fn check_fill(case: &str, out: &BootOutcome, report: &ProbeReport, errnos: &[i32], max_mib: u64) {
    let Some(fill) = &report.fill else {
        fail(case, out, "the probe did not run the fill test");
    };
    eprintln!(
        "[{case}] fill: {} MiB written, then {:?}",
        fill.written_mib.unwrap_or(0),
        fill.stop
    );
    check(
        case,
        out,
        fill.mlock == Some(Ok(())),
        "the probe could not lock itself in RAM",
    );
    match &fill.stop {
        Some(FillStop::Error { errno, .. }) if errnos.contains(errno) => {}
        other => fail(
            case,
            out,
            &format!("the fill did not stop with an error in {errnos:?}: {other:?}"),
        ),
    }
    check(
        case,
        out,
        fill.written_mib.is_some_and(|w| w <= max_mib),
        &format!(
            "more than {max_mib} MiB were written: {:?}",
            fill.written_mib
        ),
    );
    for what in ["uptime", "ls_root", "read_image_file"] {
        match report.after_check(what) {
            Some(Ok(_)) => {}
            other => fail(
                case,
                out,
                &format!("after the fill, `{what}` failed: {other:?}"),
            ),
        }
    }
    check(
        case,
        out,
        report
            .after_check("ls_root")
            .is_some_and(|r| r.as_ref().is_ok_and(|names| names.contains("sbin"))),
        "listing `/` after the fill does not show sbin",
    );
}

/// Nested ext4 rootfs.img (64 MiB) under the default device-mapper
/// snapshot with a 16 MiB COW: writing 48 MiB overflows the COW. With
/// dracut's `PO` table the snapshot turns read-only (writes fail with
/// EIO) instead of going invalid, so reads keep working.
#[test]
fn snapshot_cow_overflow_keeps_the_system_running() {
    let case = Case::new(
        "fill_snapshot_cow",
        vec![cdrom(fill_iso())],
        &format!(
            "root=live:CDLABEL=LIVEINIT_FILL rd.live.overlay.size={FILL_COW_MIB} \
             liveinit.probe.fill=48"
        ),
    );
    let (out, report) = boot_probe(&case);
    let name = case.name;
    check(
        name,
        &out,
        report
            .root_mount()
            .is_some_and(|m| m.source == "/dev/mapper/live-rw"),
        "`/` is not /dev/mapper/live-rw",
    );
    check(
        name,
        &out,
        report
            .loops
            .iter()
            .any(|l| l.backing.starts_with("/overlay") && l.sectors == Some(FILL_COW_MIB * 2048)),
        &format!("there is no {FILL_COW_MIB} MiB COW loop on /overlay"),
    );
    check_fill(name, &out, &report, &[EIO, ENOSPC], FILL_COW_MIB);
    for l in &report.kmsg {
        eprintln!("[{name}] kernel: {l}");
    }
    check(
        name,
        &out,
        report
            .kmsg
            .iter()
            .any(|l| l.contains("snapshot") && l.to_lowercase().contains("overflow")),
        "the kernel log does not say the snapshot overflowed",
    );
}

/// `rd.overlay=tmpfs:size=8M` on a flattened image: the overlayfs upper
/// layer is an 8 MiB tmpfs; writing 32 MiB gets ENOSPC.
#[test]
fn tmpfs_overlay_full_keeps_the_system_running() {
    let case = Case::new(
        "fill_tmpfs_overlay",
        vec![cdrom(good_iso())],
        &format!(
            "root=live:CDLABEL=LIVEINIT_FAIL rd.overlay=tmpfs:size={FILL_TMPFS_MIB}M \
             liveinit.probe.fill=32"
        ),
    );
    let (out, report) = boot_probe(&case);
    let upper = report.mount_at("/run/initramfs/overlay");
    check(
        case.name,
        &out,
        upper.is_some_and(|m| {
            m.fstype == "tmpfs"
                && m.super_option("size") == Some(&format!("{}k", FILL_TMPFS_MIB * 1024))
        }),
        &format!("/run/initramfs/overlay is not an {FILL_TMPFS_MIB} MiB tmpfs: {upper:?}"),
    );
    check_fill(case.name, &out, &report, &[ENOSPC], FILL_TMPFS_MIB);
}
