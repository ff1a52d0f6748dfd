//! The command line of `cargo xtask bench`.

use anyhow::{bail, Context, Result};

use super::cases::CaseId;

pub const USAGE: &str = "\
usage: cargo xtask bench [--runs N] [--cases a,b,...] [--no-fuzz]

Boots liveinit, a busybox shell-script floor and dracut 059 (Debian's
dracut-core + dracut-live, installed on demand, no systemd) side by side:
same kernel, same media, same QEMU settings, alternating A B C, B C A, ...
Reports the time from the kernel's \"Run /init\" to the real init (median,
min, max, ratios of medians and of minima, flagged when too noisy), where
that time goes (kernel timestamps), the peak memory used in the initramfs,
the initramfs and init sizes; then shows that liveinit's cost does not grow
with the image (16 MiB vs 4 GiB sparse) or the machine (1 vs 32 disks),
and times liveinit's copy to RAM (rd.live.ram) against a plain dd of the
same file in the same VM, and the HTTP download of a 48 MiB image
against busybox wget in the same VM; a network boot (root=live:http://…)
against the same image from a CD; and, when the Debian live ISO is cached
(`cargo xtask test --debian-iso` builds it, ~38 min; the bench never
does), Debian's live-boot initramfs against liveinit on that ISO (at most
3 rounds: a Debian boot takes minutes). Finally
a longer fuzz run of the command-line parser and the probes.
The report is written to target/bench/report.md.

  --runs N      timed boots per peer and case (default 7)
  --cases LIST  comma-separated subset of: iso-flat, iso-dm, usb,
                scale-image, scale-disks, download, copy-ram, netboot,
                debian-iso (default: all)
  --no-fuzz     skip the long fuzz run
";

pub const DEFAULT_RUNS: usize = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub runs: usize,
    pub cases: Vec<CaseId>,
    pub fuzz: bool,
}

/// `None`: help was asked for (and printed).
pub fn parse(args: &[String]) -> Result<Option<Options>> {
    let mut options = Options {
        runs: DEFAULT_RUNS,
        cases: CaseId::ALL.to_vec(),
        fuzz: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "--no-fuzz" => options.fuzz = false,
            "--runs" => {
                let value = it.next().context("--runs needs a number")?;
                options.runs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--runs {value}: expected a number above 0"))?;
            }
            "--cases" => {
                let value = it.next().context("--cases needs a list")?;
                options.cases = parse_cases(value)?;
            }
            other => bail!("unknown option '{other}'\n\n{USAGE}"),
        }
    }
    Ok(Some(options))
}

/// `a,b` → the cases, in the benchmark's own order, each once.
fn parse_cases(list: &str) -> Result<Vec<CaseId>> {
    let mut wanted = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(case) = CaseId::from_name(name) else {
            let known: Vec<&str> = CaseId::ALL.iter().map(|c| c.name()).collect();
            bail!(
                "--cases: unknown case '{name}' (known: {})",
                known.join(", ")
            );
        };
        wanted.push(case);
    }
    if wanted.is_empty() {
        bail!("--cases: the list is empty");
    }
    Ok(CaseId::ALL
        .into_iter()
        .filter(|c| wanted.contains(c))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_run_everything() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o.runs, DEFAULT_RUNS);
        assert_eq!(o.cases, CaseId::ALL.to_vec());
        assert!(o.fuzz);
    }

    #[test]
    fn cases_keep_the_benchmark_order() {
        let o = parse(&args(&[
            "--cases",
            "usb,iso-flat,usb",
            "--runs",
            "1",
            "--no-fuzz",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(o.cases, vec![CaseId::IsoFlat, CaseId::Usb]);
        assert_eq!(o.runs, 1);
        assert!(!o.fuzz);
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--cases", "floppy"])).is_err());
        assert!(parse(&args(&["--cases", ","])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
    }
}
