//! `liveinit explain` for the grammars other than dracut's: the options
//! as understood, and the plan the init would run, from the same functions.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::live_boot::LiveBootConfig;
use crate::config::LiveConfig;
use crate::plan::layers::{self, Image, LIVE_BOOT};
use crate::probe::FsType;

/// Debian live-boot: options, warnings, and the plan for a medium holding
/// `filesystem.squashfs` and one more image.
pub fn live_boot(out: &mut String, cfg: &LiveConfig, live: &LiveBootConfig, policy: &[String]) {
    let paths = &LIVE_BOOT;
    let dir = &live.media_path;
    let medium = match &live.media {
        Some(spec) => format!(
            "{spec} first (live-media=), then every block device: partitions before their \
             disk, each mounted read-only at {} and kept if {dir}/ holds an image",
            paths.medium
        ),
        None => format!(
            "every block device, partitions before their disk, each mounted read-only at {} \
             and kept if {dir}/ holds an image (*.squashfs, *.ext2/3/4, *.xfs, *.jffs2, *.dir)",
            paths.medium
        ),
    };
    let [first, second] = layers::module_lists(&live.module);
    let rows = [
        ("medium", medium),
        (
            "images",
            format!(
                "as listed in {dir}/{first} or {dir}/{second} (module={}), else every image \
                 in {dir}/ in name order; the last one on top",
                live.module
            ),
        ),
        (
            "overlay",
            format!(
                "overlayfs, upper and work in a tmpfs of size {} (overlay-size)",
                live.overlay_size
            ),
        ),
        (
            "fstab",
            String::from(if live.nofstab {
                "left alone (nofstab)"
            } else {
                "the root's /etc/fstab gets `overlay / overlay rw 0 0` and `tmpfs /tmp tmpfs \
                 nosuid,nodev 0 0` when missing"
            }),
        ),
        ("wait", format!("{} s at most (rd.retry)", cfg.retry_secs)),
        (
            "state",
            format!(
                "{}, {}/<image>, {} for the real root; boot=live stays on the command \
                 line for live-config",
                paths.medium, paths.rootfs, paths.overlay
            ),
        ),
        (
            "init",
            cfg.init
                .clone()
                .unwrap_or_else(|| String::from("/sbin/init (default)")),
        ),
    ];
    for (key, value) in rows {
        let _ = writeln!(out, "{key:>8}: {value}");
    }
    let all: Vec<&String> = policy.iter().chain(&cfg.warnings).collect();
    if !all.is_empty() {
        let _ = writeln!(out, "\nwarnings:");
        for warning in all {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    let images = [
        Image {
            name: String::from("filesystem.squashfs"),
            fstype: Some(FsType::Squashfs),
        },
        Image {
            name: String::from("zz-extra.squashfs"),
            fstype: Some(FsType::Squashfs),
        },
    ];
    let _ = writeln!(
        out,
        "\nplan, for a CD (<medium>) holding {dir}/filesystem.squashfs and {dir}/zz-extra.squashfs:"
    );
    let steps = layers::mount_medium(paths, "<medium>", FsType::Iso9660)
        .into_iter()
        .chain(layers::mount_images(paths, dir, &images))
        .chain(layers::overlay_root(
            paths,
            dir,
            &images,
            &live.overlay_size,
        ));
    for step in steps {
        let _ = writeln!(out, "  {step}");
    }
    if !live.nofstab {
        let _ = writeln!(out, "  append the missing lines to /sysroot/etc/fstab");
    }
}
