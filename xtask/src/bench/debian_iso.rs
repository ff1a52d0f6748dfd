//! Debian's own live ISO (issue 15, distro-live-spec §5): Debian's
//! live-boot initramfs against liveinit packed from that ISO kernel's own
//! modules, on the same ISO, the same kernel and the same QEMU settings
//! (those of `qemu-tests/debian-live/boot-iso.sh`), in alternating order.
//! The figure is the time from the kernel's `Run /init` to systemd's first
//! line (both kernel-stamped on the serial console); the boot is stopped
//! there, since what follows is systemd's work, the same for both (and
//! `cargo xtask test --debian-iso` proves both reach multi-user.target).
//!
//! The ISO is built by Debian's live-build, once (~38 minutes, root and
//! deb.debian.org): the bench only uses the cached one and says how to build
//! it when it is missing, never builds it itself.

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::boot::host_load;
use super::format;
use super::stats::{self, Summary};
use super::timeline;

/// Where `build-iso.sh` caches its ISO: `<this>/<key>/`.
const CACHE: &str = ".cache/debian-live";
const BUILD_SCRIPT: &str = "qemu-tests/debian-live/build-iso.sh";
const ISO_NAME: &str = "live-image-amd64.hybrid.iso";
const APPEND: &str = "boot=live components console=ttyS0 panic=-1";
/// systemd's first line, kernel-stamped: the real init is running.
const SYSTEMD_LINE: &str = "systemd[1]: systemd ";
/// Rounds at most: a Debian boot takes 2.5–4 minutes to systemd under TCG,
/// so `--runs 7` would add half an hour.
pub const MAX_ROUNDS: usize = 3;
/// Debian's initramfs took 142 s to systemd under TCG on a loaded host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(900);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Debian,
    Liveinit,
}

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::Debian => "debian",
            Who::Liveinit => "liveinit",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DebianBoot {
    pub round: usize,
    pub who: Who,
    /// Seconds from `Run /init` to systemd, or why not.
    pub outcome: Result<f64, String>,
    /// The host's 1-minute load just before the boot.
    pub load: f64,
    /// The kernel's own boot up to `Run /init` (it unpacks the initramfs).
    pub kernel_boot: Option<f64>,
}

#[derive(Debug, Clone)]
pub enum DebianResult {
    /// The cached ISO is missing: what to do.
    NotBuilt { expected: PathBuf },
    Ran {
        iso: PathBuf,
        debian_initrd_bytes: u64,
        liveinit_initrd_bytes: u64,
        boots: Vec<DebianBoot>,
    },
}

/// The cached ISO's path (whether or not it is there): the key is the
/// build script's hash, as `build-iso.sh` computes it.
fn cached_iso(root: &Path) -> Result<PathBuf> {
    let script = root.join(BUILD_SCRIPT);
    let out = Command::new("sha256sum")
        .arg(&script)
        .output()
        .context("sha256sum")?;
    if !out.status.success() {
        bail!("sha256sum {} failed", script.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let key = text.get(..16).context("sha256sum printed no digest")?;
    Ok(root.join(CACHE).join(key).join(ISO_NAME))
}

pub fn run(work: &Path, runs: usize) -> Result<DebianResult> {
    let root = qemu_tests::workspace_root();
    let iso = cached_iso(&root)?;
    if !iso.is_file() {
        eprintln!(
            "bench: debian-iso: no cached Debian live ISO at {}; build it first with \
             `cargo xtask test --debian-iso` (~38 min, needs live-build, root and deb.debian.org)",
            iso.display()
        );
        return Ok(DebianResult::NotBuilt { expected: iso });
    }
    let cached = iso.parent().context("ISO without a folder")?.to_path_buf();
    extract(&iso, &cached)?;
    let dir = work.join("debian-iso");
    fs::create_dir_all(&dir)?;
    let liveinit_initrd = dir.join("liveinit.img");
    let moddir = modules_dir(&cached)?;
    let status = Command::new(std::env::current_exe()?)
        .arg("initramfs")
        .arg("--modules-dir")
        .arg(&moddir)
        .arg("--output")
        .arg(&liveinit_initrd)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("packing liveinit from {} failed", moddir.display());
    }
    let debian_initrd = cached.join("debian-initrd.img");
    let vmlinuz = cached.join("vmlinuz");
    let mut boots = Vec::new();
    for round in 0..runs.min(MAX_ROUNDS) {
        // Alternate who goes first, so drift in the host's load hits both.
        let order = match round % 2 {
            0 => [Who::Debian, Who::Liveinit],
            _ => [Who::Liveinit, Who::Debian],
        };
        for who in order {
            let initrd = match who {
                Who::Debian => &debian_initrd,
                Who::Liveinit => &liveinit_initrd,
            };
            let log = dir.join(format!("{}-{round}.log", who.name()));
            let load = host_load();
            let outcome = boot(&vmlinuz, initrd, &iso, &log);
            let kernel_boot = fs::read_to_string(&log)
                .ok()
                .and_then(|l| timeline::first(&l, timeline::RUN_INIT));
            match &outcome {
                Ok(s) => eprintln!(
                    "bench: debian-iso round {}: {}: Run /init -> systemd {s:.2} s (load {load:.2})",
                    round + 1,
                    who.name()
                ),
                Err(e) => eprintln!(
                    "bench: debian-iso round {}: {}: FAILED: {e:#}",
                    round + 1,
                    who.name()
                ),
            }
            boots.push(DebianBoot {
                round,
                who,
                outcome: outcome.map_err(|e| format!("{e:#}")),
                load,
                kernel_boot,
            });
        }
    }
    Ok(DebianResult::Ran {
        iso,
        debian_initrd_bytes: fs::metadata(&debian_initrd)?.len(),
        liveinit_initrd_bytes: fs::metadata(&liveinit_initrd)?.len(),
        boots,
    })
}

/// The ISO's kernel, Debian's initramfs and the kernel's modules, taken out
/// of the ISO once (as `boot-iso.sh` does, into the same place).
fn extract(iso: &Path, dir: &Path) -> Result<()> {
    let ready = ["vmlinuz", "debian-initrd.img"]
        .iter()
        .all(|f| dir.join(f).is_file())
        && modules_dir(dir).is_ok();
    if ready {
        return Ok(());
    }
    let squashfs = dir.join("filesystem.squashfs");
    let status = Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/live/vmlinuz"])
        .arg(dir.join("vmlinuz"))
        .args(["-extract", "/live/initrd.img"])
        .arg(dir.join("debian-initrd.img"))
        .args(["-extract", "/live/filesystem.squashfs"])
        .arg(&squashfs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("xorriso")?;
    if !status.success() {
        bail!(
            "xorriso could not extract the kernel from {}",
            iso.display()
        );
    }
    let modroot = dir.join("modroot");
    let _ = fs::remove_dir_all(&modroot);
    let status = Command::new("unsquashfs")
        .args(["-q", "-n", "-d"])
        .arg(&modroot)
        .arg(&squashfs)
        .arg("usr/lib/modules")
        .stdout(Stdio::null())
        .status()
        .context("unsquashfs")?;
    let _ = fs::remove_file(&squashfs);
    if !status.success() {
        bail!("unsquashfs could not take the modules out of the ISO");
    }
    Ok(())
}

fn modules_dir(dir: &Path) -> Result<PathBuf> {
    let base = dir.join("modroot/usr/lib/modules");
    fs::read_dir(&base)
        .with_context(|| format!("read {}", base.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_dir())
        .with_context(|| format!("no kernel's modules in {}", base.display()))
}

/// One boot up to systemd's first line, then QEMU is stopped.
fn boot(vmlinuz: &Path, initrd: &Path, iso: &Path, log: &Path) -> Result<f64> {
    let _ = fs::remove_file(log);
    // The settings of boot-iso.sh; the ISO is read-only, so both boots
    // start from the same medium.
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35,accel=tcg", "-m", "2048", "-smp", "1"])
        .args(["-nic", "none", "-display", "none", "-no-reboot"])
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .args(["-monitor", "none", "-kernel"])
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", APPEND, "-drive"])
        .arg(format!(
            "file={},media=cdrom,readonly=on,if=ide",
            iso.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting qemu-system-x86_64")?;
    let started = Instant::now();
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(500));
        let text = fs::read(log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if let Some(secs) = to_systemd(&text) {
            break Ok(secs);
        }
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            break Err(anyhow::anyhow!(
                "QEMU ended ({status}) before systemd started; see {}{}",
                log.display(),
                if err.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", err.trim())
                }
            ));
        }
        if started.elapsed() > BOOT_TIMEOUT {
            break Err(anyhow::anyhow!(
                "systemd did not start within {} s; see {}",
                BOOT_TIMEOUT.as_secs(),
                log.display()
            ));
        }
    };
    // Our own child, by its handle.
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// Seconds from `Run /init` to systemd's first line.
fn to_systemd(log: &str) -> Option<f64> {
    let run = timeline::first(log, timeline::RUN_INIT)?;
    let systemd = timeline::first(log, SYSTEMD_LINE)?;
    (systemd >= run).then_some(systemd - run)
}

/// The report's section.
pub fn section(md: &mut String, r: &DebianResult) {
    match r {
        DebianResult::NotBuilt { expected } => {
            let _ = writeln!(
                md,
                "## Debian live ISO: live-boot against liveinit\n\n\
                 **Not run**: no cached Debian live ISO at `{}`. The bench never builds it \
                 (Debian's live-build takes ~38 minutes, needs root and deb.debian.org); build it \
                 once with `cargo xtask test --debian-iso` (or `{BUILD_SCRIPT} {CACHE}`), then \
                 run `cargo xtask bench --cases debian-iso`.\n",
                expected.display()
            );
        }
        DebianResult::Ran {
            iso,
            debian_initrd_bytes,
            liveinit_initrd_bytes,
            boots,
        } => ran_section(md, iso, *debian_initrd_bytes, *liveinit_initrd_bytes, boots),
    }
}

fn ran_section(md: &mut String, iso: &Path, debian: u64, liveinit: u64, boots: &[DebianBoot]) {
    let times = |who: Who| -> Vec<f64> {
        boots
            .iter()
            .filter(|b| b.who == who)
            .filter_map(|b| b.outcome.as_ref().ok().copied())
            .collect()
    };
    let (d, l) = (
        Summary::of(&times(Who::Debian)),
        Summary::of(&times(Who::Liveinit)),
    );
    let _ = writeln!(
        md,
        "## Debian live ISO: live-boot against liveinit\n\n\
         The ISO built by Debian's live-build (`{}`), booted with `{APPEND}` on its own kernel \
         (q35, TCG, 1 CPU, 2 GiB, the ISO on an IDE CD): once with the ISO's initramfs \
         (Debian's live-boot), once with liveinit packed from that kernel's own modules, in \
         alternating order. Time from the kernel's `Run /init` to systemd's first line \
         (kernel stamps); the boot is stopped there.\n",
        iso.display()
    );
    let _ = writeln!(md, "| | Debian live-boot | liveinit |\n|---|---|---|");
    let cell = |s: &Option<Summary>| match s {
        Some(s) => format!(
            "{} (min {}, max {}, {} boots)",
            format::secs(Some(s.median)),
            format::secs(Some(s.min)),
            format::secs(Some(s.max)),
            s.count
        ),
        None => "—".into(),
    };
    let _ = writeln!(
        md,
        "| `Run /init` → systemd, median | {} | {} |",
        cell(&d),
        cell(&l)
    );
    if let (Some(d), Some(l)) = (d, l) {
        let _ = writeln!(
            md,
            "| Debian ÷ liveinit (medians; minima) | {}× ({}×) | |",
            format::ratio(stats::ratio(d.median, l.median)),
            format::ratio(stats::ratio(d.min, l.min))
        );
    }
    let _ = writeln!(
        md,
        "| initramfs size | {} ({debian} bytes) | {} ({liveinit} bytes) |\n\n\
         Under TCG the host's load reaches the guest's clock; the load before each boot and the \
         kernel's own boot up to `Run /init` (which includes unpacking the initramfs) are listed \
         as noise gauges.\n",
        format::bytes(debian),
        format::bytes(liveinit)
    );
    let _ = writeln!(
        md,
        "| round | initramfs | `Run /init` → systemd | kernel to `Run /init` | host load |\n\
         |---|---|---|---|---|"
    );
    for b in boots {
        let outcome = match &b.outcome {
            Ok(s) => format::secs(Some(*s)),
            Err(e) => format!("failed: {e}"),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {outcome} | {} | {:.2} |",
            b.round + 1,
            b.who.name(),
            b.kernel_boot
                .map_or_else(|| "—".into(), |k| format::secs(Some(k))),
            b.load
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_runs_from_run_init_to_systemd() {
        let log = "[   10.015642] Run /init as init process\r\n\
                   [   16.764389] systemd[1]: systemd 252.39-1~deb12u2 running in system mode\r\n";
        let t = to_systemd(log).unwrap();
        assert!((t - 6.748747).abs() < 1e-6, "{t}");
        assert_eq!(to_systemd("[ 1.0] Run /init as init process\n"), None);
    }

    #[test]
    fn a_missing_iso_says_how_to_build_it() {
        let mut md = String::new();
        section(
            &mut md,
            &DebianResult::NotBuilt {
                expected: "/x/live.iso".into(),
            },
        );
        assert!(md.contains("Not run") && md.contains("cargo xtask test --debian-iso"));
    }
}
