//! What a successful live boot must leave for the real root
//! (docs/dracut-live.md §3.10), as a value: the model [`super::live_state`] checks the probe's
//! report against.

/// What `/` must be.
#[derive(Debug, Clone, Copy)]
pub enum RootFs {
    /// overlay `LiveOS_rootfs` over `/run/rootfsbase`.
    Overlay,
    /// ext4 on `/dev/mapper/live-rw`.
    LiveRw,
}

/// What the medium must look like after the boot.
#[derive(Debug, Clone, Copy)]
pub enum Medium {
    /// A filesystem mounted read-only at `/run/initramfs/live` with `entry`.
    Mounted {
        fstype: &'static str,
        entry: &'static str,
    },
    /// The device is the image itself: nothing at `/run/initramfs/live`.
    Raw,
    /// Mounted during the boot, then released once the image was copied to
    /// RAM (`rd.live.ram`): nothing at `/run/initramfs/live`, no mount
    /// of the device anywhere.
    Released,
}

/// What `/dev/live-base` must be.
#[derive(Debug, Clone, Copy)]
pub enum LiveBase {
    /// A symlink to a read-only `/dev/loopN` whose backing file ends with this.
    Loop(&'static str),
    /// A symlink to this device.
    Device(&'static str),
    Absent,
}

/// What `/run/rootfsbase` must be.
#[derive(Debug, Clone, Copy)]
pub enum Base {
    /// A read-only mount of this filesystem type.
    Mount(&'static str),
    Absent,
}

/// Everything a successful boot must (and must not) leave behind.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub root: RootFs,
    /// Mount options `/` must have.
    pub root_options: &'static [&'static str],
    pub medium: Medium,
    /// The target of `/run/initramfs/livedev`.
    pub livedev: &'static str,
    /// The device-mapper devices, exactly (sorted).
    pub dm: &'static [&'static str],
    pub live_base: LiveBase,
    pub rootfsbase: Base,
    /// `/run/initramfs/fsimg/rootfs.img` (the `rd.writable.fsimg` copy).
    pub fsimg_copy: bool,
}

impl Expect {
    /// A flattened image or raw device: overlayfs, no device-mapper.
    pub const fn overlay(
        medium: Medium,
        livedev: &'static str,
        live_base: LiveBase,
        base: &'static str,
    ) -> Self {
        Expect {
            root: RootFs::Overlay,
            root_options: &["rw"],
            medium,
            livedev,
            dm: &[],
            live_base,
            rootfsbase: Base::Mount(base),
            fsimg_copy: false,
        }
    }

    /// The default device-mapper snapshot over an ext4 `rootfs.img`.
    pub const fn snapshot(medium: Medium, livedev: &'static str) -> Self {
        Expect {
            root: RootFs::LiveRw,
            root_options: &["rw"],
            medium,
            livedev,
            dm: &["live-base", "live-rw"],
            live_base: LiveBase::Loop("LiveOS/rootfs.img"),
            rootfsbase: Base::Absent,
            fsimg_copy: false,
        }
    }
}

/// A flattened `LiveOS/squashfs.img` on a mounted ISO.
pub const ISO_SQUASHFS_IMG: Medium = Medium::Mounted {
    fstype: "iso9660",
    entry: "LiveOS/squashfs.img",
};

/// The flattened SquashFS ISO on the IDE CD drive, found by label or UUID.
pub const FLAT_ISO: Expect = Expect::overlay(
    ISO_SQUASHFS_IMG,
    "/dev/sr0",
    LiveBase::Loop("LiveOS/squashfs.img"),
    "squashfs",
);
