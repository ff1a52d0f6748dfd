//! The busybox floor: the least a shell-script init can do to boot a case —
//! busybox, the case's own fixed module list loaded with insmod, the
//! medium at a fixed device node, no discovery, no checks, no
//! device-mapper (a nested image gets overlayfs over its read-only ext4).
//! It is what liveinit's discovery and checks are measured against.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::compress::Compression;
use crate::initramfs::DEFAULT_BUSYBOX;
use crate::{compress, cpio, kmods};

/// How the floor finds and assembles one case's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorRecipe {
    /// Loaded in this order with their dependencies first.
    pub modules: &'static [&'static str],
    /// The medium, e.g. `/dev/sr0`: polled until it mounts.
    pub device: String,
    pub fstype: &'static str,
    pub root: FloorRoot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorRoot {
    /// `LiveOS/squashfs.img` is the root: overlayfs on it.
    FlatSquashfs,
    /// `LiveOS/squashfs.img` holds `LiveOS/rootfs.img` (ext4): mounted
    /// read-only from a loop device, overlayfs on it.
    NestedExt4,
}

const APPLETS: &[&str] = &[
    "sh",
    "mount",
    "insmod",
    "mkdir",
    "usleep",
    "switch_root",
    "poweroff",
];

/// The start of every floor script: the API filesystems and the modules.
const PROLOGUE: &str = r#"#!/bin/sh
# The floor a shell init can reach: fixed modules, fixed device, no checks.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
while read -r m; do insmod "$m"; done < /etc/modules.fixed
mkdir -p /run/initramfs/live /run/initramfs/squashfs /run/rootfsbase /run/ovl/upper /run/ovl/work /sysroot
"#;

/// The end of every floor script: overlayfs on `/run/rootfsbase`, hand over.
const EPILOGUE: &str = r#"mount -t overlay LiveOS_rootfs -o lowerdir=/run/rootfsbase,upperdir=/run/ovl/upper,workdir=/run/ovl/work /sysroot
for d in dev proc sys run; do mount --move /$d /sysroot/$d; done
exec switch_root /sysroot /sbin/init
"#;

impl FloorRecipe {
    /// The `/init` script.
    pub fn script(&self) -> String {
        let (device, fstype) = (&self.device, self.fstype);
        let wait_for_medium = format!(
            r#"i=0
until mount -t {fstype} -o ro {device} /run/initramfs/live 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 3000 ]; then echo "floor: {device} never mounted"; poweroff -f; fi
  usleep 10000
done
"#
        );
        let image = match self.root {
            FloorRoot::FlatSquashfs => {
                "mount -t squashfs -o ro,loop /run/initramfs/live/LiveOS/squashfs.img /run/rootfsbase\n"
            }
            FloorRoot::NestedExt4 => concat!(
                "mount -t squashfs -o ro,loop /run/initramfs/live/LiveOS/squashfs.img /run/initramfs/squashfs\n",
                "mount -t ext4 -o ro,loop /run/initramfs/squashfs/LiveOS/rootfs.img /run/rootfsbase\n",
            ),
        };
        format!("{PROLOGUE}{wait_for_medium}{image}{EPILOGUE}")
    }

    /// The floor's initramfs for this recipe, zstd like liveinit's.
    pub fn pack(&self, modules_dir: &Path, out: &Path) -> Result<()> {
        let modules = kmods::collect(modules_dir, self.modules)?;
        let mut a = cpio::Archive::new();
        for dir in ["bin", "dev", "etc", "proc", "sys", "run", "sysroot", "tmp"] {
            a.dir(dir, 0o755)?;
        }
        a.char_dev("dev/console", 0o600, 5, 1)?;
        a.file(
            "bin/busybox",
            0o755,
            fs::read(DEFAULT_BUSYBOX).context("busybox-static")?,
        )?;
        for applet in APPLETS {
            a.symlink(&format!("bin/{applet}"), "busybox")?;
        }
        a.file("init", 0o755, self.script().into_bytes())?;
        a.file("etc/modules.fixed", 0o644, modules.load_list().into_bytes())?;
        for m in &modules.modules {
            a.file(&m.archive_path, 0o644, m.data.clone())?;
        }
        let bytes = compress::compress(&a.to_bytes(0)?, Compression::Zstd)?;
        fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_floor_mounts_the_inner_ext4_read_only() {
        let recipe = FloorRecipe {
            modules: &["sr_mod"],
            device: "/dev/sr0".into(),
            fstype: "iso9660",
            root: FloorRoot::NestedExt4,
        };
        let s = recipe.script();
        assert!(s.contains("mount -t iso9660 -o ro /dev/sr0 /run/initramfs/live"));
        assert!(s.contains("-o ro,loop /run/initramfs/squashfs/LiveOS/rootfs.img /run/rootfsbase"));
        assert!(s.ends_with("exec switch_root /sysroot /sbin/init\n"));
    }
}
