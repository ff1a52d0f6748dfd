//! Host setup: the Debian packages and the Rust target the boot tests need,
//! installed on demand (CI starts from a fresh machine).

use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::{run_captured, run_streamed};

/// Debian packages the tests and the demo use.
pub const PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "squashfs-tools",
    "xorriso",
    "e2fsprogs",
    "erofs-utils",
    "busybox-static",
    "dosfstools",
    // mcopy: fills FAT images without mounting them.
    "mtools",
    // mkfs.f2fs and sload.f2fs: the F2FS live stick.
    "f2fs-tools",
    // sfdisk: the partition table of the partitioned test disks.
    "fdisk",
    // implantisomd5 and checkisomd5: the media check's unit tests compare
    // with them; the media check's boots implant sums with the first.
    "isomd5sum",
    "zstd",
    "xz-utils",
    "cpio",
    // groff: cargo xtask test lints the manual pages.
    "groff-base",
    // musl-gcc: ring (TLS, `--https`) compiles C for the musl target.
    "musl-tools",
    // openssl: throw-away CAs and `s_server` for the TLS tests.
    "openssl",
    // socat: the TLS front before the image server in the HTTPS boots.
    "socat",
];

/// The target the init and the probe are built for.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// Installs whatever is missing of [`PACKAGES`] and the musl target.
pub fn ensure_all() -> Result<()> {
    ensure_packages(PACKAGES)?;
    ensure_rust_target(MUSL_TARGET)
}

/// Debian packages among `packages` that are not installed.
pub fn missing_packages(packages: &[&str]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for p in packages {
        let out = Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", p])
            .output()
            .context(
                "cannot run dpkg-query: the boot tests need a Debian (or derived) host with apt",
            )?;
        let status = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !status.trim_end().ends_with(" installed") {
            missing.push(p.to_string());
        }
    }
    Ok(missing)
}

/// Installs the missing packages with apt-get (needs root).
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    let missing = missing_packages(packages)?;
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing host packages: {}; run as root (or install them: apt-get install {})",
            missing.join(" "),
            missing.join(" ")
        );
    }
    eprintln!("host: installing {}", missing.join(" "));
    apt_update_once()?;
    run_streamed(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing),
    )
    .context("installing host packages")?;
    let still = missing_packages(packages)?;
    if !still.is_empty() {
        bail!(
            "apt-get install succeeded but these are still missing: {}",
            still.join(" ")
        );
    }
    Ok(())
}

/// Runs `apt-get update` at most once per process (and only when needed).
pub fn apt_update_once() -> Result<()> {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return Ok(());
    }
    if !is_root() {
        bail!("apt-get update needs root");
    }
    eprintln!("host: apt-get update");
    run_streamed(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["update", "-q"]),
    )
    .context("apt-get update")?;
    *done = true;
    Ok(())
}

/// `rustup target add <target>` unless it is installed already.
pub fn ensure_rust_target(target: &str) -> Result<()> {
    let installed = run_captured(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("cannot run rustup (needed to add the musl target)")?;
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    eprintln!("host: rustup target add {target}");
    run_streamed(Command::new("rustup").args(["target", "add", target]))
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
