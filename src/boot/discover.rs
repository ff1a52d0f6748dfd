//! Finding the live medium: scan the block devices the kernel knows, probe
//! each one's superblock, and retry until one matches or the bound passes.

use std::fmt::Write as _;
use std::time::Duration;

use log::{error, info};

use super::error::{errno_text, BootError, Stage};
use crate::devspec::{BlockId, DevSpec};
use crate::probe::{self, FsInfo, PROBE_BYTES};
use crate::sys::{Errno, Sys};

const SYS_BLOCK: &str = "/sys/class/block";
/// How often to look again while waiting for the medium.
const POLL: Duration = Duration::from_millis(250);
/// How often to say that we are still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

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
}

impl Seen {
    fn id(&self) -> BlockId<'_> {
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
                    let _ = write!(line, " LABEL=\"{label}\"");
                }
                if let Some(uuid) = &fs.uuid {
                    let _ = write!(line, " UUID=\"{uuid}\"");
                }
            }
            (None, Some(e)) => {
                let _ = write!(line, " unreadable ({})", errno_text(e));
            }
            (None, None) => line.push_str(" no known filesystem"),
        }
        if let Some(partuuid) = &self.partuuid {
            let _ = write!(line, " PARTUUID=\"{partuuid}\"");
        }
        if let Some(partlabel) = &self.partlabel {
            let _ = write!(line, " PARTLABEL=\"{partlabel}\"");
        }
        line
    }
}

/// Waits up to `timeout` for a block device matching `spec`.
pub fn find_medium(sys: &impl Sys, spec: &DevSpec, timeout: Duration) -> Result<Found, BootError> {
    let start = sys.now();
    let mut next_progress = PROGRESS_EVERY;
    info!(
        "looking for the live medium {spec} (up to {} s)",
        timeout.as_secs()
    );
    loop {
        let seen = scan(sys);
        if let Some(hit) = seen.iter().find(|s| spec.matches(&s.id())) {
            if let Some(fs) = &hit.fs {
                let found = Found {
                    device: format!("/dev/{}", hit.name),
                    fs: fs.clone(),
                };
                info!("found the live medium: {}", hit.describe());
                return Ok(found);
            }
            // Matched by name but no filesystem on it: keep waiting, it
            // may be a drive whose medium is still spinning up.
        }
        let waited = sys.now().saturating_sub(start);
        if waited >= timeout {
            return Err(not_found(spec, timeout, &seen));
        }
        if waited >= next_progress {
            info!(
                "still waiting for {spec} ({} s of {} s); {} block devices so far",
                waited.as_secs(),
                timeout.as_secs(),
                seen.len()
            );
            next_progress += PROGRESS_EVERY;
        }
        sys.sleep(POLL);
    }
}

fn not_found(spec: &DevSpec, timeout: Duration, seen: &[Seen]) -> BootError {
    error!("block devices present ({}):", seen.len());
    for device in seen {
        error!("  {}", device.describe());
    }
    BootError::message(
        Stage::FindMedium,
        spec.to_string(),
        format!(
            "no block device matched within {} s ({} devices seen; rd.retry= sets the wait)",
            timeout.as_secs(),
            seen.len()
        ),
    )
}

/// Looks at every block device once.
pub fn scan(sys: &impl Sys) -> Vec<Seen> {
    let Ok(names) = sys.read_dir(SYS_BLOCK) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|name| !name.starts_with("ram"))
        .filter(|name| sectors(sys, name) > 0)
        .map(|name| look_at(sys, name))
        .collect()
}

fn sectors(sys: &impl Sys, name: &str) -> u64 {
    sys.read_file(&format!("{SYS_BLOCK}/{name}/size"))
        .ok()
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        .unwrap_or(0)
}

fn look_at(sys: &impl Sys, name: &str) -> Seen {
    let (fs, read_error) = match sys.read_head(&format!("/dev/{name}"), PROBE_BYTES) {
        Ok(head) => (probe::probe(&head), None),
        Err(e) => (None, Some(e)),
    };
    let uevent = sys
        .read_file(&format!("{SYS_BLOCK}/{name}/uevent"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let field = |key: &str| {
        uevent
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .map(String::from)
    };
    Seen {
        name: name.to_owned(),
        fs,
        partuuid: field("PARTUUID="),
        partlabel: field("PARTNAME="),
        read_error,
    }
}
