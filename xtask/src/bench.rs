//! `cargo xtask bench`: liveinit against a peer in the same run.
//!
//! The peer is the floor a shell init can reach: busybox, a fixed module
//! list, a fixed `/dev/sr0`, no discovery and no checks. Both boot the same
//! ISO with the same kernel under the same QEMU; the figure is the time from
//! the kernel's "Run /init" to the real init (the probe) starting, read from
//! the guest's own clock. Boots alternate so drift hits both alike. Sizes of
//! the init binaries and initramfs images are reported side by side, and a
//! longer fuzz run of the pure core closes the benchmark.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::media::{LiveImages, LiveRoot, LiveRootSpec};
use qemu_tests::qemu::{self, Drive, QemuConfig};
use qemu_tests::report::ProbeReport;

use crate::compress::{self, Compression};
use crate::initramfs::{self, PackOptions, DEFAULT_BUSYBOX};
use crate::{cpio, kmods};

const USAGE: &str = "\
usage: cargo xtask bench [--runs N] [--no-fuzz]

Boots the same live ISO N times (default 7) with liveinit and with a
busybox shell-script init, alternating, and reports the time from the
kernel's \"Run /init\" to the real init, the ratio liveinit/peer (goal: at
most 1.0), the sizes of both inits and initramfs images, then runs a longer
fuzz of the command-line parser and the probes (skip it with --no-fuzz).
The report is also written to target/bench/report.md.
";

/// What the peer loads: exactly the drivers for an IDE CD holding an ISO
/// with a squashfs image, and the overlay (their dependencies follow).
const PEER_MODULES: &[&str] = &["ata_piix", "sr_mod", "isofs", "squashfs", "loop", "overlay"];
const PEER_APPLETS: &[&str] = &[
    "sh",
    "mount",
    "insmod",
    "mkdir",
    "usleep",
    "switch_root",
    "poweroff",
];
const PEER_INIT: &str = r#"#!/bin/sh
# The floor a shell init can reach: fixed modules, fixed device, no checks.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
while read -r m; do insmod "$m"; done < /etc/modules.fixed
mkdir -p /run/initramfs/live /run/rootfsbase /run/ovl/upper /run/ovl/work /sysroot
i=0
until mount -t iso9660 -o ro /dev/sr0 /run/initramfs/live 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 3000 ]; then echo "peer: no /dev/sr0"; poweroff -f; fi
  usleep 10000
done
mount -t squashfs -o ro,loop /run/initramfs/live/LiveOS/squashfs.img /run/rootfsbase
mount -t overlay LiveOS_rootfs -o lowerdir=/run/rootfsbase,upperdir=/run/ovl/upper,workdir=/run/ovl/work /sysroot
for d in dev proc sys run; do mount --move /$d /sysroot/$d; done
exec switch_root /sysroot /sbin/init
"#;
const LABEL: &str = "LIVEINIT_BENCH";
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

pub fn cmd(args: &[String]) -> Result<()> {
    let mut runs = 7usize;
    let mut fuzz = true;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "--no-fuzz" => fuzz = false,
            "--runs" => {
                let value = it.next().context("--runs needs a number")?;
                runs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--runs {value}: expected a number above 0"))?;
            }
            other => bail!("unknown option '{other}'\n\n{USAGE}"),
        }
    }
    qemu_tests::host::ensure_all()?;
    let kernel = Kernel::fetch(&qemu_tests::kernel::default_cache_dir())?;
    let work = qemu_tests::out_dir().join("..").join("bench");
    fs::create_dir_all(&work)?;

    let ours = work.join("liveinit.img");
    initramfs::pack(&PackOptions {
        modules_dir: kernel.modules_dir.clone(),
        output: ours.clone(),
        compression: Compression::Zstd,
        extra_files: Vec::new(),
        busybox: None,
    })?;
    let peer = work.join("peer.img");
    pack_peer(&kernel.modules_dir, &peer)?;
    let iso = bench_iso(&work)?;

    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for run in 0..runs {
        // Alternate which goes first, so slow drift is shared.
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (name, initrd) = if which == 0 {
                ("liveinit", &ours)
            } else {
                ("peer", &peer)
            };
            let secs = time_boot(&kernel, initrd, &iso, &work, name, run)?;
            eprintln!("bench: run {} {name}: {secs:.3} s", run + 1);
            times[which].push(secs);
        }
    }
    let init_binary = crate::build_init::build()?;
    let report = render(
        &times,
        Sizes {
            liveinit_init: file_len(&init_binary)?,
            peer_init: file_len(Path::new(DEFAULT_BUSYBOX))? + PEER_INIT.len() as u64,
            liveinit_image: file_len(&ours)?,
            peer_image: file_len(&peer)?,
        },
        runs,
    );
    print!("{report}");
    fs::write(work.join("report.md"), &report)?;
    if fuzz {
        long_fuzz()?;
    }
    Ok(())
}

/// The peer's initramfs: busybox, the script as `/init`, fixed modules.
fn pack_peer(modules_dir: &Path, out: &Path) -> Result<()> {
    let modules = kmods::collect(modules_dir, PEER_MODULES)?;
    let mut a = cpio::Archive::new();
    for dir in ["bin", "dev", "etc", "proc", "sys", "run", "sysroot", "tmp"] {
        a.dir(dir, 0o755)?;
    }
    a.char_dev("dev/console", 0o600, 5, 1)?;
    a.file(
        "bin/busybox",
        0o755,
        fs::read(DEFAULT_BUSYBOX).context("busybox-static")?,
    )?;
    for applet in PEER_APPLETS {
        a.symlink(&format!("bin/{applet}"), "busybox")?;
    }
    a.file("init", 0o755, PEER_INIT.as_bytes().to_vec())?;
    a.file("etc/modules.fixed", 0o644, modules.load_list().into_bytes())?;
    for m in &modules.modules {
        a.file(&m.archive_path, 0o644, m.data.clone())?;
    }
    let bytes = compress::compress(&a.to_bytes(0)?, Compression::Zstd)?;
    fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
}

fn bench_iso(work: &Path) -> Result<PathBuf> {
    let probe = qemu_tests::build_probe()?;
    let root = LiveRoot::create(&work.join("root"), &LiveRootSpec::probe(probe))?;
    let images = LiveImages::build(&root, qemu_tests::media::Layout::FlatSquashfs, work)?;
    let iso = work.join("bench.iso");
    images.iso(LABEL, &iso)?;
    Ok(iso)
}

/// One boot: seconds from "Run /init" to the probe's first reading.
fn time_boot(
    kernel: &Kernel,
    initrd: &Path,
    iso: &Path,
    work: &Path,
    name: &str,
    run: usize,
) -> Result<f64> {
    let log = work.join(format!("{name}-{run}.log"));
    let cfg = QemuConfig::new(&kernel.vmlinuz, initrd, &log)
        .append(&format!("root=live:CDLABEL={LABEL}"))
        .drive(Drive::Cdrom(iso.to_path_buf()))
        .timeout(Some(BOOT_TIMEOUT));
    let out = qemu::boot(&cfg)?;
    let report = ProbeReport::parse_log(&out.log)
        .with_context(|| format!("{name} did not reach the real init; see {}", log.display()))?;
    let start = qemu::kernel_timestamp_of(&out.log, "Run /init as init process")
        .with_context(|| format!("no \"Run /init\" line in {}", log.display()))?;
    let reached = report
        .uptime_secs
        .with_context(|| format!("the probe reported no uptime in {}", log.display()))?;
    Ok(reached - start)
}

struct Sizes {
    liveinit_init: u64,
    peer_init: u64,
    liveinit_image: u64,
    peer_image: u64,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn render(times: &[Vec<f64>; 2], sizes: Sizes, runs: usize) -> String {
    let stat = |v: &[f64]| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (median(v), min, max)
    };
    let (lm, lmin, lmax) = stat(&times[0]);
    let (pm, pmin, pmax) = stat(&times[1]);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    format!(
        "\n## liveinit vs busybox shell init ({runs} boots each, QEMU TCG, same ISO and kernel)\n\n\
         | figure | liveinit | peer | ratio liveinit/peer |\n\
         |---|---|---|---|\n\
         | Run /init -> real init, median | {lm:.3} s | {pm:.3} s | **{:.2}** |\n\
         | ... min / max | {lmin:.3} / {lmax:.3} s | {pmin:.3} / {pmax:.3} s | {:.2} (of the minima) |\n\
         | init binary (static) | {} B | {} B (busybox + script) | {:.2} |\n\
         | initramfs image (zstd) | {} B | {} B | {:.2} |\n\n\
         The peer loads only the six drivers this ISO needs (and their dependencies) and\n\
         mounts a fixed /dev/sr0; liveinit finds the medium by label among every device\n\
         and loads the drivers the devices ask for and the modules its steps need.\n\
         Lower is better; the goal is a time ratio of at most 1.0.\n",
        ratio(lm, pm),
        ratio(lmin, pmin),
        sizes.liveinit_init,
        sizes.peer_init,
        ratio(sizes.liveinit_init as f64, sizes.peer_init as f64),
        sizes.liveinit_image,
        sizes.peer_image,
        ratio(sizes.liveinit_image as f64, sizes.peer_image as f64),
    )
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("stat {}", path.display()))?
        .len())
}

/// The long fuzz run: the ignored tests of the pure core, in release mode.
fn long_fuzz() -> Result<()> {
    eprintln!("bench: long fuzz run of the command line and the probes");
    let mut cmd = qemu_tests::cargo();
    cmd.current_dir(qemu_tests::workspace_root()).args([
        "test",
        "--release",
        "-p",
        "liveinit",
        "--lib",
        "--",
        "--ignored",
        "long_fuzz",
    ]);
    qemu_tests::run_streamed(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn report_shows_the_ratio() {
        let text = render(
            &[vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 6.0]],
            Sizes {
                liveinit_init: 10,
                peer_init: 20,
                liveinit_image: 30,
                peer_image: 60,
            },
            3,
        );
        assert!(text.contains("| 2.000 s | 4.000 s | **0.50** |"), "{text}");
        assert!(
            text.contains("| 1.000 / 3.000 s | 2.000 / 6.000 s | 0.50 (of the minima) |"),
            "{text}"
        );
    }
}
