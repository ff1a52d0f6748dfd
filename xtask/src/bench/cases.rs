//! The benchmark's cases: the media and command lines the three peers boot
//! side by side, and the two scale experiments (liveinit alone).

use qemu_tests::qemu::Drive;

use super::floor::{FloorRecipe, FloorRoot};
use super::media::{PeerMedia, LABEL};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseId {
    IsoFlat,
    IsoDm,
    Usb,
    ScaleImage,
    ScaleDisks,
    /// HTTP download throughput against busybox wget (`download.rs`).
    Download,
    CopyRam,
    /// liveinit's network boot against the same image from a medium (`netboot.rs`).
    Netboot,
    /// Debian's live ISO: live-boot against liveinit (`debian_iso.rs`).
    DebianIso,
}

impl CaseId {
    pub const ALL: [CaseId; 9] = [
        CaseId::IsoFlat,
        CaseId::IsoDm,
        CaseId::Usb,
        CaseId::ScaleImage,
        CaseId::ScaleDisks,
        CaseId::Download,
        CaseId::CopyRam,
        CaseId::Netboot,
        CaseId::DebianIso,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CaseId::IsoFlat => "iso-flat",
            CaseId::IsoDm => "iso-dm",
            CaseId::Usb => "usb",
            CaseId::ScaleImage => "scale-image",
            CaseId::ScaleDisks => "scale-disks",
            CaseId::Download => "download",
            CaseId::CopyRam => "copy-ram",
            CaseId::Netboot => "netboot",
            CaseId::DebianIso => "debian-iso",
        }
    }

    pub fn from_name(name: &str) -> Option<CaseId> {
        CaseId::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn is_scale(self) -> bool {
        matches!(self, CaseId::ScaleImage | CaseId::ScaleDisks)
    }
}

/// A case the three peers boot.
#[derive(Debug, Clone)]
pub struct PeerCase {
    pub id: CaseId,
    pub title: &'static str,
    pub drive: Drive,
    /// The medium's kernel name, for the "device appears" milestone.
    pub device: &'static str,
    /// What liveinit and dracut are told (the floor ignores it).
    pub cmdline: String,
    /// What dracut needs on top: the flattened image wants its overlayfs
    /// option; every dracut boot powers off on failure instead of waiting
    /// in a shell, as liveinit does by default.
    pub dracut_extra: &'static str,
    pub floor: FloorRecipe,
}

const DRACUT_NO_SHELL: &str = "rd.shell=0 rd.emergency=poweroff";
const DRACUT_FLAT: &str = "rd.live.overlay.overlayfs=1 rd.shell=0 rd.emergency=poweroff";

/// What the floor loads for an ISO on the IDE CD (dependencies follow).
const FLOOR_CD: &[&str] = &["ata_piix", "sr_mod", "isofs", "squashfs", "loop", "overlay"];
const FLOOR_CD_EXT4: &[&str] = &[
    "ata_piix",
    "sr_mod",
    "isofs",
    "squashfs",
    "loop",
    "crc32c_generic",
    "ext4",
    "overlay",
];
const FLOOR_USB: &[&str] = &[
    "xhci_pci",
    "usb_storage",
    "sd_mod",
    "isofs",
    "squashfs",
    "loop",
    "overlay",
];

/// The peer case `id` on `media`; `None` for the cases liveinit boots alone.
pub fn peer_case(id: CaseId, media: &PeerMedia) -> Option<PeerCase> {
    let cmdline = format!("root=live:CDLABEL={LABEL}");
    let case = match id {
        CaseId::IsoFlat => PeerCase {
            id,
            title: "flattened squashfs ISO on an IDE CD (overlayfs)",
            drive: Drive::Cdrom(media.flat_iso.clone()),
            device: "sr0",
            cmdline,
            dracut_extra: DRACUT_FLAT,
            floor: FloorRecipe {
                modules: FLOOR_CD,
                device: "/dev/sr0".into(),
                fstype: "iso9660",
                root: FloorRoot::FlatSquashfs,
            },
        },
        CaseId::IsoDm => PeerCase {
            id,
            title: "nested rootfs.img ISO on an IDE CD (dm snapshot)",
            drive: Drive::Cdrom(media.nested_iso.clone()),
            device: "sr0",
            cmdline,
            dracut_extra: DRACUT_NO_SHELL,
            floor: FloorRecipe {
                modules: FLOOR_CD_EXT4,
                device: "/dev/sr0".into(),
                fstype: "iso9660",
                root: FloorRoot::NestedExt4,
            },
        },
        CaseId::Usb => PeerCase {
            id,
            title: "flattened ISO written to a USB stick (xHCI, overlayfs)",
            drive: Drive::UsbDisk {
                path: media.flat_iso.clone(),
                readonly: true,
            },
            device: "sda",
            cmdline,
            dracut_extra: DRACUT_FLAT,
            floor: FloorRecipe {
                modules: FLOOR_USB,
                device: "/dev/sda".into(),
                fstype: "iso9660",
                root: FloorRoot::FlatSquashfs,
            },
        },
        CaseId::ScaleImage
        | CaseId::ScaleDisks
        | CaseId::Download
        | CaseId::CopyRam
        | CaseId::Netboot
        | CaseId::DebianIso => return None,
    };
    Some(case)
}
