//! The interfaces there are: drivers started by modalias (coldplug, then
//! uevents: virtio's second stage arrives as a `virtio:` device), each
//! interface described from rtnetlink and sysfs, and the bounded wait for
//! the ones the plan needs.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{debug, info, warn};

use super::cause::NetCause;
use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::boot::events::{self, DeviceNews};
use crate::boot::modules::Loader;
use crate::net::ifname::{self, Nic};
use crate::net::{IfRef, NetPlan, Targets};
use crate::sys::Sys;

/// How often the interface list is read again while waiting.
const TICK: Duration = Duration::from_millis(100);
/// "Any" mode: once a NIC is there and no driver is loading, stop when no
/// new interface appeared for this long (bounded by rd.net.timeout.iflink).
const SETTLE: Duration = Duration::from_secs(1);
const ARPHRD_ETHER: u16 = 1;
/// What the kernel asks for when a VLAN link is created.
const VLAN_REQUEST: &str = "rtnl-link-vlan";

/// Every interface, described (name, MAC, driver, PCI path name).
pub fn list(sys: &impl Sys) -> Result<Vec<Nic>, BootError> {
    let links = sys
        .net_links()
        .map_err(|e| BootError::sys(Stage::Network, "list network interfaces (rtnetlink)", e))?;
    Ok(links
        .into_iter()
        .map(|l| {
            let dir = format!("/sys/class/net/{}", l.name);
            let text = |p: &str| {
                sys.read_file(p)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let dev = text(&format!("{dir}/device/uevent"));
            let parent = text(&format!("{dir}/device/../uevent"));
            let driver = dev
                .as_deref()
                .and_then(ifname::driver_of_uevent)
                .map(String::from);
            let pci_name = dev
                .as_deref()
                .and_then(ifname::pci_slot_of_uevent)
                .or_else(|| parent.as_deref().and_then(ifname::pci_slot_of_uevent))
                .and_then(ifname::pci_path_name);
            let wireless = sys.file_kind(&format!("{dir}/wireless")).is_some();
            let mac: [u8; 6] = l
                .mac
                .get(..6)
                .and_then(|m| m.try_into().ok())
                .unwrap_or_default();
            Nic {
                index: l.index,
                physical: l.arp_type == ARPHRD_ETHER && dev.is_some() && !wireless,
                name: l.name,
                mac,
                driver,
                pci_name,
                up: l.up,
                carrier: l.carrier,
            }
        })
        .collect())
}

/// Hands every device's modalias under `/sys/bus` to the loader (the
/// loader looks each up once, so walking again is cheap).
fn coldplug(sys: &impl Sys, modules: &mut Loader) {
    for bus in sys.read_dir("/sys/bus").unwrap_or_default() {
        let dir = format!("/sys/bus/{bus}/devices");
        for device in sys.read_dir(&dir).unwrap_or_default() {
            if let Ok(alias) = sys.read_file(&format!("{dir}/{device}/modalias")) {
                modules.device(&String::from_utf8_lossy(&alias));
            }
        }
    }
    modules.pump(sys);
}

/// What the plan waits for, by reference; `rename` targets count as their MAC.
fn wanted(plan: &NetPlan) -> Vec<(IfRef, &'static str)> {
    let mut refs = Vec::new();
    match &plan.targets {
        Targets::Any => {}
        Targets::Bootif(mac) => refs.push((IfRef::Mac(*mac), "BOOTIF=")),
        Targets::Named(configs) => {
            for c in configs {
                // A VLAN is made later, from its parent.
                if let IfRef::Name(n) = &c.iface {
                    if plan.vlans.iter().any(|v| v.name == *n) {
                        continue;
                    }
                }
                refs.push((c.iface.clone(), "ip="));
            }
        }
    }
    for v in &plan.vlans {
        refs.push((IfRef::Name(v.parent.clone()), "vlan="));
    }
    refs
}

/// Whether `want` is among `nics`, counting `ifname=` renames to come.
fn present(plan: &NetPlan, want: &IfRef, nics: &[Nic]) -> bool {
    if ifname::resolve(want, nics).is_some() {
        return true;
    }
    let IfRef::Name(n) = want else { return false };
    plan.renames
        .iter()
        .any(|(name, mac)| name == n && nics.iter().any(|x| x.mac == *mac))
}

/// Loads NIC drivers and waits, up to `rd.net.timeout.iflink`, for the
/// interfaces the plan needs (any Ethernet NIC when it names none).
pub fn wait_for_interfaces(
    sys: &impl Sys,
    plan: &NetPlan,
    modules: &mut Loader,
) -> Result<Vec<Nic>, BootError> {
    let start = sys.now();
    let bound = plan.timeouts.iflink;
    let wanted = wanted(plan);
    if let Err(e) = sys.listen_uevents() {
        warn!(
            "cannot listen to uevents ({}); looking at /sys instead",
            errno_text(e)
        );
    }
    coldplug(sys, modules);
    // vlan= needs 8021q, which the kernel would ask modprobe for
    // (`rtnl-link-vlan`); there is no modprobe here, so it loads now, and
    // the wait below ends only once it is in.
    let vlan = (!plan.vlans.is_empty()).then_some(VLAN_REQUEST);
    if let Some(r) = vlan {
        modules.request(sys, &[String::from(r)]);
    }
    let mut seen = 0usize;
    let mut last_new = start;
    let result = loop {
        let nics = list(sys)?;
        let physical = nics.iter().filter(|n| n.physical).count();
        if physical != seen {
            last_new = sys.now();
            seen = physical;
        }
        let now = sys.now();
        let done = if wanted.is_empty() {
            physical > 0 && !modules.drivers_busy() && now.saturating_sub(last_new) >= SETTLE
        } else {
            wanted.iter().all(|(w, _)| present(plan, w, &nics))
                && !vlan.is_some_and(|r| modules.loading(r))
        };
        if done {
            break Ok(nics);
        }
        if now.saturating_sub(start) >= bound {
            let waited_secs = bound.as_secs();
            if let Some((missing, option)) = wanted.iter().find(|(w, _)| !present(plan, w, &nics)) {
                break Err(NetCause::NicNotFound {
                    wanted: ifname::ref_text(missing),
                    option,
                    waited_secs,
                    present: ifname::listing(&nics),
                });
            }
            if physical > 0 {
                break Ok(nics);
            }
            break Err(NetCause::NoNic {
                waited_secs,
                unbound: unbound_pci_nics(sys),
            });
        }
        let happened = events::wait(sys, modules, TICK);
        for news in happened.devices {
            match news {
                DeviceNews::Uevent(u) => {
                    if let (Some(alias), true) = (&u.modalias, u.is("add")) {
                        modules.device(alias);
                    }
                }
                // Block devices are discovery's business.
                DeviceNews::Probed { .. } => {}
                DeviceNews::Lost => coldplug(sys, modules),
            }
        }
        modules.pump(sys);
    };
    sys.stop_uevents();
    let nics = result.map_err(|c| BootError::new(Stage::Network, "", Cause::Net(Box::new(c))))?;
    info!(
        "network interfaces after {} ms: {}",
        sys.now().saturating_sub(start).as_millis(),
        ifname::listing(&nics).join("; ")
    );
    Ok(nics)
}

/// PCI devices of the network class (0x02) that no driver is bound to.
fn unbound_pci_nics(sys: &impl Sys) -> Vec<String> {
    let dir = "/sys/bus/pci/devices";
    let mut out = Vec::new();
    for dev in sys.read_dir(dir).unwrap_or_default() {
        let class = sys
            .read_file(&format!("{dir}/{dev}/class"))
            .unwrap_or_default();
        if !class.starts_with(b"0x02") || sys.file_kind(&format!("{dir}/{dev}/driver")).is_some() {
            continue;
        }
        let alias = sys
            .read_file(&format!("{dir}/{dev}/modalias"))
            .map(|a| String::from_utf8_lossy(&a).trim().to_owned())
            .unwrap_or_default();
        debug!("PCI network device {dev} has no driver ({alias})");
        out.push(format!("{dev} ({alias})"));
    }
    out
}
