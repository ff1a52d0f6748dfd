//! `liveinit explain` for archiso's COW space and its dm-snapshot root
//! (distro-live-spec §3.4, §3.6), from the plan's own functions.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use super::archiso::CowSpace;
use super::LayeredConfig;
use crate::plan::archiso::{
    cow_holder, mount_cow_device, mount_snapshot, size_bytes, snapshot, COW_FILE_NAME, DM_SNAPSHOT,
    NESTED_IMAGE,
};
use crate::plan::layers::{image_mount, ARCHISO};
use crate::probe::FsType;

/// The "overlay" row: where the COW space is and what the root is.
pub fn row(live: &LayeredConfig, cow: &CowSpace) -> String {
    let size = live.overlay_size.as_deref().unwrap_or("256M");
    let holder = cow_holder(&live.cow_dir);
    let space = match &cow.device {
        Some((option, spec)) => format!(
            "the COW space is {spec} ({option}=), looked for as long as the medium (rd.retry), \
             mounted read-only at {} with cow_flags={}, then read-write; not found or not \
             usable: a warning, and a {size} tmpfs instead. Never formatted",
            ARCHISO.overlay, cow.flags
        ),
        None => format!(
            "the COW space is a tmpfs of {size} at {} (cow_spacesize)",
            ARCHISO.overlay
        ),
    };
    format!(
        "{space}; {holder} is made with mode 0700. The root: overlayfs `airootfs` with \
         upperdir and workdir there; but if the image holds {NESTED_IMAGE}, the dm-snapshot \
         {DM_SNAPSHOT} of it (chunk {} sectors) over {holder}/{COW_FILE_NAME} of cow_spacesize \
         (at most what its filesystem has free), mounted read-write as /; {}. The table says PO, \
         not archiso's P or N: a full COW turns the root read-only instead of failing every read",
        cow.chunk,
        match cow.persistent {
            true => "cow_persistent=P: the file is kept and reused at the next boot",
            false => "cow_persistent=N: a fresh file, unlinked once attached",
        }
    )
}

/// The steps that differ from the overlay plan: the COW device's mount,
/// and the snapshot root when the image holds `airootfs.img`.
pub fn plan(out: &mut String, live: &LayeredConfig, cow: &CowSpace) {
    if let Some((option, _)) = &cow.device {
        let _ = writeln!(
            out,
            "\nwith the {option} device (<cow>, ext4) found, instead of the tmpfs:"
        );
        for step in mount_cow_device("<cow>", FsType::Ext4, &cow.flags) {
            let _ = writeln!(out, "  {step}");
        }
        let _ = writeln!(out, "  remount {} read-write", ARCHISO.overlay);
    }
    let _ = writeln!(
        out,
        "\nif {} holds {NESTED_IMAGE} (ext4), instead of the overlay:",
        image_mount(live.paths, "")
    );
    let holder = cow_holder(&live.cow_dir);
    let cow_file = format!("{holder}/{COW_FILE_NAME}");
    let bytes = size_bytes(live.overlay_size.as_deref().unwrap_or("256M"), None);
    let image = format!("{}/{NESTED_IMAGE}", image_mount(live.paths, ""));
    for step in snapshot(&image, &cow_file, Some(bytes.unwrap_or(0)), &cow.chunk) {
        match step {
            crate::plan::Step::CreateSparse { .. } if bytes.is_none() => {
                let _ = writeln!(out, "  create sparse {cow_file} (cow_spacesize of the RAM)");
            }
            step => {
                let _ = writeln!(out, "  {step}");
            }
        }
    }
    if !cow.persistent {
        let _ = writeln!(out, "  unlink {cow_file}");
    }
    for step in mount_snapshot(FsType::Ext4) {
        let _ = writeln!(out, "  {step}");
    }
}
