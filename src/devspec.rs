//! Device specifications (`LABEL=…`, `UUID=…`, `/dev/…`) and how a block
//! device is matched against one without udev (docs/dracut-live.md §2.2).
//!
//! dracut turns `LABEL=x` into `/dev/disk/by-label/x` with `/` and space
//! escaped as udev does (`\x2f`, `\x20`). We go the other way: a spec or a
//! `/dev/disk/by-*/…` path is unescaped to the plain value, and compared with
//! what the superblock probes read.

use alloc::string::String;
use core::fmt;

use crate::probe::FsInfo;

/// Which block device holds the live medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevSpec {
    /// `LABEL=`, `CDLABEL=` (the same thing in dracut) or `/dev/disk/by-label/`.
    Label(String),
    /// `UUID=` or `/dev/disk/by-uuid/`; compared case-insensitively.
    Uuid(String),
    /// `PARTUUID=` or `/dev/disk/by-partuuid/`; compared case-insensitively.
    PartUuid(String),
    /// `PARTLABEL=` or `/dev/disk/by-partlabel/`.
    PartLabel(String),
    /// A kernel device name, from `/dev/<name>`.
    Kernel(String),
}

/// Why a spec was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    Empty,
    /// `LABEL=` and friends with nothing after the `=`.
    EmptyValue(&'static str),
    /// Not one of the forms above.
    Unknown(String),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => f.write_str("empty device specification"),
            SpecError::EmptyValue(kind) => write!(f, "{kind}= without a value"),
            SpecError::Unknown(s) => write!(
                f,
                "unknown device specification '{s}' (expected LABEL=, CDLABEL=, UUID=, \
                 PARTUUID=, PARTLABEL= or a /dev path)"
            ),
        }
    }
}

/// What is known about one block device, for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockId<'a> {
    /// Kernel name, e.g. `sr0`, `vda1`.
    pub name: &'a str,
    pub fs: Option<&'a FsInfo>,
    pub partuuid: Option<&'a str>,
    pub partlabel: Option<&'a str>,
}

impl DevSpec {
    /// Parses the `<spec>` of `root=live:<spec>`.
    pub fn parse(spec: &str) -> Result<DevSpec, SpecError> {
        if spec.is_empty() {
            return Err(SpecError::Empty);
        }
        // `TAG=value` and udev's `/dev/disk/by-*/value` name the same things.
        const FORMS: [(&str, &str); 9] = [
            ("LABEL=", "LABEL"),
            ("CDLABEL=", "CDLABEL"),
            ("UUID=", "UUID"),
            ("PARTUUID=", "PARTUUID"),
            ("PARTLABEL=", "PARTLABEL"),
            ("/dev/disk/by-label/", "LABEL"),
            ("/dev/disk/by-uuid/", "UUID"),
            ("/dev/disk/by-partuuid/", "PARTUUID"),
            ("/dev/disk/by-partlabel/", "PARTLABEL"),
        ];
        for (prefix, tag) in FORMS {
            if let Some(value) = spec.strip_prefix(prefix) {
                if value.is_empty() {
                    return Err(SpecError::EmptyValue(tag));
                }
                return Ok(DevSpec::from_tag(tag, value));
            }
        }
        match spec.strip_prefix("/dev/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                Ok(DevSpec::Kernel(String::from(name)))
            }
            _ => Err(SpecError::Unknown(String::from(spec))),
        }
    }

    fn from_tag(tag: &str, raw: &str) -> DevSpec {
        let value = unescape_udev(raw);
        match tag {
            "UUID" => DevSpec::Uuid(value),
            "PARTUUID" => DevSpec::PartUuid(value),
            "PARTLABEL" => DevSpec::PartLabel(value),
            _ => DevSpec::Label(value),
        }
    }

    /// Whether the device described by `id` is the one this spec names.
    pub fn matches(&self, id: &BlockId<'_>) -> bool {
        let fs_label = id.fs.and_then(|fs| fs.label.as_deref());
        let fs_uuid = id.fs.and_then(|fs| fs.uuid.as_deref());
        match self {
            DevSpec::Label(want) => fs_label == Some(want.as_str()),
            DevSpec::Uuid(want) => fs_uuid.is_some_and(|u| u.eq_ignore_ascii_case(want)),
            DevSpec::PartUuid(want) => id.partuuid.is_some_and(|u| u.eq_ignore_ascii_case(want)),
            DevSpec::PartLabel(want) => id.partlabel == Some(want.as_str()),
            DevSpec::Kernel(name) => id.name == name,
        }
    }
}

impl fmt::Display for DevSpec {
    /// The spec as a user would write it (unescaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevSpec::Label(v) => write!(f, "LABEL={v}"),
            DevSpec::Uuid(v) => write!(f, "UUID={v}"),
            DevSpec::PartUuid(v) => write!(f, "PARTUUID={v}"),
            DevSpec::PartLabel(v) => write!(f, "PARTLABEL={v}"),
            DevSpec::Kernel(v) => write!(f, "/dev/{v}"),
        }
    }
}

/// Undoes udev's `\xHH` escaping (`My\x20Disk` → `My Disk`). Anything that
/// is not a well-formed escape is kept as written.
pub fn unescape_udev(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = alloc::vec::Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escape = match (bytes.get(i + 1), bytes.get(i + 2), bytes.get(i + 3)) {
            (Some(b'x'), Some(&h), Some(&l)) if b == b'\\' => hex(h).zip(hex(l)),
            _ => None,
        };
        match escape {
            Some((h, l)) => {
                out.push(h << 4 | l);
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    // An escape may have produced invalid UTF-8; labels are compared as text.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::FsType;

    fn fs(label: Option<&str>, uuid: Option<&str>) -> FsInfo {
        FsInfo {
            fstype: FsType::Iso9660,
            label: label.map(String::from),
            uuid: uuid.map(String::from),
        }
    }

    #[test]
    fn parses_every_form() {
        let cases = [
            ("LABEL=x", DevSpec::Label("x".into())),
            (
                "CDLABEL=Fedora-WS-Live-41",
                DevSpec::Label("Fedora-WS-Live-41".into()),
            ),
            (
                "UUID=2024-10-24-11-22-33-00",
                DevSpec::Uuid("2024-10-24-11-22-33-00".into()),
            ),
            ("PARTUUID=abcd-01", DevSpec::PartUuid("abcd-01".into())),
            ("PARTLABEL=live", DevSpec::PartLabel("live".into())),
            ("/dev/sr0", DevSpec::Kernel("sr0".into())),
            (
                "/dev/disk/by-label/My\\x20Disk",
                DevSpec::Label("My Disk".into()),
            ),
            ("/dev/disk/by-uuid/AB", DevSpec::Uuid("AB".into())),
            ("/dev/disk/by-partuuid/1-2", DevSpec::PartUuid("1-2".into())),
            (
                "/dev/disk/by-partlabel/a\\x2fb",
                DevSpec::PartLabel("a/b".into()),
            ),
            ("LABEL=a=b", DevSpec::Label("a=b".into())),
        ];
        for (text, want) in cases {
            assert_eq!(DevSpec::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn escaped_and_plain_labels_are_the_same() {
        assert_eq!(
            DevSpec::parse("CDLABEL=My\\x20Disk"),
            DevSpec::parse("CDLABEL=My Disk")
        );
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        assert_eq!(DevSpec::parse(""), Err(SpecError::Empty));
        assert_eq!(
            DevSpec::parse("LABEL="),
            Err(SpecError::EmptyValue("LABEL"))
        );
        assert_eq!(
            DevSpec::parse("/dev/disk/by-label/"),
            Err(SpecError::EmptyValue("LABEL"))
        );
        assert!(matches!(DevSpec::parse("sr0"), Err(SpecError::Unknown(_))));
        assert!(matches!(
            DevSpec::parse("/dev/"),
            Err(SpecError::Unknown(_))
        ));
        assert!(matches!(
            DevSpec::parse("/dev/disk/by-id/x"),
            Err(SpecError::Unknown(_))
        ));
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(unescape_udev("a\\x2"), "a\\x2");
        assert_eq!(unescape_udev("a\\xzz"), "a\\xzz");
        assert_eq!(unescape_udev("\\x41\\x42"), "AB");
        assert_eq!(unescape_udev("\\"), "\\");
    }

    #[test]
    fn matching() {
        let info = fs(Some("My Disk"), Some("2024-01-02-03-04-05-00"));
        let id = BlockId {
            name: "sr0",
            fs: Some(&info),
            partuuid: Some("ABCD-01"),
            partlabel: Some("p"),
        };
        assert!(DevSpec::parse("CDLABEL=My\\x20Disk").unwrap().matches(&id));
        assert!(!DevSpec::parse("LABEL=my disk").unwrap().matches(&id));
        assert!(DevSpec::parse("UUID=2024-01-02-03-04-05-00")
            .unwrap()
            .matches(&id));
        assert!(DevSpec::parse("PARTUUID=abcd-01").unwrap().matches(&id));
        assert!(DevSpec::parse("PARTLABEL=p").unwrap().matches(&id));
        assert!(DevSpec::parse("/dev/sr0").unwrap().matches(&id));
        assert!(!DevSpec::parse("/dev/sr1").unwrap().matches(&id));
        let bare = BlockId {
            name: "vda",
            ..BlockId::default()
        };
        assert!(!DevSpec::parse("LABEL=x").unwrap().matches(&bare));
        assert!(!DevSpec::parse("UUID=x").unwrap().matches(&bare));
    }
}
