//! The typed live-boot configuration, decided from the command line
//! (docs/dracut-live.md §1–2). Pure: the same input always gives the same configuration.

mod lookup;
mod overlay;
mod ram;
mod root;
mod waits;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cmdline::{Arg, Cmdline};
use crate::devspec::SpecError;
use crate::grammar::live_boot;
use crate::grammar::{self, Choice, Grammar, LayeredConfig};

use lookup::{legacy, Lookup};
pub use overlay::{OverlayConfig, DEFAULT_OVERLAY_MIB};
pub use ram::RamCopy;
pub use root::LiveRoot;
pub use waits::{parse_seconds, IdleWaits, IDLE_OPTION, PROBE_OPTION, SLOW_IDLE_OPTION};

/// dracut's default for `rd.retry` (seconds the initqueue waits for the root).
pub const DEFAULT_RETRY_SECS: u32 = 180;
/// The default `rd.live.dir`.
pub const DEFAULT_LIVE_DIR: &str = "LiveOS";
/// The default `rd.live.squashimg`.
pub const DEFAULT_SQUASH_IMG: &str = "squashfs.img";
/// dracut's default `rd.minmem`, in MiB.
pub const DEFAULT_MINMEM_MIB: u64 = 1024;

/// Every live-boot option liveinit knows, for spotting typos.
const KNOWN: [&str; 25] = [
    "rd.live.image",
    "rd.live.dir",
    "rd.live.squashimg",
    "rd.live.ram",
    "rd.live.check",
    "rd.live.debug",
    "rd.live.overlay",
    "rd.live.overlay.size",
    "rd.live.overlay.thin",
    "rd.live.overlay.readonly",
    "rd.live.overlay.reset",
    "rd.live.overlay.overlayfs",
    "rd.live.overlay.nouserconfirmprompt",
    "rd.live.overlay.cowfs",
    "rd.overlay",
    "rd.overlay.readonly",
    "rd.overlay.reset",
    "rd.overlay.crypt",
    "rd.writable.fsimg",
    "rd.minmem",
    "rd.retry",
    "rootflags",
    IDLE_OPTION,
    SLOW_IDLE_OPTION,
    PROBE_OPTION,
];

/// Everything the boot needs to know from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Where the live image is.
    pub root: LiveRoot,
    /// Mount the medium read-write (`rw`) instead of read-only (`ro`, default).
    pub medium_rw: bool,
    /// `rd.live.dir`: the directory on the medium holding the image.
    pub live_dir: String,
    /// `rd.live.squashimg`: the image's file name in `live_dir`.
    pub squash_img: String,
    /// `rootflags=`: mount options for a device-mapper root.
    pub rootflags: Option<String>,
    pub overlay: OverlayConfig,
    /// `rd.live.ram`: copy the image to RAM (`auto`: liveinit decides).
    pub ram: RamCopy,
    /// `rd.writable.fsimg`: a writable copy of the filesystem image in RAM.
    pub writable_fsimg: bool,
    /// `rd.minmem`: MiB of RAM that must stay free after a RAM copy.
    pub minmem_mib: u64,
    /// `rd.live.check`: verify the medium's checksum first.
    pub check: bool,
    /// `iso-scan/filename=`: the medium is an ISO file on some filesystem
    /// (docs/dracut-live.md §3.12).
    pub iso_scan: Option<String>,
    /// `rd.live.debug` (or `rd.debug`): more messages.
    pub debug: bool,
    /// `init=`: the real init to run, if given.
    pub init: Option<String>,
    /// Arguments for the real init (the words after `--`).
    pub init_args: Vec<String>,
    /// `rd.retry`: how long to wait for the medium, in seconds.
    pub retry_secs: u32,
    /// `rd.liveinit.idle*`: give up on the medium sooner when nothing new
    /// happens.
    pub idle: IdleWaits,
    /// The download of a network root (`root=live:http://…`); `None` for
    /// every other root.
    pub download: Option<crate::fetch::NetImage>,
    /// The network to bring up: for a network root, or with `rd.neednet=1`
    /// (network-boot-spec §2.2–2.5); `None` when no network is wanted.
    pub net: Option<crate::net::NetPlan>,
    /// Things worth telling the user that do not stop the boot.
    pub warnings: Vec<String>,
    /// Which distribution's grammar the command line speaks, and why.
    pub grammar: Choice,
    /// A medium found by its content with stacked images (Debian
    /// live-boot's `boot=live`, casper's `boot=casper`).
    pub layered: Option<LayeredConfig>,
    /// kiwi mode: kiwi's root under `/run/overlay`.
    pub kiwi: Option<grammar::kiwi::KiwiConfig>,
}

/// Why the command line does not describe a live boot liveinit can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No `root=` at all.
    NoRoot,
    /// `root=` is not a live root (no `live:` prefix and no `rd.live.image`).
    NotLive(String),
    /// `root=live:<spec>` with a spec that is not understood.
    BadSpec { root: String, error: SpecError },
    /// The network root's URL or download options cannot be used.
    Download(crate::fetch::options::NetError),
    /// An option whose value cannot be used.
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The network options cannot be carried out.
    Net(alloc::boxed::Box<crate::net::NetError>),
    /// The command line speaks a grammar liveinit does not carry out yet.
    GrammarNotSupported(Choice),
    /// A check the command line asks for that liveinit cannot do: the boot
    /// stops rather than go on unchecked.
    Refused {
        option: &'static str,
        why: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoRoot => f.write_str(
                "no root= on the kernel command line (expected root=live:<LABEL=…|UUID=…|/dev/…>)",
            ),
            ConfigError::NotLive(root) => write!(
                f,
                "root={root} is not a live root (write root=live:{root}, or add rd.live.image)"
            ),
            ConfigError::BadSpec { root, error } => write!(f, "root={root}: {error}"),
            ConfigError::Download(e) => e.fmt(f),
            ConfigError::BadValue {
                key,
                value,
                expected,
            } => write!(f, "{key}={value}: expected {expected}"),
            ConfigError::Net(e) => e.fmt(f),
            ConfigError::Refused { option, why } => write!(f, "{option}: {why}"),
            ConfigError::GrammarNotSupported(choice) => write!(
                f,
                "{} (chosen by {}) is not supported by liveinit yet; supported: dracut's \
                 root=live:, Debian live-boot's boot=live and casper's boot=casper",
                choice.grammar, choice.why
            ),
        }
    }
}

impl LiveConfig {
    /// Decides the configuration from a parsed command line, in the
    /// grammar it speaks ([`grammar::choose`]).
    pub fn from_cmdline(cmdline: &Cmdline) -> Result<LiveConfig, ConfigError> {
        let mut choice = grammar::choose(cmdline);
        // Ubuntu 22.10 on: no keyword at all (no root=, no boot=); a
        // casper medium decides, at boot.
        if choice.grammar == Grammar::Dracut && grammar::no_keyword::applies(cmdline) {
            choice = grammar::no_keyword::choice();
        }
        let mut cfg = match choice.grammar {
            Grammar::Kiwi => LiveConfig::from_kiwi(cmdline)?,
            Grammar::Dracut => LiveConfig::from_dracut(cmdline)?,
            _ => LiveConfig::from_layered(cmdline, choice.grammar)?,
        };
        if let (true, Some(live)) = (choice.by_content, cfg.layered.as_mut()) {
            if live.images == grammar::ImageChoice::NameChain(None) {
                live.images = grammar::ImageChoice::Detect;
            }
        }
        cfg.warnings
            .extend(grammar::foreign_options(cmdline, choice.grammar));
        cfg.warnings
            .extend(grammar::shared_keys::warnings(cmdline, choice.grammar));
        cfg.grammar = choice;
        Ok(cfg)
    }

    /// kiwi (distro-live-spec §4): dracut's options, kiwi's size syntax
    /// and state paths; for a medium named by `root=live:` only.
    fn from_kiwi(cmdline: &Cmdline) -> Result<LiveConfig, ConfigError> {
        let (kiwi, mut warnings) =
            grammar::kiwi::read(cmdline).map_err(|e| ConfigError::BadValue {
                key: e.key,
                value: e.value,
                expected: e.expected,
            })?;
        // kiwi's own keys are not dracut's unknown ones; its size is its own.
        let mut cfg = LiveConfig::from_dracut(&cmdline.retain(|key| !grammar::kiwi::reads(key)))?;
        if matches!(cfg.root, LiveRoot::Device(_)) {
            // kiwi's module reads none of these; its check is checkmedia.
            let ignored = [
                ("rd.live.ram", cfg.ram != RamCopy::Off),
                ("rd.overlay", cfg.overlay.persistent.is_some()),
                ("rd.writable.fsimg", cfg.writable_fsimg),
            ];
            for (key, given) in ignored {
                if given {
                    warnings.push(format!(
                        "{key} is ignored under kiwi (kiwi-live does not read it)"
                    ));
                }
            }
            if cfg.iso_scan.is_some() {
                warnings.push(String::from(
                    "iso-scan/filename is not supported by liveinit's kiwi mode yet: the ISO \
                     file is not looked for; the medium must be a device",
                ));
            }
            cfg.ram = RamCopy::Off;
            cfg.writable_fsimg = false;
            cfg.check = false;
            cfg.iso_scan = None;
            cfg.kiwi = Some(kiwi);
        } else {
            warnings.push(format!(
                "kiwi mode is for a medium named by root=live:CDLABEL= (or LABEL=, UUID=…); \
                 root=live:{} boots the dracut way, its state under /run/initramfs",
                cfg.root
            ));
        }
        cfg.warnings.extend(warnings);
        Ok(cfg)
    }

    /// Debian live-boot or casper (distro-live-spec §1, §2): the medium is
    /// whichever device holds `<live-media-path>/*.squashfs`.
    fn from_layered(cmdline: &Cmdline, grammar: Grammar) -> Result<LiveConfig, ConfigError> {
        let bad = |e: live_boot::BadValue| ConfigError::BadValue {
            key: e.key,
            value: e.value,
            expected: e.expected,
        };
        let (live, warnings) = match grammar {
            Grammar::Casper => grammar::casper::read(cmdline).map_err(bad)?,
            Grammar::Archiso => grammar::archiso::read(cmdline).map_err(|e| match e {
                grammar::archiso::ArchisoError::Bad(e) => bad(e),
                grammar::archiso::ArchisoError::Refused(r) => ConfigError::Refused {
                    option: r.option,
                    why: r.why,
                },
            })?,
            _ => live_boot::read(cmdline).map_err(bad)?,
        };
        let mut l = Lookup::new(cmdline);
        let retry_secs = number(
            &mut l,
            "rd.retry",
            live_boot::DEFAULT_WAIT_SECS,
            "a number of seconds",
        )?;
        Ok(LiveConfig {
            root: LiveRoot::ByContent,
            medium_rw: false,
            live_dir: live.media_path.clone(),
            squash_img: String::from(DEFAULT_SQUASH_IMG),
            rootflags: None,
            overlay: OverlayConfig::read(&mut Lookup::new(&Cmdline::parse("")))?,
            ram: RamCopy::Off,
            writable_fsimg: false,
            // toram / copytoram leave rd.minmem free, as rd.live.ram does.
            minmem_mib: number(&mut l, "rd.minmem", DEFAULT_MINMEM_MIB, "a number of MiB")?,
            check: false,
            iso_scan: None,
            debug: cmdline.has("debug")
                || cmdline.has("live-boot.debug")
                || cmdline.bool("rd.debug", false),
            init: cmdline
                .value("init")
                .filter(|v| !v.is_empty())
                .map(String::from),
            init_args: cmdline.init_args().to_vec(),
            retry_secs,
            idle: IdleWaits::read(&mut l),
            // The layered grammars boot from a local medium only.
            download: None,
            net: None,
            warnings,
            grammar: grammar::choose(cmdline),
            layered: Some(live),
            kiwi: None,
        })
    }

    /// dracut's grammar (docs/dracut-live.md §1–2).
    fn from_dracut(cmdline: &Cmdline) -> Result<LiveConfig, ConfigError> {
        let mut l = Lookup::new(cmdline);
        let root = live_root(&mut l)?;
        let overlay = OverlayConfig::read(&mut l)?;
        let live_dir = name_option(
            &mut l,
            "rd.live.dir",
            &[legacy("live_dir")],
            DEFAULT_LIVE_DIR,
        )?;
        let squash_img = name_option(&mut l, "rd.live.squashimg", &[], DEFAULT_SQUASH_IMG)?;
        let retry_secs = number(
            &mut l,
            "rd.retry",
            DEFAULT_RETRY_SECS,
            "a number of seconds",
        )?;
        let minmem_mib = number(&mut l, "rd.minmem", DEFAULT_MINMEM_MIB, "a number of MiB")?;
        let mut download_warnings = Vec::new();
        let download = match &root {
            LiveRoot::Url(url) => Some(
                crate::fetch::options::read(cmdline, url, &mut download_warnings)
                    .map_err(ConfigError::Download)?,
            ),
            _ => None,
        };
        download_warnings.extend(crate::fetch::options::unsupported(cmdline));
        let mut net_warnings = Vec::new();
        let net = if matches!(root, LiveRoot::Url(_)) || crate::net::neednet(cmdline) {
            Some(
                crate::net::NetPlan::from_cmdline(cmdline, &mut net_warnings)
                    .map_err(|e| ConfigError::Net(alloc::boxed::Box::new(e)))?,
            )
        } else {
            None
        };
        let config = LiveConfig {
            root,
            medium_rw: medium_rw(cmdline),
            live_dir,
            squash_img,
            rootflags: l
                .value("rootflags", &[])
                .filter(|v| !v.is_empty())
                .map(String::from),
            overlay,
            ram: RamCopy::read(&mut l),
            writable_fsimg: l.bool("rd.writable.fsimg", &[legacy("writable_fsimg")], false),
            minmem_mib,
            check: l.presence("rd.live.check", &[legacy("check")]),
            iso_scan: cmdline
                .value("iso-scan/filename")
                .filter(|v| !v.is_empty())
                .map(String::from),
            debug: l.bool("rd.live.debug", &[legacy("rdlivedebug")], false)
                || cmdline.bool("rd.debug", false),
            init: cmdline
                .value("init")
                .filter(|v| !v.is_empty())
                .map(String::from),
            init_args: cmdline.init_args().to_vec(),
            retry_secs,
            idle: IdleWaits::read(&mut l),
            download,
            net,
            warnings: Vec::new(),
            grammar: grammar::choose(cmdline),
            layered: None,
            kiwi: None,
        };
        l.warn_unused_aliases();
        let mut warnings = l.warnings;
        warnings.extend(download_warnings);
        warnings.extend(net_warnings);
        warnings.extend(unknown_options(cmdline));
        Ok(LiveConfig { warnings, ..config })
    }

    /// Path of the image on the mounted medium, relative to its root.
    pub fn image_path(&self) -> String {
        self.in_live_dir(&self.squash_img)
    }

    /// `name` inside `rd.live.dir`, relative to the medium's root.
    pub fn in_live_dir(&self, name: &str) -> String {
        let dir = self.live_dir.trim_matches('/');
        if dir.is_empty() {
            String::from(name)
        } else {
            format!("{dir}/{name}")
        }
    }
}

fn live_root(l: &mut Lookup<'_>) -> Result<LiveRoot, ConfigError> {
    let root = match l.cmdline.get("root") {
        Arg::Value(v) => v,
        Arg::Absent | Arg::Bare => return Err(ConfigError::NoRoot),
    };
    let spec = match root.strip_prefix("live:") {
        Some(spec) => spec,
        None if LiveRoot::is_bare_url(root) => root,
        None if l.bool("rd.live.image", &[legacy("liveimg")], false) => root,
        None => return Err(ConfigError::NotLive(String::from(root))),
    };
    LiveRoot::parse(spec).map_err(|error| ConfigError::BadSpec {
        root: String::from(root),
        error,
    })
}

/// The last `ro` or `rw` word decides how the medium is mounted (docs/dracut-live.md §2.1).
fn medium_rw(cmdline: &Cmdline) -> bool {
    cmdline
        .params()
        .iter()
        .rev()
        .find(|p| p.value.is_none() && (p.key == "ro" || p.key == "rw"))
        .is_some_and(|p| p.key == "rw")
}

/// A file or directory name option: its value, or the default when absent
/// or empty (an empty name cannot name anything on the medium). A `..`
/// component would reach out of the medium: that stops the boot.
fn name_option(
    l: &mut Lookup<'_>,
    key: &'static str,
    aliases: &[lookup::Alias],
    default: &str,
) -> Result<String, ConfigError> {
    Ok(match l.arg(key, aliases).0 {
        Arg::Value(v) if v.split('/').any(|part| part == "..") => {
            return Err(ConfigError::BadValue {
                key,
                value: String::from(v),
                expected: "a path inside the medium (no `..`)",
            })
        }
        Arg::Value(v) if !v.is_empty() => String::from(v),
        Arg::Absent => String::from(default),
        Arg::Bare | Arg::Value(_) => {
            l.warn(format!("{key} has no value; using {default}"));
            String::from(default)
        }
    })
}

/// A whole-number option; a value that is not one stops the boot with a
/// message naming it, rather than guessing what was meant.
fn number<T: core::str::FromStr>(
    l: &mut Lookup<'_>,
    key: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match l.cmdline.get(key) {
        Arg::Absent => Ok(default),
        Arg::Value(v) => v.parse().map_err(|_| ConfigError::BadValue {
            key,
            value: String::from(v),
            expected,
        }),
        Arg::Bare => Err(ConfigError::BadValue {
            key,
            value: String::new(),
            expected,
        }),
    }
}

/// Warnings for `rd.live.*` / `rd.overlay*` / `rd.liveinit.*` keys that
/// are not options.
fn unknown_options(cmdline: &Cmdline) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    for param in cmdline.params() {
        let key = param.key.as_str();
        let ours = ["rd.live.", "rd.overlay", "rd.liveinit."]
            .iter()
            .any(|prefix| key.starts_with(prefix));
        let known = KNOWN.contains(&key)
            || crate::fetch::options::KNOWN.contains(&key)
            || crate::net::OPTIONS.contains(&key);
        if ours && !known && !unknown.iter().any(|u| u.contains(key)) {
            unknown.push(format!("unknown option '{key}' ignored"));
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devspec::DevSpec;
    use alloc::string::ToString;

    fn config(text: &str) -> Result<LiveConfig, ConfigError> {
        LiveConfig::from_cmdline(&Cmdline::parse(text))
    }

    fn label(l: &str) -> LiveRoot {
        LiveRoot::Device(DevSpec::Label(l.into()))
    }

    #[test]
    fn names_that_climb_out_of_the_medium_are_refused() {
        for bad in [
            "root=live:LABEL=x rd.live.dir=../etc",
            "root=live:LABEL=x rd.live.dir=LiveOS/../../x",
            "root=live:LABEL=x rd.live.squashimg=../../boot/initrd.img",
        ] {
            let err = config(bad).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadValue { expected, .. } if expected.contains("..")),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            config("root=live:LABEL=x rd.live.dir=a..b")
                .unwrap()
                .live_dir,
            "a..b"
        );
    }

    #[test]
    fn live_prefix_selects_a_live_boot_with_defaults() {
        let c = config("root=live:CDLABEL=Fedora quiet").unwrap();
        assert_eq!(c.root, label("Fedora"));
        assert_eq!(c.image_path(), "LiveOS/squashfs.img");
        assert_eq!(c.retry_secs, 180);
        assert_eq!(c.minmem_mib, 1024);
        assert_eq!(c.overlay.size_mib, 32768);
        assert!(!c.medium_rw && c.ram == RamCopy::Off && !c.writable_fsimg && !c.check && !c.debug);
        assert_eq!((c.init, c.rootflags), (None, None));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn root_forms() {
        let cases = [
            ("rd.live.image root=LABEL=x", label("x")),
            ("liveimg root=LABEL=x", label("x")),
            ("liveimg=0 root=LABEL=x", label("x")),
            (
                "root=http://h/r.sfs",
                LiveRoot::Url("http://h/r.sfs".into()),
            ),
            (
                "rd.live.image root=http://h/r.sfs",
                LiveRoot::Url("http://h/r.sfs".into()),
            ),
            ("root=live:/x.iso", LiveRoot::IsoFile("/x.iso".into())),
            (
                "root=live:LABEL=a root=live:/dev/disk/by-uuid/B",
                LiveRoot::Device(DevSpec::Uuid("B".into())),
            ),
            (r#"root="live:CDLABEL=My Live Disk""#, label("My Live Disk")),
            (
                r"root=live:CDLABEL=My\x20Live\x20Disk",
                label("My Live Disk"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(config(text).map(|c| c.root), Ok(want), "{text}");
        }
    }

    #[test]
    fn non_live_and_bad_roots_are_errors() {
        // No keyword at all: a casper medium is looked for, by content.
        let quiet = config("quiet splash").unwrap();
        assert!(quiet.grammar.by_content && quiet.grammar.grammar == Grammar::Casper);
        assert_eq!(
            quiet.layered.map(|l| l.images),
            Some(crate::grammar::ImageChoice::Detect)
        );
        assert_eq!(config("boot=local"), Err(ConfigError::NoRoot));
        assert_eq!(config("root"), Err(ConfigError::NoRoot));
        assert_eq!(
            config("rd.live.image=0 root=LABEL=x"),
            Err(ConfigError::NotLive("LABEL=x".into()))
        );
        assert_eq!(
            config("root=/dev/sda1"),
            Err(ConfigError::NotLive("/dev/sda1".into()))
        );
        assert!(matches!(
            config("root=live:"),
            Err(ConfigError::BadSpec {
                error: SpecError::Empty,
                ..
            })
        ));
        assert!(matches!(
            config("root=live:nonsense"),
            Err(ConfigError::BadSpec {
                error: SpecError::Unknown(_),
                ..
            })
        ));
    }

    #[test]
    fn iso_scan_names_the_file_to_look_for() {
        let get = |text: &str| {
            LiveConfig::from_cmdline(&Cmdline::parse(text))
                .unwrap()
                .iso_scan
        };
        assert_eq!(
            get("root=live:CDLABEL=x iso-scan/filename=/isos/live.iso"),
            Some("/isos/live.iso".into())
        );
        assert_eq!(get("root=live:CDLABEL=x iso-scan/filename="), None);
        assert_eq!(get("root=live:CDLABEL=x"), None);
    }

    #[test]
    fn every_switch_and_its_old_spellings() {
        type Get = fn(&LiveConfig) -> bool;
        let cases: [(&str, Get, usize); 12] = [
            ("rd.live.ram", |c| c.ram.may_copy(), 0),
            ("live_ram", |c| c.ram.may_copy(), 1),
            ("rd.writable.fsimg=1", |c| c.writable_fsimg, 0),
            ("writable_fsimg", |c| c.writable_fsimg, 1),
            ("rd.live.check=0", |c| c.check, 0),
            ("check", |c| c.check, 1),
            ("rd.live.debug", |c| c.debug, 0),
            ("rdlivedebug", |c| c.debug, 1),
            ("rd.debug", |c| c.debug, 0),
            ("rw", |c| c.medium_rw, 0),
            ("rd.live.overlay.thin", |c| c.overlay.thin, 0),
            (
                "rd.live.overlay.nouserconfirmprompt",
                |c| c.overlay.no_prompt,
                0,
            ),
        ];
        for (option, get, warnings) in cases {
            let c = config(&format!("root=live:LABEL=x {option}")).unwrap();
            assert!(get(&c), "{option}");
            assert_eq!(c.warnings.len(), warnings, "{option}: {:?}", c.warnings);
        }
        let c = config("root=live:LABEL=x rd.live.ram=0 rd.writable.fsimg=off").unwrap();
        assert!(c.ram == RamCopy::Off && !c.writable_fsimg);
    }

    #[test]
    fn live_dir_squashimg_rootflags_init_and_args() {
        let c = config(
            "root=live:LABEL=x rd.live.dir=/boot/live/ rd.live.squashimg=root.sfs \
             rootflags=noatime,discard init=/bin/sh -- 3 single",
        )
        .unwrap();
        assert_eq!(c.image_path(), "boot/live/root.sfs");
        assert_eq!(c.in_live_dir("rootfs.img"), "boot/live/rootfs.img");
        assert_eq!(c.rootflags.as_deref(), Some("noatime,discard"));
        assert_eq!(c.init.as_deref(), Some("/bin/sh"));
        assert_eq!(c.init_args, ["3", "single"]);
        let legacy_dir = config("root=live:LABEL=x live_dir=old").unwrap();
        assert_eq!(legacy_dir.image_path(), "old/squashfs.img");
        assert_eq!(legacy_dir.warnings.len(), 1);
    }

    #[test]
    fn empty_names_fall_back_with_a_warning() {
        let c = config("root=live:LABEL=x rd.live.dir= rd.live.squashimg").unwrap();
        assert_eq!(c.image_path(), "LiveOS/squashfs.img");
        assert_eq!(c.warnings.len(), 2);
    }

    #[test]
    fn numbers_are_validated() {
        assert_eq!(
            config("root=live:LABEL=x rd.retry=5").unwrap().retry_secs,
            5
        );
        assert_eq!(
            config("root=live:LABEL=x rd.minmem=64").unwrap().minmem_mib,
            64
        );
        for bad in [
            "rd.retry=soon",
            "rd.retry",
            "rd.minmem=-1",
            "rd.live.overlay.size=abc",
        ] {
            let err = config(&format!("root=live:LABEL=x {bad}")).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadValue { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("expected"), "{err}");
        }
    }

    #[test]
    fn last_ro_or_rw_decides_the_medium_mode() {
        assert!(config("root=live:LABEL=x ro rw").unwrap().medium_rw);
        assert!(!config("root=live:LABEL=x rw ro").unwrap().medium_rw);
        assert!(!config("root=live:LABEL=x rw=1").unwrap().medium_rw);
    }

    #[test]
    fn each_grammar_gives_its_config() {
        let c = config("boot=live components rd.live.ram").unwrap();
        assert_eq!(c.grammar.grammar, Grammar::LiveBoot);
        assert_eq!(c.root, LiveRoot::ByContent);
        assert_eq!(c.retry_secs, 60);
        assert!(c.layered.is_some());
        assert!(c
            .warnings
            .iter()
            .any(|w| w.starts_with("rd.live.ram is dracut's")));
        let c = config("root=live:CDLABEL=CDROM rd.live.image rd.live.overlay.persistent").unwrap();
        assert_eq!(c.grammar.grammar, Grammar::Kiwi);
        assert!(c.layered.is_none());
        assert_eq!(
            c.kiwi.as_ref().map(|k| k.overlay_size.as_str()),
            Some("50%")
        );
        assert_eq!(
            c.kiwi.as_ref().and_then(|k| k.persistent.as_deref()),
            Some("ext4")
        );
        // kiwi's size syntax, and dracut's options it does not read.
        let c = config(
            "root=live:CDLABEL=CDROM rd.liveinit.flavour=kiwi rd.live.overlay.size=25% rd.live.ram",
        )
        .unwrap();
        assert_eq!(c.kiwi.map(|k| k.overlay_size), Some("25%".into()));
        assert_eq!(c.ram, RamCopy::Off);
        assert!(c
            .warnings
            .iter()
            .any(|w| w.starts_with("rd.live.ram is ignored under kiwi")));
        let c = config("root=live:http://h/x.iso rd.liveinit.flavour=kiwi").unwrap();
        assert!(c.kiwi.is_none());
        let c = config("boot=casper rd.retry=5").unwrap();
        assert_eq!((c.grammar.grammar, c.retry_secs), (Grammar::Casper, 5));
        assert!(matches!(
            config("archisolabel=A verify=y"),
            Err(ConfigError::Refused {
                option: "verify",
                ..
            })
        ));
        assert!(matches!(
            config("boot=live overlay-size=lots"),
            Err(ConfigError::BadValue {
                key: "overlay-size",
                ..
            })
        ));
    }

    #[test]
    fn unknown_live_options_are_warned_about_once() {
        let c =
            config("root=live:LABEL=x rd.live.squashimage=a rd.live.squashimage=b rd.overlayfs")
                .unwrap();
        assert_eq!(
            c.warnings,
            [
                "unknown option 'rd.live.squashimage' ignored",
                "unknown option 'rd.overlayfs' ignored"
            ]
        );
    }
}
