//! What to do when the boot stops, on purpose or not (docs/dracut-live.md §2.9, §3.11,
//! §5.3): `rd.break`, `rd.shell` and `rd.emergency`.
//!
//! Read separately from the live configuration, so that a command line
//! whose live options are wrong still gets its emergency policy honoured.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cmdline::{Arg, Cmdline};

/// What the machine does when the boot cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmergencyAction {
    #[default]
    PowerOff,
    Reboot,
    Halt,
}

impl EmergencyAction {
    pub fn name(self) -> &'static str {
        match self {
            EmergencyAction::PowerOff => "poweroff",
            EmergencyAction::Reboot => "reboot",
            EmergencyAction::Halt => "halt",
        }
    }

    fn parse(text: &str) -> Option<EmergencyAction> {
        match text {
            "poweroff" => Some(EmergencyAction::PowerOff),
            "reboot" => Some(EmergencyAction::Reboot),
            "halt" => Some(EmergencyAction::Halt),
            _ => None,
        }
    }
}

/// dracut's hook points, mapped onto liveinit's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreakPoint {
    /// The command line is read; nothing else has happened.
    Cmdline,
    /// Before kernel modules are loaded.
    PreUdev,
    /// Modules are loaded; before devices are looked at.
    PreTrigger,
    /// Before waiting for the medium.
    Initqueue,
    /// The medium is found; before it is mounted.
    PreMount,
    /// The image is mounted; before the writable root is assembled.
    Mount,
    /// The new root is mounted at /sysroot; before the init is chosen.
    PrePivot,
    /// Everything is ready; before the switch.
    Cleanup,
    /// A bare `rd.break`: the very last moment before `switch_root`.
    SwitchRoot,
}

impl BreakPoint {
    pub const ALL: [BreakPoint; 8] = [
        BreakPoint::Cmdline,
        BreakPoint::PreUdev,
        BreakPoint::PreTrigger,
        BreakPoint::Initqueue,
        BreakPoint::PreMount,
        BreakPoint::Mount,
        BreakPoint::PrePivot,
        BreakPoint::Cleanup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BreakPoint::Cmdline => "cmdline",
            BreakPoint::PreUdev => "pre-udev",
            BreakPoint::PreTrigger => "pre-trigger",
            BreakPoint::Initqueue => "initqueue",
            BreakPoint::PreMount => "pre-mount",
            BreakPoint::Mount => "mount",
            BreakPoint::PrePivot => "pre-pivot",
            BreakPoint::Cleanup => "cleanup",
            BreakPoint::SwitchRoot => "switch_root",
        }
    }
}

impl fmt::Display for BreakPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// `rd.shell`: offer a shell after a fatal error (default off, as
    /// dracut's `die`). A break always offers one.
    pub shell_on_fatal: bool,
    /// `rd.emergency`: what follows a fatal error.
    pub action: EmergencyAction,
    /// Every `rd.break` point asked for.
    pub breaks: Vec<BreakPoint>,
    pub warnings: Vec<String>,
}

impl Policy {
    pub fn from_cmdline(cmdline: &Cmdline) -> Policy {
        let mut policy = Policy {
            shell_on_fatal: cmdline.bool("rd.shell", false),
            ..Policy::default()
        };
        match cmdline.get("rd.emergency") {
            Arg::Absent => {}
            Arg::Value(v) if EmergencyAction::parse(v).is_some() => {
                policy.action = EmergencyAction::parse(v).unwrap_or_default();
            }
            Arg::Value(v) => policy.warnings.push(format!(
                "rd.emergency={v}: expected reboot, poweroff or halt; using poweroff"
            )),
            Arg::Bare => policy
                .warnings
                .push(String::from("rd.emergency has no value; using poweroff")),
        }
        // Unlike most options, every rd.break counts, not just the last.
        for param in cmdline.params().iter().filter(|p| p.key == "rd.break") {
            let point = match param.value.as_deref() {
                None | Some("") => Some(BreakPoint::SwitchRoot),
                Some(name) => BreakPoint::ALL.into_iter().find(|b| b.name() == name),
            };
            match point {
                Some(point) if !policy.breaks.contains(&point) => policy.breaks.push(point),
                Some(_) => {}
                None => policy.warnings.push(format!(
                    "rd.break={}: unknown break point (known: cmdline, pre-udev, pre-trigger, \
                     initqueue, pre-mount, mount, pre-pivot, cleanup, or bare rd.break)",
                    param.value.as_deref().unwrap_or_default()
                )),
            }
        }
        policy
    }

    pub fn breaks_at(&self, point: BreakPoint) -> bool {
        self.breaks.contains(&point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::from_cmdline(&Cmdline::parse(text))
    }

    #[test]
    fn defaults_are_dracuts() {
        let p = policy("root=live:LABEL=x");
        assert!(!p.shell_on_fatal);
        assert_eq!(p.action, EmergencyAction::PowerOff);
        assert!(p.breaks.is_empty() && p.warnings.is_empty());
    }

    #[test]
    fn shell_and_action() {
        assert!(policy("rd.shell").shell_on_fatal);
        assert!(!policy("rd.shell=0").shell_on_fatal);
        assert_eq!(
            policy("rd.emergency=reboot").action,
            EmergencyAction::Reboot
        );
        assert_eq!(policy("rd.emergency=halt").action, EmergencyAction::Halt);
        let p = policy("rd.emergency=explode");
        assert_eq!(p.action, EmergencyAction::PowerOff);
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn every_break_counts() {
        let p =
            policy("rd.break=pre-mount rd.break rd.break=cmdline rd.break=pre-mount rd.break=nope");
        assert_eq!(
            p.breaks,
            [
                BreakPoint::PreMount,
                BreakPoint::SwitchRoot,
                BreakPoint::Cmdline
            ]
        );
        assert_eq!(p.warnings.len(), 1);
        assert!(p.breaks_at(BreakPoint::Cmdline));
        assert!(!p.breaks_at(BreakPoint::Cleanup));
        for point in BreakPoint::ALL {
            let p = policy(&format!("rd.break={}", point.name()));
            assert_eq!(p.breaks, [point]);
        }
    }
}
