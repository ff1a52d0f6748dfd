//! `cargo xtask bench`: liveinit against dracut and a busybox floor, side
//! by side in one run, and liveinit's cost against the size of the image
//! and of the machine.
//!
//! Every peer boots the same media with the same kernel under the same
//! QEMU settings, in rotating order; the figure is the time from the
//! kernel's "Run /init" to the real init (the probe) starting, read from
//! the guest's own clock. Around it: where that time goes (kernel
//! timestamps), peak memory in the initramfs, image and init sizes. The
//! report goes to `target/bench/report.md` (rewritten after every case, so
//! an interrupted run still leaves what it measured), then a longer fuzz
//! run of the pure core closes the benchmark.
//!
//! One concern per file: `options` (command line), `cases` (what is
//! booted), `media` / `scale_media` / `gpt_disk` (the media), `floor` / `dracut` (the
//! peers' images), `boot` (one boot), `side_by_side` / `scale` / `copy_ram` (the
//! experiments), `timeline` / `memory` / `image_stats` / `stats` (what is
//! read from a boot or an image), `report` / `report_steps` / `report_scale` / `format`
//! (the markdown), `fuzz`.

mod boot;
mod cases;
mod copy_ram;
mod debian_iso;
mod download;
mod dracut;
mod floor;
mod format;
mod fuzz;
mod gpt_disk;
mod image_stats;
mod media;
mod memory;
mod netboot;
mod options;
mod peers;
mod report;
mod report_scale;
mod report_steps;
mod scale;
mod scale_media;
mod side_by_side;
mod stats;
mod timeline;

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use qemu_tests::kernel::Kernel;

use crate::compress::Compression;
use crate::initramfs::{self, PackOptions};
use crate::kmods;
use boot::host_load;
use report::RunFacts;
use side_by_side::Setup;

pub fn cmd(args: &[String]) -> Result<()> {
    let Some(opts) = options::parse(args)? else {
        return Ok(());
    };
    let load_at_start = host_load();
    qemu_tests::host::ensure_all()?;
    let kernel = Kernel::fetch(&qemu_tests::kernel::default_cache_dir())?;
    let work = qemu_tests::workspace_root().join("target").join("bench");
    fs::create_dir_all(&work)?;

    let liveinit_image = work.join("liveinit.img");
    initramfs::pack(&PackOptions {
        modules_dir: kernel.modules_dir.clone(),
        output: liveinit_image.clone(),
        compression: Compression::Zstd,
        extra_files: Vec::new(),
        busybox: None,
    })?;
    let probe = qemu_tests::build_probe()?;
    let media = media::build(&work, &probe)?;
    let peer_cases: Vec<cases::PeerCase> = opts
        .cases
        .iter()
        .filter_map(|id| cases::peer_case(*id, &media))
        .collect();

    let mut facts = RunFacts {
        kernel_package: kernel.package.clone(),
        dracut_version: "(not run)".into(),
        liveinit_version: liveinit_version(),
        runs: opts.runs,
        host_cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_at_start,
        load_at_end: f64::NAN,
        init_sizes: crate::size::init_sizes().map_err(|e| format!("{e:#}")),
    };
    let mut case_results = Vec::new();
    if !peer_cases.is_empty() {
        let sampler = memory::build_sampler()?;
        let dracut = dracut::image(&kernel, &kmods::wanted(), &work.join("dracut.img"))?;
        facts.dracut_version = dracut.version.clone();
        let setup = Setup {
            kernel: &kernel,
            work: &work,
            sampler: &sampler,
            liveinit_image: &liveinit_image,
            dracut_image: &dracut.path,
        };
        for case in &peer_cases {
            case_results.push(side_by_side::run(&setup, case, opts.runs)?);
            write_report(&work, &facts, &case_results, &[], &Extra::default())?;
        }
    }
    let mut scale_results = Vec::new();
    for id in opts.cases.iter().copied().filter(|c| c.is_scale()) {
        if let Some(result) =
            scale::run(id, &kernel, &liveinit_image, &media.root, &work, opts.runs)?
        {
            scale_results.push(result);
            write_report(
                &work,
                &facts,
                &case_results,
                &scale_results,
                &Extra::default(),
            )?;
        }
    }
    let download = match opts.cases.contains(&cases::CaseId::Download) {
        true => download::run(&kernel, &probe, &work, opts.runs)?,
        false => Vec::new(),
    };
    let mut copy = None;
    if opts.cases.contains(&cases::CaseId::CopyRam) {
        copy = Some(copy_ram::run(
            &kernel,
            &liveinit_image,
            &probe,
            &work,
            opts.runs,
        )?);
    }
    let mut extra = Extra {
        copy,
        ..Extra::default()
    };
    write_report(&work, &facts, &case_results, &scale_results, &extra)?;
    if opts.cases.contains(&cases::CaseId::Netboot) {
        extra.netboot = Some(netboot::run(
            &kernel,
            &liveinit_image,
            &media.root,
            &media.flat_iso,
            &work,
            opts.runs,
        )?);
        write_report(&work, &facts, &case_results, &scale_results, &extra)?;
    }
    if opts.cases.contains(&cases::CaseId::DebianIso) {
        extra.debian = Some(debian_iso::run(&work, opts.runs)?);
    }
    facts.load_at_end = host_load();
    let text = write_report(&work, &facts, &case_results, &scale_results, &extra)?;
    print!("\n{text}");
    for result in &download {
        print!("\n{}", result.markdown());
    }
    if !download.is_empty() {
        eprintln!(
            "bench: download results in {}",
            work.join("download.md").display()
        );
    }
    eprintln!(
        "bench: report written to {}",
        work.join("report.md").display()
    );
    if opts.fuzz {
        fuzz::long_fuzz()?;
    }
    Ok(())
}

/// The sections of the experiments liveinit runs beside its own peer.
#[derive(Default)]
struct Extra {
    copy: Option<copy_ram::CopyResult>,
    netboot: Option<netboot::NetbootResult>,
    debian: Option<debian_iso::DebianResult>,
}

fn write_report(
    work: &Path,
    facts: &RunFacts,
    cases: &[side_by_side::CaseResult],
    scale: &[scale::ScaleResult],
    extra: &Extra,
) -> Result<String> {
    let mut text = report::render(facts, cases, scale);
    if let Some(copy) = &extra.copy {
        copy_ram::section(&mut text, copy);
    }
    if let Some(netboot) = &extra.netboot {
        netboot::section(&mut text, netboot);
    }
    if let Some(debian) = &extra.debian {
        debian_iso::section(&mut text, debian);
    }
    fs::write(work.join("report.md"), &text)?;
    Ok(text)
}

/// The tree's commit, e.g. `commit d24c25c-dirty`.
fn liveinit_version() -> String {
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(qemu_tests::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown commit".into());
    format!("commit {commit}")
}
