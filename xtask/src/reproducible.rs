//! The init builds to the same bytes wherever it is built: `/init` holds
//! none of the builder's paths (its workspace, cargo's home, the toolchain's
//! directory), and a copy of the workspace in another directory, with a
//! path of another length, builds to the same binary. Run by the test
//! command; it costs one more release build of the init.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::build_init::{self, Target};

pub fn check() -> Result<()> {
    let root = build_init::workspace_root();
    let shipped = build_init::build()?;
    let bytes = std::fs::read(&shipped).with_context(|| format!("read {}", shipped.display()))?;
    for (path, _) in build_init::builder_paths(&root) {
        if let Some(at) = find(&bytes, path.to_string_lossy().as_bytes()) {
            bail!(
                "{} holds the builder's path {} at byte {at}: two builders would get different bytes",
                shipped.display(),
                path.display()
            );
        }
    }
    let copy = std::env::temp_dir()
        .join(format!("liveinit-elsewhere-{}", std::process::id()))
        .join("a longer path, with spaces");
    let result = build_copy(&root, &copy).and_then(|other| {
        let other_bytes = std::fs::read(&other)?;
        if other_bytes != bytes {
            bail!(
                "the init built in {} differs from the one built in {} ({} and {} bytes)",
                copy.display(),
                root.display(),
                other_bytes.len(),
                bytes.len()
            );
        }
        println!(
            "reproducible: {} bytes, the same when built in {}",
            bytes.len(),
            copy.display()
        );
        Ok(())
    });
    if let Some(top) = copy.parent() {
        let _ = std::fs::remove_dir_all(top);
    }
    result
}

/// Copies the workspace's files (those git knows, and new ones it does not
/// ignore) to `copy` and builds the init there; returns the binary.
fn build_copy(root: &Path, copy: &Path) -> Result<PathBuf> {
    let listed = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .context("git ls-files (the reproducibility check copies what git tracks)")?;
    if !listed.status.success() {
        bail!("git ls-files failed ({})", listed.status);
    }
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        let from = root.join(name.as_ref());
        if !from.is_file() {
            continue;
        }
        let to = copy.join(name.as_ref());
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&from, &to).with_context(|| format!("copy {}", from.display()))?;
    }
    let target_dir = copy.join("target");
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args(["build", "--release", "-p", "liveinit", "--bin", "liveinit"])
        .args(["--target", Target::X86_64.triple(), "--target-dir"])
        .arg(&target_dir);
    build_init::build_in(&mut cargo, copy, Target::X86_64);
    let status = cargo.status().context("cargo build in the copy")?;
    if !status.success() {
        bail!(
            "cargo build of the init in {} failed ({status})",
            copy.display()
        );
    }
    Ok(target_dir
        .join(Target::X86_64.triple())
        .join("release")
        .join("liveinit"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
