//! Network interfaces, addresses and routes over rtnetlink (a
//! `NETLINK_ROUTE` socket through rustix; network-crates.md: ~8 KB against
//! ~500 KB for the netlink crates). One request at a time, each waiting
//! for the kernel's acknowledgement, so an error names the request.

mod msg;

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::Ipv4Addr;

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{self as rnet, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use super::SysResult;

pub use msg::describe_route;

/// A network interface as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetLink {
    pub index: u32,
    pub name: String,
    /// The hardware address (6 bytes for Ethernet).
    pub mac: Vec<u8>,
    /// `ARPHRD_*` (1 = Ethernet, 772 = loopback).
    pub arp_type: u16,
    pub up: bool,
    /// `IFF_LOWER_UP`: the link has carrier.
    pub carrier: bool,
    pub mtu: u32,
}

/// What to change on a link; `None` leaves it alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChange {
    pub up: Option<bool>,
    pub name: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
}

/// An IPv4 address to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrSpec {
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub peer: Option<Ipv4Addr>,
    pub broadcast: Option<Ipv4Addr>,
    /// Valid and preferred lifetime (a DHCP lease); `None` is forever.
    pub lifetime_secs: Option<u32>,
}

/// An IPv4 route to add (or replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub net: Ipv4Addr,
    pub prefix: u8,
    /// `None`: on-link.
    pub gateway: Option<Ipv4Addr>,
    pub index: Option<u32>,
    pub replace: bool,
}

/// Replies are read into a buffer this big (a dump message per link is
/// about 1–2 KiB; the kernel fills at most one page-sized skb per read).
const RECV: usize = 32 * 1024;

fn open() -> SysResult<OwnedFd> {
    // Protocol `None` is 0, NETLINK_ROUTE.
    let fd = rnet::socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC,
        None,
    )?;
    rnet::bind(&fd, &SocketAddrNetlink::new(0, 0))?;
    // A reply that never comes must not hang the boot.
    let _ = rnet::sockopt::set_socket_timeout(
        &fd,
        rnet::sockopt::Timeout::Recv,
        Some(core::time::Duration::from_secs(5)),
    );
    Ok(fd)
}

fn send(fd: &OwnedFd, request: &[u8]) -> SysResult<()> {
    rnet::sendto(
        fd,
        request,
        SendFlags::empty(),
        &SocketAddrNetlink::new(0, 0),
    )?;
    Ok(())
}

/// Sends one request and waits for its acknowledgement.
fn request(request: &[u8]) -> SysResult<()> {
    let fd = open()?;
    send(&fd, request)?;
    let mut buf = vec![0u8; RECV];
    loop {
        let (len, _) = rnet::recv(&fd, buf.as_mut_slice(), RecvFlags::empty())?;
        for (kind, _, payload) in msg::messages(buf.get(..len).unwrap_or_default()) {
            if kind == msg::NLMSG_ERROR {
                return match msg::error_code(payload) {
                    0 => Ok(()),
                    e => Err(Errno::from_raw_os_error(e.saturating_neg())),
                };
            }
        }
    }
}

/// Every interface.
pub fn links() -> SysResult<Vec<NetLink>> {
    let fd = open()?;
    send(&fd, &msg::dump_links(1))?;
    let mut buf = vec![0u8; RECV];
    let mut out = Vec::new();
    loop {
        let (len, _) = rnet::recv(&fd, buf.as_mut_slice(), RecvFlags::empty())?;
        for (kind, _, payload) in msg::messages(buf.get(..len).unwrap_or_default()) {
            match kind {
                msg::NLMSG_DONE => return Ok(out),
                msg::NLMSG_ERROR => {
                    return Err(Errno::from_raw_os_error(
                        msg::error_code(payload).saturating_neg(),
                    ))
                }
                msg::RTM_NEWLINK => out.extend(msg::parse_link(payload)),
                _ => {}
            }
        }
    }
}

pub fn set_link(index: u32, change: &LinkChange) -> SysResult<()> {
    request(&msg::set_link(1, index, change))
}

pub fn add_vlan(name: &str, parent: u32, id: u16) -> SysResult<()> {
    request(&msg::new_vlan(1, name, parent, id))
}

pub fn add_address(index: u32, addr: &AddrSpec) -> SysResult<()> {
    request(&msg::new_address(1, index, addr))
}

pub fn add_route(route: &RouteSpec) -> SysResult<()> {
    request(&msg::new_route(1, route))
}
