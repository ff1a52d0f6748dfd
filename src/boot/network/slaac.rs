//! `ip=auto6` and `ip=link6` through the kernel's own IPv6
//! autoconfiguration: switch it on for the interface before it goes up,
//! then wait (bounded by `rd.net.timeout.ipv6auto`, `.ipv6dad` and
//! `.route`) for the address, the end of duplicate-address detection and
//! the router's default route. No DHCPv6 and no RDNSS: names need
//! `nameserver=`.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{info, warn};

use super::cause::NetCause;
use super::links::Target;
use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::net::addr::mac_text;
use crate::net::six::{self, Addr6};
use crate::net::state::{IfState, Six};
use crate::net::{Method, Timeouts};
use crate::sys::Sys;

const TICK: Duration = Duration::from_millis(100);

fn fail(cause: NetCause) -> BootError {
    BootError::new(Stage::Network, "", Cause::Net(Box::new(cause)))
}

/// Sets the interface's IPv6 switches: addresses from router
/// advertisements for `auto6` (EUI-64, so the address follows the MAC),
/// the link-local address only for `link6`.
pub fn configure(sys: &impl Sys, ifname: &str, method: Method) -> Result<(), BootError> {
    let auto = if method == Method::Auto6 { "1" } else { "0" };
    for (key, value) in [
        ("disable_ipv6", "0"),
        ("addr_gen_mode", "0"),
        ("accept_ra", auto),
        ("autoconf", auto),
    ] {
        let path = format!("/proc/sys/net/ipv6/conf/{ifname}/{key}");
        sys.write_file(&path, value.as_bytes()).map_err(|e| {
            fail(NetCause::Ipv6Unavailable {
                path: path.clone(),
                why: errno_text(e).to_string(),
            })
        })?;
    }
    Ok(())
}

/// The address `method` waits for among `addrs`.
fn wanted(addrs: &[Addr6], method: Method) -> Option<Addr6> {
    let link6 = method == Method::Link6;
    addrs.iter().find(|a| a.link_local == link6).copied()
}

#[inline(never)]
fn read(sys: &impl Sys, path: &str) -> String {
    sys.read_file(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Waits for the address, its DAD, and (auto6) the default route.
pub fn wait(sys: &impl Sys, t: &Target, bounds: &Timeouts) -> Result<IfState, BootError> {
    let name = &t.nic.name;
    let who = format!("{name} ({})", mac_text(&t.nic.mac));
    let start = sys.now();
    // The address appears (tentative) as soon as the prefix is known, and
    // is usable once duplicate-address detection is over: two phases,
    // each with its own bound.
    let mut phase = start;
    let mut found: Option<Addr6> = None;
    let address = loop {
        let addrs = six::addresses(&read(sys, six::IF_INET6), name);
        let now = sys.now();
        match found {
            None => {
                if let Some(a) = wanted(&addrs, t.method) {
                    found = Some(a);
                    phase = now;
                    continue;
                }
            }
            Some(f) => match addrs.iter().find(|a| a.address == f.address) {
                Some(a) if a.dad_failed => {
                    return Err(fail(NetCause::Ipv6InUse {
                        interface: who,
                        address: a.address,
                    }))
                }
                Some(a) if !a.tentative => break *a,
                _ => {}
            },
        }
        let (bound, option) = match found {
            None => (bounds.ipv6auto, "rd.net.timeout.ipv6auto"),
            Some(_) => (bounds.ipv6dad, "rd.net.timeout.ipv6dad"),
        };
        if now.saturating_sub(phase) >= bound {
            return Err(fail(NetCause::NoIpv6Address {
                interface: who,
                method: t.method.name(),
                tentative: found.is_some(),
                waited_secs: bound.as_secs(),
                option,
            }));
        }
        sys.sleep(TICK);
    };
    let mut gateway = None;
    if t.method == Method::Auto6 {
        let route_start = sys.now();
        loop {
            gateway = six::default_gateway(&read(sys, six::IPV6_ROUTE), name);
            if gateway.is_some() {
                break;
            }
            if sys.now().saturating_sub(route_start) >= bounds.route {
                warn!(
                    "{who}: no IPv6 default route after {} s (rd.net.timeout.route): \
                     only the local network is reachable",
                    bounds.route.as_secs()
                );
                break;
            }
            sys.sleep(TICK);
        }
    }
    info!(
        "{who}: {}/{} ({}, after {} ms)",
        six::text(address.address),
        address.prefix,
        t.method.name(),
        sys.now().saturating_sub(start).as_millis()
    );
    let config = t.config.as_ref();
    Ok(IfState {
        name: name.clone(),
        dhcp: false,
        mac: t.nic.mac,
        address: core::net::Ipv4Addr::UNSPECIFIED,
        prefix: 0,
        gateway: None,
        dns: config.map(|c| c.dns.clone()).unwrap_or_default(),
        search: Vec::new(),
        hostname: config.and_then(|c| c.hostname.clone()),
        mtu: config.and_then(|c| c.mtu),
        dhcp_server: None,
        lease_secs: None,
        lease_start: None,
        six: Some(Six {
            method: t.method,
            address: address.address,
            prefix: address.prefix,
            gateway,
        }),
        vlan: None,
    })
}
