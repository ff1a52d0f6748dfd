//! Preparing the links (network-boot-spec §3 step 4): `lo` up, `ifname=`
//! renames and `ip=` MAC/MTU while the link is down, VLANs, links up, and
//! the carrier wait for all of them at once.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{info, warn};

use super::cause::NetCause;
use super::nics;
use crate::boot::error::{BootError, Cause, Stage};
use crate::net::addr::mac_text;
use crate::net::ifname::{self, Nic};
use crate::net::{IfConfig, IfRef, Method, NetPlan, Targets};
use crate::sys::{LinkChange, Sys};

const TICK: Duration = Duration::from_millis(100);
/// "Any" mode: once one NIC has carrier, the others get this much longer.
const CARRIER_GRACE: Duration = Duration::from_secs(1);

/// An interface to configure, with its `ip=` (none for DHCP by default).
#[derive(Debug, Clone)]
pub struct Target {
    pub nic: Nic,
    pub config: Option<IfConfig>,
    /// The `ip=` method, or the plan's for interfaces no `ip=` names.
    pub method: Method,
}

fn sys_err(what: String, e: crate::sys::Errno) -> BootError {
    BootError::sys(Stage::Network, what, e)
}

fn set(sys: &impl Sys, nic: &Nic, change: &LinkChange, what: &str) -> Result<(), BootError> {
    sys.net_set_link(nic.index, change)
        .map_err(|e| sys_err(format!("{what} {}", nic.name), e))
}

/// Renames, VLANs, MAC and MTU, then up; returns the interfaces to configure.
pub fn prepare(
    sys: &impl Sys,
    plan: &NetPlan,
    mut all: Vec<Nic>,
) -> Result<Vec<Target>, BootError> {
    if let Some(lo) = all.iter().find(|n| n.name == "lo") {
        set(
            sys,
            lo,
            &LinkChange {
                up: Some(true),
                ..LinkChange::default()
            },
            "bring up",
        )?;
    }
    for (name, mac) in &plan.renames {
        if let Some(nic) = all.iter().find(|n| n.mac == *mac && n.name != *name) {
            info!(
                "renaming {} ({}) to {name} (ifname=)",
                nic.name,
                mac_text(mac)
            );
            set(
                sys,
                nic,
                &LinkChange {
                    name: Some(name.clone()),
                    ..LinkChange::default()
                },
                "rename",
            )?;
        }
    }
    if !plan.vlans.is_empty() {
        all = nics::list(sys)?;
        for v in &plan.vlans {
            let Some(parent) = ifname::resolve(&IfRef::Name(v.parent.clone()), &all) else {
                continue;
            };
            set(
                sys,
                parent,
                &LinkChange {
                    up: Some(true),
                    ..LinkChange::default()
                },
                "bring up",
            )?;
            sys.net_add_vlan(&v.name, parent.index, v.id)
                .map_err(|e| sys_err(format!("create VLAN {} on {}", v.name, parent.name), e))?;
        }
    }
    if !plan.renames.is_empty() || !plan.vlans.is_empty() {
        all = nics::list(sys)?;
    }
    let targets: Vec<Target> = match &plan.targets {
        Targets::Any => all
            .iter()
            .filter(|n| n.physical)
            .map(|n| Target {
                nic: n.clone(),
                config: None,
                method: plan.auto_method,
            })
            .collect(),
        Targets::Bootif(mac) => all
            .iter()
            .filter(|n| n.mac == *mac)
            .take(1)
            .map(|n| Target {
                nic: n.clone(),
                config: None,
                method: plan.auto_method,
            })
            .collect(),
        Targets::Named(configs) => configs
            .iter()
            .filter_map(|c| {
                ifname::resolve(&c.iface, &all).map(|n| Target {
                    nic: n.clone(),
                    config: Some(c.clone()),
                    method: c.method,
                })
            })
            .collect(),
    };
    for t in &targets {
        let change = LinkChange {
            mtu: t.config.as_ref().and_then(|c| c.mtu),
            mac: t.config.as_ref().and_then(|c| c.set_mac),
            ..LinkChange::default()
        };
        if change != LinkChange::default() {
            set(sys, &t.nic, &change, "set MTU/MAC of")?;
        }
        if t.method.is_six() {
            // Before "up": the router solicitation goes out then.
            super::slaac::configure(sys, &t.nic.name, t.method)?;
        }
        set(
            sys,
            &t.nic,
            &LinkChange {
                up: Some(true),
                ..LinkChange::default()
            },
            "bring up",
        )?;
    }
    Ok(targets)
}

/// Waits, up to `rd.net.timeout.ifup`, until the kernel reports every
/// target up (dracut's `wait_for_if_up`): "up" can be refused later than
/// the request, by a driver whose open fails.
pub fn wait_up(sys: &impl Sys, plan: &NetPlan, targets: &[Target]) -> Result<(), BootError> {
    let start = sys.now();
    loop {
        let links = nics::list(sys)?;
        let down: Vec<String> = targets
            .iter()
            .filter(|t| !links.iter().any(|l| l.index == t.nic.index && l.up))
            .map(|t| format!("{} ({})", t.nic.name, mac_text(&t.nic.mac)))
            .collect();
        let elapsed = sys.now().saturating_sub(start);
        if down.is_empty() {
            return Ok(());
        }
        if elapsed >= plan.timeouts.ifup {
            return Err(BootError::new(
                Stage::Network,
                "",
                Cause::Net(Box::new(NetCause::LinkNotUp {
                    interfaces: down,
                    waited_secs: elapsed.as_secs(),
                })),
            ));
        }
        sys.sleep(TICK);
    }
}

/// Waits for carrier on every target at once, up to `rd.net.timeout.carrier`.
/// Named interfaces must all get it; in "any" mode those without are
/// dropped (with a note), and the wait ends shortly after the first.
pub fn wait_for_carrier(
    sys: &impl Sys,
    plan: &NetPlan,
    targets: Vec<Target>,
) -> Result<Vec<Target>, BootError> {
    let start = sys.now();
    let bound = plan.timeouts.carrier;
    let any = matches!(plan.targets, Targets::Any);
    let mut first: Option<Duration> = None;
    loop {
        let links = nics::list(sys)?;
        let has = |t: &Target| links.iter().any(|l| l.index == t.nic.index && l.carrier);
        let with = targets.iter().filter(|t| has(t)).count();
        let now = sys.now();
        if with > 0 {
            first.get_or_insert(now);
        }
        let elapsed = now.saturating_sub(start);
        let grace_over = first.is_some_and(|f| now.saturating_sub(f) >= CARRIER_GRACE);
        if with == targets.len() || elapsed >= bound || (any && grace_over) {
            let (ok, without): (Vec<Target>, Vec<Target>) =
                targets.into_iter().partition(|t| has(t));
            let names: Vec<String> = without
                .iter()
                .map(|t| format!("{} ({})", t.nic.name, mac_text(&t.nic.mac)))
                .collect();
            if ok.is_empty() || (!any && !without.is_empty()) {
                return Err(BootError::new(
                    Stage::Network,
                    "",
                    Cause::Net(Box::new(NetCause::NoCarrier {
                        interfaces: names,
                        waited_secs: elapsed.as_secs(),
                    })),
                ));
            }
            if !names.is_empty() {
                warn!("no carrier on {}: left out", names.join(", "));
            }
            info!(
                "carrier on {} after {} ms",
                ok.iter()
                    .map(|t| t.nic.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                elapsed.as_millis()
            );
            return Ok(ok);
        }
        sys.sleep(TICK);
    }
}
