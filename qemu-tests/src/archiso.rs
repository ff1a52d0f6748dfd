//! Arch archiso replica media (distro-live-spec §5.3, §7 A1–A8): the ISO
//! tree `arch/x86_64/airootfs.*` with mkarchiso's label, and the
//! ext4-in-squashfs image (`airootfs.sfs` holding `airootfs.img`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::media::{mkfs_ext4, mksquashfs, Image, Layout, LiveImages, SquashComp};

/// The replica's ISO volume label (mkarchiso's `ARCH_YYYYMM`).
pub const ARCH_LABEL: &str = "ARCH_202601";

/// Where the image goes in the tree (`arch/x86_64/<name>`).
pub fn image_path(name: &str) -> String {
    format!("arch/x86_64/{name}")
}

/// An ISO labelled [`ARCH_LABEL`] holding `image` as
/// `arch/x86_64/<name>`, and `extra` files (`(path in the ISO, host file)`).
pub fn iso(name: &str, image: &Path, extra: &[(String, PathBuf)], out: &Path) -> Result<Image> {
    let mut files = vec![(image_path(name), image.to_path_buf())];
    files.extend(extra.iter().cloned());
    LiveImages {
        layout: Layout::FlatSquashfs,
        files,
    }
    .iso(ARCH_LABEL, out)
}

/// mkarchiso's `ext4+squashfs` build mode: the root `root` as an ext4
/// `airootfs.img` of `ext4_mib` MiB, alone in a squashfs at `out`.
pub fn nested_sfs(root: &Path, ext4_mib: u32, out: &Path) -> Result<PathBuf> {
    let tree = out.with_extension("tree");
    let _ = fs::remove_dir_all(&tree);
    fs::create_dir_all(&tree)?;
    mkfs_ext4(root, &tree.join("airootfs.img"), ext4_mib, None)?;
    mksquashfs(&tree, out, SquashComp::Gzip)?;
    Ok(out.to_path_buf())
}
