//! What `root=` names for a live boot (docs/dracut-live.md §2.1–2.2).

use alloc::string::String;
use core::fmt;

use crate::devspec::{DevSpec, SpecError};

/// Where the live image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveRoot {
    /// A block device (`LABEL=`, `UUID=`, `/dev/…`, …).
    Device(DevSpec),
    /// `root=live:/path.iso`: an ISO file inside the initramfs.
    IsoFile(String),
    /// `root=live:/path.img`: an image file inside the initramfs.
    ImageFile(String),
    /// `root=live:http://…` and friends (dracut's livenet).
    Url(String),
    /// No `root=`: the medium is whichever device holds the live images
    /// (Debian live-boot's `boot=live`).
    ByContent,
}

impl fmt::Display for LiveRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveRoot::Device(spec) => spec.fmt(f),
            LiveRoot::IsoFile(p) | LiveRoot::ImageFile(p) | LiveRoot::Url(p) => f.write_str(p),
            LiveRoot::ByContent => f.write_str("the device holding the live images"),
        }
    }
}

const URL_SCHEMES: [&str; 7] = [
    "http:", "https:", "ftp:", "tftp:", "torrent:", "nfs:", "nfs4:",
];

impl LiveRoot {
    /// Parses the `<spec>` of `root=live:<spec>`, in dracut's order.
    pub fn parse(spec: &str) -> Result<LiveRoot, SpecError> {
        if URL_SCHEMES.iter().any(|s| spec.starts_with(s)) {
            return Ok(LiveRoot::Url(String::from(spec)));
        }
        if spec.starts_with('/') && !spec.starts_with("/dev/") {
            let lower = spec.to_ascii_lowercase();
            if lower.ends_with(".iso") {
                return Ok(LiveRoot::IsoFile(String::from(spec)));
            }
            if lower.ends_with(".img") {
                return Ok(LiveRoot::ImageFile(String::from(spec)));
            }
        }
        DevSpec::parse(spec).map(LiveRoot::Device)
    }

    /// `root=http(s)://…` without `live:` is a live root since dracut 110.
    pub fn is_bare_url(root: &str) -> bool {
        root.starts_with("http://") || root.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_in_dracut_order() {
        let cases = [
            ("LABEL=x", LiveRoot::Device(DevSpec::Label("x".into()))),
            ("/dev/sr0", LiveRoot::Device(DevSpec::Kernel("sr0".into()))),
            ("/boot/live.ISO", LiveRoot::IsoFile("/boot/live.ISO".into())),
            ("/rootfs.img", LiveRoot::ImageFile("/rootfs.img".into())),
            (
                "http://h/r.squashfs",
                LiveRoot::Url("http://h/r.squashfs".into()),
            ),
            ("nfs://h:/x", LiveRoot::Url("nfs://h:/x".into())),
        ];
        for (spec, want) in cases {
            assert_eq!(LiveRoot::parse(spec), Ok(want), "{spec}");
        }
        assert!(LiveRoot::parse("/etc/passwd").is_err());
        assert!(LiveRoot::is_bare_url("https://h/x"));
        assert!(!LiveRoot::is_bare_url("ftp://h/x"));
    }
}
