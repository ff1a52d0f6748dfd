//! One benchmark boot and what is read from it. Every boot has the same
//! QEMU settings (TCG, 1 CPU, 1 GiB, no NIC, the serial console captured);
//! only the initramfs, the media and the init's own options differ.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::qemu::{self, Drive, QemuConfig};
use qemu_tests::report::ProbeReport;

use super::memory::{self, MemoryUse};
use super::timeline::{self, Breakdown, Milestones, RUN_INIT, RUN_MEMWATCH};

/// dracut's slowest boots take about 40 s of guest time here; its own
/// wait for the medium is much longer, so a failure ends in the timeout.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// liveinit's debug lines are kernel messages of priority 7: this console
/// level makes the kernel print (and time-stamp) them.
const DEBUG_APPEND: &str = "rd.debug loglevel=8";

/// What one boot is given.
#[derive(Debug, Clone)]
pub struct BootSpec {
    pub initrd: PathBuf,
    pub drives: Vec<Drive>,
    /// Raw QEMU arguments (e.g. many disks at chosen PCI addresses).
    pub extra_args: Vec<String>,
    pub cmdline: String,
    /// The medium's kernel name (`sr0`, `sda`, `vda`…).
    pub device: String,
    pub log: PathBuf,
}

/// A timed boot.
#[derive(Debug, Clone)]
pub struct Timed {
    /// Seconds from the kernel's "Run /init" to the real init's first
    /// reading of its clock (the probe reads `/proc/uptime` first thing).
    pub to_real_init: f64,
    pub milestones: Milestones,
    /// The host's 1-minute load average just before the boot.
    pub host_load: f64,
    /// The kernel's own boot up to "Run /init": the same work in every
    /// boot, so when it is slow the host was busy (a noise gauge).
    pub kernel_boot: f64,
}

fn config(kernel: &Kernel, spec: &BootSpec, append: &str) -> QemuConfig {
    let mut cfg = QemuConfig::new(&kernel.vmlinuz, &spec.initrd, &spec.log)
        .append(&spec.cmdline)
        .append(append)
        .timeout(Some(BOOT_TIMEOUT));
    for d in &spec.drives {
        cfg = cfg.drive(d.clone());
    }
    cfg.extra_args.extend(spec.extra_args.iter().cloned());
    cfg
}

/// Boots and returns the console log, the "Run …" timestamp (`run_line`)
/// and the real init's uptime reading.
fn boot(cfg: &QemuConfig, log: &Path, run_line: &str) -> Result<(String, f64, f64)> {
    let out = qemu::boot(cfg)?;
    let report = ProbeReport::parse_log(&out.log)
        .with_context(|| format!("the real init never ran; see {}", log.display()))?;
    let start = timeline::first(&out.log, run_line)
        .with_context(|| format!("no \"{run_line}\" line in {}", log.display()))?;
    let reached = report
        .uptime_secs
        .with_context(|| format!("the probe reported no uptime in {}", log.display()))?;
    Ok((out.log, start, reached))
}

pub fn timed(kernel: &Kernel, spec: &BootSpec) -> Result<Timed> {
    let host_load = host_load();
    let (log, start, reached) = boot(&config(kernel, spec, ""), &spec.log, RUN_INIT)?;
    Ok(Timed {
        to_real_init: reached - start,
        milestones: Milestones::read(&log, start, &spec.device),
        host_load,
        kernel_boot: start,
    })
}

/// A boot through the memory sampler; `spec.initrd` must be wrapped
/// (see [`memory::wrap`]).
pub fn memory(kernel: &Kernel, spec: &BootSpec) -> Result<MemoryUse> {
    let (log, _, _) = boot(
        &config(kernel, spec, memory::RDINIT),
        &spec.log,
        RUN_MEMWATCH,
    )?;
    memory::parse(&log).with_context(|| {
        format!(
            "no memwatch line in {} (did PID 1 switch root?)",
            spec.log.display()
        )
    })
}

/// A liveinit boot with its debug messages, read into steps.
pub fn debug(kernel: &Kernel, spec: &BootSpec) -> Result<Breakdown> {
    let (log, start, reached) = boot(&config(kernel, spec, DEBUG_APPEND), &spec.log, RUN_INIT)?;
    Ok(Breakdown::read(&log, start, &spec.device, Some(reached)))
}

/// The host's 1-minute load average.
pub fn host_load() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}
