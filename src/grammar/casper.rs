//! Ubuntu casper's command line (`boot=casper`, distro-live-spec §2.1–2.5):
//! the options liveinit carries out, and the ones it names as not done.
//! The image chain: a leaf named by `layerfs-path=` and every layer its
//! name implies, or with no leaf every image, grouped by kind.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::live_boot::{last_value, media_path, BadValue};
use super::{Grammar, ImageChoice, LayeredConfig};
use crate::cmdline::Cmdline;
use crate::devspec::DevSpec;
use crate::plan::layers::CASPER;

/// casper's default `live-media-path`.
pub const DEFAULT_MEDIA_PATH: &str = "casper";

/// casper options liveinit does not carry out (yet), with what happens instead.
const NOT_DONE: [(&str, &str); 7] = [
    ("todisk", "the images are read from the medium"),
    ("uuid", "the medium's UUID is not checked"),
    ("showmounts", "the layers are not shown under /casper"),
    ("show-cow", "the layers are not shown under /casper"),
    ("netboot", "no network boot"),
    ("url", "no network boot"),
    ("iso-url", "no network boot"),
];

/// Reads casper's options; the warnings say what is not carried out.
pub fn read(cmdline: &Cmdline) -> Result<(LayeredConfig, Vec<String>), BadValue> {
    let media = match last_value(cmdline, &["live-media"]) {
        None => None,
        Some(v) => Some(DevSpec::parse(v).map_err(|_| BadValue {
            key: "live-media",
            value: String::from(v),
            expected: "a device: /dev/<name>, /dev/disk/by-label/<label>, LABEL=, UUID=",
        })?),
    };
    let media_path = media_path(cmdline, DEFAULT_MEDIA_PATH)?;
    let leaf = match cmdline.value("layerfs-path") {
        None | Some("") => None,
        // casper takes a relative leaf under /cdrom/<live-media-path>; an
        // absolute one names the same file: its name is what counts.
        Some(v) => match v
            .rsplit('/')
            .next()
            .filter(|n| n.contains('.') && *n != "..")
        {
            Some(name) => Some(String::from(name)),
            None => {
                return Err(BadValue {
                    key: "layerfs-path",
                    value: String::from(v),
                    expected: "an image file name, e.g. minimal.standard.live.squashfs",
                })
            }
        },
    };
    let mut warnings = Vec::new();
    for (key, instead) in NOT_DONE {
        if cmdline.has(key) {
            warnings.push(format!("{key} is not supported by liveinit yet: {instead}"));
        }
    }
    warnings.push(String::from(
        "casper's live session setup (user, autologin, hostname, locale) is not done: \
         a desktop image boots to its login screen",
    ));
    Ok((
        LayeredConfig {
            grammar: Grammar::Casper,
            paths: &CASPER,
            media,
            media_path,
            images: ImageChoice::NameChain(leaf),
            overlay_size: None,
            nofstab: false,
            media_required: false,
            marker: None,
            cow_dir: String::new(),
            sha512_list: None,
            persistence: super::persistence::casper(cmdline, &mut warnings),
            to_ram: super::to_ram::read(cmdline, Grammar::Casper)?,
            iso: None,
            removable: None,
            verify: None,
        },
        warnings,
    ))
}

/// The layers a leaf's name implies, base first:
/// `minimal.standard.live.squashfs` → `minimal.squashfs`,
/// `minimal.standard.squashfs`, `minimal.standard.live.squashfs`.
pub fn name_chain(leaf: &str) -> Vec<String> {
    let Some((name, ext)) = leaf.rsplit_once('.') else {
        return Vec::from([String::from(leaf)]);
    };
    let mut chain = Vec::new();
    let mut name = name;
    loop {
        chain.push(format!("{name}.{ext}"));
        match name.rsplit_once('.') {
            Some((shorter, _)) => name = shorter,
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// Without a leaf: every `*.ext2`, then `*.squashfs`, then `*.dir`, each
/// group in name order, base first (so a `.dir` ends on top), without the
/// images casper leaves out (`ltsp.squashfs`, `server.squashfs`).
pub fn flat_list(entries: &[String]) -> Vec<String> {
    let mut list = Vec::new();
    for ending in [".ext2", ".squashfs", ".dir"] {
        let mut group: Vec<String> = entries
            .iter()
            .filter(|e| e.len() > ending.len() && e.ends_with(ending))
            .filter(|e| !matches!(e.as_str(), "ltsp.squashfs" | "server.squashfs"))
            .cloned()
            .collect();
        group.sort();
        list.extend(group);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str) -> Result<(LayeredConfig, Vec<String>), BadValue> {
        read(&Cmdline::parse(text))
    }

    #[test]
    fn chains_follow_the_leafs_name() {
        assert_eq!(
            name_chain("minimal.standard.live.squashfs"),
            [
                "minimal.squashfs",
                "minimal.standard.squashfs",
                "minimal.standard.live.squashfs"
            ]
        );
        assert_eq!(name_chain("filesystem.squashfs"), ["filesystem.squashfs"]);
        assert_eq!(name_chain("noext"), ["noext"]);
    }

    #[test]
    fn flat_media_stack_by_kind_then_name() {
        let entries: Vec<String> = [
            "1_overlay.squashfs",
            "0_root.squashfs",
            "ltsp.squashfs",
            "a.ext2",
            "z.dir",
            "vmlinuz",
        ]
        .iter()
        .map(|s| String::from(*s))
        .collect();
        assert_eq!(
            flat_list(&entries),
            ["a.ext2", "0_root.squashfs", "1_overlay.squashfs", "z.dir"]
        );
    }

    #[test]
    fn options() {
        let (c, w) = read_line("boot=casper").unwrap();
        assert_eq!(c.media_path, "casper");
        assert_eq!(c.images, ImageChoice::NameChain(None));
        assert_eq!(c.overlay_size, None);
        assert_eq!(w.len(), 1, "{w:?}");
        let (c, w) = read_line(
            "boot=casper layerfs-path=/cdrom/casper/minimal.standard.live.squashfs persistent uuid=x",
        )
        .unwrap();
        assert_eq!(
            c.images,
            ImageChoice::NameChain(Some("minimal.standard.live.squashfs".into()))
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            read_line("boot=casper layerfs-path=..").unwrap_err().key,
            "layerfs-path"
        );
    }
}
