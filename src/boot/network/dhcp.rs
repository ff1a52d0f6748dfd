//! DHCPv4 on several interfaces at once (network-boot-spec §3 step 5):
//! one socket each, one wait for all; DISCOVER, the first OFFER, REQUEST,
//! ACK; retransmissions at 4, 8, 16… s with jitter until
//! `rd.net.timeout.dhcp`, the whole exchange `rd.net.dhcp.retry` times.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;
use core::time::Duration;

use log::{debug, info, warn};

use super::cause::NetCause;
use super::links::Target;
use crate::boot::error::{BootError, Cause, Stage};
use crate::net::addr::mac_text;
use crate::net::dhcp::{self, Ask, Lease, MsgType};
use crate::net::Timeouts;
use crate::sys::Sys;

/// After this many NAKs or unusable leases on one interface, give up on it.
const MAX_REFUSALS: u32 = 4;

enum Phase {
    Discovering,
    Requesting { address: Ipv4Addr, server: Ipv4Addr },
    Bound(Lease),
    Failed,
}

struct Client<'a> {
    target: &'a Target,
    handle: u32,
    xid: u32,
    phase: Phase,
    started: Duration,
    next_send: Duration,
    sends: u32,
    refusals: u32,
    last_refusal: Option<(Option<Ipv4Addr>, String)>,
}

/// The outcome: each interface that got a lease, with it.
pub struct Leases<'a> {
    pub bound: Vec<(&'a Target, Lease)>,
}

fn xid_for(sys: &impl Sys, mac: &[u8; 6], attempt: u32) -> u32 {
    let t = u32::try_from(sys.now().as_nanos() & 0xffff_ffff).unwrap_or(0);
    let m = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
    t ^ m.rotate_left(7) ^ attempt.wrapping_mul(0x9e37_79b9)
}

impl Client<'_> {
    fn send(&mut self, sys: &impl Sys, hostname: Option<&str>) {
        let now = sys.now();
        let ask = match self.phase {
            Phase::Requesting { address, server } => Ask::Request { address, server },
            _ => Ask::Discover,
        };
        let secs = u16::try_from(now.saturating_sub(self.started).as_secs()).unwrap_or(u16::MAX);
        let msg = dhcp::build(
            &dhcp::Client {
                xid: self.xid,
                mac: self.target.nic.mac,
                secs,
                hostname,
            },
            ask,
        );
        if let Err(e) = sys.dhcp_send(self.handle, &msg) {
            debug!("DHCP send on {}: {e:?}", self.target.nic.name);
        }
        let delay =
            dhcp::retransmit_delay(self.sends.min(4), dhcp::jitter_ms(self.xid ^ self.sends));
        self.sends += 1;
        self.next_send = now.saturating_add(delay);
    }

    fn refuse(&mut self, server: Option<Ipv4Addr>, why: String) {
        warn!("DHCP on {}: server {server:?} {why}", self.target.nic.name);
        self.refusals += 1;
        self.last_refusal = Some((server, why));
        self.phase = if self.refusals >= MAX_REFUSALS {
            Phase::Failed
        } else {
            Phase::Discovering
        };
    }
}

/// Runs DHCP on `targets` at once. With `first_wins`, stops at the first
/// lease; else waits for every interface. Fails when none got one.
pub fn run<'a>(
    sys: &impl Sys,
    targets: &'a [Target],
    timeouts: &Timeouts,
    first_wins: bool,
) -> Result<Leases<'a>, BootError> {
    let start = sys.now();
    let mut discovers = 0u32;
    let mut last_refusal = None;
    for attempt in 1..=timeouts.dhcp_retry.max(1) {
        let mut clients: Vec<Client<'a>> = Vec::new();
        for t in targets {
            match sys.dhcp_open(&t.nic.name) {
                Ok(handle) => clients.push(Client {
                    target: t,
                    handle,
                    xid: xid_for(sys, &t.nic.mac, attempt),
                    phase: Phase::Discovering,
                    started: sys.now(),
                    next_send: sys.now(),
                    sends: 0,
                    refusals: 0,
                    last_refusal: None,
                }),
                Err(e) => {
                    return Err(BootError::sys(
                        Stage::Network,
                        format!("open a DHCP socket on {}", t.nic.name),
                        e,
                    ))
                }
            }
        }
        info!(
            "DHCP on {} (attempt {attempt} of {}, up to {} s)",
            targets
                .iter()
                .map(|t| t.nic.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            timeouts.dhcp_retry,
            timeouts.dhcp.as_secs()
        );
        let deadline = sys.now().saturating_add(timeouts.dhcp);
        loop {
            let now = sys.now();
            for c in clients.iter_mut() {
                if matches!(c.phase, Phase::Discovering | Phase::Requesting { .. })
                    && now >= c.next_send
                {
                    if matches!(c.phase, Phase::Discovering) {
                        discovers += 1;
                    }
                    let hostname = c.target.config.as_ref().and_then(|c| c.hostname.clone());
                    c.send(sys, hostname.as_deref());
                }
            }
            let bound = clients
                .iter()
                .filter(|c| matches!(c.phase, Phase::Bound(_)))
                .count();
            let active = clients
                .iter()
                .filter(|c| matches!(c.phase, Phase::Discovering | Phase::Requesting { .. }))
                .count();
            if (first_wins && bound > 0) || active == 0 || now >= deadline {
                break;
            }
            let wake = clients
                .iter()
                .filter(|c| matches!(c.phase, Phase::Discovering | Phase::Requesting { .. }))
                .map(|c| c.next_send)
                .min()
                .unwrap_or(deadline)
                .min(deadline);
            let handles: Vec<u32> = clients.iter().map(|c| c.handle).collect();
            for (handle, bytes) in sys.dhcp_recv(&handles, wake.saturating_sub(now)) {
                let Some(c) = clients.iter_mut().find(|c| c.handle == handle) else {
                    continue;
                };
                let Ok(reply) = dhcp::parse(&bytes) else {
                    continue;
                };
                if !dhcp::answers(&reply, c.xid, &c.target.nic.mac) {
                    continue;
                }
                let server = reply.lease.server;
                match (&c.phase, reply.kind) {
                    (Phase::Discovering, MsgType::Offer) => match (reply.lease.address, server) {
                        (Some(address), Some(server)) => {
                            debug!(
                                "DHCP offer on {}: {address} from {server}",
                                c.target.nic.name
                            );
                            c.phase = Phase::Requesting { address, server };
                            c.sends = 0;
                            c.next_send = sys.now();
                        }
                        _ => c.refuse(
                            server,
                            String::from("offered no address or no server identifier"),
                        ),
                    },
                    (Phase::Requesting { .. }, MsgType::Ack) => {
                        let l = reply.lease;
                        match (l.address, l.prefix) {
                            (Some(_), Some(_)) => c.phase = Phase::Bound(l),
                            (None, _) => c.refuse(server, String::from("acknowledged a lease without an address")),
                            (_, None) => c.refuse(
                                server,
                                String::from("acknowledged a lease without a (contiguous) subnet mask, option 1"),
                            ),
                        }
                        c.next_send = sys.now();
                    }
                    (Phase::Requesting { .. }, MsgType::Nak) => {
                        c.refuse(server, String::from("refused the request (DHCPNAK)"));
                        c.next_send = sys.now();
                    }
                    _ => {}
                }
            }
        }
        let mut bound = Vec::new();
        for c in clients {
            sys.dhcp_close(c.handle);
            if c.last_refusal.is_some() {
                last_refusal = c.last_refusal.clone();
            }
            if let Phase::Bound(lease) = c.phase {
                info!(
                    "DHCP lease on {} ({}): {}/{} from {} in {} ms",
                    c.target.nic.name,
                    mac_text(&c.target.nic.mac),
                    lease.address.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    lease.prefix.unwrap_or(0),
                    lease.server.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    sys.now().saturating_sub(start).as_millis()
                );
                bound.push((c.target, lease));
            }
        }
        if !bound.is_empty() {
            return Ok(Leases { bound });
        }
        if attempt < timeouts.dhcp_retry {
            sys.sleep(Duration::from_secs(1));
        }
    }
    let interfaces: Vec<String> = targets
        .iter()
        .map(|t| format!("{} ({})", t.nic.name, mac_text(&t.nic.mac)))
        .collect();
    let cause = match last_refusal {
        Some((server, why)) => NetCause::DhcpRefused {
            interfaces,
            server,
            why,
        },
        None => NetCause::NoDhcpAnswer {
            interfaces,
            discovers,
            waited_secs: sys.now().saturating_sub(start).as_secs(),
            attempts: timeouts.dhcp_retry,
        },
    };
    Err(BootError::new(
        Stage::Network,
        "",
        Cause::Net(Box::new(cause)),
    ))
}
