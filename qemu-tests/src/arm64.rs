//! What the arm64 boots need on an x86-64 host: Debian's arm64 kernel
//! package (apt's arm64 architecture added for it), `qemu-system-aarch64`,
//! and the probe cross-built for `aarch64-unknown-linux-musl` — linked by
//! the toolchain's own `rust-lld` with the crt objects and musl shipped in
//! the Rust target (`-C link-self-contained=yes`), so no cross C toolchain
//! is needed.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::kernel::Kernel;
use crate::{cargo, host, run_captured, run_streamed, workspace_root};

/// Environment variables `cargo xtask test` sets for `tests/arm64.rs`.
pub const ENV_KERNEL_ARM64: &str = "LIVEINIT_KERNEL_ARM64";
pub const ENV_INITRAMFS_ARM64: &str = "LIVEINIT_INITRAMFS_ARM64";
pub const ENV_PROBE_ARM64: &str = "LIVEINIT_PROBE_ARM64";

pub const TARGET: &str = "aarch64-unknown-linux-musl";
/// Debian's arm64 kernel meta package.
pub const META_PACKAGE: &str = "linux-image-arm64:arm64";
/// Debian packages the arm64 boots need beyond [`host::PACKAGES`].
pub const PACKAGES: &[&str] = &["qemu-system-arm"];

/// `<workspace>/.cache/kernel-arm64`.
pub fn kernel_cache_dir() -> PathBuf {
    workspace_root().join(".cache").join("kernel-arm64")
}

/// Adds apt's arm64 architecture (then refreshes the lists), installs
/// `qemu-system-arm` and the Rust target, as needed.
pub fn ensure_host() -> Result<()> {
    let foreign = run_captured(Command::new("dpkg").arg("--print-foreign-architectures"))
        .context("dpkg --print-foreign-architectures")?;
    if !foreign.lines().any(|l| l.trim() == "arm64") {
        if !host::is_root() {
            bail!("the arm64 boots need apt's arm64 architecture: run as root, or: dpkg --add-architecture arm64 && apt-get update");
        }
        eprintln!("host: dpkg --add-architecture arm64");
        run_streamed(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
        run_streamed(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["update", "-q"]),
        )
        .context("apt-get update (for arm64)")?;
    }
    host::ensure_packages(PACKAGES)?;
    host::ensure_rust_target(TARGET)
}

/// The arm64 kernel, fetched into [`kernel_cache_dir`] once.
pub fn kernel() -> Result<Kernel> {
    Kernel::fetch_package(&kernel_cache_dir(), META_PACKAGE)
}

/// Cross-links for `aarch64-unknown-linux-musl` without a cross C
/// toolchain: the variables only touch builds for that target.
pub fn cross_env(cmd: &mut Command) -> &mut Command {
    cmd.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld")
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
            "-C link-self-contained=yes",
        )
}

/// Builds the arm64 probe and returns its path.
pub fn build_probe() -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "qemu-tests",
        "--bin",
        "probe",
        "--target",
        TARGET,
    ]);
    run_streamed(cross_env(&mut cmd)).context("building the arm64 probe")?;
    let path = workspace_root()
        .join("target")
        .join(TARGET)
        .join("release")
        .join("probe");
    if !path.is_file() {
        bail!("the arm64 probe build left no {}", path.display());
    }
    Ok(path)
}
