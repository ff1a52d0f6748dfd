//! The typed live-boot configuration, decided from the command line
//! (spec §2). Pure: the same input always gives the same configuration.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cmdline::{Arg, Cmdline};
use crate::devspec::{DevSpec, SpecError};

/// dracut's default for `rd.retry` (seconds the initqueue waits for the root).
pub const DEFAULT_RETRY_SECS: u32 = 180;
/// The default `rd.live.dir`.
pub const DEFAULT_LIVE_DIR: &str = "LiveOS";
/// The default `rd.live.squashimg`.
pub const DEFAULT_SQUASH_IMG: &str = "squashfs.img";

/// Everything the boot needs to know from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// The device holding the live medium.
    pub medium: DevSpec,
    /// Mount the medium read-write (`rw`) instead of read-only (`ro`, default).
    pub medium_rw: bool,
    /// `rd.live.dir`: the directory on the medium holding the image.
    pub live_dir: String,
    /// `rd.live.squashimg`: the image's file name in `live_dir`.
    pub squash_img: String,
    /// `init=`: the real init to run, if given.
    pub init: Option<String>,
    /// Arguments for the real init (the words after `--`).
    pub init_args: Vec<String>,
    /// `rd.retry`: how long to wait for the medium, in seconds.
    pub retry_secs: u32,
    /// Things worth telling the user that do not stop the boot.
    pub warnings: Vec<String>,
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
        }
    }
}

impl LiveConfig {
    /// Decides the configuration from a parsed command line.
    pub fn from_cmdline(cmdline: &Cmdline) -> Result<LiveConfig, ConfigError> {
        let mut warnings = Vec::new();
        let root = match cmdline.get("root") {
            Arg::Value(v) => v,
            Arg::Absent | Arg::Bare => return Err(ConfigError::NoRoot),
        };
        let spec = match root.strip_prefix("live:") {
            Some(spec) => spec,
            None if cmdline.bool("rd.live.image", false) => root,
            None => return Err(ConfigError::NotLive(String::from(root))),
        };
        let medium = DevSpec::parse(spec).map_err(|error| ConfigError::BadSpec {
            root: String::from(root),
            error,
        })?;

        Ok(LiveConfig {
            medium,
            medium_rw: medium_rw(cmdline),
            live_dir: path_option(cmdline, "rd.live.dir", DEFAULT_LIVE_DIR, &mut warnings),
            squash_img: path_option(
                cmdline,
                "rd.live.squashimg",
                DEFAULT_SQUASH_IMG,
                &mut warnings,
            ),
            init: cmdline
                .value("init")
                .filter(|v| !v.is_empty())
                .map(String::from),
            init_args: cmdline.init_args().to_vec(),
            retry_secs: retry_secs(cmdline, &mut warnings),
            warnings,
        })
    }

    /// Path of the image on the mounted medium, relative to its root.
    pub fn image_path(&self) -> String {
        let dir = self.live_dir.trim_matches('/');
        if dir.is_empty() {
            String::from(self.squash_img.as_str())
        } else {
            alloc::format!("{dir}/{}", self.squash_img)
        }
    }
}

/// The last `ro` or `rw` word decides how the medium is mounted (§2.1).
fn medium_rw(cmdline: &Cmdline) -> bool {
    cmdline
        .params()
        .iter()
        .rev()
        .find(|p| p.value.is_none() && (p.key == "ro" || p.key == "rw"))
        .is_some_and(|p| p.key == "rw")
}

/// A file or directory name option: its value, or the default when absent
/// or empty (an empty name cannot name anything on the medium).
fn path_option(cmdline: &Cmdline, key: &str, default: &str, warnings: &mut Vec<String>) -> String {
    match cmdline.get(key) {
        Arg::Value(v) if !v.is_empty() => String::from(v),
        Arg::Absent => String::from(default),
        Arg::Bare | Arg::Value(_) => {
            warnings.push(alloc::format!("{key} has no value; using {default}"));
            String::from(default)
        }
    }
}

fn retry_secs(cmdline: &Cmdline, warnings: &mut Vec<String>) -> u32 {
    match cmdline.get("rd.retry") {
        Arg::Absent => DEFAULT_RETRY_SECS,
        Arg::Value(v) => match v.parse::<u32>() {
            Ok(secs) => secs,
            Err(_) => {
                warnings.push(alloc::format!(
                    "rd.retry={v} is not a number of seconds; using {DEFAULT_RETRY_SECS}"
                ));
                DEFAULT_RETRY_SECS
            }
        },
        Arg::Bare => {
            warnings.push(alloc::format!(
                "rd.retry has no value; using {DEFAULT_RETRY_SECS}"
            ));
            DEFAULT_RETRY_SECS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<LiveConfig, ConfigError> {
        LiveConfig::from_cmdline(&Cmdline::parse(text))
    }

    #[test]
    fn live_prefix_selects_a_live_boot_with_defaults() {
        let c = config("root=live:CDLABEL=Fedora quiet").unwrap();
        assert_eq!(c.medium, DevSpec::Label("Fedora".into()));
        assert_eq!(c.live_dir, "LiveOS");
        assert_eq!(c.squash_img, "squashfs.img");
        assert_eq!(c.image_path(), "LiveOS/squashfs.img");
        assert_eq!(c.retry_secs, 180);
        assert!(!c.medium_rw);
        assert_eq!(c.init, None);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn rd_live_image_makes_a_plain_root_live() {
        let c = config("rd.live.image root=LABEL=x").unwrap();
        assert_eq!(c.medium, DevSpec::Label("x".into()));
        assert_eq!(
            config("rd.live.image=0 root=LABEL=x"),
            Err(ConfigError::NotLive("LABEL=x".into()))
        );
        assert_eq!(
            config("root=/dev/sda1"),
            Err(ConfigError::NotLive("/dev/sda1".into()))
        );
    }

    #[test]
    fn labels_with_spaces_quoted_or_escaped() {
        let quoted = config(r#"root="live:CDLABEL=My Live Disk""#).unwrap();
        let escaped = config(r"root=live:CDLABEL=My\x20Live\x20Disk").unwrap();
        assert_eq!(quoted.medium, DevSpec::Label("My Live Disk".into()));
        assert_eq!(quoted.medium, escaped.medium);
    }

    #[test]
    fn last_root_wins() {
        let c = config("root=live:LABEL=a root=live:/dev/disk/by-uuid/B").unwrap();
        assert_eq!(c.medium, DevSpec::Uuid("B".into()));
    }

    #[test]
    fn missing_or_bad_roots_are_errors() {
        assert_eq!(config("quiet"), Err(ConfigError::NoRoot));
        assert_eq!(config("root"), Err(ConfigError::NoRoot));
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
    fn live_dir_squashimg_init_and_args() {
        let c = config(
            "root=live:LABEL=x rd.live.dir=/boot/live/ rd.live.squashimg=root.sfs init=/bin/sh -- 3 single",
        )
        .unwrap();
        assert_eq!(c.image_path(), "boot/live/root.sfs");
        assert_eq!(c.init.as_deref(), Some("/bin/sh"));
        assert_eq!(c.init_args, ["3", "single"]);
    }

    #[test]
    fn empty_names_fall_back_with_a_warning() {
        let c = config("root=live:LABEL=x rd.live.dir= rd.live.squashimg").unwrap();
        assert_eq!(c.image_path(), "LiveOS/squashfs.img");
        assert_eq!(c.warnings.len(), 2);
    }

    #[test]
    fn retry_parses_or_warns() {
        assert_eq!(
            config("root=live:LABEL=x rd.retry=5").unwrap().retry_secs,
            5
        );
        let c = config("root=live:LABEL=x rd.retry=soon").unwrap();
        assert_eq!(c.retry_secs, DEFAULT_RETRY_SECS);
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn last_ro_or_rw_decides_the_medium_mode() {
        assert!(config("root=live:LABEL=x ro rw").unwrap().medium_rw);
        assert!(!config("root=live:LABEL=x rw ro").unwrap().medium_rw);
        assert!(!config("root=live:LABEL=x rw=1").unwrap().medium_rw);
    }
}
