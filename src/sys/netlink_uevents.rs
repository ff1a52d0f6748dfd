//! The kernel's device events: a `NETLINK_KOBJECT_UEVENT` socket (CLOEXEC,
//! non-blocking, multicast group 1, a large receive buffer), read whenever
//! `poll` says it is readable. Only messages whose sender port is 0 — the
//! kernel — are passed on (kata-agent does the same); anything else could
//! be forged by any process.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::vec::Vec;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::sockopt;
use rustix::net::{self as rnet, AddressFamily, RecvFlags, SocketFlags, SocketType};

use super::{SysEvent, SysResult};

/// Kernel uevent messages are at most a few KiB (`UEVENT_BUFFER_SIZE` is
/// 2 KiB of environment plus the header).
const MESSAGE_BYTES: usize = 8192;
/// Receive buffer, as nlplug-findfs sizes it: bursts of coldplug-time
/// events must not overflow it.
const RECV_BUFFER: usize = 4 << 20;
/// Events taken from the socket in one go at most; the rest stay queued in
/// the kernel for the next wait, so the queue in the init stays bounded.
pub const BATCH: usize = 512;

pub struct UeventSocket {
    socket: OwnedFd,
}

impl UeventSocket {
    /// Opens and binds the socket.
    pub fn open() -> SysResult<UeventSocket> {
        let socket = rnet::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            Some(netlink::KOBJECT_UEVENT),
        )?;
        // Forcing the size needs CAP_NET_ADMIN, which PID 1 has; else the
        // plain call is capped at rmem_max, which still beats the default.
        if sockopt::set_socket_recv_buffer_size_force(&socket, RECV_BUFFER).is_err() {
            let _ = sockopt::set_socket_recv_buffer_size(&socket, RECV_BUFFER);
        }
        rnet::bind(&socket, &SocketAddrNetlink::new(0, 1))?;
        Ok(UeventSocket { socket })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Takes what is queued (at most [`BATCH`] messages) without blocking.
    /// A full receive buffer (`ENOBUFS`) or a broken socket becomes
    /// [`SysEvent::UeventsLost`]; the second also tells the caller to stop
    /// listening (`false`).
    pub fn drain(&self, events: &mut Vec<SysEvent>) -> bool {
        let mut buf = alloc::vec![0u8; MESSAGE_BYTES];
        for _ in 0..BATCH {
            match rnet::recvfrom(&self.socket, buf.as_mut_slice(), RecvFlags::DONTWAIT) {
                Ok((len, _, from)) => {
                    let from_kernel = from
                        .and_then(|addr| SocketAddrNetlink::try_from(addr).ok())
                        .is_some_and(|addr| addr.pid() == 0);
                    if let Some(msg) = buf.get(..len).filter(|_| from_kernel && len > 0) {
                        events.push(SysEvent::Uevent(msg.to_vec()));
                    }
                }
                Err(Errno::AGAIN | Errno::INTR) => return true,
                Err(Errno::NOBUFS) => events.push(SysEvent::UeventsLost),
                Err(_) => {
                    events.push(SysEvent::UeventsLost);
                    return false;
                }
            }
        }
        true
    }
}
