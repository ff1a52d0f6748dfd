//! One peer case, run: a memory boot per peer (untimed, it also warms the
//! host's caches), then N timed rounds in rotating order, then one
//! liveinit boot with its debug log for the step-by-step breakdown.
//! A failed boot is recorded, never the end of the benchmark.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use qemu_tests::kernel::Kernel;

use super::boot::{self, BootSpec, Timed};
use super::cases::PeerCase;
use super::image_stats::{self, ImageStats};
use super::memory::{self, MemoryUse};
use super::peers::{round_order, Peer};
use super::stats::Summary;
use super::timeline::Breakdown;

/// What every case shares.
pub struct Setup<'a> {
    pub kernel: &'a Kernel,
    pub work: &'a Path,
    pub sampler: &'a Path,
    pub liveinit_image: &'a Path,
    pub dracut_image: &'a Path,
}

/// One timed boot of the rounds.
#[derive(Debug, Clone)]
pub struct BootRecord {
    pub round: usize,
    pub peer: Peer,
    /// The error text of a boot that failed.
    pub outcome: Result<Timed, String>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: PeerCase,
    pub boots: Vec<BootRecord>,
    pub memory: BTreeMap<Peer, Result<MemoryUse, String>>,
    pub images: BTreeMap<Peer, ImageStats>,
    pub breakdown: Result<Breakdown, String>,
}

impl CaseResult {
    /// The successful timings of `peer`.
    pub fn timings(&self, peer: Peer) -> Vec<&Timed> {
        self.boots
            .iter()
            .filter(|b| b.peer == peer)
            .filter_map(|b| b.outcome.as_ref().ok())
            .collect()
    }

    /// "Run /init → real init" over the successful boots of `peer`.
    pub fn summary(&self, peer: Peer) -> Option<Summary> {
        let times: Vec<f64> = self.timings(peer).iter().map(|t| t.to_real_init).collect();
        Summary::of(&times)
    }

    pub fn failures(&self, peer: Peer) -> usize {
        self.boots
            .iter()
            .filter(|b| b.peer == peer && b.outcome.is_err())
            .count()
    }
}

pub fn run(setup: &Setup<'_>, case: &PeerCase, runs: usize) -> Result<CaseResult> {
    let name = case.id.name();
    let logs = setup.work.join("logs").join(name);
    fs::create_dir_all(&logs)?;
    let floor_image = setup.work.join(format!("floor-{name}.img"));
    case.floor.pack(&setup.kernel.modules_dir, &floor_image)?;
    let image_of = |peer: Peer| -> PathBuf {
        match peer {
            Peer::Liveinit => setup.liveinit_image.to_path_buf(),
            Peer::Floor => floor_image.clone(),
            Peer::Dracut => setup.dracut_image.to_path_buf(),
        }
    };
    let spec = |peer: Peer, initrd: PathBuf, log: PathBuf| BootSpec {
        initrd,
        drives: vec![case.drive.clone()],
        extra_args: Vec::new(),
        cmdline: match peer {
            Peer::Dracut => format!("{} {}", case.cmdline, case.dracut_extra),
            Peer::Liveinit | Peer::Floor => case.cmdline.clone(),
        },
        device: case.device.to_string(),
        log,
    };

    let mut memory = BTreeMap::new();
    for peer in Peer::ALL {
        let wrapped = setup
            .work
            .join(format!("{}-{name}-memwatch.img", peer.slug()));
        memory::wrap(setup.sampler, &image_of(peer), &wrapped)?;
        let log = logs.join(format!("{}-memory.log", peer.slug()));
        let outcome = boot::memory(setup.kernel, &spec(peer, wrapped, log));
        report_progress(
            name,
            "memory",
            peer,
            &outcome.as_ref().map(|m| format!("peak {} KiB", m.peak_kb)),
        );
        memory.insert(peer, outcome.map_err(|e| format!("{e:#}")));
    }

    let mut boots = Vec::new();
    for round in 0..runs {
        for peer in round_order(&Peer::ALL, round) {
            let log = logs.join(format!("{}-{round}.log", peer.slug()));
            let outcome = boot::timed(setup.kernel, &spec(peer, image_of(peer), log));
            report_progress(
                name,
                &format!("run {}", round + 1),
                peer,
                &outcome.as_ref().map(|t| format!("{:.3} s", t.to_real_init)),
            );
            boots.push(BootRecord {
                round,
                peer,
                outcome: outcome.map_err(|e| format!("{e:#}")),
            });
        }
    }

    let debug_log = logs.join("liveinit-debug.log");
    let breakdown = boot::debug(
        setup.kernel,
        &spec(Peer::Liveinit, image_of(Peer::Liveinit), debug_log),
    )
    .map_err(|e| format!("{e:#}"));

    let mut images = BTreeMap::new();
    for peer in Peer::ALL {
        images.insert(peer, image_stats::read(&image_of(peer))?);
    }
    Ok(CaseResult {
        case: case.clone(),
        boots,
        memory,
        images,
        breakdown,
    })
}

fn report_progress(case: &str, what: &str, peer: Peer, outcome: &Result<String, &anyhow::Error>) {
    match outcome {
        Ok(figure) => eprintln!("bench: {case} {what} {}: {figure}", peer.label()),
        Err(e) => eprintln!("bench: {case} {what} {}: FAILED: {e:#}", peer.label()),
    }
}
