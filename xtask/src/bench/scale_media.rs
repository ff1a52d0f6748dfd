//! The scale experiments' machines: a disk holding a small or a 4 GiB
//! (sparse) `rootfs.img`, and the medium alone or behind 31 decoy disks,
//! each with a GPT and three partitions.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use qemu_tests::media::{mkfs_ext4, Layout, LiveImages, LiveRoot};
use qemu_tests::qemu::Drive;

use super::floor::{FloorRecipe, FloorRoot};
use super::gpt_disk::{self, Content, Partition};
use super::scale::Variant;

/// The medium's filesystem label in both experiments.
pub const LABEL: &str = "LIVEINIT_SCALE";
pub const DISKS: usize = 32;
const SMALL_ROOTFS_MIB: u32 = 16;
const BIG_ROOTFS_MIB: u32 = 4096;
/// Room around the rootfs.img in its partition (ext4 metadata, journal).
const PARTITION_SLACK_MIB: u64 = 128;
/// What the floor loads for a medium on an ext4 partition of a virtio disk.
const FLOOR_VIRTIO: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "crc32c_generic",
    "ext4",
    "squashfs",
    "loop",
    "overlay",
];
/// The first PCI slot the disks use; 8 functions each.
const FIRST_SLOT: usize = 0x10;

/// A virtio disk whose only partition holds an uncompressed ext4
/// `LiveOS/rootfs.img` of `rootfs_mib` (sparse).
fn image_disk(root: &LiveRoot, dir: &Path, rootfs_mib: u32) -> Result<PathBuf> {
    let tree = dir.join(format!("tree-{rootfs_mib}m"));
    let _ = fs::remove_dir_all(&tree);
    fs::create_dir_all(tree.join("LiveOS"))?;
    // Made in place: copying would fill the holes.
    mkfs_ext4(
        &root.dir,
        &tree.join("LiveOS/rootfs.img"),
        rootfs_mib,
        Some("LiveOS_rootfs"),
    )?;
    let disk = dir.join(format!("rootfs-{rootfs_mib}m.disk"));
    gpt_disk::build(
        &disk,
        &[Partition {
            name: "live".into(),
            size_mib: u64::from(rootfs_mib) + PARTITION_SLACK_MIB,
            content: Content::Ext4 {
                label: LABEL.into(),
                tree: Some(tree.clone()),
            },
        }],
    )?;
    let _ = fs::remove_dir_all(&tree);
    Ok(disk)
}

pub fn image_variants(root: &LiveRoot, dir: &Path) -> Result<[Variant; 2]> {
    let variant = |mib: u32, label: &str| -> Result<Variant> {
        Ok(Variant {
            label: label.into(),
            drives: vec![Drive::VirtioDisk {
                path: image_disk(root, dir, mib)?,
                readonly: true,
            }],
            extra_args: Vec::new(),
            device: "vda".into(),
            floor: None,
        })
    };
    Ok([
        variant(SMALL_ROOTFS_MIB, "16 MiB rootfs.img")?,
        variant(BIG_ROOTFS_MIB, "4 GiB rootfs.img")?,
    ])
}

/// The medium disk: a FAT "ESP", an empty partition, the live partition
/// (flattened squashfs) last.
fn medium_disk(root: &LiveRoot, dir: &Path) -> Result<PathBuf> {
    let images = LiveImages::build(root, Layout::FlatSquashfs, dir)?;
    let tree = dir.join("medium-tree");
    qemu_tests::media::stage_tree(&tree, &images.files)?;
    let disk = dir.join("medium.disk");
    gpt_disk::build(
        &disk,
        &[
            Partition {
                name: "esp".into(),
                size_mib: 16,
                content: Content::Vfat {
                    label: "ESP".into(),
                },
            },
            Partition {
                name: "spare".into(),
                size_mib: 8,
                content: Content::Empty,
            },
            Partition {
                name: "live".into(),
                size_mib: 16,
                content: Content::Ext4 {
                    label: LABEL.into(),
                    tree: Some(tree.clone()),
                },
            },
        ],
    )?;
    let _ = fs::remove_dir_all(&tree);
    Ok(disk)
}

/// A disk that is not the medium: FAT, ext4 and empty partitions with
/// labels of their own.
fn decoy_disk(dir: &Path, n: usize) -> Result<PathBuf> {
    let disk = dir.join(format!("decoy-{n:02}.disk"));
    gpt_disk::build(
        &disk,
        &[
            Partition {
                name: format!("decoy{n:02}-fat"),
                size_mib: 16,
                content: Content::Vfat {
                    label: format!("DECOY{n:02}"),
                },
            },
            Partition {
                name: format!("decoy{n:02}-data"),
                size_mib: 16,
                content: Content::Ext4 {
                    label: format!("decoy{n:02}-data"),
                    tree: None,
                },
            },
            Partition {
                name: format!("decoy{n:02}-empty"),
                size_mib: 8,
                content: Content::Empty,
            },
        ],
    )?;
    Ok(disk)
}

pub fn disk_variants(root: &LiveRoot, dir: &Path) -> Result<[Variant; 2]> {
    let medium = medium_disk(root, dir)?;
    let mut many: Vec<PathBuf> = (1..DISKS)
        .map(|n| decoy_disk(dir, n))
        .collect::<Result<_>>()?;
    many.push(medium.clone());
    let last = many.len() - 1;
    // The medium's ext4 is the third partition.
    let floor = |device: String| FloorRecipe {
        modules: FLOOR_VIRTIO,
        device,
        fstype: "ext4",
        root: FloorRoot::FlatSquashfs,
    };
    Ok([
        Variant {
            label: "1 disk".into(),
            drives: Vec::new(),
            extra_args: virtio_disks_args(std::slice::from_ref(&medium)),
            device: "vda".into(),
            floor: Some(floor("/dev/vda3".into())),
        },
        Variant {
            label: format!("{DISKS} disks"),
            drives: Vec::new(),
            extra_args: virtio_disks_args(&many),
            // Named in probe order: the last disk.
            device: disk_name(last),
            floor: Some(floor(format!("/dev/{}3", disk_name(last)))),
        },
    ])
}

/// QEMU arguments for read-only virtio disks packed 8 to a PCI slot
/// (multifunction) from [`FIRST_SLOT`], in this order.
fn virtio_disks_args(disks: &[PathBuf]) -> Vec<String> {
    let mut args = Vec::new();
    for (i, disk) in disks.iter().enumerate() {
        let (slot, function) = (FIRST_SLOT + i / 8, i % 8);
        let path = disk.to_string_lossy().replace(',', ",,");
        args.push("-drive".into());
        args.push(format!(
            "file={path},format=raw,if=none,id=benchdisk{i},readonly=on"
        ));
        let multifunction = if function == 0 {
            ",multifunction=on"
        } else {
            ""
        };
        args.push("-device".into());
        args.push(format!(
            "virtio-blk-pci,drive=benchdisk{i},addr={slot:#x}.{function}{multifunction}"
        ));
    }
    args
}

/// The kernel's name of the `i`-th virtio disk: vda … vdz, vdaa …
fn disk_name(i: usize) -> String {
    const LETTERS: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    let letter = |n: usize| char::from(LETTERS[n % 26]);
    if i < 26 {
        format!("vd{}", letter(i))
    } else {
        format!("vd{}{}", letter(i / 26 - 1), letter(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtio_disk_names() {
        assert_eq!(disk_name(0), "vda");
        assert_eq!(disk_name(25), "vdz");
        assert_eq!(disk_name(26), "vdaa");
        assert_eq!(disk_name(31), "vdaf");
    }

    #[test]
    fn disks_fill_slots_eight_functions_each() {
        let disks: Vec<PathBuf> = (0..9).map(|i| PathBuf::from(format!("/d{i}"))).collect();
        let args = virtio_disks_args(&disks);
        assert_eq!(args.len(), 9 * 4);
        assert_eq!(
            args[3],
            "virtio-blk-pci,drive=benchdisk0,addr=0x10.0,multifunction=on"
        );
        assert_eq!(args[7], "virtio-blk-pci,drive=benchdisk1,addr=0x10.1");
        assert_eq!(
            args[35],
            "virtio-blk-pci,drive=benchdisk8,addr=0x11.0,multifunction=on"
        );
    }
}
