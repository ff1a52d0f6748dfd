//! Live media for the boot tests: a tiny live root (the probe as
//! `/sbin/init`), packed into images (SquashFS, EROFS, ext4), put on a
//! medium (an ISO, an MBR-partitioned disk with an ext4 partition, or a raw
//! disk that is the image itself).
//!
//! The pieces compose: [`LiveRoot`] → [`mksquashfs`] / [`mkfs_erofs`] /
//! [`mkfs_ext4`] → [`IsoBuilder`] / [`mbr_disk`], and [`LiveImages`] strings
//! them together for a [`Layout`]. Everything is built from plain files: no
//! loop devices, no mounts, no root privileges.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::run_captured;

/// Where Debian's busybox-static puts its binary.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// What goes into a live root.
#[derive(Debug, Clone)]
pub struct LiveRootSpec {
    /// Installed as `/sbin/init`.
    pub probe: PathBuf,
    /// A static busybox installed as `/bin/busybox`, with `/bin/sh` and the
    /// other applets as symlinks (for the demo's shell).
    pub busybox: Option<PathBuf>,
    /// `NAME` in `/etc/os-release`.
    pub name: String,
}

impl LiveRootSpec {
    pub fn probe(probe: impl Into<PathBuf>) -> Self {
        LiveRootSpec {
            probe: probe.into(),
            busybox: None,
            name: "liveinit test root".into(),
        }
    }
}

/// A live root directory on the host.
#[derive(Debug, Clone)]
pub struct LiveRoot {
    pub dir: PathBuf,
}

const ROOT_DIRS: &[&str] = &[
    "bin", "sbin", "etc", "proc", "sys", "dev", "run", "tmp", "usr", "usr/bin", "var",
];

impl LiveRoot {
    /// Creates the root in `dir` (removed first if it exists).
    pub fn create(dir: &Path, spec: &LiveRootSpec) -> Result<LiveRoot> {
        let _ = fs::remove_dir_all(dir);
        for d in ROOT_DIRS {
            fs::create_dir_all(dir.join(d)).with_context(|| format!("create {d} in root"))?;
        }
        fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777))?;
        let root = LiveRoot {
            dir: dir.to_path_buf(),
        };
        root.add_file("sbin/init", &spec.probe, 0o755)?;
        root.add_text(
            "etc/os-release",
            &format!(
                "NAME=\"{0}\"\nID=liveinit-test\nPRETTY_NAME=\"{0}\"\n",
                spec.name
            ),
            0o644,
        )?;
        if let Some(bb) = &spec.busybox {
            root.add_busybox(bb)?;
        }
        Ok(root)
    }

    /// Copies a host file into the root at `rel` with `mode`.
    pub fn add_file(&self, rel: &str, host: &Path, mode: u32) -> Result<()> {
        let dest = self.dir.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(host, &dest)
            .with_context(|| format!("copy {} to {}", host.display(), dest.display()))?;
        fs::set_permissions(&dest, fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    /// Writes a text file into the root.
    pub fn add_text(&self, rel: &str, text: &str, mode: u32) -> Result<()> {
        let dest = self.dir.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&dest, text).with_context(|| format!("write {}", dest.display()))?;
        fs::set_permissions(&dest, fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    /// `/bin/busybox` plus a `/bin/<applet>` symlink for each applet it has
    /// (never over an existing file: `/sbin/init` stays the probe).
    pub fn add_busybox(&self, busybox: &Path) -> Result<()> {
        self.add_file("bin/busybox", busybox, 0o755)?;
        let list = run_captured(Command::new(busybox).arg("--list")).context("busybox --list")?;
        let mut applets: Vec<&str> = list.lines().map(str::trim).collect();
        if !applets.contains(&"sh") {
            applets.push("sh");
        }
        for applet in applets {
            if applet.is_empty() || applet.contains('/') || applet == "busybox" {
                continue;
            }
            let link = self.dir.join("bin").join(applet);
            if link.symlink_metadata().is_err() && !self.dir.join("sbin").join(applet).exists() {
                symlink("busybox", &link).with_context(|| format!("symlink {}", link.display()))?;
            }
        }
        Ok(())
    }
}

/// SquashFS compressors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SquashComp {
    Xz,
    Zstd,
    Gzip,
}

impl SquashComp {
    fn name(self) -> &'static str {
        match self {
            SquashComp::Xz => "xz",
            SquashComp::Zstd => "zstd",
            SquashComp::Gzip => "gzip",
        }
    }
}

/// `mksquashfs src out -noappend -comp <comp> -all-root`.
pub fn mksquashfs(src: &Path, out: &Path, comp: SquashComp) -> Result<()> {
    let _ = fs::remove_file(out);
    run_captured(
        Command::new("mksquashfs")
            .arg(src)
            .arg(out)
            .args(["-noappend", "-no-progress", "-quiet", "-all-root", "-comp"])
            .arg(comp.name()),
    )?;
    Ok(())
}

/// `mkfs.erofs` of `src` into `out` (LZ4HC, every file owned by root).
pub fn mkfs_erofs(src: &Path, out: &Path) -> Result<()> {
    let _ = fs::remove_file(out);
    run_captured(
        Command::new("mkfs.erofs")
            .args(["--quiet", "--all-root", "-zlz4hc"])
            .arg(out)
            .arg(src),
    )?;
    Ok(())
}

/// An ext4 filesystem image of `size_mib` MiB at `out`, filled from the
/// directory `src` (`mkfs.ext4 -d`: no mount, no root needed), labelled
/// `label`. Inode tables and the journal are initialised now so the guest's
/// kernel does not write them in the background.
pub fn mkfs_ext4(src: &Path, out: &Path, size_mib: u32, label: Option<&str>) -> Result<Image> {
    let _ = fs::remove_file(out);
    let mut cmd = Command::new("mkfs.ext4");
    cmd.args(["-q", "-F", "-b", "4096", "-m", "0"]).args([
        "-E",
        "lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0",
    ]);
    if let Some(label) = label {
        cmd.arg("-L").arg(label);
    }
    cmd.arg("-d").arg(src).arg(out).arg(format!("{size_mib}M"));
    run_captured(&mut cmd)?;
    Image::probe(out)
}

/// A tree at `dir` (emptied first) holding copies of `files`
/// (`(path in the tree, host file)`), e.g. to feed [`mkfs_ext4`].
pub fn stage_tree(dir: &Path, files: &[(String, PathBuf)]) -> Result<()> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    for (rel, host) in files {
        let dest = dir.join(rel.trim_start_matches('/'));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(host, &dest)
            .with_context(|| format!("copy {} to {}", host.display(), dest.display()))?;
    }
    Ok(())
}

/// Where the single partition of [`mbr_disk`] starts (1 MiB, in sectors).
pub const PARTITION_START_SECTOR: u64 = 2048;
const SECTOR: u64 = 512;

/// A disk image with an MBR (DOS) partition table and one Linux partition
/// (type 83) at 1 MiB holding the filesystem image `part`: the table is
/// written by `sfdisk` on the image file and the filesystem by
/// `dd conv=notrunc` at the partition's offset.
pub fn mbr_disk(part: &Path, out: &Path) -> Result<Disk> {
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
    let script =
        format!("label: dos\nstart={PARTITION_START_SECTOR}, size={part_sectors}, type=83\n");
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
            .args(["bs=512", "conv=notrunc,fsync", "status=none"])
            .arg(format!("seek={PARTITION_START_SECTOR}")),
    )?;
    Ok(Disk {
        path: out.to_path_buf(),
        partitions: vec![Image::probe(part)?],
    })
}

/// Runs `cmd` with `input` on its stdin; fails with its output if it fails.
fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::process::Stdio;
    let what = crate::describe(cmd);
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

/// A partitioned disk image.
#[derive(Debug, Clone)]
pub struct Disk {
    pub path: PathBuf,
    /// The filesystems of its partitions, in order (label and UUID as blkid
    /// reports them on the partition's own image).
    pub partitions: Vec<Image>,
}

/// A finished medium image.
#[derive(Debug, Clone)]
pub struct Image {
    pub path: PathBuf,
    /// The label as blkid reports it.
    pub label: Option<String>,
    /// The UUID as blkid reports it (for an ISO: derived from its dates).
    pub uuid: Option<String>,
}

impl Image {
    /// Reads label and UUID back with blkid.
    pub fn probe(path: &Path) -> Result<Image> {
        Ok(Image {
            path: path.to_path_buf(),
            label: blkid_tag(path, "LABEL")?,
            uuid: blkid_tag(path, "UUID")?,
        })
    }
}

/// `blkid -p -o value -s <tag> <path>` (low-level probe, no cache).
pub fn blkid_tag(path: &Path, tag: &str) -> Result<Option<String>> {
    let out = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", tag])
        .arg(path)
        .output()
        .context("cannot run blkid")?;
    // blkid exits 2 when the tag is absent.
    let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match (out.status.code(), value.is_empty()) {
        (Some(0), false) => Ok(Some(value)),
        (Some(0) | Some(2), _) => Ok(None),
        _ => bail!(
            "blkid -p {}: {} {}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// An ISO 9660 image (Rock Ridge + Joliet) made by `xorriso -as mkisofs`,
/// with host files grafted at chosen paths (no tree is copied).
#[derive(Debug, Clone)]
pub struct IsoBuilder {
    label: String,
    files: Vec<(String, PathBuf)>,
}

impl IsoBuilder {
    /// `label` may contain spaces.
    pub fn new(label: &str) -> Self {
        IsoBuilder {
            label: label.to_string(),
            files: Vec::new(),
        }
    }

    /// Puts host file (or directory) `host` at `iso_path` (e.g. `LiveOS/squashfs.img`).
    pub fn file(mut self, iso_path: &str, host: &Path) -> Self {
        self.files.push((iso_path.to_string(), host.to_path_buf()));
        self
    }

    pub fn build(&self, out: &Path) -> Result<Image> {
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        let _ = fs::remove_file(out);
        let mut cmd = Command::new("xorriso");
        cmd.args(["-as", "mkisofs", "-quiet", "-J", "-R", "-V"])
            .arg(&self.label)
            .arg("-o")
            .arg(out)
            .arg("-graft-points");
        for (iso_path, host) in &self.files {
            let spec = format!(
                "/{}={}",
                graft_escape(iso_path.trim_start_matches('/')),
                graft_escape(&host.to_string_lossy())
            );
            cmd.arg(spec);
        }
        run_captured(&mut cmd)?;
        Image::probe(out)
    }
}

/// Escapes `\` and `=` for a mkisofs graft point.
fn graft_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('=', "\\=")
}

/// How the root filesystem sits on the medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `LiveOS/squashfs.img` is the root itself ("flattened" image: it has
    /// `/usr` at its top), so the init stacks overlayfs on it.
    FlatSquashfs,
    /// `LiveOS/squashfs.img` is a flattened root, but EROFS (dracut 103+).
    FlatErofs,
    /// The classic Fedora layout: `LiveOS/squashfs.img` (SquashFS) holds
    /// `LiveOS/rootfs.img`, an ext4 image of the root.
    NestedExt4,
    /// `LiveOS/rootfs.img`, an ext4 image of the root, uncompressed on the
    /// medium (livecd-iso-to-disk `--skipcompress`).
    UncompressedExt4,
    /// `LiveOS/rootfs.img` on the medium is itself a SquashFS of the root
    /// (dracut's TEST-30 layout).
    SquashfsRootfsImg,
    /// No `LiveOS` at all: only a `README.txt` and an empty `boot/` (for the
    /// "medium without live content" failure).
    NoLiveOs,
}

/// Size of the ext4 `rootfs.img` images: the probe root is < 1 MiB, the
/// rest is room for the journal and the write test.
pub const ROOTFS_IMG_MIB: u32 = 16;

impl Layout {
    /// A short name for file names.
    pub fn slug(self) -> &'static str {
        match self {
            Layout::FlatSquashfs => "flat-squashfs",
            Layout::FlatErofs => "flat-erofs",
            Layout::NestedExt4 => "nested-ext4",
            Layout::UncompressedExt4 => "uncompressed-ext4",
            Layout::SquashfsRootfsImg => "squashfs-rootfs-img",
            Layout::NoLiveOs => "no-liveos",
        }
    }
}

/// The files a layout puts on the medium, built once from a root and then
/// written onto any number of media (e.g. ISOs with different labels).
#[derive(Debug, Clone)]
pub struct LiveImages {
    pub layout: Layout,
    /// `(path on the medium, host file)`.
    pub files: Vec<(String, PathBuf)>,
}

impl LiveImages {
    /// Builds the images of `root` for `layout` in the scratch dir `work`
    /// (file names start with [`Layout::slug`], so layouts can share `work`).
    pub fn build(root: &LiveRoot, layout: Layout, work: &Path) -> Result<LiveImages> {
        fs::create_dir_all(work)?;
        let slug = layout.slug();
        let files = match layout {
            Layout::FlatSquashfs => {
                let img = work.join(format!("{slug}.squashfs.img"));
                mksquashfs(&root.dir, &img, SquashComp::Xz)?;
                vec![("LiveOS/squashfs.img".to_string(), img)]
            }
            Layout::FlatErofs => {
                let img = work.join(format!("{slug}.squashfs.img"));
                mkfs_erofs(&root.dir, &img)?;
                vec![("LiveOS/squashfs.img".to_string(), img)]
            }
            Layout::NestedExt4 => {
                let rootfs = work.join(format!("{slug}.rootfs.img"));
                mkfs_ext4(&root.dir, &rootfs, ROOTFS_IMG_MIB, Some("LiveOS_rootfs"))?;
                let tree = work.join(format!("{slug}.tree"));
                stage_tree(&tree, &[("LiveOS/rootfs.img".to_string(), rootfs)])?;
                let img = work.join(format!("{slug}.squashfs.img"));
                mksquashfs(&tree, &img, SquashComp::Zstd)?;
                let _ = fs::remove_dir_all(&tree);
                vec![("LiveOS/squashfs.img".to_string(), img)]
            }
            Layout::UncompressedExt4 => {
                let rootfs = work.join(format!("{slug}.rootfs.img"));
                mkfs_ext4(&root.dir, &rootfs, ROOTFS_IMG_MIB, Some("LiveOS_rootfs"))?;
                vec![("LiveOS/rootfs.img".to_string(), rootfs)]
            }
            Layout::SquashfsRootfsImg => {
                let img = work.join(format!("{slug}.rootfs.img"));
                mksquashfs(&root.dir, &img, SquashComp::Gzip)?;
                vec![("LiveOS/rootfs.img".to_string(), img)]
            }
            Layout::NoLiveOs => {
                let readme = work.join(format!("{slug}.README.txt"));
                fs::write(&readme, "This medium has no live root.\n")?;
                let boot = work.join(format!("{slug}.boot"));
                let _ = fs::remove_dir_all(&boot);
                fs::create_dir_all(&boot)?;
                vec![
                    ("README.txt".to_string(), readme),
                    ("boot".to_string(), boot),
                ]
            }
        };
        Ok(LiveImages { layout, files })
    }

    /// An ISO labelled `label` (spaces allowed) holding the images.
    pub fn iso(&self, label: &str, out: &Path) -> Result<Image> {
        self.files
            .iter()
            .fold(IsoBuilder::new(label), |b, (p, h)| b.file(p, h))
            .build(out)
    }

    /// An MBR-partitioned disk at `out` whose single partition is an ext4
    /// filesystem of `size_mib` MiB labelled `label` holding the images.
    pub fn ext4_partition_disk(&self, label: &str, size_mib: u32, out: &Path) -> Result<Disk> {
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
        mkfs_ext4(&tree, &part, size_mib, Some(label))?;
        let disk = mbr_disk(&part, out)?;
        let _ = fs::remove_dir_all(&tree);
        let _ = fs::remove_file(&part);
        Ok(disk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory under target/ for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = crate::out_dir().join("unit").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    // Needs the host tools `cargo xtask test` installs (e2fsprogs, fdisk).
    #[test]
    fn partitioned_disk_has_the_filesystem_at_the_partition_offset() {
        let dir = scratch("mbr");
        let payload = dir.join("payload");
        fs::write(&payload, b"not really a squashfs\n").unwrap();
        let images = LiveImages {
            layout: Layout::SquashfsRootfsImg,
            files: vec![("LiveOS/rootfs.img".into(), payload)],
        };
        let out = dir.join("disk.img");
        let disk = images.ext4_partition_disk("LIVEPART", 8, &out).unwrap();
        assert_eq!(disk.path, out);
        assert_eq!(disk.partitions.len(), 1);
        assert_eq!(disk.partitions[0].label.as_deref(), Some("LIVEPART"));
        // Only the disk is left behind.
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let mut left = left;
        left.sort();
        assert_eq!(left, ["disk.img", "payload"]);
        assert_eq!(fs::metadata(&out).unwrap().len(), (2 + 8) << 20);

        let dump = run_captured(Command::new("sfdisk").arg("--dump").arg(&out)).unwrap();
        assert!(dump.contains("label: dos"), "{dump}");
        let part = dump
            .lines()
            .find(|l| l.contains("start="))
            .unwrap_or_else(|| panic!("no partition in:\n{dump}"));
        let fields: Vec<String> = part
            .split(':')
            .nth(1)
            .unwrap()
            .split(',')
            .map(|f| f.split_whitespace().collect::<String>())
            .collect();
        assert!(fields.contains(&"start=2048".to_string()), "{part}");
        assert!(fields.contains(&"size=16384".to_string()), "{part}");
        assert!(fields.contains(&"type=83".to_string()), "{part}");

        // The ext4 superblock is where the partition starts.
        let probe = run_captured(
            Command::new("blkid")
                .args(["-p", "-o", "value", "-s", "LABEL", "-O"])
                .arg((PARTITION_START_SECTOR * SECTOR).to_string())
                .arg(&out),
        )
        .unwrap();
        assert_eq!(probe.trim(), "LIVEPART");
    }

    // Needs squashfs-tools, erofs-utils and e2fsprogs.
    #[test]
    fn layouts_put_the_right_filesystems_at_the_right_paths() {
        let dir = scratch("layouts");
        let probe = dir.join("fake-probe");
        fs::write(&probe, b"#!/bin/true\n").unwrap();
        let root = LiveRoot::create(&dir.join("root"), &LiveRootSpec::probe(&probe)).unwrap();
        let fs_type = |p: &Path| blkid_tag(p, "TYPE").unwrap();
        for (layout, path, ty) in [
            (Layout::FlatSquashfs, "LiveOS/squashfs.img", "squashfs"),
            (Layout::FlatErofs, "LiveOS/squashfs.img", "erofs"),
            (Layout::NestedExt4, "LiveOS/squashfs.img", "squashfs"),
            (Layout::UncompressedExt4, "LiveOS/rootfs.img", "ext4"),
            (Layout::SquashfsRootfsImg, "LiveOS/rootfs.img", "squashfs"),
        ] {
            let images = LiveImages::build(&root, layout, &dir).unwrap();
            assert_eq!(images.files.len(), 1, "{layout:?}");
            let (p, host) = &images.files[0];
            assert_eq!(p, path, "{layout:?}");
            assert_eq!(fs_type(host).as_deref(), Some(ty), "{layout:?}");
            // Raw disks are these images: whole sectors.
            assert_eq!(fs::metadata(host).unwrap().len() % 512, 0, "{layout:?}");
        }
        let none = LiveImages::build(&root, Layout::NoLiveOs, &dir).unwrap();
        assert!(none.files.iter().all(|(p, _)| !p.starts_with("LiveOS")));
    }
}
