//! A stack of read-only images under one overlayfs, as Debian live-boot
//! builds its root (distro-live-spec §1.5–1.6, §1.10). Where each piece
//! is left for the real root differs per distribution; that is the data
//! of [`StatePaths`], not code.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{mkdir, path, LoopSlot, MountFlags, Source, Step, NEWROOT};
use crate::probe::FsType;

/// Where a distribution leaves its live state for the real root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatePaths {
    /// The medium's mount point.
    pub medium: &'static str,
    /// Each image is mounted at `<rootfs>/<file name>`.
    pub rootfs: &'static str,
    /// The tmpfs holding the overlay's upper and work directories.
    pub overlay: &'static str,
    /// The upper and work directories' names inside it.
    pub upper: &'static str,
    pub work: &'static str,
    /// The overlay mount's source name, which live tools look for.
    pub source: &'static str,
    /// Overlay options beyond the directories.
    pub options: &'static str,
    /// Lines the root's `/etc/fstab` gets when missing.
    pub fstab: &'static [&'static str],
    /// The fstab is replaced by those lines, not added to.
    pub fstab_replace: bool,
    /// File name endings of the images, which also mark the medium.
    pub image_endings: &'static [&'static str],
    /// Where, in the new root, the medium is bound (casper's `/cdrom`).
    pub medium_in_root: Option<&'static str>,
    /// Where, in the new root, the base image is bound (casper's `/rofs`).
    pub base_in_root: Option<&'static str>,
    /// Where the one image is mounted, when not at `<rootfs>/<name>`
    /// (archiso's `/run/archiso/airootfs`).
    pub image_at: Option<&'static str>,
}

/// Debian live-boot's state, as its own initramfs leaves it (§1.10).
pub const LIVE_BOOT: StatePaths = StatePaths {
    medium: "/run/live/medium",
    rootfs: "/run/live/rootfs",
    overlay: "/run/live/overlay",
    upper: "rw",
    work: "work",
    source: "overlay",
    options: "redirect_dir=on",
    fstab: &FSTAB_LINES,
    fstab_replace: false,
    image_endings: &[
        ".squashfs",
        ".ext2",
        ".ext3",
        ".ext4",
        ".xfs",
        ".jffs2",
        ".dir",
    ],
    medium_in_root: None,
    base_in_root: None,
    image_at: None,
};

/// Ubuntu casper's state (§2.5, §2.8): the medium at `/cdrom` and the base
/// layer at `/rofs` in the new root; the layers and `/cow` stay in the
/// initramfs, out of the real root's sight.
pub const CASPER: StatePaths = StatePaths {
    medium: "/cdrom",
    rootfs: "",
    overlay: "/cow",
    upper: "upper",
    work: "work",
    source: "/cow",
    options: "",
    fstab: &FSTAB_LINES,
    fstab_replace: true,
    image_endings: &[".squashfs", ".ext2", ".dir"],
    medium_in_root: Some("/cdrom"),
    base_in_root: Some("/rofs"),
    image_at: None,
};

/// archiso's state (§3.4, §3.7): everything under `/run/archiso`; the COW
/// space's upper and work directories are in `cow_directory` inside it.
pub const ARCHISO: StatePaths = StatePaths {
    medium: "/run/archiso/bootmnt",
    rootfs: "/run/archiso",
    overlay: "/run/archiso/cowspace",
    upper: "upperdir",
    work: "workdir",
    source: "airootfs",
    options: "",
    fstab: &[],
    fstab_replace: false,
    image_endings: &["airootfs.sfs", "airootfs.erofs"],
    medium_in_root: None,
    base_in_root: None,
    image_at: Some("/run/archiso/airootfs"),
};

/// The root filesystem and `/tmp`, as both live-boot and casper write them.
const FSTAB_LINES: [&str; 2] = [
    "overlay / overlay rw 0 0",
    "tmpfs /tmp tmpfs nosuid,nodev 0 0",
];

/// Whether a directory entry is an image the distribution would stack (a
/// `.dir` is a directory used as it is).
pub fn is_image(paths: &StatePaths, name: &str) -> bool {
    paths
        .image_endings
        .iter()
        .any(|e| name.ends_with(e) && (name.len() > e.len() || !e.starts_with('.')))
}

/// Where image `name` is mounted.
pub fn image_mount(paths: &StatePaths, name: &str) -> String {
    match paths.image_at {
        Some(at) => String::from(at),
        None => format!("{}/{name}", paths.rootfs),
    }
}

/// The list files that, when present, name the images (§1.5), first found wins.
pub fn module_lists(module: &str) -> [String; 2] {
    [
        format!("filesystem.{module}.module"),
        format!("{module}.module"),
    ]
}

/// The images to stack, bottom first, and the listed names that are not
/// on the medium: the module list's order when there is one, else every
/// image of the directory in name order.
pub fn image_list(listed: Option<&str>, entries: &[String]) -> (Vec<String>, Vec<String>) {
    match listed {
        Some(text) => {
            let (present, missing): (Vec<&str>, Vec<&str>) = text
                .split_whitespace()
                .partition(|name| entries.iter().any(|e| e == name));
            (
                present.into_iter().map(String::from).collect(),
                missing.into_iter().map(String::from).collect(),
            )
        }
        None => {
            let mut images: Vec<String> = entries
                .iter()
                .filter(|e| is_image(&LIVE_BOOT, e))
                .cloned()
                .collect();
            images.sort();
            (images, Vec::new())
        }
    }
}

/// One image of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// File name in the image directory.
    pub name: String,
    /// Its filesystem; `None` for a `.dir`, used as it is.
    pub fstype: Option<FsType>,
}

/// Mounts the medium read-only where the distribution leaves it: no
/// set-user-ID programs and no device nodes from a disk anyone could write.
pub fn mount_medium(paths: &StatePaths, device: &str, fstype: FsType) -> Vec<Step> {
    Vec::from([
        mkdir(paths.medium),
        Step::Mount {
            source: path(device),
            target: String::from(paths.medium),
            fstype: Some(fstype.mount_type()),
            flags: MountFlags {
                noatime: true,
                ..MountFlags::DATA_RO
            },
            data: String::new(),
        },
    ])
}

/// `<medium>/<dir>/<name>`.
pub fn on_medium(paths: &StatePaths, dir: &str, name: &str) -> String {
    if dir.is_empty() {
        format!("{}/{name}", paths.medium)
    } else {
        format!("{}/{dir}/{name}", paths.medium)
    }
}

/// Each file image attached read-only (loop devices in stack order, the
/// bottom one first) and mounted `ro,noatime` at `<rootfs>/<name>`.
pub fn mount_images(paths: &StatePaths, dir: &str, images: &[Image]) -> Vec<Step> {
    let images_dir = on_medium(paths, dir, "");
    mount_images_from(paths, images_dir.trim_end_matches('/'), images)
}

/// [`mount_images`] with the image files read from `images_dir` (a copy
/// in RAM) instead of the medium.
pub fn mount_images_from(paths: &StatePaths, images_dir: &str, images: &[Image]) -> Vec<Step> {
    let mut steps = Vec::new();
    for (n, image) in (0u8..).zip(images) {
        let Some(fstype) = image.fstype else { continue };
        let target = image_mount(paths, &image.name);
        steps.extend([
            Step::AttachLoop {
                slot: LoopSlot::Layer(n),
                backing: format!("{images_dir}/{}", image.name),
                read_only: true,
            },
            mkdir(&target),
            Step::Mount {
                source: Source::Loop(LoopSlot::Layer(n)),
                target,
                fstype: Some(fstype.mount_type()),
                flags: MountFlags {
                    noatime: true,
                    ..MountFlags::RO
                },
                data: String::new(),
            },
        ]);
    }
    steps
}

/// overlayfs's `lowerdir=`: the last image on top, as live-boot stacks them.
pub fn lower_dirs(paths: &StatePaths, dir: &str, images: &[Image]) -> String {
    images
        .iter()
        .rev()
        .map(|image| match image.fstype {
            Some(_) => image_mount(paths, &image.name),
            None => on_medium(paths, dir, &image.name),
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// The tmpfs of `size` (tmpfs syntax; its default half the RAM) holding
/// the writable layer.
pub fn overlay_tmpfs(paths: &StatePaths, size: Option<&str>) -> [Step; 2] {
    [
        mkdir(paths.overlay),
        Step::Mount {
            source: path("tmpfs"),
            target: String::from(paths.overlay),
            fstype: Some("tmpfs"),
            flags: MountFlags {
                noatime: true,
                ..MountFlags::RW
            },
            data: match size {
                Some(size) => format!("mode=755,size={size}"),
                None => String::from("mode=755"),
            },
        },
    ]
}

/// The tmpfs of `size` (tmpfs syntax; its default half the RAM) for the
/// writable layer, the overlay root at [`NEWROOT`], and the mounts the
/// distribution shows inside it.
pub fn overlay_root(
    paths: &StatePaths,
    dir: &str,
    images: &[Image],
    size: Option<&str>,
    cow_dir: &str,
) -> Vec<Step> {
    let holder = if cow_dir.is_empty() {
        String::from(paths.overlay)
    } else {
        format!("{}/{}", paths.overlay, cow_dir.trim_matches('/'))
    };
    let upper = format!("{holder}/{}", paths.upper);
    let work = format!("{holder}/{}", paths.work);
    let mut options = format!(
        "lowerdir={},upperdir={upper},workdir={work}",
        lower_dirs(paths, dir, images)
    );
    if !paths.options.is_empty() {
        options = format!("{options},{}", paths.options);
    }
    let mut steps = Vec::from(overlay_tmpfs(paths, size));
    steps.extend([
        mkdir(&upper),
        mkdir(&work),
        mkdir(NEWROOT),
        Step::Mount {
            source: path(paths.source),
            target: String::from(NEWROOT),
            fstype: Some("overlay"),
            flags: MountFlags {
                noatime: true,
                ..MountFlags::RW
            },
            data: options,
        },
    ]);
    let base = images
        .iter()
        .find(|i| i.fstype.is_some())
        .map(|i| image_mount(paths, &i.name));
    let shown = [
        (paths.medium_in_root, Some(String::from(paths.medium))),
        (paths.base_in_root, base),
    ];
    for (inside, what) in shown {
        if let (Some(inside), Some(what)) = (inside, what) {
            let target = format!("{NEWROOT}{inside}");
            steps.extend([
                mkdir(&target),
                Step::Mount {
                    source: Source::Path(what),
                    target,
                    fstype: None,
                    flags: MountFlags::BIND,
                    data: String::new(),
                },
            ]);
        }
    }
    steps
}

/// The root's `/etc/fstab` with the distribution's lines appended (those
/// whose first two fields are not there yet); `None` when nothing is missing.
pub fn fstab_with(paths: &StatePaths, existing: &str) -> Option<String> {
    if paths.fstab_replace {
        let text: String = paths.fstab.iter().map(|l| format!("{l}\n")).collect();
        return (text != existing).then_some(text);
    }
    let present = |line: &str| {
        let key: Vec<&str> = line.split_whitespace().take(2).collect();
        existing
            .lines()
            .any(|l| l.split_whitespace().take(2).collect::<Vec<_>>() == key)
    };
    let missing: Vec<&str> = paths
        .fstab
        .iter()
        .copied()
        .filter(|l| !present(l))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut text = String::from(existing);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in missing {
        text.push_str(line);
        text.push('\n');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn sq(name: &str) -> Image {
        Image {
            name: name.into(),
            fstype: Some(FsType::Squashfs),
        }
    }

    #[test]
    fn without_a_list_every_image_in_name_order() {
        let entries = names(&[
            "zz-b.squashfs",
            "vmlinuz",
            "filesystem.squashfs",
            "10-a.squashfs",
            "filesystem.packages",
            "extra.dir",
            ".squashfs",
        ]);
        let (images, missing) = image_list(None, &entries);
        assert_eq!(
            images,
            [
                "10-a.squashfs",
                "extra.dir",
                "filesystem.squashfs",
                "zz-b.squashfs"
            ]
        );
        assert!(missing.is_empty());
    }

    #[test]
    fn a_module_list_decides_order_and_names_the_missing() {
        let entries = names(&["a.squashfs", "b.squashfs", "c.squashfs"]);
        let (images, missing) =
            image_list(Some("c.squashfs\n b.squashfs gone.squashfs\n"), &entries);
        assert_eq!(images, ["c.squashfs", "b.squashfs"]);
        assert_eq!(missing, ["gone.squashfs"]);
        assert_eq!(module_lists("alt"), ["filesystem.alt.module", "alt.module"]);
    }

    #[test]
    fn the_plan_leaves_live_boots_state() {
        let images = [sq("filesystem.squashfs"), sq("zz-probe.squashfs")];
        let steps: Vec<String> = mount_medium(&LIVE_BOOT, "/dev/sr0", FsType::Iso9660)
            .iter()
            .chain(&mount_images(&LIVE_BOOT, "live", &images))
            .chain(&overlay_root(&LIVE_BOOT, "live", &images, Some("50%"), ""))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "mkdir /run/live/medium",
                "mount /dev/sr0 -> /run/live/medium (iso9660, ro, nosuid, nodev, noatime)",
                "attach loop <- /run/live/medium/live/filesystem.squashfs (ro)",
                "mkdir /run/live/rootfs/filesystem.squashfs",
                "mount <layer 0 loop> -> /run/live/rootfs/filesystem.squashfs (squashfs, ro, noatime)",
                "attach loop <- /run/live/medium/live/zz-probe.squashfs (ro)",
                "mkdir /run/live/rootfs/zz-probe.squashfs",
                "mount <layer 1 loop> -> /run/live/rootfs/zz-probe.squashfs (squashfs, ro, noatime)",
                "mkdir /run/live/overlay",
                "mount tmpfs -> /run/live/overlay (tmpfs, rw, noatime, mode=755,size=50%)",
                "mkdir /run/live/overlay/rw",
                "mkdir /run/live/overlay/work",
                "mkdir /sysroot",
                "mount overlay -> /sysroot (overlay, rw, noatime, lowerdir=/run/live/rootfs/zz-probe.squashfs:\
                 /run/live/rootfs/filesystem.squashfs,upperdir=/run/live/overlay/rw,\
                 workdir=/run/live/overlay/work,redirect_dir=on)",
            ]
        );
    }

    #[test]
    fn a_dir_image_is_used_in_place() {
        let images = [
            sq("filesystem.squashfs"),
            Image {
                name: "extra.dir".into(),
                fstype: None,
            },
        ];
        assert_eq!(
            lower_dirs(&LIVE_BOOT, "live", &images),
            "/run/live/medium/live/extra.dir:/run/live/rootfs/filesystem.squashfs"
        );
        assert_eq!(mount_images(&LIVE_BOOT, "live", &images).len(), 3);
    }

    #[test]
    fn casper_shows_the_medium_and_the_base_in_the_root() {
        let images = [sq("minimal.squashfs"), sq("minimal.standard.squashfs")];
        let steps: Vec<String> = mount_images(&CASPER, "casper", &images)
            .iter()
            .chain(&overlay_root(&CASPER, "casper", &images, None, ""))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "attach loop <- /cdrom/casper/minimal.squashfs (ro)",
                "mkdir /minimal.squashfs",
                "mount <layer 0 loop> -> /minimal.squashfs (squashfs, ro, noatime)",
                "attach loop <- /cdrom/casper/minimal.standard.squashfs (ro)",
                "mkdir /minimal.standard.squashfs",
                "mount <layer 1 loop> -> /minimal.standard.squashfs (squashfs, ro, noatime)",
                "mkdir /cow",
                "mount tmpfs -> /cow (tmpfs, rw, noatime, mode=755)",
                "mkdir /cow/upper",
                "mkdir /cow/work",
                "mkdir /sysroot",
                "mount /cow -> /sysroot (overlay, rw, noatime, lowerdir=/minimal.standard.squashfs:\
                 /minimal.squashfs,upperdir=/cow/upper,workdir=/cow/work)",
                "mkdir /sysroot/cdrom",
                "mount /cdrom -> /sysroot/cdrom (bind)",
                "mkdir /sysroot/rofs",
                "mount /minimal.squashfs -> /sysroot/rofs (bind)",
            ]
        );
        assert_eq!(
            fstab_with(&CASPER, "UUID=x / ext4 defaults 0 1\n").unwrap(),
            "overlay / overlay rw 0 0\ntmpfs /tmp tmpfs nosuid,nodev 0 0\n"
        );
    }

    #[test]
    fn archiso_mounts_its_one_image_and_cow_directory() {
        let images = [Image {
            name: "airootfs.erofs".into(),
            fstype: Some(FsType::Erofs),
        }];
        let steps: Vec<String> = mount_images(&ARCHISO, "arch/x86_64", &images)
            .iter()
            .chain(&overlay_root(
                &ARCHISO,
                "arch/x86_64",
                &images,
                Some("256M"),
                "persistent_/x86_64",
            ))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            steps,
            [
                "attach loop <- /run/archiso/bootmnt/arch/x86_64/airootfs.erofs (ro)",
                "mkdir /run/archiso/airootfs",
                "mount <layer 0 loop> -> /run/archiso/airootfs (erofs, ro, noatime)",
                "mkdir /run/archiso/cowspace",
                "mount tmpfs -> /run/archiso/cowspace (tmpfs, rw, noatime, mode=755,size=256M)",
                "mkdir /run/archiso/cowspace/persistent_/x86_64/upperdir",
                "mkdir /run/archiso/cowspace/persistent_/x86_64/workdir",
                "mkdir /sysroot",
                "mount airootfs -> /sysroot (overlay, rw, noatime, lowerdir=/run/archiso/airootfs,\
                 upperdir=/run/archiso/cowspace/persistent_/x86_64/upperdir,\
                 workdir=/run/archiso/cowspace/persistent_/x86_64/workdir)",
            ]
        );
        assert!(is_image(&ARCHISO, "airootfs.sfs") && !is_image(&ARCHISO, "x.sfs"));
        assert_eq!(fstab_with(&ARCHISO, "x"), None);
    }

    #[test]
    fn fstab_gets_the_missing_lines_once() {
        let added = fstab_with(&LIVE_BOOT, "# UNCONFIGURED FSTAB FOR BASE SYSTEM").unwrap();
        assert_eq!(
            added,
            "# UNCONFIGURED FSTAB FOR BASE SYSTEM\noverlay / overlay rw 0 0\n\
             tmpfs /tmp tmpfs nosuid,nodev 0 0\n"
        );
        assert_eq!(fstab_with(&LIVE_BOOT, &added), None);
        assert_eq!(
            fstab_with(&LIVE_BOOT, "tmpfs  /tmp tmpfs defaults 0 0\n").unwrap(),
            "tmpfs  /tmp tmpfs defaults 0 0\noverlay / overlay rw 0 0\n"
        );
    }
}
