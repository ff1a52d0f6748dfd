//! live-boot's ISO file on another filesystem (distro-live-spec §1.4):
//! `findiso=/p.iso` looks for the file on every candidate device,
//! `fromiso=[fstype:]/dev/<device>/<path>` (or `isofrom=`) names the
//! device. The filesystem holding the file stays mounted read-only at
//! `/run/live/findiso` or `/run/live/fromiso`; the file, attached to a
//! loop device, is the medium.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::live_boot::{last_value, BadValue};
use crate::cmdline::Cmdline;
use crate::devspec::DevSpec;

/// Where the ISO file is, and where its filesystem is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoHost {
    /// The option that asked for it (`findiso`, `fromiso`).
    pub option: &'static str,
    /// The file, absolute on its filesystem.
    pub path: String,
    /// `fromiso=`'s device; `None`: every candidate device (`findiso=`).
    pub device: Option<DevSpec>,
    /// Where the filesystem holding it is mounted.
    pub at: &'static str,
}

pub const FINDISO_MNT: &str = "/run/live/findiso";
pub const FROMISO_MNT: &str = "/run/live/fromiso";

/// `fromiso=` (or `isofrom=`) if given, else `findiso=`.
pub fn read(cmdline: &Cmdline) -> Result<Option<IsoHost>, BadValue> {
    if let Some(v) = last_value(cmdline, &["fromiso", "isofrom"]) {
        return from_iso(v).map(Some).ok_or_else(|| BadValue {
            key: "fromiso",
            value: String::from(v),
            expected: "[fstype:]/dev/<device>/<path of the ISO file on it>, e.g. \
                       /dev/sda1/isos/live.iso",
        });
    }
    Ok(match last_value(cmdline, &["findiso"]) {
        None => None,
        Some(v) if v.split('/').any(|p| p == "..") => {
            return Err(BadValue {
                key: "findiso",
                value: String::from(v),
                expected: "the ISO file's path on its filesystem (no `..`)",
            })
        }
        Some(v) => Some(IsoHost {
            option: "findiso",
            path: format!("/{}", v.trim_start_matches('/')),
            device: None,
            at: FINDISO_MNT,
        }),
    })
}

/// Splits `[fstype:]/dev/<device>/<path>`: the device is one name under
/// `/dev`, or `/dev/disk/by-*/<name>` (device-mapper and md names are not
/// matched by liveinit's discovery); the filesystem type is probed, so a
/// prefix is dropped.
fn from_iso(value: &str) -> Option<IsoHost> {
    let value = match value.split_once(':') {
        Some((fstype, rest)) if !fstype.contains('/') => rest,
        _ => value,
    };
    let rest = value.strip_prefix("/dev/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let take = match parts.first() {
        Some(&"disk") => 3,
        Some(&"mapper" | &"md") => return None,
        _ => 1,
    };
    if parts.len() <= take || parts.iter().any(|p| p.is_empty() || *p == "..") {
        return None;
    }
    let (device, file) = parts.split_at(take);
    let device = DevSpec::parse(&format!("/dev/{}", device.join("/"))).ok()?;
    Some(IsoHost {
        option: "fromiso",
        path: format!("/{}", file.join("/")),
        device: Some(device),
        at: FROMISO_MNT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str) -> Result<Option<IsoHost>, BadValue> {
        read(&Cmdline::parse(text))
    }

    #[test]
    fn findiso_looks_everywhere() {
        let h = read_line("boot=live findiso=isos/x.iso").unwrap().unwrap();
        assert_eq!(
            (h.path.as_str(), h.device, h.at),
            ("/isos/x.iso", None, FINDISO_MNT)
        );
        assert_eq!(read_line("boot=live").unwrap(), None);
        assert_eq!(read_line("findiso=/../x.iso").unwrap_err().key, "findiso");
    }

    #[test]
    fn fromiso_names_the_device() {
        let h = read_line("findiso=/a.iso fromiso=/dev/vdb1/isos/x.iso")
            .unwrap()
            .unwrap();
        assert_eq!(h.device, Some(DevSpec::Kernel("vdb1".into())));
        assert_eq!((h.path.as_str(), h.at), ("/isos/x.iso", FROMISO_MNT));
        let h = read_line("isofrom=ext4:/dev/disk/by-label/ISOS/x.iso")
            .unwrap()
            .unwrap();
        assert_eq!(h.device, Some(DevSpec::Label("ISOS".into())));
        assert_eq!(h.path, "/x.iso");
        for bad in [
            "fromiso=/dev/vdb1",
            "fromiso=x.iso",
            "fromiso=/dev/vdb1/../x.iso",
            "fromiso=/dev/mapper/vg-lv/l.iso",
        ] {
            assert_eq!(read_line(bad).unwrap_err().key, "fromiso", "{bad}");
        }
    }
}
