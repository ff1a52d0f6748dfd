//! `liveinit status`: how full the live system's writable layer is. Meant
//! for people and for monitoring: it exits 1 when the layer is at least
//! [`WARN_PERCENT`]% full or already broken, so an operator hears of a
//! filling overlay before the root turns read-only.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write as _;

use crate::plan::{DM_LIVE_RW, DM_THIN_POOL, LIVE_MNT, UPPER_LINK};
use crate::sys::Sys;
use crate::usage::{root_mount, DmUsage, RootLayer, WARN_PERCENT};

/// The report and the exit status (0 fine, 1 needs attention, 2 unknown).
pub fn status(sys: &impl Sys) -> (String, i32) {
    let mut out = String::new();
    let mountinfo = sys
        .read_file("/proc/self/mountinfo")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let Some((source, fstype)) = root_mount(&mountinfo) else {
        return (
            String::from("cannot tell what / is (no /proc/self/mountinfo?)\n"),
            2,
        );
    };
    let _ = writeln!(out, "root:           {fstype} from {source}");
    if let Some((medium, kind)) = mount_at(&mountinfo, LIVE_MNT) {
        let _ = writeln!(out, "live medium:    {medium} ({kind}) at {LIVE_MNT}");
    }
    super::livenet_status::report(sys, &mut out);
    let layer = layer(sys, source, fstype);
    let _ = writeln!(out, "writable layer: {layer}");
    if layer.needs_attention() {
        let _ = writeln!(
            out,
            "attention: the writable layer is {WARN_PERCENT}% full or more; \
             save your work elsewhere (writes will soon fail)"
        );
        return (out, 1);
    }
    (out, 0)
}

fn layer(sys: &impl Sys, source: &str, fstype: &str) -> RootLayer {
    if fstype == "overlay" {
        if let Ok((used, total)) = sys.fs_usage(UPPER_LINK) {
            return RootLayer::Overlay { used, total };
        }
    }
    let is_dm = source.starts_with("/dev/mapper/") || source.starts_with("/dev/dm-");
    if is_dm {
        if let Some(usage) = sys
            .dm_status(DM_THIN_POOL)
            .ok()
            .and_then(|line| DmUsage::from_thin_pool_status(&line))
        {
            return RootLayer::DeviceMapper(usage);
        }
        if let Some(usage) = sys
            .dm_status(DM_LIVE_RW)
            .ok()
            .and_then(|line| DmUsage::from_snapshot_status(&line))
        {
            return RootLayer::DeviceMapper(usage);
        }
    }
    RootLayer::Other {
        fstype: fstype.to_owned(),
        source: source.to_owned(),
    }
}

/// Source and type of what is mounted at `target`.
fn mount_at<'a>(mountinfo: &'a str, target: &str) -> Option<(&'a str, &'a str)> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut r = right.split_whitespace();
        let (fstype, source) = (r.next()?, r.next()?);
        (left.split_whitespace().nth(4)? == target).then_some((source, fstype))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::FakeSys;

    const OVERLAY_ROOT: &[u8] = b"25 24 11:0 / /run/initramfs/live ro - iso9660 /dev/sr0 ro\n\
        30 1 0:22 / / rw - overlay LiveOS_rootfs rw,lowerdir=/run/rootfsbase\n";
    const DM_ROOT: &[u8] = b"27 1 254:1 / / rw,relatime - ext4 /dev/mapper/live-rw rw\n";

    #[test]
    fn overlay_usage_comes_from_the_upper_dirs_filesystem() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", OVERLAY_ROOT);
        let (text, code) = status(&sys);
        assert!(
            text.contains("root:           overlay from LiveOS_rootfs"),
            "{text}"
        );
        assert!(
            text.contains("live medium:    /dev/sr0 (iso9660)"),
            "{text}"
        );
        assert!(text.contains("uses 96 of 100 MiB (96%)"), "{text}");
        assert_eq!(code, 1, "96% needs attention");
        assert_eq!(sys.calls_starting("statvfs"), ["statvfs /run/overlayfs"]);
    }

    #[test]
    fn a_snapshot_root_reports_its_cow_store() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", DM_ROOT)
            .file("/fake/dm/live-overlay-pool", b"")
            .file("/fake/dm/live-rw", b"2072/8192 24");
        let (text, code) = status(&sys);
        assert!(
            text.contains("device-mapper live-rw; 25% used (2072 of 8192)"),
            "{text}"
        );
        assert_eq!(code, 0);
    }

    #[test]
    fn an_overflowed_snapshot_is_flagged() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", DM_ROOT)
            .file("/fake/dm/live-overlay-pool", b"")
            .file("/fake/dm/live-rw", b"Overflow");
        let (text, code) = status(&sys);
        assert!(text.contains("FULL"), "{text}");
        assert_eq!(code, 1);
    }

    #[test]
    fn a_thin_pool_reports_its_data_blocks() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", DM_ROOT).file(
            "/fake/dm/live-overlay-pool",
            b"0 213/2048 120/128 - rw discard_passdown queue_if_no_space - 512 ",
        );
        let (text, code) = status(&sys);
        assert!(text.contains("93% used (120 of 128)"), "{text}");
        assert_eq!(code, 1);
    }

    #[test]
    fn an_unknown_system_says_so() {
        let sys = FakeSys::new();
        assert_eq!(status(&sys).1, 2);
        sys.file(
            "/proc/self/mountinfo",
            b"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n",
        );
        let (text, code) = status(&sys);
        assert!(text.contains("not a live root"), "{text}");
        assert_eq!(code, 0);
    }
}
