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

use crate::boot::discover::{self, Found};
use crate::boot::error::Stage;
use crate::boot::execute::Executor;
use crate::config::LiveConfig;
use crate::plan::kiwi::{mount_cow, COW_LABEL, OVERLAYFS};
use crate::plan::persist::{can_hold_upper, state_step};
use crate::plan::Step;
use crate::probe::FsType;
use crate::sys::Sys;

/// The `cow` partition found, and the device to mount the medium from.
pub struct Cow {
    device: String,
    fstype: FsType,
    /// The ISO's own partition when the medium was found on the whole
    /// disk: the kernel lets no partition be mounted beside a mounted
    /// whole disk, so the ISO is mounted through its partition.
    pub medium: String,
}

/// Before the medium is mounted: the `cow` partition of its disk, or
/// `None` after one warning line saying why the tmpfs holds the layer.
pub fn find(sys: &impl Sys, cfg: &LiveConfig, medium: &Found, cowfs: &str) -> Option<Cow> {
    let name = medium.device.trim_start_matches("/dev/");
    // kiwi looks for a disk only among disks, which a CD is not.
    if name.starts_with("sr") {
        temporary(&format!(
            "the medium {} is a CD, no cow partition can be on it",
            medium.device
        ));
        return None;
    }
    let seen = discover::scan(sys, cfg.idle.probe);
    let disk = seen
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.parent.clone())
        .unwrap_or_else(|| String::from(name));
    let partition = |want: &dyn Fn(&crate::probe::FsInfo) -> bool| {
        seen.iter().find_map(|s| {
            let fs = s.fs.as_ref()?;
            (s.parent.as_deref() == Some(disk.as_str()) && want(fs))
                .then(|| (format!("/dev/{}", s.name), fs.fstype))
        })
    };
    let Some((device, fstype)) = partition(&|fs| fs.label.as_deref() == Some(COW_LABEL)) else {
        temporary(&format!(
            "/dev/{disk} has no partition labelled {COW_LABEL}; kiwi would create one in its \
             free space (mkfs.{cowfs} -L {COW_LABEL}), liveinit never partitions nor formats a disk"
        ));
        return None;
    };
    if !can_hold_upper(fstype) {
        temporary(&format!(
            "{device} (LABEL={COW_LABEL}) is {}, which cannot hold an overlayfs upper directory",
            fstype.as_str()
        ));
        return None;
    }
    let medium = if name == disk {
        let Some((iso, _)) = partition(&|fs| *fs == medium.fs) else {
            temporary(&format!(
                "the medium is the whole disk /dev/{disk} and none of its partitions holds it: \
                 {device} cannot be mounted beside it"
            ));
            return None;
        };
        iso
    } else {
        medium.device.clone()
    };
    Some(Cow {
        device,
        fstype,
        medium,
    })
}

/// Once the root image is mounted: the `cow` partition at [`OVERLAYFS`]
/// with `rw/` and `work/`; whether the writable layer is on it.
pub fn open<S: Sys>(exec: &mut Executor<'_, S>, sys: &S, cow: &Cow) -> bool {
    let device = &cow.device;
    if let Err(e) = exec.run(Stage::AssembleRoot, &mount_cow(device, cow.fstype)) {
        temporary(&format!("{device} (LABEL={COW_LABEL}): {e}"));
        let _ = sys.unmount(OVERLAYFS);
        return false;
    }
    let line = format!("the writable layer is on {device} (LABEL={COW_LABEL}) at {OVERLAYFS}");
    info!("rd.live.overlay.persistent: {line}");
    // Only for `liveinit status`: a failure to write it is no reason to stop.
    let state = [
        Step::MakeDir {
            path: String::from("/run/initramfs"),
        },
        state_step(&line),
    ];
    let _ = exec.run(Stage::AssembleRoot, &state);
    true
}

/// One line: why this boot's changes stay in RAM.
pub fn temporary(why: &str) {
    warn!(
        "rd.live.overlay.persistent: {why}: kiwi's temporary mode, the writable layer is in RAM \
         and lost at shutdown"
    );
}
