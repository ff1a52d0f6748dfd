//! Ubuntu casper's command line (`boot=casper`, distro-live-spec §2.1–2.5):
//! the options liveinit carries out, and the ones it names as not done.
//! The image chain: a leaf named by `layerfs-path=` and every layer its
//! name implies, or with no leaf every image, grouped by kind.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::iso_host::IsoHost;
use super::live_boot::{last_value, media_path, BadValue};
use super::{Grammar, ImageChoice, LayeredConfig};
use crate::cmdline::Cmdline;
use crate::devspec::DevSpec;
use crate::plan::layers::CASPER;

/// casper's default `live-media-path`.
pub const DEFAULT_MEDIA_PATH: &str = "casper";

/// Where casper mounts the filesystem holding `iso-scan/filename=`'s ISO
/// (left in the initramfs, out of the real root's sight).
pub const ISODEVICE: &str = "/isodevice";

/// casper options liveinit does not carry out (yet), with what happens instead.
const NOT_DONE: [(&str, &str); 6] = [
    ("todisk", "the images are read from the medium"),
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
    // casper does both unless nopersistent (which toram implies).
    if !cmdline.has("nopersistent") && (cmdline.has("persistent") || !cmdline.has("toram")) {
        warnings.push(String::from(
            "casper's automatic writable partition and log persistence are not done: liveinit \
             never partitions or formats a disk (persistent uses an existing writable or casper-rw)",
        ));
    }
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
            iso: iso_scan(cmdline)?,
            uuid: uuid(cmdline),
            cow_space: None,
            removable: None,
            verify: None,
        },
        warnings,
    ))
}

/// `iso-scan/filename=`: the ISO file looked for on every filesystem, as
/// live-boot's `findiso=` (the same search, mounted read-only here).
fn iso_scan(cmdline: &Cmdline) -> Result<Option<IsoHost>, BadValue> {
    match last_value(cmdline, &["iso-scan/filename"]) {
        None => Ok(None),
        Some(v) if v.split('/').any(|p| p == "..") => Err(BadValue {
            key: "iso-scan/filename",
            value: String::from(v),
            expected: "the ISO file's path on its filesystem (no `..`)",
        }),
        Some(v) => Ok(Some(IsoHost {
            option: "iso-scan/filename",
            path: format!("/{}", v.trim_start_matches('/')),
            device: None,
            at: ISODEVICE,
        })),
    }
}

/// `uuid=U` or `ignore_uuid`, whichever comes last (an empty `uuid=`
/// clears it too, as in casper's `case`).
fn uuid(cmdline: &Cmdline) -> Option<String> {
    cmdline
        .params()
        .iter()
        .rev()
        .find(|p| p.key == "uuid" || p.key == "ignore_uuid")
        .and_then(|p| match (p.key.as_str(), p.value.as_deref()) {
            ("uuid", Some(v)) if !v.is_empty() => Some(String::from(v)),
            _ => None,
        })
}

/// casper's `matches_uuid`: the medium is the one asked for if its
/// filesystem UUID is `asked`, or one of its `.disk/casper-uuid*` files
/// (`ids`, by name) holds it (a trailing newline aside).
pub fn uuid_matches(asked: &str, fs_uuid: Option<&str>, ids: &[(String, String)]) -> bool {
    fs_uuid == Some(asked) || ids.iter().any(|(_, text)| text.trim_end() == asked)
}

/// Whether a name in `.disk/` is one of casper's UUID files.
pub fn is_uuid_file(name: &str) -> bool {
    name.starts_with("casper-uuid")
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
        assert_eq!((c.uuid, c.iso), (None, None));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].contains("never partitions or formats"), "{w:?}");
        let (c, w) = read_line(
            "boot=casper layerfs-path=/cdrom/casper/minimal.standard.live.squashfs persistent uuid=x",
        )
        .unwrap();
        assert_eq!(
            c.images,
            ImageChoice::NameChain(Some("minimal.standard.live.squashfs".into()))
        );
        assert_eq!(c.uuid.as_deref(), Some("x"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            read_line("boot=casper layerfs-path=..").unwrap_err().key,
            "layerfs-path"
        );
    }

    #[test]
    fn no_partition_is_made_unless_casper_would_not_either() {
        for (line, notes) in [
            ("boot=casper nopersistent", 1),
            ("boot=casper toram", 1),
            ("boot=casper toram persistent", 2),
            ("--- quiet splash", 2),
        ] {
            assert_eq!(read_line(line).unwrap().1.len(), notes, "{line}");
        }
    }

    #[test]
    fn the_last_of_uuid_and_ignore_uuid_wins() {
        for (line, want) in [
            ("boot=casper uuid=a", Some("a")),
            ("boot=casper uuid=a ignore_uuid", None),
            ("boot=casper ignore_uuid uuid=b", Some("b")),
            ("boot=casper uuid=a uuid=", None),
        ] {
            assert_eq!(read_line(line).unwrap().0.uuid.as_deref(), want, "{line}");
        }
        let ids = [(String::from("casper-uuid-generic"), String::from("1c2d\n"))];
        assert!(uuid_matches("1c2d", None, &ids));
        assert!(uuid_matches("2026-01-01", Some("2026-01-01"), &[]));
        assert!(!uuid_matches("1c2", Some("x"), &ids));
        assert!(is_uuid_file("casper-uuid") && !is_uuid_file("info"));
    }

    #[test]
    fn iso_scan_names_the_iso_file() {
        let (c, _) = read_line("iso-scan/filename=ubuntu.iso quiet splash").unwrap();
        let host = c.iso.unwrap();
        assert_eq!(
            (host.option, host.path.as_str(), host.device, host.at),
            ("iso-scan/filename", "/ubuntu.iso", None, ISODEVICE)
        );
        assert_eq!(
            read_line("boot=casper iso-scan/filename=/a/../b.iso")
                .unwrap_err()
                .key,
            "iso-scan/filename"
        );
    }

    #[test]
    fn explain_tells_what_is_checked_and_where_the_iso_is() {
        let text = crate::explain::explain("boot=casper uuid=1c2d");
        assert!(
            text.contains("and carrying uuid=1c2d")
                || text.contains(
                    "only if it carries uuid=1c2d: its filesystem UUID or a \
                                  .disk/casper-uuid* file"
                ),
            "{text}"
        );
        let text = crate::explain::explain("iso-scan/filename=/ubuntu.iso uuid=1c2d --- quiet");
        assert!(
            text.contains("iso-scan/filename: /ubuntu.iso on the first block device holding it")
                && text.contains("mounted read-only at /isodevice")
                && text.contains("uuid=1c2d is not checked for an ISO file"),
            "{text}"
        );
        assert!(
            text.contains("automatic writable partition and log persistence are not done"),
            "{text}"
        );
    }
}
