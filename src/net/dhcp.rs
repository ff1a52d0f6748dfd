//! DHCPv4 for a boot client (RFC 2131/2132, network-boot-spec §3 step 5):
//! the DISCOVER and REQUEST a client sends, the OFFER/ACK/NAK it reads,
//! the retransmission timing, and what a lease means for addresses and
//! routes. Pure: bytes in, bytes out; the socket is the system seam's.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use super::addr::{self, Mac};

pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;
const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// op, htype, hlen, hops, xid, secs, flags, 4 addresses, chaddr, sname, file.
const FIXED: usize = 236;
/// Some servers drop requests shorter than a BOOTP packet.
const MIN_LEN: usize = 300;
/// What the client asks for (option 55): mask, routers, DNS, host name,
/// domain, MTU, broadcast, NTP, search list, classless routes.
const WANTED: [u8; 10] = [1, 3, 6, 12, 15, 26, 28, 42, 119, 121];

/// The message types (option 53) a client sends or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    Discover,
    Offer,
    Request,
    Ack,
    Nak,
    Other(u8),
}

impl MsgType {
    fn code(self) -> u8 {
        match self {
            MsgType::Discover => 1,
            MsgType::Offer => 2,
            MsgType::Request => 3,
            MsgType::Ack => 5,
            MsgType::Nak => 6,
            MsgType::Other(c) => c,
        }
    }
    fn from_code(c: u8) -> MsgType {
        match c {
            1 => MsgType::Discover,
            2 => MsgType::Offer,
            3 => MsgType::Request,
            5 => MsgType::Ack,
            6 => MsgType::Nak,
            c => MsgType::Other(c),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub xid: u32,
    pub mac: Mac,
    /// Seconds since the exchange began.
    pub secs: u16,
    /// Host name to announce (option 12), when `ip=` gave one.
    pub hostname: Option<&'a str>,
}

/// A DISCOVER, or a REQUEST for the address an OFFER made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Discover,
    Request { address: Ipv4Addr, server: Ipv4Addr },
}

/// Builds the message: broadcast flag set, `chaddr` = MAC, client
/// identifier `01` + MAC (as dracut's dhclient), max size 1500.
pub fn build(client: &Client<'_>, ask: Ask) -> Vec<u8> {
    let mut p = Vec::with_capacity(MIN_LEN);
    p.extend_from_slice(&[1, 1, 6, 0]);
    p.extend_from_slice(&client.xid.to_be_bytes());
    p.extend_from_slice(&client.secs.to_be_bytes());
    p.extend_from_slice(&0x8000u16.to_be_bytes());
    p.resize(28, 0); // ciaddr, yiaddr, siaddr, giaddr
    p.extend_from_slice(&client.mac);
    p.resize(FIXED, 0);
    p.extend_from_slice(&MAGIC);
    let kind = match ask {
        Ask::Discover => MsgType::Discover,
        Ask::Request { .. } => MsgType::Request,
    };
    option(&mut p, 53, &[kind.code()]);
    let mut id = alloc::vec![1u8];
    id.extend_from_slice(&client.mac);
    option(&mut p, 61, &id);
    option(&mut p, 57, &1500u16.to_be_bytes());
    option(&mut p, 55, &WANTED);
    if let Ask::Request { address, server } = ask {
        option(&mut p, 50, &address.octets());
        option(&mut p, 54, &server.octets());
    }
    if let Some(h) = client.hostname.filter(|h| !h.is_empty() && h.len() <= 255) {
        option(&mut p, 12, h.as_bytes());
    }
    option(&mut p, 60, b"liveinit");
    p.push(255);
    if p.len() < MIN_LEN {
        p.resize(MIN_LEN, 0);
    }
    p
}

fn option(p: &mut Vec<u8>, code: u8, data: &[u8]) {
    if let Ok(len) = u8::try_from(data.len()) {
        p.push(code);
        p.push(len);
        p.extend_from_slice(data);
    }
}

/// A classless static route (option 121).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticRoute {
    pub net: Ipv4Addr,
    pub prefix: u8,
    /// `0.0.0.0` means on-link.
    pub router: Ipv4Addr,
}

/// What a server offers or acknowledges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lease {
    pub address: Option<Ipv4Addr>,
    /// Option 1 as a prefix length (`None`: missing or not contiguous).
    pub prefix: Option<u8>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub hostname: Option<String>,
    pub domain: Option<String>,
    pub mtu: Option<u16>,
    pub broadcast: Option<Ipv4Addr>,
    pub lease_secs: Option<u32>,
    /// Option 54, else the BOOTP `siaddr`.
    pub server: Option<Ipv4Addr>,
    pub search: Vec<String>,
    pub classless: Vec<StaticRoute>,
}

/// A reply from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: MsgType,
    pub xid: u32,
    pub chaddr: Mac,
    pub lease: Lease,
}

/// Why bytes are not a DHCP reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpError {
    Short,
    NotReply,
    NoMagic,
    NoType,
}

impl fmt::Display for DhcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DhcpError::Short => "shorter than a BOOTP message",
            DhcpError::NotReply => "not a BOOTP reply for Ethernet",
            DhcpError::NoMagic => "no DHCP magic cookie",
            DhcpError::NoType => "no DHCP message type",
        })
    }
}

fn ip_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let o: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(o))
}

fn ips(data: &[u8]) -> Vec<Ipv4Addr> {
    data.chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok().map(Ipv4Addr::from))
        .collect()
}

fn text(data: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(data);
    let s = s.trim_end_matches('\0');
    (!s.is_empty()).then(|| String::from(s))
}

/// Parses a server's message. Options given several times are joined
/// (RFC 3396); the `sname`/`file` overload (option 52) is not read.
pub fn parse(b: &[u8]) -> Result<Reply, DhcpError> {
    if b.len() < FIXED + MAGIC.len() {
        return Err(DhcpError::Short);
    }
    if b.first() != Some(&2) || b.get(1) != Some(&1) || b.get(2) != Some(&6) {
        return Err(DhcpError::NotReply);
    }
    if b.get(FIXED..FIXED + 4) != Some(&MAGIC[..]) {
        return Err(DhcpError::NoMagic);
    }
    let xid = b
        .get(4..8)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map_or(0, u32::from_be_bytes);
    let chaddr: Mac = b
        .get(28..34)
        .and_then(|m| m.try_into().ok())
        .ok_or(DhcpError::Short)?;
    let yiaddr = ip_at(b, 16).filter(|a| !a.is_unspecified());
    let siaddr = ip_at(b, 20).filter(|a| !a.is_unspecified());
    let mut opts: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    let mut rest = b.get(FIXED + 4..).unwrap_or_default();
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => rest = tail,
            255 => break,
            _ => {
                let Some((&len, tail)) = tail.split_first() else {
                    break;
                };
                let len = usize::from(len);
                let Some(data) = tail.get(..len) else {
                    break;
                };
                opts.entry(code).or_default().extend_from_slice(data);
                rest = tail.get(len..).unwrap_or_default();
            }
        }
    }
    let kind = opts
        .get(&53)
        .and_then(|d| d.first())
        .map(|c| MsgType::from_code(*c))
        .ok_or(DhcpError::NoType)?;
    let get = |c: u8| opts.get(&c).map(Vec::as_slice);
    let lease = Lease {
        address: yiaddr,
        prefix: get(1)
            .and_then(|d| ip_at(d, 0))
            .filter(|m| !m.is_unspecified())
            .and_then(addr::prefix_of_mask),
        routers: get(3).map(ips).unwrap_or_default(),
        dns: get(6).map(ips).unwrap_or_default(),
        hostname: get(12).and_then(text),
        domain: get(15).and_then(text),
        mtu: get(26)
            .and_then(|d| d.get(..2))
            .and_then(|d| <[u8; 2]>::try_from(d).ok())
            .map(u16::from_be_bytes),
        broadcast: get(28).and_then(|d| ip_at(d, 0)),
        lease_secs: get(51)
            .and_then(|d| d.get(..4))
            .and_then(|d| <[u8; 4]>::try_from(d).ok())
            .map(u32::from_be_bytes),
        server: get(54).and_then(|d| ip_at(d, 0)).or(siaddr),
        search: get(119).map(search_list).unwrap_or_default(),
        classless: get(121).map(classless).unwrap_or_default(),
    };
    Ok(Reply {
        kind,
        xid,
        chaddr,
        lease,
    })
}

/// Whether a reply answers this client's exchange (same `xid`, same MAC).
pub fn answers(reply: &Reply, xid: u32, mac: &Mac) -> bool {
    reply.xid == xid && reply.chaddr == *mac
}

/// Option 119: DNS names (RFC 1035 §4.1.4 compression, pointers into the
/// option data itself), bounded so a pointer loop ends.
fn search_list(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && out.len() < 32 {
        let mut name = String::new();
        let mut at = pos;
        let mut next = None;
        let mut hops = 0;
        loop {
            let Some(&len) = data.get(at) else {
                return out;
            };
            if len == 0 {
                next.get_or_insert(at + 1);
                break;
            }
            if len & 0xc0 == 0xc0 {
                let Some(&low) = data.get(at + 1) else {
                    return out;
                };
                next.get_or_insert(at + 2);
                at = usize::from(len & 0x3f) << 8 | usize::from(low);
                hops += 1;
                if hops > 16 {
                    return out;
                }
                continue;
            }
            let len = usize::from(len);
            let Some(label) = data.get(at + 1..at + 1 + len) else {
                return out;
            };
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(&String::from_utf8_lossy(label));
            at += 1 + len;
            if name.len() > 255 {
                return out;
            }
        }
        if !name.is_empty() {
            out.push(name);
        }
        pos = next.unwrap_or(data.len());
    }
    out
}

/// Option 121: `width, significant octets of the net, router`, repeated.
fn classless(data: &[u8]) -> Vec<StaticRoute> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&width, tail)) = rest.split_first() {
        if width > 32 {
            break;
        }
        let n = usize::from(width).div_ceil(8);
        let (Some(net), Some(router)) = (tail.get(..n), tail.get(n..n + 4)) else {
            break;
        };
        let mut o = [0u8; 4];
        for (slot, b) in o.iter_mut().zip(net) {
            *slot = *b;
        }
        let net = addr::network_of(Ipv4Addr::from(o), width);
        let router: [u8; 4] = router.try_into().unwrap_or_default();
        out.push(StaticRoute {
            net,
            prefix: width,
            router: Ipv4Addr::from(router),
        });
        rest = tail.get(n + 4..).unwrap_or_default();
    }
    out
}

/// A route a lease asks for: `gateway` `None` is on-link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRoute {
    pub net: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
}

impl Lease {
    /// The routes to add, as dhclient-script does: option 121 when given
    /// (option 3 is then ignored, RFC 3442), else each router as a default
    /// route; with a /32 address, an on-link route to the gateway first.
    pub fn routes(&self) -> Vec<LeaseRoute> {
        let mut out = Vec::new();
        if !self.classless.is_empty() {
            for r in &self.classless {
                out.push(LeaseRoute {
                    net: r.net,
                    prefix: r.prefix,
                    gateway: (!r.router.is_unspecified()).then_some(r.router),
                });
            }
            return out;
        }
        for (i, gw) in self.routers.iter().enumerate() {
            if i == 0 && self.prefix == Some(32) {
                out.push(LeaseRoute {
                    net: *gw,
                    prefix: 32,
                    gateway: None,
                });
            }
            out.push(LeaseRoute {
                net: Ipv4Addr::UNSPECIFIED,
                prefix: 0,
                gateway: Some(*gw),
            });
        }
        out
    }

    /// The MTU to set: option 26 only above 576 (dhclient-script).
    pub fn mtu_to_set(&self) -> Option<u16> {
        self.mtu.filter(|m| *m > 576)
    }

    /// The host name, with the domain appended when it has none.
    pub fn full_hostname(&self) -> Option<String> {
        let h = self.hostname.as_deref()?;
        Some(match &self.domain {
            Some(d) if !h.contains('.') => alloc::format!("{h}.{d}"),
            _ => String::from(h),
        })
    }

    /// The default route's gateway, if any.
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        self.routes()
            .iter()
            .find(|r| r.prefix == 0)
            .and_then(|r| r.gateway)
    }
}

/// Wait before retransmission number `attempt` (0 first): 4, 8, 16, 32,
/// 64 s (RFC 2131 §4.1), plus `jitter_ms` in −1000…1000.
pub fn retransmit_delay(attempt: u32, jitter_ms: i32) -> Duration {
    let base = 4000u64 << attempt.min(4);
    let j = i64::from(jitter_ms.clamp(-1000, 1000));
    let ms = i64::try_from(base).unwrap_or(64_000).saturating_add(j);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A jitter in −1000…1000 ms derived from a seed (the xid and attempt).
pub fn jitter_ms(seed: u32) -> i32 {
    let mut x = seed.wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995;
    x ^= x >> 15;
    x = x.wrapping_mul(0x2c1b_3c6d);
    x ^= x >> 12;
    i32::try_from(x % 2001).unwrap_or(0) - 1000
}

#[cfg(test)]
mod tests;
