//! The markdown report (`target/bench/report.md`): a summary table, one
//! section per peer case (timings with spread and ratios, memory, sizes,
//! milestones, liveinit's steps), the scale experiments, the method, and
//! every boot with the host's load at the time.

use std::fmt::Write as _;

use super::boot::Timed;
use super::format::{bytes, kib_as_mib, min_max, ratio, secs, spread};
use super::memory::MemoryUse;
use super::peers::Peer;
use super::report_scale;
use super::report_steps;
use super::scale::ScaleResult;
use super::side_by_side::CaseResult;
use super::stats::{self, Summary, NOISY_SPREAD};

/// Facts about the run as a whole.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub kernel_package: String,
    pub dracut_version: String,
    pub liveinit_version: String,
    pub runs: usize,
    pub host_cpus: usize,
    pub load_at_start: f64,
    pub load_at_end: f64,
    /// liveinit's init binary (stripped) without and with `--https`, or
    /// why they could not be built.
    pub init_sizes: Result<(u64, u64), String>,
}

pub fn render(facts: &RunFacts, cases: &[CaseResult], scale: &[ScaleResult]) -> String {
    let mut md = String::new();
    header(&mut md, facts);
    if !cases.is_empty() {
        summary(&mut md, cases);
    }
    for case in cases {
        case_section(&mut md, case, &facts.dracut_version);
    }
    if !scale.is_empty() {
        md.push_str("## Scale: liveinit's cost against the image and the machine\n\n");
        for s in scale {
            report_scale::section(&mut md, s);
        }
    }
    not_measured(&mut md);
    method(&mut md);
    every_boot(&mut md, cases);
    md
}

/// Both of liveinit's inits: the timed boots use the plain one.
fn init_sizes(md: &mut String, sizes: &Result<(u64, u64), String>) {
    let _ = match sizes {
        Ok((plain, https)) => writeln!(
            md,
            "liveinit's init binary (stripped): **{plain} bytes**; built with `--https` (TLS): \
             **{https} bytes** ({:+} bytes). The boots below use the first.\n",
            i128::from(*https) - i128::from(*plain)
        ),
        Err(e) => writeln!(
            md,
            "liveinit's init sizes: not measured ({}).\n",
            first_line(e)
        ),
    };
}

fn header(md: &mut String, f: &RunFacts) {
    let _ = writeln!(
        md,
        "# liveinit vs dracut vs a busybox floor\n\n\
         Kernel `{}`, QEMU TCG (1 vCPU, 1 GiB, no NIC, no KVM), the same media and QEMU settings \
         for every peer; {} timed boots per peer and case, alternating (A B C, B C A, C A B, …). \
         Host: {} CPUs, load average {:.2} at the start and {:.2} at the end.\n\n\
         - **liveinit** {}: this tree's initramfs (zstd).\n\
         - **busybox floor**: busybox and a shell script as `/init`, the case's modules from a fixed \
         list, the medium at a fixed device node, no discovery, no checks, no device-mapper (a nested \
         image gets overlayfs instead of the dm snapshot). The least a shell init can do.\n\
         - **dracut {}**: Debian's `dracut-core` + `dracut-live`, `--modules \"dmsquash-live base \
         rootfs-block\"` (dm, overlayfs, udev-rules, img-lib, fs-lib come along), no systemd, \
         `--add-drivers` with exactly the drivers liveinit packs, zstd.\n",
        f.kernel_package,
        f.runs,
        f.host_cpus,
        f.load_at_start,
        f.load_at_end,
        f.liveinit_version,
        f.dracut_version,
    );
    init_sizes(md, &f.init_sizes);
}

fn summary(md: &mut String, cases: &[CaseResult]) {
    md.push_str(
        "## Run /init → real init, medians\n\n\
         | case | liveinit | busybox floor | dracut | liveinit ÷ floor | liveinit ÷ dracut |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut any_noisy = false;
    for case in cases {
        let [l, f, d] = Peer::ALL.map(|p| case.summary(p));
        let median = |s: Option<Summary>| secs(s.map(|s| s.median));
        let vs = |peer: Option<Summary>| match (l, peer) {
            (Some(l), Some(p)) => ratio(stats::ratio(l.median, p.median)),
            _ => "n/a".into(),
        };
        let noisy = [l, f, d].iter().flatten().any(Summary::is_noisy);
        any_noisy |= noisy;
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} |",
            case.case.id.name(),
            if noisy { " ⚠" } else { "" },
            median(l),
            median(f),
            median(d),
            vs(f),
            vs(d),
        );
    }
    md.push('\n');
    if any_noisy {
        md.push_str(
            "⚠: a peer's max ÷ min in that case is above the noise threshold: too noisy to trust; \
             see its section and the host load of every boot at the end.\n\n",
        );
    }
}

fn case_section(md: &mut String, case: &CaseResult, dracut_version: &str) {
    let _ = writeln!(md, "## {}: {}\n", case.case.id.name(), case.case.title);
    let _ = writeln!(
        md,
        "Command line: `{}` (dracut also: `{}`).\n",
        case.case.cmdline, case.case.dracut_extra
    );
    let summaries = Peer::ALL.map(|p| case.summary(p));
    let _ = writeln!(
        md,
        "| figure | liveinit | busybox floor | dracut {dracut_version} |\n|---|---|---|---|"
    );
    let row = |md: &mut String, name: &str, cells: [String; 3]| {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} |",
            cells[0], cells[1], cells[2]
        );
    };
    let each =
        |f: &dyn Fn(&Summary) -> String| summaries.map(|s| s.as_ref().map_or("n/a".to_string(), f));
    row(
        md,
        "Run /init → real init, median",
        each(&|s| format!("**{}**", secs(Some(s.median)))),
    );
    row(md, "min – max", each(&min_max));
    row(md, "spread (max ÷ min)", each(&spread));
    let liveinit = summaries[0];
    let vs = |pick: fn(&Summary) -> f64| {
        summaries.map(|s| match (liveinit, s) {
            (Some(l), Some(p)) if p != l => ratio(stats::ratio(pick(&l), pick(&p))),
            _ => "—".to_string(),
        })
    };
    row(md, "liveinit ÷ peer, medians", vs(|s| s.median));
    row(md, "liveinit ÷ peer, minima", vs(|s| s.min));
    let gauge = |pick: fn(&Timed) -> f64| {
        Peer::ALL.map(|p| {
            let values: Vec<f64> = case.timings(p).iter().map(|t| pick(t)).collect();
            secs(Summary::of(&values).map(|s| s.median))
        })
    };
    row(
        md,
        "kernel start → Run /init, median (unpacking the image is in it)",
        gauge(|t| t.kernel_boot),
    );
    row(
        md,
        "kernel start → real init, median",
        gauge(|t| t.kernel_boot + t.to_real_init),
    );
    row(
        md,
        "boots timed (failed)",
        Peer::ALL.map(|p| {
            let failed = case.failures(p);
            let ok = case.timings(p).len();
            if failed > 0 {
                format!("{ok} ({failed} failed)")
            } else {
                ok.to_string()
            }
        }),
    );
    memory_rows(md, case);
    let image = |f: &dyn Fn(&super::image_stats::ImageStats) -> String| {
        Peer::ALL.map(|p| case.images.get(&p).map_or("n/a".to_string(), f))
    };
    row(md, "initramfs image", image(&|s| bytes(s.image_bytes)));
    row(
        md,
        "unpacked (files)",
        image(&|s| format!("{} ({})", bytes(s.unpacked_bytes), s.files)),
    );
    row(
        md,
        "init: binary, or script + interpreter",
        image(&|s| bytes(s.init_bytes)),
    );
    md.push('\n');
    for (peer, outcome) in &case.memory {
        if let Err(e) = outcome {
            let _ = writeln!(
                md,
                "Memory boot of {} failed: {}\n",
                peer.label(),
                first_line(e)
            );
        }
    }
    report_steps::milestones(md, case);
    match &case.breakdown {
        Ok(b) => report_steps::breakdown(md, b),
        Err(e) => {
            let _ = writeln!(md, "liveinit's debug boot failed: {}\n", first_line(e));
        }
    }
}

/// Peak memory, against the floor's, and how much of it came after
/// `/init` started (the rest is the kernel and the unpacked image).
fn memory_rows(md: &mut String, case: &CaseResult) {
    let memory = |p: Peer| case.memory.get(&p).and_then(|m| m.as_ref().ok());
    let cells = |f: &dyn Fn(&MemoryUse) -> String| {
        Peer::ALL.map(|p| memory(p).map_or("n/a".to_string(), f))
    };
    let floor = memory(Peer::Floor).map(|m| m.peak_kb);
    let rows: [(&str, [String; 3]); 3] = [
        (
            "peak memory used in the initramfs",
            cells(&|m| kib_as_mib(m.peak_kb)),
        ),
        (
            "… more than the floor's peak",
            Peer::ALL.map(|p| match (memory(p), floor) {
                (Some(m), Some(f)) if p != Peer::Floor => {
                    format!("{:+.1} MiB", (m.peak_kb as f64 - f as f64) / 1024.0)
                }
                _ => "—".to_string(),
            }),
        ),
        (
            "… grown after /init started",
            cells(&|m| kib_as_mib(m.peak_kb.saturating_sub(m.start_kb))),
        ),
    ];
    for (name, c) in rows {
        let _ = writeln!(md, "| {name} | {} | {} | {} |", c[0], c[1], c[2]);
    }
}

fn not_measured(md: &mut String) {
    md.push_str(
        "## Not side by side\n\n\
         - Network boot (`root=live:http://…`), its download, and copy-to-RAM (`rd.live.ram`) are \
         not booted by the three peers: liveinit's are measured in their own sections below \
         (cases `netboot`, `download`, `copy-ram`), each against the same work done another way \
         in the same run (the same image from a CD, busybox `wget`, `dd`). Copy-to-RAM is the one \
         step allowed to grow with the image, at the medium's speed.\n\n",
    );
}

fn method(md: &mut String) {
    let _ = writeln!(
        md,
        "## Method\n\n\
         - **Time**: from the kernel's `Run /init as init process` (its timestamp on the serial \
         console) to the real init's first reading of `/proc/uptime` (the probe, the live root's \
         `/sbin/init`, reads it before anything else). Guest clocks on both ends: the kernel's log clock, then \
         `/proc/uptime` (10 ms steps). Between the kernel executing `/sbin/init` (its own mark, in \
         \"where the time goes\") and that reading lies the real init's start from the live image \
         (paging the program in through squashfs): the same work for every peer of a case.\n\
         - **Noise**: the peers alternate in rotating order, so host load hits them alike; a peer \
         whose max ÷ min exceeds {NOISY_SPREAD:.2} in a case is flagged \"too noisy to trust\". \
         Every boot is listed below with two gauges of the host's load: the kernel's own boot up to \
         `Run /init` (the same work every time for a given peer — it includes unpacking that \
         peer's image — so a slow one means a busy host) and the 1-minute \
         load average before it. Compare minima when they moved.\n\
         - **Memory**: one extra, untimed boot per peer and case with a sampler in front of the \
         peer's image (`rdinit=/memwatch`, prepended as an uncompressed cpio like early microcode): \
         it runs the peer's `/init` as PID 1 and samples `MemTotal − MemAvailable` every 10 ms until \
         PID 1 switches root. The peak is memory the system could not hand out: the kernel's own \
         share (the same for every peer: same kernel, same machine), the \
         unpacked initramfs, loaded modules, tmpfs contents, the init and its helpers; page cache is \
         not counted. \"More than the floor\" compares peaks; \"grown after /init started\" is the \
         peak less the first sample. That boot also warms the host's caches before the timed ones.\n\
         - **Sizes**: read back from each image: the file, the sum of its unpacked files, and \
         `/init` plus its interpreter when it is a script (dracut: `init` + bash; floor: the script \
         + busybox).\n\
         - **Steps**: liveinit's own messages with `rd.debug loglevel=8` (the console level that \
         makes the kernel stamp its debug lines), in one extra boot per case.\n"
    );
}

fn every_boot(md: &mut String, cases: &[CaseResult]) {
    if cases.is_empty() {
        return;
    }
    md.push_str(
        "<details><summary>Every timed boot</summary>\n\n\
         | case | round | peer | Run /init → real init | kernel boot to Run /init | host load before |\n\
         |---|---|---|---|---|---|\n",
    );
    for case in cases {
        for b in &case.boots {
            let (time, kernel, load) = match &b.outcome {
                Ok(t) => (
                    secs(Some(t.to_real_init)),
                    secs(Some(t.kernel_boot)),
                    format!("{:.2}", t.host_load),
                ),
                Err(e) => (format!("failed: {}", first_line(e)), "?".into(), "?".into()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {time} | {kernel} | {load} |",
                case.case.id.name(),
                b.round + 1,
                b.peer.label()
            );
        }
    }
    md.push_str("\n</details>\n");
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::cases::CaseId;
    use crate::bench::floor::{FloorRecipe, FloorRoot};
    use crate::bench::image_stats::ImageStats;
    use crate::bench::side_by_side::BootRecord;
    use crate::bench::timeline::Milestones;
    use qemu_tests::qemu::Drive;
    use std::collections::BTreeMap;

    fn timed(secs: f64) -> Timed {
        Timed {
            to_real_init: secs,
            milestones: Milestones::default(),
            host_load: 1.0,
            kernel_boot: 2.0,
        }
    }

    fn case(times: [&[f64]; 3]) -> CaseResult {
        let mut boots = Vec::new();
        for (peer, list) in Peer::ALL.into_iter().zip(times) {
            for (round, t) in list.iter().enumerate() {
                boots.push(BootRecord {
                    round,
                    peer,
                    outcome: Ok(timed(*t)),
                });
            }
        }
        boots.push(BootRecord {
            round: 9,
            peer: Peer::Dracut,
            outcome: Err("QEMU timed out".into()),
        });
        let stats = ImageStats {
            image_bytes: 1 << 20,
            unpacked_bytes: 2 << 20,
            files: 3,
            init_bytes: 1000,
        };
        CaseResult {
            case: crate::bench::cases::PeerCase {
                id: CaseId::IsoFlat,
                title: "test case",
                drive: Drive::Cdrom("/x.iso".into()),
                device: "sr0",
                cmdline: "root=live:CDLABEL=X".into(),
                dracut_extra: "rd.shell=0",
                floor: FloorRecipe {
                    modules: &[],
                    device: "/dev/sr0".into(),
                    fstype: "iso9660",
                    root: FloorRoot::FlatSquashfs,
                },
            },
            boots,
            memory: BTreeMap::new(),
            images: Peer::ALL.into_iter().map(|p| (p, stats)).collect(),
            breakdown: Err("not booted".into()),
        }
    }

    fn facts() -> RunFacts {
        RunFacts {
            kernel_package: "linux-image-test".into(),
            dracut_version: "059-4".into(),
            liveinit_version: "commit abc".into(),
            runs: 3,
            host_cpus: 2,
            load_at_start: 1.0,
            load_at_end: 2.0,
            init_sizes: Ok((370_512, 1_259_400)),
        }
    }

    #[test]
    fn both_init_sizes_are_reported() {
        let md = render(&facts(), &[], &[]);
        assert!(
            md.contains(
                "**370512 bytes**; built with `--https` (TLS): **1259400 bytes** (+888888 bytes)"
            ),
            "{md}"
        );
        let failed = RunFacts {
            init_sizes: Err("no musl-gcc\nmore".into()),
            ..facts()
        };
        let md = render(&failed, &[], &[]);
        assert!(
            md.contains("init sizes: not measured (no musl-gcc)"),
            "{md}"
        );
    }

    #[test]
    fn ratios_of_medians_and_minima_and_the_noise_flag() {
        let md = render(
            &facts(),
            &[case([
                &[1.0, 1.1, 1.2],
                &[2.0, 2.2, 2.4],
                &[10.0, 20.0, 15.0],
            ])],
            &[],
        );
        assert!(
            md.contains("| iso-flat ⚠ | 1.100 s | 2.200 s | 15.000 s | 0.50 | 0.07 |"),
            "{md}"
        );
        assert!(
            md.contains("| liveinit ÷ peer, minima | — | 0.50 | 0.10 |"),
            "{md}"
        );
        assert!(
            md.contains("| spread (max ÷ min) | 1.20 | 1.20 | 2.00 ⚠ too noisy to trust |"),
            "{md}"
        );
        assert!(
            md.contains("| boots timed (failed) | 3 | 3 | 3 (1 failed) |"),
            "{md}"
        );
        assert!(
            md.contains("| kernel start → real init, median | 3.100 s | 4.200 s | 17.000 s |"),
            "{md}"
        );
        assert!(md.contains("failed: QEMU timed out"), "{md}");
    }

    #[test]
    fn quiet_runs_carry_no_flag() {
        let md = render(&facts(), &[case([&[1.0], &[2.0], &[10.0]])], &[]);
        assert!(!md.contains('⚠'), "{md}");
    }
}
