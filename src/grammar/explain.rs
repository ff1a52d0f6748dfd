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

/// Debian live-boot, casper or archiso: options, warnings, and the plan
/// for a medium holding two images (one for archiso).
pub fn layered(out: &mut String, cfg: &LiveConfig, live: &LayeredConfig, policy: &[String]) {
    let paths = live.paths;
    let dir = &live.media_path;
    let medium = match (&live.media, &live.marker) {
        (spec, marker) if live.media_required => format!(
            "the block device that is {}{}, mounted read-only at {} and kept if {dir}/ holds \
             {}",
            spec.as_ref()
                .map_or(String::from("any device"), |s| format!("{s}")),
            marker
                .as_ref()
                .map_or(String::new(), |m| format!(", or else holds {m}")),
            paths.medium,
            paths.image_endings.join(" or ")
        ),
        _ => match &live.media {
            Some(spec) => format!(
                "{spec} first (live-media=), then every block device: partitions before their \
             disk, each mounted read-only at {} and kept if {dir}/ holds an image",
                paths.medium
            ),
            None if live.removable.is_some() => format!(
                "only {} (live-media={}), partitions before their disk, each mounted read-only \
                 at {} and kept if {dir}/ holds an image; no other disk is searched",
                live.removable.map_or("", |r| r.disks()),
                live.removable.map_or("", |r| r.name()),
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
        },
    };
    let medium = match &live.iso {
        Some(host) => format!(
            "{}: {} on {}, its filesystem mounted read-only at {} (and kept there{}), the \
             file attached to a loop device and mounted read-only at {}, kept if {dir}/ holds \
             an image",
            host.option,
            host.path,
            host.device.as_ref().map_or(
                String::from("the first block device holding it (partitions before their disk)"),
                |d| format!("{d}")
            ),
            host.at,
            match live.to_ram {
                super::to_ram::ToRam::Off => "",
                _ => " unless copied to RAM: then both go once the copy is made",
            },
            paths.medium
        ),
        None => medium,
    };
    let medium = match (&live.uuid, &live.iso) {
        (Some(u), None) => format!(
            "{medium}, and only if it carries uuid={u}: its filesystem UUID or a \
             .disk/casper-uuid* file holding it (not checked for the live-media= device); \
             otherwise passed over, and the search goes on"
        ),
        (Some(u), Some(_)) => {
            format!("{medium} (uuid={u} is not checked for an ISO file, as casper does not)")
        }
        _ => medium,
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
        ImageChoice::FirstOf(names) => format!(
            "the first of {} there, alone{}",
            names.join(", "),
            match &live.sha512_list {
                Some(list) => format!(
                    "; its SHA-512 must be the one {dir}/{list} lists, checked in one read \
                     before it is used, or the boot stops (checksum=y)"
                ),
                None => String::new(),
            }
        ),
        ImageChoice::Detect => format!(
            "no layerfs-path and no keyword, so from the names in {dir}/: the one \
             *.live.squashfs and the layers its name implies (minimal.standard.live → \
             minimal.standard → minimal), else the one *.squashfs alone, else the boot stops \
             listing the candidates (layerfs-path= then names the top layer); if no medium \
             holds {dir}/ the boot stops: no root="
        ),
        ImageChoice::NameChain(None) => format!(
            "every *.ext2, then *.squashfs, then *.dir in {dir}/, each group in name order, \
             the last on top (no layerfs-path)"
        ),
    };
    let size = live.overlay_size.as_deref();
    let rows = [
        ("medium", medium),
        ("images", images),
        (
            "overlay",
            match &live.cow_space {
                Some(cow) => super::archiso_explain::row(live, cow),
                None => format!(
                    "overlayfs, upper and work in a tmpfs at {} of size {}",
                    paths.overlay,
                    size.unwrap_or("50% (tmpfs's default)")
                ),
            },
        ),
        (
            "fstab",
            String::from(match (live.nofstab, paths.fstab_replace) {
                (true, _) if paths.fstab.is_empty() => "left alone",
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
        (
            "to RAM",
            super::to_ram::explain(&live.to_ram, paths.medium, dir),
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
                _ => format!(
                    "{}, {}, {} for the real root{}",
                    paths.medium,
                    layers::image_mount(paths, "<image>"),
                    paths.overlay,
                    match live.grammar {
                        crate::grammar::Grammar::LiveBoot => {
                            "; boot=live stays on the command line for live-config"
                        }
                        _ => "; the medium is gone from there if copied to RAM",
                    }
                ),
            },
        ),
        (
            "init",
            cfg.init
                .clone()
                .unwrap_or_else(|| String::from("/sbin/init (default)")),
        ),
    ];
    let mut rows = Vec::from(rows);
    if let Some(digests) = live.verify.as_deref() {
        rows.push((
            "check",
            super::verify_checksums::explain(digests, paths.medium),
        ));
    }
    rows_and_warnings(out, &rows, policy, &cfg.warnings);
    let names: Vec<String> = match &live.images {
        ImageChoice::FirstOf(names) => names.iter().take(1).cloned().collect(),
        _ => Vec::from([
            String::from("filesystem.squashfs"),
            String::from("zz-extra.squashfs"),
        ]),
    };
    let images: Vec<Image> = names
        .iter()
        .map(|name| Image {
            name: name.clone(),
            fstype: Some(FsType::Squashfs),
        })
        .collect();
    let holding: Vec<String> = names.iter().map(|n| format!("{dir}/{n}")).collect();
    let _ = writeln!(
        out,
        "\nplan, for a CD (<medium>) holding {}:",
        holding.join(" and ")
    );
    let steps = layers::mount_medium(paths, "<medium>", FsType::Iso9660)
        .into_iter()
        .chain(layers::mount_images(paths, dir, &images))
        .chain(layers::overlay_root(
            paths,
            dir,
            &images,
            size,
            &live.cow_dir,
        ));
    for step in steps {
        let _ = writeln!(out, "  {step}");
    }
    if !live.nofstab && !paths.fstab.is_empty() {
        let _ = writeln!(out, "  write /sysroot/etc/fstab (the lines above)");
    }
    if let Some(cow) = &live.cow_space {
        super::archiso_explain::plan(out, live, cow);
    }
    super::persistence_explain::explain(out, live);
}

/// The summary rows, then every warning the init would log (policy's and
/// the configuration's).
pub fn rows_and_warnings(
    out: &mut String,
    rows: &[(&str, String)],
    policy: &[String],
    warnings: &[String],
) {
    for (key, value) in rows {
        let _ = writeln!(out, "{key:>8}: {value}");
    }
    let all: Vec<&String> = policy.iter().chain(warnings).collect();
    if !all.is_empty() {
        let _ = writeln!(out, "\nwarnings:");
        for warning in all {
            let _ = writeln!(out, "  - {warning}");
        }
    }
}
