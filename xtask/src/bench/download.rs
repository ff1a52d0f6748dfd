//! The download experiment: liveinit's HTTP download of a live image
//! against busybox `wget` of the same file, in the same VM, to the same
//! kind of place (a tmpfs). The image server runs beside QEMU in its
//! private network namespace (loopback only). Until the init brings the
//! network up itself, a busybox shell at `rd.break=initqueue` loads the
//! NIC driver, configures the address, runs `wget`, and exits into the
//! download; both are timed on the guest's clock (kernel timestamps for
//! liveinit's first and last livenet lines, `/proc/uptime` around wget).
//! Goal: liveinit at least 0.9 of wget's throughput.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::media::{mksquashfs, Junk, LiveRoot, LiveRootSpec, SquashComp};
use qemu_tests::netboot::{image_server, SERVER};
use qemu_tests::qemu::{self, Console, ConsoleStep, QemuConfig};

use super::stats::{self, Summary};

/// Incompressible payload in the image, so the transfer dominates.
const PAYLOAD_MIB: usize = 48;
pub const GOAL: f64 = 0.9;

#[derive(Debug, Clone)]
pub struct DownloadResult {
    pub bytes: u64,
    /// Seconds per run.
    pub liveinit: Vec<f64>,
    pub wget: Vec<f64>,
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
        let ratios: Vec<f64> = self
            .liveinit
            .iter()
            .zip(&self.wget)
            .map(|(l, w)| stats::ratio(*w, *l))
            .collect();
        let mut md = format!(
            "## Download throughput\n\n{mib:.1} MiB over QEMU user networking (e1000), \
             {} runs; in each boot busybox `wget` first (a shell at `rd.break=initqueue`), then \
             liveinit's download (which also hashes every byte with SHA-256), both into a tmpfs.\n\n\
             | | median | min | max |\n|---|---|---|---|\n",
            self.liveinit.len()
        );
        for (name, s) in [
            ("liveinit (MiB/s)", rates(&self.liveinit)),
            ("busybox wget (MiB/s)", rates(&self.wget)),
        ] {
            if let Some(s) = s {
                let _ = writeln!(
                    md,
                    "| {name} | {:.1} | {:.1} | {:.1} |",
                    s.median, s.min, s.max
                );
            }
        }
        if let Some(s) = Summary::of(&ratios) {
            let verdict = if s.median >= GOAL { "meets" } else { "misses" };
            let _ = writeln!(
                md,
                "| liveinit / wget (per run) | {:.2} | {:.2} | {:.2} |\n\n\
                 The median ratio {verdict} the {GOAL} goal.\n",
                s.median, s.min, s.max
            );
        }
        let _ = writeln!(
            md,
            "| run | liveinit | wget | ratio | host load |\n|---|---|---|---|---|"
        );
        for (i, ((l, w), load)) in self
            .liveinit
            .iter()
            .zip(&self.wget)
            .zip(&self.loads)
            .enumerate()
        {
            let _ = writeln!(
                md,
                "| {} | {l:.2} s | {w:.2} s | {:.2} | {load:.2} |",
                i + 1,
                stats::ratio(*w, *l)
            );
        }
        md
    }
}

pub fn run(kernel: &Kernel, probe: &Path, work: &Path, runs: usize) -> Result<DownloadResult> {
    let dir = work.join("download");
    let served = dir.join("served");
    fs::create_dir_all(&served)?;
    let root = LiveRoot::create(&dir.join("root"), &LiveRootSpec::probe(probe))?;
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
    let mut result = DownloadResult {
        bytes,
        liveinit: Vec::new(),
        wget: Vec::new(),
        loads: Vec::new(),
    };
    for n in 0..runs {
        let log = dir.join(format!("run-{n}.log"));
        result.loads.push(super::boot::host_load());
        let (l, w) = one_run(kernel, &initramfs, &server, &served, &log)?;
        eprintln!("bench: download run {n}: liveinit {l:.2} s, wget {w:.2} s");
        result.liveinit.push(l);
        result.wget.push(w);
    }
    fs::write(work.join("download.md"), result.markdown())?;
    Ok(result)
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

/// One boot: wget first, then liveinit's download; seconds for each.
fn one_run(
    kernel: &Kernel,
    initramfs: &Path,
    server: &Path,
    served: &Path,
    log: &Path,
) -> Result<(f64, f64)> {
    let url = format!("http://{SERVER}/f/big.img");
    let shell = format!(
        "insmod /lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko; sleep 1; \
         busybox ip link set eth0 up; busybox ip addr add 10.0.2.15/24 dev eth0; sleep 2; \
         t0=$(cut -d' ' -f1 /proc/uptime); busybox wget -q -O /run/wget.img {url}; \
         t1=$(cut -d' ' -f1 /proc/uptime); rm /run/wget.img; echo WGET_TIME $t0 $t1; exit\n"
    );
    let mut cfg = QemuConfig::new(&kernel.vmlinuz, initramfs, log)
        .append(&format!("root=live:{url} rd.break=initqueue rd.minmem=256"))
        .console(Console::Scripted {
            log: log.to_path_buf(),
            steps: vec![ConsoleStep::new("liveinit (rd.break=initqueue):", &shell)],
        });
    cfg.memory_mb = 1024;
    cfg.network = true;
    cfg.netns_server = Some(image_server(&server.display().to_string(), served, 0));
    cfg.extra_args.extend([
        "-netdev".into(),
        "user,id=net0,restrict=off".into(),
        "-device".into(),
        "e1000,netdev=net0,romfile=".into(),
    ]);
    let out = qemu::boot(&cfg)?;
    parse_times(&out.log).with_context(|| format!("reading the times from {}", log.display()))
}

/// `(liveinit, wget)` seconds from a boot's console.
fn parse_times(log: &str) -> Result<(f64, f64)> {
    let stamp = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split(']').next())
            .and_then(|l| l.rsplit('[').next())
            .and_then(|t| t.trim().parse::<f64>().ok())
    };
    let start = stamp("liveinit: livenet: downloading").context("no download start")?;
    let end = stamp("liveinit: livenet: http://").context("no download end")?;
    let wget = log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("WGET_TIME "))
        .find_map(|rest| {
            let mut it = rest.split_whitespace().map(|t| t.parse::<f64>().ok());
            let (t0, t1) = (it.next()??, it.next()??);
            Some(t1 - t0)
        })
        .context("no wget time")?;
    Ok((end - start, wget))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_from_the_console() {
        let log = "liveinit (rd.break=initqueue):/# echo WGET_TIME $t0 $t1\r\n\
                   WGET_TIME 10.50 12.00\r\n\
                   [   13.000000] liveinit: livenet: downloading http://x to /y\r\n\
                   [   14.250000] liveinit: livenet: http://x 48 MiB\r\n";
        let (l, w) = parse_times(log).unwrap();
        assert!((l - 1.25).abs() < 1e-9 && (w - 1.5).abs() < 1e-9, "{l} {w}");
    }
}
