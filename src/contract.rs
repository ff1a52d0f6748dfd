//! The initramfs contract: what `/init` and the packer (`cargo xtask
//! initramfs`) must agree on, defined once and used by both sides.
//!
//! - where the module tables live in the initramfs and what they hold;
//! - how module names are normalised ([`module_name`]);
//! - how much of a device the probes read ([`PROBE_BYTES`]);
//! - for every filesystem the probes recognise ([`FsType::ALL`]), what the
//!   kernel needs to mount it ([`fs_support`]): a probe that finds a medium
//!   the initramfs cannot mount would be worse than no probe;
//! - the block layers the boot plan asks the kernel for ([`BLOCK_LAYERS`]);
//! - where an HTTPS build finds its trusted certificates ([`CA_BUNDLE`]).

use alloc::vec::Vec;

pub use crate::kmod::module_name;
pub use crate::probe::{FsType, PROBE_BYTES};

/// Modules an image builder wants loaded on every boot, one absolute path
/// per line, in load order (empty by default).
pub const MODULES_LOAD: &str = "/etc/liveinit/modules.load";
/// `alias <pattern> <module>` lines of every packed module (the kernel's
/// `modules.alias` format, trimmed to what is packed).
pub const MODULES_ALIAS: &str = "/etc/liveinit/modules.alias";
/// `/path.ko: /dependency.ko …` per packed module, in load order, listing
/// everything it needs loaded first (directly or not).
pub const MODULES_DEP: &str = "/etc/liveinit/modules.dep";
/// The PEM certificates HTTPS downloads are checked against, packed by
/// `--https` (Debian's path, which most TLS libraries look at first).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What mounting one filesystem takes from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsSupport {
    /// The module that registers the filesystem (answers `fs-<type>`).
    pub module: &'static str,
    /// Modules the filesystem asks the kernel for while mounting, which
    /// an initramfs without `modprobe` must load beforehand: the crypto
    /// checksum drivers behind metadata checksums, and FAT's default
    /// codepage (437) and I/O charset (`ascii` in Debian's and most
    /// distributions' kernel configuration).
    pub at_mount: &'static [&'static str],
}

/// What the kernel needs to mount `fs`. The match is exhaustive, so a new
/// probe does not build until the contract says how to mount what it finds.
pub const fn fs_support(fs: FsType) -> FsSupport {
    const CRC32C: &[&str] = &["crc32c_generic"];
    let (module, at_mount): (&str, &[&str]) = match fs {
        FsType::Iso9660 => ("isofs", &[]),
        // The ext4 driver serves ext2 and ext3 (`CONFIG_EXT4_USE_FOR_EXT2`).
        FsType::Ext2 | FsType::Ext3 | FsType::Ext4 => ("ext4", CRC32C),
        FsType::Squashfs => ("squashfs", &[]),
        FsType::Erofs => ("erofs", &[]),
        FsType::Vfat => ("vfat", &["nls_cp437", "nls_ascii"]),
        FsType::Btrfs => ("btrfs", CRC32C),
        FsType::Xfs => ("xfs", CRC32C),
        FsType::F2fs => ("f2fs", &["crc32_generic"]),
    };
    FsSupport { module, at_mount }
}

/// The filesystem `mount(2)` is asked for by this name, if a probe can
/// find it (`overlay` and `tmpfs` are not on media).
pub fn fs_by_mount_type(name: &str) -> Option<FsType> {
    FsType::ALL.into_iter().find(|fs| fs.mount_type() == name)
}

/// The block layers the boot plan asks the kernel for (`plan::kernel`):
/// loop devices, overlayfs and the device-mapper targets of the writable
/// layers.
/// Network card drivers the packer packs by default (issue 14): the
/// virtual machines' NICs and the common small ones, with VLAN support.
/// Like every packed driver, each is loaded when its device is there.
pub const NIC_DRIVERS: &[&str] = &[
    "virtio_net",
    "e1000",
    "e1000e",
    "igb",
    "r8169",
    "vmxnet3",
    "ena",
    "gve",
    "hv_netvsc",
    "8021q",
];

/// Server NIC drivers, packed on request (`--all-nics`).
pub const NIC_DRIVERS_SERVER: &[&str] = &[
    "igc",
    "ixgbe",
    "i40e",
    "ice",
    "bnxt_en",
    "tg3",
    "mlx4_en",
    "mlx5_core",
];

pub const BLOCK_LAYERS: &[&str] = &["loop", "overlay", "dm_mod", "dm_snapshot", "dm_thin_pool"];

/// Every module the init may ask for by name or kernel request, besides
/// device drivers: what the packer must pack (with dependencies) for every
/// medium a probe recognises to be mountable and every plan to run.
pub fn stack_modules() -> Vec<&'static str> {
    let mut modules: Vec<&'static str> = Vec::new();
    for fs in FsType::ALL {
        let support = fs_support(fs);
        for name in core::iter::once(support.module).chain(support.at_mount.iter().copied()) {
            if !modules.contains(&name) {
                modules.push(name);
            }
        }
    }
    modules.extend(BLOCK_LAYERS.iter().copied());
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive, so a new filesystem does not build until it is counted.
    fn position(fs: FsType) -> usize {
        match fs {
            FsType::Iso9660 => 0,
            FsType::Ext2 => 1,
            FsType::Ext3 => 2,
            FsType::Ext4 => 3,
            FsType::Squashfs => 4,
            FsType::Erofs => 5,
            FsType::Vfat => 6,
            FsType::Btrfs => 7,
            FsType::Xfs => 8,
            FsType::F2fs => 9,
        }
    }

    #[test]
    fn every_filesystem_a_probe_recognises_is_packed() {
        for (i, fs) in FsType::ALL.into_iter().enumerate() {
            assert_eq!(
                position(fs),
                i,
                "FsType::ALL must list every filesystem once"
            );
        }
        let packed = stack_modules();
        for fs in FsType::ALL {
            let support = fs_support(fs);
            assert!(packed.contains(&support.module), "{fs:?}");
            for extra in support.at_mount {
                assert!(packed.contains(extra), "{fs:?} needs {extra}");
            }
            assert_eq!(
                fs_by_mount_type(fs.mount_type()).map(fs_support),
                Some(support)
            );
        }
        assert_eq!(fs_by_mount_type("overlay"), None);
    }

    #[test]
    fn fat_media_get_their_codepage_and_charset() {
        let vfat = fs_support(FsType::Vfat);
        assert_eq!(vfat.module, "vfat");
        assert!(vfat.at_mount.contains(&"nls_ascii") && vfat.at_mount.contains(&"nls_cp437"));
    }
}
