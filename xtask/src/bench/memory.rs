//! Peak memory used in the initramfs, measured the same way for every
//! peer: the sampler `qemu-tests/src/bin/memwatch.rs` is put in front of
//! the peer's image as an uncompressed cpio (the way early microcode is
//! prepended) and started with `rdinit=/memwatch`; it runs the peer's own
//! `/init` as PID 1 and samples `MemTotal - MemAvailable` every 10 ms until
//! PID 1 switches root. These boots are not timed (sampling costs CPU).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::cpio;

/// What the kernel is told to run instead of `/init`.
pub const RDINIT: &str = "rdinit=/memwatch";
const LINE_PREFIX: &str = "memwatch: initramfs ";

/// One memory boot's reading, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// The highest `MemTotal - MemAvailable` before the root switch.
    pub peak_kb: u64,
    /// The same when the sampler started (kernel + unpacked initramfs).
    pub start_kb: u64,
    pub samples: u64,
}

/// Builds the sampler for musl (static) and returns its path.
pub fn build_sampler() -> Result<PathBuf> {
    qemu_tests::run_streamed(qemu_tests::cargo().args([
        "build",
        "--release",
        "-p",
        "qemu-tests",
        "--bin",
        "memwatch",
        "--target",
        qemu_tests::host::MUSL_TARGET,
    ]))
    .context("building the memory sampler")?;
    let path = qemu_tests::probe_binary_path().with_file_name("memwatch");
    if !path.is_file() {
        bail!("the sampler build left no {}", path.display());
    }
    Ok(path)
}

/// `image` with the sampler in front, written to `out`.
pub fn wrap(sampler: &Path, image: &Path, out: &Path) -> Result<()> {
    let mut front = cpio::Archive::new();
    front.file(
        "memwatch",
        0o755,
        fs::read(sampler).with_context(|| format!("read {}", sampler.display()))?,
    )?;
    let mut bytes = front.to_bytes(0)?;
    bytes.extend(fs::read(image).with_context(|| format!("read {}", image.display()))?);
    fs::write(out, bytes).with_context(|| format!("write {}", out.display()))
}

/// The sampler's line in a console log.
pub fn parse(log: &str) -> Option<MemoryUse> {
    let line = log.lines().find_map(|l| {
        let at = l.find(LINE_PREFIX)?;
        Some(&l[at + LINE_PREFIX.len()..])
    })?;
    let value = |key: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some(MemoryUse {
        peak_kb: value("peak_kb")?,
        start_kb: value("start_kb")?,
        samples: value("samples")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sampler_line() {
        let log = "[ 1.0] x\r\n[    4.5] memwatch: initramfs peak_kb=52000 start_kb=40000 total_kb=1000000 samples=250\r\n";
        assert_eq!(
            parse(log),
            Some(MemoryUse {
                peak_kb: 52000,
                start_kb: 40000,
                samples: 250
            })
        );
        assert_eq!(parse("[ 1.0] memwatch: PID 1 never switched root\n"), None);
    }
}
