//! Option lookups with dracut's alias rules (docs/dracut-live.md §1 rules 5–7): the
//! current name first, then each older name with a one-line warning.
//!
//! Two kinds of old names exist. Deprecated names (dracut 110 renamed
//! `rd.live.overlay*`) keep their full meaning. Legacy names removed in
//! dracut 104 (`liveimg`, `live_dir`, …) were *presence-only* switches:
//! `liveimg=0` still meant on. liveinit accepts both, so 059-era boot
//! entries keep working, and says what to write instead.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cmdline::{Arg, Cmdline};

/// An older name of an option.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    pub name: &'static str,
    pub kind: AliasKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasKind {
    /// Renamed, same meaning (dracut ≥ 110 warns).
    Deprecated,
    /// Removed in dracut 104; presence alone turns a switch on.
    Legacy,
}

pub const fn deprecated(name: &'static str) -> Alias {
    Alias {
        name,
        kind: AliasKind::Deprecated,
    }
}

pub const fn legacy(name: &'static str) -> Alias {
    Alias {
        name,
        kind: AliasKind::Legacy,
    }
}

/// Every older spelling and its current name, so each one on the command
/// line is warned about even when the current name made it moot.
const ALL_ALIASES: [(Alias, &str); 13] = [
    (legacy("liveimg"), "rd.live.image"),
    (legacy("live_dir"), "rd.live.dir"),
    (legacy("live_ram"), "rd.live.ram"),
    (legacy("check"), "rd.live.check"),
    (legacy("rdlivedebug"), "rd.live.debug"),
    (legacy("writable_fsimg"), "rd.writable.fsimg"),
    (legacy("overlay"), "rd.overlay"),
    (legacy("readonly_overlay"), "rd.overlay.readonly"),
    (legacy("reset_overlay"), "rd.overlay.reset"),
    (deprecated("rd.live.overlay"), "rd.overlay"),
    (deprecated("rd.live.overlay.overlayfs"), "rd.overlay"),
    (
        deprecated("rd.live.overlay.readonly"),
        "rd.overlay.readonly",
    ),
    (deprecated("rd.live.overlay.reset"), "rd.overlay.reset"),
];

/// Reads options and collects the warnings their spelling deserves.
pub struct Lookup<'a> {
    pub cmdline: &'a Cmdline,
    pub warnings: Vec<String>,
    warned: Vec<&'static str>,
}

impl<'a> Lookup<'a> {
    pub fn new(cmdline: &'a Cmdline) -> Self {
        Lookup {
            cmdline,
            warnings: Vec::new(),
            warned: Vec::new(),
        }
    }

    /// Warns about every old spelling present that no lookup consulted.
    pub fn warn_unused_aliases(&mut self) {
        for (alias, key) in ALL_ALIASES {
            if self.cmdline.has(alias.name) {
                self.note_alias(key, alias);
            }
        }
    }

    pub fn warn(&mut self, text: String) {
        self.warnings.push(text);
    }

    /// The raw argument under `key` or, failing that, its first alias given.
    pub fn arg(&mut self, key: &str, aliases: &[Alias]) -> (Arg<'a>, Option<Alias>) {
        let cmdline = self.cmdline;
        let arg = cmdline.get(key);
        if arg != Arg::Absent {
            return (arg, None);
        }
        for alias in aliases {
            let arg = cmdline.get(alias.name);
            if arg != Arg::Absent {
                self.note_alias(key, *alias);
                return (arg, Some(*alias));
            }
        }
        (Arg::Absent, None)
    }

    fn note_alias(&mut self, key: &str, alias: Alias) {
        if self.warned.contains(&alias.name) {
            return;
        }
        self.warned.push(alias.name);
        let text = match alias.kind {
            AliasKind::Deprecated => format!(
                "kernel command line option '{}' is deprecated, use '{key}' instead",
                alias.name
            ),
            AliasKind::Legacy => format!(
                "kernel command line option '{}' was removed from dracut in 104, use '{key}' instead",
                alias.name
            ),
        };
        self.warn(text);
    }

    /// `getargbool default key -d alias…`.
    pub fn bool(&mut self, key: &str, aliases: &[Alias], default: bool) -> bool {
        match self.arg(key, aliases) {
            (
                _,
                Some(Alias {
                    kind: AliasKind::Legacy,
                    ..
                }),
            ) => true,
            (Arg::Absent, _) => default,
            (Arg::Bare, _) => true,
            (Arg::Value(v), _) => !matches!(v, "0" | "no" | "off"),
        }
    }

    /// `getarg key -d alias…` for options that take a value; a bare key
    /// counts as absent (there is nothing to use).
    pub fn value(&mut self, key: &str, aliases: &[Alias]) -> Option<&'a str> {
        match self.arg(key, aliases).0 {
            Arg::Value(v) => Some(v),
            Arg::Absent | Arg::Bare => None,
        }
    }

    /// Presence-only options (`rd.live.check`): any spelling turns it on.
    pub fn presence(&mut self, key: &str, aliases: &[Alias]) -> bool {
        self.arg(key, aliases).0 != Arg::Absent
    }
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn every_old_spelling_is_warned_about_once() {
        let c = Cmdline::parse("liveimg rd.live.image check rd.live.check");
        let mut l = Lookup::new(&c);
        assert!(l.presence("rd.live.check", &[legacy("check")]));
        l.warn_unused_aliases();
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_name_wins_over_aliases_without_a_warning() {
        let c = Cmdline::parse("rd.overlay=0 rd.live.overlay.overlayfs");
        let mut l = Lookup::new(&c);
        assert!(!l.bool(
            "rd.overlay",
            &[deprecated("rd.live.overlay.overlayfs")],
            false
        ));
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn deprecated_alias_keeps_its_meaning_and_warns() {
        let c = Cmdline::parse("rd.live.overlay.overlayfs=0");
        let mut l = Lookup::new(&c);
        assert!(!l.bool(
            "rd.overlay",
            &[deprecated("rd.live.overlay.overlayfs")],
            true
        ));
        assert_eq!(
            l.warnings,
            ["kernel command line option 'rd.live.overlay.overlayfs' is deprecated, use 'rd.overlay' instead"]
        );
    }

    #[test]
    fn legacy_alias_is_presence_only() {
        let c = Cmdline::parse("liveimg=0");
        let mut l = Lookup::new(&c);
        assert!(l.bool("rd.live.image", &[legacy("liveimg")], false));
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("removed from dracut in 104"));
    }

    #[test]
    fn presence_counts_any_value() {
        let c = Cmdline::parse("rd.live.check=0");
        let mut l = Lookup::new(&c);
        assert!(l.presence("rd.live.check", &[legacy("check")]));
        let c = Cmdline::parse("check");
        let mut l = Lookup::new(&c);
        assert!(l.presence("rd.live.check", &[legacy("check")]));
    }

    #[test]
    fn value_ignores_bare_keys() {
        let c = Cmdline::parse("rd.live.dir live_dir=x");
        let mut l = Lookup::new(&c);
        assert_eq!(l.value("rd.live.dir", &[legacy("live_dir")]), None);
        let c = Cmdline::parse("live_dir=x");
        let mut l = Lookup::new(&c);
        assert_eq!(l.value("rd.live.dir", &[legacy("live_dir")]), Some("x"));
    }
}
