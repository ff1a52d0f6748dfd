//! Persistence for the stacked-image grammars (distro-live-spec §1.8,
//! §2.7): the steps that mount a volume where live-boot or casper leaves
//! it, put the overlay root's upper layer on it, and keep a directory of
//! the root on it. Which volume, and what its `persistence.conf` says, is
//! decided at run time; these only turn that into steps.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::layers::StatePaths;
use super::{mkdir, path, MountFlags, Source, Step, NEWROOT};
use crate::probe::FsType;

/// Where live-boot mounts each volume: `<this>/<device name>`.
pub const LIVE_BOOT_VOLUMES: &str = "/run/live/persistence";
/// Where a partition is mounted read-only to look for an image file: in
/// the initramfs, which is emptied at the switch, so nothing is left.
pub const FILE_HOST: &str = "/persistence-probe";

/// A volume mounted `rw,noatime` (`ro,noatime` when kept read-only), as
/// live-boot and casper mount theirs: it holds the root's upper layer, so
/// no `nosuid`/`nodev` (a program installed on the live system keeps its
/// set-user-ID bit).
pub fn mount_volume(device: &str, fstype: FsType, at: &str, read_only: bool) -> Vec<Step> {
    Vec::from([
        mkdir(at),
        Step::Mount {
            source: path(device),
            target: String::from(at),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags {
                noatime: true,
                read_only,
                ..MountFlags::RW
            },
            data: String::new(),
        },
    ])
}

/// A partition mounted read-only (no set-user-ID, no devices) only to
/// look for an image file on it: a filesystem nobody named is never
/// mounted writable (an ext4 journal would be replayed).
pub fn mount_file_host(device: &str, fstype: FsType) -> Vec<Step> {
    Vec::from([
        mkdir(FILE_HOST),
        Step::Mount {
            source: path(device),
            target: String::from(FILE_HOST),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags::DATA_RO,
            data: String::new(),
        },
    ])
}

/// The overlay root of [`super::layers::overlay_root`] with its upper
/// layer in `holder` (a mounted volume) instead of the tmpfs: the upper
/// and work directories are made there. When the volume is mounted at the
/// tmpfs's own place (casper's `/cow`), the tmpfs is not mounted. With
/// `read_only`, the tmpfs keeps the upper layer and the volume's upper
/// directory becomes the top read-only layer.
pub fn onto_volume(
    steps: Vec<Step>,
    paths: &StatePaths,
    holder: &str,
    read_only: bool,
) -> Vec<Step> {
    let tmp_upper = format!("{}/{}", paths.overlay, paths.upper);
    let tmp_work = format!("{}/{}", paths.overlay, paths.work);
    let upper = format!("{holder}/{}", paths.upper);
    let work = format!("{holder}/{}", paths.work);
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Mount {
                ref target,
                fstype: Some("tmpfs"),
                ..
            } if target == paths.overlay && holder == paths.overlay && !read_only => {}
            Step::MakeDir { path } if !read_only && path == tmp_upper => out.push(mkdir(&upper)),
            Step::MakeDir { path } if !read_only && path == tmp_work => out.push(mkdir(&work)),
            Step::Mount {
                source,
                target,
                fstype: Some("overlay"),
                flags,
                data,
            } if target == NEWROOT => {
                let data = if read_only {
                    data.replacen("lowerdir=", &format!("lowerdir={upper}:"), 1)
                } else {
                    data.replacen(
                        &format!("upperdir={tmp_upper},workdir={tmp_work}"),
                        &format!("upperdir={upper},workdir={work}"),
                        1,
                    )
                };
                out.push(Step::Mount {
                    source,
                    target,
                    fstype: Some("overlay"),
                    flags,
                    data,
                });
            }
            other => out.push(other),
        }
    }
    out
}

/// `DIR bind`: the volume's directory `source` bind-mounted on the root's
/// `dir`. Kept read-only, it is the lower layer of an overlayfs whose
/// upper is in the tmpfs at `<tmpfs><dir>`, so this boot's changes go.
pub fn bind(dir: &str, source: &str, read_only: Option<&str>) -> Vec<Step> {
    let target = format!("{NEWROOT}{dir}");
    match read_only {
        None => Vec::from([
            mkdir(&target),
            Step::Mount {
                source: path(source),
                target,
                fstype: None,
                flags: MountFlags::BIND,
                data: String::new(),
            },
        ]),
        Some(tmpfs) => union(dir, &format!("{tmpfs}{dir}"), &[String::from(source)]),
    }
}

/// `DIR union`: an overlayfs on the root's `dir`, its upper and work
/// directories in `holder`, over `lowers` (top first).
pub fn union(dir: &str, holder: &str, lowers: &[String]) -> Vec<Step> {
    let target = format!("{NEWROOT}{dir}");
    let (upper, work) = (format!("{holder}/rw"), format!("{holder}/work"));
    Vec::from([
        mkdir(&upper),
        mkdir(&work),
        mkdir(&target),
        Step::Mount {
            source: Source::Path(String::from("overlay")),
            target,
            fstype: Some("overlay"),
            flags: MountFlags {
                noatime: true,
                ..MountFlags::RW
            },
            data: format!(
                "lowerdir={},upperdir={upper},workdir={work}",
                lowers.join(":")
            ),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::layers::{overlay_root, Image, CASPER, LIVE_BOOT};
    use alloc::string::ToString;

    fn images() -> [Image; 1] {
        [Image {
            name: "filesystem.squashfs".into(),
            fstype: Some(FsType::Squashfs),
        }]
    }

    fn shown(steps: &[Step]) -> Vec<String> {
        steps.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn live_boots_root_union_moves_the_upper_onto_the_volume() {
        let base = overlay_root(&LIVE_BOOT, "live", &images(), Some("50%"), "");
        let steps = shown(&onto_volume(
            base.clone(),
            &LIVE_BOOT,
            "/run/live/persistence/vdb",
            false,
        ));
        assert_eq!(
            steps,
            [
                "mkdir /run/live/overlay",
                "mount tmpfs -> /run/live/overlay (tmpfs, rw, noatime, mode=755,size=50%)",
                "mkdir /run/live/persistence/vdb/rw",
                "mkdir /run/live/persistence/vdb/work",
                "mkdir /sysroot",
                "mount overlay -> /sysroot (overlay, rw, noatime, \
                 lowerdir=/run/live/rootfs/filesystem.squashfs,\
                 upperdir=/run/live/persistence/vdb/rw,workdir=/run/live/persistence/vdb/work,\
                 redirect_dir=on)",
            ]
        );
        let ro = shown(&onto_volume(
            base,
            &LIVE_BOOT,
            "/run/live/persistence/vdb",
            true,
        ));
        assert_eq!(
            ro[5],
            "mount overlay -> /sysroot (overlay, rw, noatime, \
             lowerdir=/run/live/persistence/vdb/rw:/run/live/rootfs/filesystem.squashfs,\
             upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work,redirect_dir=on)"
        );
    }

    #[test]
    fn caspers_volume_is_cow_itself() {
        let base = overlay_root(&CASPER, "casper", &images(), None, "");
        let steps = shown(&onto_volume(base, &CASPER, "/cow", false));
        assert_eq!(
            steps[..4],
            [
                "mkdir /cow",
                "mkdir /cow/upper",
                "mkdir /cow/work",
                "mkdir /sysroot"
            ]
        );
        assert!(steps[4].contains("upperdir=/cow/upper,workdir=/cow/work"));
        assert!(!steps.iter().any(|s| s.contains("tmpfs")));
    }

    #[test]
    fn binds_and_unions() {
        assert_eq!(
            shown(&bind("/home", "/run/live/persistence/vdb/home", None)),
            [
                "mkdir /sysroot/home",
                "mount /run/live/persistence/vdb/home -> /sysroot/home (bind)"
            ]
        );
        let ro = shown(&bind(
            "/home",
            "/run/live/persistence/vdb/home",
            Some("/run/live/overlay"),
        ));
        assert_eq!(
            ro[3],
            "mount overlay -> /sysroot/home (overlay, rw, noatime, \
             lowerdir=/run/live/persistence/vdb/home,upperdir=/run/live/overlay/home/rw,\
             workdir=/run/live/overlay/home/work)"
        );
        assert_eq!(
            shown(&mount_volume("/dev/vdb", FsType::Ext4, "/cow", false)),
            ["mkdir /cow", "mount /dev/vdb -> /cow (ext4, rw, noatime)"]
        );
    }
}
