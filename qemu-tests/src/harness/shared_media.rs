//! Media shared by the boots of one test binary: each built once per run,
//! on first use, by whichever test needs it first; and the drives that put
//! a medium in front of the guest.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::media::{Image, LiveRoot, LiveRootSpec};
use crate::qemu::Drive;

use super::inputs;

/// A medium built once per run on first use, or why building it failed.
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

/// The live root with the probe as `/sbin/init`, in `<media_dir>/root`.
pub fn probe_root(cell: &'static Shared<LiveRoot>, media_dir: &Path) -> &'static LiveRoot {
    shared(cell, "live root", || {
        LiveRoot::create(
            &media_dir.join("root"),
            &LiveRootSpec::probe(inputs::probe()),
        )
    })
}

/// An ISO on the IDE CD drive.
pub fn cdrom(image: &Image) -> Drive {
    Drive::Cdrom(image.path.clone())
}

/// A read-only virtio disk, so that boots running in parallel can share the
/// image.
pub fn virtio_ro(path: PathBuf) -> Drive {
    Drive::VirtioDisk {
        path,
        readonly: true,
    }
}

/// A read-only USB stick (xHCI, usb-storage).
pub fn usb_ro(path: PathBuf) -> Drive {
    Drive::UsbDisk {
        path,
        readonly: true,
    }
}
