//! Debian's kernel for the boot tests: the package behind `linux-image-amd64`,
//! fetched with `apt-get download` and unpacked with `dpkg-deb -x` (never
//! installed) into `<workspace>/.cache/kernel/`, once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{host, run_captured};

const META_PACKAGE: &str = "linux-image-amd64";
const STAMP: &str = "stamp";

/// An unpacked kernel package.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// e.g. `linux-image-6.1.0-56-amd64`.
    pub package: String,
    /// The `lib/modules` directory name, e.g. `6.1.0-56-amd64`.
    pub version: String,
    pub vmlinuz: PathBuf,
    /// The `lib/modules/<version>` tree.
    pub modules_dir: PathBuf,
}

/// `<workspace>/.cache/kernel`.
pub fn default_cache_dir() -> PathBuf {
    crate::workspace_root().join(".cache").join("kernel")
}

impl Kernel {
    /// The cached kernel, fetched first if the cache is missing or incomplete.
    pub fn fetch(cache_dir: &Path) -> Result<Kernel> {
        Self::fetch_package(cache_dir, META_PACKAGE)
    }

    /// [`Kernel::fetch`] of the package behind the meta package `meta`
    /// (e.g. `linux-image-arm64:arm64`).
    pub fn fetch_package(cache_dir: &Path, meta: &str) -> Result<Kernel> {
        if let Some(k) = Self::cached(cache_dir) {
            return Ok(k);
        }
        fs::create_dir_all(cache_dir).with_context(|| format!("create {}", cache_dir.display()))?;
        let _ = fs::remove_file(cache_dir.join(STAMP));
        let download = cache_dir.join("download");
        // Stale apt lists name a version the mirror no longer has: refresh
        // them once and try again.
        let (package, deb) = match download_kernel(&download, meta) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("kernel: {e:#}; refreshing the apt lists and retrying");
                host::apt_update_once()?;
                download_kernel(&download, meta)?
            }
        };

        let tmp = cache_dir.join("root.tmp");
        let root = cache_dir.join("root");
        let _ = fs::remove_dir_all(&tmp);
        let _ = fs::remove_dir_all(&root);
        run_captured(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tmp))
            .with_context(|| format!("dpkg-deb -x {}", deb.display()))?;
        fs::rename(&tmp, &root)?;
        let _ = fs::remove_dir_all(&download);

        let kernel = locate(&root, &package)?;
        // Written last: its presence means the cache is complete.
        fs::write(
            cache_dir.join(STAMP),
            format!("package={package}\nversion={}\n", kernel.version),
        )?;
        Ok(kernel)
    }

    /// The cached kernel if the stamp and the files it promises are there.
    pub fn cached(cache_dir: &Path) -> Option<Kernel> {
        let stamp = fs::read_to_string(cache_dir.join(STAMP)).ok()?;
        let package = stamp
            .lines()
            .find_map(|l| l.strip_prefix("package="))?
            .to_string();
        let k = locate(&cache_dir.join("root"), &package).ok()?;
        let version_ok = stamp.lines().any(|l| l == format!("version={}", k.version));
        version_ok.then_some(k)
    }
}

/// Resolves the kernel package and downloads it into `dir`; returns the
/// package name and the `.deb`.
fn download_kernel(dir: &Path, meta: &str) -> Result<(String, PathBuf)> {
    let package = resolve_package(meta)?;
    eprintln!("kernel: fetching {package} into {}", dir.display());
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    run_captured(Command::new("apt-get").current_dir(dir).args([
        "-q",
        "-o",
        "APT::Sandbox::User=root",
        "download",
        &package,
    ]))
    .with_context(|| format!("apt-get download {package}"))?;
    let deb = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .with_context(|| format!("apt-get download {package} left no .deb"))?;
    Ok((package, deb))
}

/// Finds vmlinuz and the modules tree in an unpacked package.
fn locate(root: &Path, package: &str) -> Result<Kernel> {
    let modules_parent = ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.is_dir())
        .with_context(|| format!("no lib/modules in {}", root.display()))?;
    let mut versions: Vec<String> = fs::read_dir(&modules_parent)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    versions.sort();
    let [version] = versions.as_slice() else {
        bail!(
            "expected one kernel version in {}, found {versions:?}",
            modules_parent.display()
        );
    };
    let vmlinuz = root.join("boot").join(format!("vmlinuz-{version}"));
    if !vmlinuz.is_file() {
        bail!("{} is missing", vmlinuz.display());
    }
    let modules_dir = modules_parent.join(version);
    if !modules_dir.join("modules.order").is_file() {
        bail!("{} has no modules.order", modules_dir.display());
    }
    Ok(Kernel {
        package: package.to_string(),
        version: version.clone(),
        vmlinuz,
        modules_dir,
    })
}

/// The real package `linux-image-amd64` depends on (apt lists refreshed once
/// if they are missing).
fn resolve_package(meta: &str) -> Result<String> {
    let first = run_captured(Command::new("apt-cache").args(["depends", meta]))
        .ok()
        .and_then(|out| parse_depends(&out));
    if let Some(p) = first {
        return Ok(p);
    }
    host::apt_update_once()?;
    let out = run_captured(Command::new("apt-cache").args(["depends", meta]))
        .with_context(|| format!("apt-cache depends {meta}"))?;
    parse_depends(&out).with_context(|| {
        format!("no linux-image-* dependency in `apt-cache depends {meta}`:\n{out}")
    })
}

/// The first concrete `linux-image-*` dependency in `apt-cache depends` output.
pub fn parse_depends(out: &str) -> Option<String> {
    out.lines()
        .filter_map(|l| {
            l.trim()
                .trim_start_matches('|')
                .strip_prefix("Depends:")
                .map(str::trim)
        })
        .find(|p| p.starts_with("linux-image-") && !p.starts_with('<'))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_apt_cache_depends() {
        let out = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            parse_depends(out).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        let alt = "linux-image-amd64\n |Depends: linux-image-6.12.9-amd64\n  Depends: <linux-image-6.12.9-amd64-unsigned>\n";
        assert_eq!(
            parse_depends(alt).as_deref(),
            Some("linux-image-6.12.9-amd64")
        );
        assert_eq!(parse_depends("linux-image-amd64\n"), None);
    }
}
