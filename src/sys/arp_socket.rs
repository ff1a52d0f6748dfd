//! ARP sockets: `AF_PACKET`/`SOCK_DGRAM` for `ETH_P_ARP`, bound to one
//! interface, so the kernel adds and strips the Ethernet header and the
//! init reads and writes bare ARP payloads (`net::arp`). They work before
//! the interface has an address, which the duplicate-address probe needs.
//! rustix has no `sockaddr_ll`, so the socket calls go through libc.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::{AsRawFd, FromRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::RecvFlags;

use super::handles::Handles;
use super::SysResult;

const ETH_P_ARP: u16 = 0x0806;
/// `AF_PACKET` as `sockaddr_ll` stores it.
const AF_PACKET: u16 = 17;
/// `sizeof(struct sockaddr_ll)`.
const LL_LEN: libc::socklen_t = 20;

/// The open sockets with the interface each is bound to; a handle is an
/// index here.
const _: () = assert!(core::mem::size_of::<libc::sockaddr_ll>() == 20);
const _: () = assert!(libc::AF_PACKET == 17);

#[derive(Default)]
pub struct ArpSockets {
    open: Handles<(OwnedFd, i32)>,
}

fn errno() -> Errno {
    // SAFETY: musl's `__errno_location` returns the calling thread's errno
    // slot, always valid to read.
    Errno::from_raw_os_error(unsafe { *libc::__errno_location() })
}

/// The link-layer address of interface `index`: broadcast if `to_all`.
fn link_addr(index: i32, to_all: bool) -> libc::sockaddr_ll {
    // SAFETY: `sockaddr_ll` is plain integers and arrays; all zeroes is a
    // valid value of it.
    let mut sa: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = ETH_P_ARP.to_be();
    sa.sll_ifindex = index;
    if to_all {
        sa.sll_halen = 6;
        sa.sll_addr = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0];
    }
    sa
}

impl ArpSockets {
    /// Opens an ARP socket on interface `index`; returns its handle.
    pub fn open(&mut self, index: u32) -> SysResult<u32> {
        let index = i32::try_from(index).map_err(|_| Errno::INVAL)?;
        // SAFETY: plain socket(2); the descriptor returned is owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                i32::from(ETH_P_ARP.to_be()),
            )
        };
        if raw < 0 {
            return Err(errno());
        }
        // SAFETY: `raw` is a descriptor just returned by socket(2) and
        // owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let sa = link_addr(index, false);
        // SAFETY: `sa` is a live `sockaddr_ll` of `LL_LEN` bytes; the
        // kernel copies it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_ll).cast(),
                LL_LEN,
            )
        };
        if rc != 0 {
            return Err(errno());
        }
        self.open.insert((fd, index))
    }

    fn get(&self, handle: u32) -> SysResult<&(OwnedFd, i32)> {
        self.open.get(handle)
    }

    /// Broadcasts the ARP payload `packet` on the socket's interface.
    pub fn send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        let (fd, index) = self.get(handle)?;
        let sa = link_addr(*index, true);
        // SAFETY: `packet` and `sa` are live for the call and their
        // lengths are passed with them; the kernel copies both.
        let rc = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&sa as *const libc::sockaddr_ll).cast(),
                LL_LEN,
            )
        };
        if rc < 0 {
            return Err(errno());
        }
        Ok(())
    }

    /// Waits up to `timeout` for ARP messages; returns those that came.
    pub fn recv(&self, handle: u32, timeout: Duration) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Ok((fd, _)) = self.get(handle) else {
            return out;
        };
        let mut polls = [PollFd::new(fd, PollFlags::IN)];
        let ts = Timespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        if poll(&mut polls, Some(&ts)).unwrap_or(0) == 0 {
            return out;
        }
        let mut buf = [0u8; 64];
        while let Ok((len, _)) = rustix::net::recv(fd, &mut buf[..], RecvFlags::DONTWAIT) {
            if let Some(msg) = buf.get(..len) {
                out.push(msg.to_vec());
            }
        }
        out
    }

    pub fn close(&mut self, handle: u32) {
        self.open.close(handle);
    }
}
