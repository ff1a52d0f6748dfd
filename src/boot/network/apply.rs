//! Configuring what DHCP or `ip=` decided (network-boot-spec §3 steps
//! 5–7): addresses with their lease lifetime, routes, MTU, host name,
//! `rd.route=`, the resolver files and `/run/initramfs/net/<if>`.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;

use log::{info, warn};

use super::links::Target;
use crate::boot::error::{errno_text, BootError, Stage};
use crate::net::addr::{broadcast_of, mac_text};
use crate::net::dhcp::Lease;
use crate::net::ifname::{self, Nic};
use crate::net::six::text as text6;
use crate::net::state::{resolv_conf, IfState, NET_DIR, RESOLV_CONF, RESOLV_STATE};
use crate::net::{IfRef, NetPlan};
use crate::sys::{AddrSpec, LinkChange, RouteSpec, Sys};

fn err(what: String, e: crate::sys::Errno) -> BootError {
    BootError::sys(Stage::Network, what, e)
}

/// Adds `routes` on `nic`, replacing what is there (`ip route replace`).
fn route(
    sys: &impl Sys,
    nic: &Nic,
    net: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), BootError> {
    let spec = RouteSpec {
        net,
        prefix,
        gateway,
        index: Some(nic.index),
        replace: true,
    };
    sys.net_add_route(&spec).map_err(|e| {
        err(
            format!(
                "add route {} dev {}",
                crate::sys::describe_route(&spec),
                nic.name
            ),
            e,
        )
    })
}

/// Applies a lease as dhclient-script does; `boot` says whether this
/// interface's routes count.
pub fn lease(
    sys: &impl Sys,
    t: &Target,
    l: &Lease,
    boot: bool,
    peerdns: bool,
) -> Result<IfState, BootError> {
    let nic = &t.nic;
    let (Some(address), Some(prefix)) = (l.address, l.prefix) else {
        return Err(err(
            format!("DHCP lease on {}", nic.name),
            crate::sys::Errno::INVAL,
        ));
    };
    let mtu = t
        .config
        .as_ref()
        .and_then(|c| c.mtu)
        .or(l.mtu_to_set().map(u32::from));
    if let (Some(m), None) = (l.mtu_to_set(), t.config.as_ref().and_then(|c| c.mtu)) {
        sys.net_set_link(
            nic.index,
            &LinkChange {
                mtu: Some(u32::from(m)),
                ..LinkChange::default()
            },
        )
        .map_err(|e| err(format!("set MTU {m} on {}", nic.name), e))?;
    }
    let spec = AddrSpec {
        address,
        prefix,
        peer: None,
        broadcast: Some(l.broadcast.unwrap_or(broadcast_of(address, prefix))),
        lifetime_secs: l.lease_secs.filter(|s| *s != u32::MAX),
    };
    sys.net_add_address(nic.index, &spec)
        .map_err(|e| err(format!("add address {address}/{prefix} to {}", nic.name), e))?;
    if boot {
        for r in l.routes() {
            route(sys, nic, r.net, r.prefix, r.gateway)?;
        }
    }
    let hostname = t
        .config
        .as_ref()
        .and_then(|c| c.hostname.clone())
        .or_else(|| l.full_hostname());
    let mut search = l.search.clone();
    if let Some(d) = &l.domain {
        search.insert(0, d.clone());
    }
    Ok(IfState {
        name: nic.name.clone(),
        dhcp: true,
        mac: nic.mac,
        address,
        prefix,
        gateway: if boot { l.gateway() } else { None },
        dns: if peerdns { l.dns.clone() } else { Vec::new() },
        search: if peerdns { search } else { Vec::new() },
        hostname,
        mtu,
        dhcp_server: l.server,
        lease_secs: l.lease_secs,
        lease_start: Some(sys.now().as_secs()),
        six: None,
        vlan: None,
    })
}

/// Applies a static `ip=`, after an ARP probe for the address (bounded by
/// `dad`; dracut skips it on point-to-point links, so does this).
pub fn fixed(
    sys: &impl Sys,
    t: &Target,
    boot: bool,
    dad: core::time::Duration,
) -> Result<Option<IfState>, BootError> {
    let nic = &t.nic;
    let Some(c) = &t.config else { return Ok(None) };
    let Some(s) = &c.addr else { return Ok(None) };
    if s.peer.is_none() {
        super::arp::probe(sys, nic, s.address, dad, &c.text)?;
    }
    let spec = AddrSpec {
        address: s.address,
        prefix: s.peer.and_then(|(_, p)| p).unwrap_or(s.prefix),
        peer: s.peer.map(|(p, _)| p),
        broadcast: s.peer.is_none().then(|| broadcast_of(s.address, s.prefix)),
        lifetime_secs: None,
    };
    sys.net_add_address(nic.index, &spec).map_err(|e| {
        err(
            format!(
                "add address {}/{} to {} (ip={})",
                s.address, s.prefix, nic.name, c.text
            ),
            e,
        )
    })?;
    info!(
        "{}: {}/{} (static, ip={})",
        nic.name, s.address, s.prefix, c.text
    );
    if let (Some(gw), true) = (s.gateway, boot) {
        route(sys, nic, Ipv4Addr::UNSPECIFIED, 0, Some(gw))?;
    }
    Ok(Some(IfState {
        name: nic.name.clone(),
        dhcp: false,
        mac: c.set_mac.unwrap_or(nic.mac),
        address: s.address,
        prefix: s.prefix,
        gateway: s.gateway,
        dns: c.dns.clone(),
        search: Vec::new(),
        hostname: c.hostname.clone(),
        mtu: c.mtu,
        dhcp_server: None,
        lease_secs: None,
        lease_start: None,
        six: None,
        vlan: None,
    }))
}

/// `rd.route=`: on the named interface, else wherever the gateway is reachable.
pub fn extra_routes(sys: &impl Sys, plan: &NetPlan, nics: &[Nic]) -> Result<(), BootError> {
    for r in &plan.routes {
        let index = match &r.iface {
            Some(name) => match ifname::resolve(&IfRef::Name(name.clone()), nics) {
                Some(n) => Some(n.index),
                None => {
                    warn!("rd.route={}: no interface {name}; route left out", r.text);
                    continue;
                }
            },
            None => None,
        };
        let spec = RouteSpec {
            net: r.net,
            prefix: r.prefix,
            gateway: r.gateway,
            index,
            replace: true,
        };
        sys.net_add_route(&spec).map_err(|e| {
            err(
                format!(
                    "add route {} (rd.route={})",
                    crate::sys::describe_route(&spec),
                    r.text
                ),
                e,
            )
        })?;
    }
    Ok(())
}

/// Writes the resolver files and the per-interface state; sets the host name.
pub fn record(sys: &impl Sys, plan: &NetPlan, states: &[IfState], boot: &str) -> Vec<Ipv4Addr> {
    let mut servers: Vec<Ipv4Addr> = Vec::new();
    let mut search: Vec<String> = Vec::new();
    // The boot device's servers first.
    let mut ordered: Vec<&IfState> = states.iter().filter(|s| s.name == boot).collect();
    ordered.extend(states.iter().filter(|s| s.name != boot));
    for s in &ordered {
        servers.extend(s.dns.iter().copied());
        search.extend(s.search.iter().cloned());
    }
    servers.extend(plan.nameservers.iter().copied());
    let text = resolv_conf(&servers, &search);
    let _ = sys.mkdir_all(NET_DIR);
    let _ = sys.mkdir_all("/etc");
    for path in [RESOLV_CONF, RESOLV_STATE] {
        if let Err(e) = sys.write_file(path, text.as_bytes()) {
            warn!("write {path}: {}", errno_text(e));
        }
    }
    for s in states {
        let path = format!("{NET_DIR}/{}", s.name);
        if let Err(e) = sys.write_file(&path, s.render().as_bytes()) {
            warn!("write {path}: {}", errno_text(e));
        }
    }
    if let Some(h) = ordered.iter().find_map(|s| s.hostname.clone()) {
        match sys.write_file("/proc/sys/kernel/hostname", h.as_bytes()) {
            Ok(()) => info!("host name {h}"),
            Err(e) => warn!("set host name {h}: {}", errno_text(e)),
        }
    }
    let mut dedup: Vec<Ipv4Addr> = Vec::new();
    for a in servers {
        if !dedup.contains(&a) {
            dedup.push(a);
        }
    }
    for s in states {
        let (address, gateway) = match &s.six {
            Some(six) => (
                format!("{}/{}", text6(six.address), six.prefix),
                six.gateway.map(text6),
            ),
            None => (
                format!("{}/{}", s.address, s.prefix),
                s.gateway.map(|g| format!("{g}")),
            ),
        };
        info!(
            "{} ({}): {address}{}",
            s.name,
            mac_text(&s.mac),
            gateway.map_or(String::new(), |g| format!(" via {g}"))
        );
    }
    dedup
}
