//! openSUSE's kiwi-live (distro-live-spec §4): dracut's `root=live:`
//! grammar, but kiwi's own `55kiwi-live` module builds the root, leaving
//! its state under `/run/overlay`: the ISO at `live`, the squashfs
//! container at `squashfs_container`, the root filesystem image at
//! `rootfsbase`, the writable layer in `overlayfs/{rw,work}` of a tmpfs
//! whose size is a tmpfs size string (`rd.live.overlay.size`, default
//! 50%: not dracut's MiB). Chosen by kiwi's own options or
//! `rd.liveinit.flavour=kiwi` ([`super::choose`]).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::live_boot::{is_tmpfs_size, BadValue};
use crate::cmdline::Cmdline;

/// kiwi's default `rd.live.overlay.size`.
pub const DEFAULT_OVERLAY_SIZE: &str = "50%";

/// What kiwi mode needs beyond dracut's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiwiConfig {
    /// The `/run/overlay` tmpfs's size (tmpfs syntax).
    pub overlay_size: String,
}

/// kiwi options liveinit does not carry out, with what happens instead.
const NOT_DONE: [(&str, &str); 6] = [
    (
        "rd.live.overlay.persistent",
        "no cow partition is made or used; the writable layer is in RAM (kiwi's temporary mode)",
    ),
    (
        "rd.live.cowfile.mbsize",
        "no cow file; the writable layer is in RAM",
    ),
    (
        "rd.live.cowfile.path",
        "no cow file; the writable layer is in RAM",
    ),
    (
        "rd.live.encrypt",
        "no LUKS cow partition; the writable layer is in RAM",
    ),
    (
        "mediacheck",
        "the medium is not checked (kiwi's checkmedia)",
    ),
    (
        "rd.live.check",
        "the medium is not checked (kiwi's checkmedia)",
    ),
];

/// Whether kiwi reads `key` itself, not as dracut does.
pub fn reads(key: &str) -> bool {
    key.starts_with("rd.kiwi.")
        || key.starts_with("rd.live.cowfile.")
        || matches!(
            key,
            "rd.live.overlay.size"
                | "rd.live.overlay.persistent"
                | "rd.live.overlay.cowfs"
                | "rd.live.encrypt"
                | "mediacheck"
        )
}

/// Reads kiwi's options; the warnings say what is not carried out.
pub fn read(cmdline: &Cmdline) -> Result<(KiwiConfig, Vec<String>), BadValue> {
    let overlay_size = match cmdline.value("rd.live.overlay.size") {
        None | Some("") => String::from(DEFAULT_OVERLAY_SIZE),
        Some(v) if is_tmpfs_size(v) => String::from(v),
        Some(v) => {
            return Err(BadValue {
                key: "rd.live.overlay.size",
                value: String::from(v),
                expected: "under kiwi, a tmpfs size: a number of bytes, or with %, k, m or g \
                           (e.g. 50%, 2g)",
            })
        }
    };
    let warnings = NOT_DONE
        .iter()
        // kiwi reads rd.live.check as a boolean (getargbool).
        .filter(|(key, _)| match *key {
            "rd.live.check" => cmdline.bool(key, false),
            _ => cmdline.has(key),
        })
        .map(|(key, instead)| {
            format!("{key} is not supported by liveinit's kiwi mode yet: {instead}")
        })
        .collect();
    Ok((KiwiConfig { overlay_size }, warnings))
}

/// `liveinit explain` in kiwi mode: the options as understood and the plan.
pub fn explain(
    out: &mut String,
    cfg: &crate::config::LiveConfig,
    kiwi: &KiwiConfig,
    policy: &[String],
) {
    use crate::plan::kiwi as plan;
    use crate::probe::FsType;
    use core::fmt::Write;
    let container = cfg.in_live_dir(&cfg.squash_img);
    let rows = [
        (
            "medium",
            format!("{} (root=live:), found as dracut finds it", cfg.root),
        ),
        ("wait", format!("{} s at most (rd.retry)", cfg.retry_secs)),
        (
            "init",
            cfg.init
                .clone()
                .unwrap_or_else(|| String::from("/sbin/init (default)")),
        ),
    ];
    super::explain::rows_and_warnings(out, &rows, policy, &cfg.warnings);
    let _ = writeln!(
        out,
        "\nplan, for a CD (<medium>) holding {container} with {} (ext4) in it:",
        plan::ROOTFS_IMG
    );
    let file = format!("{}/{container}", plan::LIVE);
    let steps = plan::overlay_tmpfs(&kiwi.overlay_size)
        .into_iter()
        .chain(plan::mount_medium("<medium>", FsType::Iso9660))
        .chain(plan::mount_container(&file, FsType::Squashfs))
        .chain(plan::mount_rootfsbase(Some(FsType::Ext4)))
        .chain(plan::overlay_root(cfg.rootflags.as_deref()));
    for step in steps {
        let _ = writeln!(out, "  {step}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str) -> Result<(KiwiConfig, Vec<String>), BadValue> {
        read(&Cmdline::parse(text))
    }

    #[test]
    fn the_size_is_a_tmpfs_string() {
        let (k, w) = read_line("root=live:CDLABEL=CDROM rd.liveinit.flavour=kiwi").unwrap();
        assert_eq!(k.overlay_size, "50%");
        assert!(w.is_empty(), "{w:?}");
        let (k, _) = read_line("rd.live.overlay.size=25%").unwrap();
        assert_eq!(k.overlay_size, "25%");
        let (k, _) = read_line("rd.live.overlay.size=4096").unwrap();
        assert_eq!(k.overlay_size, "4096");
        assert_eq!(
            read_line("rd.live.overlay.size=lots").unwrap_err().key,
            "rd.live.overlay.size"
        );
    }

    #[test]
    fn persistence_and_checks_are_named_as_not_done() {
        let (_, w) = read_line(
            "rd.live.overlay.persistent rd.live.overlay.cowfs=ext4 mediacheck rd.live.check=0",
        )
        .unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("rd.live.overlay.persistent is not supported"));
    }
}
