//! Debian live-boot's command line (`boot=live`, distro-live-spec §1.1–1.2):
//! the options liveinit carries out, and the ones it names as not done.
//! Words are read as live-boot's shell `case` reads them: literal keys,
//! the last occurrence wins.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::removable::Removable;
use super::{Grammar, ImageChoice, LayeredConfig};
use crate::cmdline::{Arg, Cmdline};
use crate::devspec::DevSpec;
use crate::plan::layers::LIVE_BOOT;

/// live-boot's default `live-media-path`.
pub const DEFAULT_MEDIA_PATH: &str = "live";
/// live-boot's default `module`.
pub const DEFAULT_MODULE: &str = "filesystem";
/// live-boot's default `overlay-size` (tmpfs syntax).
pub const DEFAULT_OVERLAY_SIZE: &str = "50%";
/// live-boot looks for its medium 60 times, a second apart.
pub const DEFAULT_WAIT_SECS: u32 = 60;

/// A value liveinit cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub key: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// live-boot options liveinit does not carry out (yet), with what happens instead.
const NOT_DONE: [(&str, &str); 9] = [
    ("todisk", "the images are read from the medium"),
    ("live-media-offset", "devices are read from their start"),
    ("plainroot", "the images are stacked as usual"),
    ("exposedroot", "the images are stacked as usual"),
    ("dm-verity-root-hash", "the images are not verified"),
    ("nfsoverlay", "the writable layer is in RAM"),
    ("netboot", "no network boot"),
    ("fetch", "no network boot"),
    ("swap", "no swap is set up"),
];

/// Reads live-boot's options; the warnings say what is not carried out.
pub fn read(cmdline: &Cmdline) -> Result<(LayeredConfig, Vec<String>), BadValue> {
    let mut warnings = Vec::new();
    let asked = last_value(cmdline, &["live-media", "bootfrom"]);
    let removable = asked.and_then(Removable::parse);
    let media = match asked {
        None => None,
        Some(_) if removable.is_some() => None,
        Some(v) => Some(DevSpec::parse(v).map_err(|_| BadValue {
            key: "live-media",
            value: String::from(v),
            expected: "a device: /dev/<name>, /dev/disk/by-label/<label>, LABEL=, UUID=",
        })?),
    };
    let media_path = media_path(cmdline, DEFAULT_MEDIA_PATH)?;
    let module = match cmdline.value("module") {
        Some(v) if v.contains('/') => {
            return Err(BadValue {
                key: "module",
                value: String::from(v),
                expected: "a name (the list is <live-media-path>/<name>.module)",
            })
        }
        Some(v) if !v.is_empty() => String::from(v),
        _ => String::from(DEFAULT_MODULE),
    };
    let overlay_size = match cmdline.value("overlay-size") {
        Some(v) if is_tmpfs_size(v) => String::from(v),
        Some(v) => {
            return Err(BadValue {
                key: "overlay-size",
                value: String::from(v),
                expected: "a tmpfs size: a number with %, k, m or g (e.g. 50%, 512m)",
            })
        }
        None => String::from(DEFAULT_OVERLAY_SIZE),
    };
    if let Some(u) = cmdline.value("union").filter(|u| *u != "overlay") {
        warnings.push(format!("union={u} is not available; overlayfs is used"));
    }
    for (key, instead) in NOT_DONE {
        if cmdline.has(key) {
            warnings.push(format!("{key} is not supported by liveinit yet: {instead}"));
        }
    }
    Ok((
        LayeredConfig {
            grammar: Grammar::LiveBoot,
            paths: &LIVE_BOOT,
            media,
            media_path,
            images: ImageChoice::ModuleList(module),
            overlay_size: Some(overlay_size),
            nofstab: cmdline.has("nofstab"),
            media_required: false,
            marker: None,
            cow_dir: String::new(),
            sha512_list: None,
            persistence: super::persistence::live_boot(cmdline, &mut warnings),
            to_ram: super::to_ram::read(cmdline, Grammar::LiveBoot)?,
            iso: super::iso_host::read(cmdline)?,
            uuid: None,
            cow_space: None,
            removable,
            verify: super::verify_checksums::read(cmdline, &mut warnings),
        },
        warnings,
    ))
}

/// `live-media-path=`, shared with casper: a path inside the medium.
pub fn media_path(cmdline: &Cmdline, default: &str) -> Result<String, BadValue> {
    Ok(match cmdline.value("live-media-path") {
        Some(v) if v.split('/').any(|p| p == "..") => {
            return Err(BadValue {
                key: "live-media-path",
                value: String::from(v),
                expected: "a path inside the medium (no `..`)",
            })
        }
        Some(v) if !v.trim_matches('/').is_empty() => String::from(v.trim_matches('/')),
        _ => String::from(default),
    })
}

/// The value of the last of `keys` on the line.
pub fn last_value<'a>(cmdline: &'a Cmdline, keys: &[&str]) -> Option<&'a str> {
    cmdline
        .params()
        .iter()
        .rev()
        .find(|p| keys.contains(&p.key.as_str()))
        .and_then(|p| match cmdline.get(&p.key) {
            Arg::Value(v) if !v.is_empty() => Some(v),
            _ => None,
        })
}

/// `50%`, `64M`, `512k`, `2g`, `1048576`: what tmpfs's `size=` takes.
pub fn is_tmpfs_size(v: &str) -> bool {
    let digits = v.trim_end_matches(['%', 'k', 'K', 'm', 'M', 'g', 'G']);
    let suffix = v.len() - digits.len();
    !digits.is_empty() && suffix <= 1 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(LayeredConfig, Vec<String>), BadValue> {
        super::read(&Cmdline::parse(text))
    }

    #[test]
    fn defaults_are_live_boots() {
        let (c, warnings) = read("boot=live components").unwrap();
        assert_eq!(c.media, None);
        assert_eq!(c.media_path, "live");
        assert_eq!(c.images, ImageChoice::ModuleList("filesystem".into()));
        assert_eq!(c.overlay_size.as_deref(), Some("50%"));
        assert!(!c.nofstab);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn options_are_read_last_one_winning() {
        let (c, _) = read(
            "boot=live live-media=/dev/sdb1 bootfrom=/dev/disk/by-label/DEB live-media-path=/x/y/ \
             module=alt overlay-size=64M overlay-size=25% nofstab",
        )
        .unwrap();
        assert_eq!(c.media, Some(DevSpec::Label("DEB".into())));
        assert_eq!(c.media_path, "x/y");
        assert_eq!(c.images, ImageChoice::ModuleList("alt".into()));
        assert_eq!(c.overlay_size.as_deref(), Some("25%"));
        assert!(c.nofstab);
        let (c, w) = read("boot=live live-media=/dev/sr0 bootfrom=removable-usb").unwrap();
        assert_eq!((c.media, c.removable), (None, Some(Removable::Usb)));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn bad_values_stop_with_the_option_named() {
        for (text, key) in [
            ("overlay-size=lots", "overlay-size"),
            ("overlay-size=5mb", "overlay-size"),
            ("live-media-path=../etc", "live-media-path"),
            ("module=../x", "module"),
            ("live-media=sdb1", "live-media"),
        ] {
            assert_eq!(read(text).unwrap_err().key, key, "{text}");
        }
    }

    #[test]
    fn options_not_carried_out_are_named() {
        let (_, w) = read("boot=live persistence toram findiso=/a.iso union=aufs").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("union=aufs"));
        let (_, w) = read("boot=live persistence nopersistence").unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn tmpfs_sizes() {
        for ok in ["50%", "64M", "512k", "2g", "1048576"] {
            assert!(is_tmpfs_size(ok), "{ok}");
        }
        for bad in ["", "%", "5mb", "-1", "1.5G", "m5"] {
            assert!(!is_tmpfs_size(bad), "{bad}");
        }
    }
}
