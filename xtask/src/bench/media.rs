//! The media every peer boots: one live root (the probe as `/sbin/init`),
//! as a flattened SquashFS ISO and as Fedora's nested layout
//! (`squashfs.img` holding an ext4 `rootfs.img`). The USB stick is the
//! flattened ISO written raw to the stick, as image writers do.

use std::path::{Path, PathBuf};

use anyhow::Result;
use qemu_tests::media::{Layout, LiveImages, LiveRoot, LiveRootSpec};

/// The ISO's volume label, which every peer is told to find.
pub const LABEL: &str = "LIVEINIT_BENCH";

#[derive(Debug, Clone)]
pub struct PeerMedia {
    /// The live root directory (for the scale media built from it too).
    pub root: LiveRoot,
    pub flat_iso: PathBuf,
    pub nested_iso: PathBuf,
}

pub fn build(work: &Path, probe: &Path) -> Result<PeerMedia> {
    let root = LiveRoot::create(&work.join("root"), &LiveRootSpec::probe(probe))?;
    let iso = |layout: Layout, name: &str| -> Result<PathBuf> {
        let images = LiveImages::build(&root, layout, work)?;
        let out = work.join(name);
        images.iso(LABEL, &out)?;
        Ok(out)
    };
    Ok(PeerMedia {
        flat_iso: iso(Layout::FlatSquashfs, "flat.iso")?,
        nested_iso: iso(Layout::NestedExt4, "nested.iso")?,
        root,
    })
}
