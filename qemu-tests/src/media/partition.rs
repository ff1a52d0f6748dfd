//! Partitioned disks, as a live USB stick or a disk install has them: an
//! MBR with one partition at 1 MiB holding a filesystem (ext4, FAT32 or
//! F2FS) filled from a directory tree. Every filesystem is written by its
//! own userspace tools into a plain file: no loop devices, no mounts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::{mkfs_ext4, stage_tree, Image, LiveImages, SECTOR};
use crate::{describe, run_captured};

/// Where the single partition of [`mbr_disk`] starts (1 MiB, in sectors).
pub const PARTITION_START_SECTOR: u64 = 2048;

/// The filesystem of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionFs {
    Ext4,
    /// FAT32, what most live USB sticks are formatted with.
    Vfat,
    /// F2FS, which Fedora's livecd-iso-to-disk offers for flash media.
    /// `mkfs.f2fs` refuses volumes under about 52 MiB.
    F2fs,
}

impl PartitionFs {
    /// The filesystem type as blkid and `/proc/mounts` name it.
    pub fn name(self) -> &'static str {
        match self {
            PartitionFs::Ext4 => "ext4",
            PartitionFs::Vfat => "vfat",
            PartitionFs::F2fs => "f2fs",
        }
    }

    /// The MBR partition type, as the tools that make such media set it.
    fn mbr_type(self) -> &'static str {
        match self {
            PartitionFs::Ext4 | PartitionFs::F2fs => "83",
            // W95 FAT32 (LBA).
            PartitionFs::Vfat => "c",
        }
    }

    /// A filesystem of `size_mib` MiB labelled `label` at `out`, holding
    /// the tree at `src`.
    pub fn format(self, src: &Path, out: &Path, size_mib: u32, label: &str) -> Result<Image> {
        match self {
            PartitionFs::Ext4 => mkfs_ext4(src, out, size_mib, Some(label)),
            PartitionFs::Vfat => mkfs_vfat(src, out, size_mib, label),
            PartitionFs::F2fs => mkfs_f2fs(src, out, size_mib, label),
        }
    }
}

/// A FAT32 filesystem image of `size_mib` MiB (at least 33: FAT32 needs
/// 65525 clusters) labelled `label`, holding the tree at `src`:
/// `mkfs.fat`, then `mcopy` (mtools) writes the files into the image.
pub fn mkfs_vfat(src: &Path, out: &Path, size_mib: u32, label: &str) -> Result<Image> {
    let _ = fs::remove_file(out);
    run_captured(
        Command::new("mkfs.fat")
            .args(["-C", "-F", "32", "-n", label])
            .arg(out)
            .arg((u64::from(size_mib) * 1024).to_string()),
    )?;
    let entries = tree_entries(src)?;
    if !entries.is_empty() {
        run_captured(
            Command::new("mcopy")
                // Recursive, quit on the first error. (Batch mode, `-b`,
                // fails on directories in mtools 4.0.32.)
                .args(["-s", "-Q", "-i"])
                .arg(out)
                .args(&entries)
                .arg("::/")
                // The image has no partition table or drive geometry to check.
                .env("MTOOLS_SKIP_CHECK", "1"),
        )?;
    }
    Image::probe(out)
}

/// An F2FS filesystem image of `size_mib` MiB labelled `label`, holding
/// the tree at `src`: `mkfs.f2fs` on a sparse file, then `sload.f2fs`
/// (f2fs-tools) writes the files into the image.
pub fn mkfs_f2fs(src: &Path, out: &Path, size_mib: u32, label: &str) -> Result<Image> {
    let _ = fs::remove_file(out);
    let file = fs::File::create(out).with_context(|| format!("create {}", out.display()))?;
    file.set_len(u64::from(size_mib) << 20)?;
    drop(file);
    run_captured(
        Command::new("mkfs.f2fs")
            .args(["-q", "-f", "-l", label])
            .arg(out),
    )?;
    run_captured(Command::new("sload.f2fs").arg("-f").arg(src).arg(out))?;
    Image::probe(out)
}

/// The paths of the entries directly in `dir`, sorted.
fn tree_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for e in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        entries.push(e?.path());
    }
    entries.sort();
    Ok(entries)
}

/// A partitioned disk image.
#[derive(Debug, Clone)]
pub struct Disk {
    pub path: PathBuf,
    /// The filesystems of its partitions, in order (label and UUID as blkid
    /// reports them on the partition's own image).
    pub partitions: Vec<Image>,
}

/// A disk image with an MBR (DOS) partition table and one partition of the
/// type that suits `fs`, at 1 MiB, holding the filesystem image `part`: the
/// table is written by `sfdisk` on the image file and the filesystem by
/// `dd conv=notrunc` at the partition's offset.
pub fn mbr_disk(part: &Path, fs: PartitionFs, out: &Path) -> Result<Disk> {
    let part_len = fs::metadata(part)
        .with_context(|| format!("stat {}", part.display()))?
        .len();
    if part_len == 0 || part_len % SECTOR != 0 {
        bail!(
            "{}: {part_len} bytes is not a whole number of sectors",
            part.display()
        );
    }
    let part_sectors = part_len / SECTOR;
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent)?;
    }
    let _ = fs::remove_file(out);
    let disk = fs::File::create(out).with_context(|| format!("create {}", out.display()))?;
    // The partition, plus 1 MiB in front (table and alignment) and behind.
    disk.set_len((PARTITION_START_SECTOR * 2 + part_sectors) * SECTOR)?;
    drop(disk);
    let script = format!(
        "label: dos\nstart={PARTITION_START_SECTOR}, size={part_sectors}, type={}\n",
        fs.mbr_type()
    );
    run_with_stdin(
        Command::new("sfdisk")
            .args(["--quiet", "--no-reread", "--no-tell-kernel"])
            .arg(out),
        script.as_bytes(),
    )?;
    run_captured(
        Command::new("dd")
            .arg(format!("if={}", part.display()))
            .arg(format!("of={}", out.display()))
            // sparse: the mostly empty filesystems stay holes on the host.
            .args(["bs=512", "conv=notrunc,sparse,fsync", "status=none"])
            .arg(format!("seek={PARTITION_START_SECTOR}")),
    )?;
    Ok(Disk {
        path: out.to_path_buf(),
        partitions: vec![Image::probe(part)?],
    })
}

impl LiveImages {
    /// An MBR-partitioned disk at `out` whose single partition is a `fs`
    /// filesystem of `size_mib` MiB labelled `label` holding the images.
    pub fn partition_disk(
        &self,
        fs: PartitionFs,
        label: &str,
        size_mib: u32,
        out: &Path,
    ) -> Result<Disk> {
        let stem = out.with_extension("");
        let tree = stem.with_extension("tree");
        let files: Vec<(String, PathBuf)> = self
            .files
            .iter()
            .filter(|(_, host)| host.is_file())
            .cloned()
            .collect();
        stage_tree(&tree, &files)?;
        let part = stem.with_extension("part.img");
        fs.format(&tree, &part, size_mib, label)?;
        let disk = mbr_disk(&part, fs, out)?;
        let _ = std::fs::remove_dir_all(&tree);
        let _ = std::fs::remove_file(&part);
        Ok(disk)
    }
}

/// Runs `cmd` with `input` on its stdin; fails with its output if it fails.
fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let what = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{what}`"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .with_context(|| format!("writing to `{what}`"))?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "`{what}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{blkid_tag, Layout};

    /// A scratch directory under target/ for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = crate::out_dir().join("unit").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `sfdisk --dump`'s fields of the disk's single partition.
    fn partition_fields(disk: &Path) -> Vec<String> {
        let dump = run_captured(Command::new("sfdisk").arg("--dump").arg(disk)).unwrap();
        assert!(dump.contains("label: dos"), "{dump}");
        let part = dump
            .lines()
            .find(|l| l.contains("start="))
            .unwrap_or_else(|| panic!("no partition in:\n{dump}"));
        part.split(':')
            .nth(1)
            .unwrap()
            .split(',')
            .map(|f| f.split_whitespace().collect::<String>())
            .collect()
    }

    /// `blkid -p -O <offset>`: what is at the partition's start.
    fn blkid_at_partition(disk: &Path, tag: &str) -> String {
        run_captured(
            Command::new("blkid")
                .args(["-p", "-o", "value", "-s", tag, "-O"])
                .arg((PARTITION_START_SECTOR * SECTOR).to_string())
                .arg(disk),
        )
        .unwrap()
        .trim()
        .to_string()
    }

    // Needs the host tools `cargo xtask test` installs (e2fsprogs,
    // dosfstools, mtools, f2fs-tools, fdisk).
    #[test]
    fn each_filesystem_sits_at_the_partition_offset_with_the_files() {
        for (fs, label, size_mib, mbr_type) in [
            (PartitionFs::Ext4, "LIVEPART", 8, "83"),
            (PartitionFs::Vfat, "LIVEFAT", 40, "c"),
            (PartitionFs::F2fs, "LIVEF2FS", 64, "83"),
        ] {
            let dir = scratch(&format!("partition-{}", fs.name()));
            let payload = dir.join("payload");
            let marker = format!("payload of the {} partition\n", fs.name());
            fs::write(&payload, marker.repeat(64)).unwrap();
            let images = LiveImages {
                layout: Layout::SquashfsRootfsImg,
                files: vec![("LiveOS/rootfs.img".into(), payload)],
            };
            let out = dir.join("disk.img");
            let disk = images.partition_disk(fs, label, size_mib, &out).unwrap();
            assert_eq!(disk.path, out);
            assert_eq!(disk.partitions.len(), 1);
            assert_eq!(disk.partitions[0].label.as_deref(), Some(label), "{fs:?}");
            // Only the disk is left behind.
            let mut left: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            left.sort();
            assert_eq!(left, ["disk.img", "payload"], "{fs:?}");
            assert_eq!(
                fs::metadata(&out).unwrap().len(),
                u64::from(2 + size_mib) << 20,
                "{fs:?}"
            );

            let fields = partition_fields(&out);
            let sectors = u64::from(size_mib) * 2048;
            for want in [
                "start=2048".to_string(),
                format!("size={sectors}"),
                format!("type={mbr_type}"),
            ] {
                assert!(fields.contains(&want), "{fs:?}: {want} not in {fields:?}");
            }
            assert_eq!(blkid_at_partition(&out, "TYPE"), fs.name());
            assert_eq!(blkid_at_partition(&out, "LABEL"), label);
            assert_eq!(blkid_tag(&out, "PTTYPE").unwrap().as_deref(), Some("dos"));
            // The file's bytes are inside the partition (none of these
            // filesystems compresses by default).
            let bytes = fs::read(&out).unwrap();
            let start = usize::try_from(PARTITION_START_SECTOR * SECTOR).unwrap();
            assert!(
                bytes[start..]
                    .windows(marker.len())
                    .any(|w| w == marker.as_bytes()),
                "{fs:?}: the payload is not in the partition"
            );
        }
    }
}
