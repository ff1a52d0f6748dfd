//! ARP on a link: the duplicate-address probe of a static address before
//! it is configured (RFC 5227, bounded by `rd.liveinit.net.dad`), and the
//! gateway check after (dracut ARP-pings the gateway too; bounded by
//! `rd.net.timeout.route`).

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;
use core::time::Duration;

use log::{info, warn};

use super::cause::NetCause;
use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::net::addr::{mac_text, Mac};
use crate::net::arp::{self, Arp, PROBE_INTERVAL};
use crate::net::ifname::Nic;
use crate::sys::Sys;

/// Sends `packet` every [`PROBE_INTERVAL`] on `nic` for at most `bound`,
/// until `stop` names the host it was waiting for; returns its MAC, or
/// `None` when the time is up. A socket that cannot be opened is `Err`.
/// (`dyn`: one copy of the loop serves the probe and the gateway check.)
fn exchange(
    sys: &impl Sys,
    nic: &Nic,
    packet: &[u8],
    bound: Duration,
    stop: &dyn Fn(&Arp) -> Option<Mac>,
) -> Result<Option<Mac>, crate::sys::Errno> {
    let handle = sys.arp_open(nic.index)?;
    let start = sys.now();
    let mut next = start;
    let found = 'wait: loop {
        let now = sys.now();
        let elapsed = now.saturating_sub(start);
        if elapsed >= bound {
            break None;
        }
        if now >= next {
            if let Err(e) = sys.arp_send(handle, packet) {
                warn!("ARP on {}: {}", nic.name, errno_text(e));
            }
            next = now + PROBE_INTERVAL;
        }
        let until = next.min(start + bound);
        for p in sys.arp_recv(handle, until.saturating_sub(now)) {
            if let Some(t) = arp::parse(&p).as_ref().and_then(stop) {
                break 'wait Some(t);
            }
        }
    };
    sys.arp_close(handle);
    Ok(found)
}

/// RFC 5227 probe for `address` on `nic`; `text` is the `ip=` value.
pub fn probe(
    sys: &impl Sys,
    nic: &Nic,
    address: Ipv4Addr,
    bound: Duration,
    text: &str,
) -> Result<(), BootError> {
    if bound.is_zero() {
        return Ok(());
    }
    let packet = arp::request(nic.mac, Ipv4Addr::UNSPECIFIED, address);
    let start = sys.now();
    match exchange(sys, nic, &packet, bound, &|a| {
        arp::conflict(a, nic.mac, address)
    }) {
        Ok(None) => {
            info!(
                "{address} is free on {} (ARP probe, {} ms)",
                nic.name,
                sys.now().saturating_sub(start).as_millis()
            );
            Ok(())
        }
        Ok(Some(holder)) => Err(BootError::new(
            Stage::Network,
            "",
            Cause::Net(Box::new(NetCause::AddressInUse {
                address,
                interface: format!("{} ({})", nic.name, mac_text(&nic.mac)),
                holder: mac_text(&holder),
                text: text.to_string(),
            })),
        )),
        Err(e) => {
            warn!(
                "cannot probe {address} on {} with ARP ({}); configuring it unchecked",
                nic.name,
                errno_text(e)
            );
            Ok(())
        }
    }
}

/// Asks for `gateway` from `source` on `nic` until it answers or `bound`
/// is over; a silent gateway is a warning (the download will say more).
pub fn check_gateway(
    sys: &impl Sys,
    nic: &Nic,
    source: Ipv4Addr,
    gateway: Ipv4Addr,
    bound: Duration,
) {
    if bound.is_zero() {
        return;
    }
    let packet = arp::request(nic.mac, source, gateway);
    let start = sys.now();
    let answer = exchange(sys, nic, &packet, bound, &|a| {
        arp::from_host(a, nic.mac, gateway).then_some(a.sender_mac)
    });
    match answer {
        Ok(Some(mac)) => info!(
            "gateway {gateway} ({}) answers on {} after {} ms",
            mac_text(&mac),
            nic.name,
            sys.now().saturating_sub(start).as_millis()
        ),
        other => warn!(
            "gateway {gateway} did not answer ARP on {} within {} s (rd.net.timeout.route{}); \
             going on, but only the local network may be reachable",
            nic.name,
            bound.as_secs(),
            match other {
                Err(e) => format!(": {}", errno_text(e)),
                _ => String::new(),
            }
        ),
    }
}
