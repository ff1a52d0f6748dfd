//! kiwi's persistent mode (`rd.live.overlay.persistent`, distro-live-spec
//! §4.2 step 3): the partition labelled `cow` on the disk the medium is
//! on holds `rw/` and `work/`, mounted at `/run/overlay/overlayfs`. kiwi
//! partitions the disk's free space and formats a new `cow` when there is
//! none; liveinit never writes to a disk the command line does not name,
//! so it says so in one line and keeps kiwi's temporary mode (the tmpfs),
//! as kiwi does on a CD or when a step fails.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use crate::boot::discover;
use crate::boot::error::Stage;
use crate::boot::execute::Executor;
use crate::config::LiveConfig;
use crate::plan::kiwi::{mount_cow, COW_LABEL, OVERLAYFS};
use crate::plan::persist::can_hold_upper;
use crate::sys::Sys;

/// Mounts the `cow` partition of the medium's disk at [`OVERLAYFS`];
/// whether the writable layer is on it (else, after a warning, the tmpfs).
pub fn open<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    medium: &str,
    cowfs: &str,
) -> bool {
    let name = medium.trim_start_matches("/dev/");
    // kiwi looks for a disk only among disks, which a CD is not.
    if name.starts_with("sr") {
        temporary(&format!(
            "the medium {medium} is a CD, no cow partition can be on it"
        ));
        return false;
    }
    let seen = discover::scan(sys, cfg.idle.probe);
    let disk = seen
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.parent.clone())
        .unwrap_or_else(|| String::from(name));
    let cow = seen.iter().find_map(|s| {
        let fs = s.fs.as_ref()?;
        (s.parent.as_deref() == Some(disk.as_str()) && fs.label.as_deref() == Some(COW_LABEL))
            .then(|| (format!("/dev/{}", s.name), fs.fstype))
    });
    let Some((device, fstype)) = cow else {
        temporary(&format!(
            "/dev/{disk} has no partition labelled {COW_LABEL}; kiwi would create one in its \
             free space (mkfs.{cowfs} -L {COW_LABEL}), liveinit never partitions nor formats a disk"
        ));
        return false;
    };
    if !can_hold_upper(fstype) {
        temporary(&format!(
            "{device} (LABEL={COW_LABEL}) is {}, which cannot hold an overlayfs upper directory",
            fstype.as_str()
        ));
        return false;
    }
    if let Err(e) = exec.run(Stage::AssembleRoot, &mount_cow(&device, fstype)) {
        temporary(&format!("{device} (LABEL={COW_LABEL}): {e}"));
        let _ = sys.unmount(OVERLAYFS);
        return false;
    }
    info!("rd.live.overlay.persistent: the writable layer is on {device} (LABEL={COW_LABEL}) at {OVERLAYFS}");
    true
}

/// One line: why this boot's changes stay in RAM.
pub fn temporary(why: &str) {
    warn!("rd.live.overlay.persistent: {why}: kiwi's temporary mode, the writable layer is in RAM and lost at shutdown");
}
