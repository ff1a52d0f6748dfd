//! Arch's archiso hooks (distro-live-spec §3.1–3.7): `archisobasedir=`,
//! `archisolabel=`, `archisodevice=`, `archisosearchuuid=`; one image,
//! `/<basedir>/<arch>/airootfs.sfs` or `.erofs`, under an overlay whose
//! writable layer is a 256M tmpfs. Checks liveinit cannot do stop the boot
//! with the reason instead of being skipped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::iso_host::IsoHost;
use super::live_boot::{is_tmpfs_size, BadValue};
use super::{Grammar, ImageChoice, LayeredConfig};
use crate::cmdline::{Arg, Cmdline};
use crate::devspec::DevSpec;
use crate::plan::layers::ARCHISO;

/// archiso's default `archisobasedir`.
pub const DEFAULT_BASEDIR: &str = "arch";
/// The only architecture liveinit is built for (archiso's `uname -m`).
pub const DEFAULT_ARCH: &str = "x86_64";
/// archiso's default `cow_spacesize`.
pub const DEFAULT_COW_SPACE: &str = "256M";

/// An archiso check liveinit does not do: the boot stops rather than go on
/// unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub option: &'static str,
    pub why: &'static str,
}

/// What stops an archiso boot before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchisoError {
    Bad(BadValue),
    Refused(Refused),
}

/// mkinitcpio's `getarg`: the last occurrence; a bare key is `y`; an
/// empty value is unset.
fn getarg<'a>(cmdline: &'a Cmdline, key: &str) -> Option<&'a str> {
    match cmdline.get(key) {
        Arg::Absent => None,
        Arg::Bare => Some("y"),
        Arg::Value("") => None,
        Arg::Value(v) => Some(v),
    }
}

/// Reads archiso's options; the warnings say what is not carried out.
pub fn read(cmdline: &Cmdline) -> Result<(LayeredConfig, Vec<String>), ArchisoError> {
    const GATES: [(&str, &str); 2] = [
        (
            "verify",
            "GPG signatures (airootfs.sfs.sig) are not checked by liveinit: it carries no gpg \
             and no keyring; boot without verify=y, or with archiso's own initramfs",
        ),
        (
            "cms_verify",
            "CMS signatures (airootfs.sfs.cms.sig) are not checked by liveinit: it carries no \
             openssl and no certificates; boot without cms_verify=y, or with archiso's own \
             initramfs",
        ),
    ];
    for (option, why) in GATES {
        if getarg(cmdline, option) == Some("y") {
            return Err(ArchisoError::Refused(Refused { option, why }));
        }
    }
    let basedir = getarg(cmdline, "archisobasedir").unwrap_or(DEFAULT_BASEDIR);
    let arch = getarg(cmdline, "arch").unwrap_or(DEFAULT_ARCH);
    for (key, v) in [("archisobasedir", basedir), ("arch", arch)] {
        if v.split('/').any(|p| p == "..") {
            return Err(ArchisoError::Bad(BadValue {
                key: if key == "arch" {
                    "arch"
                } else {
                    "archisobasedir"
                },
                value: String::from(v),
                expected: "a path inside the medium (no `..`)",
            }));
        }
    }
    let label = getarg(cmdline, "archisolabel");
    let search_uuid = getarg(cmdline, "archisosearchuuid");
    let mut warnings = Vec::new();
    let iso = img_loop(cmdline, &mut warnings)?;
    let media = match (search_uuid, getarg(cmdline, "archisodevice"), label) {
        // archiso_loop_mnt: the ISO's loop device is `archisodevice`.
        _ if iso.is_some() => None,
        (Some(uuid), _, _) => Some(DevSpec::Uuid(String::from(uuid))),
        (None, Some(device), _) => Some(device_spec("archisodevice", device)?),
        (None, None, Some(label)) => Some(DevSpec::Label(String::from(label))),
        (None, None, None) => None,
    };
    let marker = getarg(cmdline, "archisosearchfilename")
        .map(String::from)
        .or_else(|| search_uuid.map(|u| format!("/boot/{u}.uuid")))
        .filter(|_| iso.is_none());
    let overlay_size = match getarg(cmdline, "cow_spacesize") {
        None => String::from(DEFAULT_COW_SPACE),
        Some(v) if is_tmpfs_size(v) => String::from(v),
        Some(v) => {
            return Err(ArchisoError::Bad(BadValue {
                key: "cow_spacesize",
                value: String::from(v),
                expected: "a tmpfs size: a number with %, k, m or g (e.g. 256M)",
            }))
        }
    };
    let cow_dir = match getarg(cmdline, "cow_directory") {
        Some(v) if v.split('/').any(|p| p == "..") => {
            return Err(ArchisoError::Bad(BadValue {
                key: "cow_directory",
                value: String::from(v),
                expected: "a path inside the COW space (no `..`)",
            }))
        }
        Some(v) => String::from(v.trim_matches('/')),
        None => format!("persistent_{}/{arch}", label.unwrap_or_default()),
    };
    let cow_space = cow_space(cmdline, &mut warnings)?;
    Ok((
        LayeredConfig {
            grammar: Grammar::Archiso,
            paths: &ARCHISO,
            media,
            media_path: format!("{}/{arch}", basedir.trim_matches('/')),
            images: ImageChoice::FirstOf(Vec::from([
                String::from("airootfs.sfs"),
                String::from("airootfs.erofs"),
            ])),
            overlay_size: Some(overlay_size),
            nofstab: true,
            media_required: true,
            marker,
            cow_dir,
            sha512_list: (getarg(cmdline, "checksum") == Some("y"))
                .then(|| String::from("airootfs.sha512")),
            persistence: None,
            to_ram: super::to_ram::read(cmdline, Grammar::Archiso).map_err(ArchisoError::Bad)?,
            iso,
            uuid: None,
            cow_space: Some(cow_space),
            removable: None,
            verify: None,
        },
        warnings,
    ))
}

/// Where `img_dev=`'s filesystem is mounted (`archiso_loop_mnt`).
pub const IMG_DEV_MNT: &str = "/run/archiso/img_dev";

/// archiso's COW space (§3.4, §3.6): a tmpfs, or the filesystem
/// `cow_label=` / `cow_device=` names; and the dm-snapshot's settings, used
/// when the image holds `airootfs.img`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CowSpace {
    /// The option that named the device, and the device; `None`: a tmpfs.
    pub device: Option<(&'static str, DevSpec)>,
    /// `cow_flags=`: the device's mount options.
    pub flags: String,
    /// `cow_persistent=P`: the snapshot's COW file is kept, and reused.
    pub persistent: bool,
    /// `cow_chunksize=`: the snapshot's chunk size in sectors.
    pub chunk: String,
}

/// A device option's value.
fn device_spec(key: &'static str, v: &str) -> Result<DevSpec, ArchisoError> {
    DevSpec::parse(v).map_err(|_| {
        ArchisoError::Bad(BadValue {
            key,
            value: String::from(v),
            expected: "a device: /dev/<name>, UUID=, LABEL=, PARTUUID=, PARTLABEL=",
        })
    })
}

/// `cow_label=` (which wins, as in archiso) or `cow_device=`, and the
/// options that go with them.
fn cow_space(cmdline: &Cmdline, warnings: &mut Vec<String>) -> Result<CowSpace, ArchisoError> {
    let device = match (getarg(cmdline, "cow_label"), getarg(cmdline, "cow_device")) {
        (Some(label), _) => Some(("cow_label", DevSpec::Label(String::from(label)))),
        (None, Some(v)) => Some(("cow_device", device_spec("cow_device", v)?)),
        (None, None) => None,
    };
    // As archiso: anything but `P` is `N`.
    let persistent = getarg(cmdline, "cow_persistent").map_or(device.is_some(), |v| v == "P");
    let chunk = getarg(cmdline, "cow_chunksize").unwrap_or("8");
    if chunk.parse::<u16>().map_or(true, |n| n == 0) {
        return Err(ArchisoError::Bad(BadValue {
            key: "cow_chunksize",
            value: String::from(chunk),
            expected: "a number of 512-byte sectors, e.g. 8",
        }));
    }
    if let Some(p) = getarg(cmdline, "dm_snap_prefix").filter(|p| *p != "arch") {
        warnings.push(format!(
            "dm_snap_prefix={p} is not carried out: the snapshot is named arch_airootfs"
        ));
    }
    Ok(CowSpace {
        device,
        flags: String::from(getarg(cmdline, "cow_flags").unwrap_or("defaults")),
        persistent,
        chunk: String::from(chunk),
    })
}

/// `archiso_loop_mnt`: `img_dev=` (or `img_label=`) with `img_loop=`, the
/// ISO file that is the medium.
fn img_loop(
    cmdline: &Cmdline,
    warnings: &mut Vec<String>,
) -> Result<Option<IsoHost>, ArchisoError> {
    let dev = match (getarg(cmdline, "img_label"), getarg(cmdline, "img_dev")) {
        (Some(label), _) => Some(DevSpec::Label(String::from(label))),
        (None, Some(v)) => Some(device_spec("img_dev", v)?),
        (None, None) => None,
    };
    let file = getarg(cmdline, "img_loop");
    let (Some(device), Some(file)) = (dev, file) else {
        if cmdline.has("img_loop") || cmdline.has("img_dev") || cmdline.has("img_label") {
            warnings.push(String::from(
                "img_loop= needs img_dev= (or img_label=) and the other way round, as in \
                 archiso_loop_mnt: ignored",
            ));
        }
        return Ok(None);
    };
    if file.split('/').any(|p| p == "..") {
        return Err(ArchisoError::Bad(BadValue {
            key: "img_loop",
            value: String::from(file),
            expected: "the ISO file's path on img_dev's filesystem (no `..`)",
        }));
    }
    if let Some(f) = getarg(cmdline, "img_flags").filter(|f| *f != "defaults") {
        warnings.push(format!(
            "img_flags={f} is not carried out: {IMG_DEV_MNT} is mounted read-only with the \
             filesystem's defaults"
        ));
    }
    Ok(Some(IsoHost {
        option: "img_loop",
        path: format!("/{}", file.trim_start_matches('/')),
        device: Some(device),
        at: IMG_DEV_MNT,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str) -> Result<(LayeredConfig, Vec<String>), ArchisoError> {
        read(&Cmdline::parse(text))
    }

    #[test]
    fn releng_command_line() {
        let (c, w) =
            read_line("archisobasedir=arch archisosearchuuid=2026-01-01-00-00-00-00").unwrap();
        assert_eq!(
            c.media,
            Some(DevSpec::Uuid("2026-01-01-00-00-00-00".into()))
        );
        assert_eq!(
            c.marker.as_deref(),
            Some("/boot/2026-01-01-00-00-00-00.uuid")
        );
        assert_eq!(c.media_path, "arch/x86_64");
        assert_eq!(c.overlay_size.as_deref(), Some("256M"));
        assert_eq!(c.cow_dir, "persistent_/x86_64");
        assert!(c.media_required && w.is_empty());
    }

    #[test]
    fn label_device_and_sizes() {
        let (c, _) = read_line("archisolabel=ARCH_202601 cow_spacesize=1G").unwrap();
        assert_eq!(c.media, Some(DevSpec::Label("ARCH_202601".into())));
        assert_eq!(c.cow_dir, "persistent_ARCH_202601/x86_64");
        assert_eq!(c.overlay_size.as_deref(), Some("1G"));
        let (c, _) = read_line("archisolabel=X archisodevice=/dev/sr0").unwrap();
        assert_eq!(c.media, Some(DevSpec::Kernel("sr0".into())));
        assert!(matches!(
            read_line("archisolabel=X cow_spacesize=big"),
            Err(ArchisoError::Bad(BadValue {
                key: "cow_spacesize",
                ..
            }))
        ));
    }

    #[test]
    fn checks_liveinit_cannot_do_stop_the_boot() {
        for (text, option) in [
            ("archisolabel=X verify=y", "verify"),
            ("archisolabel=X cms_verify=y", "cms_verify"),
        ] {
            match read_line(text) {
                Err(ArchisoError::Refused(r)) => assert_eq!(r.option, option, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let sums = |t| read_line(t).unwrap().0.sha512_list;
        assert_eq!(
            sums("archisolabel=X checksum"),
            Some("airootfs.sha512".into())
        );
        assert_eq!(sums("archisolabel=X checksum=n"), None);
    }

    #[test]
    fn the_cow_space_options() {
        let cow = |t| read_line(t).unwrap().0.cow_space.unwrap();
        let c = cow("archisolabel=X");
        assert_eq!((c.device, c.persistent), (None, false));
        assert_eq!((c.flags.as_str(), c.chunk.as_str()), ("defaults", "8"));
        let c = cow("archisolabel=X cow_device=/dev/vdb cow_label=PERSIST cow_flags=noatime");
        assert_eq!(
            c.device,
            Some(("cow_label", DevSpec::Label("PERSIST".into())))
        );
        assert!(c.persistent, "P is the default with a device");
        assert_eq!(c.flags, "noatime");
        let c = cow("archisolabel=X cow_device=UUID=ab cow_persistent=N cow_chunksize=16");
        assert_eq!(c.device, Some(("cow_device", DevSpec::Uuid("ab".into()))));
        assert_eq!((c.persistent, c.chunk.as_str()), (false, "16"));
        assert!(cow("archisolabel=X cow_persistent=P").persistent);
        assert!(!cow("archisolabel=X cow_label=L cow_persistent=n").persistent);
        for (text, key) in [
            ("archisolabel=X cow_chunksize=0", "cow_chunksize"),
            ("archisolabel=X cow_device=sdb", "cow_device"),
        ] {
            match read_line(text) {
                Err(ArchisoError::Bad(b)) => assert_eq!(b.key, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let (c, w) = read_line("archisolabel=X cow_directory=/p/q/ dm_snap_prefix=x").unwrap();
        assert_eq!(c.cow_dir, "p/q");
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn img_loop_makes_the_iso_file_the_medium() {
        let (c, w) = read_line(
            "archisobasedir=arch archisolabel=ARCH_1 img_dev=UUID=u img_loop=\"/iso/arch.iso\"",
        )
        .unwrap();
        let host = c.iso.unwrap();
        assert_eq!(host.option, "img_loop");
        assert_eq!(host.path, "/iso/arch.iso");
        assert_eq!(host.device, Some(DevSpec::Uuid("u".into())));
        assert_eq!(host.at, IMG_DEV_MNT);
        // The loop device is archisodevice: the label no longer picks it.
        assert_eq!((c.media, c.marker), (None, None));
        assert_eq!(c.cow_dir, "persistent_ARCH_1/x86_64");
        assert!(w.is_empty(), "{w:?}");
        let (c, _) = read_line("img_label=ISOS img_loop=a.iso img_dev=/dev/vdb").unwrap();
        let host = c.iso.unwrap();
        assert_eq!(host.device, Some(DevSpec::Label("ISOS".into())));
        assert_eq!(host.path, "/a.iso");
        let (c, w) = read_line("archisolabel=X img_loop=a.iso img_flags=noatime").unwrap();
        assert_eq!((c.iso, w.len()), (None, 1), "{w:?}");
        let (_, w) = read_line("img_dev=/dev/vdb img_loop=a.iso img_flags=noatime").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(matches!(
            read_line("img_dev=/dev/vdb img_loop=/../a.iso"),
            Err(ArchisoError::Bad(BadValue {
                key: "img_loop",
                ..
            }))
        ));
    }
}
