//! The download experiment: liveinit's HTTP download of a live image
//! against busybox `wget` of the same file, in the same VM, to the same
//! kind of place (a tmpfs), before and after it. The image server runs
//! beside QEMU in its private network namespace (loopback only). Before:
//! a busybox shell at `rd.break=initqueue` loads the NIC driver,
//! configures the address, runs `wget`, and exits into liveinit's own
//! network bring-up and download. After: the probe (the real init) runs
//! the live root's busybox `wget` again over the network liveinit left up
//! (`liveinit.probe.wget`). The first transfer of a boot also pays for
//! TCG translating the kernel's network paths; the wget after shows how
//! much. All are timed on the guest's clock (kernel timestamps for
//! liveinit's first and last livenet lines, `/proc/uptime` or the probe's
//! clock around wget). liveinit's rate is compared with the mean of the
//! two wget rates. Goal: at least 0.9. liveinit's time ends with the
//! file's last byte: its SHA-256 (recorded, not checked: no
//! `rd.liveinit.net.sha256=` here) is computed by a child process from
//! the last byte on, beside the rest of the boot; how long after the last
//! byte it is ready is reported too. Run with two vCPUs and with one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::media::{mksquashfs, Junk, LiveRoot, LiveRootSpec, SquashComp, HOST_BUSYBOX};
use qemu_tests::netboot::{serve_over_e1000, SERVER};
use qemu_tests::qemu::{self, Console, ConsoleStep, QemuConfig};
use qemu_tests::report::ProbeReport;

use super::stats::{self, Summary};

/// Incompressible payload in the image, so the transfer dominates.
const PAYLOAD_MIB: usize = 48;
pub const GOAL: f64 = 0.9;
/// The VM sizes.
const VCPUS: [u32; 2] = [2, 1];

#[derive(Debug, Clone)]
pub struct DownloadResult {
    pub bytes: u64,
    /// The VM's CPUs.
    pub vcpus: u32,
    /// Seconds per run.
    pub liveinit: Vec<f64>,
    pub wget: Vec<f64>,
    /// The probe's wget after liveinit's download (NaN when it failed).
    pub wget_after: Vec<f64>,
    /// Seconds from liveinit's last byte to its digest (NaN if not seen).
    pub digest_late: Vec<f64>,
    /// The host's 1-minute load before each run.
    pub loads: Vec<f64>,
}

impl DownloadResult {
    /// The rates' medians, the per-run ratios' median, min and max, and
    /// every run with the host's load.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mib = self.bytes as f64 / (1024.0 * 1024.0);
        let rates = |v: &[f64]| Summary::of(&v.iter().map(|s| mib / s).collect::<Vec<_>>());
        let ratios = |f: &dyn Fn(usize) -> f64| {
            Summary::of(&(0..self.liveinit.len()).map(f).collect::<Vec<_>>())
        };
        let mut md = format!(
            "## Download throughput, {} vCPU{}\n\n{mib:.1} MiB over QEMU user networking (e1000), \
             {} runs; in each boot busybox `wget` (a shell at `rd.break=initqueue`), then \
             liveinit's download, timed to its last byte (no digest is asked to be checked, so a \
             child process hashes every byte with SHA-256 from the last byte on, to record the \
             digest, while the boot goes on: \"digest ready\" is how long after the last byte), \
             then busybox `wget` again from the real init; all into a tmpfs. \
             liveinit's ratio is against the mean of the two wget rates. {}\n\n\
             | | median | min | max |\n|---|---|---|---|\n",
            self.vcpus,
            if self.vcpus == 1 { "" } else { "s" },
            self.liveinit.len(),
            if self.vcpus > 1 {
                "The hash can run on the second vCPU while the init mounts the image."
            } else {
                "With one vCPU the hash (at the lowest priority) runs whenever the init waits."
            }
        );
        for (name, s) in [
            ("wget before (MiB/s)", rates(&self.wget)),
            ("liveinit (MiB/s)", rates(&self.liveinit)),
            ("wget after (MiB/s)", rates(&self.wget_after)),
        ] {
            if let Some(s) = s {
                let _ = writeln!(
                    md,
                    "| {name} | {:.1} | {:.1} | {:.1} |",
                    s.median, s.min, s.max
                );
            }
        }
        let rows: [(&str, Option<Summary>); 3] = [
            (
                "liveinit / wget before",
                ratios(&|i| self.ratio_to(i, &[&self.wget])),
            ),
            (
                "liveinit / wget after",
                ratios(&|i| self.ratio_to(i, &[&self.wget_after])),
            ),
            ("**liveinit / mean of both**", ratios(&|i| self.ratio(i))),
        ];
        for (name, s) in rows {
            if let Some(s) = s {
                let _ = writeln!(
                    md,
                    "| {name} | {:.2} | {:.2} | {:.2} |",
                    s.median, s.min, s.max
                );
            }
        }
        if let Some(s) = Summary::of(&self.digest_late) {
            let _ = writeln!(
                md,
                "| digest ready after the last byte (s) | {:.2} | {:.2} | {:.2} |",
                s.median, s.min, s.max
            );
        }
        if let Some(s) = ratios(&|i| self.ratio(i)) {
            let verdict = if s.median >= GOAL { "meets" } else { "misses" };
            let _ = writeln!(md, "\nThe median ratio {verdict} the {GOAL} goal.\n");
        }
        let _ = writeln!(
            md,
            "| run | wget before | liveinit | wget after | ratio | digest ready | host load |\n\
             |---|---|---|---|---|---|---|"
        );
        for i in 0..self.liveinit.len() {
            let at = |v: &[f64]| v.get(i).copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                md,
                "| {} | {:.2} s | {:.2} s | {:.2} s | {:.2} | +{:.2} s | {:.2} |",
                i + 1,
                at(&self.wget),
                at(&self.liveinit),
                at(&self.wget_after),
                self.ratio(i),
                at(&self.digest_late),
                at(&self.loads)
            );
        }
        md
    }

    /// Run `i`: liveinit's rate over the mean of the wget rates there are.
    fn ratio(&self, i: usize) -> f64 {
        self.ratio_to(i, &[&self.wget, &self.wget_after])
    }

    fn ratio_to(&self, i: usize, peers: &[&Vec<f64>]) -> f64 {
        let rates: Vec<f64> = peers
            .iter()
            .filter_map(|v| v.get(i))
            .map(|secs| 1.0 / secs)
            .filter(|r| r.is_finite())
            .collect();
        let live = self.liveinit.get(i).map_or(f64::NAN, |s| 1.0 / s);
        stats::ratio(live, rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

pub fn run(kernel: &Kernel, probe: &Path, work: &Path, runs: usize) -> Result<Vec<DownloadResult>> {
    let dir = work.join("download");
    let served = dir.join("served");
    fs::create_dir_all(&served)?;
    let spec = LiveRootSpec {
        busybox: Some(HOST_BUSYBOX.into()),
        ..LiveRootSpec::probe(probe)
    };
    let root = LiveRoot::create(&dir.join("root"), &spec)?;
    fs::write(
        root.dir.join("payload.bin"),
        Junk::new(0x646c).bytes(PAYLOAD_MIB << 20),
    )?;
    let image = served.join("big.img");
    let _ = fs::remove_file(&image);
    mksquashfs(&root.dir, &image, SquashComp::Gzip)?;
    let bytes = fs::metadata(&image)?.len();
    let initramfs = dir.join("initramfs-bench-net.img");
    let xtask = std::env::current_exe()?;
    let status = Command::new(xtask)
        .arg("initramfs")
        .arg("--modules-dir")
        .arg(&kernel.modules_dir)
        .args(["--busybox", "--add-modules", "e1000", "--output"])
        .arg(&initramfs)
        .status()?;
    if !status.success() {
        bail!("packing the bench's network initramfs failed");
    }
    let server = build_server()?;
    let mut results = Vec::new();
    for vcpus in VCPUS {
        let mut result = DownloadResult {
            bytes,
            vcpus,
            liveinit: Vec::new(),
            wget: Vec::new(),
            wget_after: Vec::new(),
            digest_late: Vec::new(),
            loads: Vec::new(),
        };
        for n in 0..runs {
            let log = dir.join(format!("run-{vcpus}cpu-{n}.log"));
            result.loads.push(super::boot::host_load());
            let (times, after) = one_run(kernel, &initramfs, &server, &served, &log, vcpus)?;
            let (l, w) = (times.liveinit, times.wget);
            eprintln!(
                "bench: download ({vcpus} vCPU) run {n}: wget before {w:.2} s, liveinit {l:.2} s \
                 (digest +{:.2} s), wget after {after:.2} s",
                times.digest_late
            );
            result.digest_late.push(times.digest_late);
            result.liveinit.push(l);
            result.wget.push(w);
            result.wget_after.push(after);
        }
        results.push(result);
    }
    let md: String = results.iter().map(DownloadResult::markdown).collect();
    fs::write(work.join("download.md"), md)?;
    Ok(results)
}

pub fn build_server() -> Result<PathBuf> {
    qemu_tests::run_streamed(qemu_tests::cargo().args([
        "build",
        "--release",
        "-p",
        "qemu-tests",
        "--bin",
        "imageserver",
    ]))
    .context("building the image server")?;
    Ok(qemu_tests::workspace_root().join("target/release/imageserver"))
}

/// One boot: wget, liveinit's download, wget again; the times of the
/// first two, and the last's (NaN when the probe's wget failed).
fn one_run(
    kernel: &Kernel,
    initramfs: &Path,
    server: &Path,
    served: &Path,
    log: &Path,
    vcpus: u32,
) -> Result<(Times, f64)> {
    let url = format!("http://{SERVER}/f/big.img");
    // The pause before `exit` lets the console drain: with two vCPUs the
    // WGET_TIME line was once lost when the shell ended at once.
    let shell = format!(
        "insmod /lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko; sleep 1; \
         busybox ip link set eth0 up; busybox ip addr add 10.0.2.15/24 dev eth0; sleep 2; \
         t0=$(cut -d' ' -f1 /proc/uptime); busybox wget -q -O /run/wget.img {url}; \
         t1=$(cut -d' ' -f1 /proc/uptime); rm /run/wget.img; echo WGET_TIME $t0 $t1; sleep 1; exit\n"
    );
    let mut cfg = QemuConfig::new(&kernel.vmlinuz, initramfs, log)
        .append(&format!(
            "root=live:{url} rd.break=initqueue rd.minmem=256 liveinit.probe.wget={url}"
        ))
        .console(Console::Scripted {
            log: log.to_path_buf(),
            steps: vec![ConsoleStep::new("liveinit (rd.break=initqueue):", &shell)],
        });
    cfg.memory_mb = 1024;
    cfg.smp = vcpus;
    serve_over_e1000(&mut cfg, &server.display().to_string(), served);
    let out = qemu::boot(&cfg)?;
    let times = parse_times(&out.log)
        .with_context(|| format!("reading the times from {}", log.display()))?;
    let after = ProbeReport::parse_log(&out.log)
        .ok()
        .and_then(|r| match r.after_check("wget") {
            Some(Ok(detail)) => detail.split_whitespace().nth(1)?.parse().ok(),
            _ => None,
        })
        .unwrap_or(f64::NAN);
    Ok((times, after))
}

/// Seconds, from a boot's console.
struct Times {
    /// liveinit's download, to its last byte.
    liveinit: f64,
    wget: f64,
    /// From liveinit's last byte to its digest (NaN if not seen).
    digest_late: f64,
}

fn parse_times(log: &str) -> Result<Times> {
    let stamp = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split(']').next())
            .and_then(|l| l.rsplit('[').next())
            .and_then(|t| t.trim().parse::<f64>().ok())
    };
    let start = stamp("liveinit: livenet: downloading").context("no download start")?;
    let end = stamp("liveinit: livenet: http://").context("no download end")?;
    let digest = stamp("liveinit: livenet: sha256 ").unwrap_or(f64::NAN);
    let wget = log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("WGET_TIME "))
        .find_map(|rest| {
            let mut it = rest.split_whitespace().map(|t| t.parse::<f64>().ok());
            let (t0, t1) = (it.next()??, it.next()??);
            Some(t1 - t0)
        })
        .context("no wget time")?;
    Ok(Times {
        liveinit: end - start,
        wget,
        digest_late: digest - end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_from_the_console() {
        let log = "liveinit (rd.break=initqueue):/# echo WGET_TIME $t0 $t1\r\n\
                   WGET_TIME 10.50 12.00\r\n\
                   [   13.000000] liveinit: livenet: downloading http://x to /y\r\n\
                   [   14.250000] liveinit: livenet: http://x 48 MiB\r\n\
                   [   14.750000] liveinit: livenet: sha256 ab of x, ready 0.5 s after the download\r\n";
        let t = parse_times(log).unwrap();
        assert!((t.liveinit - 1.25).abs() < 1e-9, "{}", t.liveinit);
        assert!((t.wget - 1.5).abs() < 1e-9, "{}", t.wget);
        assert!((t.digest_late - 0.5).abs() < 1e-9, "{}", t.digest_late);
    }

    #[test]
    fn the_ratio_is_against_the_mean_of_the_wget_rates_there_are() {
        let r = DownloadResult {
            bytes: 1 << 20,
            vcpus: 2,
            liveinit: vec![2.0, 2.0],
            wget: vec![1.0, 1.0],
            wget_after: vec![4.0, f64::NAN],
            digest_late: vec![0.5, 0.25],
            loads: vec![1.0, 1.0],
        };
        // Rates 0.5 against (1 + 0.25) / 2, then against 1 alone.
        assert!((r.ratio(0) - 0.8).abs() < 1e-9, "{}", r.ratio(0));
        assert!((r.ratio(1) - 0.5).abs() < 1e-9, "{}", r.ratio(1));
        let md = r.markdown();
        assert!(
            md.contains("| 1 | 1.00 s | 2.00 s | 4.00 s | 0.80 | +0.50 s |"),
            "{md}"
        );
        assert!(md.contains("The median ratio misses the 0.9 goal."), "{md}");
        let one = DownloadResult { vcpus: 1, ..r }.markdown();
        assert!(one.starts_with("## Download throughput, 1 vCPU\n"), "{one}");
    }
}
