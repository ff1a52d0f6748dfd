//! A command line with no grammar's keyword at all (distro-live-spec §2.1,
//! §6.1 step 5): Ubuntu 22.10 and later boot their ISOs with only
//! `--- quiet splash`, `boot=casper` and the leaf layer being baked into
//! casper's initrd. With no `root=`, no `boot=` and no archiso key, the
//! media are searched for casper's `casper/`; the leaf is then guessed
//! from the names (§2.4's rule), and a medium that does not settle it is
//! refused with the candidates. If no medium holds `casper/`, the boot
//! stops as before: no `root=`.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Choice, Grammar};
use crate::cmdline::{Arg, Cmdline};

/// Why casper was chosen without a keyword.
pub const WHY: &str = "no root=, boot= or archiso…= keyword: a medium holding casper/ \
                       (Ubuntu 22.10 on boots with none)";

/// Whether the line says nothing of any grammar: no `root=`, no `boot=`.
/// (archiso's keys and `root=` pick their grammar before this is asked.)
pub fn applies(cmdline: &Cmdline) -> bool {
    cmdline.get("root") == Arg::Absent && !cmdline.has("boot")
}

/// The choice, marked as made by the medium's content.
pub fn choice() -> Choice {
    Choice {
        grammar: Grammar::Casper,
        why: String::from(WHY),
        by_content: true,
    }
}

/// The layers to stack, base first, from the names in `casper/`: the one
/// `*.live.squashfs` and the chain its name implies; else the one
/// `*.squashfs` alone. `Err` lists the candidates when neither settles it.
pub fn detect(entries: &[String]) -> Result<Vec<String>, Vec<String>> {
    let live: Vec<&String> = entries
        .iter()
        .filter(|e| e.ends_with(".live.squashfs"))
        .collect();
    if let [leaf] = live.as_slice() {
        return Ok(super::casper::name_chain(leaf));
    }
    let mut squashfs: Vec<String> = entries
        .iter()
        .filter(|e| e.len() > ".squashfs".len() && e.ends_with(".squashfs"))
        .cloned()
        .collect();
    if squashfs.len() == 1 {
        return Ok(squashfs);
    }
    squashfs.sort();
    Err(if live.is_empty() {
        squashfs
    } else {
        live.into_iter().cloned().collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn only_a_line_without_keywords_applies() {
        for (text, want) in [
            ("--- quiet splash", true),
            ("quiet splash iso-scan/filename=/u.iso", true),
            ("boot=casper", false),
            ("boot=live", false),
            ("root=live:CDLABEL=x", false),
            ("root=/dev/sda1", false),
            ("root", false),
        ] {
            assert_eq!(applies(&Cmdline::parse(text)), want, "{text}");
        }
    }

    #[test]
    fn the_leaf_is_the_one_live_layer() {
        let desktop = names(&[
            "minimal.squashfs",
            "minimal.standard.squashfs",
            "minimal.standard.live.squashfs",
            "minimal.standard.fr.squashfs",
            "minimal.standard.live.fr.squashfs",
            "minimal.manifest",
        ]);
        assert_eq!(
            detect(&desktop).unwrap(),
            [
                "minimal.squashfs",
                "minimal.standard.squashfs",
                "minimal.standard.live.squashfs"
            ]
        );
        assert_eq!(
            detect(&names(&["filesystem.squashfs", "filesystem.size"])).unwrap(),
            ["filesystem.squashfs"]
        );
    }

    #[test]
    fn an_unsettled_medium_lists_the_candidates() {
        let server = names(&[
            "ubuntu-server-minimal.squashfs",
            "ubuntu-server-minimal.ubuntu-server.squashfs",
            "ubuntu-server-minimal.ubuntu-server.installer.squashfs",
            "ubuntu-server-minimal.ubuntu-server.installer.generic.squashfs",
        ]);
        assert_eq!(detect(&server).unwrap_err().len(), 4);
        let two = names(&["a.live.squashfs", "b.live.squashfs", "base.squashfs"]);
        assert_eq!(
            detect(&two).unwrap_err(),
            ["a.live.squashfs", "b.live.squashfs"]
        );
    }
}
