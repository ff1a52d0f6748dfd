//! The dracut peer: Debian's `dracut-core` + `dracut-live` (installed on
//! demand, on the host only), and an initramfs built for the test kernel
//! with `dmsquash-live` and the storage and filesystem drivers liveinit
//! packs — no systemd, dracut's own shell `init` is PID 1.
//!
//! The test kernel is unpacked, never installed, and its package ships no
//! `modules.dep`; dracut resolves modules through libkmod, so it gets a
//! hard-linked copy of the tree with `depmod` run over it, kept in
//! `~/.cache/liveinit-bench/` (outside the repository). The image itself
//! is cached next to a key of everything that went into it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use qemu_tests::kernel::Kernel;
use qemu_tests::{host, run_captured};

pub const PACKAGES: &[&str] = &["dracut-core", "dracut-live"];
/// dracut modules: the live boot, and what it depends on comes along
/// (dm, img-lib, overlayfs, rootfs-block, udev-rules, base, fs-lib).
const MODULES: &str = "dmsquash-live base rootfs-block";
/// Never in the image, even if something asked for it.
const OMIT: &str = "systemd systemd-initrd dracut-systemd plymouth";

/// A built dracut initramfs.
#[derive(Debug, Clone)]
pub struct DracutImage {
    pub path: PathBuf,
    /// The Debian package version, e.g. `059-4`.
    pub version: String,
}

/// Installs dracut if needed and builds (or reuses) the image at `out`.
pub fn image(kernel: &Kernel, drivers: &[&str], out: &Path) -> Result<DracutImage> {
    host::ensure_packages(PACKAGES)?;
    let version = package_version("dracut-core")?;
    let kmoddir = modules_with_depmod(kernel)?;
    let args = dracut_args(kernel, &kmoddir, drivers, out);
    let key = format!("dracut {version}\n{}\n", args.join("\n"));
    let key_file = out.with_extension("key");
    if out.is_file() && fs::read_to_string(&key_file).is_ok_and(|k| k == key) {
        return Ok(DracutImage {
            path: out.to_path_buf(),
            version,
        });
    }
    eprintln!("bench: building the dracut {version} image (a minute or two under load)");
    let _ = fs::remove_file(&key_file);
    run_captured(Command::new("dracut").args(&args)).context("building the dracut image")?;
    if !out.is_file() {
        bail!("dracut left no {}", out.display());
    }
    fs::write(&key_file, key)?;
    Ok(DracutImage {
        path: out.to_path_buf(),
        version,
    })
}

fn dracut_args(kernel: &Kernel, kmoddir: &Path, drivers: &[&str], out: &Path) -> Vec<String> {
    vec![
        "--force".into(),
        "--quiet".into(),
        "--no-hostonly".into(),
        "--no-early-microcode".into(),
        "--kver".into(),
        kernel.version.clone(),
        "--kmoddir".into(),
        kmoddir.display().to_string(),
        "--modules".into(),
        MODULES.into(),
        "--omit".into(),
        OMIT.into(),
        "--add-drivers".into(),
        drivers.join(" "),
        "--compress".into(),
        "zstd".into(),
        out.display().to_string(),
    ]
}

/// `dpkg-query`'s version of an installed package.
fn package_version(package: &str) -> Result<String> {
    let out = run_captured(Command::new("dpkg-query").args(["-W", "-f=${Version}", package]))?;
    Ok(out.trim().to_string())
}

/// `~/.cache/liveinit-bench/kmods/<package>/lib/modules/<version>`, with a
/// `modules.dep`: made once per kernel package.
fn modules_with_depmod(kernel: &Kernel) -> Result<PathBuf> {
    let cache = cache_dir().join("kmods");
    let root = cache.join(&kernel.package);
    let tree = |root: &Path| root.join("lib/modules").join(&kernel.version);
    if tree(&root).join("modules.dep").is_file() {
        return Ok(tree(&root));
    }
    let tmp = cache.join(format!("{}.tmp", kernel.package));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(tmp.join("lib/modules"))?;
    // Hard links: depmod only adds files, it never rewrites a module.
    let source = fs::canonicalize(&kernel.modules_dir)?;
    let linked = run_captured(Command::new("cp").arg("-al").arg(&source).arg(tree(&tmp)));
    if linked.is_err() {
        run_captured(Command::new("cp").arg("-a").arg(&source).arg(tree(&tmp)))
            .context("copying the kernel modules for depmod")?;
    }
    run_captured(
        Command::new("depmod")
            .arg("-b")
            .arg(&tmp)
            .arg(&kernel.version),
    )
    .context("depmod over the test kernel's modules")?;
    let _ = fs::remove_dir_all(&root);
    fs::rename(&tmp, &root)?;
    Ok(tree(&root))
}

/// `~/.cache/liveinit-bench` (or `/tmp/liveinit-bench` without a `$HOME`).
fn cache_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache"))
        .unwrap_or_else(std::env::temp_dir)
        .join("liveinit-bench")
}
