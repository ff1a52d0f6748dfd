//! `liveinit explain` of live-boot's `persistence` and casper's
//! `persistent`: what is looked for, and the steps for what may be found,
//! from the same functions the boot runs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::persistence::PersistAsk;
use super::{Grammar, LayeredConfig};
use crate::plan::layered_persist::{bind, mount_volume, onto_volume, LIVE_BOOT_VOLUMES};
use crate::plan::layers::{self, Image};
use crate::probe::FsType;

/// The persistence section for a live-boot or casper command line.
pub fn explain(out: &mut String, live: &LayeredConfig) {
    let Some(ask) = &live.persistence else {
        let (on, off) = match live.grammar {
            Grammar::LiveBoot => ("persistence", "nopersistence"),
            Grammar::Casper => ("persistent", "nopersistent"),
            _ => return,
        };
        let _ = writeln!(
            out,
            "\npersistence: none; changes are kept in RAM ({on} asks for it, {off} wins)"
        );
        return;
    };
    let where_ = |what: &str| {
        if ask.path.is_empty() {
            format!("at the root of {what}")
        } else {
            format!("in /{} of {what}", ask.path)
        }
    };
    let names = ask.labels.join(" or ");
    let at = match ask.grammar {
        Grammar::Casper => String::from("/cow"),
        _ => format!("{LIVE_BOOT_VOLUMES}/<volume>"),
    };
    let _ = writeln!(
        out,
        "\npersistence, on the other block devices{}:",
        ask.media.map_or(String::new(), |only| format!(
            " of the {} only (persistence-media={})",
            only.disks(),
            only.name()
        ))
    );
    let mut ways: Vec<String> = Vec::new();
    if ask.by_label {
        ways.push(match ask.grammar {
            Grammar::Casper => format!("a filesystem labelled {names}, the first name first"),
            _ => format!("a filesystem labelled, or a GPT partition named, {names}"),
        });
    }
    if ask.by_file {
        ways.push(format!(
            "else an image file {names} {} (looked for read-only)",
            where_(match ask.grammar {
                Grammar::Casper => "a FAT partition",
                _ => "a partition",
            })
        ));
    }
    for way in ways {
        let _ = writeln!(out, "  - {way}");
    }
    let what = match ask.grammar {
        Grammar::Casper => "in place of the tmpfs: upper/ and work/ on it",
        _ => {
            "used only with a persistence.conf: `/ union` puts rw/ and work/ on it, \
             `DIR bind` binds its DIR (made empty if missing), `DIR union` stacks its \
             rw/; the rest is warned about and skipped"
        }
    };
    let mode = if ask.read_only {
        "ro (persistence-read-only: the tmpfs keeps this boot's changes)"
    } else {
        "rw"
    };
    let _ = writeln!(out, "  each mounted {mode},noatime at {at}, {what}");
    let _ = writeln!(
        out,
        "  none usable: a warning, then the tmpfs; liveinit never creates a volume"
    );
    plan(out, live, ask);
}

fn plan(out: &mut String, live: &LayeredConfig, ask: &PersistAsk) {
    let paths = live.paths;
    let dir = live.media_path.as_str();
    let images: Vec<Image> = ["filesystem.squashfs", "zz-extra.squashfs"]
        .iter()
        .map(|name| Image {
            name: String::from(*name),
            fstype: Some(FsType::Squashfs),
        })
        .collect();
    let root = layers::overlay_root(
        paths,
        dir,
        &images,
        live.overlay_size.as_deref(),
        &live.cow_dir,
    );
    let (holder, title) = match ask.grammar {
        Grammar::Casper => (String::from("/cow"), "a writable volume <volume> (ext4)"),
        _ => (
            format!("{LIVE_BOOT_VOLUMES}/<volume>"),
            "a volume <volume> (ext4) whose persistence.conf says `/ union`",
        ),
    };
    let _ = writeln!(out, "\nplan, after the images as above, with {title}:");
    let steps = mount_volume("/dev/<volume>", FsType::Ext4, &holder, ask.read_only)
        .into_iter()
        .chain(onto_volume(root, paths, &holder, ask.read_only));
    for step in steps {
        let _ = writeln!(out, "  {step}");
    }
    if ask.grammar == Grammar::LiveBoot {
        let _ = writeln!(out, "\nand for a line `/home bind`:");
        let source = format!("{holder}/home");
        let tmpfs = ask.read_only.then_some(paths.overlay);
        for step in bind("/home", &source, tmpfs) {
            let _ = writeln!(out, "  {step}");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::explain::explain;

    #[test]
    fn each_grammar_explains_its_persistence() {
        let text = explain("boot=live persistence persistence-label=p1,p2");
        assert!(text.contains("a filesystem labelled, or a GPT partition named, p1 or p2"));
        assert!(text.contains(
            "upperdir=/run/live/persistence/<volume>/rw,workdir=/run/live/persistence/<volume>/work"
        ));
        assert!(text.contains("mount /run/live/persistence/<volume>/home -> /sysroot/home (bind)"));
        let text = explain("boot=casper persistent");
        assert!(text.contains("mount /dev/<volume> -> /cow (ext4, rw, noatime)"));
        let section = text
            .split("with a writable volume")
            .nth(1)
            .unwrap_or_default();
        assert!(!section.contains("mount tmpfs -> /cow"), "{text}");
        assert!(text.contains("liveinit never creates a volume"));
        for line in ["boot=live persistence nopersistence", "boot=casper"] {
            assert!(explain(line).contains("persistence: none; changes are kept in RAM"));
        }
        assert!(!explain("archisobasedir=arch").contains("persistence: none"));
    }
}
