//! How full the writable layer is, from what the kernel reports: the
//! device-mapper status of `live-rw`, or the filesystem holding overlayfs's
//! upper dir. Pure parsing, for `liveinit status`.

use core::fmt;

/// What a snapshot or thin target's status line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmUsage {
    /// `<used>/<total> <metadata>` in sectors (snapshot), or a thin pool's
    /// data blocks `<used>/<total>`.
    Used { used: u64, total: u64 },
    /// The COW store filled up (`PO` snapshots): the root is now read-only.
    Overflow,
    /// The snapshot was invalidated (a full non-overflow snapshot).
    Invalid,
}

impl DmUsage {
    /// Parses a `snapshot` status line (`"2072/8192 24"`, `"Overflow"`,
    /// `"Invalid"`).
    pub fn from_snapshot_status(line: &str) -> Option<DmUsage> {
        match line.trim() {
            "Overflow" => return Some(DmUsage::Overflow),
            "Invalid" => return Some(DmUsage::Invalid),
            _ => {}
        }
        let fraction = line.split_whitespace().next()?;
        fraction_usage(fraction)
    }

    /// Parses a `thin-pool` status line: `<transaction> <used meta>/<total
    /// meta> <used data>/<total data> …`; the data blocks are what fills.
    pub fn from_thin_pool_status(line: &str) -> Option<DmUsage> {
        let data = line.split_whitespace().nth(2)?;
        fraction_usage(data)
    }

    /// Percentage used, when known.
    pub fn percent(self) -> Option<u64> {
        match self {
            DmUsage::Used { used, total } => used.saturating_mul(100).checked_div(total),
            DmUsage::Overflow | DmUsage::Invalid => Some(100),
        }
    }
}

/// `MemTotal` from `/proc/meminfo`, in MiB.
pub fn mem_total_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn fraction_usage(text: &str) -> Option<DmUsage> {
    let (used, total) = text.split_once('/')?;
    Some(DmUsage::Used {
        used: used.parse().ok()?,
        total: total.parse().ok()?,
    })
}

impl fmt::Display for DmUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DmUsage::Used { used, total } => write!(
                f,
                "{}% used ({used} of {total})",
                self.percent().unwrap_or(0)
            ),
            DmUsage::Overflow => {
                f.write_str("FULL: the copy-on-write store overflowed, the root is now read-only")
            }
            DmUsage::Invalid => f.write_str(
                "INVALID: the snapshot was invalidated when it filled up; the root is unusable",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn snapshot_status_lines_as_the_kernel_prints_them() {
        assert_eq!(
            DmUsage::from_snapshot_status("2072/8192 24"),
            Some(DmUsage::Used {
                used: 2072,
                total: 8192
            })
        );
        assert_eq!(
            DmUsage::from_snapshot_status("Overflow"),
            Some(DmUsage::Overflow)
        );
        assert_eq!(
            DmUsage::from_snapshot_status("Invalid"),
            Some(DmUsage::Invalid)
        );
        assert_eq!(DmUsage::from_snapshot_status(""), None);
        assert_eq!(DmUsage::from_snapshot_status("x/y 1"), None);
        assert_eq!(
            DmUsage::from_snapshot_status("4096/8192 16")
                .unwrap()
                .to_string(),
            "50% used (4096 of 8192)"
        );
        assert!(DmUsage::Overflow.to_string().contains("read-only"));
    }

    #[test]
    fn thin_pool_status_reports_data_blocks() {
        let line = "0 213/2048 4/128 - rw discard_passdown queue_if_no_space - 512 ";
        assert_eq!(
            DmUsage::from_thin_pool_status(line),
            Some(DmUsage::Used {
                used: 4,
                total: 128
            })
        );
        assert_eq!(DmUsage::from_thin_pool_status("0 1/2"), None);
    }

    #[test]
    fn mem_total_from_meminfo() {
        let text = "MemTotal:        1004012 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total_mib(text), Some(980));
        assert_eq!(mem_total_mib("MemFree: 1 kB"), None);
    }

    #[test]
    fn an_empty_total_does_not_divide_by_zero() {
        assert_eq!(DmUsage::Used { used: 0, total: 0 }.percent(), None);
    }
}

/// What `liveinit status` found about the running live system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootLayer {
    /// overlayfs: bytes used and total on the filesystem of the upper dir.
    Overlay { used: u64, total: u64 },
    /// A device-mapper snapshot or thin `live-rw`.
    DeviceMapper(DmUsage),
    /// Not a live root liveinit knows how to measure.
    Other {
        fstype: alloc::string::String,
        source: alloc::string::String,
    },
}

/// Above this share used, `liveinit status` warns (and exits 1).
pub const WARN_PERCENT: u64 = 90;

impl RootLayer {
    /// Whether the layer is nearly full or already broken.
    pub fn needs_attention(&self) -> bool {
        match self {
            RootLayer::Overlay { used, total } => {
                used.saturating_mul(100).checked_div(*total).unwrap_or(0) >= WARN_PERCENT
            }
            RootLayer::DeviceMapper(usage) => usage.percent().unwrap_or(0) >= WARN_PERCENT,
            RootLayer::Other { .. } => false,
        }
    }
}

impl fmt::Display for RootLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootLayer::Overlay { used, total } => write!(
                f,
                "overlayfs; its upper layer uses {} of {} MiB ({}%) of RAM-backed space",
                used >> 20,
                total >> 20,
                used.saturating_mul(100).checked_div(*total).unwrap_or(0)
            ),
            RootLayer::DeviceMapper(usage) => write!(f, "device-mapper live-rw; {usage}"),
            RootLayer::Other { fstype, source } => {
                write!(
                    f,
                    "{fstype} from {source} (not a live root liveinit set up)"
                )
            }
        }
    }
}

/// Source and type of what is mounted at `target`.
pub fn mount_at<'a>(mountinfo: &'a str, target: &str) -> Option<(&'a str, &'a str)> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut r = right.split_whitespace();
        let (fstype, source) = (r.next()?, r.next()?);
        (left.split_whitespace().nth(4)? == target).then_some((source, fstype))
    })
}

/// The source and type of the filesystem mounted at `/`, from
/// `/proc/self/mountinfo` (the last mount there wins, as for the kernel).
pub fn root_mount(mountinfo: &str) -> Option<(&str, &str)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            let mut r = right.split_whitespace();
            let fstype = r.next()?;
            let source = r.next()?;
            (mount_point == "/").then_some((source, fstype))
        })
        .next_back()
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn root_mount_is_the_last_one_on_slash() {
        let info = "1 0 0:2 / / rw - rootfs rootfs rw\n\
                    30 1 0:22 / / rw,relatime - overlay LiveOS_rootfs rw,lowerdir=/run/rootfsbase\n\
                    31 30 0:5 / /dev rw - devtmpfs devtmpfs rw\n";
        assert_eq!(root_mount(info), Some(("LiveOS_rootfs", "overlay")));
        assert_eq!(root_mount("garbage"), None);
    }

    #[test]
    fn attention_at_ninety_percent_or_when_broken() {
        assert!(!RootLayer::Overlay {
            used: 89,
            total: 100
        }
        .needs_attention());
        assert!(RootLayer::Overlay {
            used: 90,
            total: 100
        }
        .needs_attention());
        assert!(RootLayer::DeviceMapper(DmUsage::Overflow).needs_attention());
        assert!(!RootLayer::DeviceMapper(DmUsage::Used { used: 1, total: 8 }).needs_attention());
        assert!(!RootLayer::Other {
            fstype: "ext4".into(),
            source: "/dev/sda1".into()
        }
        .needs_attention());
    }
}
