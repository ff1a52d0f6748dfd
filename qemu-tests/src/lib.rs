//! QEMU boot-test harness for liveinit.
//!
//! - [`host`]: install the host packages and the musl target the tests need;
//! - [`kernel`]: fetch Debian's `linux-image-amd64` kernel once into `.cache/`;
//! - [`media`]: build live roots, SquashFS images and ISOs;
//! - [`qemu`]: boot QEMU (TCG) with a hard timeout, capturing the console;
//! - [`report`]: the probe's report format (written by `src/bin/probe.rs`,
//!   the live root's `/sbin/init`) and its parser;
//! - [`verdict`]: what a finished boot's console must show (one guest time
//!   limit, one definition of a fatal boot);
//! - [`harness`]: booting a case and asserting on it, for the boot tests.
//!
//! `cargo xtask test` prepares the kernel, the initramfs and the probe and
//! runs `tests/boot.rs` and `tests/failures.rs` with their paths in
//! `LIVEINIT_KERNEL`, `LIVEINIT_INITRAMFS` and `LIVEINIT_PROBE` (and two
//! variants of the initramfs for the failure tests).

pub mod archiso;
pub mod arm64;
pub mod casper;
pub mod dnsstub;
pub mod fwdproxy;
pub mod harness;
pub mod host;
pub mod kernel;
pub mod kiwi;
pub mod media;
pub mod netboot;
pub mod persist;
pub mod qemu;
pub mod report;
pub mod verdict;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Environment variables `cargo xtask test` sets for the boot tests.
pub const ENV_KERNEL: &str = "LIVEINIT_KERNEL";
pub const ENV_INITRAMFS: &str = "LIVEINIT_INITRAMFS";
pub const ENV_PROBE: &str = "LIVEINIT_PROBE";
/// The same initramfs plus a static busybox as `/bin/sh` (for `rd.break`
/// and `rd.shell`), for `tests/failures.rs`.
pub const ENV_INITRAMFS_BUSYBOX: &str = "LIVEINIT_INITRAMFS_BUSYBOX";
/// The same initramfs plus [`media::cmdline_junk_conf`] as
/// [`CMDLINE_JUNK_CONF`], for `tests/failures.rs`.
pub const ENV_INITRAMFS_JUNK: &str = "LIVEINIT_INITRAMFS_JUNK";
/// The initramfs of the init built with `--https`, for tests/https.rs.
pub const ENV_INITRAMFS_HTTPS: &str = "LIVEINIT_INITRAMFS_HTTPS";
/// Where the junk command-line file goes in that initramfs.
pub const CMDLINE_JUNK_CONF: &str = "etc/cmdline.d/junk.conf";
/// The README's pipeline examples, packed by `cargo xtask test` for
/// `tests/pipeline.rs` (see [`example_initramfs_env`]).
pub const ENV_INITRAMFS_EXAMPLE_FEDORA_ISO: &str = "LIVEINIT_INITRAMFS_EXAMPLE_FEDORA_ISO";
pub const ENV_INITRAMFS_EXAMPLE_NETBOOT_PAIR: &str = "LIVEINIT_INITRAMFS_EXAMPLE_NETBOOT_PAIR";

/// The variable naming the initramfs of the README example `name`.
pub fn example_initramfs_env(name: &str) -> String {
    format!(
        "LIVEINIT_INITRAMFS_EXAMPLE_{}",
        name.to_uppercase().replace('-', "_")
    )
}

/// The cargo workspace root (parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `<workspace>/target/qemu-tests`: logs, initramfs and media of the boot tests.
pub fn out_dir() -> PathBuf {
    workspace_root().join("target").join("qemu-tests")
}

/// Where `cargo build --release -p qemu-tests --bin probe --target <musl>` puts the probe.
pub fn probe_binary_path() -> PathBuf {
    workspace_root()
        .join("target")
        .join(host::MUSL_TARGET)
        .join("release")
        .join("probe")
}

/// Human-readable `program arg…` for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with its output captured; returns stdout, or an error with
/// the command line and the tail of its output.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let what = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        bail!("`{what}` failed ({}):\n{}", out.status, tail(&text, 30));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command with its output going to ours.
pub fn run_streamed(cmd: &mut Command) -> Result<()> {
    let what = describe(cmd);
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(())
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| l.trim_end_matches('\r'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `cargo` that runs us (`$CARGO` under cargo), else `cargo` from PATH.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Builds the probe, static for musl, and returns its path.
pub fn build_probe() -> Result<PathBuf> {
    run_streamed(cargo().args([
        "build",
        "--release",
        "-p",
        "qemu-tests",
        "--bin",
        "probe",
        "--target",
        host::MUSL_TARGET,
    ]))
    .context("building the probe")?;
    let path = probe_binary_path();
    if !path.is_file() {
        bail!("the probe build left no {}", path.display());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_variables_follow_the_example_names() {
        use super::*;
        assert_eq!(
            example_initramfs_env("fedora-iso"),
            ENV_INITRAMFS_EXAMPLE_FEDORA_ISO
        );
        assert_eq!(
            example_initramfs_env("netboot-pair"),
            ENV_INITRAMFS_EXAMPLE_NETBOOT_PAIR
        );
    }
}
