//! DHCP client sockets (network-boot-spec §3 step 5): UDP bound to
//! `0.0.0.0:68` with `SO_BROADCAST`, `SO_REUSEADDR` and `SO_BINDTODEVICE`,
//! so a DISCOVER leaves by that interface before it has an address and the
//! broadcast replies come back to it; one per interface, polled together.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    self as rnet, sockopt, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType,
};

use super::handles::Handles;
use super::SysResult;
use crate::net::dhcp::{CLIENT_PORT, SERVER_PORT};

/// A DHCP message fits in one Ethernet frame.
const MAX_MESSAGE: usize = 1500;

/// The open sockets; a handle is an index here.
#[derive(Default)]
pub struct DhcpSockets {
    open: Handles<OwnedFd>,
}

fn bind_to_device(fd: &OwnedFd, ifname: &str) -> SysResult<()> {
    let name = ifname.as_bytes();
    let len = libc::socklen_t::try_from(name.len()).map_err(|_| Errno::INVAL)?;
    // SAFETY: `name` is a live byte slice of `len` bytes for the duration
    // of the call; the kernel copies it and does not keep the pointer.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            len,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: musl's `__errno_location` returns the calling thread's errno
    // slot, always valid to read.
    let raw = unsafe { *libc::__errno_location() };
    Err(Errno::from_raw_os_error(raw))
}

impl DhcpSockets {
    /// Opens a client socket on `ifname`; returns its handle.
    pub fn open(&mut self, ifname: &str) -> SysResult<u32> {
        let fd = rnet::socket_with(
            AddressFamily::INET,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        sockopt::set_socket_reuseaddr(&fd, true)?;
        sockopt::set_socket_broadcast(&fd, true)?;
        bind_to_device(&fd, ifname)?;
        rnet::bind(&fd, &SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, CLIENT_PORT))?;
        self.open.insert(fd)
    }

    fn fd(&self, handle: u32) -> SysResult<&OwnedFd> {
        self.open.get(handle)
    }

    /// Broadcasts `packet` to the servers' port.
    pub fn send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, SERVER_PORT);
        rnet::sendto(self.fd(handle)?, packet, SendFlags::empty(), &to)?;
        Ok(())
    }

    /// Waits up to `timeout` for any of `handles` to receive; returns what
    /// arrived, with the handle it arrived on.
    pub fn recv(&self, handles: &[u32], timeout: Duration) -> Vec<(u32, Vec<u8>)> {
        let fds: Vec<(u32, &OwnedFd)> = handles
            .iter()
            .filter_map(|h| self.fd(*h).ok().map(|fd| (*h, fd)))
            .collect();
        let mut out = Vec::new();
        if fds.is_empty() {
            return out;
        }
        let mut polls: Vec<PollFd<'_>> = fds
            .iter()
            .map(|(_, fd)| PollFd::new(*fd, PollFlags::IN))
            .collect();
        let ts = Timespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        if poll(&mut polls, Some(&ts)).unwrap_or(0) == 0 {
            return out;
        }
        let mut buf = vec![0u8; MAX_MESSAGE];
        for (handle, fd) in &fds {
            while let Ok((len, _, _)) = rnet::recvfrom(*fd, buf.as_mut_slice(), RecvFlags::DONTWAIT)
            {
                if let Some(msg) = buf.get(..len) {
                    out.push((*handle, msg.to_vec()));
                }
            }
        }
        out
    }

    pub fn close(&mut self, handle: u32) {
        self.open.close(handle);
    }
}
