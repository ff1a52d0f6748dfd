//! Ubuntu casper replica media (distro-live-spec §5.2) and the state
//! casper leaves for the real root (§2.5, §2.8), for the boot tests of
//! `tests/distro.rs` and `tests/distro_casper.rs`. The images to stack
//! are the caller's (a base, the probe), so each test file keeps its own
//! media directory.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::harness::Probed;
use crate::media::{mksquashfs, Disk, Image, Layout, LiveImages, PartitionFs, SquashComp};

/// The layered replica's volume id (casper never looks at it).
pub const ISO_LABEL: &str = "Ubuntu 24.04 LTS amd64";
/// What the layered replica's `.disk/casper-uuid-generic` holds (`uuid=`).
pub const CASPER_UUID: &str = "5b3e0a6c-91d2-4f7e-8a35-0c1d2e3f4a5b";

/// A tiny squashfs in `dir` with one marker file, `/etc/<name>`: a
/// middle layer or a decoy.
pub fn marker_image(dir: &Path, name: &str) -> Result<PathBuf> {
    let tree = dir.join(format!("{name}-tree"));
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::create_dir_all(tree.join("etc"))?;
    std::fs::write(tree.join("etc").join(name), name)?;
    let out = dir.join(format!("{name}.squashfs"));
    mksquashfs(&tree, &out, SquashComp::Gzip)?;
    Ok(out)
}

/// A 24.04-style layered ISO `dir/<file>`: `casper/minimal` (`base`),
/// `minimal.standard` (a marker; left out when `complete` is false),
/// `minimal.standard.live` (`probe`), decoys that must not be stacked
/// (a language layer, a `.live.fr` one, dead like `base`), and `.disk/`
/// with `info` and `casper-uuid-generic` ([`CASPER_UUID`]).
pub fn layered_iso(
    dir: &Path,
    base: &Path,
    probe: &Path,
    complete: bool,
    file: &str,
) -> Result<Image> {
    std::fs::create_dir_all(dir)?;
    let info = dir.join("disk-info");
    std::fs::write(
        &info,
        "Ubuntu 24.04 LTS \"Noble Numbat\" - Release amd64 (20240424)\n",
    )?;
    let uuid = dir.join("casper-uuid-generic");
    std::fs::write(&uuid, format!("{CASPER_UUID}\n"))?;
    let mut files = vec![
        ("casper/minimal.squashfs".to_string(), base.to_path_buf()),
        (
            "casper/minimal.standard.live.squashfs".to_string(),
            probe.to_path_buf(),
        ),
        (
            "casper/minimal.en.squashfs".to_string(),
            marker_image(dir, "decoy-en")?,
        ),
        (
            "casper/minimal.standard.live.fr.squashfs".to_string(),
            base.to_path_buf(),
        ),
        (".disk/info".to_string(), info),
        (".disk/casper-uuid-generic".to_string(), uuid),
    ];
    if complete {
        files.push((
            "casper/minimal.standard.squashfs".to_string(),
            marker_image(dir, "standard")?,
        ));
    }
    LiveImages {
        layout: Layout::FlatSquashfs,
        files,
    }
    .iso(ISO_LABEL, &dir.join(file))
}

/// The layers of [`layered_iso`]'s chain, base first.
pub const LAYERED_CHAIN: [&str; 3] = [
    "minimal.squashfs",
    "minimal.standard.squashfs",
    "minimal.standard.live.squashfs",
];

/// casper's own test layout (debian/tests/prep-image): an MBR disk
/// `dir/casper-flat-disk.img` whose ext4 partition `rootfs` holds
/// `casper/0_root.squashfs` (`base`) and `casper/1_overlay.squashfs`
/// (`probe`).
pub fn flat_disk(dir: &Path, base: &Path, probe: &Path, part_mib: u32) -> Result<Disk> {
    LiveImages {
        layout: Layout::FlatSquashfs,
        files: vec![
            ("casper/0_root.squashfs".to_string(), base.to_path_buf()),
            ("casper/1_overlay.squashfs".to_string(), probe.to_path_buf()),
        ],
    }
    .partition_disk(
        PartitionFs::Ext4,
        "rootfs",
        part_mib,
        &dir.join("casper-flat-disk.img"),
    )
}

/// casper's state (distro-live-spec §2.5, §2.8): `/cdrom` (`medium_fs`,
/// read-only) and `/rofs` in the root, the root an overlay named `/cow`
/// over `lower` (base first), each layer a loop on `/cdrom/casper/`.
pub fn check_state(b: &Probed, medium_fs: &str, lower: &[&str]) {
    let r = &b.report;
    let cdrom = r.mount_at("/cdrom");
    b.check(
        cdrom.is_some_and(|m| m.fstype == medium_fs && m.has_option("ro")),
        &format!("/cdrom is not the {medium_fs} medium, read-only: {cdrom:?}"),
    );
    let rofs = r.mount_at("/rofs");
    let base_backing = format!(
        "/cdrom/casper/{}",
        lower.first().copied().unwrap_or_default()
    );
    b.check(
        rofs.is_some_and(|m| m.fstype == "squashfs")
            && r.loops.iter().any(|l| l.backing == base_backing),
        &format!("/rofs is not the base layer {base_backing}: {rofs:?}"),
    );
    let want: Vec<String> = lower.iter().rev().map(|i| format!("/{i}")).collect();
    let want = want.join(":");
    let root = r.root_mount();
    b.check(
        root.is_some_and(|m| {
            m.fstype == "overlay"
                && m.source == "/cow"
                && m.super_option("lowerdir") == Some(want.as_str())
                && m.super_option("upperdir") == Some("/cow/upper")
        }),
        &format!("/ is not casper's /cow overlay over {want}: {root:?}"),
    );
    let layer_loops = r
        .loops
        .iter()
        .filter(|l| l.backing.starts_with("/cdrom/casper/"))
        .count();
    b.check(
        layer_loops == lower.len(),
        &format!(
            "{layer_loops} loop devices on /cdrom/casper/ for {} layers: {:?}",
            lower.len(),
            r.loops
        ),
    );
    b.check(r.root_write == Some(Ok(())), "/ is not writable");
    b.check(
        r.mount_at("/run/live/medium").is_none() && r.mount_at("/run/initramfs/live").is_none(),
        "another grammar's medium mount in casper mode",
    );
}
