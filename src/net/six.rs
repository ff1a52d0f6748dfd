//! What the kernel's own IPv6 autoconfiguration (SLAAC) did, read from
//! `/proc/net/if_inet6` and `/proc/net/ipv6_route`: `ip=auto6` waits for a
//! global address, `ip=link6` for the link-local one, neither tentative.
//! Text files rather than an rtnetlink dump: the init only ever asks
//! these two questions, and the files answer them in a few lines.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::Ipv6Addr;

pub const IF_INET6: &str = "/proc/net/if_inet6";
pub const IPV6_ROUTE: &str = "/proc/net/ipv6_route";

/// `IFA_F_DADFAILED`: another host has the address.
const DADFAILED: u32 = 0x08;
/// `IFA_F_TENTATIVE`: duplicate-address detection is still running.
const TENTATIVE: u32 = 0x40;
/// Scopes as the file writes them (`IPV6_ADDR_*` >> 16 … in hex).
const SCOPE_LINK: u32 = 0x20;
const SCOPE_HOST: u32 = 0x10;

/// One address of `/proc/net/if_inet6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr6 {
    pub address: Ipv6Addr,
    pub prefix: u8,
    pub link_local: bool,
    pub tentative: bool,
    pub dad_failed: bool,
}

fn hex(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 16).ok()
}

fn addr(text: &str) -> Option<Ipv6Addr> {
    if text.len() != 32 {
        return None;
    }
    u128::from_str_radix(text, 16).ok().map(Ipv6Addr::from)
}

/// RFC 5952 text of an address (the longest run of two or more zero
/// groups as `::`), written here because core's formatter, with its
/// IPv4-mapped and padding cases, costs the init 2 KB.
pub fn text(a: Ipv6Addr) -> String {
    let g = a.segments();
    // The longest run of zero groups: (start, length).
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, x) in g.iter().enumerate() {
        if *x == 0 {
            run = if run.1 == 0 {
                (i, 1)
            } else {
                (run.0, run.1 + 1)
            };
            if run.1 > best.1 {
                best = run;
            }
        } else {
            run = (0, 0);
        }
    }
    let mut out = String::new();
    let mut i = 0;
    while let Some(x) = g.get(i) {
        if best.1 >= 2 && i == best.0 {
            out.push_str("::");
            i += best.1;
            continue;
        }
        if !out.is_empty() && !out.ends_with(':') {
            out.push(':');
        }
        let _ = write!(out, "{x:x}");
        i += 1;
    }
    out
}

/// The addresses of interface `ifname` (lines: address, index, prefix,
/// scope, flags, name; all hex).
pub fn addresses(text: &str, ifname: &str) -> Vec<Addr6> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [a, _, prefix, scope, flags, name] = f.as_slice() else {
                return None;
            };
            if *name != ifname {
                return None;
            }
            let (scope, flags) = (hex(scope)?, hex(flags)?);
            if scope & SCOPE_HOST != 0 {
                return None;
            }
            Some(Addr6 {
                address: addr(a)?,
                prefix: u8::try_from(hex(prefix)?).ok()?,
                link_local: scope & SCOPE_LINK != 0,
                tentative: flags & TENTATIVE != 0,
                dad_failed: flags & DADFAILED != 0,
            })
        })
        .collect()
}

/// The default route's gateway via `ifname`, if the router advertised one
/// (lines: dst, dst len, src, src len, next hop, metric, refs, use,
/// flags, name).
pub fn default_gateway(text: &str, ifname: &str) -> Option<Ipv6Addr> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let [dst, len, _, _, hop, _, _, _, _, name] = f.as_slice() else {
            return None;
        };
        let gw = addr(hop)?;
        (*name == ifname && addr(dst)?.is_unspecified() && hex(len)? == 0 && !gw.is_unspecified())
            .then_some(gw)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INET6: &str = "\
00000000000000000000000000000001 01 80 10 80       lo
fec0000000000000505400fffe123456 02 40 40 c0     eth0
fe80000000000000505400fffe123456 02 40 20 80     eth0
fe80000000000000505400fffe123457 03 40 20 c8     eth1
";

    #[test]
    fn addresses_of_one_interface() {
        let a = addresses(INET6, "eth0");
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].address,
            "fec0::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            (a[0].prefix, a[0].link_local, a[0].tentative),
            (64, false, true)
        );
        assert_eq!((a[1].link_local, a[1].tentative), (true, false));
        let b = addresses(INET6, "eth1");
        assert!(b[0].tentative && b[0].dad_failed);
        assert!(
            addresses(INET6, "lo").is_empty(),
            "host scope is not an answer"
        );
        assert!(addresses("garbage\n", "eth0").is_empty());
    }

    #[test]
    fn text_matches_core() {
        for a in [
            "::",
            "::1",
            "fe80::2",
            "fec0::5054:ff:fe12:3456",
            "2001:db8:0:1:0:0:0:1",
            "2001:0:0:1:0:0:0:1",
            "1:0:2:0:3:0:4:0",
            "1:2:3:4:5:6:7:8",
            "1::",
            "0:1:0:0:2:0:0:0",
        ] {
            let a: Ipv6Addr = a.parse().unwrap();
            assert_eq!(text(a), alloc::format!("{a}"), "{a:?}");
        }
    }

    #[test]
    fn the_default_route_from_the_router() {
        let routes = "\
fec00000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00040001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000400 00000001 00000000 00450003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
";
        assert_eq!(
            default_gateway(routes, "eth0"),
            Some("fe80::2".parse().unwrap())
        );
        assert_eq!(default_gateway(routes, "lo"), None);
        assert_eq!(default_gateway(routes, "eth1"), None);
    }
}
