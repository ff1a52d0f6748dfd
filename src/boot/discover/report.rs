//! What discovery found, and how it tells the user: the matching medium,
//! one line per block device it saw, and the failure when none matched.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write as _;
use core::time::Duration;

use log::error;

use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::devspec::{BlockId, DevSpec};
use crate::discovery::{GaveUp, Timing};
use crate::printable::printable;
use crate::probe::FsInfo;
use crate::sys::Errno;

/// The medium that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Device node, e.g. `/dev/sr0`.
    pub device: String,
    pub fs: FsInfo,
}

/// One block device as seen by a scan, kept for the failure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    pub fs: Option<FsInfo>,
    pub partuuid: Option<String>,
    pub partlabel: Option<String>,
    pub read_error: Option<Errno>,
    /// Its reads stall: no answer came within `rd.liveinit.probe`.
    pub stalled: bool,
    /// For a partition, its disk (`sda` for `sda1`).
    pub parent: Option<String>,
}

impl Seen {
    /// A device whose reads have not answered.
    pub(super) fn stalled(name: &str) -> Seen {
        Seen {
            name: name.to_owned(),
            fs: None,
            partuuid: None,
            partlabel: None,
            read_error: None,
            stalled: true,
            parent: None,
        }
    }

    pub(super) fn id(&self) -> BlockId<'_> {
        BlockId {
            name: &self.name,
            fs: self.fs.as_ref(),
            partuuid: self.partuuid.as_deref(),
            partlabel: self.partlabel.as_deref(),
        }
    }

    /// One line for the user: `sr0: iso9660 LABEL="X" UUID="…"`.
    pub fn describe(&self) -> String {
        let mut line = format!("{}:", self.name);
        match (&self.fs, self.read_error) {
            (Some(fs), _) => {
                let _ = write!(line, " {}", fs.fstype.as_str());
                if let Some(label) = &fs.label {
                    let _ = write!(line, " LABEL=\"{}\"", printable(label));
                }
                if let Some(uuid) = &fs.uuid {
                    let _ = write!(line, " UUID=\"{}\"", printable(uuid));
                }
            }
            (None, Some(e)) => {
                let _ = write!(line, " unreadable ({})", errno_text(e));
            }
            (None, None) if self.stalled => line.push_str(" reads stall (no answer)"),
            (None, None) => line.push_str(" no known filesystem"),
        }
        if let Some(partuuid) = &self.partuuid {
            let _ = write!(line, " PARTUUID=\"{}\"", printable(partuuid));
        }
        if let Some(partlabel) = &self.partlabel {
            let _ = write!(line, " PARTLABEL=\"{}\"", printable(partlabel));
        }
        line
    }
}

/// The search gave up (`why`) at `now`: lists every block device seen,
/// then the error, naming the option that sets the wait that ran out.
pub(super) fn not_found(
    spec: &DevSpec,
    timing: &Timing,
    why: GaveUp,
    now: Duration,
    seen: &[Seen],
) -> BootError {
    let waited = timing.elapsed(now);
    let retry = timing.retry();
    error!("block devices present ({}):", seen.len());
    for device in seen {
        error!("  {}", device.describe());
    }
    let cause = match why {
        GaveUp::Retry => Cause::NoMatchInTime {
            retry,
            seen: seen.len(),
        },
        GaveUp::Idle(idle) => Cause::NoMatchIdle {
            idle,
            waited,
            retry,
            seen: seen.len(),
        },
    };
    BootError::new(Stage::FindMedium, spec.to_string(), cause)
        .with_devices_seen(seen.iter().map(|d| d.describe()).collect())
}

/// Several distinct devices match: each is named, and none is used.
pub(super) fn ambiguous(spec: &DevSpec, candidates: &[&Seen]) -> BootError {
    error!("{} devices match {spec}:", candidates.len());
    for device in candidates {
        error!("  {}", device.describe());
    }
    BootError::new(
        Stage::FindMedium,
        spec.to_string(),
        Cause::AmbiguousMedium {
            devices: candidates
                .iter()
                .map(|d| format!("/dev/{}", d.name))
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::FsType;

    #[test]
    fn a_hostile_label_cannot_forge_a_log_line_or_steer_the_terminal() {
        let seen = Seen {
            name: "sdb1".to_owned(),
            fs: Some(FsInfo {
                fstype: FsType::Vfat,
                label: Some("X\n<3>liveinit: FATAL: \u{1b}[2J".to_owned()),
                uuid: None,
            }),
            partuuid: None,
            partlabel: Some("p\r".to_owned()),
            read_error: None,
            stalled: false,
            parent: None,
        };
        let line = seen.describe();
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(
            line.contains("LABEL=\"X\\x0a<3>liveinit: FATAL: \\x1b[2J\""),
            "{line}"
        );
        assert!(line.contains("PARTLABEL=\"p\\x0d\""), "{line}");
    }
}
