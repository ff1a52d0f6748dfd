//! Builds the init as a static musl binary and proves it is static: a PID 1
//! in an initramfs has no dynamic loader and no libc to find.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::elf::{self, Elf};

pub const TARGET: &str = "x86_64-unknown-linux-musl";

/// The workspace root: xtask lives in its `xtask/` folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `cargo build --release` of the `liveinit` binary for musl, stripped as
/// it is shipped; returns its path.
pub fn build() -> Result<PathBuf> {
    build_release(|_| {})
}

/// The same build with its symbol table kept, for `cargo xtask size`. It
/// has a target directory of its own, so it neither replaces the shipped
/// binary nor makes the next `build` start over.
pub fn build_with_symbols() -> Result<PathBuf> {
    build_release(|cargo| {
        cargo
            .env("CARGO_PROFILE_RELEASE_STRIP", "false")
            .arg("--target-dir")
            .arg(workspace_root().join("target").join("init-symbols"));
    })
}

fn build_release(configure: impl FnOnce(&mut Command)) -> Result<PathBuf> {
    ensure_target()?;
    // `cargo run` tells us which cargo it is; use the same toolchain.
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", "liveinit", "--bin", "liveinit"])
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .stderr(std::process::Stdio::inherit());
    configure(&mut cargo);
    let output = cargo.output().context("running cargo build for the init")?;
    if !output.status.success() {
        bail!("cargo build of the init failed ({})", output.status);
    }
    // Cargo reports where it put the binary; this honours any target-dir
    // configuration instead of guessing `target/`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exe = stdout
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .filter_map(|line| json_string_field(line, "executable"))
        .find(|path| Path::new(path).file_name() == Some("liveinit".as_ref()))
        .context("cargo build did not report the liveinit executable")?;
    let exe = PathBuf::from(exe);
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    check_static(&bytes).with_context(|| format!("{} is not usable as /init", exe.display()))?;
    Ok(exe)
}

fn ensure_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    // Without rustup (a distro toolchain) just try the build.
    let Ok(installed) = installed else {
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|t| t.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("xtask: installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .context("running rustup target add")?;
    if !status.success() {
        bail!("rustup target add {TARGET} failed ({status})");
    }
    Ok(())
}

/// The unescaped value of `"key":"…"` in one line of cargo's JSON output.
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other), // \" \\ \/
            },
            c => value.push(c),
        }
    }
    None
}

/// Static means: no program interpreter, and no shared libraries needed.
/// A static-pie still has a PT_DYNAMIC (for its own relocations), so that
/// segment alone is fine as long as it lists no DT_NEEDED.
pub fn check_static(bytes: &[u8]) -> Result<()> {
    let elf = Elf::parse(bytes)?;
    if elf.machine() != elf::EM_X86_64 {
        bail!("not an x86-64 binary");
    }
    for segment in elf.segments()? {
        match segment.kind {
            elf::PT_INTERP => {
                bail!("it has a program interpreter (PT_INTERP): dynamically linked")
            }
            elf::PT_DYNAMIC if elf.dynamic_tags(&segment)?.contains(&elf::DT_NEEDED) => {
                bail!("it needs shared libraries (DT_NEEDED)")
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{DT_NEEDED, DT_NULL, PT_DYNAMIC, PT_INTERP};
    use crate::testutil::ElfBuilder;

    /// An x86-64 executable with segments of the given types, each
    /// covering a dynamic section of `dynamic` (tag, value) pairs.
    fn elf(segment_kinds: &[u32], dynamic: &[(u64, u64)]) -> Vec<u8> {
        let dynamic = ElfBuilder::dynamic(dynamic);
        let mut builder = ElfBuilder::new();
        for &kind in segment_kinds {
            builder = builder.segment(kind, &dynamic);
        }
        builder.build()
    }

    #[test]
    fn static_and_static_pie_pass() {
        check_static(&elf(&[1, 1], &[])).unwrap();
        let relocs_only = [(7, 0x100), (8, 0x18), (DT_NULL, 0), (DT_NEEDED, 1)];
        check_static(&elf(&[1, PT_DYNAMIC], &relocs_only)).unwrap();
    }

    #[test]
    fn other_machines_fail() {
        let arm64 = ElfBuilder::new().machine(183).build();
        let err = check_static(&arm64).unwrap_err();
        assert!(err.to_string().contains("x86-64"), "{err}");
    }

    #[test]
    fn dynamic_binaries_fail() {
        assert!(check_static(&elf(&[PT_INTERP], &[])).is_err());
        let needs_libc = [(7, 0x100), (DT_NEEDED, 1), (DT_NULL, 0)];
        assert!(check_static(&elf(&[PT_DYNAMIC], &needs_libc)).is_err());
        assert!(check_static(b"#!/bin/sh\n").is_err());
        assert!(check_static(&elf(&[1], &[])[..60]).is_err());
    }

    #[test]
    fn reads_the_executable_from_cargo_json() {
        let line =
            r#"{"reason":"compiler-artifact","executable":"/w/t/a \"b\"\\liveinit","fresh":true}"#;
        let exe = json_string_field(line, "executable");
        assert_eq!(exe.as_deref(), Some(r#"/w/t/a "b"\liveinit"#));
        assert_eq!(
            json_string_field(r#"{"executable":null}"#, "executable"),
            None
        );
    }
}
