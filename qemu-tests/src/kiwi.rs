//! openSUSE kiwi replicas (distro-live-spec §5.4): an ISO with kiwi's
//! volume id `CDROM` holding `LiveOS/squashfs.img`, and the same ISO as a
//! hybrid image written to a stick with a `cow` partition behind it, the
//! one kiwi's persistent mode makes; and what kiwi mode leaves (§4.2).

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::harness::Probed;
use crate::media::{mkfs_ext4, Image, Layout, LiveImages, LiveRoot};

/// kiwi's default volume id.
pub const KIWI_LABEL: &str = "CDROM";

/// The files of `root` in `layout` for a kiwi medium at `out` (scratch
/// files in `<out>.d`).
pub fn kiwi_images(root: &LiveRoot, layout: Layout, out: &Path) -> Result<LiveImages> {
    let work = out.with_extension("d");
    fs::create_dir_all(&work)?;
    LiveImages::build(root, layout, &work)
}

/// kiwi's ISO of `root` in `layout`.
pub fn kiwi_iso(root: &LiveRoot, layout: Layout, out: &Path) -> Result<Image> {
    kiwi_images(root, layout, out)?.iso(KIWI_LABEL, out)
}

/// The ISO of `images` written to a stick: ISO 9660 on the whole disk and
/// its first MBR partition, then, with `cow_mib`, an empty ext4 partition
/// of that size labelled `cow` (made here by the host, as kiwi would make
/// it on the stick at its first boot).
pub fn kiwi_stick(images: &LiveImages, cow_mib: Option<u32>, out: &Path) -> Result<Image> {
    let iso = images
        .files
        .iter()
        .fold(crate::media::IsoBuilder::new(KIWI_LABEL), |b, (p, h)| {
            b.file(p, h)
        });
    let Some(mib) = cow_mib else {
        return iso.build(out);
    };
    let empty = out.with_extension("cow.tree");
    let _ = fs::remove_dir_all(&empty);
    fs::create_dir_all(&empty)?;
    let cow = out.with_extension("cow.img");
    mkfs_ext4(&empty, &cow, mib, Some("cow"))?;
    let stick = iso.append_partition(&cow).build(out);
    let _ = fs::remove_file(&cow);
    stick
}

/// kiwi's state (§4.2): everything under `/run/overlay`, the medium
/// `medium` at `live`, the root the overlay `LiveOS_rootfs` over
/// `rootfsbase` with `overlayfs/rw` and `overlayfs/work`.
pub fn check_kiwi_state(b: &Probed, medium: &str, base_fs: &str, size: Option<&str>) {
    let r = &b.report;
    let run = r.mount_at("/run/overlay");
    b.check(
        run.is_some_and(|m| {
            m.fstype == "tmpfs" && size.is_none_or(|s| m.super_option("size") == Some(s))
        }),
        &format!("/run/overlay is not kiwi's tmpfs (size {size:?}): {run:?}"),
    );
    let live = r.mount_at("/run/overlay/live");
    b.check(
        live.is_some_and(|m| m.fstype == "iso9660" && m.source == medium && m.has_option("ro")),
        &format!("/run/overlay/live is not {medium}, read-only: {live:?}"),
    );
    let container = r.mount_at("/run/overlay/squashfs_container");
    b.check(
        container.is_some_and(|m| m.has_option("ro")),
        &format!("/run/overlay/squashfs_container is not mounted: {container:?}"),
    );
    let base = r.mount_at("/run/overlay/rootfsbase");
    b.check(
        base.is_some_and(|m| m.fstype == base_fs),
        &format!("/run/overlay/rootfsbase is not {base_fs}: {base:?}"),
    );
    let root = r.root_mount();
    b.check(
        root.is_some_and(|m| {
            m.fstype == "overlay"
                && m.source == "LiveOS_rootfs"
                && m.super_option("lowerdir") == Some("/run/overlay/rootfsbase")
                && m.super_option("upperdir") == Some("/run/overlay/overlayfs/rw")
                && m.super_option("workdir") == Some("/run/overlay/overlayfs/work")
        }),
        &format!("/ is not kiwi's LiveOS_rootfs overlay: {root:?}"),
    );
    b.check(r.root_write == Some(Ok(())), "/ is not writable");
    b.check(
        r.mount_at("/run/initramfs/live").is_none(),
        "dracut's /run/initramfs/live is mounted in kiwi mode",
    );
}
