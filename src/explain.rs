//! `liveinit explain`: what a command line means and what the init would do
//! with it, for each layout a medium can have. Pure: the very functions the
//! init runs, rendered as text.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::cmdline::Cmdline;
use crate::config::{LiveConfig, LiveRoot, IDLE_OPTION, PROBE_OPTION, SLOW_IDLE_OPTION};
use crate::discovery::seconds_text;
use crate::plan::image::{rootfs_img_path, NESTED_ROOTFS};
use crate::plan::{self, ImageSource, Layout, LoopSlot, Medium, MediumPlan, Source, Step};
use crate::policy::Policy;
use crate::probe::FsType;

/// Stands for the medium's device node, which only discovery can know.
const MEDIUM: &str = "<medium>";

/// Explains `text` (a kernel command line).
pub fn explain(text: &str) -> String {
    let cmdline = Cmdline::parse(text);
    let mut out = String::new();
    let _ = writeln!(out, "command line: {}", words(text));
    let policy = Policy::from_cmdline(&cmdline);
    let action = policy.action.name();
    let cfg = match LiveConfig::from_cmdline(&cmdline) {
        Ok(cfg) => cfg,
        Err(e) => {
            warnings(&mut out, &policy.warnings);
            let _ = writeln!(out, "error: {e}");
            let _ = writeln!(out, "the init would stop here ({action}, rd.emergency).");
            return out;
        }
    };
    options(&mut out, &cfg);
    let all: Vec<String> = policy
        .warnings
        .iter()
        .chain(&cfg.warnings)
        .cloned()
        .collect();
    warnings(&mut out, &all);
    if !matches!(cfg.root, LiveRoot::Device(_) | LiveRoot::IsoFile(_)) {
        let _ = writeln!(
            out,
            "\nthis root is not supported yet: the init would stop ({action}, rd.emergency)."
        );
        return out;
    }
    let _ = writeln!(out, "\nplans, by what the medium turns out to hold:");
    for (title, steps) in plans(&cfg) {
        let _ = writeln!(out, "\n{title}:");
        for step in steps {
            let _ = writeln!(out, "  {step}");
        }
    }
    out
}

/// The warnings the init would log, policy's (rd.break, rd.emergency…)
/// and the configuration's.
fn warnings(out: &mut String, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nwarnings:");
    for warning in warnings {
        let _ = writeln!(out, "  - {warning}");
    }
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn options(out: &mut String, cfg: &LiveConfig) {
    let o = &cfg.overlay;
    let root = match &cfg.root {
        LiveRoot::Device(spec) => format!("{spec} (a block device)"),
        LiveRoot::IsoFile(p) => {
            format!("{p} (an ISO file in the initramfs, attached to a loop device: <medium> below)")
        }
        LiveRoot::ImageFile(p) => format!("{p} (an image file in the initramfs)"),
        LiveRoot::Url(u) => format!("{u} (a network image)"),
    };
    let overlay = if o.none {
        String::from("none (the image itself is made writable)")
    } else if o.overlayfs {
        String::from("overlayfs")
    } else if o.thin {
        format!(
            "device-mapper thin pool of {} MiB (at most half the RAM, checked at boot)",
            o.size_mib
        )
    } else {
        format!(
            "device-mapper snapshot, {} MiB copy-on-write in RAM (at most half the RAM, checked at boot)",
            o.size_mib
        )
    };
    let idle = match (cfg.idle.idle, cfg.idle.slow) {
        (Some(idle), Some(slow)) => format!(
            "give up after {} without news ({IDLE_OPTION}), {} once a USB disk or optical drive is there ({SLOW_IDLE_OPTION})",
            seconds_text(idle),
            seconds_text(slow)
        ),
        _ => format!("off: only rd.retry ends the wait ({IDLE_OPTION}=0)"),
    };
    let check = if cfg.check {
        "the medium's implanted MD5 is verified before it is mounted (rd.live.check; \
         an ISO 9660 medium without one is used with a warning)"
    } else {
        "no"
    };
    let iso_scan = match &cfg.iso_scan {
        Some(path) => format!(
            "{path} on any filesystem, if no device matches: attached to a loop device \
             that must match root= (iso-scan/filename)"
        ),
        None => String::from("no"),
    };
    let rows: [(&str, String); 12] = [
        ("root", root),
        (
            "medium",
            String::from(if cfg.medium_rw {
                "read-write"
            } else {
                "read-only"
            }),
        ),
        ("check", String::from(check)),
        ("iso-scan", iso_scan),
        ("image", cfg.image_path()),
        ("wait", format!("{} s at most (rd.retry)", cfg.retry_secs)),
        ("idle", idle),
        (
            "probe",
            format!(
                "each device read in a child process; one silent for {} is named as stalling and not waited for ({PROBE_OPTION})",
                seconds_text(cfg.idle.probe)
            ),
        ),
        ("overlay", overlay),
        (
            "persistent",
            o.persistent.clone().unwrap_or_else(|| String::from("no")),
        ),
        (
            "rootflags",
            cfg.rootflags
                .clone()
                .unwrap_or_else(|| String::from("(none)")),
        ),
        (
            "init",
            format!(
                "{} {}",
                cfg.init.as_deref().unwrap_or("/sbin/init"),
                cfg.init_args.join(" ")
            ),
        ),
    ];
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<11} {}", value.trim_end());
    }
}

/// Each layout dracut knows, with the steps the init would take for it.
fn plans(cfg: &LiveConfig) -> Vec<(String, Vec<Step>)> {
    let medium = Medium {
        device: MEDIUM,
        fstype: FsType::Iso9660,
    };
    let mounted = match plan::mount_medium(cfg, medium) {
        MediumPlan::Mount(steps) | MediumPlan::RawImage(steps) => steps,
    };
    let squashed = ImageSource::SquashedFile(plan::image::squash_img_path(cfg));
    let image_steps = plan::mount_image(&squashed, FsType::Squashfs);
    let image_loop = Source::Loop(LoopSlot::Image);
    let join = |parts: &[&[Step]]| parts.concat();

    let flat = plan::assemble_root(cfg, &Layout::Flattened { base: image_loop });
    let nested = plan::assemble_root(
        cfg,
        &Layout::FsImage {
            path: String::from(NESTED_ROOTFS),
            fstype: FsType::Ext4,
            in_squashfs: true,
        },
    );
    let uncompressed = plan::assemble_root(
        cfg,
        &Layout::FsImage {
            path: rootfs_img_path(cfg),
            fstype: FsType::Ext4,
            in_squashfs: false,
        },
    );
    let raw_medium = match plan::mount_medium(
        cfg,
        Medium {
            device: MEDIUM,
            fstype: FsType::Squashfs,
        },
    ) {
        MediumPlan::Mount(steps) | MediumPlan::RawImage(steps) => steps,
    };
    let raw_image = plan::mount_image(
        &ImageSource::SquashedDevice(String::from(MEDIUM)),
        FsType::Squashfs,
    );
    let raw_root = plan::assemble_root(
        cfg,
        &Layout::Flattened {
            base: Source::Path(String::from(MEDIUM)),
        },
    );
    let image = cfg.image_path();
    alloc::vec![
        (
            format!("a filesystem with {image}, the root itself (flattened: it has /usr)"),
            join(&[&mounted, &image_steps, &flat]),
        ),
        (
            format!("a filesystem with {image} holding LiveOS/rootfs.img (ext4)"),
            join(&[&mounted, &image_steps, &nested]),
        ),
        (
            format!(
                "a filesystem with {} (uncompressed ext4)",
                cfg.in_live_dir("rootfs.img")
            ),
            join(&[&mounted, &uncompressed]),
        ),
        (
            String::from("a device that is itself a squashfs or EROFS image"),
            join(&[&raw_medium, &raw_image, &raw_root]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_options_warnings_and_every_layout() {
        let text = explain(
            "root=live:CDLABEL=Fedora rd.live.overlay.size=512 liveimg rd.live.squashimage=x quiet",
        );
        for want in [
            "root        LABEL=Fedora (a block device)",
            "overlay     device-mapper snapshot, 512 MiB copy-on-write in RAM",
            "kernel command line option 'liveimg' was removed from dracut in 104",
            "unknown option 'rd.live.squashimage' ignored",
            "a filesystem with LiveOS/squashfs.img, the root itself",
            "  mount <medium> -> /run/initramfs/live (iso9660, ro, nosuid, nodev)",
            "  mount LiveOS_rootfs -> /sysroot (overlay, rw,",
            "  dm create live-rw: 0 <sectors of <base loop>> snapshot <base loop> <cow loop> PO 8",
            "  attach loop <- /run/initramfs/live/LiveOS/rootfs.img (ro)",
            "a device that is itself a squashfs or EROFS image",
            "  mount <medium> -> /run/initramfs/squashfs (squashfs, ro)",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }

    #[test]
    fn shows_whether_the_medium_is_checked() {
        let text = explain("root=live:CDLABEL=x rd.live.check");
        assert!(
            text.contains(
                "check       the medium's implanted MD5 is verified before it is mounted"
            ),
            "{text}"
        );
        let text = explain("root=live:CDLABEL=x");
        assert!(text.contains("check       no\n"), "{text}");
        assert!(text.contains("iso-scan    no\n"), "{text}");
        let text = explain("root=live:CDLABEL=x iso-scan/filename=/a.iso");
        assert!(
            text.contains("iso-scan    /a.iso on any filesystem, if no device matches"),
            "{text}"
        );
    }

    #[test]
    fn an_iso_file_in_the_initramfs_is_planned_like_a_device() {
        let text = explain("root=live:/images/live.iso");
        assert!(
            text.contains("root        /images/live.iso (an ISO file in the initramfs"),
            "{text}"
        );
        assert!(text.contains("plans, by what the medium"), "{text}");
        let text = explain("root=live:/images/rootfs.img");
        assert!(text.contains("this root is not supported yet"), "{text}");
    }

    #[test]
    fn rd_overlay_changes_the_nested_plan() {
        let text = explain("root=live:LABEL=x rd.overlay");
        assert!(text.contains("overlay     overlayfs"));
        assert!(!text.contains("dm create live-rw"), "{text}");
    }

    #[test]
    fn errors_are_explained_not_planned() {
        let text = explain("root=/dev/sda1 quiet");
        assert!(
            text.contains("error: root=/dev/sda1 is not a live root"),
            "{text}"
        );
        assert!(!text.contains("plans"));
        assert!(
            text.contains("stop here (poweroff, rd.emergency)"),
            "{text}"
        );
        let text = explain("root=live: rd.emergency=reboot");
        assert!(text.contains("stop here (reboot, rd.emergency)"), "{text}");
        let text = explain("root=live:LABEL=x rd.live.overlay.size=-5");
        assert!(
            text.contains("rd.live.overlay.size=-5: expected a size in MiB"),
            "{text}"
        );
    }

    #[test]
    fn shows_every_wait_and_the_policy_warnings() {
        let text =
            explain("root=live:CDLABEL=x rd.liveinit.idle=2.5 rd.liveinit.idel=1 rd.break=nowhere");
        assert!(
            text.contains("wait        180 s at most (rd.retry)"),
            "{text}"
        );
        assert!(
            text.contains("give up after 2.5 s without news (rd.liveinit.idle), 15 s once"),
            "{text}"
        );
        assert!(
            text.contains("unknown option 'rd.liveinit.idel' ignored"),
            "{text}"
        );
        assert!(
            text.contains("rd.break=nowhere: unknown break point"),
            "{text}"
        );
        let probe = explain("root=live:CDLABEL=x rd.liveinit.probe=2");
        assert!(
            probe.contains(
                "one silent for 2 s is named as stalling and not waited for (rd.liveinit.probe)"
            ),
            "{probe}"
        );
        let off = explain("root=live:CDLABEL=x rd.liveinit.idle=0");
        assert!(off.contains("off: only rd.retry ends the wait"), "{off}");
        // A policy warning is shown even when the configuration fails.
        let failed = explain("rd.break=nowhere");
        assert!(
            failed.contains("unknown break point") && failed.contains("error: no root="),
            "{failed}"
        );
    }
}
