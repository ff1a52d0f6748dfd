//! Helpers shared by the boot-test binaries.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::media::Image;
use qemu_tests::qemu::Drive;

/// Media built once per run on first use, or why building failed.
pub type Shared<T> = OnceLock<Result<T, String>>;

/// The value in `cell`, built by `build` the first time; panics (in every
/// test that needs it) if building failed.
pub fn shared<T>(
    cell: &'static Shared<T>,
    what: &str,
    build: impl FnOnce() -> anyhow::Result<T>,
) -> &'static T {
    match cell.get_or_init(|| build().map_err(|e| format!("{e:#}"))) {
        Ok(v) => v,
        Err(e) => panic!("building the test media ({what}) failed: {e}"),
    }
}

/// An input prepared by `cargo xtask test`, named by environment variable
/// `name`: a missing one fails the test (a boot test never skips). Relative
/// paths are taken from the workspace root (tests run in qemu-tests/).
pub fn input_path(name: &str) -> PathBuf {
    let Some(v) = std::env::var_os(name) else {
        panic!(
            "{name} is not set: the boot tests need a kernel, initramfs images and the \
             probe prepared by `cargo xtask test` (run that instead of cargo test)"
        );
    };
    let p = qemu_tests::workspace_root().join(v);
    assert!(
        p.is_file(),
        "{name}={} does not exist; run `cargo xtask test`",
        p.display()
    );
    p
}

pub fn cdrom(image: &Image) -> Drive {
    Drive::Cdrom(image.path.clone())
}
