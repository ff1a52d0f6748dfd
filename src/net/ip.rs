//! One `ip=` value, in dracut's grammar (network-boot-spec §2.2): an
//! autoconf keyword, the interface form `<if>:<method>[:<mtu>[:<mac>]]`,
//! or the long form `<client>:<peer>:<gw>:<mask>:<host>:<if>:<method>`
//! followed by `:<mtu>[:<mac>]` or `:<dns1>[:<dns2>]`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::addr::{self, Mac};
use super::NetError;

/// How an interface gets its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Dhcp,
    Static,
    /// The kernel's SLAAC: wait for a global IPv6 address.
    Auto6,
    /// The link-local IPv6 address only.
    Link6,
}

impl Method {
    /// Whether the kernel configures the interface itself (IPv6).
    pub fn is_six(self) -> bool {
        matches!(self, Method::Auto6 | Method::Link6)
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Dhcp => "dhcp",
            Method::Static => "static",
            Method::Auto6 => "auto6",
            Method::Link6 => "link6",
        }
    }
}

/// Where an `ip=` names its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfRef {
    /// A name (kernel, `enx<mac>` or PCI path name; resolved at boot).
    Name(String),
    /// A MAC in BOOTIF form (`aa-bb-cc-dd-ee-ff`) in the interface field.
    Mac(Mac),
}

/// A static address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Static {
    pub address: Ipv4Addr,
    pub prefix: u8,
    /// Point-to-point peer, with its own prefix if given.
    pub peer: Option<(Ipv4Addr, Option<u8>)>,
    pub gateway: Option<Ipv4Addr>,
}

/// What one `ip=` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpArg {
    /// `dhcp`, `on`, `any`, `single-dhcp`: DHCPv4 on every candidate;
    /// `auto6`, `link6`: IPv6 autoconfiguration on every candidate.
    AutoAll(Method),
    /// A configuration for one interface.
    Interface(IfConfig),
}

/// One interface's configuration from `ip=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfConfig {
    /// The `ip=` value as written, for messages.
    pub text: String,
    pub iface: IfRef,
    pub method: Method,
    pub addr: Option<Static>,
    pub hostname: Option<String>,
    pub mtu: Option<u32>,
    /// A MAC to set on the interface (not a selector).
    pub set_mac: Option<Mac>,
    pub dns: Vec<Ipv4Addr>,
}

/// Methods dracut knows that liveinit does not do yet.
const LATER: [&str; 4] = ["dhcp6", "either6", "ibft", "kickstart"];
/// Methods dracut itself refuses.
const REFUSED: [&str; 3] = ["bootp", "rarp", "both"];

/// Splits on `:`, a `[…]` field (an IPv6 literal) being one field without
/// its brackets.
pub fn fields(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut bracket = false;
    for c in value.chars() {
        match c {
            '[' if cur.is_empty() && !bracket => bracket = true,
            ']' if bracket => bracket = false,
            ':' if !bracket => out.push(core::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses one `ip=` value; `warnings` collects what dracut would only warn about.
pub fn parse(value: &str, warnings: &mut Vec<String>) -> Result<IpArg, NetError> {
    let err = |field: &'static str, why: &str| NetError::Ip {
        text: value.to_string(),
        field,
        why: why.to_string(),
    };
    let f = fields(value);
    let get = |i: usize| f.get(i).map_or("", String::as_str);
    if f.len() == 1 {
        return match value {
            "dhcp" | "on" | "any" | "single-dhcp" => Ok(IpArg::AutoAll(Method::Dhcp)),
            "auto6" => Ok(IpArg::AutoAll(Method::Auto6)),
            "link6" => Ok(IpArg::AutoAll(Method::Link6)),
            "off" | "none" => Err(err(
                "method",
                "off/none alone configures nothing: give <client-IP>:…:<netmask>:…:none",
            )),
            v if LATER.contains(&v) => Err(NetError::Unsupported {
                what: alloc::format!("ip={v}"),
            }),
            v if REFUSED.contains(&v) => Err(err("method", "bootp/rarp/both are not supported")),
            v if addr::ipv4(v).is_some() => Err(NetError::Unsupported {
                what: alloc::format!("ip={v} (anaconda-style address with gateway=/netmask=)"),
            }),
            "" => Err(err("method", "empty")),
            _ => Err(err(
                "method",
                "unknown method (dhcp, on, any, single-dhcp, auto6, link6 or a long form)",
            )),
        };
    }
    let is_if_method = |m: &str| {
        matches!(
            m,
            "dhcp" | "on" | "any" | "dhcp6" | "auto6" | "either6" | "link6"
        )
    };
    if is_if_method(get(1)) {
        let method = method(value, get(1), warnings)?;
        let mtu = mtu(value, get(2))?;
        let set_mac = mac_fields(value, f.get(3..).unwrap_or_default())?;
        return Ok(IpArg::Interface(IfConfig {
            text: value.to_string(),
            iface: iface(value, get(0))?,
            method,
            addr: None,
            hostname: None,
            mtu,
            set_mac,
            dns: Vec::new(),
        }));
    }
    // The long form.
    let method = method(value, get(6), warnings)?;
    let client = get(0);
    let (mut mtu_v, mut set_mac, mut dns) = (None, None, Vec::new());
    let f8 = get(7);
    if addr::ipv4(f8).is_some() || f8.contains(':') {
        for (i, d) in [f8, get(8)].into_iter().enumerate() {
            if d.is_empty() {
                continue;
            }
            match addr::ipv4(d) {
                Some(ip) => dns.push(ip),
                None if d.contains(':') => warnings.push(alloc::format!(
                    "ip={value}: IPv6 name server {d} ignored (IPv4 only)"
                )),
                None => {
                    return Err(err(
                        if i == 0 { "dns1" } else { "dns2" },
                        "not an IPv4 address",
                    ))
                }
            }
        }
        if f.len() > 9 {
            warnings.push(alloc::format!("ip={value}: fields after dns2 ignored"));
        }
    } else if f.len() == 13 && addr::mac(&f.get(7..).unwrap_or_default().join(":")).is_some() {
        // Six fields that form a MAC: a MAC, even when its first octet is
        // all digits (`52:54:…` would otherwise read as MTU 52).
        set_mac = mac_fields(value, f.get(7..).unwrap_or_default())?;
    } else if !f8.is_empty() && f8.bytes().all(|b| b.is_ascii_digit()) {
        mtu_v = mtu(value, f8)?;
        set_mac = mac_fields(value, f.get(8..).unwrap_or_default())?;
    } else if !f8.is_empty() {
        set_mac = mac_fields(value, f.get(7..).unwrap_or_default())?;
    }
    let hostname = Some(get(4)).filter(|h| !h.is_empty()).map(String::from);
    let ifname = get(5);
    let iface = if ifname.is_empty() {
        return Err(err(
            "interface",
            "the long form needs an interface (field 6), e.g. eth0",
        ));
    } else {
        iface(value, ifname)?
    };
    let addr = match method {
        Method::Dhcp | Method::Auto6 | Method::Link6 if !client.is_empty() => {
            return Err(err(
                "client-IP",
                "a client address together with an automatic method (use none/off for a static address)",
            ))
        }
        Method::Dhcp | Method::Auto6 | Method::Link6 => None,
        Method::Static => {
            if client.is_empty() {
                return Err(err("client-IP", "none/off needs a client address"));
            }
            let address = addr::ipv4(client).ok_or_else(|| {
                if client.contains(':') {
                    NetError::Unsupported {
                        what: alloc::format!("ip={value} (static IPv6 address)"),
                    }
                } else {
                    err("client-IP", "not an IPv4 address")
                }
            })?;
            let mask = get(3);
            if mask.is_empty() {
                return Err(err(
                    "netmask",
                    "none/off needs a netmask (24 or 255.255.255.0)",
                ));
            }
            let prefix = addr::prefix_len(mask)
                .ok_or_else(|| err("netmask", "expected a prefix length 0-32 or a dotted mask"))?;
            let peer = match get(1) {
                "" => None,
                p => {
                    let (ip, len) = match p.split_once('/') {
                        Some((ip, len)) => (
                            ip,
                            Some(
                                addr::prefix_len(len)
                                    .ok_or_else(|| err("peer", "bad prefix length after /"))?,
                            ),
                        ),
                        None => (p, None),
                    };
                    Some((
                        addr::ipv4(ip).ok_or_else(|| err("peer", "not an IPv4 address"))?,
                        len,
                    ))
                }
            };
            let gateway = match get(2) {
                "" => None,
                g => Some(addr::ipv4(g).ok_or_else(|| err("gateway", "not an IPv4 address"))?),
            };
            Some(Static {
                address,
                prefix,
                peer,
                gateway,
            })
        }
    };
    Ok(IpArg::Interface(IfConfig {
        text: value.to_string(),
        iface,
        method,
        addr,
        hostname,
        mtu: mtu_v,
        set_mac,
        dns,
    }))
}

/// A method field: a comma list, empty meaning dhcp (with a warning).
fn method(value: &str, field: &str, warnings: &mut Vec<String>) -> Result<Method, NetError> {
    if field.is_empty() {
        warnings.push(alloc::format!("ip={value}: no method given, using dhcp"));
        return Ok(Method::Dhcp);
    }
    let mut found = None;
    for m in field.split(',') {
        let this = match m {
            "dhcp" | "on" | "any" => Method::Dhcp,
            "none" | "off" => Method::Static,
            "auto6" => Method::Auto6,
            "link6" => Method::Link6,
            m if LATER.contains(&m) => {
                return Err(NetError::Unsupported {
                    what: alloc::format!("ip={value} (method {m})"),
                })
            }
            m if REFUSED.contains(&m) => {
                return Err(NetError::Ip {
                    text: value.to_string(),
                    field: "method",
                    why: alloc::format!("{m} is not supported (use dhcp or none)"),
                })
            }
            m => {
                return Err(NetError::Ip {
                    text: value.to_string(),
                    field: "method",
                    why: alloc::format!(
                        "unknown method {m:?} (dhcp, on, any, none, off, auto6 or link6)"
                    ),
                })
            }
        };
        if found.is_some_and(|f| f != this) {
            return Err(NetError::Ip {
                text: value.to_string(),
                field: "method",
                why: "mixes methods (liveinit takes one of dhcp, none, auto6, link6)".to_string(),
            });
        }
        found = Some(this);
    }
    Ok(found.unwrap_or(Method::Dhcp))
}

fn mtu(value: &str, field: &str) -> Result<Option<u32>, NetError> {
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse::<u32>()
        .ok()
        .filter(|m| (68..=65535).contains(m))
        .map(Some)
        .ok_or_else(|| NetError::Ip {
            text: value.to_string(),
            field: "mtu",
            why: "expected a number from 68 to 65535".to_string(),
        })
}

/// The MAC to set: one field (`aa-bb-…`) or the colon form split over six.
fn mac_fields(value: &str, fields: &[String]) -> Result<Option<Mac>, NetError> {
    let joined = fields.join(":");
    if joined.trim_matches(':').is_empty() {
        return Ok(None);
    }
    addr::mac(&joined).map(Some).ok_or_else(|| NetError::Ip {
        text: value.to_string(),
        field: "macaddr",
        why: alloc::format!("{joined:?} is not a MAC address"),
    })
}

fn iface(value: &str, field: &str) -> Result<IfRef, NetError> {
    if field.contains('-') {
        if let Some(mac) = addr::mac(field) {
            return Ok(IfRef::Mac(mac));
        }
    }
    if field.is_empty() || field.len() > 15 || field.contains(['/', ' ']) {
        return Err(NetError::Ip {
            text: value.to_string(),
            field: "interface",
            why: alloc::format!("{field:?} is not an interface name"),
        });
    }
    Ok(IfRef::Name(field.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> IfConfig {
        let mut w = Vec::new();
        match parse(v, &mut w).unwrap() {
            IpArg::Interface(c) => c,
            IpArg::AutoAll(_) => panic!("{v}: auto"),
        }
    }

    fn bad(v: &str) -> NetError {
        parse(v, &mut Vec::new()).unwrap_err()
    }

    #[test]
    fn keywords() {
        for k in ["dhcp", "on", "any", "single-dhcp"] {
            assert_eq!(
                parse(k, &mut Vec::new()),
                Ok(IpArg::AutoAll(Method::Dhcp)),
                "{k}"
            );
        }
        assert_eq!(
            parse("auto6", &mut Vec::new()),
            Ok(IpArg::AutoAll(Method::Auto6))
        );
        assert_eq!(
            parse("link6", &mut Vec::new()),
            Ok(IpArg::AutoAll(Method::Link6))
        );
        assert_eq!(ok("eth0:auto6").method, Method::Auto6);
        assert_eq!(ok("eth0:link6").method, Method::Link6);
        assert_eq!(ok(":::::eth1:auto6").method, Method::Auto6);
        for k in ["dhcp6", "either6", "ibft"] {
            assert!(matches!(bad(k), NetError::Unsupported { .. }), "{k}");
        }
        for k in ["off", "none", "bootp", "rarp", "both", "dchp"] {
            let e = bad(k);
            assert!(matches!(e, NetError::Ip { .. }), "{k}: {e:?}");
            assert!(alloc::format!("{e}").contains(&alloc::format!("ip={k}")));
        }
        assert!(matches!(bad("10.0.0.5"), NetError::Unsupported { .. }));
    }

    #[test]
    fn interface_form() {
        let c = ok("eth0:dhcp");
        assert_eq!(c.iface, IfRef::Name("eth0".into()));
        assert_eq!((c.method, c.mtu, c.set_mac), (Method::Dhcp, None, None));
        let c = ok("eth0:on:9000:52:54:00:12:34:56");
        assert_eq!(c.mtu, Some(9000));
        assert_eq!(c.set_mac, Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        let c = ok("eth1:any::52-54-00-12-34-56");
        assert_eq!((c.mtu, c.set_mac.is_some()), (None, true));
        let c = ok("52-54-00-12-34-56:dhcp");
        assert_eq!(c.iface, IfRef::Mac([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert!(matches!(bad("eth0:dhcp6"), NetError::Unsupported { .. }));
        assert!(matches!(
            bad("eth0:dhcp:12"),
            NetError::Ip { field: "mtu", .. }
        ));
    }

    #[test]
    fn long_form_static_with_both_masks() {
        let c = ok("10.0.2.15::10.0.2.2:24:box:eth0:none");
        let s = c.addr.unwrap();
        assert_eq!(s.address, Ipv4Addr::new(10, 0, 2, 15));
        assert_eq!(s.prefix, 24);
        assert_eq!(s.gateway, Some(Ipv4Addr::new(10, 0, 2, 2)));
        assert_eq!(c.hostname.as_deref(), Some("box"));
        let c = ok("10.0.2.15::10.0.2.2:255.255.255.0::eth0:off");
        assert_eq!(c.addr.unwrap().prefix, 24);
        let c = ok("10.0.0.1:10.0.0.2/32::32::ptp0:none");
        assert_eq!(
            c.addr.unwrap().peer,
            Some((Ipv4Addr::new(10, 0, 0, 2), Some(32)))
        );
    }

    #[test]
    fn long_form_tail_is_dns_mtu_or_mac() {
        let c = ok("10.0.2.15::10.0.2.2:24::eth0:none:10.0.2.3:1.1.1.1");
        assert_eq!(
            c.dns,
            [Ipv4Addr::new(10, 0, 2, 3), Ipv4Addr::new(1, 1, 1, 1)]
        );
        let c = ok("10.0.2.15::10.0.2.2:24::eth0:none:1400:52:54:00:12:34:56");
        assert_eq!(c.mtu, Some(1400));
        assert!(c.set_mac.is_some());
        let c = ok("10.0.2.15::10.0.2.2:24::eth0:none:52:54:00:12:34:56");
        assert_eq!((c.mtu, c.set_mac.is_some()), (None, true));
        let c = ok(":::::eth0:dhcp");
        assert_eq!(c.method, Method::Dhcp);
        let mut w = Vec::new();
        let _ = parse("10.0.2.15::10.0.2.2:24::eth0:none:[::1]", &mut w).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn errors_quote_the_text_and_field() {
        let cases = [
            ("10.0.2.15::10.0.2.2:24::eth0:dhcp", "client-IP"),
            ("::10.0.2.2:24::eth0:none", "client-IP"),
            ("10.0.2.15::10.0.2.2:::eth0:none", "netmask"),
            ("10.0.2.15::10.0.2.2:255.0.255.0::eth0:none", "netmask"),
            ("10.0.2.15::10.0.2:24::eth0:none", "gateway"),
            ("10.0.2.15::10.0.2.2:24::eth0:nope", "method"),
            ("10.0.2.15::10.0.2.2:24::eth0:bootp", "method"),
            ("10.0.2.15::10.0.2.2:24::eth0:dhcp,none", "method"),
            ("10.0.2.15::10.0.2.2:24:::none", "interface"),
            ("10.0.2.15::10.0.2.2:24::eth0:none:zz", "macaddr"),
        ];
        for (text, want) in cases {
            match bad(text) {
                NetError::Ip { field, .. } if field == want => {}
                other => panic!("{text}: {other:?}"),
            }
            assert!(alloc::format!("{}", bad(text)).contains(&alloc::format!("ip={text}")));
        }
        let mut w = Vec::new();
        assert!(parse("10.0.2.15::10.0.2.2:24::eth0:", &mut w).is_err());
        let c = ok("::::h:eth0:");
        assert_eq!(c.method, Method::Dhcp);
    }

    #[test]
    fn bracketed_fields_stay_whole() {
        assert_eq!(fields("[fe80::1]::x"), ["fe80::1", "", "x"]);
        assert!(matches!(
            bad("[2001:db8::2]::[2001:db8::1]:64::eth0:none"),
            NetError::Unsupported { .. }
        ));
    }
}
