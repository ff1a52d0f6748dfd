//! Live media for the boot tests: a tiny live root (the probe as
//! `/sbin/init`), packed into a SquashFS image, put on an ISO.
//!
//! The pieces compose: [`LiveRoot`] → [`mksquashfs`] → [`IsoBuilder`], and
//! [`LiveImages`] strings them together for a [`Layout`]. New layouts (ext4
//! partitions, raw squashfs disks, `rootfs.img` inside the squashfs, EROFS…)
//! are new `Layout` variants and builders next to `IsoBuilder`.

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
    /// Builds the images of `root` for `layout` in the scratch dir `work`.
    pub fn build(root: &LiveRoot, layout: Layout, work: &Path) -> Result<LiveImages> {
        fs::create_dir_all(work)?;
        let files = match layout {
            Layout::FlatSquashfs => {
                let img = work.join("squashfs.img");
                mksquashfs(&root.dir, &img, SquashComp::Xz)?;
                vec![("LiveOS/squashfs.img".to_string(), img)]
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
}
