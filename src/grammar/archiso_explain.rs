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
            "{spec} ({option}=, waited for up to rd.retry; missing or unusable: a warning and a \
             {size} tmpfs), mounted read-only with cow_flags={} then remounted read-write, never \
             formatted",
            cow.flags
        ),
        None => format!("a {size} tmpfs (cow_spacesize)"),
    };
    format!(
        "COW space {}: {space}; {holder} made mode 0700. Root: overlayfs `airootfs`, upperdir \
         and workdir there; if the image holds {NESTED_IMAGE}: dm-snapshot {DM_SNAPSHOT} of it \
         over {holder}/{COW_FILE_NAME} (cow_spacesize, at most the free space there; chunk {}), \
         rw; the file {}. Table mode PO, not P/N: a full COW makes / read-only, not unreadable",
        ARCHISO.overlay,
        cow.chunk,
        match cow.persistent {
            true => "kept and reused (cow_persistent=P)",
            false => "unlinked once attached (cow_persistent=N)",
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
        let _ = writeln!(out, "  remount {} rw", ARCHISO.overlay);
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

#[cfg(test)]
mod tests {
    use crate::explain::explain;

    #[test]
    fn the_cow_space_the_snapshot_and_img_loop_are_shown() {
        let out = explain("archisobasedir=arch archisolabel=A cow_label=P cow_flags=noatime");
        for want in [
            "COW space /run/archiso/cowspace: LABEL=P (cow_label=",
            "kept and reused (cow_persistent=P)",
            "  mount <cow> -> /run/archiso/cowspace (ext4, ro, noatime)\n  remount /run/archiso/cowspace rw",
            "  dm create arch_airootfs: 0 <sectors of <base loop>> snapshot <base loop> <cow loop> PO 8",
            "  mount /dev/mapper/arch_airootfs -> /sysroot (ext4, rw)",
        ] {
            assert!(out.contains(want), "{want}\n{out}");
        }
        assert!(!out.contains("unlink"), "{out}");
        let out = explain("archisobasedir=arch img_dev=UUID=u img_loop=/i.iso copytoram=y");
        for want in [
            "a 256M tmpfs (cow_spacesize)",
            "  unlink /run/archiso/cowspace/persistent_/x86_64/airootfs.cow\n",
            "img_loop: /i.iso on UUID=u, its filesystem mounted read-only at /run/archiso/img_dev \
             (and kept there unless copied to RAM",
        ] {
            assert!(out.contains(want), "{want}\n{out}");
        }
    }
}
