//! Which distribution's live-boot grammar a command line speaks, and why
//! (distro-live-spec §6.1). Each grammar is a parser producing the one
//! typed [`crate::config::LiveConfig`]; this module only decides which one
//! runs, and names the options of the others so that they are reported
//! once as ignored instead of acted on.

pub mod archiso;
pub mod archiso_explain;
pub mod casper;
pub mod explain;
pub mod iso_host;
pub mod kiwi;
pub mod live_boot;
pub mod no_keyword;
pub mod persistence;
pub mod persistence_conf;
pub mod persistence_explain;
pub mod removable;
pub mod shared_keys;
pub mod to_ram;
pub mod verify_checksums;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cmdline::{Arg, Cmdline};
use crate::devspec::DevSpec;
use crate::plan::layers::StatePaths;

/// How the images to stack are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChoice {
    /// live-boot: `<module>.module` lists them, else every image by name.
    ModuleList(String),
    /// casper: the chain a leaf's name implies (`a.b.c` → `a`, `a.b`,
    /// `a.b.c`), or with no leaf every image, grouped by kind.
    NameChain(Option<String>),
    /// archiso: the first of these names that is there, alone.
    FirstOf(Vec<String>),
    /// casper with no keyword: guessed from the names ([`no_keyword::detect`]).
    Detect,
}

/// A medium found by its content, whose images are stacked under one
/// overlayfs (Debian live-boot, Ubuntu casper): what the grammar asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayeredConfig {
    pub grammar: Grammar,
    /// Where the state is left for the real root.
    pub paths: &'static StatePaths,
    /// `live-media=`: the device tried before every other.
    pub media: Option<DevSpec>,
    /// `live-media-path=`: the directory on the medium holding the images.
    pub media_path: String,
    pub images: ImageChoice,
    /// The writable tmpfs's size (tmpfs syntax); `None`: tmpfs's default.
    pub overlay_size: Option<String>,
    /// `nofstab`: leave the root's `/etc/fstab` alone.
    pub nofstab: bool,
    /// The medium must match `media` or hold this file (archiso's
    /// `archisosearchfilename`), not only hold the images.
    pub media_required: bool,
    pub marker: Option<String>,
    /// Where upper and work are inside the writable tmpfs (archiso's
    /// `cow_directory`); empty: at its top.
    pub cow_dir: String,
    /// archiso's `checksum=y`: the image's SHA-512 must match this listing
    /// (a file beside it) before it is used.
    pub sha512_list: Option<String>,
    /// Persistence asked for (live-boot's `persistence`, casper's `persistent`).
    pub persistence: Option<persistence::PersistAsk>,
    /// What is copied to RAM before the images are mounted.
    pub to_ram: to_ram::ToRam,
    /// live-boot's `findiso=` / `fromiso=`, casper's `iso-scan/filename=`:
    /// the medium is an ISO file.
    pub iso: Option<iso_host::IsoHost>,
    /// casper's `uuid=`: a medium found by the search (not `live-media=`,
    /// not an ISO file) must carry it ([`casper::uuid_matches`]).
    pub uuid: Option<String>,
    /// archiso's COW space (`cow_label=`, `cow_device=`…); `None` for the others.
    pub cow_space: Option<archiso::CowSpace>,
    /// live-boot's `live-media=removable[-usb]`: only such disks are searched.
    pub removable: Option<removable::Removable>,
    /// live-boot's `verify-checksums`: the digests of the media test, in order.
    pub verify: Option<Vec<verify_checksums::Digest>>,
}

/// A family of live-boot command lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// dracut's `root=live:` / `rd.live.*` (Fedora and friends): liveinit's own.
    Dracut,
    /// kiwi's `55kiwi-live` dialect of dracut's (openSUSE).
    Kiwi,
    /// Debian live-boot (`boot=live`).
    LiveBoot,
    /// Ubuntu casper (`boot=casper`).
    Casper,
    /// Arch's archiso hooks (`archisobasedir=`, `archisolabel=`, …).
    Archiso,
}

impl Grammar {
    pub fn name(self) -> &'static str {
        match self {
            Grammar::Dracut => "dracut",
            Grammar::Kiwi => "kiwi",
            Grammar::LiveBoot => "Debian live-boot",
            Grammar::Casper => "Ubuntu casper",
            Grammar::Archiso => "archiso",
        }
    }

    /// Options only this grammar reads (a literal key, or a prefix ending
    /// in `.` or `_`). Keys several grammars share (`toram`, `live-media=`,
    /// `debug`, `iso-scan/filename=`…) are in none of these lists.
    fn own_options(self) -> &'static [&'static str] {
        match self {
            Grammar::Dracut => &["rd.live.", "rd.overlay", "rd.writable.fsimg"],
            Grammar::Kiwi => &[
                "rd.kiwi.",
                "rd.live.overlay.persistent",
                "rd.live.cowfile.",
                "rd.live.encrypt",
                "mediacheck",
            ],
            Grammar::LiveBoot => &[
                "live-media-offset",
                "live-media-timeout",
                "findiso",
                "fromiso",
                "isofrom",
                "module",
                "union",
                "plainroot",
                "exposedroot",
                "skipunion",
                "dm-verity-",
                "overlay-size",
                "todisk",
                "ramdisk-size",
                "persistence",
                "nopersistence",
                "persistence-",
                "nfsoverlay",
                "verify-checksums",
                "live-boot.",
                "nofstab",
            ],
            Grammar::Casper => &[
                "layerfs-path",
                "showmounts",
                "show-cow",
                "persistent",
                "nopersistent",
                "persistent-path",
                "uuid",
            ],
            Grammar::Archiso => &[
                "archiso",
                "img_dev",
                "img_label",
                "img_loop",
                "img_flags",
                "copytoram",
                "copytoram_size",
                "cow_",
                "checksum",
                "verify",
                "cms_verify",
                "dm_snap_prefix",
            ],
        }
    }

    /// Whether `key` is one of this grammar's own options.
    pub fn owns(self, key: &str) -> bool {
        self.own_options().iter().any(|o| {
            key == *o
                || ((o.ends_with('.') || o.ends_with('_') || o.ends_with('-')) && key.starts_with(o))
                // `archiso…` names a family: archisobasedir, archisolabel, …
                || (*o == "archiso" && key.starts_with(o))
        })
    }
}

impl fmt::Display for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The grammar chosen and the words that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub grammar: Grammar,
    pub why: String,
    /// No keyword chose it: a medium's content does, at boot.
    pub by_content: bool,
}

const ARCHISO_KEYS: [&str; 5] = [
    "archisobasedir",
    "archisolabel",
    "archisodevice",
    "archisosearchuuid",
    "archisosearchfilename",
];

const KIWI_KEYS: [&str; 5] = [
    "rd.live.overlay.persistent",
    "rd.live.cowfile.mbsize",
    "rd.live.cowfile.path",
    "rd.live.encrypt",
    "mediacheck",
];

/// Picks the grammar (distro-live-spec §6.1): dracut's `root=live:` first
/// (live-build's dracut-live images say `boot=live` too, and the dracut
/// options are the ones naming the medium there), then `boot=`, then
/// archiso's keys; dracut otherwise, whose error then says what is missing.
pub fn choose(cmdline: &Cmdline) -> Choice {
    let choice = |grammar, why: String| Choice {
        grammar,
        why,
        by_content: false,
    };
    let root = cmdline.value("root").unwrap_or_default();
    let dracut_root = root.starts_with("live:")
        || (!root.is_empty() && cmdline.bool("rd.live.image", false))
        || root.starts_with("http://")
        || root.starts_with("https://");
    let boot = match cmdline.get("boot") {
        Arg::Value(v) => Some(v),
        _ => None,
    };
    if dracut_root {
        let because = format!("root={root}");
        return match cmdline.value("rd.liveinit.flavour") {
            Some("kiwi") => choice(
                Grammar::Kiwi,
                format!("{because} and rd.liveinit.flavour=kiwi"),
            ),
            Some("dracut") => choice(
                Grammar::Dracut,
                format!("{because} and rd.liveinit.flavour=dracut"),
            ),
            _ => match KIWI_KEYS.iter().find(|k| cmdline.has(k)).or_else(|| {
                cmdline
                    .params()
                    .iter()
                    .find(|p| p.key.starts_with("rd.kiwi."))
                    .map(|_| &"rd.kiwi.*")
            }) {
                Some(key) => choice(Grammar::Kiwi, format!("{because} with kiwi's {key}")),
                None => choice(Grammar::Dracut, because),
            },
        };
    }
    match boot {
        Some("live") => return choice(Grammar::LiveBoot, String::from("boot=live")),
        Some("casper") => return choice(Grammar::Casper, String::from("boot=casper")),
        _ => {}
    }
    if let Some(key) = ARCHISO_KEYS.iter().find(|k| cmdline.has(k)) {
        return choice(Grammar::Archiso, format!("{key}="));
    }
    if cmdline.has("img_loop") && (cmdline.has("img_dev") || cmdline.has("img_label")) {
        return choice(
            Grammar::Archiso,
            String::from("img_dev=/img_label= with img_loop="),
        );
    }
    choice(
        Grammar::Dracut,
        String::from("no other grammar's keyword (boot=live, boot=casper, archiso…=, root=live:)"),
    )
}

/// One warning per option (first occurrence) that belongs to another
/// grammar than `chosen`: it is ignored, never acted on.
pub fn foreign_options(cmdline: &Cmdline, chosen: Grammar) -> Vec<String> {
    const ALL: [Grammar; 5] = [
        Grammar::Dracut,
        Grammar::Kiwi,
        Grammar::LiveBoot,
        Grammar::Casper,
        Grammar::Archiso,
    ];
    let mut seen: Vec<&str> = Vec::new();
    let mut warnings = Vec::new();
    for param in cmdline.params() {
        let key = param.key.as_str();
        if seen.contains(&key) || chosen.owns(key) {
            continue;
        }
        // kiwi speaks dracut's grammar too, with its own additions.
        if chosen == Grammar::Kiwi && Grammar::Dracut.owns(key) {
            continue;
        }
        if let Some(owner) = ALL.iter().find(|g| **g != chosen && g.owns(key)) {
            seen.push(key);
            warnings.push(format!(
                "{key} is {owner}'s option, ignored under {chosen} (chosen by {})",
                why_short(chosen)
            ));
        }
    }
    warnings
}

fn why_short(g: Grammar) -> &'static str {
    match g {
        Grammar::Dracut | Grammar::Kiwi => "root=",
        Grammar::LiveBoot => "boot=live",
        Grammar::Casper => "boot=casper, or casper/ on a medium",
        Grammar::Archiso => "archiso's keys",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(text: &str) -> Grammar {
        choose(&Cmdline::parse(text)).grammar
    }

    #[test]
    fn each_grammar_is_chosen_by_its_keyword() {
        let cases = [
            ("root=live:CDLABEL=Fedora rd.live.image", Grammar::Dracut),
            ("rd.live.image root=LABEL=x", Grammar::Dracut),
            ("root=https://h/x.sfs", Grammar::Dracut),
            ("quiet", Grammar::Dracut),
            ("boot=live components", Grammar::LiveBoot),
            ("boot=casper quiet", Grammar::Casper),
            (
                "archisobasedir=arch archisosearchuuid=2026-01-01-00-00-00-00",
                Grammar::Archiso,
            ),
            ("archisolabel=ARCH_202601", Grammar::Archiso),
            ("img_dev=UUID=x img_loop=/a.iso", Grammar::Archiso),
            (
                "root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent",
                Grammar::Kiwi,
            ),
            ("root=live:CDLABEL=CDROM rd.kiwi.debug", Grammar::Kiwi),
            (
                "root=live:CDLABEL=CDROM rd.liveinit.flavour=kiwi",
                Grammar::Kiwi,
            ),
            (
                "root=live:CDLABEL=CDROM mediacheck rd.liveinit.flavour=dracut",
                Grammar::Dracut,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(chosen(text), want, "{text}");
        }
    }

    #[test]
    fn live_build_dracut_images_follow_dracut() {
        // live-build --initramfs dracut-live (spec C1/X3): both grammars' words.
        let c = choose(&Cmdline::parse(
            "boot=live components root=live:CDLABEL=X rd.live.dir=live \
             rd.live.squashimg=filesystem.squashfs",
        ));
        assert_eq!(c.grammar, Grammar::Dracut);
        assert_eq!(c.why, "root=live:CDLABEL=X");
    }

    #[test]
    fn the_last_boot_word_wins() {
        assert_eq!(chosen("boot=casper boot=live"), Grammar::LiveBoot);
        assert_eq!(chosen("boot=local"), Grammar::Dracut);
    }

    #[test]
    fn other_grammars_options_are_named_once() {
        let cmdline = Cmdline::parse(
            "boot=live archisobasedir=arch copytoram copytoram layerfs-path=x \
             rd.live.ram overlay-size=1G toram components",
        );
        let warnings = foreign_options(&cmdline, Grammar::LiveBoot);
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0]
            .starts_with("archisobasedir is archiso's option, ignored under Debian live-boot"));
        assert!(warnings[1].starts_with("copytoram is archiso's"));
        assert!(warnings[2].starts_with("layerfs-path is Ubuntu casper's"));
        assert!(warnings[3].starts_with("rd.live.ram is dracut's"));
    }

    #[test]
    fn kiwi_reads_dracuts_options_as_its_own() {
        let cmdline = Cmdline::parse(
            "root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent boot=live overlay-size=1G",
        );
        assert_eq!(
            foreign_options(&cmdline, Grammar::Kiwi),
            ["overlay-size is Debian live-boot's option, ignored under kiwi (chosen by root=)"]
        );
        let dracut = Cmdline::parse("root=live:LABEL=x mediacheck persistence");
        assert_eq!(foreign_options(&dracut, Grammar::Dracut).len(), 2);
    }
}
