//! TCP for the image download: name resolution through musl's
//! `getaddrinfo` (it reads `/etc/resolv.conf` at each lookup, with the
//! timeout options written there), a connect bounded by a timeout
//! (non-blocking connect + poll), and reads and writes each bounded too.

#[allow(unused_imports)]
use crate::prelude::*;

use core::ffi::CStr;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::OwnedFd;
use rustix::net::{
    connect, recv, send, socket_with, sockopt, AddressFamily, RecvFlags, SendFlags, SocketFlags,
    SocketType,
};

use super::{Errno, Stream, SysResult};

/// The addresses `host` resolves to (in the resolver's order), or the
/// resolver's reason. A literal address resolves without a query.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(vec![SocketAddr::V4(SocketAddrV4::new(ip, port))]);
    }
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        return Ok(vec![SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0))]);
    }
    let mut name = Vec::from(host.as_bytes());
    name.push(0);
    let name = CStr::from_bytes_with_nul(&name).map_err(|_| String::from("bad host name"))?;
    // SAFETY: an all-zero `addrinfo` is a valid hints value (no flags,
    // any family, no pointers).
    let mut hints: libc::addrinfo = unsafe { core::mem::zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = core::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated, `hints` is initialised, `list` is
    // written by getaddrinfo and freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), core::ptr::null(), &hints, &mut list) };
    if rc == libc::EAI_AGAIN {
        // musl words it "Try again", which reads as advice to the user.
        return Err(String::from("no name server answered"));
    }
    if rc != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(String::from_utf8_lossy(text.to_bytes()).into_owned());
    }
    let mut out = Vec::new();
    let mut at = list;
    while !at.is_null() {
        // SAFETY: `at` is a node of the list getaddrinfo returned, not yet freed.
        let info = unsafe { &*at };
        if let Some(addr) = socket_addr(info, port) {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
        at = info.ai_next;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(out)
}

fn socket_addr(info: &libc::addrinfo, port: u16) -> Option<SocketAddr> {
    if info.ai_addr.is_null() {
        return None;
    }
    match info.ai_family {
        libc::AF_INET => {
            // SAFETY: for AF_INET, ai_addr points to a sockaddr_in.
            let sin = unsafe { &*(info.ai_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        libc::AF_INET6 => {
            // SAFETY: for AF_INET6, ai_addr points to a sockaddr_in6.
            let sin6 = unsafe { &*(info.ai_addr as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                0,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// A connected TCP socket whose every wait is bounded.
pub struct TcpStream {
    fd: OwnedFd,
}

/// Connects to `addr` within `timeout`.
pub fn connect_timeout(addr: SocketAddr, timeout: Duration) -> SysResult<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    match connect(&fd, &addr) {
        Ok(()) => {}
        Err(Errno::INPROGRESS) | Err(Errno::INTR) => {
            wait_for(&fd, PollFlags::OUT, timeout)?;
            sockopt::socket_error(&fd)??;
        }
        Err(e) => return Err(e),
    }
    // Small requests go out at once; the image flows the other way.
    let _ = sockopt::set_tcp_nodelay(&fd, true);
    Ok(TcpStream { fd })
}

/// Waits until `fd` is ready for `what`; `TIMEDOUT` when `timeout` passes.
fn wait_for(fd: &OwnedFd, what: PollFlags, timeout: Duration) -> SysResult<()> {
    let spec = Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    loop {
        let mut fds = [PollFd::new(fd, what)];
        match poll(&mut fds, Some(&spec)) {
            Ok(0) => return Err(Errno::TIMEDOUT),
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

impl Stream for TcpStream {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize> {
        loop {
            match recv(&self.fd, &mut *buf, RecvFlags::empty()) {
                Ok((n, _)) => return Ok(n),
                Err(Errno::AGAIN) => wait_for(&self.fd, PollFlags::IN, timeout)?,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn write_all(&mut self, mut data: &[u8], timeout: Duration) -> SysResult<()> {
        while !data.is_empty() {
            match send(&self.fd, data, SendFlags::NOSIGNAL) {
                Ok(0) => return Err(Errno::PIPE),
                Ok(n) => data = data.get(n..).unwrap_or_default(),
                Err(Errno::AGAIN) => wait_for(&self.fd, PollFlags::OUT, timeout)?,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-connection loopback server: reads the request, answers
    /// `reply`, then holds the connection open for `hold`.
    fn server(reply: &'static [u8], hold: Duration) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = vec![0u8; 64];
            let n = conn.read(&mut request).unwrap();
            request.truncate(n);
            conn.write_all(reply).unwrap();
            std::thread::sleep(hold);
            request
        });
        (port, handle)
    }

    #[test]
    fn connect_write_read_and_a_bounded_stall_over_loopback() {
        let (port, handle) = server(b"hello", Duration::from_millis(600));
        let addrs = resolve("127.0.0.1", port).unwrap();
        let mut s = connect_timeout(addrs[0], Duration::from_secs(2)).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n", Duration::from_secs(2))
            .unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf, Duration::from_secs(2)).unwrap();
        assert_eq!(&buf[..n], b"hello");
        // Nothing more for 600 ms: a 100 ms read times out.
        assert_eq!(
            s.read(&mut buf, Duration::from_millis(100)),
            Err(Errno::TIMEDOUT)
        );
        assert_eq!(handle.join().unwrap(), b"GET / HTTP/1.1\r\n\r\n");
        // Then the server closes: the end of the stream.
        assert_eq!(s.read(&mut buf, Duration::from_secs(2)), Ok(0));
    }

    #[test]
    fn a_closed_port_is_refused_and_names_resolve() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(
            connect_timeout(addr, Duration::from_secs(2)).err(),
            Some(Errno::CONNREFUSED)
        );
        let v6 = resolve("::1", 80).unwrap();
        assert_eq!(v6, [SocketAddr::from((Ipv6Addr::LOCALHOST, 80))]);
        let local = resolve("localhost", 8080).unwrap();
        assert!(
            local
                .iter()
                .all(|a| a.port() == 8080 && a.ip().is_loopback()),
            "{local:?}"
        );
        assert!(resolve("bad name", 80).is_err());
    }
}
