//! Checks a live boot's report against an [`Expect`]: the state dracut
//! hands to the real root (docs/dracut-live.md §3.10) — `/`, the medium at
//! `/run/initramfs/live`, `/run/initramfs/livedev`, `/run/rootfsbase`,
//! `/dev/live-base`, the device-mapper devices and their `/dev/mapper`
//! nodes, the RAM copies, `.need_shutdown` — and the absence of what that
//! mode must not leave.

use crate::report::{LoopDevice, RunKind};

use super::case::Case;
use super::expect::{Base, Expect, LiveBase, Medium, RootFs};
use super::probed::Probed;

impl Case {
    /// Boots and checks everything a successful live boot must show for
    /// `expect`.
    pub fn boot_live(&self, expect: &Expect) -> Probed {
        let b = self.boot_probe();
        check_live(&b, expect);
        b
    }
}

/// Everything a successful live boot must show for `expect`.
pub fn check_live(b: &Probed, expect: &Expect) {
    check_common(b);
    check_root(b, expect);
    check_medium(b, expect);
    check_dm(b, expect);
    check_live_base(b, expect);
    check_rootfsbase(b, expect);
    let copy = b.report.run_entry("/run/initramfs/fsimg/rootfs.img");
    if expect.fsimg_copy {
        b.check(
            copy == Some(&RunKind::File),
            "/run/initramfs/fsimg/rootfs.img (the rd.writable.fsimg copy) is not a file",
        );
    } else {
        b.check(
            copy == Some(&RunKind::Missing),
            "/run/initramfs/fsimg/rootfs.img exists without rd.writable.fsimg",
        );
    }
}

impl Probed {
    /// The bound loop device `/dev/live-base` points at.
    pub fn live_base_loop(&self) -> &LoopDevice {
        let target = match self.report.dev_entry("/dev/live-base") {
            Some(RunKind::Symlink(t)) => t,
            other => self.fail(&format!("/dev/live-base is {other:?}, not a symlink")),
        };
        match self.report.loop_at(target) {
            Some(l) => l,
            None => self.fail(&format!(
                "/dev/live-base -> {target}: not a bound loop device"
            )),
        }
    }

    /// The bound loop devices among the slaves of dm device `name`.
    pub fn dm_slave_loops(&self, name: &str) -> Vec<&LoopDevice> {
        let Some(dm) = self.report.dm_device(name) else {
            self.fail(&format!("no device-mapper device {name}"));
        };
        dm.slaves
            .iter()
            .filter_map(|s| self.report.loop_device(s))
            .collect()
    }
}

/// What every successful boot must show, whatever the layout.
fn check_common(b: &Probed) {
    let r = &b.report;
    b.check(r.pid == Some(1), "the probe is not PID 1");
    b.check(r.root_write == Some(Ok(())), "the write test on `/` failed");
    let fd_numbers: Vec<u32> = r.fds.iter().map(|f| f.fd).collect();
    b.check(
        fd_numbers == [0, 1, 2],
        "PID 1 has other fds open than 0, 1, 2 (leaked by the init?)",
    );
    b.check(
        r.fds.iter().all(|f| f.is_console()),
        "PID 1's fds 0-2 are not the console (char device 5:1 or a tty)",
    );
    // The init reopens the console after the switch, so the real init does
    // not hold fds on the deleted initramfs node.
    b.check(
        r.fds.iter().all(|f| f.target == "/dev/console"),
        "PID 1's fds 0-2 do not point at the new root's /dev/console",
    );
    b.check(r.errors.is_empty(), "the probe reported errors");
    b.check(
        r.run_entry("/run/initramfs/.need_shutdown") == Some(&RunKind::File),
        "/run/initramfs/.need_shutdown is not a file",
    );
    // Lazily unmounted at the end (docs/dracut-live.md §3.10); still referenced by the loops.
    b.check(
        r.mount_at("/run/initramfs/squashfs").is_none(),
        "/run/initramfs/squashfs is still a mount point",
    );
    // The "root is ready" flag is removed before switch_root.
    b.check(
        r.dev_entry("/dev/root") == Some(&RunKind::Missing),
        "/dev/root exists in the real root",
    );
}

fn check_root(b: &Probed, expect: &Expect) {
    let r = &b.report;
    let Some(root) = r.root_mount() else {
        b.fail("no mount at `/`");
    };
    match expect.root {
        RootFs::Overlay => {
            b.check(root.fstype == "overlay", "`/` is not an overlay mount");
            b.check(
                root.source == "LiveOS_rootfs",
                "`/` does not have the source `LiveOS_rootfs`",
            );
            for (key, value) in [
                ("lowerdir", "/run/rootfsbase"),
                ("upperdir", "/run/overlayfs"),
                ("workdir", "/run/ovlwork"),
            ] {
                b.check(
                    root.super_option(key) == Some(value),
                    &format!("`/` is not mounted with {key}={value}"),
                );
            }
            for (link, target) in [
                ("/run/overlayfs", "/run/initramfs/overlay/overlayfs"),
                ("/run/ovlwork", "/run/initramfs/overlay/ovlwork"),
            ] {
                b.check(
                    r.run_entry(link) == Some(&RunKind::Symlink(target.into())),
                    &format!("{link} is not a symlink to {target}"),
                );
            }
        }
        RootFs::LiveRw => {
            b.check(root.fstype == "ext4", "`/` is not ext4");
            b.check(
                root.source == "/dev/mapper/live-rw",
                "`/` is not mounted from /dev/mapper/live-rw",
            );
            b.check(
                r.dm_device("live-rw").is_some_and(|d| d.dev == root.dev),
                "`/` is not the live-rw device-mapper device",
            );
            for link in ["/run/overlayfs", "/run/ovlwork"] {
                b.check(
                    r.run_entry(link) == Some(&RunKind::Missing),
                    &format!("{link} exists although `/` is not an overlay"),
                );
            }
        }
    }
    for opt in expect.root_options {
        b.check(
            root.has_option(opt),
            &format!("`/` is not mounted with `{opt}`"),
        );
    }
}

fn check_medium(b: &Probed, expect: &Expect) {
    let r = &b.report;
    b.check(
        r.run_entry("/run/initramfs/livedev") == Some(&RunKind::Symlink(expect.livedev.into())),
        &format!(
            "/run/initramfs/livedev is not a symlink to {}",
            expect.livedev
        ),
    );
    match expect.medium {
        Medium::Mounted { fstype, entry } => {
            b.check(
                r.live_mounted == Some(true),
                "/run/initramfs/live is not a mount point",
            );
            let live = r.mount_at("/run/initramfs/live");
            b.check(
                live.is_some_and(|m| m.fstype == fstype && m.source == expect.livedev),
                &format!(
                    "/run/initramfs/live is not the {fstype} medium {}",
                    expect.livedev
                ),
            );
            b.check(
                live.is_some_and(|m| m.has_option("ro")),
                "/run/initramfs/live is not mounted read-only",
            );
            b.check(
                live.is_some_and(|m| m.has_option("nosuid") && m.has_option("nodev")),
                "/run/initramfs/live is not mounted nosuid,nodev",
            );
            b.check(
                r.live_entries.iter().any(|e| e == entry),
                &format!("/run/initramfs/live does not contain {entry}"),
            );
        }
        Medium::Released => {
            b.check(
                r.live_mounted == Some(false) && r.mount_at("/run/initramfs/live").is_none(),
                "/run/initramfs/live is still a mount point after the copy to RAM",
            );
            b.check(
                !r.mounts.iter().any(|m| m.source == expect.livedev),
                &format!("{} is still mounted after the copy to RAM", expect.livedev),
            );
        }
        Medium::Raw => {
            b.check(
                r.live_mounted == Some(false) && r.mount_at("/run/initramfs/live").is_none(),
                "/run/initramfs/live is a mount point although the device is the image",
            );
        }
    }
}

fn check_dm(b: &Probed, expect: &Expect) {
    let r = &b.report;
    b.check(
        r.dm_names() == expect.dm,
        &format!("the device-mapper devices are not exactly {:?}", expect.dm),
    );
    for d in &r.dm {
        b.check(
            d.has_mapper_node(),
            &format!(
                "/dev/mapper/{} is not the block node of {} ({}): {}",
                d.name, d.kname, d.dev, d.mapper
            ),
        );
    }
    for (path, kind) in &r.dev_entries {
        let Some(name) = path.strip_prefix("/dev/mapper/") else {
            continue;
        };
        if name != "control" && !expect.dm.contains(&name) {
            b.check(
                *kind == RunKind::Missing,
                &format!("{path} exists ({kind:?}) but {name} is not expected"),
            );
        }
    }
    if let Some(base) = r.dm_device("live-base") {
        b.check(base.read_only == Some(true), "live-base is not read-only");
    }
    if let Some(rw) = r.dm_device("live-rw") {
        b.check(rw.read_only == Some(false), "live-rw is read-only");
    }
}

fn check_live_base(b: &Probed, expect: &Expect) {
    let r = &b.report;
    match expect.live_base {
        LiveBase::Loop(suffix) => {
            let l = b.live_base_loop();
            b.check(
                l.backing.ends_with(suffix),
                &format!(
                    "/dev/live-base is {} backed by {}, not by …{suffix}",
                    l.kname, l.backing
                ),
            );
            b.check(
                l.read_only == Some(true),
                "the loop device behind /dev/live-base is not read-only",
            );
            if let Some(base) = r.dm_device("live-base") {
                b.check(
                    base.slaves == [l.kname.clone()],
                    "live-base does not map (only) the loop device /dev/live-base points at",
                );
            }
        }
        LiveBase::Device(dev) => b.check(
            r.dev_entry("/dev/live-base") == Some(&RunKind::Symlink(dev.into())),
            &format!("/dev/live-base is not a symlink to {dev}"),
        ),
        LiveBase::Absent => b.check(
            r.dev_entry("/dev/live-base") == Some(&RunKind::Missing),
            "/dev/live-base exists",
        ),
    }
}

fn check_rootfsbase(b: &Probed, expect: &Expect) {
    let r = &b.report;
    match expect.rootfsbase {
        Base::Mount(fstype) => {
            let m = r.mount_at("/run/rootfsbase");
            b.check(
                m.is_some_and(|m| m.fstype == fstype),
                &format!("/run/rootfsbase is not a {fstype} mount"),
            );
            b.check(
                m.is_some_and(|m| m.has_option("ro")),
                "/run/rootfsbase is not mounted read-only",
            );
        }
        Base::Absent => b.check(
            r.run_entry("/run/rootfsbase") == Some(&RunKind::Missing)
                && r.mount_at("/run/rootfsbase").is_none(),
            "/run/rootfsbase exists although `/` is not an overlay",
        ),
    }
}
