//! The fake's link layer for the bring-up: hosts that answer ARP (for the
//! duplicate-address probe and the gateway check) and links that refuse
//! to come up.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::BTreeSet;
use core::net::Ipv4Addr;
use core::time::Duration;
use std::cell::RefCell;

use super::super::{Errno, SysResult};
use super::FakeSys;
use crate::net::addr::Mac;
use crate::net::arp;

#[derive(Default)]
pub struct FakeArp {
    /// Hosts on every link: (address, MAC).
    hosts: RefCell<Vec<(Ipv4Addr, Mac)>>,
    /// Open sockets: the link of each handle.
    socks: RefCell<Vec<u32>>,
    inbox: RefCell<Vec<(u32, Vec<u8>)>>,
    /// Links whose "up" never takes.
    stuck: RefCell<BTreeSet<u32>>,
    /// Whether ARP sockets open at all: not unless a test scripts the
    /// link layer, so the other tests keep their timings.
    on: core::cell::Cell<bool>,
}

impl FakeSys {
    /// A host with `ip` and `mac` that answers ARP requests for `ip`.
    pub fn arp_host(&self, ip: [u8; 4], mac: Mac) -> &Self {
        self.arp.hosts.borrow_mut().push((Ipv4Addr::from(ip), mac));
        self.arp_network()
    }

    /// ARP sockets open (without it they fail with `EAFNOSUPPORT`).
    pub fn arp_network(&self) -> &Self {
        self.arp.on.set(true);
        self
    }

    /// Link `index` stays down whatever it is told.
    pub fn link_stuck_down(&self, index: u32) -> &Self {
        self.arp.stuck.borrow_mut().insert(index);
        self
    }

    pub(super) fn link_is_stuck(&self, index: u32) -> bool {
        self.arp.stuck.borrow().contains(&index)
    }

    pub(super) fn fake_arp_open(&self, index: u32) -> SysResult<u32> {
        self.record(format!("arp open {index}"))?;
        if !self.arp.on.get() {
            return Err(Errno::AFNOSUPPORT);
        }
        let mut socks = self.arp.socks.borrow_mut();
        socks.push(index);
        u32::try_from(socks.len() - 1).map_err(|_| Errno::MFILE)
    }

    pub(super) fn fake_arp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        let a = arp::parse(packet).ok_or(Errno::INVAL)?;
        self.record(format!("arp send {} who-has {}", a.sender_ip, a.target_ip))?;
        for (ip, mac) in self.arp.hosts.borrow().iter() {
            if *ip == a.target_ip {
                let mut reply = arp::request(*mac, *ip, a.sender_ip);
                if let Some(op) = reply.get_mut(7) {
                    *op = 2;
                }
                self.arp.inbox.borrow_mut().push((handle, reply.to_vec()));
            }
        }
        Ok(())
    }

    pub(super) fn fake_arp_recv(&self, handle: u32, timeout: Duration) -> Vec<Vec<u8>> {
        let mut inbox = self.arp.inbox.borrow_mut();
        let (mine, rest): (Vec<_>, Vec<_>) = inbox.drain(..).partition(|(h, _)| *h == handle);
        *inbox = rest;
        if mine.is_empty() {
            self.advance_to(self.clock.get() + timeout);
        }
        mine.into_iter().map(|(_, p)| p).collect()
    }
}
