//! Builds the init as a static musl binary and proves it is static: a PID 1
//! in an initramfs has no dynamic loader and no libc to find.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub const TARGET: &str = "x86_64-unknown-linux-musl";

/// The workspace root: xtask lives in its `xtask/` folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `cargo build --release` of the `liveinit` binary for musl; returns its path.
pub fn build() -> Result<PathBuf> {
    ensure_target()?;
    // `cargo run` tells us which cargo it is; use the same toolchain.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", "liveinit", "--bin", "liveinit"])
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running cargo build for the init")?;
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

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const EM_X86_64: u16 = 62;

/// Static means: no program interpreter, and no shared libraries needed.
/// A static-pie still has a PT_DYNAMIC (for its own relocations), so that
/// segment alone is fine as long as it lists no DT_NEEDED.
pub fn check_static(elf: &[u8]) -> Result<()> {
    if elf.get(..4) != Some(b"\x7fELF") {
        bail!("not an ELF file");
    }
    if elf.get(4..6) != Some(&[2, 1]) {
        bail!("not a little-endian 64-bit ELF");
    }
    if u16_at(elf, 0x12)? != EM_X86_64 {
        bail!("not an x86-64 binary");
    }
    let phoff = u64_at(elf, 0x20)?;
    let phentsize = u64::from(u16_at(elf, 0x36)?);
    let phnum = u16_at(elf, 0x38)?;
    for i in 0..u64::from(phnum) {
        let ph = phoff + i * phentsize;
        match u32_at(elf, ph)? {
            PT_INTERP => bail!("it has a program interpreter (PT_INTERP): dynamically linked"),
            PT_DYNAMIC => {
                let (offset, size) = (u64_at(elf, ph + 8)?, u64_at(elf, ph + 32)?);
                for entry in (offset..offset + size).step_by(16) {
                    match u64_at(elf, entry)? {
                        DT_NULL => break,
                        DT_NEEDED => bail!("it needs shared libraries (DT_NEEDED)"),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn bytes_at<const N: usize>(elf: &[u8], offset: u64) -> Result<[u8; N]> {
    usize::try_from(offset)
        .ok()
        .and_then(|start| elf.get(start..start.checked_add(N)?))
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("ELF truncated at offset {offset:#x}"))
}

fn u16_at(elf: &[u8], offset: u64) -> Result<u16> {
    bytes_at(elf, offset).map(u16::from_le_bytes)
}

fn u32_at(elf: &[u8], offset: u64) -> Result<u32> {
    bytes_at(elf, offset).map(u32::from_le_bytes)
}

fn u64_at(elf: &[u8], offset: u64) -> Result<u64> {
    bytes_at(elf, offset).map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header followed by the given program headers, and a
    /// dynamic section holding `dynamic` (tag, value) pairs.
    fn elf(phdrs: &[u32], dynamic: &[(u64, u64)]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[0x12..0x14].copy_from_slice(&EM_X86_64.to_le_bytes());
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&u16::try_from(phdrs.len()).unwrap().to_le_bytes());
        let dyn_offset = 64 + 56 * phdrs.len() as u64;
        for &p_type in phdrs {
            let mut ph = [0u8; 56];
            ph[..4].copy_from_slice(&p_type.to_le_bytes());
            ph[8..16].copy_from_slice(&dyn_offset.to_le_bytes());
            ph[32..40].copy_from_slice(&(16 * dynamic.len() as u64).to_le_bytes());
            b.extend_from_slice(&ph);
        }
        for (tag, val) in dynamic {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&val.to_le_bytes());
        }
        b
    }

    #[test]
    fn static_and_static_pie_pass() {
        check_static(&elf(&[1, 1], &[])).unwrap();
        let relocs_only = [(7, 0x100), (8, 0x18), (DT_NULL, 0), (DT_NEEDED, 1)];
        check_static(&elf(&[1, PT_DYNAMIC], &relocs_only)).unwrap();
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
