//! `--microcode`: an uncompressed cpio in front of the image holding CPU
//! microcode at the paths the kernel's early loader searches
//! (`kernel/x86/microcode/{GenuineIntel,AuthenticAMD}.bin`), as dracut's
//! and mkinitcpio's early images do. The loader reads it before anything
//! is decompressed, so it must be first and must not be compressed.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cpio;

/// Debian's intel-microcode and amd64-microcode put their files here.
pub const DEFAULT_DIR: &str = "/lib/firmware";
const EARLY_DIR: &str = "kernel/x86/microcode";
/// The kernel stops at the first cpio trailer only to look for the next
/// archive; it skips zero padding. dracut aligns the early cpio to 512
/// bytes, so do we.
const ALIGN: usize = 512;

/// A vendor's microcode: the directory under [`DEFAULT_DIR`], the file the
/// kernel looks for, and which files of the directory are microcode.
struct Vendor {
    dir: &'static str,
    early_file: &'static str,
    is_blob: fn(&str) -> bool,
}

const VENDORS: [Vendor; 2] = [
    // Intel: one file per CPU signature, named family-model-stepping in hex.
    Vendor {
        dir: "intel-ucode",
        early_file: "GenuineIntel.bin",
        is_blob: |name| {
            let parts: Vec<&str> = name.split('-').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit()))
        },
    },
    // AMD: one container per family (microcode_amd_fam19h.bin …).
    Vendor {
        dir: "amd-ucode",
        early_file: "AuthenticAMD.bin",
        is_blob: |name| name.starts_with("microcode_amd") && name.ends_with(".bin"),
    },
];

/// The early cpio from `dir` (a `/lib/firmware`-like tree with
/// `intel-ucode/` and/or `amd-ucode/`): each vendor's files concatenated in
/// name order into its early file. An error when there is no microcode.
pub fn early_cpio(dir: &Path, mtime: u32) -> Result<Vec<u8>> {
    if !dir.is_dir() {
        bail!("--microcode {}: not a directory", dir.display());
    }
    let mut archive = cpio::Archive::new();
    let mut vendors = 0;
    for vendor in &VENDORS {
        let blob = concatenated(&dir.join(vendor.dir), vendor.is_blob)?;
        if !blob.is_empty() {
            archive.file(&format!("{EARLY_DIR}/{}", vendor.early_file), 0o644, blob)?;
            vendors += 1;
        }
    }
    if vendors == 0 {
        bail!(
            "--microcode {}: no microcode in intel-ucode/ or amd-ucode/ \
             (on Debian: apt-get install intel-microcode amd64-microcode)",
            dir.display()
        );
    }
    let mut bytes = archive.to_bytes(mtime)?;
    bytes.resize(bytes.len().next_multiple_of(ALIGN), 0);
    Ok(bytes)
}

/// The microcode files of `dir` in name order, one after the other; empty
/// when the directory does not exist.
fn concatenated(dir: &Path, is_blob: fn(&str) -> bool) -> Result<Vec<u8>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_blob(name))
        .collect();
    names.sort();
    let mut blob = Vec::new();
    for name in names {
        let path = dir.join(&name);
        blob.extend(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
    }
    Ok(blob)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{put_file, TempDir};

    /// The entries, read past the zero padding the alignment added (the
    /// trailer's name ends in `!!!\0`, its header is 4-byte aligned).
    fn read_cpio(bytes: &[u8]) -> Vec<crate::testutil::CpioEntry> {
        let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1; // after the last `!`
        crate::testutil::read_cpio(&bytes[..(end + 1).next_multiple_of(4)])
    }

    #[test]
    fn vendor_files_are_concatenated_at_the_kernel_paths_uncompressed_and_aligned() {
        let tmp = TempDir::new("microcode");
        let dir = tmp.path();
        put_file(&dir.join("intel-ucode/06-8e-0a"), b"B", 0o644);
        put_file(&dir.join("intel-ucode/06-8e-09"), b"A", 0o644);
        put_file(&dir.join("intel-ucode/README"), b"not microcode", 0o644);
        put_file(
            &dir.join("amd-ucode/microcode_amd_fam17h.bin"),
            b"F17",
            0o644,
        );
        put_file(
            &dir.join("amd-ucode/microcode_amd_fam17h.bin.asc"),
            b"sig",
            0o644,
        );
        let bytes = early_cpio(dir, 0).unwrap();
        assert_eq!(bytes.len() % ALIGN, 0);
        assert!(bytes.starts_with(b"070701"), "a plain newc cpio");
        let entries = read_cpio(&bytes);
        let file = |name: &str| entries.iter().find(|e| e.name == name).map(|e| &e.data[..]);
        assert_eq!(
            file("kernel/x86/microcode/GenuineIntel.bin"),
            Some(&b"AB"[..])
        );
        assert_eq!(
            file("kernel/x86/microcode/AuthenticAMD.bin"),
            Some(&b"F17"[..])
        );
    }

    #[test]
    fn one_vendor_is_enough_none_or_no_directory_is_an_error() {
        let tmp = TempDir::new("microcode-errors");
        let dir = tmp.path();
        let err = early_cpio(&dir.join("nope"), 0).unwrap_err().to_string();
        assert!(
            err.contains("--microcode") && err.contains("not a directory"),
            "{err}"
        );
        put_file(&dir.join("intel-ucode/notes.txt"), b"x", 0o644);
        let err = early_cpio(dir, 0).unwrap_err().to_string();
        assert!(err.contains("no microcode"), "{err}");
        put_file(&dir.join("amd-ucode/microcode_amd.bin"), b"A", 0o644);
        let entries = read_cpio(&early_cpio(dir, 0).unwrap());
        assert!(entries
            .iter()
            .all(|e| !e.name.ends_with("GenuineIntel.bin")));
    }
}
