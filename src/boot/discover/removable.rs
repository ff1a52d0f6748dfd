//! live-boot's `removable` / `removable-usb` restriction, read from sysfs
//! as live-boot reads it: the whole disk's `removable` attribute, and for
//! USB the disk being on USB mass storage.

#[allow(unused_imports)]
use crate::prelude::*;

use super::coldplug;
use super::report::Seen;
use crate::grammar::removable::Removable;
use crate::sys::Sys;

/// Whether `seen` (a partition counts as its disk) may be searched.
pub fn admits(sys: &impl Sys, only: Removable, seen: &Seen) -> bool {
    let disk = seen.parent.as_deref().unwrap_or(&seen.name);
    let attr = sys
        .read_file(&format!("/sys/block/{disk}/removable"))
        .unwrap_or_default();
    let on_usb = || coldplug::usb_disks(sys).iter().any(|d| d == disk);
    only.admits(&attr, only == Removable::Any || on_usb())
}
