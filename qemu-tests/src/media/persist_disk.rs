//! Writable disks for the persistence boots: a whole-disk filesystem (no
//! partition table: the smallest thing a live stick can be) holding the
//! live image and a persistent overlay beside it, as Fedora's tools and
//! dracut lay them out. Built from plain files, like the other media; the
//! boots write to them and the next boot of the same file reads it back.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{stage_tree, Image};
use crate::run_captured;

/// A whole-disk ext4 filesystem of `size_mib` MiB labelled `label` with the
/// UUID `uuid`, holding `files` (`(path, host file)`) and the empty
/// directories `dirs` (e.g. an overlay's upper and work dirs).
pub fn ext4_disk(
    out: &Path,
    size_mib: u32,
    label: &str,
    uuid: &str,
    files: &[(String, std::path::PathBuf)],
    dirs: &[&str],
) -> Result<Image> {
    let tree = out.with_extension("tree");
    stage_tree(&tree, files)?;
    for d in dirs {
        fs::create_dir_all(tree.join(d.trim_start_matches('/')))?;
    }
    let _ = fs::remove_file(out);
    run_captured(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-b", "4096", "-m", "0", "-L", label, "-U", uuid])
            .args([
                "-E",
                "lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0",
            ])
            .arg("-d")
            .arg(&tree)
            .arg(out)
            .arg(format!("{size_mib}M")),
    )?;
    let _ = fs::remove_dir_all(&tree);
    Image::probe(out)
}

/// A whole-disk FAT32 filesystem (a typical live stick) of `size_mib` MiB
/// (at least 33), labelled `label`, volume id `volid` (8 hex digits; blkid
/// shows it as the UUID `XXXX-XXXX`); empty: see [`fat_put`].
pub fn fat_disk(out: &Path, size_mib: u32, label: &str, volid: &str) -> Result<Image> {
    let _ = fs::remove_file(out);
    run_captured(
        Command::new("mkfs.fat")
            .args(["-C", "-F", "32", "-n", label, "-i", volid])
            .arg(out)
            .arg((u64::from(size_mib) * 1024).to_string()),
    )?;
    Image::probe(out)
}

/// Copies the host file `host` into the FAT image `disk` as `dest`
/// (`LiveOS/x`), making its directory first (mtools: no mount).
pub fn fat_put(disk: &Path, dest: &str, host: &Path) -> Result<()> {
    if let Some((dir, _)) = dest.rsplit_once('/') {
        // `mmd` fails when the directory exists: that is fine.
        let _ = Command::new("mmd")
            .arg("-i")
            .arg(disk)
            .arg(format!("::/{dir}"))
            .env("MTOOLS_SKIP_CHECK", "1")
            .output();
    }
    run_captured(
        Command::new("mcopy")
            .args(["-o", "-i"])
            .arg(disk)
            .arg(host)
            .arg(format!("::/{dest}"))
            .env("MTOOLS_SKIP_CHECK", "1"),
    )
    .with_context(|| format!("mcopy {} to {dest}", host.display()))?;
    Ok(())
}

/// A file of `size_mib` MiB of zeros: a new device-mapper COW store, as
/// Fedora's livecd-iso-to-disk creates `overlay-<LABEL>-<UUID>`.
pub fn zero_file(out: &Path, size_mib: u32) -> Result<()> {
    let f = fs::File::create(out).with_context(|| format!("create {}", out.display()))?;
    f.set_len(u64::from(size_mib) << 20)?;
    Ok(())
}
