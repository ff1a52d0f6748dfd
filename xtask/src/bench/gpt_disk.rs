//! Sparse GPT disk images with several partitions, for the scale cases:
//! the table is written by `sfdisk` and each filesystem by its mkfs straight
//! into the image at the partition's offset, so a 4 GiB partition holding
//! a 4 GiB sparse file costs a few MiB on the host.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use qemu_tests::run_captured;

const MIB: u64 = 1 << 20;
const SECTOR: u64 = 512;
/// The first partition starts here, and this much is left at the end for
/// the backup table.
const MARGIN_MIB: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// ext4 labelled so, filled from a directory if given.
    Ext4 {
        label: String,
        tree: Option<PathBuf>,
    },
    Vfat {
        label: String,
    },
    /// No filesystem: zeros.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The GPT partition name (PARTLABEL).
    pub name: String,
    pub size_mib: u64,
    pub content: Content,
}

/// Writes a sparse disk image at `out` with `partitions`, in order, back to
/// back from 1 MiB.
pub fn build(out: &Path, partitions: &[Partition]) -> Result<()> {
    let total_mib = 2 * MARGIN_MIB + partitions.iter().map(|p| p.size_mib).sum::<u64>();
    let _ = fs::remove_file(out);
    let file = fs::File::create(out).with_context(|| format!("create {}", out.display()))?;
    file.set_len(total_mib * MIB)?;
    drop(file);
    let mut table = String::from("label: gpt\n");
    let mut start_mib = MARGIN_MIB;
    for p in partitions {
        let kind = if matches!(p.content, Content::Vfat { .. }) {
            "U"
        } else {
            "L"
        };
        table.push_str(&format!(
            "start={}, size={}, type={kind}, name=\"{}\"\n",
            start_mib * MIB / SECTOR,
            p.size_mib * MIB / SECTOR,
            p.name
        ));
        start_mib += p.size_mib;
    }
    sfdisk(out, &table)?;
    let mut start_mib = MARGIN_MIB;
    for p in partitions {
        format(out, start_mib * MIB, p)
            .with_context(|| format!("partition {} of {}", p.name, out.display()))?;
        start_mib += p.size_mib;
    }
    Ok(())
}

fn format(disk: &Path, offset: u64, p: &Partition) -> Result<()> {
    match &p.content {
        Content::Empty => Ok(()),
        Content::Ext4 { label, tree } => {
            let mut cmd = Command::new("mkfs.ext4");
            cmd.args(["-q", "-F", "-b", "4096", "-m", "0", "-L", label])
                .arg("-E")
                .arg(format!(
                    "offset={offset},lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0"
                ));
            if let Some(tree) = tree {
                cmd.arg("-d").arg(tree);
            }
            cmd.arg(disk).arg(format!("{}M", p.size_mib));
            run_captured(&mut cmd).map(drop)
        }
        Content::Vfat { label } => run_captured(
            Command::new("mkfs.vfat")
                .arg(format!("--offset={}", offset / SECTOR))
                .args(["-n", label])
                .arg(disk)
                .arg((p.size_mib * 1024).to_string()),
        )
        .map(drop),
    }
}

fn sfdisk(disk: &Path, script: &str) -> Result<()> {
    use std::io::Write as _;
    let mut child = Command::new("sfdisk")
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(disk)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run sfdisk")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "sfdisk {} failed:\n{}{}",
            disk.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qemu_tests::media::blkid_tag;

    // Needs sfdisk, mkfs.ext4 and mkfs.vfat (installed by `cargo xtask test`).
    #[test]
    fn filesystems_sit_at_their_partitions() {
        let dir = qemu_tests::out_dir().join("unit").join("bench-gpt");
        fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("disk.img");
        let parts = [
            Partition {
                name: "esp".into(),
                size_mib: 8,
                content: Content::Vfat {
                    label: "BENCHFAT".into(),
                },
            },
            Partition {
                name: "gap".into(),
                size_mib: 2,
                content: Content::Empty,
            },
            Partition {
                name: "data".into(),
                size_mib: 8,
                content: Content::Ext4 {
                    label: "BENCHEXT".into(),
                    tree: None,
                },
            },
        ];
        build(&disk, &parts).unwrap();
        assert_eq!(fs::metadata(&disk).unwrap().len(), 20 * MIB);
        let label_at = |offset: u64| {
            let out = run_captured(
                Command::new("blkid")
                    .args(["-p", "-o", "value", "-s", "LABEL", "-O"])
                    .arg(offset.to_string())
                    .arg(&disk),
            )
            .unwrap();
            out.trim().to_string()
        };
        assert_eq!(label_at(MIB), "BENCHFAT");
        assert_eq!(label_at(11 * MIB), "BENCHEXT");
        assert_eq!(blkid_tag(&disk, "PTTYPE").unwrap().as_deref(), Some("gpt"));
    }
}
