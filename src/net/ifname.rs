//! Interface names without udev (network-boot-spec §2.2 "Interface
//! names"): a name from a dracut configuration is looked up as a kernel
//! name, then as `enx<mac>`, then as the PCI path name systemd would give
//! (`enp<bus>s<slot>[f<fn>]`, the simple subset).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::addr::{mac_text, Mac};
use super::ip::IfRef;

/// What the init knows of one network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    pub index: u32,
    pub name: String,
    pub mac: Mac,
    /// The bound driver (`virtio_net`, `e1000`), if any.
    pub driver: Option<String>,
    /// `enp0s3`-style name, for a NIC on PCI.
    pub pci_name: Option<String>,
    pub up: bool,
    pub carrier: bool,
    /// Ethernet-type, with a device behind it, not wireless: a DHCP candidate.
    pub physical: bool,
}

impl Nic {
    /// `eth0 52:54:00:12:34:56 virtio_net enp0s3`, for listings.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}{}",
            self.name,
            mac_text(&self.mac),
            self.driver.as_deref().unwrap_or("(no driver)"),
            self.pci_name
                .as_deref()
                .map_or(String::new(), |p| format!(" {p}"))
        )
    }
}

/// `enx` followed by the MAC in lower-case hex.
pub fn enx_name(mac: &Mac) -> String {
    let mut s = String::from("enx");
    for b in mac {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The PCI path name from a PCI address `DDDD:BB:SS.F` (`PCI_SLOT_NAME`):
/// `enp<bus>s<slot>` plus `f<fn>` for a function other than 0, and a
/// `P<domain>` prefix outside domain 0.
pub fn pci_path_name(slot_name: &str) -> Option<String> {
    let mut parts = slot_name.trim().split(':');
    let domain = u32::from_str_radix(parts.next()?, 16).ok()?;
    let bus = u32::from_str_radix(parts.next()?, 16).ok()?;
    let (slot, func) = parts.next()?.split_once('.')?;
    if parts.next().is_some() {
        return None;
    }
    let slot = u32::from_str_radix(slot, 16).ok()?;
    let func = u32::from_str_radix(func, 16).ok()?;
    let prefix = if domain == 0 {
        String::from("en")
    } else {
        format!("enP{domain}")
    };
    let f = if func == 0 {
        String::new()
    } else {
        format!("f{func}")
    };
    Some(format!("{prefix}p{bus}s{slot}{f}"))
}

/// `PCI_SLOT_NAME=` of a device's `uevent` text.
pub fn pci_slot_of_uevent(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("PCI_SLOT_NAME="))
}

/// `DRIVER=` of a device's `uevent` text.
pub fn driver_of_uevent(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("DRIVER="))
}

/// Finds the interface an `ip=`/`bootdev=` reference means, in the spec's
/// order: kernel name, `enx<mac>`, PCI path name; a MAC matches by MAC.
pub fn resolve<'a>(want: &IfRef, nics: &'a [Nic]) -> Option<&'a Nic> {
    match want {
        IfRef::Mac(mac) => nics.iter().find(|n| n.mac == *mac),
        IfRef::Name(name) => nics
            .iter()
            .find(|n| n.name == *name)
            .or_else(|| nics.iter().find(|n| enx_name(&n.mac) == *name))
            .or_else(|| nics.iter().find(|n| n.pci_name.as_deref() == Some(name))),
    }
}

/// How a reference is written in messages.
pub fn ref_text(want: &IfRef) -> String {
    match want {
        IfRef::Name(n) => n.clone(),
        IfRef::Mac(m) => format!("the NIC with MAC {}", mac_text(m)),
    }
}

/// Every NIC, one per entry, for a failure message.
pub fn listing(nics: &[Nic]) -> Vec<String> {
    nics.iter()
        .filter(|n| n.name != "lo")
        .map(Nic::describe)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(name: &str, last: u8, pci: Option<&str>) -> Nic {
        Nic {
            index: u32::from(last),
            name: name.into(),
            mac: [0x52, 0x54, 0, 0x12, 0x34, last],
            driver: Some("e1000".into()),
            pci_name: pci.map(String::from),
            up: false,
            carrier: false,
            physical: true,
        }
    }

    #[test]
    fn pci_names() {
        assert_eq!(pci_path_name("0000:00:03.0").as_deref(), Some("enp0s3"));
        assert_eq!(pci_path_name("0000:01:00.1").as_deref(), Some("enp1s0f1"));
        assert_eq!(pci_path_name("0000:af:1f.0").as_deref(), Some("enp175s31"));
        assert_eq!(pci_path_name("0001:02:00.0").as_deref(), Some("enP1p2s0"));
        assert_eq!(pci_path_name("junk"), None);
        assert_eq!(
            pci_slot_of_uevent("DRIVER=e1000\nPCI_SLOT_NAME=0000:00:03.0\n"),
            Some("0000:00:03.0")
        );
        assert_eq!(driver_of_uevent("DRIVER=e1000\n"), Some("e1000"));
    }

    #[test]
    fn resolution_order() {
        let nics = [
            nic("eth0", 0x56, Some("enp0s3")),
            nic("eth1", 0x57, Some("enp0s4")),
        ];
        let by = |n: &str| resolve(&IfRef::Name(n.into()), &nics).map(|n| n.name.clone());
        assert_eq!(by("eth1").as_deref(), Some("eth1"));
        assert_eq!(by("enx525400123457").as_deref(), Some("eth1"));
        assert_eq!(by("enp0s3").as_deref(), Some("eth0"));
        assert_eq!(by("enp9s9"), None);
        let m = IfRef::Mac([0x52, 0x54, 0, 0x12, 0x34, 0x57]);
        assert_eq!(resolve(&m, &nics).map(|n| n.index), Some(0x57));
        assert_eq!(nics[0].describe(), "eth0 52:54:00:12:34:56 e1000 enp0s3");
    }
}
