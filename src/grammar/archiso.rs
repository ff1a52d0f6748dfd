//! Arch's archiso hooks (distro-live-spec §3.1–3.7): `archisobasedir=`,
//! `archisolabel=`, `archisodevice=`, `archisosearchuuid=`; one image,
//! `/<basedir>/<arch>/airootfs.sfs` or `.erofs`, under an overlay whose
//! writable layer is a 256M tmpfs. Checks liveinit cannot do stop the boot
//! with the reason instead of being skipped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

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
    if getarg(cmdline, "img_loop").is_some() {
        return Err(ArchisoError::Refused(Refused {
            option: "img_loop",
            why: "an ISO file on another filesystem (archiso_loop_mnt) is not supported by \
                  liveinit yet",
        }));
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
    let spec = |key: &'static str, v: &str| {
        DevSpec::parse(v).map_err(|_| {
            ArchisoError::Bad(BadValue {
                key,
                value: String::from(v),
                expected: "a device: /dev/<name>, UUID=, LABEL=, PARTUUID=, PARTLABEL=",
            })
        })
    };
    let media = match (search_uuid, getarg(cmdline, "archisodevice"), label) {
        (Some(uuid), _, _) => Some(DevSpec::Uuid(String::from(uuid))),
        (None, Some(device), _) => Some(spec("archisodevice", device)?),
        (None, None, Some(label)) => Some(DevSpec::Label(String::from(label))),
        (None, None, None) => None,
    };
    let marker = getarg(cmdline, "archisosearchfilename")
        .map(String::from)
        .or_else(|| search_uuid.map(|u| format!("/boot/{u}.uuid")));
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
    let mut warnings = Vec::new();
    for key in ["cow_label", "cow_device"] {
        if cmdline.has(key) {
            warnings.push(format!(
                "{key} (a persistent COW space) is not supported by liveinit yet: changes will \
                 not survive a reboot"
            ));
        }
    }
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
            iso: None,
            removable: None,
            verify: None,
        },
        warnings,
    ))
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
            ("img_dev=UUID=x img_loop=/a.iso", "img_loop"),
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
        let (_, w) = read_line("archisolabel=X copytoram cow_label=P").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
