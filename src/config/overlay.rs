//! The writable layer the command line asks for (docs/dracut-live.md §2.5).

use alloc::string::String;

use super::lookup::{deprecated, legacy, Lookup};
use super::ConfigError;

/// dracut's default `rd.live.overlay.size`, in MiB (32 GiB).
pub const DEFAULT_OVERLAY_MIB: u64 = 32768;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayConfig {
    /// Use overlayfs instead of a device-mapper snapshot (`rd.overlay`).
    pub overlayfs: bool,
    /// `rd.overlay=<devspec>[:<path>]`: a persistent overlay's location.
    pub persistent: Option<String>,
    /// `rd.overlay=none`: no overlay; the image itself is made writable.
    pub none: bool,
    /// `rd.overlay=tmpfs:<options>`: a dedicated tmpfs for upper/work.
    pub tmpfs_options: Option<String>,
    /// `rd.overlay.readonly`: the persistent overlay read-only, under a fresh one.
    pub readonly: bool,
    /// `rd.overlay.reset`: wipe the persistent overlay.
    pub reset: bool,
    /// `rd.live.overlay.size`: the snapshot's sparse COW size, in MiB.
    pub size_mib: u64,
    /// `rd.live.overlay.thin`: a dm-thin pool instead of a snapshot.
    pub thin: bool,
    /// `rd.live.overlay.nouserconfirmprompt`.
    pub no_prompt: bool,
}

impl OverlayConfig {
    pub(super) fn read(l: &mut Lookup<'_>) -> Result<OverlayConfig, ConfigError> {
        let overlayfs_flag = l.bool(
            "rd.overlay",
            &[deprecated("rd.live.overlay.overlayfs")],
            false,
        );
        let location = location(l);
        let mut overlay = OverlayConfig {
            overlayfs: overlayfs_flag,
            persistent: None,
            none: false,
            tmpfs_options: None,
            readonly: l.bool(
                "rd.overlay.readonly",
                &[
                    deprecated("rd.live.overlay.readonly"),
                    legacy("readonly_overlay"),
                ],
                false,
            ),
            reset: l.bool(
                "rd.overlay.reset",
                &[deprecated("rd.live.overlay.reset"), legacy("reset_overlay")],
                false,
            ),
            size_mib: size_mib(l)?,
            thin: l.bool("rd.live.overlay.thin", &[], false),
            no_prompt: l.bool("rd.live.overlay.nouserconfirmprompt", &[], false),
        };
        match location {
            None => {}
            // dracut ≥ 110 also turns overlayfs on here (docs/dracut-live.md §6-B1); the
            // documented meaning, a writable image without any overlay, is
            // what users ask for with `none`, so that is what liveinit does.
            Some("none" | "None" | "NONE") => {
                overlay.none = true;
                overlay.overlayfs = false;
            }
            Some(v) => match v.strip_prefix("tmpfs:") {
                Some(options) => {
                    overlay.tmpfs_options = Some(String::from(options));
                    overlay.overlayfs = true;
                }
                None => overlay.persistent = Some(String::from(v)),
            },
        }
        Ok(overlay)
    }
}

/// `get_rd_overlay`: `rd.overlay`'s value unless it is only a switch, then
/// the deprecated `rd.live.overlay=`, then the legacy `overlay=`.
fn location<'a>(l: &mut Lookup<'a>) -> Option<&'a str> {
    match l.cmdline.value("rd.overlay") {
        Some(v) if !matches!(v, "0" | "no" | "off" | "" | "1") => Some(v),
        _ => l
            .value("rd.live.overlay", &[])
            .or_else(|| l.value("overlay", &[])),
    }
}

fn size_mib(l: &mut Lookup<'_>) -> Result<u64, ConfigError> {
    match l.value("rd.live.overlay.size", &[]) {
        None => Ok(DEFAULT_OVERLAY_MIB),
        Some(v) => match v.parse::<u64>() {
            // The size in bytes must fit the kernel's loff_t.
            Ok(mib) if mib > 0 && mib <= (i64::MAX as u64) >> 20 => Ok(mib),
            _ => Err(ConfigError::BadValue {
                key: "rd.live.overlay.size",
                value: String::from(v),
                expected: "a size in MiB greater than 0",
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;

    fn read(text: &str) -> (Result<OverlayConfig, ConfigError>, usize) {
        let c = Cmdline::parse(text);
        let mut l = Lookup::new(&c);
        let o = OverlayConfig::read(&mut l);
        l.warn_unused_aliases();
        (o, l.warnings.len())
    }

    #[test]
    fn defaults() {
        let o = read("").0.unwrap();
        assert!(!o.overlayfs && !o.none && !o.thin && !o.readonly && !o.reset);
        assert_eq!(o.size_mib, 32768);
        assert_eq!(o.persistent, None);
    }

    #[test]
    fn rd_overlay_switch_and_its_old_name() {
        assert!(read("rd.overlay").0.unwrap().overlayfs);
        assert!(read("rd.overlay=1").0.unwrap().overlayfs);
        assert!(!read("rd.overlay=0").0.unwrap().overlayfs);
        let (o, warnings) = read("rd.live.overlay.overlayfs=1");
        assert!(o.unwrap().overlayfs);
        assert_eq!(warnings, 1);
    }

    #[test]
    fn a_device_value_means_persistent_overlayfs() {
        let o = read("rd.overlay=LABEL=persist:/LiveOS/x").0.unwrap();
        assert!(o.overlayfs);
        assert_eq!(o.persistent.as_deref(), Some("LABEL=persist:/LiveOS/x"));
    }

    #[test]
    fn deprecated_location_keeps_dm_mode() {
        let (o, warnings) = read("rd.live.overlay=LABEL=persist");
        let o = o.unwrap();
        assert!(!o.overlayfs);
        assert_eq!(o.persistent.as_deref(), Some("LABEL=persist"));
        assert_eq!(warnings, 1);
        let (o, warnings) = read("overlay=UUID=1");
        assert_eq!(o.unwrap().persistent.as_deref(), Some("UUID=1"));
        assert_eq!(warnings, 1);
    }

    #[test]
    fn none_and_tmpfs() {
        let o = read("rd.overlay=none").0.unwrap();
        assert!(o.none && !o.overlayfs);
        let o = read("rd.overlay=tmpfs:size=32M,nr_inodes=1000").0.unwrap();
        assert!(o.overlayfs);
        assert_eq!(o.tmpfs_options.as_deref(), Some("size=32M,nr_inodes=1000"));
    }

    #[test]
    fn readonly_and_reset_with_every_spelling() {
        for text in [
            "rd.overlay.readonly",
            "rd.live.overlay.readonly=1",
            "readonly_overlay=0",
        ] {
            assert!(read(text).0.unwrap().readonly, "{text}");
        }
        for text in ["rd.overlay.reset", "rd.live.overlay.reset", "reset_overlay"] {
            assert!(read(text).0.unwrap().reset, "{text}");
        }
    }

    #[test]
    fn size_is_validated() {
        assert_eq!(read("rd.live.overlay.size=512").0.unwrap().size_mib, 512);
        for bad in ["abc", "0", "-5", "", "1e3", "99999999999999999999"] {
            let text = alloc::format!("rd.live.overlay.size={bad}");
            assert!(
                matches!(read(&text).0, Err(ConfigError::BadValue { .. })),
                "{text}"
            );
        }
    }
}
