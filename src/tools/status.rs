//! `liveinit status`: how full the live system's writable layer is. Meant
//! for people and for monitoring: it exits 1 when the layer is at least
//! [`WARN_PERCENT`]% full or already broken, so an operator hears of a
//! filling overlay before the root turns read-only.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write as _;

use crate::plan::archiso::DM_SNAPSHOT;
use crate::plan::layers::ARCHISO;
use crate::plan::persist::{DM_LIVE_RO, PERSIST_STATE, UPPER_RO_LINK};
use crate::plan::{DM_LIVE_RW, DM_THIN_POOL, LIVE_MNT, UPPER_LINK};
use crate::sys::Sys;
use crate::usage::{mount_at, root_mount, DmUsage, RootLayer, WARN_PERCENT};

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
    let persistent = sys
        .read_file(PERSIST_STATE)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let read_only = sys.file_kind(UPPER_RO_LINK).is_some() || sys.dm_status(DM_LIVE_RO).is_ok();
    match (&persistent, &layer) {
        (Some(_), RootLayer::Overlay { used, total }) if !read_only => {
            let _ = writeln!(
                out,
                "writable layer: overlayfs; its persistent upper layer uses {} of {} MiB ({}%) \
                 of its device",
                used >> 20,
                total >> 20,
                used.saturating_mul(100).checked_div(*total).unwrap_or(0)
            );
        }
        _ => {
            let mut shown = layer.to_string();
            if source.ends_with(DM_SNAPSHOT) {
                shown = shown.replacen(DM_LIVE_RW, DM_SNAPSHOT, 1);
            }
            let _ = writeln!(out, "writable layer: {shown}");
        }
    }
    if let Some(where_) = &persistent {
        let _ = writeln!(out, "persistent:     {where_}");
        if read_only {
            let _ = writeln!(out, "                read-only: {}", persistent_use(sys));
        }
    }
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
        // dracut's upper directory, else archiso's COW space.
        let upper = [UPPER_LINK, ARCHISO.overlay]
            .iter()
            .find_map(|at| sys.fs_usage(at).ok());
        if let Some((used, total)) = upper {
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
        let name = match source.ends_with(DM_SNAPSHOT) {
            true => DM_SNAPSHOT,
            false => DM_LIVE_RW,
        };
        if let Some(usage) = sys
            .dm_status(name)
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

/// How full a persistent layer kept read-only is (it cannot fill up now).
fn persistent_use(sys: &impl Sys) -> String {
    if let Some(usage) = sys
        .dm_status(DM_LIVE_RO)
        .ok()
        .and_then(|line| DmUsage::from_snapshot_status(&line))
    {
        return format!("COW store {usage}");
    }
    match sys.fs_usage(UPPER_RO_LINK) {
        Ok((used, total)) => format!(
            "its device holds {} of {} MiB ({}%)",
            used >> 20,
            total >> 20,
            used.saturating_mul(100).checked_div(total).unwrap_or(0)
        ),
        Err(_) => String::from("usage unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::FakeSys;
    use crate::sys::Errno;

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
    fn archisos_snapshot_and_cow_space_are_reported() {
        let sys = FakeSys::new();
        sys.file(
            "/proc/self/mountinfo",
            b"27 1 254:1 / / rw - ext4 /dev/mapper/arch_airootfs rw\n",
        )
        .file("/fake/dm/arch_airootfs", b"Overflow");
        let (text, code) = status(&sys);
        assert!(text.contains("device-mapper arch_airootfs; FULL"), "{text}");
        assert_eq!(code, 1);
        let sys = FakeSys::new();
        sys.file(
            "/proc/self/mountinfo",
            b"30 1 0:22 / / rw - overlay airootfs rw,lowerdir=/run/archiso/airootfs\n",
        )
        .fail("statvfs /run/overlayfs", Errno::NOENT);
        let (text, _) = status(&sys);
        assert!(text.contains("writable layer: overlayfs"), "{text}");
        assert!(sys
            .calls_starting("statvfs")
            .contains(&"statvfs /run/archiso/cowspace".to_string()));
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
    fn a_persistent_upper_dir_is_named_and_measured_on_its_device() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", OVERLAY_ROOT).file(
            "/run/initramfs/persistent-overlay",
            b"/LiveOS/overlay-X-Y on /dev/sdb1 (overlayfs directories)\n",
        );
        sys.fail("dm status live-ro", Errno::NXIO);
        let (text, code) = status(&sys);
        assert!(
            text.contains("persistent upper layer uses 96 of 100 MiB (96%) of its device"),
            "{text}"
        );
        assert!(
            text.contains("persistent:     /LiveOS/overlay-X-Y on /dev/sdb1"),
            "{text}"
        );
        assert_eq!(code, 1);
    }

    #[test]
    fn a_read_only_persistent_cow_reports_its_own_fill() {
        let sys = FakeSys::new();
        sys.file("/proc/self/mountinfo", DM_ROOT)
            .file("/fake/dm/live-overlay-pool", b"")
            .file("/fake/dm/live-rw", b"16/8192 16")
            .file("/fake/dm/live-ro", b"4096/8192 24")
            .file(
                "/run/initramfs/persistent-overlay",
                b"/LiveOS/o on /dev/sdb1\n",
            );
        let (text, code) = status(&sys);
        assert!(
            text.contains("persistent:     /LiveOS/o on /dev/sdb1"),
            "{text}"
        );
        assert!(text.contains("read-only: COW store 50% used"), "{text}");
        assert_eq!(code, 0);
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
