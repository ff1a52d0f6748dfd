//! The fake's network and streamed files: names that resolve, a queue of
//! scripted connections (each answering with fixed bytes, then ending or
//! failing), the requests they received, and files written piece by piece.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, VecDeque};
use core::net::SocketAddr;
use core::time::Duration;
use std::cell::RefCell;

use super::super::{Errno, FileSink, Stream, Sys, SysResult};
use super::FakeSys;

/// What the next connection does.
#[derive(Debug, Clone)]
enum Conn {
    Refuse(Errno),
    /// Sends `reply` (in pieces of at most `piece` bytes), then ends the
    /// stream (`then` = `None`) or fails with `then`.
    Reply {
        reply: Vec<u8>,
        then: Option<Errno>,
    },
}

#[derive(Default)]
pub struct FakeNet {
    hosts: RefCell<BTreeMap<String, Vec<SocketAddr>>>,
    conns: RefCell<VecDeque<Conn>>,
    requests: RefCell<Vec<String>>,
}

/// Read size of a scripted reply: small enough that a test body arrives
/// in several pieces.
const PIECE: usize = 1000;

impl FakeSys {
    /// Makes `name` resolve to `addrs` (`ip:port` ignored: the URL's port
    /// is used).
    pub fn host(&self, name: &str, addrs: &[&str]) -> &Self {
        let addrs = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        self.net.hosts.borrow_mut().insert(name.to_owned(), addrs);
        self
    }

    /// The next connection answers `reply`, then closes.
    pub fn serve(&self, reply: &[u8]) -> &Self {
        self.serve_then(reply, None)
    }

    /// The next connection answers `reply`, then fails with `then`
    /// (`TIMEDOUT` for a stall, `CONNRESET` for a cut).
    pub fn serve_then(&self, reply: &[u8], then: Option<Errno>) -> &Self {
        self.net.conns.borrow_mut().push_back(Conn::Reply {
            reply: reply.to_vec(),
            then,
        });
        self
    }

    /// The next connection attempt fails with `errno`.
    pub fn refuse(&self, errno: Errno) -> &Self {
        self.net.conns.borrow_mut().push_back(Conn::Refuse(errno));
        self
    }

    /// The requests received, one per connection, in order.
    pub fn requests(&self) -> Vec<String> {
        self.net.requests.borrow().clone()
    }

    pub(super) fn fake_resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let _ = self.record(format!("resolve {host}"));
        if let Ok(ip) = host.parse::<core::net::IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        match self.net.hosts.borrow().get(host) {
            Some(addrs) => Ok(addrs
                .iter()
                .map(|a| SocketAddr::new(a.ip(), port))
                .collect()),
            None => Err("Name does not resolve".to_owned()),
        }
    }

    pub(super) fn fake_connect(
        &self,
        addr: SocketAddr,
        _timeout: Duration,
    ) -> SysResult<Box<dyn Stream + '_>> {
        self.record(format!("connect {addr}"))?;
        let next = self.net.conns.borrow_mut().pop_front();
        match next {
            None => Err(Errno::CONNREFUSED),
            Some(Conn::Refuse(errno)) => Err(errno),
            Some(Conn::Reply { reply, then }) => {
                self.net.requests.borrow_mut().push(String::new());
                Ok(Box::new(FakeStream {
                    sys: self,
                    reply,
                    at: 0,
                    then,
                }))
            }
        }
    }

    pub(super) fn fake_open_writer(
        &self,
        path: &str,
        append: bool,
    ) -> SysResult<Box<dyn FileSink + '_>> {
        let how = if append { "append" } else { "truncate" };
        self.record(format!("open {path} {how}"))?;
        self.parent_must_exist(path)?;
        let mut files = self.files.borrow_mut();
        let file = files.entry(path.to_owned()).or_default();
        if !append {
            file.clear();
        }
        Ok(Box::new(FakeSink {
            sys: self,
            path: path.to_owned(),
        }))
    }

    pub(super) fn fake_rename(&self, from: &str, to: &str) -> SysResult<()> {
        self.record(format!("rename {from} {to}"))?;
        let mut files = self.files.borrow_mut();
        let bytes = files.remove(from).ok_or(Errno::NOENT)?;
        files.insert(to.to_owned(), bytes);
        self.digest_renamed(from, to);
        Ok(())
    }

    /// A scripted failure for `call`, without recording it (writes are
    /// too many to record).
    fn failure_of(&self, call: &str) -> Option<Errno> {
        self.failures
            .borrow()
            .iter()
            .find(|(prefix, _)| call.starts_with(prefix.as_str()))
            .map(|(_, errno)| *errno)
    }
}

struct FakeStream<'a> {
    sys: &'a FakeSys,
    reply: Vec<u8>,
    at: usize,
    then: Option<Errno>,
}

impl Stream for FakeStream<'_> {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize> {
        let rest = self.reply.get(self.at..).unwrap_or_default();
        if rest.is_empty() {
            if let Some(errno) = self.then {
                if errno == Errno::TIMEDOUT {
                    self.sys.sleep(timeout);
                }
                return Err(errno);
            }
            return Ok(0);
        }
        let n = rest.len().min(buf.len()).min(PIECE);
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }

    fn write_all(&mut self, data: &[u8], _timeout: Duration) -> SysResult<()> {
        if let Some(last) = self.sys.net.requests.borrow_mut().last_mut() {
            last.push_str(&String::from_utf8_lossy(data));
        }
        Ok(())
    }
}

struct FakeSink<'a> {
    sys: &'a FakeSys,
    path: String,
}

impl FileSink for FakeSink<'_> {
    fn write_all(&mut self, data: &[u8]) -> SysResult<()> {
        if let Some(errno) = self.sys.failure_of(&format!("append {}", self.path)) {
            return Err(errno);
        }
        let mut files = self.sys.files.borrow_mut();
        files
            .entry(self.path.clone())
            .or_default()
            .extend_from_slice(data);
        Ok(())
    }
}
