//! Copy throughput: liveinit's copy to RAM (`rd.live.ram`) against a plain
//! `dd` of the same file in the same VM (issue 11's goal: ≥ 0.9 of dd).
//!
//! One boot gives all the figures, dd on both sides of liveinit's copy so
//! that neither order nor drift in the host's load favours one: at
//! `rd.break=pre-mount` a busybox shell mounts the CD, drops the page cache,
//! times `busybox dd bs=1M` of `LiveOS/squashfs.img` into `/run`, removes
//! the copy, unmounts and drops the cache again; then liveinit copies the
//! same file to `/run/initramfs/squashed.img` (its own kernel-stamped log
//! lines bound the copy); then the probe (the real init) mounts the CD
//! again, drops the cache and times `/bin/dd bs=1M` twice
//! (`liveinit.probe.dd`). Every read starts cold in the guest; the host's
//! page cache holds the ISO for all alike. liveinit's rate is compared with
//! the mean of the dd just before and the dd just after it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::media::{mksquashfs, IsoBuilder, LiveRoot, LiveRootSpec, SquashComp, HOST_BUSYBOX};
use qemu_tests::qemu::{self, Console, ConsoleStep, Drive, QemuConfig};
use qemu_tests::report::ProbeReport;

use super::format;
use super::stats::{self, Summary};

/// The incompressible payload that makes the image big enough to time.
pub const PAYLOAD_MIB: usize = 128;
const LABEL: &str = "LIVEINIT_COPY";
const IMAGE_ON_MEDIUM: &str = "LiveOS/squashfs.img";
/// liveinit's log line as the copy starts, and as it ends.
const COPY_START: &str = "liveinit: copying /run/initramfs/live/LiveOS/squashfs.img";
const COPY_DONE: &str = "liveinit: copying to RAM: done";
/// The goal: liveinit's rate at least this share of dd's.
pub const GOAL: f64 = 0.9;
const MIB: f64 = 1024.0 * 1024.0;

/// One boot's rates, in MiB/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopyRun {
    /// dd in the initramfs, just before liveinit's copy.
    pub dd_before_mib_s: f64,
    pub liveinit_mib_s: f64,
    /// dd in the real root, just after.
    pub dd_mib_s: f64,
    /// dd again, cold again, right after: how much the same read varies
    /// within one VM (host load reaches the guest's clock under TCG).
    pub dd_again_mib_s: f64,
}

impl CopyRun {
    /// liveinit against the mean of the dd before and the dd after it.
    pub fn ratio(&self) -> f64 {
        stats::ratio(
            self.liveinit_mib_s,
            (self.dd_before_mib_s + self.dd_mib_s) / 2.0,
        )
    }
}

#[derive(Debug, Clone)]
pub struct CopyResult {
    pub image_bytes: u64,
    pub runs: Vec<Result<CopyRun, String>>,
    /// The host's 1-minute load before each boot.
    pub loads: Vec<f64>,
}

/// Builds the medium and boots it `runs` times.
pub fn run(
    kernel: &Kernel,
    liveinit_image: &Path,
    probe: &Path,
    work: &Path,
    runs: usize,
) -> Result<CopyResult> {
    let dir = work.join("copy-ram");
    fs::create_dir_all(&dir)?;
    let (iso, image_bytes) = medium(probe, &dir)?;
    let initrd = busybox_initramfs(kernel, liveinit_image, &dir)?;
    let mut results = Vec::new();
    let mut loads = Vec::new();
    for round in 0..runs {
        let log = dir.join(format!("liveinit-{round}.log"));
        let load = super::boot::host_load();
        loads.push(load);
        let outcome = boot(kernel, &initrd, &iso, image_bytes, &log);
        match &outcome {
            Ok(r) => eprintln!(
                "bench: copy-ram run {}: dd before {:.1} MiB/s, liveinit {:.1} MiB/s, dd after {:.1} MiB/s ({:.2}), dd again {:.1} MiB/s (load {load:.2})",
                round + 1,
                r.dd_before_mib_s,
                r.liveinit_mib_s,
                r.dd_mib_s,
                r.ratio(),
                r.dd_again_mib_s
            ),
            Err(e) => eprintln!("bench: copy-ram run {}: FAILED: {e:#}", round + 1),
        }
        results.push(outcome.map_err(|e| format!("{e:#}")));
    }
    Ok(CopyResult {
        image_bytes,
        runs: results,
        loads,
    })
}

/// liveinit's initramfs with busybox (for the dd before its copy), packed
/// like `liveinit_image` but beside it.
fn busybox_initramfs(kernel: &Kernel, liveinit_image: &Path, dir: &Path) -> Result<PathBuf> {
    let out = dir.join("initramfs-busybox.img");
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("initramfs")
        .arg("--modules-dir")
        .arg(&kernel.modules_dir)
        .args(["--busybox", "--output"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(
        status.success(),
        "packing the copy bench's busybox initramfs (beside {}) failed",
        liveinit_image.display()
    );
    Ok(out)
}

/// The shell's script at `rd.break=pre-mount`: a cold, timed dd of the
/// image, then everything as it was (the CD unmounted, the cache dropped).
/// The CD's driver is loaded by then, its filesystem's module not yet.
fn dd_before_script() -> String {
    let mnt = "/run/bench-dd-cd";
    let copy = "/run/bench-dd-before.copy";
    format!(
        "busybox insmod /lib/modules/*/kernel/fs/isofs/isofs.ko 2>/dev/null; \
         busybox mkdir -p {mnt}; busybox mount -t iso9660 -o ro /dev/sr0 {mnt}; \
         echo 3 > /proc/sys/vm/drop_caches; t0=$(busybox cut -d' ' -f1 /proc/uptime); \
         busybox dd if={mnt}/{IMAGE_ON_MEDIUM} of={copy} bs=1M 2>/dev/null; \
         t1=$(busybox cut -d' ' -f1 /proc/uptime); n=$(busybox wc -c < {copy}); \
         busybox rm -f {copy}; busybox umount {mnt}; echo 3 > /proc/sys/vm/drop_caches; \
         echo DD_BEFORE $n $t0 $t1; exit\n"
    )
}

/// `(bytes, seconds)` of the dd before liveinit's copy.
fn dd_before(log: &str) -> Option<(u64, f64)> {
    log.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("DD_BEFORE ")?;
        let mut it = rest.split_whitespace();
        let bytes = it.next()?.parse().ok()?;
        let t0: f64 = it.next()?.parse().ok()?;
        let t1: f64 = it.next()?.parse().ok()?;
        (t1 > t0).then_some((bytes, t1 - t0))
    })
}

/// A flattened-image ISO whose root carries [`PAYLOAD_MIB`] of random
/// bytes and busybox (for `/bin/dd`); returns it and the image's size.
fn medium(probe: &Path, dir: &Path) -> Result<(PathBuf, u64)> {
    let spec = LiveRootSpec {
        busybox: Some(HOST_BUSYBOX.into()),
        ..LiveRootSpec::probe(probe)
    };
    let root = LiveRoot::create(&dir.join("root"), &spec)?;
    let payload = dir.join("payload.bin");
    write_random(&payload, PAYLOAD_MIB)?;
    root.add_file("payload.bin", &payload, 0o644)?;
    // gzip: the payload does not compress anyway, and xz would take
    // minutes over it.
    let img = dir.join("squashfs.img");
    mksquashfs(&root.dir, &img, SquashComp::Gzip)?;
    let iso = dir.join("copy.iso");
    IsoBuilder::new(LABEL)
        .file(IMAGE_ON_MEDIUM, &img)
        .build(&iso)?;
    let bytes = fs::metadata(&img)?.len();
    let _ = fs::remove_file(&payload);
    Ok((iso, bytes))
}

fn write_random(path: &Path, mib: usize) -> Result<()> {
    let mut urandom = fs::File::open("/dev/urandom")?;
    let mut out = fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mib {
        urandom.read_exact(&mut buf)?;
        out.write_all(&buf)?;
    }
    Ok(())
}

fn boot(
    kernel: &Kernel,
    initrd: &Path,
    iso: &Path,
    image_bytes: u64,
    log: &Path,
) -> Result<CopyRun> {
    let mut cfg = QemuConfig::new(&kernel.vmlinuz, initrd, log)
        .append(&format!(
            "root=live:CDLABEL={LABEL} rd.live.ram rd.minmem=0 rd.break=pre-mount liveinit.probe.dd=/dev/sr0:{IMAGE_ON_MEDIUM}"
        ))
        .drive(Drive::Cdrom(iso.to_path_buf()))
        .console(Console::Scripted {
            log: log.to_path_buf(),
            steps: vec![ConsoleStep::new(
                "liveinit (rd.break=pre-mount):",
                &dd_before_script(),
            )],
        });
    // Guest RAM backed by the host from the start: otherwise liveinit's
    // copy, the first to fill that much RAM, would also pay the host's
    // page faults that dd, reusing the pages the dropped cache freed, does
    // not.
    cfg.extra_args.push("-mem-prealloc".into());
    let out = qemu::boot(&cfg)?;
    let copy_secs = copy_seconds(&out.log)
        .with_context(|| format!("no stamped copy start and end lines in {}", log.display()))?;
    let report = ProbeReport::parse_log(&out.log)
        .with_context(|| format!("the real init never ran; see {}", log.display()))?;
    let dd = match report.after_check("dd") {
        Some(Ok(detail)) => detail.clone(),
        other => anyhow::bail!("the probe's dd: {other:?} (see {})", log.display()),
    };
    let (dd_bytes, dd_secs, again_secs) =
        parse_dd(&dd).with_context(|| format!("after.dd={dd}"))?;
    anyhow::ensure!(
        dd_bytes == image_bytes,
        "dd copied {dd_bytes} bytes, the image has {image_bytes}"
    );
    let (before_bytes, before_secs) =
        dd_before(&out.log).with_context(|| format!("no DD_BEFORE line in {}", log.display()))?;
    anyhow::ensure!(
        before_bytes == image_bytes,
        "the dd before copied {before_bytes} bytes, the image has {image_bytes}"
    );
    let mib = image_bytes as f64 / MIB;
    Ok(CopyRun {
        dd_before_mib_s: mib / before_secs,
        liveinit_mib_s: mib / copy_secs,
        dd_mib_s: mib / dd_secs,
        dd_again_mib_s: mib / again_secs,
    })
}

/// Seconds between liveinit's copy start and end lines (kernel stamps).
fn copy_seconds(log: &str) -> Option<f64> {
    let start = stamp_of(log, COPY_START)?;
    let end = stamp_of(log, COPY_DONE)?;
    (end > start).then_some(end - start)
}

/// The kernel stamp of the first `[ t] <needle>`, wherever it is on its
/// line: the console progress line (ending in an erase, no newline) often
/// precedes the kernel's line on the same console line.
fn stamp_of(log: &str, needle: &str) -> Option<f64> {
    log.lines().find_map(|line| {
        let at = line.find(&format!("] {needle}"))?;
        let open = line.get(..at)?.rfind('[')?;
        line.get(open + 1..at)?.trim().parse().ok()
    })
}

/// `<bytes> <seconds> <seconds again>`.
fn parse_dd(detail: &str) -> Option<(u64, f64, f64)> {
    let mut words = detail.split_whitespace();
    let bytes = words.next()?.parse().ok()?;
    let secs: f64 = words.next()?.parse().ok()?;
    let again: f64 = words.next()?.parse().ok()?;
    (secs > 0.0 && again > 0.0).then_some((bytes, secs, again))
}

/// The report's section.
pub fn section(md: &mut String, r: &CopyResult) {
    use std::fmt::Write as _;
    let ok: Vec<CopyRun> = r
        .runs
        .iter()
        .filter_map(|x| x.as_ref().ok().copied())
        .collect();
    let of = |f: &dyn Fn(&CopyRun) -> f64| Summary::of(&ok.iter().map(f).collect::<Vec<_>>());
    let _ = writeln!(
        md,
        "## Copy to RAM: liveinit against dd\n\n\
         `rd.live.ram` copies `{IMAGE_ON_MEDIUM}` ({}) from the IDE CD to \
         `/run/initramfs/squashed.img`. In the same VM busybox `dd bs=1M` copies the same file into \
         `/run` just before (a shell at `rd.break=pre-mount`) and just after (the real init, twice), \
         each from a cold page cache (dropped before every read; the CD unmounted between). \
         liveinit's time is between its own kernel-stamped start and end lines; its ratio is \
         against the mean of the dd before and the dd after it, so neither the order nor drift in \
         the host's load favours one side. The guest's RAM is preallocated (`-mem-prealloc`) so \
         none pays the host's first-touch page faults. {} boots, {} failed; host load (1 min) \
         before the boots: {}.\n",
        format::bytes(r.image_bytes),
        r.runs.len(),
        r.runs.len() - ok.len(),
        loads_text(&r.loads)
    );
    let _ = writeln!(md, "| | median | min | max |\n|---|---|---|---|");
    let rows: [(&str, Option<Summary>); 4] = [
        ("dd before (MiB/s)", of(&|x| x.dd_before_mib_s)),
        ("liveinit (MiB/s)", of(&|x| x.liveinit_mib_s)),
        ("dd after (MiB/s)", of(&|x| x.dd_mib_s)),
        ("dd after, again (MiB/s)", of(&|x| x.dd_again_mib_s)),
    ];
    for (name, s) in rows {
        if let Some(s) = s {
            let _ = writeln!(
                md,
                "| {name} | {:.1} | {:.1} | {:.1} |",
                s.median, s.min, s.max
            );
        }
    }
    let ratios: [(&str, Option<Summary>); 3] = [
        (
            "liveinit / dd before",
            of(&|x| stats::ratio(x.liveinit_mib_s, x.dd_before_mib_s)),
        ),
        (
            "liveinit / dd after",
            of(&|x| stats::ratio(x.liveinit_mib_s, x.dd_mib_s)),
        ),
        ("**liveinit / mean of both**", of(&CopyRun::ratio)),
    ];
    for (name, s) in ratios {
        if let Some(s) = s {
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} |",
                format::ratio(s.median),
                format::ratio(s.min),
                format::ratio(s.max)
            );
        }
    }
    if let Some(s) = of(&CopyRun::ratio) {
        let _ = writeln!(
            md,
            "\nGoal: at least {GOAL} of dd's rate (median of the per-boot ratios): **{}**.\n",
            if s.median >= GOAL { "met" } else { "missed" }
        );
    }
    let gauges: [(&str, Option<Summary>); 2] = [
        (
            "dd after / dd before (the same cold read on both sides of liveinit's)",
            of(&|x| stats::ratio(x.dd_mib_s, x.dd_before_mib_s)),
        ),
        (
            "dd again / dd after (twice in a row)",
            of(&|x| stats::ratio(x.dd_again_mib_s, x.dd_mib_s)),
        ),
    ];
    for (name, s) in gauges {
        if let Some(s) = s {
            let _ = writeln!(
                md,
                "Noise gauge, {name}: median {}, min {}, max {}.",
                format::ratio(s.median),
                format::ratio(s.min),
                format::ratio(s.max)
            );
        }
    }
    md.push_str(
        "Under TCG the host's load reaches the guest's clock; when a gauge's spread is as wide as \
         the ratio's, the ratio says little.\n\n",
    );
    for (i, run) in r.runs.iter().enumerate() {
        if let Err(e) = run {
            let _ = writeln!(md, "- boot {}: failed: {e}", i + 1);
        }
    }
    md.push('\n');
}

fn loads_text(loads: &[f64]) -> String {
    let v: Vec<String> = loads.iter().map(|l| format!("{l:.2}")).collect();
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_is_timed_between_liveinit_s_stamped_lines() {
        let log = "[    2.000000] liveinit: copying /run/initramfs/live/LiveOS/squashfs.img (128 MiB) to RAM at /run/initramfs/squashed.img\n\
                   liveinit: copying to RAM: 50% (64 of 128 MiB)\n\
                   [    4.500000] liveinit: copying to RAM: done, 128 MiB in 2.5 s (51.2 MiB/s)\n";
        assert_eq!(copy_seconds(log), Some(2.5));
        let glued = "[    2.0] liveinit: copying /run/initramfs/live/LiveOS/squashfs.img (1 MiB)\n\
                     liveinit: copying to RAM: 91%\x1b[K\x1b[K[   15.25] liveinit: copying to RAM: done, 1 MiB\n";
        assert_eq!(copy_seconds(glued), Some(13.25));
        assert_eq!(copy_seconds("[ 1.0] liveinit: copying to RAM: done"), None);
    }

    #[test]
    fn the_dd_detail_is_bytes_then_seconds() {
        assert_eq!(
            parse_dd("134217728 2.500000 2.000000"),
            Some((134217728, 2.5, 2.0))
        );
        assert_eq!(parse_dd("134217728 2.5"), None);
        assert_eq!(parse_dd("134217728 0 1"), None);
        assert_eq!(parse_dd("nonsense"), None);
    }

    #[test]
    fn the_dd_before_is_read_from_the_shell() {
        let log =
            "liveinit (rd.break=pre-mount):/# busybox mkdir; echo DD_BEFORE $n $t0 $t1; exit\r\n\
                   DD_BEFORE 134217728 10.50 12.50\r\n";
        assert_eq!(dd_before(log), Some((134217728, 2.0)));
        assert_eq!(dd_before("DD_BEFORE $n $t0 $t1"), None);
    }

    #[test]
    fn the_ratio_is_against_the_mean_of_both_dd() {
        let r = CopyRun {
            dd_before_mib_s: 40.0,
            liveinit_mib_s: 45.0,
            dd_mib_s: 50.0,
            dd_again_mib_s: 50.0,
        };
        assert!((r.ratio() - 1.0).abs() < 1e-9);
    }
}
