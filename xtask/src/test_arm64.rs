//! The arm64 tier of `cargo xtask test`: liveinit cross-built for
//! `aarch64-unknown-linux-musl`, packed with Debian's arm64 kernel modules,
//! booted in `qemu-system-aarch64` (TCG) by `qemu-tests/tests/arm64.rs`.
//! The boots are few and small: TCG emulating arm64 on x86-64 runs the
//! guest several times slower than an x86-64 guest.

use anyhow::Result;
use qemu_tests::arm64;

use crate::build_init::Target;
use crate::builder_options::BuilderOptions;
use crate::compress::Compression;
use crate::initramfs::{self, PackOptions};
use crate::test::Stages;

/// The arm64 boots run at most this many QEMUs at once.
const THREADS: &str = "2";

pub(crate) fn stages(run: &mut Stages) -> Result<()> {
    let kernel = run.stage("arm64 host and kernel", || {
        arm64::ensure_host()?;
        let k = arm64::kernel()?;
        println!("kernel: {} ({})", k.vmlinuz.display(), k.package);
        Ok(k)
    })?;
    let initramfs = qemu_tests::out_dir().join("initramfs-arm64.img");
    run.stage("arm64 initramfs", || {
        initramfs::pack_image(
            &PackOptions {
                modules_dir: kernel.modules_dir.clone(),
                output: initramfs.clone(),
                compression: Compression::Zstd,
                extra_files: Vec::new(),
                busybox: None,
            },
            &BuilderOptions {
                target: Target::Aarch64,
                ..BuilderOptions::default()
            },
        )
    })?;
    let probe = run.stage("arm64 probe build", arm64::build_probe)?;
    run.stage("arm64 boot tests", || {
        qemu_tests::run_streamed(
            qemu_tests::cargo()
                .args(["test", "-p", "qemu-tests", "--test", "arm64"])
                .args(["--", "--test-threads", THREADS, "--nocapture"])
                .env(arm64::ENV_KERNEL_ARM64, &kernel.vmlinuz)
                .env(arm64::ENV_INITRAMFS_ARM64, &initramfs)
                .env(arm64::ENV_PROBE_ARM64, &probe),
        )
    })?;
    Ok(())
}
