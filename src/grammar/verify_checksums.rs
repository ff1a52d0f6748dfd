//! live-boot's `verify-checksums[=list]` (also `live-boot.verify-checksums`,
//! distro-live-spec §1.9): a media test, not a boot. Once the medium is
//! found, the first checksum listing at its root, in the order of the
//! digests asked for (`SHA512SUMS` or `sha512sum.txt`, then sha384, sha256,
//! sha224, sha1, md5), is checked file by file; a pass reboots after 10 s,
//! a failure is fatal. Here: which digests, which files, and the listing's
//! lines.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cmdline::Cmdline;

/// A digest live-boot knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha512,
    Sha384,
    Sha256,
    Sha224,
    Sha1,
    Md5,
}

/// live-boot's default order.
pub const DEFAULT: [Digest; 6] = [
    Digest::Sha512,
    Digest::Sha384,
    Digest::Sha256,
    Digest::Sha224,
    Digest::Sha1,
    Digest::Md5,
];

impl Digest {
    pub fn parse(name: &str) -> Option<Digest> {
        DEFAULT.iter().copied().find(|d| d.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha512 => "sha512",
            Digest::Sha384 => "sha384",
            Digest::Sha256 => "sha256",
            Digest::Sha224 => "sha224",
            Digest::Sha1 => "sha1",
            Digest::Md5 => "md5",
        }
    }

    /// The listing's names at the medium's root: `SHA256SUMS`, `sha256sum.txt`.
    pub fn files(self) -> [String; 2] {
        [
            format!("{}SUMS", self.name().to_ascii_uppercase()),
            format!("{}sum.txt", self.name()),
        ]
    }

    /// Whether liveinit can compute it: the SHA-512 and SHA-256 it has for
    /// archiso and downloads, and MD5 for the media check; SHA-384, SHA-224
    /// and SHA-1 would each be code for listings nobody writes.
    pub fn carried(self) -> bool {
        matches!(self, Digest::Sha512 | Digest::Sha256 | Digest::Md5)
    }

    /// Hex digits of a digest.
    pub fn hex_len(self) -> usize {
        match self {
            Digest::Sha512 => 128,
            Digest::Sha384 => 96,
            Digest::Sha256 => 64,
            Digest::Sha224 => 56,
            Digest::Sha1 => 40,
            Digest::Md5 => 32,
        }
    }
}

/// The digests asked for, in order; `None` without the option. Names that
/// are not digests go into `warnings`.
pub fn read(cmdline: &Cmdline, warnings: &mut Vec<String>) -> Option<Vec<Digest>> {
    const KEYS: [&str; 2] = ["verify-checksums", "live-boot.verify-checksums"];
    if !KEYS.iter().any(|k| cmdline.has(k)) {
        return None;
    }
    let Some(list) = super::live_boot::last_value(cmdline, &KEYS) else {
        return Some(DEFAULT.to_vec());
    };
    let mut digests = Vec::new();
    for name in list.split(',').filter(|n| !n.is_empty()) {
        match Digest::parse(name) {
            Some(d) => digests.push(d),
            None => warnings.push(format!(
                "verify-checksums: `{name}` is not a digest live-boot knows ({}); ignored",
                DEFAULT.map(Digest::name).join(", ")
            )),
        }
    }
    Some(digests)
}

/// What `explain` says the media test does.
pub fn explain(digests: &[Digest], medium: &str) -> String {
    let names: Vec<String> = digests.iter().flat_map(|d| d.files()).collect();
    let missing: Vec<&str> = digests
        .iter()
        .filter(|d| !d.carried())
        .map(|d| d.name())
        .collect();
    format!(
        "verify-checksums, a media test, not a boot: once the medium is found (before any copy \
         to RAM), the first of {} at {medium}/{}; every file it lists is read and compared, \
         with progress (Esc stops the test and boots). All match: the machine reboots after 10 \
         s; one does not, or no listing: the boot stops naming the first bad file",
        if names.is_empty() {
            String::from("(no digest asked for)")
        } else {
            names.join(", ")
        },
        if missing.is_empty() {
            String::new()
        } else {
            format!(
                " ({} skipped: liveinit does not compute it)",
                missing.join(", ")
            )
        }
    )
}

/// One line of a listing: `<hex>  <path>` (`*<path>` in binary mode),
/// the path relative to the medium's root (`./live/filesystem.squashfs`).
/// `None` for a line that is not one (comments included: live-boot drops
/// the lines starting with `#`).
pub fn entry(line: &str, digest: Digest) -> Option<(&str, &str)> {
    if line.starts_with('#') {
        return None;
    }
    let (hash, path) = line.trim_end().split_once(char::is_whitespace)?;
    let path = path.trim_start();
    let path = path.strip_prefix('*').unwrap_or(path);
    let path = path.strip_prefix("./").unwrap_or(path);
    (hash.len() == digest.hex_len() && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((hash, path))
}

/// Whether a listed path stays on the medium (relative, no `..`).
pub fn inside(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.split('/').any(|p| p == "..")
}

/// A running digest of one of the carried kinds.
#[derive(Clone)]
pub enum Hasher {
    Sha512(sha2::Sha512),
    Sha256(sha2::Sha256),
    Md5(crate::md5::Md5),
}

impl Hasher {
    /// `None` for a digest liveinit does not carry.
    pub fn new(digest: Digest) -> Option<Hasher> {
        use sha2::Digest as _;
        Some(match digest {
            Digest::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Digest::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Digest::Sha384 | Digest::Sha224 | Digest::Sha1 => return None,
            Digest::Md5 => Hasher::Md5(crate::md5::Md5::new()),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest as _;
        match self {
            Hasher::Sha512(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    /// Lower-case hex, as the `*sum` tools write it.
    pub fn hex(self) -> String {
        use sha2::Digest as _;
        let hex = crate::fetch::sha256::hex;
        match self {
            Hasher::Sha512(h) => hex(&h.finalize()),
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Md5(h) => hex(&h.finish()),
        }
    }
}

/// Why the media test failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No listing of a carried digest at the medium's root: the names
    /// looked for, and the listings found whose digest is not carried.
    NoListing {
        looked: Vec<String>,
        not_carried: Vec<String>,
    },
    /// The listing names no file to check.
    Empty { listing: String },
    /// Files that do not match (or cannot be read): the listing, the
    /// first bad file and why, how many are bad of how many.
    Bad {
        listing: String,
        first: String,
        why: String,
        bad: usize,
        total: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str) -> (Option<Vec<Digest>>, Vec<String>) {
        let mut w = Vec::new();
        (read(&Cmdline::parse(text), &mut w), w)
    }

    #[test]
    fn the_option_and_its_list() {
        assert_eq!(read_line("boot=live").0, None);
        assert_eq!(
            read_line("boot=live verify-checksums").0,
            Some(DEFAULT.to_vec())
        );
        let (d, w) = read_line("live-boot.verify-checksums=sha256,md5,crc");
        assert_eq!(d, Some(Vec::from([Digest::Sha256, Digest::Md5])));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("verify-checksums: `crc`"));
        assert_eq!(Digest::Sha256.files(), ["SHA256SUMS", "sha256sum.txt"]);
    }

    #[test]
    fn listing_lines() {
        let h = "a".repeat(64);
        let line = format!("{h}  ./live/filesystem.squashfs");
        assert_eq!(
            entry(&line, Digest::Sha256),
            Some((h.as_str(), "live/filesystem.squashfs"))
        );
        let line = format!("{h} *md5sum.txt\r");
        assert_eq!(
            entry(&line, Digest::Sha256),
            Some((h.as_str(), "md5sum.txt"))
        );
        assert_eq!(entry(&format!("#{h}  x"), Digest::Sha256), None);
        assert_eq!(entry(&format!("{h}  x"), Digest::Md5), None);
        assert_eq!(entry("", Digest::Md5), None);
        assert!(inside("live/x") && !inside("/etc/x") && !inside("a/../../x") && !inside(""));
    }

    #[test]
    fn carried_digests_known_answers() {
        let abc = |d| {
            let mut h = Hasher::new(d).unwrap();
            h.update(b"ab");
            h.update(b"c");
            h.hex()
        };
        assert!(Hasher::new(Digest::Sha1).is_none() && Hasher::new(Digest::Sha384).is_none());
        assert_eq!(abc(Digest::Md5), "900150983cd24fb0d6963f7d28e17f72");
        assert!(abc(Digest::Sha512).starts_with("ddaf35a193617aba"));
        assert!(abc(Digest::Sha256).starts_with("ba7816bf"));
        for d in DEFAULT.iter().filter(|d| d.carried()) {
            assert_eq!(abc(*d).len(), d.hex_len(), "{d:?}");
        }
    }
}

#[cfg(test)]
mod explain_tests {
    use crate::explain::explain;

    #[test]
    fn explain_shows_the_media_test_and_the_removable_restrictions() {
        let text = explain(
            "boot=live live-media=removable-usb verify-checksums=sha1,sha256 persistence \
             persistence-media=removable",
        );
        assert!(text.contains("medium: only removable USB disks"), "{text}");
        assert!(text.contains(
            "the first of SHA1SUMS, sha1sum.txt, SHA256SUMS, sha256sum.txt at /run/live/medium/ \
             (sha1 skipped"
        ));
        assert!(text.contains("reboots after 10 s"));
        assert!(text.contains("of the removable disks (sysfs removable=1) only"));
        assert!(!text.contains("not supported by liveinit yet"), "{text}");
        assert!(!explain("boot=live").contains("check:"));
    }
}
