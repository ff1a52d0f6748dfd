//! Live media for the boot tests: a tiny live root (the probe as
//! `/sbin/init`), packed into images (SquashFS, EROFS, ext4), put on a
//! medium (an ISO, an MBR-partitioned disk with an ext4, FAT32 or F2FS
//! partition, or a raw disk that is the image itself).
//!
//! The pieces compose: [`LiveRoot`] → [`mksquashfs`] / [`mkfs_erofs`] /
//! [`mkfs_ext4`] → [`IsoBuilder`] / [`mbr_disk`], and [`LiveImages`] strings
//! them together for a [`Layout`]. Everything is built from plain files: no
//! loop devices, no mounts, no root privileges.

mod partition;
mod persist_disk;

pub use partition::{mbr_disk, mkfs_f2fs, mkfs_vfat, Disk, PartitionFs, PARTITION_START_SECTOR};
pub use persist_disk::{ext4_disk, fat_disk, fat_put, zero_file};

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

    /// A copy of this root at `dir` (replaced if it exists) without the
    /// directories `remove` (e.g. an embedded root with no `/usr`).
    pub fn copy_without(&self, dir: &Path, remove: &[&str]) -> Result<LiveRoot> {
        let _ = fs::remove_dir_all(dir);
        run_captured(Command::new("cp").arg("-a").arg(&self.dir).arg(dir))?;
        for rel in remove {
            fs::remove_dir_all(dir.join(rel)).with_context(|| format!("remove {rel}"))?;
        }
        Ok(LiveRoot {
            dir: dir.to_path_buf(),
        })
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

const SECTOR: u64 = 512;

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
    /// Filesystem images appended as MBR partitions 2, 3…
    appended: Vec<PathBuf>,
}

impl IsoBuilder {
    /// `label` may contain spaces.
    pub fn new(label: &str) -> Self {
        IsoBuilder {
            label: label.to_string(),
            files: Vec::new(),
            appended: Vec::new(),
        }
    }

    /// Appends the filesystem image `host` behind the ISO as the next MBR
    /// partition (Linux type) after the one xorriso then makes for the ISO
    /// itself, as on a hybrid ISO written to a stick.
    pub fn append_partition(mut self, host: &Path) -> Self {
        self.appended.push(host.to_path_buf());
        self
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
        for (n, host) in self.appended.iter().enumerate() {
            cmd.args(["-append_partition", &(n + 2).to_string(), "0x83"])
                .arg(host);
        }
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
        Self::build_sized(root, layout, work, ROOTFS_IMG_MIB)
    }

    /// Like [`LiveImages::build`], with ext4 `rootfs.img` images of
    /// `rootfs_mib` MiB (e.g. room to fill a small snapshot COW). File names
    /// get `-<n>m` after the slug when that is not [`ROOTFS_IMG_MIB`].
    pub fn build_sized(
        root: &LiveRoot,
        layout: Layout,
        work: &Path,
        rootfs_mib: u32,
    ) -> Result<LiveImages> {
        fs::create_dir_all(work)?;
        let slug = if rootfs_mib == ROOTFS_IMG_MIB {
            layout.slug().to_string()
        } else {
            format!("{}-{rootfs_mib}m", layout.slug())
        };
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
                mkfs_ext4(&root.dir, &rootfs, rootfs_mib, Some("LiveOS_rootfs"))?;
                let tree = work.join(format!("{slug}.tree"));
                stage_tree(&tree, &[("LiveOS/rootfs.img".to_string(), rootfs)])?;
                let img = work.join(format!("{slug}.squashfs.img"));
                mksquashfs(&tree, &img, SquashComp::Zstd)?;
                let _ = fs::remove_dir_all(&tree);
                vec![("LiveOS/squashfs.img".to_string(), img)]
            }
            Layout::UncompressedExt4 => {
                let rootfs = work.join(format!("{slug}.rootfs.img"));
                mkfs_ext4(&root.dir, &rootfs, rootfs_mib, Some("LiveOS_rootfs"))?;
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

    /// [`LiveImages::iso`] with `padding_mib` MiB of incompressible filler
    /// (`padding.bin`) and isomd5sum's MD5 implanted. The filler is there
    /// because `implantisomd5` writes broken fragment sums for an ISO whose
    /// parts are smaller than its 32 KiB reads (about 700 KiB in all), and
    /// so the check reads several times and reports its progress.
    pub fn checked_iso(&self, label: &str, padding_mib: usize, out: &Path) -> Result<Image> {
        let padding = out.with_extension("padding.bin");
        fs::write(&padding, Junk::new(0x6d64_3573).bytes(padding_mib << 20))?;
        self.files
            .iter()
            .fold(IsoBuilder::new(label), |b, (p, h)| b.file(p, h))
            .file("padding.bin", &padding)
            .build(out)?;
        implant_md5(out)?;
        Image::probe(out)
    }
}

/// Implants isomd5sum's MD5 checksum into the ISO `iso` (in place), as
/// Fedora's and RHEL's release ISOs carry it for `rd.live.check`.
pub fn implant_md5(iso: &Path) -> Result<()> {
    run_captured(Command::new("implantisomd5").arg("--force").arg(iso)).map(drop)
}

/// How [`damaged_copy`] damages an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The first `bytes` bytes (the superblock and what follows it)
    /// overwritten with pseudo-random garbage; the size stays.
    GarbageHead { bytes: usize },
    /// Cut to `percent` % of its size (rounded down to whole sectors).
    Truncate { percent: u64 },
    /// One bit flipped in the byte at `percent` % of the size.
    FlipByte { percent: u64 },
}

/// Copies the image `src` to `out` and damages the copy.
pub fn damaged_copy(src: &Path, out: &Path, damage: Damage) -> Result<()> {
    let mut bytes = fs::read(src).with_context(|| format!("read {}", src.display()))?;
    match damage {
        Damage::GarbageHead { bytes: n } => {
            let n = n.min(bytes.len());
            let garbage = Junk::new(0x5eed_0bad).bytes(n);
            bytes[..n].copy_from_slice(&garbage);
        }
        Damage::Truncate { percent } => {
            let keep = (bytes.len() as u64 * percent.min(100) / 100) / SECTOR * SECTOR;
            // At most the length, so it fits.
            bytes.truncate(usize::try_from(keep)?);
        }
        Damage::FlipByte { percent } => {
            let at = usize::try_from(bytes.len() as u64 * percent.min(99) / 100)?;
            bytes[at] ^= 1;
        }
    }
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(out, &bytes).with_context(|| format!("write {}", out.display()))
}

/// A deterministic pseudo-random generator (xorshift64*) for test junk.
#[derive(Debug, Clone)]
pub struct Junk(u64);

impl Junk {
    pub fn new(seed: u64) -> Junk {
        Junk(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let below_n = self.next_u64() % n as u64;
        usize::try_from(below_n).expect("a remainder below a usize fits in one")
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        // The low byte of each number.
        (0..n).map(|_| self.next_u64().to_le_bytes()[0]).collect()
    }

    /// `n` printable ASCII characters, never a space or `"`.
    fn word_chars(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| loop {
                let offset = u8::try_from(self.below(94)).expect("below 94 fits in a byte");
                let c = char::from(b'!' + offset);
                if c != '"' {
                    break c;
                }
            })
            .collect()
    }
}

/// Where command-line junk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JunkStyle {
    /// The kernel command line: printable ASCII words separated by single
    /// spaces, each `junk<N>.<chars>[=<chars>]`. The dot before any `=`
    /// makes the kernel take the word for an unknown module parameter and
    /// drop it; a word without one would go to init's argv or environment,
    /// and past 32 of those the kernel panics ("Too many boot … vars").
    Kernel,
    /// A `cmdline.d/*.conf` file read by the init only: bare words,
    /// `key=value`, empty keys and values, `==`, backslashes, balanced
    /// double quotes around spaces, tabs, CR/LF and bytes that are not
    /// UTF-8. Every key starts with `junk`, so none is a real option, and
    /// there is never a bare `--` (which would hand the rest to the real
    /// init).
    Conf,
}

/// The 4 KiB of junk packed as [`crate::CMDLINE_JUNK_CONF`] in the junk
/// initramfs (the init reads it before `/proc/cmdline`).
pub fn cmdline_junk_conf() -> Vec<u8> {
    cmdline_junk(4096, 0x6a75_6e6b, JunkStyle::Conf)
}

/// About `len` bytes (never more) of deterministic command-line junk.
pub fn cmdline_junk(len: usize, seed: u64, style: JunkStyle) -> Vec<u8> {
    let mut rng = Junk::new(seed);
    let mut out: Vec<u8> = Vec::with_capacity(len);
    for n in 0.. {
        let chars = 3 + rng.below(28);
        let word: Vec<u8> = match style {
            JunkStyle::Kernel => {
                let mut w = format!("junk{n}.{}", rng.word_chars(chars).replace('=', "_"));
                if rng.below(3) > 0 {
                    w.push('=');
                    w.push_str(&rng.word_chars(chars));
                }
                w.into_bytes()
            }
            JunkStyle::Conf => match rng.below(9) {
                0 => format!("junk{n}").into_bytes(),
                1 => format!("junk{n}={}", rng.word_chars(chars)).into_bytes(),
                2 => format!("junk{n}.x{}=", rng.word_chars(4).replace('=', "_")).into_bytes(),
                3 => format!("\"junk{n}=a b\t{} c\"", rng.word_chars(chars)).into_bytes(),
                4 => format!("junk{n}=\"quoted {} value\"", rng.word_chars(chars)).into_bytes(),
                5 => format!("={}", rng.word_chars(chars)).into_bytes(),
                6 => format!("junk{n}=={}\\x20\\", rng.word_chars(chars)).into_bytes(),
                7 => {
                    let mut w = format!("junk{n}=").into_bytes();
                    w.extend_from_slice(&[0xff, 0xfe, b'x', 0xc3, 0x28, 0x7f, 0x01]);
                    w
                }
                _ => format!("junk{n}=ünï-cödé-{}", rng.word_chars(chars)).into_bytes(),
            },
        };
        let sep: &[u8] = match style {
            JunkStyle::Kernel => b" ",
            JunkStyle::Conf => [&b" "[..], b"  ", b"\t", b"\n", b"\r\n", b" \n\n"][rng.below(6)],
        };
        if out.len() + sep.len() + word.len() > len {
            break;
        }
        if !out.is_empty() {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(&word);
    }
    out
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

    #[test]
    fn kernel_junk_is_dropped_by_the_kernel_and_fits() {
        let junk = cmdline_junk(1900, 7, JunkStyle::Kernel);
        assert!(junk.len() <= 1900 && junk.len() > 1800, "{}", junk.len());
        assert_eq!(junk, cmdline_junk(1900, 7, JunkStyle::Kernel));
        let text = String::from_utf8(junk).unwrap();
        assert!(text.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        assert!(!text.contains('"') && !text.contains("  "));
        for word in text.split(' ') {
            let name = word.split('=').next().unwrap();
            assert!(name.starts_with("junk") && name.contains('.'), "{word}");
        }
    }

    #[test]
    fn conf_junk_is_nasty_but_balanced() {
        let junk = cmdline_junk(4096, 11, JunkStyle::Conf);
        assert!(junk.len() <= 4096 && junk.len() > 3900, "{}", junk.len());
        assert!(
            String::from_utf8(junk.clone()).is_err(),
            "has no invalid UTF-8"
        );
        for needle in [&b"\t"[..], b"\n", b"\\", b"==", b"\""] {
            assert!(
                junk.windows(needle.len()).any(|w| w == needle),
                "{needle:?}"
            );
        }
        assert_eq!(junk.iter().filter(|&&b| b == b'"').count() % 2, 0);
        let text = String::from_utf8_lossy(&junk);
        assert!(text.split_whitespace().all(|w| w != "--"));
    }

    #[test]
    fn damaged_copies() {
        let dir = scratch("damage");
        let src = dir.join("src");
        fs::write(&src, vec![0u8; 10_000]).unwrap();
        let out = dir.join("out");
        damaged_copy(&src, &out, Damage::GarbageHead { bytes: 4096 }).unwrap();
        let d = fs::read(&out).unwrap();
        assert_eq!(d.len(), 10_000);
        assert!(d[..4096].iter().filter(|&&b| b != 0).count() > 4000);
        assert!(d[4096..].iter().all(|&b| b == 0));
        damaged_copy(&src, &out, Damage::Truncate { percent: 40 }).unwrap();
        assert_eq!(fs::metadata(&out).unwrap().len(), 3584);
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
