//! Options several grammars read, which therefore belong to no single
//! one's list ([`super::Grammar::owns`]): under any other grammar each is
//! named once as ignored (distro-live-spec §6.1, §7 X4), never acted on.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Grammar;
use crate::cmdline::Cmdline;

const LB_CA: &[Grammar] = &[Grammar::LiveBoot, Grammar::Casper];

/// Each shared option and the grammars that read it.
const SHARED: [(&str, &[Grammar]); 6] = [
    ("toram", LB_CA),
    ("todisk", LB_CA),
    ("live-media", LB_CA),
    ("live-media-path", LB_CA),
    ("ignore_uuid", LB_CA),
    (
        "iso-scan/filename",
        &[Grammar::Casper, Grammar::Dracut, Grammar::Kiwi],
    ),
];

/// One warning per shared option the chosen grammar does not read.
pub fn warnings(cmdline: &Cmdline, chosen: Grammar) -> Vec<String> {
    let mut out = Vec::new();
    for (key, readers) in SHARED {
        if !cmdline.has(key) {
            continue;
        }
        if !readers.contains(&chosen) {
            let names: Vec<&str> = readers.iter().map(|g| g.name()).collect();
            out.push(format!(
                "{key} is {}'s option, ignored under {chosen}",
                names.join(" and ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn under(text: &str, g: Grammar) -> Vec<String> {
        warnings(&Cmdline::parse(text), g)
    }

    #[test]
    fn shared_options_are_named_under_the_others() {
        let w = under("archisolabel=A toram live-media=/dev/sr0", Grammar::Archiso);
        assert_eq!(
            w,
            [
                "toram is Debian live-boot and Ubuntu casper's option, ignored under archiso",
                "live-media is Debian live-boot and Ubuntu casper's option, ignored under archiso",
            ]
        );
        assert!(under("boot=live toram live-media=/dev/sr0", Grammar::LiveBoot).is_empty());
        assert_eq!(under("root=live:LABEL=x toram", Grammar::Dracut).len(), 1);
        let w = under("boot=live iso-scan/filename=/x.iso", Grammar::LiveBoot);
        assert!(w[0].starts_with("iso-scan/filename is Ubuntu casper and dracut and kiwi's"));
        assert!(under("iso-scan/filename=/u.iso ignore_uuid", Grammar::Casper).is_empty());
        assert!(under(
            "root=live:LABEL=x iso-scan/filename=/x.iso",
            Grammar::Dracut
        )
        .is_empty());
    }
}
