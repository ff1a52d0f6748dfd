//! openSUSE's kiwi-live (distro-live-spec §4): dracut's `root=live:`
//! grammar, but kiwi's own `55kiwi-live` module builds the root, leaving
//! its state under `/run/overlay`: the ISO at `live`, the squashfs
//! container at `squashfs_container`, the root filesystem image at
//! `rootfsbase`, the writable layer in `overlayfs/{rw,work}` of a tmpfs
//! whose size is a tmpfs size string (`rd.live.overlay.size`, default
//! 50%: not dracut's MiB). Chosen by kiwi's own options or
//! `rd.liveinit.flavour=kiwi` ([`super::choose`]).
//!
//! `rd.live.overlay.persistent` puts `overlayfs/` on the partition
//! labelled `cow` of the disk the medium is on. kiwi makes that partition
//! (and its filesystem, `rd.live.overlay.cowfs=`) when there is none;
//! liveinit never partitions nor formats a disk the command line does not
//! name, so it says so and stays in kiwi's temporary mode.

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
    /// `rd.live.overlay.persistent`: the filesystem kiwi would make on a
    /// new `cow` partition (`rd.live.overlay.cowfs=`, default ext4), named
    /// when liveinit does not make it.
    pub persistent: Option<String>,
}

/// kiwi options liveinit does not carry out, with what happens instead.
/// kiwi uses its cow file only for an ISO booted from a file on another
/// filesystem (iso-scan), which kiwi mode does not do.
const NOT_DONE: [(&str, &str); 5] = [
    (
        "rd.live.cowfile.mbsize",
        "no cow file (kiwi's, for an ISO booted from a file) is made or used",
    ),
    (
        "rd.live.cowfile.path",
        "no cow file (kiwi's, for an ISO booted from a file) is made or used",
    ),
    (
        "rd.live.encrypt",
        "no LUKS cow partition (lukscow) is made or opened; only a plain one labelled cow is used",
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
    let persistent = cmdline.bool("rd.live.overlay.persistent", false).then(|| {
        String::from(match cmdline.value("rd.live.overlay.cowfs") {
            None | Some("") => "ext4",
            Some(fs) => fs,
        })
    });
    Ok((
        KiwiConfig {
            overlay_size,
            persistent,
        },
        warnings,
    ))
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
            "writable",
            match &kiwi.persistent {
                None => format!("{} of the tmpfs (kiwi's temporary mode)", plan::OVERLAYFS),
                Some(cowfs) => format!(
                    "the partition labelled {} on the medium's disk, mounted at {} \
                     (rd.live.overlay.persistent); with none, kiwi would make one \
                     (mkfs.{cowfs}) but liveinit never partitions nor formats: a warning, and \
                     the tmpfs; on a CD, the tmpfs",
                    plan::COW_LABEL,
                    plan::OVERLAYFS
                ),
            },
        ),
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
        "\nplan, for {} holding {container} with {} (ext4) in it:",
        if kiwi.persistent.is_some() {
            "a hybrid ISO written to a disk (<medium>) with a cow partition"
        } else {
            "a CD (<medium>)"
        },
        plan::ROOTFS_IMG
    );
    let file = format!("{}/{container}", plan::LIVE);
    let steps = plan::overlay_tmpfs(&kiwi.overlay_size)
        .into_iter()
        .chain(plan::mount_medium("<medium>", FsType::Iso9660))
        .chain(plan::mount_container(&file, FsType::Squashfs))
        .chain(plan::mount_rootfsbase(Some(FsType::Ext4)))
        .chain(
            kiwi.persistent
                .iter()
                .flat_map(|_| plan::mount_cow("<cow partition>", FsType::Ext4)),
        )
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
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("mediacheck is not supported"));
    }

    #[test]
    fn persistence_names_the_filesystem_kiwi_would_make() {
        let (k, w) = read_line("rd.live.overlay.persistent").unwrap();
        assert_eq!(k.persistent.as_deref(), Some("ext4"));
        assert!(w.is_empty(), "{w:?}");
        let (k, _) = read_line("rd.live.overlay.persistent rd.live.overlay.cowfs=xfs").unwrap();
        assert_eq!(k.persistent.as_deref(), Some("xfs"));
        let (k, _) = read_line("rd.live.overlay.persistent=0 rd.live.overlay.cowfs=xfs").unwrap();
        assert_eq!(k.persistent, None);
        let (_, w) = read_line("rd.live.overlay.persistent rd.live.cowfile.path=x.cow").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("no cow file"), "{w:?}");
    }

    #[test]
    fn explain_shows_the_cow_partition_and_that_none_is_made() {
        let text = crate::explain::explain(
            "root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent \
             rd.live.overlay.cowfs=xfs",
        );
        assert!(
            text.contains("partition labelled cow on the medium's disk"),
            "{text}"
        );
        assert!(text.contains("kiwi would make one (mkfs.xfs)"), "{text}");
        assert!(
            text.contains("mount <cow partition> -> /run/overlay/overlayfs (ext4, rw"),
            "{text}"
        );
        let text = crate::explain::explain("root=live:CDLABEL=CDROM rd.liveinit.flavour=kiwi");
        assert!(text.contains("kiwi's temporary mode"), "{text}");
        assert!(!text.contains("<cow partition>"), "{text}");
    }
}
