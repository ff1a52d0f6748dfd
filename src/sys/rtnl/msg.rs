//! rtnetlink messages as bytes (rtnetlink(7)): the requests the init sends
//! and the link dump it reads. No syscalls here, so the layouts are tested
//! on the host.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;

use super::{AddrSpec, LinkChange, NetLink, RouteSpec};

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_NEWROUTE: u16 = 24;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_CARRIER: u16 = 33;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_VLAN_ID: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;
const IFF_UP: u32 = 1;
const IFF_LOWER_UP: u32 = 0x1_0000;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RT_TABLE_MAIN: u8 = 254;
/// Routes from a DHCP lease or the command line (`RTPROT_BOOT`).
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RTN_UNICAST: u8 = 1;
const HEADER: usize = 16;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// A message under construction: header, then the family header, then
/// attributes.
pub struct Builder {
    buf: Vec<u8>,
    /// Start of open nested attributes.
    nests: Vec<usize>,
}

impl Builder {
    fn new(kind: u16, flags: u16, seq: u32) -> Builder {
        let mut buf = vec![0u8; HEADER];
        put16(&mut buf, 4, kind);
        put16(&mut buf, 6, flags | NLM_F_REQUEST);
        put32(&mut buf, 8, seq);
        Builder {
            buf,
            nests: Vec::new(),
        }
    }

    fn bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    fn attr(&mut self, kind: u16, data: &[u8]) {
        let len = 4 + data.len();
        self.buf
            .extend_from_slice(&u16::try_from(len).unwrap_or(0).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
    }

    fn nest(&mut self, kind: u16) {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    }

    fn end_nest(&mut self) {
        if let Some(at) = self.nests.pop() {
            let len = u16::try_from(self.buf.len() - at).unwrap_or(0);
            put16(&mut self.buf, at, len);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.buf.len()).unwrap_or(0);
        put32(&mut self.buf, 0, len);
        self.buf
    }
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&v.to_ne_bytes());
    }
}

fn put32(buf: &mut [u8], at: usize, v: u32) {
    if let Some(slot) = buf.get_mut(at..at + 4) {
        slot.copy_from_slice(&v.to_ne_bytes());
    }
}

fn get16(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn get32(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// `ifinfomsg`: family, type, index, flags, change.
fn ifinfo(b: &mut Builder, index: u32, flags: u32, change: u32) {
    b.bytes(&[AF_UNSPEC, 0, 0, 0]);
    b.bytes(&index.to_ne_bytes());
    b.bytes(&flags.to_ne_bytes());
    b.bytes(&change.to_ne_bytes());
}

pub fn dump_links(seq: u32) -> Vec<u8> {
    let mut b = Builder::new(RTM_GETLINK, NLM_F_DUMP, seq);
    ifinfo(&mut b, 0, 0, 0);
    b.finish()
}

pub fn set_link(seq: u32, index: u32, change: &LinkChange) -> Vec<u8> {
    let mut b = Builder::new(RTM_NEWLINK, NLM_F_ACK, seq);
    let (flags, mask) = match change.up {
        Some(true) => (IFF_UP, IFF_UP),
        Some(false) => (0, IFF_UP),
        None => (0, 0),
    };
    ifinfo(&mut b, index, flags, mask);
    if let Some(name) = &change.name {
        let mut z = name.as_bytes().to_vec();
        z.push(0);
        b.attr(IFLA_IFNAME, &z);
    }
    if let Some(mtu) = change.mtu {
        b.attr(IFLA_MTU, &mtu.to_ne_bytes());
    }
    if let Some(mac) = change.mac {
        b.attr(IFLA_ADDRESS, &mac);
    }
    b.finish()
}

pub fn new_vlan(seq: u32, name: &str, parent: u32, id: u16) -> Vec<u8> {
    let mut b = Builder::new(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
    ifinfo(&mut b, 0, 0, 0);
    let mut z = name.as_bytes().to_vec();
    z.push(0);
    b.attr(IFLA_IFNAME, &z);
    b.attr(IFLA_LINK, &parent.to_ne_bytes());
    b.nest(IFLA_LINKINFO);
    b.attr(IFLA_INFO_KIND, b"vlan");
    b.nest(IFLA_INFO_DATA);
    b.attr(IFLA_VLAN_ID, &id.to_ne_bytes());
    b.end_nest();
    b.end_nest();
    b.finish()
}

pub fn new_address(seq: u32, index: u32, a: &AddrSpec) -> Vec<u8> {
    let mut b = Builder::new(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
    b.bytes(&[AF_INET, a.prefix, 0, RT_SCOPE_UNIVERSE]);
    b.bytes(&index.to_ne_bytes());
    b.attr(IFA_LOCAL, &a.address.octets());
    // IFA_ADDRESS is the peer on a point-to-point link, else the address.
    b.attr(IFA_ADDRESS, &a.peer.unwrap_or(a.address).octets());
    if let Some(bc) = a.broadcast {
        b.attr(IFA_BROADCAST, &bc.octets());
    }
    if let Some(secs) = a.lifetime_secs {
        // ifa_cacheinfo: preferred, valid, cstamp, tstamp.
        let mut ci = Vec::with_capacity(16);
        ci.extend_from_slice(&secs.to_ne_bytes());
        ci.extend_from_slice(&secs.to_ne_bytes());
        ci.extend_from_slice(&[0; 8]);
        b.attr(IFA_CACHEINFO, &ci);
    }
    b.finish()
}

pub fn new_route(seq: u32, r: &RouteSpec) -> Vec<u8> {
    let flags = NLM_F_ACK | NLM_F_CREATE | if r.replace { NLM_F_REPLACE } else { NLM_F_EXCL };
    let mut b = Builder::new(RTM_NEWROUTE, flags, seq);
    let scope = if r.gateway.is_some() {
        RT_SCOPE_UNIVERSE
    } else {
        RT_SCOPE_LINK
    };
    b.bytes(&[
        AF_INET,
        r.prefix,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_BOOT,
        scope,
        RTN_UNICAST,
    ]);
    b.bytes(&0u32.to_ne_bytes());
    if r.prefix > 0 {
        b.attr(RTA_DST, &r.net.octets());
    }
    if let Some(gw) = r.gateway {
        b.attr(RTA_GATEWAY, &gw.octets());
    }
    if let Some(index) = r.index {
        b.attr(RTA_OIF, &index.to_ne_bytes());
    }
    b.finish()
}

/// One message of a reply: its type and payload (after the header).
pub fn messages(buf: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while let (Some(len), Some(kind), Some(seq)) =
        (get32(buf, at), get16(buf, at + 4), get32(buf, at + 8))
    {
        let len = usize::try_from(len).unwrap_or(0);
        if len < HEADER {
            break;
        }
        let Some(payload) = buf.get(at + HEADER..at + len) else {
            break;
        };
        out.push((kind, seq, payload));
        at += align(len);
    }
    out
}

/// The errno of an `NLMSG_ERROR` payload (0 is an acknowledgement).
pub fn error_code(payload: &[u8]) -> i32 {
    payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, i32::from_ne_bytes)
}

fn attrs(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while let (Some(len), Some(kind)) = (get16(buf, 0), get16(buf, 2)) {
        let len = usize::from(len);
        if len < 4 {
            break;
        }
        let Some(data) = buf.get(4..len) else {
            break;
        };
        out.push((kind & !NLA_F_NESTED, data));
        buf = buf.get(align(len)..).unwrap_or_default();
    }
    out
}

/// An `RTM_NEWLINK` payload of a dump.
pub fn parse_link(payload: &[u8]) -> Option<NetLink> {
    let kind = get16(payload, 2)?;
    let index = get32(payload, 4)?;
    let flags = get32(payload, 8)?;
    let mut link = NetLink {
        index,
        name: String::new(),
        mac: Vec::new(),
        arp_type: kind,
        up: flags & IFF_UP != 0,
        carrier: flags & IFF_LOWER_UP != 0,
        mtu: 0,
    };
    for (kind, data) in attrs(payload.get(16..)?) {
        match kind {
            IFLA_IFNAME => {
                link.name = String::from_utf8_lossy(data)
                    .trim_end_matches('\0')
                    .to_owned()
            }
            IFLA_ADDRESS => link.mac = data.to_vec(),
            IFLA_MTU => link.mtu = get32(data, 0).unwrap_or(0),
            IFLA_CARRIER => link.carrier = link.carrier || data.first() == Some(&1),
            _ => {}
        }
    }
    Some(link)
}

/// The address of a route or address request, for messages.
pub fn describe_route(r: &RouteSpec) -> String {
    let via = r
        .gateway
        .map_or(String::new(), |g: Ipv4Addr| format!(" via {g}"));
    format!("{}/{}{via}", r.net, r.prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_change_layout() {
        let msg = set_link(
            7,
            3,
            &LinkChange {
                up: Some(true),
                name: Some("lan0".into()),
                mtu: Some(1400),
                mac: None,
            },
        );
        assert_eq!(get32(&msg, 0), Some(u32::try_from(msg.len()).unwrap()));
        assert_eq!(get16(&msg, 4), Some(RTM_NEWLINK));
        assert_eq!(get16(&msg, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(get32(&msg, 8), Some(7));
        assert_eq!(get32(&msg, 20), Some(3), "index");
        assert_eq!(get32(&msg, 24), Some(IFF_UP));
        assert_eq!(get32(&msg, 28), Some(IFF_UP));
        let a = attrs(&msg[32..]);
        assert_eq!(a[0], (IFLA_IFNAME, &b"lan0\0"[..]));
        assert_eq!(a[1], (IFLA_MTU, &1400u32.to_ne_bytes()[..]));
    }

    #[test]
    fn vlan_nests() {
        let msg = new_vlan(1, "eth0.5", 2, 5);
        let a = attrs(&msg[32..]);
        assert_eq!(a.len(), 3);
        assert_eq!(a[2].0, IFLA_LINKINFO);
        let info = attrs(a[2].1);
        assert_eq!(info[0], (IFLA_INFO_KIND, &b"vlan"[..]));
        let data = attrs(info[1].1);
        assert_eq!(data[0], (IFLA_VLAN_ID, &5u16.to_ne_bytes()[..]));
    }

    #[test]
    fn a_dumped_link_reads_back() {
        // A reply as the kernel would send it: header, ifinfomsg, attrs.
        let mut b = Builder::new(RTM_NEWLINK, 0, 1);
        b.bytes(&[0, 0]);
        b.bytes(&1u16.to_ne_bytes());
        b.bytes(&2u32.to_ne_bytes());
        b.bytes(&(IFF_UP | IFF_LOWER_UP).to_ne_bytes());
        b.bytes(&0u32.to_ne_bytes());
        b.attr(IFLA_IFNAME, b"eth0\0");
        b.attr(IFLA_ADDRESS, &[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        b.attr(IFLA_MTU, &1500u32.to_ne_bytes());
        let msg = b.finish();
        let mut two = msg.clone();
        two.extend_from_slice(&msg);
        let m = messages(&two);
        assert_eq!(m.len(), 2);
        let link = parse_link(m[0].2).unwrap();
        assert_eq!(
            (
                link.index,
                link.name.as_str(),
                link.arp_type,
                link.up,
                link.carrier,
                link.mtu
            ),
            (2, "eth0", 1, true, true, 1500)
        );
        assert_eq!(link.mac, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    }

    #[test]
    fn address_and_route_layouts() {
        let a = new_address(
            1,
            2,
            &AddrSpec {
                address: Ipv4Addr::new(10, 0, 2, 15),
                prefix: 24,
                peer: None,
                broadcast: Some(Ipv4Addr::new(10, 0, 2, 255)),
                lifetime_secs: Some(600),
            },
        );
        assert_eq!(&a[16..20], &[AF_INET, 24, 0, 0]);
        let at = attrs(&a[24..]);
        assert_eq!(at.len(), 4);
        assert_eq!(at[3].0, IFA_CACHEINFO);
        let r = new_route(
            1,
            &RouteSpec {
                net: Ipv4Addr::UNSPECIFIED,
                prefix: 0,
                gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
                index: Some(2),
                replace: true,
            },
        );
        assert_eq!(
            get16(&r, 6),
            Some(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
        );
        let at = attrs(&r[28..]);
        assert_eq!(
            at.iter().map(|a| a.0).collect::<Vec<_>>(),
            [RTA_GATEWAY, RTA_OIF]
        );
    }
}
