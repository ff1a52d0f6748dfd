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
    let _ = writeln!(out, "\npersistence, on the block devices present once the medium is found (not the medium itself):");
    let mut ways: Vec<String> = Vec::new();
    if ask.by_label {
        ways.push(match ask.grammar {
            Grammar::Casper => format!("a filesystem labelled {names}, the first name first"),
            _ => format!("a filesystem labelled, or a GPT partition named, {names}"),
        });
    }
    if ask.by_file {
        ways.push(format!(
            "else an image file named {names} {}, looked for read-only, then that partition \
             mounted {} and the file attached to a loop device",
            where_(match ask.grammar {
                Grammar::Casper => "a FAT partition",
                _ => "a partition",
            }),
            match ask.grammar {
                Grammar::Casper => String::from("read-write at /<name>-backing"),
                _ if ask.read_only => format!("read-only at {LIVE_BOOT_VOLUMES}/<partition>"),
                _ => format!("read-write at {LIVE_BOOT_VOLUMES}/<partition>"),
            }
        ));
    }
    for way in ways {
        let _ = writeln!(out, "  - {way}");
    }
    let mode = if ask.read_only { "ro" } else { "rw" };
    let what = match ask.grammar {
        Grammar::Casper => String::from(
            "the volume replaces the tmpfs: the root's upper layer in upper/ and work/ on it \
             (made if missing; files of casper's old layout outside upper/ are named, not moved)",
        ),
        _ => String::from(
            "a volume without persistence.conf at its root is not used; its lines: `/ union` puts \
             the root's upper layer in rw/ and work/ on it (made if missing); `DIR bind` (the \
             default) binds <volume>/<DIR or source=> on DIR (made empty if missing: not copied \
             from the image); `DIR union` stacks rw/ over the images' DIR; `link`, unknown \
             options and unsafe lines are named in a warning and skipped",
        ),
    };
    let _ = writeln!(out, "  each mounted {mode},noatime at {at}; {what}");
    if ask.read_only {
        let _ = writeln!(
            out,
            "  persistence-read-only: the volume's rw/ (or bound directory) is the top \
             read-only layer under a tmpfs upper layer: this boot's changes are lost"
        );
    }
    let _ = writeln!(
        out,
        "  none found or usable: a warning, then the tmpfs overlay above; liveinit never \
         creates, partitions or formats a volume"
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
        assert!(text.contains("liveinit never creates, partitions or formats a volume"));
        for line in ["boot=live persistence nopersistence", "boot=casper"] {
            assert!(explain(line).contains("persistence: none; changes are kept in RAM"));
        }
        assert!(!explain("archisobasedir=arch").contains("persistence: none"));
    }
}
