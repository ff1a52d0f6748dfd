//! `liveinit explain` for the grammars other than dracut's: the options
//! as understood, and the plan the init would run, from the same functions.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{ImageChoice, LayeredConfig};
use crate::config::LiveConfig;
use crate::plan::layers::{self, Image};
use crate::probe::FsType;

/// Debian live-boot or casper: options, warnings, and the plan for a
/// medium holding two images.
pub fn layered(out: &mut String, cfg: &LiveConfig, live: &LayeredConfig, policy: &[String]) {
    let paths = live.paths;
    let dir = &live.media_path;
    let medium =
        match &live.media {
            Some(spec) => format!(
                "{spec} first (live-media=), then every block device: partitions before their \
             disk, each mounted read-only at {} and kept if {dir}/ holds an image",
                paths.medium
            ),
            None => {
                format!(
            "every block device, partitions before their disk, each mounted read-only at {} \
             and kept if {dir}/ holds an image ({})",
            paths.medium,
            paths.image_endings.iter().map(|e| format!("*{e}")).collect::<Vec<_>>().join(", ")
        )
            }
        };
    let images = match &live.images {
        ImageChoice::ModuleList(module) => {
            let [first, second] = layers::module_lists(module);
            format!(
                "as listed in {dir}/{first} or {dir}/{second} (module={module}), else every \
                 image in {dir}/ in name order; the last one on top"
            )
        }
        ImageChoice::NameChain(Some(leaf)) => format!(
            "{} (layerfs-path), the last on top; each must be there",
            crate::grammar::casper::name_chain(leaf).join(", ")
        ),
        ImageChoice::NameChain(None) => format!(
            "every *.ext2, then *.squashfs, then *.dir in {dir}/, each group in name order, \
             the last on top (no layerfs-path)"
        ),
    };
    let size = live.overlay_size.as_deref();
    let rows =
        [
            ("medium", medium),
            ("images", images),
            (
                "overlay",
                format!(
                    "overlayfs, upper and work in a tmpfs at {} of size {}",
                    paths.overlay,
                    size.unwrap_or("50% (tmpfs's default)")
                ),
            ),
            (
                "fstab",
                String::from(match (live.nofstab, paths.fstab_replace) {
                    (true, _) => "left alone (nofstab)",
                    (false, true) => {
                        "the root's /etc/fstab is replaced by `overlay / overlay rw 0 0` and \
                     `tmpfs /tmp tmpfs nosuid,nodev 0 0`"
                    }
                    (false, false) => {
                        "the root's /etc/fstab gets `overlay / overlay rw 0 0` and `tmpfs /tmp \
                     tmpfs nosuid,nodev 0 0` when missing"
                    }
                }),
            ),
            ("wait", format!("{} s at most (rd.retry)", cfg.retry_secs)),
            (
                "state",
                match (paths.medium_in_root, paths.base_in_root) {
                    (Some(medium), Some(base)) => format!(
                        "the medium at {medium} and the base image at {base} in the real root; \
                     the layers and {} stay in the initramfs",
                        paths.overlay
                    ),
                    _ => {
                        format!(
                    "{}, {}/<image>, {} for the real root; boot={} stays on the command line",
                    paths.medium,
                    paths.rootfs,
                    paths.overlay,
                    if live.grammar == crate::grammar::Grammar::Casper { "casper" } else { "live" }
                )
                    }
                },
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
        .chain(layers::overlay_root(paths, dir, &images, size));
    for step in steps {
        let _ = writeln!(out, "  {step}");
    }
    if !live.nofstab {
        let _ = writeln!(out, "  write /sysroot/etc/fstab (the lines above)");
    }
}
