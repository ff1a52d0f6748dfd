//! `cargo xtask test`: everything CI checks, in order, stopping at the first
//! failing stage: host setup, fmt, clippy, the no-std core build, the build
//! with the declared rust-version, unit tests, then the init's size budget
//! and the QEMU boot tests (kernel, initramfs, probe, boots), then the arm64
//! tier (`test_arm64`).

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use qemu_tests::{host, kernel::Kernel, run_streamed};

use crate::compress::Compression;
use crate::initramfs::{self, ExtraFile, PackOptions, DEFAULT_BUSYBOX};
use crate::{msrv, size};

const HELP: &str = "\
usage: cargo xtask test [--no-boot] [--debian-iso]

Installs what is missing on the host (Debian packages, the musl target, the
toolchain of the rust-version in Cargo.toml), then runs: cargo fmt --check,
clippy (-D warnings), the library build without std, the init's build with
that rust-version (with the https feature), the unit tests (the TLS adapter's
too), the size budgets of the release init with and without --https, and
the QEMU boot tests (Debian kernel fetched into .cache/,
initramfs packed into target/qemu-tests/initramfs.img, plus a variant with
busybox and one with 4 KiB of command-line junk for the failure tests, probe
built for musl, boots logged to target/qemu-tests/<case>.log), then the
arm64 boots (Debian's arm64 kernel in .cache/kernel-arm64, the init and
the probe cross-built for aarch64-unknown-linux-musl, qemu-system-aarch64).

  --no-boot   stop after the unit tests: no size budget, no boots (quick local
              check; CI runs everything)
  --debian-iso  then the real-media proof: a Debian live ISO built by Debian's
              live-build (cached in .cache/debian-live/; ~6 min and
              deb.debian.org the first time) boots to systemd's multi-user
              target with Debian's initramfs and with liveinit, with no failed
              unit and the same /run/live (qemu-tests/debian-live/boot-iso.sh;
              ~10 min of TCG boots)
";

/// Boot tests run at most this many QEMUs at once (TCG, 2 cores).
const BOOT_TEST_THREADS: &str = "2";

pub fn cmd(args: &[String]) -> Result<()> {
    let mut boot = true;
    let mut debian_iso = false;
    for a in args {
        match a.as_str() {
            "--no-boot" => boot = false,
            "--debian-iso" => debian_iso = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => bail!("unknown option '{other}'\n\n{HELP}"),
        }
    }
    let mut run = Stages::default();
    let result = stages(&mut run, boot).and_then(|()| {
        if boot && debian_iso {
            run.stage("Debian live ISO", debian_live_iso)
        } else {
            Ok(())
        }
    });
    run.summary(&result, boot);
    result
}

fn stages(run: &mut Stages, boot: bool) -> Result<()> {
    let rust_version = run.stage("host setup", || {
        host::ensure_all()?;
        ensure_rust_components()?;
        let rust_version = msrv::declared_rust_version()?;
        msrv::ensure_toolchain(&rust_version)?;
        Ok(rust_version)
    })?;
    run.stage("fmt", || {
        run_streamed(cargo().args(["fmt", "--all", "--check"]))
    })?;
    run.stage("clippy", || {
        run_streamed(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        // The TLS adapter is only compiled with the https feature.
        run_streamed(
            cargo()
                .args(["clippy", "-p", "liveinit", "--all-targets"])
                .args(["--features", crate::https::FEATURE, "--", "-D", "warnings"]),
        )
    })?;
    run.stage("no-std core build", || {
        run_streamed(cargo().args(["build", "--lib", "--no-default-features"]))
    })?;
    run.stage("manual pages", crate::man::check)?;
    run.stage("rust-version build", || msrv::build_init(&rust_version))?;
    run.stage("unit tests", || {
        run_streamed(cargo().args(["test", "--workspace", "--exclude", "qemu-tests"]))?;
        // The TLS adapter against `openssl s_server` with throw-away CAs.
        run_streamed(
            cargo()
                .args(["test", "-p", "liveinit", "--lib", "--features"])
                .args([crate::https::FEATURE, "sys::tls"]),
        )?;
        // The harness's own unit tests (report parser, QEMU arguments); not the boots.
        run_streamed(cargo().args(["test", "-p", "qemu-tests", "--lib"]))
    })?;
    if !boot {
        return Ok(());
    }
    run.stage("size budget", size::check_budget)?;
    run.stage("reproducible init", crate::reproducible::check)?;
    let kernel = run.stage("kernel", || {
        let k = Kernel::fetch(&qemu_tests::kernel::default_cache_dir())?;
        println!("kernel: {} ({})", k.vmlinuz.display(), k.package);
        Ok(k)
    })?;
    let out = qemu_tests::out_dir();
    let initramfs = out.join("initramfs.img");
    let with_busybox = out.join("initramfs-busybox.img");
    let with_junk = out.join("initramfs-cmdline-junk.img");
    let with_https = out.join("initramfs-https.img");
    run.stage("initramfs", || {
        let plain = PackOptions {
            modules_dir: kernel.modules_dir.clone(),
            output: initramfs.clone(),
            compression: Compression::Zstd,
            extra_files: Vec::new(),
            busybox: None,
        };
        initramfs::pack(&plain)?;
        // Variants for tests/failures.rs: a shell for rd.break / rd.shell,
        // and junk in etc/cmdline.d.
        initramfs::pack(&PackOptions {
            output: with_busybox.clone(),
            busybox: Some(DEFAULT_BUSYBOX.into()),
            ..plain.clone()
        })?;
        let junk = out.join("cmdline-junk.conf");
        std::fs::write(&junk, qemu_tests::media::cmdline_junk_conf())
            .with_context(|| format!("write {}", junk.display()))?;
        initramfs::pack(&PackOptions {
            output: with_junk.clone(),
            extra_files: vec![ExtraFile {
                archive_path: qemu_tests::CMDLINE_JUNK_CONF.into(),
                host_path: junk,
                mode: 0o644,
            }],
            ..plain.clone()
        })?;
        // For tests/https.rs: the init built with TLS (the host's bundle,
        // which the tests replace with a throw-away CA).
        let https = crate::builder_options::BuilderOptions {
            https: crate::https::from_flags(true, None)?,
            ..Default::default()
        };
        initramfs::pack_image(
            &PackOptions {
                output: with_https.clone(),
                ..plain
            },
            &https,
        )
    })?;
    let examples = run.stage("README pipeline examples", || {
        crate::example_images::pack_all(&kernel.modules_dir, &out)
    })?;
    let probe = run.stage("probe build", qemu_tests::build_probe)?;
    run.stage("boot tests", || {
        run_streamed(
            cargo()
                .args(["test", "-p", "qemu-tests"])
                .args(["--test", "boot", "--test", "failures", "--test", "pipeline"])
                .args(["--test", "network"])
                .args(["--test", "network_up"])
                .args(["--test", "persist"])
                .args(["--test", "https"])
                .args(["--test", "distro"])
                .args(["--test", "distro_persist"])
                .args(["--test", "distro_kiwi"])
                .args(["--test", "distro_casper"])
                .args(["--test", "distro_arch"])
                .args(["--test", "distro_debian"])
                .args(["--test", "hardening"])
                .args(["--", "--test-threads", BOOT_TEST_THREADS, "--nocapture"])
                .envs(examples.iter().map(|(var, path)| (var, path)))
                .env(qemu_tests::ENV_KERNEL, &kernel.vmlinuz)
                .env(qemu_tests::ENV_INITRAMFS, &initramfs)
                .env(qemu_tests::ENV_INITRAMFS_BUSYBOX, &with_busybox)
                .env(qemu_tests::ENV_INITRAMFS_JUNK, &with_junk)
                .env(qemu_tests::ENV_INITRAMFS_HTTPS, &with_https)
                .env(qemu_tests::ENV_PROBE, &probe),
        )
    })?;
    crate::test_arm64::stages(run)
}

/// The real-media proof: qemu-tests/debian-live/boot-iso.sh.
fn debian_live_iso() -> Result<()> {
    let root = qemu_tests::workspace_root();
    run_streamed(
        Command::new(root.join("qemu-tests/debian-live/boot-iso.sh"))
            .arg(&root)
            .arg(root.join(".cache/debian-live")),
    )
}

fn cargo() -> Command {
    qemu_tests::cargo()
}

/// rustfmt and clippy come with rustup's default profile, but not with the
/// minimal one.
fn ensure_rust_components() -> Result<()> {
    for (sub, component) in [("fmt", "rustfmt"), ("clippy", "clippy")] {
        let present = cargo()
            .args([sub, "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            println!("host: rustup component add {component}");
            run_streamed(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

/// The stages run so far, for the summary.
#[derive(Default)]
pub(crate) struct Stages {
    done: Vec<(&'static str, Duration)>,
    failed: Option<&'static str>,
    start: Option<Instant>,
}

impl Stages {
    pub(crate) fn stage<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.start.get_or_insert_with(Instant::now);
        println!("\n==> xtask test: {name}");
        let t = Instant::now();
        match f() {
            Ok(v) => {
                self.done.push((name, t.elapsed()));
                Ok(v)
            }
            Err(e) => {
                self.failed = Some(name);
                Err(e).with_context(|| format!("stage '{name}' failed"))
            }
        }
    }

    fn summary(&self, result: &Result<()>, boot: bool) {
        let total = self.start.map(|s| s.elapsed()).unwrap_or_default();
        let times = self
            .done
            .iter()
            .map(|(n, d)| format!("{n} {:.1}s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ");
        println!();
        match (result, self.failed) {
            (Ok(()), _) => println!(
                "xtask test: PASSED, {} stages in {:.0}s{} ({times})",
                self.done.len(),
                total.as_secs_f64(),
                if boot {
                    ""
                } else {
                    ", boot tests skipped (--no-boot)"
                }
            ),
            (Err(_), Some(name)) => println!(
                "xtask test: FAILED at stage '{name}' after {:.0}s (passed: {})",
                total.as_secs_f64(),
                if times.is_empty() {
                    "none".into()
                } else {
                    times
                }
            ),
            (Err(_), None) => println!("xtask test: FAILED"),
        }
    }
}
