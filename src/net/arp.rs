//! ARP for IPv4 over Ethernet (RFC 826) as bytes: the duplicate-address
//! probe of a static `ip=` (RFC 5227) and the request that asks whether
//! the gateway answers. Only the 28-byte ARP payload: the packet socket
//! adds and strips the Ethernet header.

use core::net::Ipv4Addr;
use core::time::Duration;

use super::addr::Mac;

pub const REQUEST: u16 = 1;
pub const REPLY: u16 = 2;
/// An ARP payload for Ethernet and IPv4.
pub const LEN: usize = 28;
/// RFC 5227's PROBE_MIN: probes go out this far apart (the RFC allows up
/// to PROBE_MAX, 2 s; the fixed lower end keeps the bound predictable).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// One ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    pub op: u16,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

/// A request for `target` from `mac`/`sender`; a probe has sender 0.0.0.0.
pub fn request(mac: Mac, sender: Ipv4Addr, target: Ipv4Addr) -> [u8; LEN] {
    // Hardware Ethernet (1), protocol IPv4 (0x0800), lengths 6 and 4,
    // op; the target MAC stays zero: it is what is asked for.
    let head = [0, 1, 8, 0, 6, 4, 0, 1];
    let (sender, target) = (sender.octets(), target.octets());
    let mut p = [0u8; LEN];
    let bytes = head
        .iter()
        .chain(&mac)
        .chain(&sender)
        .chain(&[0u8; 6])
        .chain(&target);
    for (slot, b) in p.iter_mut().zip(bytes) {
        *slot = *b;
    }
    p
}

/// Reads an ARP payload; anything but Ethernet/IPv4 is `None`.
pub fn parse(p: &[u8]) -> Option<Arp> {
    if p.get(..6)? != [0, 1, 8, 0, 6, 4] {
        return None;
    }
    let mac = |at: usize| -> Option<Mac> { p.get(at..at + 6)?.try_into().ok() };
    let ip = |at: usize| -> Option<Ipv4Addr> {
        let o: [u8; 4] = p.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(o))
    };
    Some(Arp {
        op: u16::from_be_bytes(p.get(6..8)?.try_into().ok()?),
        sender_mac: mac(8)?,
        sender_ip: ip(14)?,
        target_mac: mac(18)?,
        target_ip: ip(24)?,
    })
}

/// RFC 5227 §2.1.1: while probing `candidate` from `ours`, any ARP
/// message whose sender is `candidate`, or another host's probe for it,
/// means the address is taken; returns the MAC of that host.
pub fn conflict(a: &Arp, ours: Mac, candidate: Ipv4Addr) -> Option<Mac> {
    if a.sender_mac == ours {
        return None;
    }
    let claims = a.sender_ip == candidate;
    let probes = a.op == REQUEST && a.sender_ip.is_unspecified() && a.target_ip == candidate;
    (claims || probes).then_some(a.sender_mac)
}

/// Whether `a` is `host` answering (a reply from it, or any message it
/// sent: a host that asks is there too).
pub fn from_host(a: &Arp, ours: Mac, host: Ipv4Addr) -> bool {
    a.sender_mac != ours && a.sender_ip == host
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    const SLIRP: Mac = [0x52, 0x55, 10, 0, 2, 2];

    #[test]
    fn a_probe_has_no_sender_address_and_round_trips() {
        let p = request(OURS, Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 0, 2, 2));
        assert_eq!(&p[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        let a = parse(&p).unwrap();
        assert_eq!(a.op, REQUEST);
        assert_eq!(a.sender_mac, OURS);
        assert!(a.sender_ip.is_unspecified());
        assert_eq!(a.target_mac, [0; 6]);
        assert_eq!(a.target_ip, Ipv4Addr::new(10, 0, 2, 2));
        assert_eq!(parse(&p[..20]), None);
        let mut ipv6ish = p;
        ipv6ish[3] = 0xdd;
        assert_eq!(parse(&ipv6ish), None);
    }

    #[test]
    fn conflicts_per_rfc_5227() {
        let cand = Ipv4Addr::new(10, 0, 2, 2);
        let mut reply = parse(&request(SLIRP, cand, Ipv4Addr::UNSPECIFIED)).unwrap();
        reply.op = REPLY;
        assert_eq!(conflict(&reply, OURS, cand), Some(SLIRP));
        // Another host probing the same address at the same time.
        let probe = parse(&request(SLIRP, Ipv4Addr::UNSPECIFIED, cand)).unwrap();
        assert_eq!(conflict(&probe, OURS, cand), Some(SLIRP));
        // Our own probe, looped back, and unrelated traffic are no conflict.
        let own = parse(&request(OURS, Ipv4Addr::UNSPECIFIED, cand)).unwrap();
        assert_eq!(conflict(&own, OURS, cand), None);
        let other = parse(&request(SLIRP, Ipv4Addr::new(10, 0, 2, 3), cand)).unwrap();
        assert_eq!(conflict(&other, OURS, cand), None);
        assert!(from_host(&reply, OURS, cand));
        assert!(!from_host(&other, OURS, cand));
    }
}
