//! What the network boot tests need besides QEMU: an initramfs with files
//! added (a second cpio archive appended to the plain one: the kernel
//! unpacks them one after the other), and the image server's command line.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::harness::Initramfs;
use crate::out_dir;

/// The port the image server listens on, inside the test's own network
/// namespace (so parallel boots never collide).
pub const SERVER_PORT: u16 = 18080;
/// The server as the guest sees it through QEMU's user networking.
pub const SERVER: &str = "10.0.2.2:18080";

/// A newc cpio archive with `files` (`(absolute path in the image, host
/// file)`) and their parent directories.
pub fn newc_archive(files: &[(&str, &Path)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut ino = 0x4000_0000u32;
    let mut dirs: Vec<String> = Vec::new();
    for (dest, host) in files {
        let rel = dest.trim_start_matches('/');
        let mut at = String::new();
        for part in rel
            .split('/')
            .take(rel.split('/').count().saturating_sub(1))
        {
            at = if at.is_empty() {
                part.to_string()
            } else {
                format!("{at}/{part}")
            };
            if !dirs.contains(&at) {
                dirs.push(at.clone());
                ino += 1;
                entry(&mut out, ino, 0o040_755, &at, &[]);
            }
        }
        let data = fs::read(host).with_context(|| format!("read {}", host.display()))?;
        ino += 1;
        entry(&mut out, ino, 0o100_644, rel, &data);
    }
    entry(&mut out, 0, 0, "TRAILER!!!", &[]);
    Ok(out)
}

fn entry(out: &mut Vec<u8>, ino: u32, mode: u32, name: &str, data: &[u8]) {
    let fields = [
        ino,
        mode,
        0,
        0,
        1,
        0,
        u32::try_from(data.len()).expect("file under 4 GiB"),
        0,
        0,
        0,
        0,
        u32::try_from(name.len() + 1).expect("short name"),
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The plain initramfs with `files` added, as `initramfs-<name>.img` in the
/// output directory.
pub fn initramfs_with(name: &str, files: &[(&str, &Path)]) -> Result<Initramfs> {
    let mut bytes = fs::read(Initramfs::Plain.path()).context("read the plain initramfs")?;
    pad4(&mut bytes);
    bytes.extend(newc_archive(files)?);
    let out: PathBuf = out_dir().join(format!("initramfs-{name}.img"));
    fs::create_dir_all(out_dir())?;
    fs::write(&out, bytes).with_context(|| format!("write {}", out.display()))?;
    Ok(Initramfs::Built(Box::leak(Box::new(out))))
}

/// The image server's command line: serving `dir`, closing connections
/// unanswered for `down_secs` from the first one.
pub fn image_server(binary: &str, dir: &Path, down_secs: u64) -> Vec<String> {
    vec![
        binary.to_string(),
        "--dir".into(),
        dir.display().to_string(),
        "--port".into(),
        SERVER_PORT.to_string(),
        "--down-first".into(),
        down_secs.to_string(),
    ]
}

/// Puts `cfg`'s guest on QEMU's user network with one e1000 NIC, and the
/// image server (serving `dir`) in the boot's private network namespace:
/// the bench's setup for timing a download.
pub fn serve_over_e1000(cfg: &mut crate::qemu::QemuConfig, binary: &str, dir: &Path) {
    cfg.network = true;
    cfg.netns_server = Some(image_server(binary, dir, 0));
    cfg.extra_args.extend([
        "-netdev".into(),
        "user,id=net0,restrict=off".into(),
        "-device".into(),
        "e1000,netdev=net0,romfile=".into(),
    ]);
}
