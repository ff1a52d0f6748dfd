//! live-boot's `live-media=removable|removable-usb` and
//! `persistence-media=removable|removable-usb` (distro-live-spec §1.2,
//! §1.3, §1.8): the search is restricted to whole disks the kernel calls
//! removable (sysfs `removable` is 1), and for `-usb` to those on USB. A
//! partition counts as its disk does. There is no fallback to the others.

/// Which disks may be searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removable {
    /// `removable`: sysfs `removable` is 1 (CD drives, card readers, sticks
    /// that say so).
    Any,
    /// `removable-usb`: that, and the disk is on USB.
    Usb,
}

impl Removable {
    /// The option's value, if it is one of these.
    pub fn parse(value: &str) -> Option<Removable> {
        match value {
            "removable" => Some(Removable::Any),
            "removable-usb" => Some(Removable::Usb),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Removable::Any => "removable",
            Removable::Usb => "removable-usb",
        }
    }

    /// What the disks searched are, for messages.
    pub fn disks(self) -> &'static str {
        match self {
            Removable::Any => "removable disks (sysfs removable=1)",
            Removable::Usb => "removable USB disks (sysfs removable=1, on USB)",
        }
    }

    /// Whether a disk qualifies, from its sysfs `removable` attribute and
    /// whether it hangs off USB.
    pub fn admits(self, removable_attr: &[u8], on_usb: bool) -> bool {
        removable_attr.trim_ascii() == b"1" && (self == Removable::Any || on_usb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_removable_disks_and_for_usb_only_on_usb() {
        assert_eq!(Removable::parse("removable"), Some(Removable::Any));
        assert_eq!(Removable::parse("removable-usb"), Some(Removable::Usb));
        assert_eq!(Removable::parse("/dev/sdb"), None);
        assert!(Removable::Any.admits(b"1\n", false));
        assert!(!Removable::Any.admits(b"0\n", true));
        assert!(!Removable::Any.admits(b"", true));
        assert!(Removable::Usb.admits(b"1\n", true));
        assert!(!Removable::Usb.admits(b"1\n", false));
    }
}
