//! Boot tests of hostile or failing hardware and media: a drive whose reads
//! stall, a medium whose image is a symlink leaving it, an initramfs without
//! `/dev/console`, USB sticks pulled and plugged while discovery runs (QEMU
//! monitor `device_del`/`device_add`, timed by the kernel's lines), and Esc
//! typed on the serial console to skip a media check slowed down by QEMU's
//! read throttling. Run by `cargo xtask test` with the boot tests, with the
//! same kernel, initramfs and probe.
//!
//! The stalling drive is a SCSI CD drive backed by QEMU's `null-co` block
//! driver with `latency-ns`: every read of it takes [`STALL_SECS`] (QEMU
//! 7.2's `blkdebug` can fail reads but not delay them; its `delay-ns` came
//! in QEMU 11.1). The kernel itself never reads a CD's data to present it
//! (no partition scan), so only the init's probe meets the stall, as it
//! would a scratched disc. The stall is shorter than the SCSI command
//! timeout of `sr` (30 s), so the guest never aborts the command, and
//! QEMU's exit waits at most that long for the read still in flight.
//!
//! Media (built once per run, on first use, under
//! `target/qemu-tests/media-hardening/`): a flattened SquashFS ISO.
//!
//! The initramfs without `/dev/console` is the plain one with that entry
//! taken out (decompressed with `zstd`, written as a plain cpio).
//!
//! Console logs: `target/qemu-tests/<case>.log`.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{cdrom, probe_root, shared, usb_ro, Case, Ended, Initramfs, Shared};
use qemu_tests::media::{Image, IsoBuilder, Layout, LiveImages, LiveRoot};
use qemu_tests::out_dir;
use qemu_tests::qemu::kernel_timestamp_of;

const LABEL: &str = "LIVEINIT_HARD";
const LINKED_LABEL: &str = "LIVEINIT_LINKED";
/// How long each read of the stalling drive takes.
const STALL_SECS: u64 = 10;

fn media_dir() -> PathBuf {
    out_dir().join("media-hardening")
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

fn iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "hard.iso", || {
        flat_images().iso(LABEL, &media_dir().join("hard.iso"))
    })
}

/// An ISO whose `LiveOS` is a symlink to the initramfs's `/etc` (Rock
/// Ridge keeps it a symlink).
fn linked_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "linked.iso", || {
        // This may be the first medium built in a clean tree.
        std::fs::create_dir_all(media_dir())?;
        let link = media_dir().join("linked-LiveOS");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/etc", &link)?;
        IsoBuilder::new(LINKED_LABEL)
            .file("LiveOS", &link)
            .build(&media_dir().join("linked.iso"))
    })
}

/// QEMU arguments for a SCSI CD drive (behind its own virtio-scsi
/// controller) whose every read takes [`STALL_SECS`]; it holds zeros.
fn stalling_cd() -> Vec<String> {
    [
        "-device",
        "virtio-scsi-pci,id=stallscsi",
        "-drive",
        &format!(
            "if=none,id=stall,readonly=on,driver=null-co,size=64M,read-zeroes=on,latency-ns={}",
            STALL_SECS * 1_000_000_000
        ),
        "-device",
        "scsi-cd,bus=stallscsi.0,drive=stall",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn with_stalling_cd(case: Case) -> Case {
    let args = stalling_cd();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    case.qemu_args(&args)
}

/// Guest seconds from the line containing `from` to the one containing `to`.
fn seconds_between(ended: &Ended, from: &str, to: &str) -> f64 {
    let log = &ended.out.log;
    match (kernel_timestamp_of(log, from), kernel_timestamp_of(log, to)) {
        (Some(a), Some(b)) => b - a,
        _ => ended.fail(&format!("no timestamped lines `{from}` and `{to}`")),
    }
}

/// The medium answers at once while the other drive's reads stall: the boot
/// goes on without waiting for them (reading devices in the discovery loop,
/// it waited for the stalled read first). The medium is a USB stick, which
/// shows up seconds after the CD drive, so the stall has begun by then.
#[test]
fn the_medium_boots_on_time_while_another_drive_stalls() {
    let b = with_stalling_cd(Case::new(
        "stall_medium_boots",
        vec![usb_ro(iso().path.clone())],
        &format!("root=live:CDLABEL={LABEL}"),
    ))
    .boot_probe();
    // From the kernel presenting the stick (`[sda] …`) to the match: the
    // stalling drive was there first, so reading in the loop waited for it.
    let found = "liveinit: found the live medium: ";
    let Some(name) = b.ended.lines().iter().find_map(|l| {
        let (_, rest) = l.split_once(found)?;
        rest.split_once(':').map(|(name, _)| name.to_string())
    }) else {
        b.ended.fail("no line names the medium found");
    };
    let took = seconds_between(&b.ended, &format!("[{name}] "), found);
    b.check(
        took < 3.0,
        &format!("{name} matched {took:.1} s after it appeared, with a stalling drive beside it"),
    );
}

/// No device matches and one drive stalls: the FATAL line still comes when
/// `rd.retry` runs out, the stalling drive is named, and the summary says
/// what discovery saw without reading the drives again.
#[test]
fn no_match_is_fatal_within_rd_retry_despite_a_stalling_drive() {
    let retry = 8.0;
    let ended = with_stalling_cd(Case::new(
        "stall_fatal_in_time",
        vec![cdrom(iso())],
        "root=live:CDLABEL=NO_SUCH_LABEL rd.retry=8",
    ))
    .boot_fatal(&[
        "FATAL: find medium: LABEL=NO_SUCH_LABEL",
        "no block device matched within 8 s",
    ]);
    let took = seconds_between(
        &ended,
        "liveinit: looking for the live medium",
        "liveinit: FATAL:",
    );
    if !(retry..retry + 1.5).contains(&took) {
        ended.fail(&format!(
            "the FATAL line came {took:.1} s after the search began, rd.retry=8"
        ));
    }
    // The drives' names depend on which driver comes first: the stalling
    // one is the SCSI CD (`sr 2:0:0:0`, host 2 after the two IDE ports).
    let Some(name) = ended.lines().iter().find_map(|l| {
        let (_, rest) = l.split_once("sr 2:0:0:0: [")?;
        rest.split_once(']').map(|(name, _)| name.to_string())
    }) else {
        ended.fail("the stalling SCSI CD drive never appeared");
    };
    if !ended.has_line(&[&format!("liveinit: /dev/{name}: its reads stall")]) {
        ended.fail(&format!("the stalling drive {name} was not named"));
    }
    if !ended.has_line(&[
        "liveinit: block devices:",
        &format!("{name}: reads stall (no answer)"),
    ]) {
        ended.fail(&format!("the summary does not say that {name} stalls"));
    }
}

/// The medium's `LiveOS` is a symlink to `/etc`, and the image asked for is
/// `initrd-release`, a file every liveinit initramfs has there: the lookup
/// must not leave the medium (before, it took the initramfs's file as the
/// image and failed on its contents).
#[test]
fn an_image_lookup_does_not_follow_a_symlink_off_the_medium() {
    let ended = Case::new(
        "symlink_off_the_medium",
        vec![cdrom(linked_iso())],
        &format!("root=live:CDLABEL={LINKED_LABEL} rd.live.squashimg=initrd-release"),
    )
    .boot_fatal(&[
        "FATAL: mount image: /run/initramfs/live/LiveOS/initrd-release: not found on /dev/sr0",
    ]);
    if !ended.has_line(&[
        "liveinit: /run/initramfs/live/LiveOS/initrd-release: a symlink on the way leads out of /run/initramfs/live",
    ]) {
        ended.fail("the symlink leading off the medium was not named");
    }
}

/// The variable [`no_console_initramfs`] sets for [`Initramfs::Env`].
const ENV_NO_CONSOLE: &str = "LIVEINIT_INITRAMFS_NO_CONSOLE";

/// The plain initramfs whose `dev/console` is a directory, not the
/// console's node. Leaving the node out is not enough: the kernel unpacks
/// its built-in initramfs first, which has one; an entry of another kind
/// replaces it, so the kernel cannot open an initial console, as with an
/// initramfs that has none and a kernel built without that fallback.
fn no_console_initramfs() -> Initramfs {
    static C: Shared<PathBuf> = OnceLock::new();
    let path = shared(&C, "initramfs without /dev/console", || {
        let plain = Initramfs::Plain.path();
        let out = std::process::Command::new("zstd")
            .args(["-dc", "--"])
            .arg(plain)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "zstd -dc {}: {}",
            plain.display(),
            out.status
        );
        let cpio = console_as_directory(&out.stdout)?;
        let path = out_dir().join("initramfs-no-console.img");
        std::fs::write(&path, cpio)?;
        Ok(path)
    });
    std::env::set_var(ENV_NO_CONSOLE, path);
    Initramfs::Env(ENV_NO_CONSOLE)
}

/// The newc archive `cpio` with its `dev/console` entry made a directory.
fn console_as_directory(cpio: &[u8]) -> anyhow::Result<Vec<u8>> {
    let field = |header: &[u8], i: usize| -> anyhow::Result<usize> {
        let hex = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i])?;
        Ok(usize::from_str_radix(hex, 16)?)
    };
    let pad4 = |n: usize| (n + 3) & !3;
    let (mut out, mut at, mut replaced) = (Vec::new(), 0, false);
    while at + 110 <= cpio.len() {
        let header = &cpio[at..at + 110];
        anyhow::ensure!(&header[..6] == b"070701", "not a newc archive at byte {at}");
        let (filesize, namesize) = (field(header, 6)?, field(header, 11)?);
        let name = &cpio[at + 110..at + 110 + namesize - 1];
        let end = (at + pad4(110 + namesize) + pad4(filesize)).min(cpio.len());
        if name == b"dev/console" {
            replaced = true;
            let mut dir = header.to_vec();
            // mode 040755; nlink 2; rdev 0:0 (fields 1, 4, 9 and 10).
            for (i, value) in [(1, 0o040_755), (4, 2), (9, 0), (10, 0)] {
                dir[6 + 8 * i..14 + 8 * i].copy_from_slice(format!("{value:08X}").as_bytes());
            }
            out.extend_from_slice(&dir);
            out.extend_from_slice(&cpio[at + 110..end]);
        } else {
            out.extend_from_slice(&cpio[at..end]);
        }
        if name == b"TRAILER!!!" {
            break;
        }
        at = end;
    }
    anyhow::ensure!(replaced, "the archive has no dev/console");
    Ok(out)
}

/// Without `/dev/console` in the initramfs the kernel starts PID 1 with no
/// fds 0-2 ("unable to open an initial console"): the init opens the
/// console itself once `/dev` is mounted, so its messages and the real
/// init's output still reach the console, and the real init gets the
/// console as its stdin, stdout and stderr.
#[test]
fn a_boot_without_dev_console_in_the_initramfs_still_has_a_console() {
    let b = Case::new(
        "no_dev_console",
        vec![cdrom(iso())],
        &format!("root=live:CDLABEL={LABEL}"),
    )
    .initramfs(no_console_initramfs())
    .boot_probe();
    b.check(
        b.ended
            .has_line(&["Warning: unable to open an initial console"]),
        "the initramfs still had /dev/console (the kernel opened it)",
    );
    b.check(
        b.ended.has_line(&["liveinit: found the live medium"]),
        "the init's messages did not reach the console",
    );
    for fd in 0..3 {
        let info = b.report.fds.iter().find(|f| f.fd == fd);
        b.check(
            info.is_some_and(|f| f.is_console()),
            &format!("the real init's fd {fd} is not the console: {info:?}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Hot-unplug during discovery.

/// QEMU arguments for USB sticks on a controller of their own, each
/// `(monitor id, image)`, attached to its ports in order: the first is
/// `2-1` for the guest, the second `2-2` (SuperSpeed ports on bus 2).
fn hot_sticks(sticks: &[(&str, &Image)]) -> Vec<String> {
    let mut args = vec!["-device".to_string(), "qemu-xhci,id=hotxhci".to_string()];
    for (id, image) in sticks {
        args.extend([
            "-drive".to_string(),
            format!(
                "if=none,id={id}-drive,format=raw,readonly=on,file={}",
                image.path.display()
            ),
            "-device".to_string(),
            format!("usb-storage,bus=hotxhci.0,drive={id}-drive,id={id}"),
        ]);
    }
    args
}

fn with_args(case: Case, args: &[String]) -> Case {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    case.qemu_args(&args)
}

/// The kernel line of the stick on port `port` being taken by usb-storage:
/// its disk shows up a second later (usb-storage's `delay_use`), while
/// discovery is waiting for it.
fn detected(port: u32) -> String {
    format!("usb-storage 2-{port}:1.0: USB Mass Storage device detected")
}

/// Two sticks carry the medium; the second is pulled while discovery runs.
/// The boot goes on from the first, neither hanging nor naming a stick
/// that is gone (had the second stayed, both would be named, not guessed).
#[test]
fn a_stick_pulled_during_discovery_leaves_the_boot_on_the_other_medium() {
    let b = with_args(
        Case::new(
            "hotplug_other_stays",
            vec![],
            &format!("root=live:CDLABEL={LABEL}"),
        ),
        &hot_sticks(&[("stick1", iso()), ("stick2", iso())]),
    )
    .monitor_after(&detected(2), "device_del stick2")
    .boot_probe();
    b.check(
        b.ended.has_line(&["usb 2-2: USB disconnect"]),
        "the second stick was not pulled",
    );
    b.check(
        !b.ended.has_line(&["devices match"]),
        "the pulled stick was still counted as a medium",
    );
}

/// The only medium is pulled while discovery waits for it: the boot ends
/// in the named FATAL within the idle times, not in a hang or a panic.
#[test]
fn the_medium_pulled_during_discovery_is_a_named_fatal() {
    let ended = with_args(
        Case::new(
            "hotplug_medium_gone",
            vec![],
            &format!("root=live:CDLABEL={LABEL} rd.liveinit.idle=2 rd.liveinit.idle.slow=4"),
        ),
        &hot_sticks(&[("stick1", iso())]),
    )
    .monitor_after(&detected(1), "device_del stick1")
    .boot_fatal(&[
        &format!("FATAL: find medium: LABEL={LABEL}"),
        "no block device matched",
    ]);
    if !ended.has_line(&["usb 2-1: USB disconnect"]) {
        ended.fail("the stick was not pulled");
    }
}

// ---------------------------------------------------------------------------
// Esc skips the media check.

const CHECKED_LABEL: &str = "LIVEINIT_ESC";
/// Filler in the checked ISO, read at [`CHECK_READ_BPS`]: the check lasts
/// seconds, long after its first line asks for Esc.
const CHECK_PADDING_MIB: usize = 24;
const CHECK_READ_BPS: u32 = 3 << 20;

fn checked_iso() -> &'static Image {
    static C: Shared<Image> = OnceLock::new();
    shared(&C, "esc-md5.iso", || {
        flat_images().checked_iso(
            CHECKED_LABEL,
            CHECK_PADDING_MIB,
            &media_dir().join("esc-md5.iso"),
        )
    })
}

/// `rd.live.check` on a CD read slowly: the harness types Esc on the serial
/// console once the check asks for it; the check stops, says the medium
/// was not checked, and the boot goes on from it.
#[test]
fn esc_on_the_console_skips_the_media_check_and_the_boot_goes_on() {
    let cd = format!(
        "file={},media=cdrom,if=ide,readonly=on,throttling.bps-read={CHECK_READ_BPS}",
        checked_iso().path.display()
    );
    let b = Case::new(
        "media_check_esc",
        vec![],
        &format!("root=live:CDLABEL={CHECKED_LABEL} rd.live.check"),
    )
    .qemu_args(&["-drive", &cd])
    .type_after("press Esc to skip", "\x1b")
    .boot_probe();
    b.check(
        b.ended
            .has_line(&["liveinit: rd.live.check: Esc pressed", "NOT checked"]),
        "no warning that the check was skipped",
    );
    b.check(
        !b.ended.has_line(&["medium check passed"]),
        "the check ran to its end",
    );
    b.check(
        !b.ended.has_line(&["checking /dev/sr0: 100%"]),
        "the check read the whole medium",
    );
}

/// A stick without the medium is pulled once its disk is there (discovery
/// reading it or done with it), then the medium's stick is plugged in:
/// the boot forgets the first and boots from the second.
#[test]
fn a_stick_swapped_during_discovery_boots_from_the_new_one() {
    let medium = format!(
        "if=none,id=medium-drive,format=raw,readonly=on,file={}",
        iso().path.display()
    );
    let mut args = hot_sticks(&[("decoy", linked_iso())]);
    args.extend(["-drive".to_string(), medium]);
    let b = with_args(
        Case::new(
            "hotplug_swapped",
            vec![],
            &format!("root=live:CDLABEL={LABEL}"),
        ),
        &args,
    )
    .monitor_after("Attached SCSI", "device_del decoy")
    .monitor_after(
        "USB disconnect",
        "device_add usb-storage,bus=hotxhci.0,drive=medium-drive,id=medium",
    )
    .boot_probe();
    b.check(
        b.ended.has_line(&[
            "liveinit: found the live medium",
            &format!("LABEL=\"{LABEL}\""),
        ]),
        "the medium's stick was not the one found",
    );
}

/// The CD and a USB stick carry the same medium. The stick's disk shows up
/// a second after its driver returned (usb-storage's LUN scan), long after
/// the CD matched: the match waits for it, and both are named.
#[test]
fn a_stick_with_the_cds_label_is_named_not_raced() {
    with_args(
        Case::new(
            "usb_twin_of_cd",
            vec![cdrom(iso())],
            &format!("root=live:CDLABEL={LABEL}"),
        ),
        &hot_sticks(&[("twin", iso())]),
    )
    .boot_fatal(&[
        &format!("FATAL: find medium: LABEL={LABEL}: 2 devices match"),
        "/dev/sda",
        "/dev/sr0",
    ]);
}
