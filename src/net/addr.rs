//! Address words of the network options: IPv4 literals, netmasks in both
//! spellings, MAC addresses in the colon and PXELINUX (`-`) forms.

use alloc::format;
use alloc::string::String;
use core::net::Ipv4Addr;

/// A hardware (Ethernet) address.
pub type Mac = [u8; 6];

/// `a.b.c.d`, nothing else (no short forms, no spaces).
pub fn ipv4(text: &str) -> Option<Ipv4Addr> {
    text.parse().ok()
}

/// A netmask written as a prefix length (`24`) or dotted (`255.255.255.0`,
/// contiguous ones only): the prefix length.
pub fn prefix_len(text: &str) -> Option<u8> {
    if !text.is_empty() && text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().filter(|p| *p <= 32);
    }
    prefix_of_mask(ipv4(text)?)
}

/// The prefix length of a dotted netmask, if its ones are contiguous.
pub fn prefix_of_mask(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    // Contiguous: every bit after the leading ones is zero.
    (bits.checked_shl(ones).unwrap_or(0) == 0)
        .then(|| u8::try_from(ones).ok())
        .flatten()
}

/// The netmask of a prefix length.
pub fn mask_of(prefix: u8) -> Ipv4Addr {
    let p = u32::from(prefix.min(32));
    Ipv4Addr::from(u32::MAX.checked_shl(32 - p).unwrap_or(0))
}

/// The broadcast address of `addr/prefix`.
pub fn broadcast_of(addr: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(addr) | !u32::from(mask_of(prefix)))
}

/// The network address of `addr/prefix`.
pub fn network_of(addr: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(addr) & u32::from(mask_of(prefix)))
}

/// Six hex octets separated by `:` or `-` (both as in `ifname=` and in
/// BOOTIF), case-insensitive.
pub fn mac(text: &str) -> Option<Mac> {
    let sep = if text.contains('-') { '-' } else { ':' };
    let mut out = [0u8; 6];
    let mut parts = text.split(sep);
    for slot in &mut out {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// PXELINUX's `BOOTIF=01-aa-bb-cc-dd-ee-ff`: the leading hardware type is
/// dropped when seven octets are given (dracut's `fix_bootif`).
pub fn bootif(text: &str) -> Option<Mac> {
    let text = text.trim();
    let octets = text.split(['-', ':']).count();
    match octets {
        7 => text.get(3..).and_then(mac),
        6 => mac(text),
        _ => None,
    }
}

/// `aa:bb:cc:dd:ee:ff`, lower case.
pub fn mac_text(mac: &Mac) -> String {
    let [a, b, c, d, e, f] = *mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_in_both_spellings() {
        assert_eq!(prefix_len("24"), Some(24));
        assert_eq!(prefix_len("255.255.255.0"), Some(24));
        assert_eq!(prefix_len("255.255.255.255"), Some(32));
        assert_eq!(prefix_len("0.0.0.0"), Some(0));
        assert_eq!(prefix_len("255.255.240.0"), Some(20));
        for bad in ["33", "255.0.255.0", "", "x", "-1", "255.255.255", "024x"] {
            assert_eq!(prefix_len(bad), None, "{bad}");
        }
        assert_eq!(mask_of(20), Ipv4Addr::new(255, 255, 240, 0));
        assert_eq!(mask_of(0), Ipv4Addr::new(0, 0, 0, 0));
        let a = Ipv4Addr::new(10, 0, 2, 15);
        assert_eq!(broadcast_of(a, 24), Ipv4Addr::new(10, 0, 2, 255));
        assert_eq!(network_of(a, 24), Ipv4Addr::new(10, 0, 2, 0));
    }

    #[test]
    fn macs_and_bootif() {
        let m = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        assert_eq!(mac("52:54:00:12:34:56"), Some(m));
        assert_eq!(mac("52-54-00-12-34-56"), Some(m));
        assert_eq!(mac("52:54:00:12:34"), None);
        assert_eq!(mac("52:54:00:12:34:56:78"), None);
        assert_eq!(bootif("01-52-54-00-12-34-56"), Some(m));
        assert_eq!(bootif("52-54-00-12-34-56"), Some(m));
        assert_eq!(bootif("01-52-54-00-12-34-5G"), None);
        assert_eq!(mac_text(&m), "52:54:00:12:34:56");
    }
}
