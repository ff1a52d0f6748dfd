//! The scale experiments: liveinit's cost must not grow with the image or
//! with the machine. Each compares two variants of one machine, booted
//! alternately (A B, B A, …):
//!
//! - image: `LiveOS/rootfs.img` (ext4, uncompressed, dm snapshot) of
//!   16 MiB against 4 GiB (sparse on the host), each on a GPT partition of
//!   a virtio disk. Nothing in the boot may read the image, so nothing
//!   after "found the live medium" may grow.
//! - disks: the medium on one virtio disk (3 partitions) against the same
//!   medium behind 31 other disks (3 partitions each: FAT, ext4, empty),
//!   all on the same PCI slots (multifunction), the medium enumerated last.
//!   Goal: the medium found within 1.5× of the single-disk time. The kernel
//!   itself needs time per disk (PCI and virtio probing, partition tables),
//!   so the busybox floor boots both machines too: it waits for a fixed
//!   device node, which is as early as any init can find the medium.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use qemu_tests::kernel::Kernel;
use qemu_tests::media::LiveRoot;
use qemu_tests::qemu::Drive;

use super::boot::{self, BootSpec, Timed};
use super::cases::CaseId;
use super::floor::FloorRecipe;
use super::peers::{round_order, Peer};
use super::scale_media::{self, LABEL};
use super::timeline::Breakdown;

pub use super::scale_media::DISKS;
/// The goal for the time to find the medium, many disks against one.
pub const DISKS_GOAL: f64 = 1.5;

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: String,
    pub drives: Vec<Drive>,
    pub extra_args: Vec<String>,
    pub device: String,
    /// The floor's recipe for this machine, if the floor boots it too.
    pub floor: Option<FloorRecipe>,
}

#[derive(Debug, Clone)]
pub struct VariantResult {
    pub label: String,
    pub liveinit: Vec<Result<Timed, String>>,
    /// Empty when the floor does not boot this experiment.
    pub floor: Vec<Result<Timed, String>>,
}

#[derive(Debug, Clone)]
pub struct ScaleResult {
    pub id: CaseId,
    pub title: &'static str,
    /// The small / single-disk variant first.
    pub variants: [VariantResult; 2],
    /// For the image experiment: liveinit's steps on each variant, from
    /// one `rd.debug` boot each, to show which step (if any) grows.
    pub steps: Option<[Result<Breakdown, String>; 2]>,
}

/// Builds the media of `id` and boots both variants `runs` times each.
pub fn run(
    id: CaseId,
    kernel: &Kernel,
    liveinit_image: &Path,
    root: &LiveRoot,
    work: &Path,
    runs: usize,
) -> Result<Option<ScaleResult>> {
    let dir = work.join(id.name());
    fs::create_dir_all(&dir)?;
    let (title, variants) = match id {
        CaseId::ScaleImage => (
            "image size: 16 MiB vs 4 GiB rootfs.img (dm snapshot)",
            scale_media::image_variants(root, &dir)?,
        ),
        CaseId::ScaleDisks => (
            "machine size: the medium on 1 disk vs behind 31 more",
            scale_media::disk_variants(root, &dir)?,
        ),
        _ => return Ok(None),
    };
    let mut results = variants.clone().map(|v| VariantResult {
        label: v.label,
        liveinit: Vec::new(),
        floor: Vec::new(),
    });
    // Every (variant, peer) pair boots once per round, in rotating order.
    let mut pairs: Vec<(usize, Peer)> = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        pairs.push((i, Peer::Liveinit));
        if let Some(recipe) = &v.floor {
            recipe.pack(&kernel.modules_dir, &floor_image(&dir, i))?;
            pairs.push((i, Peer::Floor));
        }
    }
    for round in 0..runs {
        for (which, peer) in round_order(&pairs, round) {
            let v = &variants[which];
            let initrd = match peer {
                Peer::Floor => floor_image(&dir, which),
                Peer::Liveinit | Peer::Dracut => liveinit_image.to_path_buf(),
            };
            let spec = BootSpec {
                initrd,
                drives: v.drives.clone(),
                extra_args: v.extra_args.clone(),
                cmdline: format!("root=live:LABEL={LABEL}"),
                device: v.device.clone(),
                log: dir.join(format!("{which}-{}-{round}.log", peer.slug())),
            };
            let outcome = boot::timed(kernel, &spec);
            match &outcome {
                Ok(t) => eprintln!(
                    "bench: {} run {} {} {}: {:.3} s (medium's disk at {})",
                    id.name(),
                    round + 1,
                    v.label,
                    peer.label(),
                    t.to_real_init,
                    t.milestones
                        .device_appears
                        .map_or("?".to_string(), |m| format!("{m:.3} s"))
                ),
                Err(e) => eprintln!(
                    "bench: {} run {} {} {}: FAILED: {e:#}",
                    id.name(),
                    round + 1,
                    v.label,
                    peer.label()
                ),
            }
            let outcome = outcome.map_err(|e| format!("{e:#}"));
            match peer {
                Peer::Floor => results[which].floor.push(outcome),
                Peer::Liveinit | Peer::Dracut => results[which].liveinit.push(outcome),
            }
        }
    }
    let steps = (id == CaseId::ScaleImage).then(|| {
        [0, 1].map(|which| {
            let v = &variants[which];
            let spec = BootSpec {
                initrd: liveinit_image.to_path_buf(),
                drives: v.drives.clone(),
                extra_args: v.extra_args.clone(),
                cmdline: format!("root=live:LABEL={LABEL}"),
                device: v.device.clone(),
                log: dir.join(format!("{which}-liveinit-debug.log")),
            };
            boot::debug(kernel, &spec).map_err(|e| format!("{e:#}"))
        })
    });
    Ok(Some(ScaleResult {
        id,
        title,
        variants: results,
        steps,
    }))
}

fn floor_image(dir: &Path, variant: usize) -> PathBuf {
    dir.join(format!("floor-{variant}.img"))
}
