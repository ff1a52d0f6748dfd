//! The boot plan: ordered steps (mount, attach a loop device, create a dm
//! table…) decided from the configuration and from what discovery found.
//!
//! Planning is pure, so every layout's plan is unit-tested as data and the
//! same plan can be shown to a user before anything runs (`liveinit
//! explain`). It happens in three phases, each deciding from the facts the
//! previous one uncovered: the medium ([`medium`]), the image on it
//! ([`image`]), and the writable root ([`root`]). Loop devices and device
//! sizes are only known at run time, so steps refer to them by [`LoopSlot`].

pub mod archiso;
mod display;
pub mod image;
pub mod image_file;
pub mod iso_scan;
pub mod kernel;
pub mod kiwi;
pub mod layered_persist;
pub mod layers;
pub mod medium;
pub mod persist;
pub mod ram;
pub mod ram_auto;
pub mod ram_bound;
pub mod root;

use alloc::string::String;
use alloc::vec::Vec;

pub use image::{classify_image, locate_image, mount_image, ImageFacts, ImageSource, Layout};
pub use medium::{mount_medium, Medium, MediumPlan};
pub use root::{assemble_root, choose_layer, Layer};

/// Where the live medium is mounted (and stays mounted for the real root).
pub const LIVE_MNT: &str = "/run/initramfs/live";
/// Symlink to the medium's device node.
pub const LIVEDEV_LINK: &str = "/run/initramfs/livedev";
/// Where the squashfs (or EROFS) image is mounted.
pub const SQUASH_MNT: &str = "/run/initramfs/squashfs";
/// The read-only lower layer of an overlayfs root.
pub const ROOTFSBASE: &str = "/run/rootfsbase";
/// The directory holding a temporary overlay's upper and work dirs.
pub const OVERLAY_DIR: &str = "/run/initramfs/overlay";
/// Upper dir link, as dracut ≥ 100 leaves it.
pub const UPPER_LINK: &str = "/run/overlayfs";
/// Work dir link, as dracut ≥ 100 leaves it.
pub const WORK_LINK: &str = "/run/ovlwork";
/// Symlink to the base image's loop device (every dracut live root has it).
pub const LIVE_BASE_LINK: &str = "/dev/live-base";
/// The temporary snapshot's sparse COW file, in the initramfs root as in
/// dracut: it is unlinked at the switch, the loop device keeps it alive.
pub const COW_FILE: &str = "/overlay";
/// Backing files of a thin pool (on tmpfs, so discards free memory).
pub const THIN_DIR: &str = "/run/initramfs/thin-overlay";
/// The writable copy made by `rd.writable.fsimg`.
pub const FSIMG_COPY: &str = "/run/initramfs/fsimg/rootfs.img";
/// Tells dracut-shutdown-style tooling to restore an initramfs at shutdown
/// so the medium can be unmounted cleanly.
pub const NEED_SHUTDOWN: &str = "/run/initramfs/.need_shutdown";
/// The new root, before the switch.
pub const NEWROOT: &str = "/sysroot";
/// The overlay's source name, which live userspace recognises.
pub const OVERLAY_SOURCE: &str = "LiveOS_rootfs";
/// Device-mapper names live userspace and installers look for.
pub const DM_LIVE_RW: &str = "live-rw";
pub const DM_LIVE_BASE: &str = "live-base";
pub const DM_THIN_POOL: &str = "live-overlay-pool";

/// A loop device whose name is only known once it is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopSlot {
    /// The compressed image (`squashfs.img`).
    Image,
    /// The filesystem image the root is built on (`rootfs.img`).
    Base,
    /// The snapshot's copy-on-write store.
    Cow,
    ThinData,
    ThinMeta,
    /// The ISO file `iso-scan/filename=` names.
    Iso,
    /// A persistent overlay's image file or COW store.
    Persist,
    /// The n-th image of a stack of images (Debian live-boot), bottom first.
    Layer(u8),
}

/// A path known now, or a loop device known once attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Path(String),
    Loop(LoopSlot),
}

/// The length of a dm table, in 512-byte sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sectors {
    /// The size of the device attached for a slot.
    Of(LoopSlot),
    Fixed(u64),
}

/// A one-target device-mapper table: `0 <length> <target> <args…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmTable {
    pub length: Sectors,
    pub target: &'static str,
    pub args: Vec<Source>,
}

/// Mount flags the plan uses (a subset of `MS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountFlags {
    pub read_only: bool,
    pub bind: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
    pub noatime: bool,
    pub nodiratime: bool,
}

impl MountFlags {
    pub const RW: MountFlags = MountFlags {
        read_only: false,
        bind: false,
        nosuid: false,
        nodev: false,
        noexec: false,
        noatime: false,
        nodiratime: false,
    };
    pub const RO: MountFlags = MountFlags {
        read_only: true,
        ..MountFlags::RW
    };
    pub const BIND: MountFlags = MountFlags {
        bind: true,
        ..MountFlags::RW
    };
    /// A filesystem of data, not a root, read-only: no set-user-ID
    /// programs and no device nodes from a disk anyone could have made.
    pub const DATA_RO: MountFlags = MountFlags {
        nosuid: true,
        nodev: true,
        ..MountFlags::RO
    };
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    MakeDir {
        path: String,
    },
    Mount {
        source: Source,
        target: String,
        /// `None` for bind mounts.
        fstype: Option<&'static str>,
        flags: MountFlags,
        /// Filesystem-specific options (`lowerdir=…`, `rootflags=`).
        data: String,
    },
    AttachLoop {
        slot: LoopSlot,
        backing: String,
        read_only: bool,
    },
    /// A sparse file of `bytes` apparent size (nothing is allocated yet).
    CreateSparse {
        path: String,
        bytes: u64,
    },
    /// A copy that keeps holes, with progress on the console.
    CopyFile {
        from: String,
        to: String,
    },
    DmCreate {
        name: &'static str,
        read_only: bool,
        table: DmTable,
    },
    DmMessage {
        name: &'static str,
        text: &'static str,
    },
    Symlink {
        target: Source,
        link: String,
    },
    WriteFile {
        path: String,
        contents: String,
    },
    /// Lazy unmount: the mount goes away once nothing uses it.
    Detach {
        path: String,
    },
    /// Removes everything inside a directory, keeping it
    /// (`rd.overlay.reset` of a persistent upper dir).
    ClearDir {
        path: String,
    },
    /// Overwrites the first `bytes` of a file with zeros, synced
    /// (`rd.overlay.reset` of a persistent COW store).
    ZeroStart {
        path: String,
        bytes: u64,
    },
}

/// Splits `mount -o` style options into the generic ones `mount(8)` turns
/// into flags and the rest, which the filesystem itself parses.
pub fn split_mount_options(options: &str, mut flags: MountFlags) -> (MountFlags, String) {
    let mut data: Vec<&str> = Vec::new();
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => flags.read_only = true,
            "rw" => flags.read_only = false,
            "nosuid" => flags.nosuid = true,
            "suid" => flags.nosuid = false,
            "nodev" => flags.nodev = true,
            "dev" => flags.nodev = false,
            "noexec" => flags.noexec = true,
            "exec" => flags.noexec = false,
            "noatime" => flags.noatime = true,
            "nodiratime" => flags.nodiratime = true,
            // The kernel's default; nothing to ask for.
            "defaults" | "relatime" | "async" => {}
            other => data.push(other),
        }
    }
    (flags, data.join(","))
}

fn mkdir(path: &str) -> Step {
    Step::MakeDir {
        path: String::from(path),
    }
}

fn symlink(target: Source, link: &str) -> Step {
    Step::Symlink {
        target,
        link: String::from(link),
    }
}

fn path(p: &str) -> Source {
    Source::Path(String::from(p))
}
