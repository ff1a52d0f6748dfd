//! The init builds with the oldest compiler it claims to support: the
//! `rust-version` of the root package. Distributions build initramfs tools
//! with their own, older rustc, so a newer-only construct in `src/` must
//! fail here rather than in their builds.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use qemu_tests::{run_captured, run_streamed};

use crate::build_init::workspace_root;

/// The root package's `rust-version`, read from its Cargo.toml so the
/// number is written down once.
pub fn declared_rust_version() -> Result<String> {
    let manifest = workspace_root().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    package_rust_version(&text)
        .map(str::to_owned)
        .with_context(|| format!("{}: no rust-version in [package]", manifest.display()))
}

/// `rust-version = "…"` in the `[package]` table of a manifest.
fn package_rust_version(manifest: &str) -> Option<&str> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if in_package && key.trim() == "rust-version" {
            return value.trim().strip_prefix('"')?.strip_suffix('"');
        }
    }
    None
}

/// Installs the toolchain (minimal profile: rustc, cargo, std) if rustup
/// does not have it yet.
pub fn ensure_toolchain(version: &str) -> Result<()> {
    let list = run_captured(Command::new("rustup").args(["toolchain", "list"]))
        .context("cannot run rustup (needed for the rust-version toolchain)")?;
    if has_toolchain(&list, version) {
        return Ok(());
    }
    println!("host: rustup toolchain install {version} --profile minimal");
    run_streamed(Command::new("rustup").args([
        "toolchain",
        "install",
        version,
        "--profile",
        "minimal",
    ]))
}

/// Whether `rustup toolchain list` output has the toolchain `rustup run
/// <version>` would use (`1.80-x86_64-unknown-linux-gnu (default)`).
fn has_toolchain(list: &str, version: &str) -> bool {
    list.lines()
        .filter_map(|line| line.split_whitespace().next())
        .any(|name| name == version || name.starts_with(&format!("{version}-")))
}

/// Builds the init's library and binary with that toolchain, in a target
/// directory of its own so it never invalidates the main build's cache.
pub fn build_init(version: &str) -> Result<()> {
    let target_dir: PathBuf = workspace_root()
        .join("target")
        .join(format!("rust-{version}"));
    println!("building the init with Rust {version}, the rust-version in Cargo.toml");
    run_streamed(
        Command::new("rustup")
            .current_dir(workspace_root())
            .args(["run", version, "cargo", "build", "-p", "liveinit"])
            // `https` includes the default `os`: one build covers both inits.
            .args(["--features", crate::https::FEATURE])
            .args(["--lib", "--bins", "--target-dir"])
            .arg(&target_dir),
    )
    .with_context(|| {
        format!(
            "the init does not build with Rust {version}, the rust-version in Cargo.toml: \
             use only what {version} has, or raise rust-version if the newer feature is worth it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rust_version_from_the_package_table_only() {
        let manifest = r#"
[workspace]
members = ["."]

[workspace.package]
rust-version = "1.99"

[package]
name = "liveinit"
rust-version = "1.80"

[dependencies]
rust-version = "0.1"
"#;
        assert_eq!(package_rust_version(manifest), Some("1.80"));
        assert_eq!(package_rust_version("[package]\nname = \"x\"\n"), None);
        assert_eq!(
            package_rust_version("[dependencies]\nrust-version = \"1\"\n"),
            None
        );
    }

    #[test]
    fn the_root_manifest_declares_one() {
        let version = declared_rust_version().unwrap();
        assert!(version.starts_with("1."), "{version}");
    }

    #[test]
    fn finds_installed_toolchains_by_version() {
        let list = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                    1.80-x86_64-unknown-linux-gnu\n\
                    1.95.0-x86_64-unknown-linux-gnu\n";
        assert!(has_toolchain(list, "1.80"));
        assert!(has_toolchain(list, "1.95.0"));
        assert!(!has_toolchain(list, "1.8"));
        assert!(!has_toolchain(list, "1.95"));
        assert!(!has_toolchain("no installed toolchains\n", "1.80"));
    }
}
