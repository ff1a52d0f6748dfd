//! What the boot waits on: the kernel's device events, and module loads and
//! device probes running in child processes. One `poll` over the uevent
//! socket, every loading child's pidfd and every probing child's pipe is
//! the boot's single bounded wait: it wakes the moment any of them has
//! news, with no thread and no busy polling.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::vec::Vec;
use core::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use rustix::process::Pid;

use super::child;
use super::module_child::{self, Loading, Started};
use super::netlink_uevents::UeventSocket;
use super::probe_child::{self, Probing};
use super::{SysEvent, SysResult};

#[derive(Default)]
pub struct Hub {
    uevents: Option<UeventSocket>,
    loading: Vec<Loading>,
    probing: Vec<Probing>,
    /// Probing children that have sent their answer, not reaped yet.
    exiting: Vec<Pid>,
    /// Events that happened without a wait (a load that ran inline).
    ready: Vec<SysEvent>,
}

impl Hub {
    pub fn listen_uevents(&mut self) -> SysResult<()> {
        if self.uevents.is_none() {
            self.uevents = Some(UeventSocket::open()?);
        }
        Ok(())
    }

    /// Closes the socket; events not yet collected are dropped.
    pub fn stop_uevents(&mut self) {
        self.uevents = None;
        self.ready
            .retain(|e| matches!(e, SysEvent::ModuleLoaded { .. } | SysEvent::Probed { .. }));
    }

    pub fn start_module_load(&mut self, path: &str, background: bool) {
        match module_child::start(path, background) {
            Started::Child(loading) => self.loading.push(loading),
            Started::Done(result) => self.ready.push(SysEvent::ModuleLoaded {
                path: path.into(),
                result,
            }),
        }
    }

    pub fn start_probe(&mut self, node: &str, device_bytes: u64, sector_size: u32) {
        match probe_child::start(node, device_bytes, sector_size) {
            probe_child::Started::Child(probing) => self.probing.push(probing),
            probe_child::Started::Failed(e) => self.ready.push(SysEvent::Probed {
                node: node.into(),
                result: Err(e),
            }),
        }
    }

    /// Waits up to `timeout` for something to happen, then returns all
    /// that has (empty on timeout).
    pub fn wait(&mut self, timeout: Duration) -> Vec<SysEvent> {
        self.exiting.retain(|pid| !child::reaped(*pid));
        let mut events = core::mem::take(&mut self.ready);
        let timeout = if events.is_empty() {
            timespec(timeout)
        } else {
            Timespec::default()
        };
        let (socket_ready, exited, answered) = self.poll(&timeout);
        if socket_ready {
            let broken = self.uevents.as_ref().is_some_and(|s| !s.drain(&mut events));
            if broken {
                self.uevents = None;
            }
        }
        for index in exited.into_iter().rev() {
            let Some(outcome) = self.loading.get(index).and_then(Loading::outcome) else {
                continue;
            };
            let loading = self.loading.swap_remove(index);
            events.push(SysEvent::ModuleLoaded {
                path: loading.path,
                result: outcome,
            });
        }
        for index in answered.into_iter().rev() {
            let Some(result) = self.probing.get_mut(index).and_then(Probing::receive) else {
                continue;
            };
            let probing = self.probing.swap_remove(index);
            if !child::reaped(probing.pid()) {
                self.exiting.push(probing.pid());
            }
            events.push(SysEvent::Probed {
                node: probing.node,
                result,
            });
        }
        events
    }

    /// Whether the socket is readable, the indices of loads that ended and
    /// of probes with something to read.
    fn poll(&self, timeout: &Timespec) -> (bool, Vec<usize>, Vec<usize>) {
        let mut fds: Vec<PollFd<'_>> =
            Vec::with_capacity(self.loading.len() + self.probing.len() + 1);
        fds.extend(
            self.loading
                .iter()
                .map(|l| PollFd::from_borrowed_fd(l.fd(), PollFlags::IN)),
        );
        fds.extend(
            self.probing
                .iter()
                .map(|p| PollFd::from_borrowed_fd(p.fd(), PollFlags::IN)),
        );
        if let Some(socket) = &self.uevents {
            fds.push(PollFd::from_borrowed_fd(socket.fd(), PollFlags::IN));
        }
        if fds.is_empty() {
            // Nothing to wait for: just let the time pass.
            let _ = rustix::thread::nanosleep(timeout);
            return (false, Vec::new(), Vec::new());
        }
        if poll(&mut fds, Some(timeout)).is_err() {
            return (false, Vec::new(), Vec::new());
        }
        let fired = |fd: &PollFd<'_>| !fd.revents().is_empty();
        let socket_ready = self.uevents.is_some() && fds.last().is_some_and(fired);
        let exited = fds
            .iter()
            .take(self.loading.len())
            .enumerate()
            .filter(|(_, fd)| fired(fd))
            .map(|(i, _)| i)
            .collect();
        let answered = fds
            .iter()
            .skip(self.loading.len())
            .take(self.probing.len())
            .enumerate()
            .filter(|(_, fd)| fired(fd))
            .map(|(i, _)| i)
            .collect();
        (socket_ready, exited, answered)
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}
