//! The inputs `cargo xtask test` prepares for the boots (kernel, initramfs
//! variants, probe), named by environment variables.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::{
    workspace_root, ENV_INITRAMFS, ENV_INITRAMFS_BUSYBOX, ENV_INITRAMFS_JUNK, ENV_KERNEL, ENV_PROBE,
};

/// An input named by environment variable `name`: a missing one fails the
/// test (a boot test never skips). Relative paths are taken from the
/// workspace root (tests run in qemu-tests/).
pub fn input_path(name: &str) -> PathBuf {
    let Some(v) = std::env::var_os(name) else {
        panic!(
            "{name} is not set: the boot tests need a kernel, initramfs images and the \
             probe prepared by `cargo xtask test` (run that instead of cargo test)"
        );
    };
    let p = workspace_root().join(v);
    assert!(
        p.is_file(),
        "{name}={} does not exist; run `cargo xtask test`",
        p.display()
    );
    p
}

/// The input named `name`, looked up once per test binary.
fn cached(cell: &'static OnceLock<PathBuf>, name: &str) -> &'static PathBuf {
    cell.get_or_init(|| input_path(name))
}

/// The kernel every boot runs.
pub fn kernel() -> &'static PathBuf {
    static C: OnceLock<PathBuf> = OnceLock::new();
    cached(&C, ENV_KERNEL)
}

/// The probe, installed as `/sbin/init` of every live root.
pub fn probe() -> &'static PathBuf {
    static C: OnceLock<PathBuf> = OnceLock::new();
    cached(&C, ENV_PROBE)
}

/// Which initramfs a boot gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initramfs {
    /// What `cargo xtask initramfs` packs by default: no shell.
    #[default]
    Plain,
    /// With a static busybox as `/bin/sh` (for `rd.break`, `rd.shell`).
    Busybox,
    /// With 4 KiB of junk as [`crate::CMDLINE_JUNK_CONF`].
    Junk,
    /// Another image `cargo xtask test` packs, named by this variable.
    Env(&'static str),
    /// An image a test made itself (e.g. the plain one with files added).
    Built(&'static PathBuf),
}

impl Initramfs {
    /// Its file; only the variants a test binary boots need to be set.
    pub fn path(self) -> &'static PathBuf {
        static PLAIN: OnceLock<PathBuf> = OnceLock::new();
        static BUSYBOX: OnceLock<PathBuf> = OnceLock::new();
        static JUNK: OnceLock<PathBuf> = OnceLock::new();
        match self {
            Initramfs::Plain => cached(&PLAIN, ENV_INITRAMFS),
            Initramfs::Busybox => cached(&BUSYBOX, ENV_INITRAMFS_BUSYBOX),
            Initramfs::Junk => cached(&JUNK, ENV_INITRAMFS_JUNK),
            // Leaked once per boot: a few bytes, in a test process.
            Initramfs::Env(name) => Box::leak(Box::new(input_path(name))),
            Initramfs::Built(path) => path,
        }
    }
}
