//! The persistence options of Debian live-boot (`persistence`, §1.8) and
//! casper (`persistent`, §2.7), read into what the boot looks for. Each
//! grammar looks only for its own volumes (live-boot's carry a
//! `persistence.conf`, casper's are labelled `writable` or `casper-rw`),
//! so neither picks up the other's, nor a dracut `rd.overlay` one.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::removable::Removable;
use super::Grammar;
use crate::cmdline::Cmdline;

/// live-boot's default `persistence-label`.
pub const LIVE_BOOT_LABEL: &str = "persistence";
/// casper's labels, in the order it prefers them.
pub const CASPER_LABELS: [&str; 2] = ["writable", "casper-rw"];

/// What persistence the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistAsk {
    /// Whose volumes: [`Grammar::LiveBoot`] or [`Grammar::Casper`].
    pub grammar: Grammar,
    /// The names looked for: a filesystem label or GPT partition name, or
    /// the name of an image file at `path` on a partition.
    pub labels: Vec<String>,
    /// The directory holding image files on a partition (empty: its root).
    pub path: String,
    /// Volumes found by their label or partition name.
    pub by_label: bool,
    /// Image files named like a label.
    pub by_file: bool,
    /// `persistence-read-only`: the volume is mounted read-only and the
    /// changes of this boot go to RAM.
    pub read_only: bool,
    /// `persistence-media=`: only the disks so restricted are looked at.
    pub media: Option<Removable>,
}

/// live-boot's options; `None` without `persistence` or with
/// `nopersistence`. What is not carried out goes into `warnings`.
pub fn live_boot(cmdline: &Cmdline, warnings: &mut Vec<String>) -> Option<PersistAsk> {
    if !cmdline.has("persistence") || cmdline.has("nopersistence") {
        return None;
    }
    let labels: Vec<String> = match cmdline.value("persistence-label") {
        Some(v) => {
            let (ok, bad): (Vec<&str>, Vec<&str>) = v
                .split(',')
                .filter(|l| !l.is_empty())
                .partition(|l| !l.contains('/') && *l != "." && *l != "..");
            for l in bad {
                warnings.push(format!(
                    "persistence-label: `{l}` is not a name (it holds `/`); ignored"
                ));
            }
            ok.into_iter().map(String::from).collect()
        }
        None => Vec::new(),
    };
    let labels = if labels.is_empty() {
        Vec::from([String::from(LIVE_BOOT_LABEL)])
    } else {
        labels
    };
    let (mut by_label, mut by_file) = (true, true);
    if let Some(v) = cmdline.value("persistence-storage") {
        (by_label, by_file) = (false, false);
        for s in v.split(',') {
            match s {
                "filesystem" => by_label = true,
                "file" => by_file = true,
                _ => warnings.push(format!(
                    "persistence-storage={s} is not carried out (only filesystem and file)"
                )),
            }
        }
    }
    if let Some(v) = cmdline.value("persistence-encryption") {
        if v.split(',').any(|e| e != "none") {
            warnings.push(format!(
                "persistence-encryption={v}: encrypted volumes are not opened"
            ));
        }
        if !v.split(',').any(|e| e == "none") {
            (by_label, by_file) = (false, false);
        }
    }
    if cmdline.has("persistence-remove") {
        warnings.push(String::from(
            "persistence-remove is not carried out by liveinit: the volume is used as it is",
        ));
    }
    let media = cmdline.value("persistence-media");
    if let Some(v) = media.filter(|v| Removable::parse(v).is_none()) {
        // live-boot then whitelists nothing, so looks at no disk.
        warnings.push(format!(
            "persistence-media={v} is neither removable nor removable-usb: no disk is looked \
             at (as live-boot does); changes are kept in RAM"
        ));
        return None;
    }
    if let Some(m) = cmdline
        .value("persistence-method")
        .filter(|m| *m != "overlay")
    {
        warnings.push(format!(
            "persistence-method={m}: only overlay exists; overlay is used"
        ));
    }
    if !by_label && !by_file {
        warnings.push(String::from(
            "persistence: nothing is left to look for; changes are kept in RAM",
        ));
        return None;
    }
    Some(PersistAsk {
        grammar: Grammar::LiveBoot,
        labels,
        path: sub_path(cmdline, "persistence-path", warnings),
        by_label,
        by_file,
        read_only: cmdline.has("persistence-read-only"),
        media: media.and_then(Removable::parse),
    })
}

/// casper's options; `None` without `persistent` or with `nopersistent`.
pub fn casper(cmdline: &Cmdline, warnings: &mut Vec<String>) -> Option<PersistAsk> {
    if !cmdline.has("persistent") || cmdline.has("nopersistent") {
        return None;
    }
    Some(PersistAsk {
        grammar: Grammar::Casper,
        labels: CASPER_LABELS.iter().map(|l| String::from(*l)).collect(),
        path: sub_path(cmdline, "persistent-path", warnings),
        by_label: true,
        by_file: true,
        read_only: false,
        media: None,
    })
}

/// A directory inside a partition, without `..`; a bad one is named and
/// the partition's root used instead.
fn sub_path(cmdline: &Cmdline, key: &str, warnings: &mut Vec<String>) -> String {
    match cmdline.value(key) {
        Some(v) if v.split('/').any(|p| p == "..") => {
            warnings.push(format!(
                "{key}={v}: not a path inside a partition; its root is used"
            ));
            String::new()
        }
        Some(v) => String::from(v.trim_matches('/')),
        None => String::new(),
    }
}

impl PersistAsk {
    /// Where an image file named `label` is on a partition mounted at `mnt`.
    pub fn file_at(&self, mnt: &str, label: &str) -> String {
        if self.path.is_empty() {
            format!("{mnt}/{label}")
        } else {
            format!("{mnt}/{}/{label}", self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(text: &str) -> (Option<PersistAsk>, Vec<String>) {
        let mut w = Vec::new();
        (live_boot(&Cmdline::parse(text), &mut w), w)
    }

    #[test]
    fn live_boot_defaults_and_options() {
        assert_eq!(lb("boot=live").0, None);
        assert_eq!(lb("boot=live persistence nopersistence").0, None);
        let (p, w) = lb("boot=live persistence");
        let p = p.unwrap();
        assert_eq!(p.labels, ["persistence"]);
        assert!(p.by_label && p.by_file && !p.read_only && p.path.is_empty());
        assert!(w.is_empty());
        let (p, w) = lb(
            "persistence persistence-label=a,,b persistence-path=/sub/ persistence-read-only \
             persistence-storage=file,directory",
        );
        let p = p.unwrap();
        assert_eq!(p.labels, ["a", "b"]);
        assert_eq!(p.file_at("/m", "a"), "/m/sub/a");
        assert!(p.read_only && !p.by_label && p.by_file);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("persistence-storage=directory"));
    }

    #[test]
    fn live_boot_names_what_it_does_not_do() {
        let (p, w) = lb("persistence persistence-encryption=luks");
        assert_eq!(p, None);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("encrypted volumes are not opened"));
        let (p, w) = lb(
            "persistence persistence-encryption=none,luks persistence-media=removable \
             persistence-label=../x persistence-path=../up persistence-remove",
        );
        let p = p.unwrap();
        assert_eq!(
            (p.labels.as_slice(), p.path.as_str(), p.media),
            (&["persistence".into()][..], "", Some(Removable::Any))
        );
        assert_eq!(w.len(), 4, "{w:?}");
        let (p, w) = lb("persistence persistence-media=/dev/sdb");
        assert_eq!(p, None);
        assert!(w[0].contains("no disk is looked at"), "{w:?}");
    }

    #[test]
    fn casper_looks_for_writable_then_casper_rw() {
        let mut w = Vec::new();
        assert_eq!(casper(&Cmdline::parse("boot=casper"), &mut w), None);
        assert_eq!(
            casper(&Cmdline::parse("persistent nopersistent"), &mut w),
            None
        );
        let p = casper(&Cmdline::parse("persistent persistent-path=p"), &mut w).unwrap();
        assert_eq!(p.labels, ["writable", "casper-rw"]);
        assert_eq!(p.file_at("/x", "casper-rw"), "/x/p/casper-rw");
        assert!(w.is_empty());
    }
}
