//! Boot tests of bad input: damaged images, wrong options, junk on the
//! command line, `init=` that is not there, a write-protected medium asked
//! for `rw`, the emergency policy (`rd.emergency`, `rd.break`, `rd.shell`)
//! and a writable layer that fills up. Run by `cargo xtask test` after
//! `tests/boot.rs`, with the same kernel and probe and two more initramfs
//! variants (with busybox; with junk in `etc/cmdline.d`).
//!
//! Every boot must end by itself within the harness's guest time limit,
//! with the expected message, and never with `Kernel panic` or `Attempted
//! to kill init`. A fatal error is what `qemu_tests::verdict::Fatal` says:
//! exactly one `liveinit: FATAL:` line, then the summary (`liveinit: block
//! devices: …`), then the action (`liveinit: poweroff in 5 s
//! (rd.emergency=poweroff)`), then the kernel's `reboot: Power down` (or
//! `reboot: Restarting system`).
//!
//! Media (built once per run, on first use, under
//! `target/qemu-tests/media-failures/`): a flattened SquashFS ISO, the same
//! with its `squashfs.img` overwritten at the start or cut in half, the
//! same with an implanted MD5 and then one flipped bit, and a
//! `squashfs.img` holding a 64 MiB ext4 `rootfs.img` (room to overflow a
//! small snapshot COW).
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{cdrom, probe_root, shared, Case, Initramfs, Probed, Shared, FLAT_ISO};
use qemu_tests::media::{
    cmdline_junk, cmdline_junk_conf, damaged_copy, Damage, Image, JunkStyle, Layout, LiveImages,
    LiveRoot,
};
use qemu_tests::out_dir;
use qemu_tests::qemu::Drive;
use qemu_tests::report::FillStop;
use qemu_tests::verdict::{find_line, Ending, Fatal, FATAL_MARK};

const LABEL: &str = "LIVEINIT_FAIL";
const CORRUPT_LABEL: &str = "LIVEINIT_CORRUPT";
const TRUNCATED_LABEL: &str = "LIVEINIT_TRUNC";
const FILL_LABEL: &str = "LIVEINIT_FILL";
const CHECKED_LABEL: &str = "LIVEINIT_MD5BAD";
/// The ext4 `rootfs.img` of the snapshot-overflow medium: much bigger than
/// the COW, so the COW fills up before the filesystem does.
const FILL_ROOTFS_MIB: u32 = 64;
const FILL_COW_MIB: u64 = 16;
const FILL_TMPFS_MIB: u64 = 8;
/// The small machine whose RAM the default (32 GiB) COW would exhaust,
/// and the sparse ext4 `rootfs.img` much bigger than half of it.
const SMALL_RAM_MB: u32 = 256;
const BIG_ROOTFS_MIB: u32 = 1024;
/// x86's `COMMAND_LINE_SIZE`: longer kernel command lines are cut (or
/// refused by QEMU).
const KERNEL_CMDLINE_MAX: usize = 2048;

const EIO: i32 = 5;
const ENOSPC: i32 = 28;

// ---------------------------------------------------------------------------
// Shared media, each built once per run on first use.

fn media_dir() -> PathBuf {
    out_dir().join("media-failures")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
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

/// The flattened ISO with 2 MiB of filler and isomd5sum's MD5 implanted,
/// then one bit flipped at 5% of it: inside `squashfs.img`, which
/// xorriso puts before the filler.
fn flipped_checked_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "md5-flipped.iso", || {
        let intact = media_dir().join("md5-intact.iso");
        flat_images().checked_iso(CHECKED_LABEL, 2, &intact)?;
        let out = media_dir().join("md5-flipped.iso");
        damaged_copy(&intact, &out, Damage::FlipByte { percent: 5 })?;
        Image::probe(&out)
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

/// `squashfs.img` holding a 1 GiB (sparse) ext4 `LiveOS/rootfs.img`.
fn big_rootfs_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "nested-ext4-1g.iso", || {
        LiveImages::build_sized(root(), Layout::NestedExt4, &media_dir(), BIG_ROOTFS_MIB)?
            .iso(FILL_LABEL, &media_dir().join("nested-ext4-1g.iso"))
    })
}

// ---------------------------------------------------------------------------
// Damaged images.

/// With `printk.devkmsg=off` the kernel drops what the init writes to
/// `/dev/kmsg` without a word: the FATAL line must reach the console anyway.
#[test]
fn the_fatal_line_reaches_the_console_when_the_kernel_drops_kmsg() {
    Case::new(
        "fail_devkmsg_off",
        vec![cdrom(good_iso())],
        "printk.devkmsg=off root=live:CDLABEL=NO_SUCH_LABEL rd.retry=3",
    )
    .boot_fatal(&["FATAL: find medium: LABEL=NO_SUCH_LABEL"]);
}

/// The same medium on a CD and on a disk: two devices carry its label, and
/// the init names both instead of booting whichever it saw first.
#[test]
fn two_drives_with_the_same_label_are_named_not_guessed() {
    let iso = good_iso();
    Case::new(
        "fail_duplicate_label",
        vec![
            cdrom(iso),
            Drive::VirtioDisk {
                path: iso.path.clone(),
                readonly: true,
            },
        ],
        "root=live:CDLABEL=LIVEINIT_FAIL",
    )
    .boot_fatal(&[
        "FATAL: find medium: LABEL=LIVEINIT_FAIL: 2 devices match",
        "/dev/sr0",
        "/dev/vda",
    ]);
}

/// `rd.live.check` on an ISO whose implanted MD5 no longer matches: FATAL
/// naming the medium before it is mounted, then the emergency action.
#[test]
fn media_check_of_a_damaged_iso_is_fatal() {
    let b = Case::new(
        "fail_media_check",
        vec![cdrom(flipped_checked_iso())],
        "root=live:CDLABEL=LIVEINIT_MD5BAD rd.live.check",
    )
    .boot_fatal(&[
        "FATAL: check medium: /dev/sr0: its contents do not match the MD5 checksum",
        "the medium is damaged",
    ]);
    // The summary lists the mounts made: the medium must not be one.
    b.check(
        !b.has_line(&["/run/initramfs/live"]),
        "the damaged medium was mounted before the check failed",
    );
}

/// `iso-scan/filename=` names a file no filesystem holds: FATAL naming the
/// path and each filesystem looked on.
#[test]
fn iso_scan_without_the_file_names_every_filesystem_searched() {
    Case::new(
        "fail_iso_scan",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=NOT_THERE iso-scan/filename=/isos/none.iso \
         rd.liveinit.idle=2 rd.liveinit.idle.slow=2",
    )
    .boot_fatal(&[
        "FATAL: iso-scan: /isos/none.iso: not found on any filesystem",
        "looked on /dev/sr0 (iso9660)",
    ]);
}

#[test]
fn corrupted_squashfs_img_fails_cleanly() {
    Case::new(
        "fail_corrupt_squashfs",
        vec![cdrom(corrupt_iso())],
        "root=live:CDLABEL=LIVEINIT_CORRUPT",
    )
    .boot_fatal(&[
        "FATAL: mount image: /run/initramfs/live/LiveOS/squashfs.img: ",
        "damaged or truncated",
    ]);
}

/// Half a `squashfs.img`: its superblock is intact, so the init takes it
/// for SquashFS and the kernel refuses to mount it. The boot ends cleanly.
#[test]
fn truncated_squashfs_img_fails_cleanly() {
    Case::new(
        "fail_truncated_squashfs",
        vec![cdrom(truncated_iso())],
        "root=live:CDLABEL=LIVEINIT_TRUNC",
    )
    .boot_fatal(&["FATAL: mount image: "]);
}

/// The same boot: the FATAL line must also name the image, not only the
/// loop device it is on.
#[test]
fn truncated_squashfs_img_fatal_names_the_image() {
    Case::new(
        "fail_truncated_squashfs_named",
        vec![cdrom(truncated_iso())],
        "root=live:CDLABEL=LIVEINIT_TRUNC",
    )
    .boot_fatal(&["FATAL: mount image: ", "LiveOS/squashfs.img"]);
}

// ---------------------------------------------------------------------------
// Wrong options.

/// The image is looked for in a directory the medium does not have: the
/// FATAL line names the path it looked for and what the medium holds.
#[test]
fn rd_live_dir_nowhere_fails_cleanly() {
    Case::new(
        "fail_live_dir_nowhere",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere",
    )
    .boot_fatal(&[
        "mount image: /run/initramfs/live/nowhere/squashfs.img",
        "rd.live.dir=nowhere",
        "LiveOS",
    ]);
}

/// `rd.live.ram` on a machine with 1 GiB: the image and the default
/// `rd.minmem` (1024 MiB) do not fit, which is said with the sizes before a
/// byte is copied.
#[test]
fn live_ram_without_room_fails_cleanly() {
    Case::new(
        "fail_live_ram_without_room",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.ram",
    )
    .boot_fatal(&[
        "FATAL: copy to RAM: /run/initramfs/live/LiveOS/squashfs.img: the image (",
        "MiB) does not fit in RAM: ",
        "MiB total, 1024 MiB of which must stay free (rd.minmem)",
    ]);
}

/// `rd.live.overlay.size=<bad>`: fatal at `command line` before anything
/// is looked for. (No medium and a short `rd.retry`: if the value were
/// accepted, the boot would still end quickly, with another message.)
fn bad_overlay_size(name: &'static str, value: &str) {
    let option = format!("rd.live.overlay.size={value}");
    Case::new(
        name,
        Vec::new(),
        &format!("root=live:CDLABEL=LIVEINIT_FAIL {option} rd.retry=3"),
    )
    .boot_fatal(&[
        &format!("FATAL: command line: {option}: "),
        "expected a size in MiB greater than 0",
    ]);
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
    Case::new("fail_root_live_empty", Vec::new(), "root=live: rd.retry=3").boot_fatal(&[
        "FATAL: command line: root=live:: ",
        "empty device specification",
    ]);
}

#[test]
fn unknown_root_live_form_fails_cleanly() {
    Case::new(
        "fail_root_live_nonsense",
        Vec::new(),
        "root=live:nonsense rd.retry=3",
    )
    .boot_fatal(&[
        "FATAL: command line: root=live:nonsense: ",
        "'nonsense'",
        "expected LABEL=, CDLABEL=, UUID=",
    ]);
}

// ---------------------------------------------------------------------------
// A command line of 6 KiB of junk: 4 KiB in the initramfs's
// etc/cmdline.d/junk.conf (read before /proc/cmdline) and ~1.9 KiB on the
// kernel's (which x86 cuts at 2048 bytes).

/// The kernel's part of the junk, with `tail` after it, and the command
/// line QEMU gets (checked to fit).
fn junk_case(name: &str, drives: Vec<Drive>, tail: &str) -> Case {
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
/// sees the whole kernel command line, the init read the junk file, and
/// the live root is what the flattened ISO always gives.
#[test]
fn junk_command_line_with_root_boots() {
    let case = junk_case(
        "junk_cmdline_with_root",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL",
    );
    let b = case.boot_live(&FLAT_ISO);
    b.check(
        b.report.cmdline.as_deref() == Some(case.config().cmdline().as_str()),
        "the probe's /proc/cmdline is not the command line QEMU was given",
    );
    let word = first_conf_junk_word();
    b.check(
        b.ended.has_line(&["liveinit: command line: ", &word]),
        &format!("the init's `command line:` line does not show the junk file ({word})"),
    );
}

/// Junk and no `root=` at all: a clear FATAL about the missing root.
#[test]
fn junk_command_line_without_root_fails_cleanly() {
    junk_case("fail_junk_cmdline_no_root", Vec::new(), "rd.retry=3")
        .boot_fatal(&["FATAL: command line: ", "no root="]);
}

// ---------------------------------------------------------------------------
// Recoverable mistakes: a warning, and the boot goes on.

/// `init=` that is not in the new root: warn, then the fallback
/// (/sbin/init, the probe) runs as PID 1.
#[test]
fn init_not_there_falls_back() {
    let b = Case::new(
        "init_not_there",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL init=/not/there",
    )
    .boot_live(&FLAT_ISO);
    b.check(
        b.ended.has_line(&[
            "liveinit: ",
            "init=/not/there is not an executable file in the new root; trying the fallbacks",
        ]),
        "no warning that init=/not/there is not there",
    );
    b.check(
        b.report.argv.first().map(String::as_str) == Some("/sbin/init"),
        &format!(
            "the fallback that ran is not /sbin/init: argv {:?}",
            b.report.argv
        ),
    );
}

/// `rw` with the ISO on a CD (write-protected): a warning, the medium
/// mounted read-only (which [`FLAT_ISO`] checks), and the live system works
/// as usual.
#[test]
fn rw_on_write_protected_cd_mounts_read_only() {
    let b = Case::new(
        "rw_on_cd",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rw",
    )
    .boot_live(&FLAT_ISO);
    b.check(
        b.ended
            .has_line(&["liveinit: ", "is write-protected; mounting it read-only"]),
        "no warning that the medium is write-protected",
    );
}

// ---------------------------------------------------------------------------
// The emergency policy. (Every fatal boot above checks the default:
// `poweroff in 5 s (rd.emergency=poweroff)` and the kernel's `Power down`.)

/// `rd.emergency=reboot`: the kernel restarts (and QEMU, run with
/// `-no-reboot`, exits).
#[test]
fn rd_emergency_reboot_restarts() {
    let ended = Case::new(
        "fail_emergency_reboot",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere rd.emergency=reboot",
    )
    .boot_fatal_as(&Fatal {
        needles: &["nowhere/squashfs.img"],
        ending: Ending::Reboot,
    });
    ended.check(
        !ended.out.log.contains("reboot: Power down"),
        "the machine powered off instead of restarting",
    );
}

/// `rd.break=pre-mount` without a shell in the initramfs cannot stop:
/// that is an error, and the machine powers off.
#[test]
fn rd_break_without_shell_fails_cleanly() {
    Case::new(
        "fail_break_no_shell",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.break=pre-mount",
    )
    .boot_fatal(&[
        "FATAL: break: rd.break=pre-mount: no shell in this initramfs to break into",
        "cargo xtask initramfs --busybox",
    ]);
}

/// The first line at or after `from` that shows the output `output` of a
/// command typed into a shell (not the echoed command line itself).
fn shell_output(lines: &[&str], from: usize, output: &str) -> Option<usize> {
    (from..lines.len()).find(|&i| lines[i].trim().ends_with(output) && !lines[i].contains("echo"))
}

/// `rd.break=pre-mount` with busybox: a shell on the console; a command
/// typed there runs, and when the shell exits the boot continues to the
/// real init.
#[test]
fn rd_break_with_shell_continues_the_boot() {
    let b = Case::new(
        "break_pre_mount_shell",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.break=pre-mount",
    )
    .initramfs(Initramfs::Busybox)
    // The output (`BREAK-SHELL-42`) differs from the echoed input.
    .type_after(
        "liveinit (rd.break=pre-mount):",
        "echo BREAK-SHELL-$((40+2)); exit\n",
    )
    .boot_live(&FLAT_ISO);
    let lines = b.ended.lines();
    let prompt = find_line(&lines, 0, &["liveinit (rd.break=pre-mount):"]);
    let Some(ran) = prompt.and_then(|p| shell_output(&lines, p, "BREAK-SHELL-42")) else {
        b.fail("the command typed into the break shell did not run");
    };
    let Some(exited) = find_line(&lines, ran, &["liveinit: shell exited with status 0"]) else {
        b.fail("no `shell exited with status 0` after the command");
    };
    b.check(
        find_line(
            &lines,
            exited,
            &["liveinit: rd.break=pre-mount: continuing the boot"],
        )
        .is_some(),
        "the init did not say it continues the boot",
    );
}

/// `rd.shell` on a failing boot with busybox: after the FATAL line and the
/// summary, an emergency shell; when it exits, the machine powers off.
#[test]
fn rd_shell_on_fatal_error_then_power_off() {
    let ended = Case::new(
        "fail_emergency_shell",
        vec![cdrom(good_iso())],
        "root=live:CDLABEL=LIVEINIT_FAIL rd.live.dir=nowhere rd.shell",
    )
    .initramfs(Initramfs::Busybox)
    .type_after(
        "liveinit (emergency):",
        "echo EMERGENCY-SHELL-$((6*7)); exit\n",
    )
    .boot_fatal(&["nowhere/squashfs.img"]);
    let lines = ended.lines();
    let Some(fatal) = find_line(&lines, 0, &[FATAL_MARK]) else {
        unreachable!("boot_fatal found it")
    };
    let Some(offer) = find_line(
        &lines,
        fatal,
        &["liveinit: rd.shell: starting an emergency shell"],
    ) else {
        ended.fail("no emergency shell was offered after the FATAL line");
    };
    let Some(ran) = shell_output(&lines, offer, "EMERGENCY-SHELL-42") else {
        ended.fail("the command typed into the emergency shell did not run");
    };
    ended.check(
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
fn check_fill(b: &Probed, errnos: &[i32], max_mib: u64) {
    let Some(fill) = &b.report.fill else {
        b.fail("the probe did not run the fill test");
    };
    eprintln!(
        "[{}] fill: {} MiB written, then {:?}",
        b.name(),
        fill.written_mib.unwrap_or(0),
        fill.stop
    );
    b.check(
        fill.mlock == Some(Ok(())),
        "the probe could not lock itself in RAM",
    );
    match &fill.stop {
        Some(FillStop::Error { errno, .. }) if errnos.contains(errno) => {}
        other => b.fail(&format!(
            "the fill did not stop with an error in {errnos:?}: {other:?}"
        )),
    }
    b.check(
        fill.written_mib.is_some_and(|w| w <= max_mib),
        &format!(
            "more than {max_mib} MiB were written: {:?}",
            fill.written_mib
        ),
    );
    for what in ["uptime", "ls_root", "read_image_file"] {
        match b.report.after_check(what) {
            Some(Ok(_)) => {}
            other => b.fail(&format!("after the fill, `{what}` failed: {other:?}")),
        }
    }
    b.check(
        b.report
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
    let b = Case::new(
        "fill_snapshot_cow",
        vec![cdrom(fill_iso())],
        &format!(
            "root=live:CDLABEL=LIVEINIT_FILL rd.live.overlay.size={FILL_COW_MIB} \
             liveinit.probe.fill=48"
        ),
    )
    .boot_probe();
    let r = &b.report;
    b.check(
        r.root_mount()
            .is_some_and(|m| m.source == "/dev/mapper/live-rw"),
        "`/` is not /dev/mapper/live-rw",
    );
    b.check(
        r.loops
            .iter()
            .any(|l| l.backing.starts_with("/overlay") && l.sectors == Some(FILL_COW_MIB * 2048)),
        &format!("there is no {FILL_COW_MIB} MiB COW loop on /overlay"),
    );
    check_fill(&b, &[EIO, ENOSPC], FILL_COW_MIB);
    for l in &r.kmsg {
        eprintln!("[{}] kernel: {l}", b.name());
    }
    b.check(
        r.kmsg
            .iter()
            .any(|l| l.contains("snapshot") && l.to_lowercase().contains("overflow")),
        "the kernel log does not say the snapshot overflowed",
    );
}

/// `rd.overlay=tmpfs:size=8M` on a flattened image: the overlayfs upper
/// layer is an 8 MiB tmpfs; writing 32 MiB gets ENOSPC.
#[test]
fn tmpfs_overlay_full_keeps_the_system_running() {
    let b = Case::new(
        "fill_tmpfs_overlay",
        vec![cdrom(good_iso())],
        &format!(
            "root=live:CDLABEL=LIVEINIT_FAIL rd.overlay=tmpfs:size={FILL_TMPFS_MIB}M \
             liveinit.probe.fill=32"
        ),
    )
    .boot_probe();
    let upper = b.report.mount_at("/run/initramfs/overlay");
    b.check(
        upper.is_some_and(|m| {
            m.fstype == "tmpfs"
                && m.super_option("size") == Some(&format!("{}k", FILL_TMPFS_MIB * 1024))
        }),
        &format!("/run/initramfs/overlay is not an {FILL_TMPFS_MIB} MiB tmpfs: {upper:?}"),
    );
    check_fill(&b, &[ENOSPC], FILL_TMPFS_MIB);
}

/// dracut's default 32 GiB COW on a 256 MiB machine: the init caps it at
/// half the RAM and says so, and filling it overflows the snapshot (writes
/// fail, the system answers) instead of running the machine out of memory.
#[test]
fn default_cow_on_a_small_machine_overflows_instead_of_exhausting_memory() {
    let b = Case::new(
        "fill_default_cow_small_ram",
        vec![cdrom(big_rootfs_iso())],
        "root=live:CDLABEL=LIVEINIT_FILL liveinit.probe.fill=200",
    )
    .memory(SMALL_RAM_MB)
    .boot_probe();
    let cap = b
        .report
        .loops
        .iter()
        .find(|l| l.backing.starts_with("/overlay"))
        .and_then(|l| l.sectors)
        .map(|sectors| sectors / 2048);
    b.check(
        cap.is_some_and(|mib| mib > 0 && mib <= u64::from(SMALL_RAM_MB / 2)),
        &format!("the COW is not capped at half of {SMALL_RAM_MB} MiB: {cap:?} MiB"),
    );
    b.check(
        b.ended
            .has_line(&["liveinit:", "kept in RAM", "half of the"]),
        "the init did not say it capped the overlay",
    );
    check_fill(&b, &[EIO, ENOSPC], cap.unwrap_or(0));
    b.check(
        b.report
            .kmsg
            .iter()
            .any(|l| l.contains("snapshot") && l.to_lowercase().contains("overflow")),
        "the kernel log does not say the snapshot overflowed",
    );
}
