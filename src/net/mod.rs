//! The network plan (network-boot-spec §2.2, §2.3, §2.5): every network
//! option of the command line, read into a [`NetPlan`] before any hardware
//! is touched. Pure; the DHCPv4 codec and the interface naming rules are
//! here too, so `explain` and the unit and fuzz tests see what the init does.

pub mod addr;
pub mod arp;
pub mod describe;
pub mod dhcp;
pub mod ifname;
pub mod ip;
pub mod six;
pub mod state;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use crate::cmdline::{Arg, Cmdline};
use addr::Mac;
pub use ip::{IfConfig, IfRef, IpArg, Method, Static};

/// The options this plan reads, for the unknown-option check and the manual.
pub const OPTIONS: [&str; 23] = [
    "ip",
    "BOOTIF",
    "rd.bootif",
    "bootdev",
    "ifname",
    "nameserver",
    "rd.peerdns",
    "rd.route",
    "vlan",
    "rd.neednet",
    "rd.net.timeout.iflink",
    "rd.net.timeout.ifup",
    "rd.net.timeout.route",
    "rd.net.timeout.carrier",
    "rd.net.timeout.dhcp",
    "rd.net.timeout.ipv6dad",
    "rd.net.timeout.ipv6auto",
    "rd.net.dhcp.retry",
    DAD_OPTION,
    "bond",
    "team",
    "bridge",
    "biosdevname",
];

/// The bound of the ARP duplicate-address probe before a static `ip=`
/// address is configured (RFC 5227; not a dracut option: dracut runs
/// `arping -D` with its own fixed count). 0 skips the probe.
pub const DAD_OPTION: &str = "rd.liveinit.net.dad";

/// Which interfaces are brought up (§2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// DHCPv4 on every Ethernet NIC with carrier, in parallel; first lease wins.
    Any,
    /// DHCPv4 on the NIC with this MAC only (`BOOTIF=`).
    Bootif(Mac),
    /// Exactly the interfaces `ip=` names.
    Named(Vec<IfConfig>),
}

/// `rd.route=<net>/<prefix>:<gw>[:<if>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub text: String,
    pub net: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub iface: Option<String>,
}

/// `vlan=<name>:<phys>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vlan {
    pub name: String,
    pub parent: String,
    pub id: u16,
}

/// The `rd.net.timeout.*` bounds and `rd.net.dhcp.retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub iflink: Duration,
    /// Each link reported up after it was set up.
    pub ifup: Duration,
    /// The gateway answering ARP (IPv4), the router's default route (auto6).
    pub route: Duration,
    pub carrier: Duration,
    pub dhcp: Duration,
    /// An IPv6 address leaving the tentative state.
    pub ipv6dad: Duration,
    /// SLAAC giving the address `auto6`/`link6` waits for.
    pub ipv6auto: Duration,
    /// The ARP probe of a static address (`rd.liveinit.net.dad`).
    pub dad: Duration,
    pub dhcp_retry: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            iflink: Duration::from_secs(60),
            ifup: Duration::from_secs(20),
            route: Duration::from_secs(20),
            carrier: Duration::from_secs(10),
            dhcp: Duration::from_secs(60),
            ipv6dad: Duration::from_secs(50),
            ipv6auto: Duration::from_secs(40),
            // Probes at 0, 1 and 2 s, then a last second for answers.
            dad: Duration::from_secs(3),
            dhcp_retry: 1,
        }
    }
}

/// Everything the network bring-up does, decided from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPlan {
    pub targets: Targets,
    /// How [`Targets::Any`] and [`Targets::Bootif`] interfaces are
    /// configured (`ip=dhcp`, `ip=auto6`, `ip=link6`, or nothing: DHCP).
    pub auto_method: Method,
    /// `bootdev=`: the interface whose routes and DNS are used.
    pub bootdev: Option<String>,
    /// `BOOTIF=` (unless `rd.bootif=0`).
    pub bootif: Option<Mac>,
    /// `ifname=<name>:<mac>` renames.
    pub renames: Vec<(String, Mac)>,
    pub vlans: Vec<Vlan>,
    /// `nameserver=`, after the DHCP/`ip=` ones.
    pub nameservers: Vec<Ipv4Addr>,
    /// `rd.peerdns`: use DNS from DHCP (default yes).
    pub peerdns: bool,
    pub routes: Vec<Route>,
    pub timeouts: Timeouts,
}

/// Why the network options cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// A malformed `ip=`: its exact text, the field, why.
    Ip {
        text: String,
        field: &'static str,
        why: String,
    },
    /// Conflicting `ip=` options.
    Conflict { why: String },
    /// Another network option with a value that cannot be used.
    Option {
        key: &'static str,
        value: String,
        why: String,
    },
    /// Something dracut does that liveinit does not do yet.
    Unsupported { what: String },
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Ip { text, field, why } => write!(f, "ip={text}: field {field}: {why}"),
            NetError::Conflict { why } => write!(f, "ip=: {why}"),
            NetError::Option { key, value, why } => write!(f, "{key}={value}: {why}"),
            NetError::Unsupported { what } => write!(
                f,
                "{what} is not supported yet; liveinit configures IPv4 with DHCP \
                 (ip=dhcp, ip=<if>:dhcp, BOOTIF=) or statically \
                 (ip=<addr>::<gw>:<mask>:<host>:<if>:none), IPv6 by the kernel's \
                 autoconfiguration (ip=auto6, ip=<if>:auto6, link6), plain NICs and VLANs (vlan=)"
            ),
        }
    }
}

/// Whether the command line asks for the network without a network root.
pub fn neednet(cmdline: &Cmdline) -> bool {
    cmdline.bool("rd.neednet", false)
}

impl NetPlan {
    /// Reads every network option. `warnings` collects the notes that do
    /// not stop the boot.
    pub fn from_cmdline(
        cmdline: &Cmdline,
        warnings: &mut Vec<String>,
    ) -> Result<NetPlan, NetError> {
        let all = |key: &str| -> Vec<&str> {
            cmdline
                .params()
                .iter()
                .filter(|p| p.key == key)
                .filter_map(|p| p.value.as_deref())
                .collect()
        };
        for key in ["bond", "team", "bridge"] {
            if cmdline.has(key) {
                return Err(NetError::Unsupported {
                    what: format!("{key}= ({key} devices)"),
                });
            }
        }
        let bootif = match cmdline.value("BOOTIF") {
            Some(v) if cmdline.bool("rd.bootif", true) => {
                Some(addr::bootif(v).ok_or_else(|| NetError::Option {
                    key: "BOOTIF",
                    value: v.to_string(),
                    why: "expected 01-aa-bb-cc-dd-ee-ff".to_string(),
                })?)
            }
            _ => None,
        };
        let ips = all("ip");
        let mut configs: Vec<IfConfig> = Vec::new();
        let mut auto_method = Method::Dhcp;
        for value in &ips {
            match ip::parse(value, warnings)? {
                IpArg::AutoAll(_) if ips.len() > 1 => {
                    return Err(NetError::Conflict {
                        why: format!(
                            "ip={value} names no interface, but {} ip= options are given \
                             (write ip=<if>:dhcp for each)",
                            ips.len()
                        ),
                    })
                }
                IpArg::AutoAll(m) => auto_method = m,
                IpArg::Interface(c) => {
                    if let Some(other) = configs.iter().find(|o| o.iface == c.iface) {
                        return Err(NetError::Conflict {
                            why: format!(
                                "two configurations for one interface: ip={} and ip={}",
                                other.text, c.text
                            ),
                        });
                    }
                    configs.push(c);
                }
            }
        }
        let targets = match (configs.is_empty(), bootif) {
            (false, _) => Targets::Named(configs),
            (true, Some(mac)) => Targets::Bootif(mac),
            (true, None) => Targets::Any,
        };
        let bootdev = cmdline
            .value("bootdev")
            .filter(|v| !v.is_empty())
            .map(String::from);
        let mut renames = Vec::new();
        for value in all("ifname") {
            let bad = || NetError::Option {
                key: "ifname",
                value: value.to_string(),
                why: "expected <name>:<aa:bb:cc:dd:ee:ff>".to_string(),
            };
            let (name, mac) = value.split_once(':').ok_or_else(bad)?;
            let mac = addr::mac(mac).ok_or_else(bad)?;
            if name.is_empty() || name.len() > 15 {
                return Err(bad());
            }
            if name
                .strip_prefix("eth")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            {
                warnings.push(format!(
                    "ifname={value}: an eth<N> name may collide with the kernel's own names"
                ));
            }
            renames.push((name.to_string(), mac));
        }
        if let Targets::Named(configs) = &targets {
            for c in configs {
                if let (Some(_), IfRef::Name(n)) = (c.set_mac, &c.iface) {
                    if renames.iter().any(|(r, _)| r == n) {
                        return Err(NetError::Conflict {
                            why: format!(
                                "ip={} sets a MAC on {n}, which ifname= also names",
                                c.text
                            ),
                        });
                    }
                }
            }
        }
        let mut vlans = Vec::new();
        for value in all("vlan") {
            vlans.push(vlan(value)?);
        }
        let mut nameservers = Vec::new();
        for value in all("nameserver") {
            match addr::ipv4(value) {
                Some(ip) => nameservers.push(ip),
                None if value.contains(':') => {
                    warnings.push(format!("nameserver={value}: IPv6 ignored (IPv4 only)"))
                }
                None => {
                    return Err(NetError::Option {
                        key: "nameserver",
                        value: value.to_string(),
                        why: "not an IPv4 address".to_string(),
                    })
                }
            }
        }
        let mut routes = Vec::new();
        for value in all("rd.route") {
            routes.push(route(value, warnings)?);
        }
        Ok(NetPlan {
            targets,
            auto_method,
            bootdev,
            bootif,
            renames,
            vlans,
            nameservers,
            peerdns: cmdline.bool("rd.peerdns", true),
            routes: routes.into_iter().flatten().collect(),
            timeouts: timeouts(cmdline)?,
        })
    }

    /// The interface (name or MAC) whose DNS and routes count, if one is named.
    pub fn boot_device(&self) -> Option<IfRef> {
        if let Some(b) = &self.bootdev {
            return Some(IfRef::Name(b.clone()));
        }
        if let Some(mac) = self.bootif {
            return Some(IfRef::Mac(mac));
        }
        match &self.targets {
            Targets::Named(c) => c.first().map(|c| c.iface.clone()),
            _ => None,
        }
    }
}

fn vlan(value: &str) -> Result<Vlan, NetError> {
    let bad = |why: &str| NetError::Option {
        key: "vlan",
        value: value.to_string(),
        why: why.to_string(),
    };
    let (name, parent) = value
        .split_once(':')
        .ok_or_else(|| bad("expected <name>:<phys>"))?;
    if parent.is_empty() || name.is_empty() || name.len() > 15 {
        return Err(bad("expected <name>:<phys>"));
    }
    let digits = name
        .strip_prefix("vlan")
        .or_else(|| name.rsplit_once('.').map(|(_, id)| id))
        .ok_or_else(|| bad("the name must be vlan<ID> or <phys>.<ID> to give the VLAN ID"))?;
    let id = digits
        .parse::<u16>()
        .ok()
        .filter(|id| (1..=4094).contains(id))
        .ok_or_else(|| bad("the VLAN ID must be 1-4094"))?;
    Ok(Vlan {
        name: name.to_string(),
        parent: parent.to_string(),
        id,
    })
}

fn route(value: &str, warnings: &mut Vec<String>) -> Result<Option<Route>, NetError> {
    let bad = |why: &str| NetError::Option {
        key: "rd.route",
        value: value.to_string(),
        why: why.to_string(),
    };
    let f = ip::fields(value);
    let get = |i: usize| f.get(i).map_or("", String::as_str);
    if get(0).contains(':') {
        warnings.push(format!("rd.route={value}: IPv6 route ignored (IPv4 only)"));
        return Ok(None);
    }
    let (net, prefix) = get(0)
        .split_once('/')
        .ok_or_else(|| bad("expected <net>/<prefix>:<gateway>[:<interface>]"))?;
    let net = addr::ipv4(net).ok_or_else(|| bad("the network is not an IPv4 address"))?;
    let prefix = addr::prefix_len(prefix).ok_or_else(|| bad("bad prefix length or netmask"))?;
    let gateway = match get(1) {
        "" => None,
        g => Some(addr::ipv4(g).ok_or_else(|| bad("the gateway is not an IPv4 address"))?),
    };
    let iface = Some(get(2)).filter(|i| !i.is_empty()).map(String::from);
    if gateway.is_none() && iface.is_none() {
        return Err(bad("needs a gateway or an interface"));
    }
    Ok(Some(Route {
        text: value.to_string(),
        net: addr::network_of(net, prefix),
        prefix,
        gateway,
        iface,
    }))
}

/// A number of seconds, or `default` when the option is absent.
#[inline(never)]
fn secs(cmdline: &Cmdline, key: &'static str, default: Duration) -> Result<Duration, NetError> {
    let bad = |v: &str| NetError::Option {
        key,
        value: v.to_string(),
        why: "expected a number of seconds".to_string(),
    };
    match cmdline.get(key) {
        Arg::Absent => Ok(default),
        Arg::Value(v) => v
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad(v)),
        Arg::Bare => Err(bad("")),
    }
}

fn timeouts(cmdline: &Cmdline) -> Result<Timeouts, NetError> {
    let d = Timeouts::default();
    let secs = |key, default| secs(cmdline, key, default);
    let retry = match cmdline.value("rd.net.dhcp.retry") {
        None => d.dhcp_retry,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| NetError::Option {
                key: "rd.net.dhcp.retry",
                value: v.to_string(),
                why: "expected a number of attempts, at least 1".to_string(),
            })?,
    };
    Ok(Timeouts {
        iflink: secs("rd.net.timeout.iflink", d.iflink)?,
        ifup: secs("rd.net.timeout.ifup", d.ifup)?,
        route: secs("rd.net.timeout.route", d.route)?,
        carrier: secs("rd.net.timeout.carrier", d.carrier)?,
        dhcp: secs("rd.net.timeout.dhcp", d.dhcp)?,
        ipv6dad: secs("rd.net.timeout.ipv6dad", d.ipv6dad)?,
        ipv6auto: secs("rd.net.timeout.ipv6auto", d.ipv6auto)?,
        dad: secs(DAD_OPTION, d.dad)?,
        dhcp_retry: retry,
    })
}

#[cfg(test)]
mod tests;
