//! What an initramfs image holds, read back from the image itself so all
//! peers are measured alike: its size, its unpacked size, its file count,
//! and the size of its init — `/init` plus, for a script, the interpreter
//! its `#!` line names (symlinks followed inside the archive).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::compress;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageStats {
    /// The image file as the boot loader loads it.
    pub image_bytes: u64,
    /// Sum of the regular files' sizes once unpacked.
    pub unpacked_bytes: u64,
    pub files: usize,
    /// `/init`, plus its interpreter if it is a script.
    pub init_bytes: u64,
}

const NEWC_MAGIC: &[u8] = b"070701";
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

#[derive(Debug, Clone)]
struct Entry {
    mode: u32,
    data: Vec<u8>,
}

pub fn read(image: &Path) -> Result<ImageStats> {
    let bytes = fs::read(image).with_context(|| format!("read {}", image.display()))?;
    let entries = unpack(&bytes).with_context(|| format!("reading {}", image.display()))?;
    let regular = || entries.values().filter(|e| e.mode & S_IFMT == S_IFREG);
    let init = resolve(&entries, "init").context("the image has no /init")?;
    let mut init_bytes = init.data.len() as u64;
    if let Some(interpreter) = shebang(&init.data) {
        let interp = resolve(&entries, &interpreter)
            .with_context(|| format!("/init names {interpreter}, which the image lacks"))?;
        init_bytes += interp.data.len() as u64;
    }
    Ok(ImageStats {
        image_bytes: bytes.len() as u64,
        unpacked_bytes: regular().map(|e| e.data.len() as u64).sum(),
        files: regular().count(),
        init_bytes,
    })
}

/// Every archive in the image (plain newc or zstd, concatenated, with zero
/// padding between), later entries replacing earlier ones as the kernel does.
fn unpack(mut bytes: &[u8]) -> Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    while !bytes.is_empty() {
        if bytes[0] == 0 {
            bytes = &bytes[1..];
        } else if bytes.starts_with(NEWC_MAGIC) {
            let used = read_newc(bytes, &mut entries)?;
            bytes = &bytes[used..];
        } else if bytes.starts_with(ZSTD_MAGIC) {
            // A compressed archive runs to the end of the image here (the
            // images measured have no archive after a compressed one).
            let plain = compress::zstd_decode(bytes)?;
            read_newc_all(&plain, &mut entries)?;
            break;
        } else {
            bail!(
                "unknown archive format (starts with {:02x?})",
                &bytes[..bytes.len().min(4)]
            );
        }
    }
    Ok(entries)
}

fn read_newc_all(mut plain: &[u8], entries: &mut BTreeMap<String, Entry>) -> Result<()> {
    while plain.starts_with(NEWC_MAGIC) {
        let used = read_newc(plain, entries)?;
        plain = &plain[used..];
        while plain.first() == Some(&0) {
            plain = &plain[1..];
        }
    }
    Ok(())
}

/// One newc archive up to its trailer; returns the bytes it used.
fn read_newc(bytes: &[u8], entries: &mut BTreeMap<String, Entry>) -> Result<usize> {
    let mut at = 0;
    loop {
        let header = bytes.get(at..at + 110).context("truncated cpio header")?;
        if !header.starts_with(NEWC_MAGIC) {
            bail!("bad cpio magic at {at}");
        }
        let field = |i: usize| -> Result<u32> {
            let hex = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i])?;
            Ok(u32::from_str_radix(hex, 16)?)
        };
        let (mode, size, name_len) = (field(1)?, field(6)? as usize, field(11)? as usize);
        let name_at = at + 110;
        let name = bytes
            .get(name_at..name_at + name_len.saturating_sub(1))
            .context("truncated cpio name")?;
        let name = String::from_utf8_lossy(name)
            .trim_start_matches("./")
            .to_string();
        let data_at = align4(name_at + name_len);
        let data = bytes
            .get(data_at..data_at + size)
            .context("truncated cpio data")?;
        at = align4(data_at + size);
        if name == "TRAILER!!!" {
            return Ok(at);
        }
        // A hard-linked file's data comes with its last link only.
        if mode & S_IFMT != S_IFREG || size > 0 || !entries.contains_key(&name) {
            entries.insert(
                name,
                Entry {
                    mode,
                    data: data.to_vec(),
                },
            );
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The interpreter of a `#!` script, without its leading `/`.
fn shebang(data: &[u8]) -> Option<String> {
    let line = data.strip_prefix(b"#!")?.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.split_whitespace()
        .next()
        .map(|p| p.trim_start_matches('/').to_string())
}

/// The regular file at `path` inside the archive, following symlinks in
/// every component (`bin` → `usr/bin`, `sh` → `busybox`).
fn resolve<'a>(entries: &'a BTreeMap<String, Entry>, path: &str) -> Option<&'a Entry> {
    let mut path = path.trim_start_matches('/').to_string();
    'expand: for _ in 0..40 {
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..=parts.len() {
            let prefix = parts[..i].join("/");
            let entry = entries.get(&prefix)?;
            if entry.mode & S_IFMT == S_IFLNK {
                let target = String::from_utf8_lossy(&entry.data).to_string();
                let base = if target.starts_with('/') {
                    String::new()
                } else {
                    parts[..i - 1].join("/")
                };
                let rest = parts[i..].join("/");
                path = [base.as_str(), target.trim_start_matches('/'), rest.as_str()]
                    .iter()
                    .filter(|p| !p.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/");
                continue 'expand;
            }
        }
        return entries.get(&path).filter(|e| e.mode & S_IFMT == S_IFREG);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::Archive;

    #[test]
    fn script_init_counts_its_interpreter_through_symlinks() {
        let mut a = Archive::new();
        a.symlink("bin", "usr/bin").unwrap();
        a.file("usr/bin/busybox", 0o755, vec![0; 1000]).unwrap();
        a.symlink("usr/bin/sh", "busybox").unwrap();
        a.file("init", 0o755, b"#!/bin/sh\necho hi\n".to_vec())
            .unwrap();
        a.file("etc/x", 0o644, vec![1; 10]).unwrap();
        let dir = qemu_tests::out_dir().join("unit").join("bench-image-stats");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("script.img");
        // An uncompressed archive in front of a compressed one, as early
        // microcode images are made.
        let mut front = Archive::new();
        front.file("early", 0o644, vec![2; 5]).unwrap();
        let mut image = front.to_bytes(0).unwrap();
        image.extend(
            compress::compress(&a.to_bytes(0).unwrap(), crate::compress::Compression::Zstd)
                .unwrap(),
        );
        fs::write(&path, &image).unwrap();
        let stats = read(&path).unwrap();
        assert_eq!(stats.image_bytes, image.len() as u64);
        assert_eq!(stats.init_bytes, 18 + 1000);
        assert_eq!(stats.files, 4);
        assert_eq!(stats.unpacked_bytes, 1000 + 18 + 10 + 5);
    }
}
