//! A network boot against the same image from a medium (issue 14): liveinit
//! boots the bench's live root (the probe as `/sbin/init`) as a flattened
//! SquashFS downloaded over QEMU's user networking (`root=live:http://…`,
//! e1000, DHCP, the image server beside QEMU in a private network
//! namespace, loopback only), and the same root from the flattened ISO on
//! the IDE CD; alternating which goes first. The figure, as in the side by
//! side: from the kernel's `Run /init` to the real init's first reading of
//! its clock. The difference is what the network costs: the NIC's driver,
//! DHCP and the download.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::media::{Layout, LiveImages, LiveRoot};
use qemu_tests::netboot::{serve_over_e1000, SERVER};
use qemu_tests::qemu::{self, Drive, QemuConfig};
use qemu_tests::report::ProbeReport;

use super::boot::host_load;
use super::format;
use super::media::LABEL;
use super::stats::{self, Summary};
use super::timeline;

/// The same for both boots: the download must leave this much RAM free,
/// and 1 GiB with the default 1024 MiB would refuse even a tiny image.
const MINMEM: &str = "rd.minmem=256";
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Network,
    Medium,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Network => "network",
            Source::Medium => "medium",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NetBoot {
    pub round: usize,
    pub source: Source,
    /// Seconds from `Run /init` to the real init.
    pub outcome: Result<f64, String>,
    pub load: f64,
}

#[derive(Debug, Clone)]
pub struct NetbootResult {
    pub image_bytes: u64,
    pub boots: Vec<NetBoot>,
}

pub fn run(
    kernel: &Kernel,
    liveinit_image: &Path,
    root: &LiveRoot,
    flat_iso: &Path,
    work: &Path,
    runs: usize,
) -> Result<NetbootResult> {
    let dir = work.join("netboot");
    let served = dir.join("served");
    fs::create_dir_all(&served)?;
    let images = LiveImages::build(root, Layout::FlatSquashfs, &dir)?;
    let image = &images
        .files
        .first()
        .context("no image for the flattened layout")?
        .1;
    let live_img = served.join("live.img");
    fs::copy(image, &live_img)?;
    let server = super::download::build_server()?;
    let mut boots = Vec::new();
    for round in 0..runs {
        let order = match round % 2 {
            0 => [Source::Network, Source::Medium],
            _ => [Source::Medium, Source::Network],
        };
        for source in order {
            let log = dir.join(format!("{}-{round}.log", source.name()));
            let cfg = config(
                kernel,
                liveinit_image,
                source,
                flat_iso,
                &server,
                &served,
                &log,
            );
            let load = host_load();
            let outcome = boot(&cfg, &log);
            match &outcome {
                Ok(s) => eprintln!(
                    "bench: netboot round {}: {}: {s:.3} s (load {load:.2})",
                    round + 1,
                    source.name()
                ),
                Err(e) => eprintln!(
                    "bench: netboot round {}: {}: FAILED: {e:#}",
                    round + 1,
                    source.name()
                ),
            }
            boots.push(NetBoot {
                round,
                source,
                outcome: outcome.map_err(|e| format!("{e:#}")),
                load,
            });
        }
    }
    Ok(NetbootResult {
        image_bytes: fs::metadata(&live_img)?.len(),
        boots,
    })
}

fn config(
    kernel: &Kernel,
    initrd: &Path,
    source: Source,
    iso: &Path,
    server: &Path,
    served: &Path,
    log: &Path,
) -> QemuConfig {
    let mut cfg = QemuConfig::new(&kernel.vmlinuz, initrd, log).timeout(Some(BOOT_TIMEOUT));
    match source {
        Source::Medium => {
            cfg = cfg
                .append(&format!("root=live:CDLABEL={LABEL} {MINMEM}"))
                .drive(Drive::Cdrom(iso.to_path_buf()));
        }
        Source::Network => {
            cfg = cfg.append(&format!("root=live:http://{SERVER}/f/live.img {MINMEM}"));
            serve_over_e1000(&mut cfg, &server.display().to_string(), served);
        }
    }
    cfg
}

fn boot(cfg: &QemuConfig, log: &Path) -> Result<f64> {
    let out = qemu::boot(cfg)?;
    let report = ProbeReport::parse_log(&out.log)
        .with_context(|| format!("the real init never ran; see {}", log.display()))?;
    let start = timeline::first(&out.log, timeline::RUN_INIT)
        .with_context(|| format!("no \"Run /init\" line in {}", log.display()))?;
    let reached = report
        .uptime_secs
        .with_context(|| format!("the probe reported no uptime in {}", log.display()))?;
    Ok(reached - start)
}

/// The report's section.
pub fn section(md: &mut String, r: &NetbootResult) {
    let times = |source: Source| -> Vec<f64> {
        r.boots
            .iter()
            .filter(|b| b.source == source)
            .filter_map(|b| b.outcome.as_ref().ok().copied())
            .collect()
    };
    let net = Summary::of(&times(Source::Network));
    let medium = Summary::of(&times(Source::Medium));
    let _ = writeln!(
        md,
        "## Network boot against the same image from a medium\n\n\
         liveinit boots the bench's live root as a flattened SquashFS ({}) downloaded with \
         `root=live:http://{SERVER}/f/live.img` (e1000, DHCP over QEMU's user networking, the \
         image server beside QEMU in a private network namespace), and the same root from the \
         flattened ISO on the IDE CD (`root=live:CDLABEL={LABEL}`); both with `{MINMEM}`, \
         alternating which goes first. Time from `Run /init` to the real init.\n",
        format::bytes(r.image_bytes)
    );
    let _ = writeln!(
        md,
        "| | median | min | max | boots |\n|---|---|---|---|---|"
    );
    for (name, s) in [("network", net), ("medium (IDE CD)", medium)] {
        if let Some(s) = s {
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} | {} |",
                format::secs(Some(s.median)),
                format::secs(Some(s.min)),
                format::secs(Some(s.max)),
                s.count
            );
        }
    }
    if let (Some(n), Some(m)) = (net, medium) {
        let _ = writeln!(
            md,
            "\nThe network costs {} more (medians; network ÷ medium {}).",
            format::secs(Some(n.median - m.median)),
            format::ratio(stats::ratio(n.median, m.median))
        );
    }
    let _ = writeln!(
        md,
        "\n| round | source | time | host load |\n|---|---|---|---|"
    );
    for b in &r.boots {
        let outcome = match &b.outcome {
            Ok(s) => format::secs(Some(*s)),
            Err(e) => format!("failed: {e}"),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {outcome} | {:.2} |",
            b.round + 1,
            b.source.name(),
            b.load
        );
    }
    md.push('\n');
}
