//! `liveinit explain`: what a command line means and what the init would do
//! with it, for each layout a medium can have. Pure: the very functions the
//! init runs, rendered as text.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::cmdline::Cmdline;
use crate::config::{LiveConfig, LiveRoot, RamCopy, IDLE_OPTION, PROBE_OPTION, SLOW_IDLE_OPTION};
use crate::discovery::seconds_text;
use crate::plan::image::{rootfs_img_path, NESTED_ROOTFS};
use crate::plan::ram::{ROOTFS_COPY, SQUASHED_COPY};
use crate::plan::ram_auto;
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
    let _ = writeln!(
        out,
        "grammar: {} (chosen by {})",
        cfg.grammar.grammar, cfg.grammar.why
    );
    if let Some(live) = &cfg.layered {
        crate::grammar::explain::layered(&mut out, &cfg, live, &policy.warnings);
        return out;
    }
    if let Some(kiwi) = &cfg.kiwi {
        crate::grammar::kiwi::explain(&mut out, &cfg, kiwi, &policy.warnings);
        return out;
    }
    options(&mut out, &cfg);
    let all: Vec<String> = policy
        .warnings
        .iter()
        .chain(&cfg.warnings)
        .cloned()
        .collect();
    warnings(&mut out, &all);
    if let Some(net) = &cfg.net {
        let when = match cfg.root {
            LiveRoot::Url(_) => "before anything else, for the network root",
            _ => "after the medium is found (rd.neednet=1; a failure is only a warning)",
        };
        let _ = writeln!(out, "\nnetwork, brought up {when}:");
        for line in crate::net::describe::describe(net) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let plans = match (&cfg.root, &cfg.download) {
        (LiveRoot::ImageFile(path), _) => {
            let _ = writeln!(out, "\nplans, by what the image file turns out to be:");
            image_file_plans(&cfg, path)
        }
        (LiveRoot::Url(_), Some(net)) => {
            let _ = writeln!(out, "\ndownload:");
            for line in crate::fetch::plan::download_lines(net, cfg.minmem_mib) {
                let _ = writeln!(out, "  {line}");
            }
            let path = format!("{}/{}", crate::fetch::LIVENET_DIR, net.url.file_name());
            let _ = writeln!(out, "\nplans, by what the downloaded file turns out to be:");
            let mut all = image_file_plans(&cfg, &path);
            let attach = plan::iso_scan::attach_initramfs_iso(&path);
            for (title, steps) in plans(&cfg) {
                all.push((
                    format!("an ISO 9660 image, attached as <medium>, holding {title}"),
                    [attach.clone(), steps].concat(),
                ));
            }
            all
        }
        (LiveRoot::Device(_) | LiveRoot::IsoFile(_), _) => {
            let _ = writeln!(out, "\nplans, by what the medium turns out to hold:");
            plans(&cfg)
        }
        (LiveRoot::Url(_), None) | (LiveRoot::ByContent, _) => {
            let _ = writeln!(
                out,
                "\nthis root is not supported yet: the init would stop ({action}, rd.emergency)."
            );
            return out;
        }
    };
    for (title, steps) in plans {
        let _ = writeln!(out, "\n{title}:");
        for step in steps {
            let _ = writeln!(out, "  {step}");
        }
    }
    let on_medium = !matches!(cfg.root, LiveRoot::ImageFile(_));
    if let Some((_, persistent)) =
        plan::persist::explain(&cfg).filter(|(_, p)| on_medium && !p.is_empty())
    {
        let _ = writeln!(out, "\nthe persistent overlay, by what is found:");
        for (title, steps) in persistent {
            let _ = writeln!(out, "\n{title}:");
            for step in steps {
                let _ = writeln!(out, "  {step}");
            }
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
        LiveRoot::Url(u) => format!(
            "{} (a network image)",
            cfg.download
                .as_ref()
                .map_or_else(|| u.clone(), |n| format!("{}", n.url))
        ),
        LiveRoot::ByContent => format!("{}", cfg.root),
    };
    let overlay = if o.none {
        String::from("none (the image itself is made writable)")
    } else if o.overlayfs {
        String::from("overlayfs")
    } else if o.thin {
        format!(
            "device-mapper thin pool of {} MiB (at most half the RAM, checked at boot) over a \
             root image; overlayfs over a flattened root",
            o.size_mib
        )
    } else {
        format!(
            "device-mapper snapshot, {} MiB copy-on-write in RAM (at most half the RAM, checked \
             at boot) over a root image; overlayfs over a flattened root",
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
         an ISO 9660 medium without one is used with a warning; Esc skips it)"
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
    let ram = match cfg.ram {
        RamCopy::Off => String::from("no: the image is read from the medium"),
        RamCopy::Always => format!(
            "the image file is copied to RAM once it is checked to leave {} MiB free \
             (rd.minmem); the medium is then released (rd.live.ram); a device that is itself \
             the image is used in place",
            cfg.minmem_mib
        ),
        RamCopy::Auto => format!("{} (rd.live.ram=auto)", ram_auto::rule_text(cfg.minmem_mib)),
    };
    let mut rows: Vec<(&str, String)> = alloc::vec![
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
        ("ram", ram),
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
            plan::persist::explain(cfg)
                .map(|(summary, _)| summary)
                .unwrap_or_else(|| String::from("no")),
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
    let no_effect = if cfg.ram == RamCopy::Off {
        ""
    } else {
        " (rd.live.ram has no effect)"
    };
    match (&cfg.root, &cfg.download) {
        (LiveRoot::Url(_), Some(net)) => {
            let path = format!("{}/{}", crate::fetch::LIVENET_DIR, net.url.file_name());
            let in_ram = InRam {
                image: format!("{path}, downloaded; what it holds decides the plan below"),
                ram: format!(
                    "the image is downloaded into RAM ({path}) and must leave {} MiB free \
                     (rd.minmem); nothing is copied again{no_effect}",
                    cfg.minmem_mib
                ),
                check: "a downloaded ISO's implanted MD5 is verified before it is mounted \
                        (rd.live.check); other images are not (for their SHA-256, see the \
                        download below)",
                downloaded: true,
            };
            rows = in_ram.rows(cfg, rows);
        }
        (LiveRoot::ImageFile(path), _) => {
            let in_ram = InRam {
                image: format!("{path}; what it holds decides the plan below"),
                ram: format!(
                    "the image is a file of the initramfs, already in RAM; nothing is \
                     copied{no_effect}"
                ),
                check: "no: rd.live.check verifies a medium, and an image file is not one",
                downloaded: false,
            };
            rows = in_ram.rows(cfg, rows);
        }
        _ => {}
    }
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<11} {}", value.trim_end());
    }
}

/// What the rows say for a root that is a file already in RAM (an image
/// file in the initramfs, or a download): no medium is looked for, so the
/// medium, iso-scan, wait, idle and probe rows do not apply; the image is
/// that file; `rd.live.ram` has nothing left to copy. (A download's URL,
/// RAM check, verification and destination are its own section.)
struct InRam {
    image: String,
    ram: String,
    /// Shown only with `rd.live.check`.
    check: &'static str,
    /// A download may be an ISO, whose persistent overlay is looked for as
    /// a medium's; an image file never has one.
    downloaded: bool,
}

impl InRam {
    fn rows<'a>(
        mut self,
        cfg: &LiveConfig,
        rows: Vec<(&'a str, String)>,
    ) -> Vec<(&'a str, String)> {
        rows.into_iter()
            .filter_map(|(key, value)| match key {
                "medium" | "iso-scan" | "wait" | "idle" | "probe" => None,
                "check" if !cfg.check => None,
                "check" => Some((key, String::from(self.check))),
                "image" => Some((key, core::mem::take(&mut self.image))),
                "ram" => Some((key, core::mem::take(&mut self.ram))),
                "persistent" if value != "no" && self.downloaded => {
                    Some((key, format!("only if the download is an ISO: {value}")))
                }
                "persistent" if !self.downloaded => Some((
                    key,
                    match &cfg.overlay.persistent {
                        Some(asked) => format!(
                            "no: rd.overlay={asked} is not looked for, an image file is not on \
                             a medium (changes do not survive a reboot)"
                        ),
                        None => value,
                    },
                )),
                _ => Some((key, value)),
            })
            .collect()
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
    // rd.live.ram: the image file is copied out of the medium before it is
    // attached (boot::ram), so the loop is backed by the copy in RAM.
    let copy = cfg.ram == RamCopy::Always;
    let (squashed, copy_squashed) = to_ram(copy, plan::image::squash_img_path(cfg), SQUASHED_COPY);
    let (rootfs_img, copy_rootfs) = to_ram(copy, rootfs_img_path(cfg), ROOTFS_COPY);
    let image_steps = plan::mount_image(&ImageSource::SquashedFile(squashed), FsType::Squashfs);
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
            path: rootfs_img,
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
            format!("a filesystem with {image}, the root itself (flattened: {FLAT_MARKS})"),
            join(&[&mounted, &copy_squashed, &image_steps, &flat]),
        ),
        (
            format!("a filesystem with {image} holding LiveOS/rootfs.img (ext4)"),
            join(&[&mounted, &copy_squashed, &image_steps, &nested]),
        ),
        (
            format!(
                "a filesystem with {} (uncompressed ext4)",
                cfg.in_live_dir("rootfs.img")
            ),
            join(&[&mounted, &copy_rootfs, &uncompressed]),
        ),
        (
            String::from("a device that is itself a squashfs or EROFS image"),
            join(&[&raw_medium, &raw_image, &raw_root]),
        ),
    ]
}

/// What makes an image a flattened root (plan::image::classify_image).
const FLAT_MARKS: &str = "it has /usr, /ostree, /proc or an executable /sbin/init";

/// Where an image file is used from, and the copy that puts it there:
/// `on_medium` itself, or (with `rd.live.ram`) its copy at `in_ram`.
fn to_ram(copy: bool, on_medium: String, in_ram: &str) -> (String, Vec<Step>) {
    if !copy {
        return (on_medium, Vec::new());
    }
    let step = Step::CopyFile {
        from: on_medium,
        to: String::from(in_ram),
    };
    (String::from(in_ram), alloc::vec![step])
}

/// An image file already in RAM (`root=live:/x.img`, or a download):
/// each kind of image it can be.
fn image_file_plans(cfg: &LiveConfig, path: &str) -> Vec<(String, Vec<Step>)> {
    let record = plan::image_file::record_image_file(path);
    let squashed = ImageSource::SquashedFile(String::from(path));
    let mount = plan::mount_image(&squashed, FsType::Squashfs);
    let flat = plan::assemble_root(
        cfg,
        &Layout::Flattened {
            base: Source::Loop(LoopSlot::Image),
        },
    );
    let nested = plan::assemble_root(
        cfg,
        &Layout::FsImage {
            path: String::from(NESTED_ROOTFS),
            fstype: FsType::Ext4,
            in_squashfs: true,
        },
    );
    let ext = plan::assemble_root(
        cfg,
        &Layout::FsImage {
            path: String::from(path),
            fstype: FsType::Ext4,
            in_squashfs: false,
        },
    );
    alloc::vec![
        (
            format!("a squashfs or EROFS image, the root itself (flattened: {FLAT_MARKS})"),
            [record.clone(), mount.clone(), flat].concat(),
        ),
        (
            String::from("a squashfs image holding LiveOS/rootfs.img (ext4)"),
            [record.clone(), mount, nested].concat(),
        ),
        (
            String::from("an ext4 image, the root filesystem itself"),
            [record, ext].concat(),
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
    fn shows_the_ram_copy_and_the_auto_rule() {
        let text = explain("root=live:CDLABEL=x");
        assert!(
            text.contains("ram         no: the image is read from the medium\n"),
            "{text}"
        );
        let text = explain("root=live:CDLABEL=x rd.live.ram rd.minmem=64");
        assert!(
            text.contains("ram         the image file is copied to RAM once it is checked to leave 64 MiB free"),
            "{text}"
        );
        let text = explain("root=live:CDLABEL=x rd.live.ram=auto");
        for want in [
            "ram         decided at boot: copy if the medium is an optical drive or a USB disk",
            "the image is under 4096 MiB",
            "MemTotal holds the image plus 2048 MiB",
            "(rd.live.ram=auto)",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert!(!text.contains("unknown option"), "{text}");
    }
    #[test]
    fn the_plans_attach_the_copy_in_ram_under_rd_live_ram() {
        let text = explain("root=live:CDLABEL=x rd.live.ram");
        assert!(text.contains(
            "  copy /run/initramfs/live/LiveOS/squashfs.img -> /run/initramfs/squashed.img\n  \
             attach loop <- /run/initramfs/squashed.img (ro)\n"
        ));
        assert!(text.contains(
            "  copy /run/initramfs/live/LiveOS/rootfs.img -> /run/initramfs/rootfs.img\n  \
             attach loop <- /run/initramfs/rootfs.img (ro)\n"
        ));
        let text = explain("root=live:CDLABEL=x");
        assert!(!text.contains("copy /run/initramfs/live"));
        assert!(text.contains("attach loop <- /run/initramfs/live/LiveOS/squashfs.img (ro)\n"));
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
        assert!(text.contains("plans, by what the image file"), "{text}");
        assert!(
            text.contains("  symlink /run/initramfs/livedev -> /images/rootfs.img"),
            "{text}"
        );
        assert!(
            text.contains("  attach loop <- /images/rootfs.img (ro)"),
            "{text}"
        );
    }

    #[test]
    fn a_network_root_shows_its_download_and_what_follows() {
        let text = explain("root=live:http://10.0.2.2:8080/live.iso rd.liveinit.net.stall=9");
        for want in [
            "root        http://10.0.2.2:8080/live.iso (a network image)",
            "download:\n  bring the network up, then GET http://10.0.2.2:8080/live.iso",
            "9 s without progress",
            "  mount tmpfs /run/initramfs/livenet",
            "  attach loop <- /run/initramfs/livenet/live.iso (ro)",
            "an ISO 9660 image, attached as <medium>, holding a filesystem with LiveOS/squashfs.img",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        let text = explain("root=live:ftp://h/x.img");
        assert!(
            text.contains("error: root URL ftp://h/x.img: ftp:// is not supported"),
            "{text}"
        );
    }

    #[test]
    fn a_network_root_shows_only_rows_that_apply_to_a_download() {
        let digest = "ab".repeat(32);
        let text = explain(&format!(
            "root=live:http://h:8080/f/live.img rd.live.ram rd.minmem=256 \
             rd.liveinit.net.sha256={digest}"
        ));
        for gone in [
            "medium      ",
            "iso-scan    ",
            "check       ",
            "wait        ",
            "idle        ",
            "probe       ",
            "image       LiveOS/squashfs.img",
            "read from the medium",
        ] {
            assert!(!text.contains(gone), "{gone:?} shown in:\n{text}");
        }
        for want in [
            // The download URL.
            "GET http://h:8080/f/live.img",
            // The RAM check.
            "ram         the image is downloaded into RAM (/run/initramfs/livenet/live.img) \
             and must leave 256 MiB free (rd.minmem); nothing is copied again \
             (rd.live.ram has no effect)",
            "its announced size leaves less than 256 MiB of RAM (rd.minmem)",
            // The verification.
            &format!("verify SHA-256 {digest} before using it"),
            // Where it lands.
            "image       /run/initramfs/livenet/live.img, downloaded",
            "rename it to /run/initramfs/livenet/live.img when complete",
            "overlay     ",
            "init        /sbin/init",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        let checked = explain("root=live:http://h/x.iso rd.live.check");
        assert!(
            checked.contains("check       a downloaded ISO's implanted MD5 is verified"),
            "{checked}"
        );
        // So does an image file in the initramfs, already in RAM.
        let file = explain("root=live:/images/live.img rd.live.ram rd.live.check");
        for gone in [
            "medium      ",
            "wait        ",
            "image       LiveOS/squashfs.img",
        ] {
            assert!(!file.contains(gone), "{gone:?} shown in:\n{file}");
        }
        for want in [
            "image       /images/live.img; what it holds decides the plan below",
            "ram         the image is a file of the initramfs, already in RAM; nothing is \
             copied (rd.live.ram has no effect)",
            "check       no: rd.live.check verifies a medium, and an image file is not one",
        ] {
            assert!(file.contains(want), "missing {want:?} in:\n{file}");
        }
        let file = explain("root=live:/images/live.img rd.overlay=LABEL=p");
        assert!(
            file.contains("persistent  no: rd.overlay=LABEL=p is not looked for"),
            "{file}"
        );
        assert!(
            !file.contains("the persistent overlay, by what is found"),
            "{file}"
        );
        let url = explain("root=live:http://h/x.iso rd.overlay=LABEL=p");
        assert!(
            url.contains("persistent  only if the download is an ISO: /LiveOS/overlay-"),
            "{url}"
        );
        // A local root keeps every row.
        let local = explain("root=live:CDLABEL=x");
        assert!(local.contains("medium      read-only"), "{local}");
        assert!(local.contains("wait        180 s"), "{local}");
    }

    #[test]
    fn rd_overlay_changes_the_nested_plan() {
        let text = explain("root=live:LABEL=x rd.overlay");
        assert!(text.contains("overlay     overlayfs"));
        assert!(!text.contains("dm create live-rw"), "{text}");
    }

    #[test]
    fn a_persistent_overlay_is_explained_with_each_form() {
        let text = explain("root=live:CDLABEL=x rd.overlay=LABEL=p rd.overlay.reset");
        for want in [
            "persistent  /LiveOS/overlay-<LABEL>-<UUID> on LABEL=p (found like the medium",
            "emptied first (rd.overlay.reset)",
            "the persistent overlay, by what is found:",
            "  mount <overlay device> -> /run/initramfs/overlayfs (ext4, rw, nosuid, nodev)",
            "  empty /run/initramfs/overlayfs/LiveOS/overlay-<LABEL>-<UUID> (rd.overlay.reset)",
            "  mount <persistent overlay loop> -> /run/initramfs/overlayfs (ext4, rw",
            "snapshot <base loop> <persistent overlay loop> PO 8",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        let text = explain("root=live:CDLABEL=x rd.overlay=nonsense");
        assert!(
            text.contains("persistent  nonsense: unknown device specification"),
            "{text}"
        );
        assert!(!text.contains("by what is found"), "{text}");
        assert!(explain("root=live:CDLABEL=x").contains("persistent  no\n"));
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
        let failed = explain("root rd.break=nowhere");
        assert!(
            failed.contains("unknown break point") && failed.contains("error: no root="),
            "{failed}"
        );
        // No keyword at all: casper by content, and what happens without it.
        let none = explain("quiet splash");
        assert!(
            none.contains("grammar: Ubuntu casper (chosen by no root=, boot= or archiso")
                && none.contains("the one *.live.squashfs")
                && none.contains("the boot stops: no root="),
            "{none}"
        );
    }
}
