//! Bringing the network up in-process (network-boot-spec §3 steps 1–7):
//! NIC drivers by modalias, the interfaces the plan needs, links up and
//! carrier, DHCPv4 on all candidates at once or static `ip=`, routes, the
//! resolver and the state left in `/run/initramfs/net/`. No udev, no
//! helper programs; every wait is bounded by an `rd.net.timeout.*` option.

mod apply;
mod arp;
mod cause;
mod dhcp;
mod links;
mod nics;
mod slaac;

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;

use log::{info, warn};

pub use cause::NetCause;

use super::error::{BootError, Cause, Stage};
use super::modules::Loader;
use crate::net::addr::Mac;
use crate::net::ifname;
use crate::net::{Method, NetPlan, Targets};
use crate::sys::Sys;

/// What the download needs to know of the network that came up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetUp {
    /// The boot interface (`eth0`).
    pub interface: String,
    pub mac: Mac,
    pub address: Ipv4Addr,
    pub prefix: u8,
    /// The default gateway, if the boot interface has one.
    pub gateway: Option<Ipv4Addr>,
    /// The resolvers written to `/etc/resolv.conf`, in order.
    pub dns: Vec<Ipv4Addr>,
}

/// Brings the network up as `plan` says; returns the boot interface.
pub fn bring_up(sys: &impl Sys, plan: &NetPlan, modules: &mut Loader) -> Result<NetUp, BootError> {
    let start = sys.now();
    let nics = nics::wait_for_interfaces(sys, plan, modules)?;
    let targets = links::prepare(sys, plan, nics)?;
    links::wait_up(sys, plan, &targets)?;
    let targets = links::wait_for_carrier(sys, plan, targets)?;
    let all = nics::list(sys)?;
    // The boot device: bootdev=/BOOTIF=/first named, else the DHCP winner.
    let boot_ref = plan.boot_device();
    let boot_index = boot_ref
        .as_ref()
        .and_then(|r| ifname::resolve(r, &all))
        .map(|n| n.index);
    let is_boot = |index: u32| boot_index.map_or(true, |b| b == index);
    let mut states = Vec::new();
    let dhcp_targets: Vec<links::Target> = targets
        .iter()
        .filter(|t| t.method == Method::Dhcp)
        .cloned()
        .collect();
    for t in targets.iter().filter(|t| t.method == Method::Static) {
        let boot = is_boot(t.nic.index);
        states.extend(apply::fixed(sys, t, boot, plan.timeouts.dad)?);
    }
    for t in targets.iter().filter(|t| t.method.is_six()) {
        states.push(slaac::wait(sys, t, &plan.timeouts)?);
    }
    if !dhcp_targets.is_empty() {
        let first_wins = !matches!(plan.targets, Targets::Named(_));
        let leases = dhcp::run(sys, &dhcp_targets, &plan.timeouts, first_wins)?;
        for (t, lease) in &leases.bound {
            // In "any" mode the winner is the boot device.
            let boot = first_wins || is_boot(t.nic.index);
            states.push(apply::lease(sys, t, lease, boot, plan.peerdns)?);
        }
        for t in &dhcp_targets {
            if leases.bound.iter().any(|(b, _)| b.nic.index == t.nic.index) {
                continue;
            }
            if first_wins {
                // Another NIC won: this one goes back down, unconfigured.
                let down = crate::sys::LinkChange {
                    up: Some(false),
                    ..Default::default()
                };
                if let Err(e) = sys.net_set_link(t.nic.index, &down) {
                    warn!("bring {} down: {}", t.nic.name, super::error::errno_text(e));
                }
            } else {
                warn!("no DHCP lease on {}", t.nic.name);
            }
        }
    }
    let boot = match boot_index.and_then(|b| {
        states
            .iter()
            .find(|s| all.iter().any(|n| n.index == b && n.name == s.name))
    }) {
        Some(s) => s.clone(),
        None => match states.first() {
            Some(s) if boot_index.is_none() => s.clone(),
            _ => {
                return Err(BootError::new(
                    Stage::Network,
                    boot_ref.as_ref().map(ifname::ref_text).unwrap_or_default(),
                    Cause::Net(Box::new(NetCause::BootDeviceUnconfigured {
                        wanted: boot_ref.as_ref().map(ifname::ref_text).unwrap_or_default(),
                    })),
                ))
            }
        },
    };
    apply::extra_routes(sys, plan, &all)?;
    if let (Some(gw), Some(nic)) = (boot.gateway, all.iter().find(|n| n.name == boot.name)) {
        arp::check_gateway(sys, nic, boot.address, gw, plan.timeouts.route);
    }
    for s in &mut states {
        s.vlan = plan.vlans.iter().find(|v| v.name == s.name).map(|v| v.id);
    }
    let dns = apply::record(sys, plan, &states, &boot.name);
    let address = match &boot.six {
        Some(six) => format!("{}/{}", crate::net::six::text(six.address), six.prefix),
        None => format!("{}/{}", boot.address, boot.prefix),
    };
    info!(
        "network up in {} ms: {} {address}{}",
        sys.now().saturating_sub(start).as_millis(),
        boot.name,
        boot.gateway.map_or(String::new(), |g| format!(" via {g}"))
    );
    Ok(NetUp {
        interface: boot.name,
        mac: boot.mac,
        address: boot.address,
        prefix: boot.prefix,
        gateway: boot.gateway,
        dns,
    })
}
