//! A recording fake of [`Sys`] for orchestration tests: an in-memory file
//! tree, a log of every call, scripted failures and a clock that only moves
//! when the code sleeps.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, BTreeSet};
use core::time::Duration;
use std::cell::{Cell, RefCell};

use super::{
    Captured, DigestState, EmergencyAction, Errno, FileKind, FileSink, MountFlags, Stream,
    SwitchError, Sys, SysEvent, SysResult,
};

mod arp;
mod digest;
mod net;
use super::{AddrSpec, LinkChange, NetLink, RouteSpec};

/// A directory (`None`) or a file with its bytes, relative to a mount point.
type Entry = (String, Option<Vec<u8>>);

/// Keys typed on the console: (typed at, bytes).
type TypedKeys = (Duration, Vec<u8>);

/// A probe held up by a stall: (answer at, node, size, sector size).
type StalledProbe = (Option<Duration>, String, u64, u32);

#[derive(Default)]
pub struct FakeSys {
    files: RefCell<BTreeMap<String, Vec<u8>>>,
    dirs: RefCell<BTreeSet<String>>,
    links: RefCell<BTreeMap<String, String>>,
    executables: RefCell<BTreeSet<String>>,
    calls: RefCell<Vec<String>>,
    failures: RefCell<Vec<(String, Errno)>>,
    clock: Cell<Duration>,
    loops: Cell<u32>,
    /// Files that appear once the clock reaches a time (hot-plugged media).
    later: RefCell<Vec<(Duration, String, Vec<u8>)>>,
    /// What a filesystem holds, revealed under its mount point when mounted.
    contents: RefCell<Vec<(String, Vec<Entry>)>>,
    /// Uevents the kernel sends once the clock reaches a time.
    uevents: RefCell<Vec<(Duration, Vec<u8>)>>,
    /// Uevents sent while listening, not yet collected.
    pending: RefCell<Vec<SysEvent>>,
    listening: Cell<bool>,
    uevent_failure: Cell<Option<Errno>>,
    /// Modules whose load was started as a background one.
    background: RefCell<Vec<String>>,
    /// Modules whose load never returns (a driver stuck in its probe).
    hanging: RefCell<BTreeSet<String>>,
    /// Modules whose load takes this long (a driver probing a slow bus).
    slow_loads: RefCell<BTreeMap<String, Duration>>,
    /// Keys typed on the console once the clock reaches a time; `None`
    /// when the console is not a terminal.
    keys: RefCell<Option<Vec<TypedKeys>>>,
    /// Slow loads under way: (returns at, path, result).
    loading: RefCell<Vec<(Duration, String, SysResult<()>)>>,
    /// Devices whose reads stall: until a time, or for ever (`None`).
    stalling: RefCell<BTreeMap<String, Option<Duration>>>,
    /// Probes held up by a stall: (answer at, node, size, sector size).
    stalled: RefCell<Vec<StalledProbe>>,
    /// Everything written with `Sys::console`.
    console: RefCell<String>,
    /// Names, scripted connections and their requests.
    net: net::FakeNet,
    /// Network interfaces, each visible from a time on.
    net_links: RefCell<Vec<(Duration, NetLink)>>,
    /// A DHCP server per interface name: answers a client message or not.
    dhcp_servers: RefCell<BTreeMap<String, DhcpServer>>,
    /// Open DHCP sockets: the interface of each handle.
    dhcp_sockets: RefCell<Vec<String>>,
    /// Replies waiting to be received, by handle.
    dhcp_inbox: RefCell<Vec<(u32, Vec<u8>)>>,
    /// ARP hosts and sockets, links stuck down.
    arp: arp::FakeArp,
    /// Hashes beside a download (`digest.rs`).
    digests: digest::FakeDigests,
}

/// A scripted DHCP server: the reply to a client message, if any.
pub type DhcpServer = Box<dyn Fn(&[u8]) -> Option<Vec<u8>>>;

impl FakeSys {
    pub fn new() -> FakeSys {
        FakeSys::default()
    }

    /// A network interface that shows up once the clock reaches `at`.
    pub fn net_link_at(&self, at: Duration, link: NetLink) -> &Self {
        self.net_links.borrow_mut().push((at, link));
        self
    }

    /// Answers DHCP messages sent on interface `ifname`.
    pub fn dhcp_server(&self, ifname: &str, server: DhcpServer) -> &Self {
        self.dhcp_servers
            .borrow_mut()
            .insert(ifname.to_owned(), server);
        self
    }

    /// Adds a file (and its parent directories).
    pub fn file(&self, path: &str, bytes: &[u8]) -> &Self {
        self.add_parents(path);
        self.files
            .borrow_mut()
            .insert(path.to_owned(), bytes.to_vec());
        self
    }

    /// Adds a file once the fake clock reaches `at`, like a disc that is
    /// inserted, or a USB stick that shows up, during the wait.
    pub fn file_at(&self, at: Duration, path: &str, bytes: &[u8]) -> &Self {
        self.later
            .borrow_mut()
            .push((at, path.to_owned(), bytes.to_vec()));
        self
    }

    /// Makes the kernel send the uevent `message` (netlink format:
    /// `add@/devices/…\0KEY=VALUE\0…`) once the fake clock reaches `at`;
    /// it is delivered only if the code listens then.
    pub fn uevent_at(&self, at: Duration, message: &[u8]) -> &Self {
        self.uevents.borrow_mut().push((at, message.to_vec()));
        self
    }

    /// Makes the load of the module at `path` never finish.
    pub fn hang_module(&self, path: &str) -> &Self {
        self.hanging.borrow_mut().insert(path.to_owned());
        self
    }

    /// Makes the load of the module at `path` return `took` after it starts.
    pub fn slow_module(&self, path: &str, took: Duration) -> &Self {
        self.slow_loads.borrow_mut().insert(path.to_owned(), took);
        self
    }

    /// Makes the console a terminal on which `keys` are typed once the
    /// clock reaches `at`.
    pub fn keys_at(&self, at: Duration, keys: &[u8]) -> &Self {
        self.keys
            .borrow_mut()
            .get_or_insert_with(Vec::new)
            .push((at, keys.to_vec()));
        self
    }

    /// Makes every probe of `node` started before `until` stall until
    /// then (a disc the drive keeps retrying); `None`: for ever.
    pub fn stall_reads(&self, node: &str, until: Option<Duration>) -> &Self {
        self.stalling.borrow_mut().insert(node.to_owned(), until);
        self
    }

    /// Reads `node` as a probing child would, recording each read.
    fn probe_now(&self, node: &str, device_bytes: u64, sector_size: u32) -> SysResult<Captured> {
        let head = self.read_head(node, crate::probe::PROBE_BYTES)?;
        let mut more = |offset: u64, len: usize| {
            self.read_at(node, offset, len)
                .ok()
                .filter(|b| b.len() == len)
        };
        Ok(Captured::take(head, &mut more, device_bytes, sector_size))
    }

    /// The modules loaded at background priority, in order.
    pub fn background_loads(&self) -> Vec<String> {
        self.background.borrow().clone()
    }

    /// Makes `listen_uevents` fail (a kernel without netlink).
    pub fn fail_uevents(&self, errno: Errno) -> &Self {
        self.uevent_failure.set(Some(errno));
        self
    }

    /// Declares what appears under `target` once something is mounted
    /// there: directories (`None`) and files (`Some(bytes)`), relative.
    pub fn on_mount(&self, target: &str, entries: &[(&str, Option<&[u8]>)]) -> &Self {
        let entries = entries
            .iter()
            .map(|(rel, bytes)| ((*rel).to_owned(), bytes.map(<[u8]>::to_vec)))
            .collect();
        self.contents
            .borrow_mut()
            .push((target.to_owned(), entries));
        self
    }

    pub fn dir(&self, path: &str) -> &Self {
        self.add_parents(path);
        self.dirs.borrow_mut().insert(path.to_owned());
        self
    }

    /// Adds a symlink (and its parent directories), as a medium may hold.
    pub fn link(&self, path: &str, target: &str) -> &Self {
        self.add_parents(path);
        self.links
            .borrow_mut()
            .insert(path.to_owned(), target.to_owned());
        self
    }

    /// Resolves the symlinks on the way to `path` as the kernel does (the
    /// last component too if `follow_last`). With `beneath`, a link leading
    /// out of that directory is `EXDEV` (`RESOLVE_BENEATH`).
    fn resolve(&self, path: &str, follow_last: bool, beneath: Option<&str>) -> SysResult<String> {
        let links = self.links.borrow();
        let split = |p: &str| -> Vec<String> {
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_owned)
                .collect()
        };
        let floor = beneath.map_or(0, |root| split(root).len());
        let mut todo = split(path);
        todo.reverse();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                if beneath.is_some() && done.len() <= floor {
                    return Err(Errno::XDEV);
                }
                done.pop();
                continue;
            }
            done.push(part);
            let here = format!("/{}", done.join("/"));
            let Some(target) = links.get(&here).filter(|_| follow_last || !todo.is_empty()) else {
                continue;
            };
            hops += 1;
            if hops > 40 {
                return Err(Errno::LOOP);
            }
            done.pop();
            if target.starts_with('/') {
                if beneath.is_some() {
                    return Err(Errno::XDEV);
                }
                done.clear();
            }
            todo.extend(split(target).into_iter().rev());
        }
        if hops == 0 && beneath.is_none() {
            // No link on the way: the path as given (the fake's `/sys`
            // keeps `..` in its names).
            return Ok(path.to_owned());
        }
        Ok(format!("/{}", done.join("/")))
    }

    /// Marks `path` as executable when resolved inside `root`.
    pub fn executable(&self, root: &str, path: &str) -> &Self {
        self.executables
            .borrow_mut()
            .insert(format!("{root}{path}"));
        self
    }

    /// Makes every call whose record starts with `prefix` fail with `errno`.
    pub fn fail(&self, prefix: &str, errno: Errno) -> &Self {
        self.failures.borrow_mut().push((prefix.to_owned(), errno));
        self
    }

    /// Every call so far, e.g. `mount /dev/sr0 /run/initramfs/live iso9660 ro`.
    /// What was written to the console alone (progress), so far.
    pub fn console_text(&self) -> String {
        self.console.borrow().clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// Calls whose record starts with `prefix`.
    pub fn calls_starting(&self, prefix: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect()
    }

    fn add_parents(&self, path: &str) {
        let mut dirs = self.dirs.borrow_mut();
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            if parent.is_empty() {
                break;
            }
            dirs.insert(parent.to_owned());
            at = parent;
        }
    }

    /// Creating an entry needs its directory, as in the real kernel.
    fn parent_must_exist(&self, path: &str) -> SysResult<()> {
        match path.rsplit_once('/') {
            Some(("", _)) | None => Ok(()),
            Some((parent, _)) if self.dirs.borrow().contains(parent) => Ok(()),
            Some(_) => Err(Errno::NOENT),
        }
    }

    /// Moves the clock to `now` (never back), making due files appear and
    /// due uevents arrive.
    fn advance_to(&self, now: Duration) {
        let now = now.max(self.clock.get());
        self.clock.set(now);
        let due: Vec<_> = {
            let mut later = self.later.borrow_mut();
            let (due, pending) = later.drain(..).partition(|(at, _, _)| *at <= now);
            *later = pending;
            due
        };
        for (_, path, bytes) in due {
            self.file(&path, &bytes);
        }
        let answered: Vec<_> = {
            let mut stalled = self.stalled.borrow_mut();
            let (due, held) = stalled
                .drain(..)
                .partition(|(at, ..)| at.is_some_and(|at| at <= now));
            *stalled = held;
            due
        };
        for (_, node, bytes, sector) in answered {
            let result = self.probe_now(&node, bytes, sector);
            self.pending
                .borrow_mut()
                .push(SysEvent::Probed { node, result });
        }
        let mut sent: Vec<_> = {
            let mut uevents = self.uevents.borrow_mut();
            let (sent, pending) = uevents.drain(..).partition(|(at, _)| *at <= now);
            *uevents = pending;
            sent
        };
        sent.sort_by_key(|(at, _)| *at);
        if self.listening.get() {
            let mut pending = self.pending.borrow_mut();
            pending.extend(sent.into_iter().map(|(_, msg)| SysEvent::Uevent(msg)));
        }
        // After the uevents: a driver's devices are announced before its
        // load returns.
        let returned: Vec<_> = {
            let mut loading = self.loading.borrow_mut();
            let (due, running) = loading.drain(..).partition(|(at, ..)| *at <= now);
            *loading = running;
            due
        };
        let mut pending = self.pending.borrow_mut();
        for (_, path, result) in returned {
            pending.push(SysEvent::ModuleLoaded { path, result });
        }
    }

    /// Records a call and answers with its scripted failure, if any.
    fn record(&self, call: String) -> SysResult<()> {
        let failure = self
            .failures
            .borrow()
            .iter()
            .find(|(prefix, _)| call.starts_with(prefix.as_str()))
            .map(|(_, errno)| *errno);
        self.calls.borrow_mut().push(call);
        failure.map_or(Ok(()), Err)
    }
}

impl Sys for FakeSys {
    fn mount(
        &self,
        source: &str,
        target: &str,
        fstype: Option<&str>,
        flags: MountFlags,
        data: &str,
    ) -> SysResult<()> {
        let mode = match (flags.bind, flags.read_only) {
            (true, _) => "bind",
            (false, true) => "ro",
            (false, false) => "rw",
        };
        let mut call = format!("mount {source} {target} {} {mode}", fstype.unwrap_or("-"));
        if !data.is_empty() {
            call = format!("{call} {data}");
        }
        self.record(call)?;
        if !self.dirs.borrow().contains(target) {
            return Err(Errno::NOENT);
        }
        let revealed: Vec<_> = self
            .contents
            .borrow()
            .iter()
            .filter(|(t, _)| t == target)
            .flat_map(|(_, entries)| entries.clone())
            .collect();
        for (rel, bytes) in revealed {
            let path = format!("{target}/{rel}");
            match bytes {
                Some(bytes) => self.file(&path, &bytes),
                None => self.dir(&path),
            };
        }
        Ok(())
    }

    fn detach(&self, target: &str) -> SysResult<()> {
        self.record(format!("detach {target}"))
    }

    fn unmount(&self, target: &str) -> SysResult<()> {
        self.record(format!("umount {target}"))
    }

    fn remount(&self, target: &str, data: &str) -> SysResult<()> {
        self.record(format!("remount {target} {data}"))
    }

    fn file_size(&self, path: &str) -> SysResult<u64> {
        self.read_file(path).map(|b| b.len() as u64)
    }

    fn console(&self, text: &str) {
        self.console.borrow_mut().push_str(text);
    }

    fn mkdir_all(&self, path: &str) -> SysResult<()> {
        self.record(format!("mkdir {path}"))?;
        self.dir(path);
        Ok(())
    }

    fn symlink(&self, target: &str, link: &str) -> SysResult<()> {
        self.record(format!("symlink {link} {target}"))?;
        self.parent_must_exist(link)?;
        self.links
            .borrow_mut()
            .insert(link.to_owned(), target.to_owned());
        Ok(())
    }

    fn read_file(&self, path: &str) -> SysResult<Vec<u8>> {
        let path = self.resolve(path, true, None)?;
        self.files.borrow().get(&path).cloned().ok_or(Errno::NOENT)
    }

    fn read_head(&self, path: &str, len: usize) -> SysResult<Vec<u8>> {
        self.record(format!("read {path}"))?;
        let mut bytes = self.read_file(path)?;
        bytes.truncate(len);
        Ok(bytes)
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> SysResult<Vec<u8>> {
        self.record(format!("read {path} @{offset}+{len}"))?;
        let path = self.resolve(path, true, None)?;
        let files = self.files.borrow();
        let bytes = files.get(&path).ok_or(Errno::NOENT)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(len).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    fn write_file(&self, path: &str, data: &[u8]) -> SysResult<()> {
        self.record(format!("write {path}"))?;
        self.parent_must_exist(path)?;
        self.file(path, data);
        Ok(())
    }

    fn read_dir(&self, path: &str) -> SysResult<Vec<String>> {
        if !self.dirs.borrow().contains(path) {
            return Err(Errno::NOENT);
        }
        let prefix = format!("{path}/");
        let files = self.files.borrow();
        let dirs = self.dirs.borrow();
        let names: BTreeSet<String> = files
            .keys()
            .chain(dirs.iter())
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('/').next())
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(names.into_iter().collect())
    }

    fn file_kind_beneath(&self, root: &str, path: &str) -> SysResult<FileKind> {
        let resolved = self.resolve(path, true, Some(root))?;
        self.file_kind(&resolved).ok_or(Errno::NOENT)
    }

    fn file_kind(&self, path: &str) -> Option<FileKind> {
        let resolved = self.resolve(path, false, None).ok()?;
        let path = resolved.as_str();
        if self.links.borrow().contains_key(path) {
            Some(FileKind::Symlink)
        } else if self.dirs.borrow().contains(path) {
            Some(FileKind::Dir)
        } else if self.files.borrow().contains_key(path) {
            Some(FileKind::File)
        } else {
            None
        }
    }

    fn is_executable_in(&self, root: &str, path: &str) -> bool {
        self.executables.borrow().contains(&format!("{root}{path}"))
    }

    fn attach_loop(&self, backing: &str, read_only: bool) -> SysResult<String> {
        let mode = if read_only { "ro" } else { "rw" };
        self.record(format!("attach {backing} {mode}"))?;
        let n = self.loops.get();
        self.loops.set(n + 1);
        // 1 MiB devices, so dm tables have a size to read.
        self.file(&format!("/sys/class/block/loop{n}/size"), b"2048\n");
        // The device reads as its backing file (an attached ISO is probed).
        let backing_bytes = self.files.borrow().get(backing).cloned();
        if let Some(bytes) = backing_bytes {
            self.file(&format!("/dev/loop{n}"), &bytes);
        }
        Ok(format!("/dev/loop{n}"))
    }

    fn clear_dir(&self, path: &str) -> SysResult<()> {
        self.record(format!("clear {path}"))?;
        let prefix = format!("{path}/");
        self.files
            .borrow_mut()
            .retain(|p, _| !p.starts_with(&prefix));
        self.dirs.borrow_mut().retain(|p| !p.starts_with(&prefix));
        Ok(())
    }

    fn zero_start(&self, path: &str, bytes: u64) -> SysResult<()> {
        self.record(format!("zero {path} {bytes}"))?;
        let mut files = self.files.borrow_mut();
        let file = files.get_mut(path).ok_or(Errno::NOENT)?;
        let n = usize::try_from(bytes).unwrap_or(usize::MAX).min(file.len());
        file[..n].fill(0);
        Ok(())
    }

    fn create_sparse(&self, path: &str, bytes: u64) -> SysResult<()> {
        self.record(format!("sparse {path} {bytes}"))?;
        self.file(path, &[]);
        Ok(())
    }

    fn remove_file(&self, path: &str) -> SysResult<()> {
        self.record(format!("unlink {path}"))?;
        self.files
            .borrow_mut()
            .remove(path)
            .map(drop)
            .ok_or(Errno::NOENT)
    }

    fn set_mode(&self, path: &str, mode: u32) -> SysResult<()> {
        self.record(format!("chmod {path} {mode:o}"))
    }

    fn copy_sparse(
        &self,
        from: &str,
        to: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> SysResult<u64> {
        self.record(format!("copy {from} {to}"))?;
        let bytes = self.read_file(from)?;
        let total = bytes.len() as u64;
        // A copy that takes one second, in a hundred steps.
        for step in 1..=100u64 {
            self.advance_to(self.clock.get() + Duration::from_millis(10));
            progress(total * step / 100, total);
        }
        self.file(to, &bytes);
        Ok(total)
    }

    fn dm_create(
        &self,
        name: &str,
        read_only: bool,
        sectors: u64,
        target: &str,
        params: &str,
    ) -> SysResult<String> {
        let ro = if read_only { " ro" } else { "" };
        self.record(format!(
            "dm create {name}{ro}: 0 {sectors} {target} {params}"
        ))?;
        Ok(format!("/dev/mapper/{name}"))
    }

    fn dm_message(&self, name: &str, text: &str) -> SysResult<()> {
        self.record(format!("dm message {name} {text}"))
    }

    fn dm_status(&self, name: &str) -> SysResult<String> {
        self.record(format!("dm status {name}"))?;
        // A scripted status wins; otherwise a fresh snapshot.
        match self.read_file(&format!("/fake/dm/{name}")) {
            Ok(line) => Ok(String::from_utf8_lossy(&line).into_owned()),
            Err(_) => Ok("16/8192 16".to_owned()),
        }
    }

    fn fs_usage(&self, path: &str) -> SysResult<(u64, u64)> {
        self.record(format!("statvfs {path}"))?;
        Ok((96 << 20, 100 << 20))
    }

    fn load_module(&self, path: &str) -> SysResult<()> {
        self.record(format!("load {path}"))
    }

    /// Loads finish at once; the outcome is collected by the next wait.
    fn start_module_load(&self, path: &str, background: bool) {
        if background {
            self.background.borrow_mut().push(path.to_owned());
        }
        let result = self.record(format!("load {path}"));
        if self.hanging.borrow().contains(path) {
            return;
        }
        if let Some(took) = self.slow_loads.borrow().get(path) {
            let at = self.clock.get() + *took;
            self.loading
                .borrow_mut()
                .push((at, path.to_owned(), result));
            return;
        }
        self.pending.borrow_mut().push(SysEvent::ModuleLoaded {
            path: path.to_owned(),
            result,
        });
    }

    /// Probes answer at once, unless the device's reads stall.
    fn start_probe(&self, node: &str, device_bytes: u64, sector_size: u32) {
        let stall = self.stalling.borrow().get(node).copied();
        let now = self.clock.get();
        match stall {
            Some(until) if until.map_or(true, |until| now < until) => {
                self.stalled
                    .borrow_mut()
                    .push((until, node.to_owned(), device_bytes, sector_size));
            }
            _ => {
                let result = self.probe_now(node, device_bytes, sector_size);
                self.pending.borrow_mut().push(SysEvent::Probed {
                    node: node.to_owned(),
                    result,
                });
            }
        }
    }

    fn listen_uevents(&self) -> SysResult<()> {
        if let Some(errno) = self.uevent_failure.get() {
            return Err(errno);
        }
        self.listening.set(true);
        Ok(())
    }

    fn stop_uevents(&self) {
        self.listening.set(false);
        self.pending
            .borrow_mut()
            .retain(|e| matches!(e, SysEvent::ModuleLoaded { .. } | SysEvent::Probed { .. }));
    }

    /// Returns what is pending at once; else moves the clock to the next
    /// scripted file or uevent, or by `timeout` if that comes first.
    fn wait_events(&self, timeout: Duration) -> Vec<SysEvent> {
        let now = self.clock.get();
        self.advance_to(now);
        if self.pending.borrow().is_empty() {
            let next = self
                .later
                .borrow()
                .iter()
                .map(|(at, _, _)| *at)
                .chain(self.uevents.borrow().iter().map(|(at, _)| *at))
                .chain(self.stalled.borrow().iter().filter_map(|(at, ..)| *at))
                .chain(self.loading.borrow().iter().map(|(at, ..)| *at))
                .filter(|at| *at > now)
                .min();
            let until = now + timeout;
            self.advance_to(next.map_or(until, |next| next.min(until)));
        }
        self.pending.take()
    }

    fn now(&self) -> Duration {
        self.clock.get()
    }

    fn sleep(&self, duration: Duration) {
        self.advance_to(self.clock.get() + duration);
    }

    fn switch_root(&self, new_root: &str) -> Result<(), SwitchError> {
        self.record(format!("switch_root {new_root}"))
            .map_err(|errno| SwitchError {
                step: "move mount",
                path: "/run".to_owned(),
                errno,
            })
    }

    fn exec(&self, path: &str, args: &[String]) -> Errno {
        let _ = self.record(format!("exec {path} {}", args.join(" ")));
        Errno::NOEXEC
    }

    fn attach_console(&self) {
        let _ = self.record("console".to_owned());
    }

    fn run_shell(&self, path: &str, note: &str) -> SysResult<i32> {
        self.record(format!("shell {path} ({note})"))?;
        Ok(0)
    }

    fn power(&self, action: EmergencyAction) -> Errno {
        let _ = self.record(format!("power {}", action.name()));
        Errno::PERM
    }

    fn resolve(&self, host: &str, port: u16) -> Result<Vec<core::net::SocketAddr>, String> {
        self.fake_resolve(host, port)
    }

    fn connect(
        &self,
        addr: core::net::SocketAddr,
        timeout: Duration,
    ) -> SysResult<Box<dyn Stream + '_>> {
        self.fake_connect(addr, timeout)
    }

    fn console_keys(&self) -> Option<Box<dyn super::ConsoleKeys + '_>> {
        self.keys.borrow().as_ref()?;
        let _ = self.record("console keys on".to_owned());
        Some(Box::new(FakeKeys { sys: self }))
    }

    fn open_writer(&self, path: &str, append: bool) -> SysResult<Box<dyn FileSink + '_>> {
        self.fake_open_writer(path, append)
    }

    fn rename(&self, from: &str, to: &str) -> SysResult<()> {
        self.fake_rename(from, to)
    }

    fn net_links(&self) -> SysResult<Vec<NetLink>> {
        self.record("net links".to_owned())?;
        let now = self.clock.get();
        Ok(self
            .net_links
            .borrow()
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, l)| NetLink {
                carrier: l.carrier && l.up,
                ..l.clone()
            })
            .collect())
    }

    fn net_set_link(&self, index: u32, change: &LinkChange) -> SysResult<()> {
        let mut what = Vec::new();
        if let Some(n) = &change.name {
            what.push(format!("name {n}"));
        }
        if let Some(m) = change.mtu {
            what.push(format!("mtu {m}"));
        }
        if let Some(m) = change.mac {
            what.push(format!("mac {}", crate::net::addr::mac_text(&m)));
        }
        if let Some(up) = change.up {
            what.push(String::from(if up { "up" } else { "down" }));
        }
        self.record(format!("net set {index} {}", what.join(" ")))?;
        for (_, l) in self
            .net_links
            .borrow_mut()
            .iter_mut()
            .filter(|(_, l)| l.index == index)
        {
            if let Some(n) = &change.name {
                l.name = n.clone();
            }
            if let Some(m) = change.mtu {
                l.mtu = m;
            }
            if let Some(m) = change.mac {
                l.mac = m.to_vec();
            }
            if let Some(up) = change.up {
                l.up = up && !self.link_is_stuck(index);
            }
        }
        Ok(())
    }

    fn net_add_vlan(&self, name: &str, parent: u32, id: u16) -> SysResult<()> {
        self.record(format!("net vlan {name} {parent} {id}"))?;
        // The VLAN device: its parent's MAC and carrier, the next index.
        let mut links = self.net_links.borrow_mut();
        let index = links.iter().map(|(_, l)| l.index).max().unwrap_or(0) + 1;
        let Some(p) = links
            .iter()
            .find(|(_, l)| l.index == parent)
            .map(|(_, l)| l.clone())
        else {
            return Err(Errno::NODEV);
        };
        links.push((
            Duration::ZERO,
            NetLink {
                index,
                name: name.to_owned(),
                up: false,
                ..p
            },
        ));
        Ok(())
    }

    fn net_add_address(&self, index: u32, addr: &AddrSpec) -> SysResult<()> {
        self.record(format!(
            "net addr {index} {}/{}{}",
            addr.address,
            addr.prefix,
            addr.lifetime_secs
                .map_or(String::new(), |s| format!(" lft {s}"))
        ))
    }

    fn net_add_route(&self, route: &RouteSpec) -> SysResult<()> {
        self.record(format!(
            "net route {}{}",
            super::describe_route(route),
            route.index.map_or(String::new(), |i| format!(" dev {i}"))
        ))
    }

    fn dhcp_open(&self, ifname: &str) -> SysResult<u32> {
        self.record(format!("dhcp open {ifname}"))?;
        let mut socks = self.dhcp_sockets.borrow_mut();
        socks.push(ifname.to_owned());
        u32::try_from(socks.len() - 1).map_err(|_| Errno::MFILE)
    }

    fn dhcp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        let ifname = self
            .dhcp_sockets
            .borrow()
            .get(usize::try_from(handle).unwrap_or(usize::MAX))
            .cloned()
            .ok_or(Errno::BADF)?;
        let kind = packet
            .windows(3)
            .skip(240)
            .find(|w| w[0] == 53 && w[1] == 1)
            .map_or(0, |w| w[2]);
        self.record(format!("dhcp send {ifname} {kind}"))?;
        if let Some(reply) = self
            .dhcp_servers
            .borrow()
            .get(&ifname)
            .and_then(|server| server(packet))
        {
            self.dhcp_inbox.borrow_mut().push((handle, reply));
        }
        Ok(())
    }

    fn dhcp_recv(&self, handles: &[u32], timeout: Duration) -> Vec<(u32, Vec<u8>)> {
        let mut inbox = self.dhcp_inbox.borrow_mut();
        let (mine, rest): (Vec<_>, Vec<_>) =
            inbox.drain(..).partition(|(h, _)| handles.contains(h));
        *inbox = rest;
        if mine.is_empty() {
            self.advance_to(self.clock.get() + timeout);
        }
        mine
    }

    fn dhcp_close(&self, handle: u32) {
        let _ = self.record(format!("dhcp close {handle}"));
    }

    fn arp_open(&self, index: u32) -> SysResult<u32> {
        self.fake_arp_open(index)
    }

    fn arp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        self.fake_arp_send(handle, packet)
    }

    fn arp_recv(&self, handle: u32, timeout: Duration) -> Vec<Vec<u8>> {
        self.fake_arp_recv(handle, timeout)
    }

    fn arp_close(&self, handle: u32) {
        let _ = self.record(format!("arp close {handle}"));
    }

    fn digest_start(&self, path: &str, after_last_byte: bool) -> SysResult<Option<u32>> {
        self.fake_digest_start(path, after_last_byte)
    }

    fn digest_grown(&self, _handle: u32, _len: u64) {}

    fn digest_wait(&self, handle: u32, len: u64, timeout: Duration) -> SysResult<DigestState> {
        self.fake_digest_wait(handle, len, timeout)
    }

    fn digest_stop(&self, handle: u32) {
        self.fake_digest_stop(handle);
    }
}

/// The fake console as a keyboard: hands out the keys typed by now.
struct FakeKeys<'a> {
    sys: &'a FakeSys,
}

impl super::ConsoleKeys for FakeKeys<'_> {
    fn read(&mut self) -> Vec<u8> {
        let now = self.sys.clock.get();
        let mut keys = self.sys.keys.borrow_mut();
        let Some(keys) = keys.as_mut() else {
            return Vec::new();
        };
        let (typed, later): (Vec<_>, Vec<_>) = keys.drain(..).partition(|(at, _)| *at <= now);
        *keys = later;
        typed.into_iter().flat_map(|(_, k)| k).collect()
    }
}

impl Drop for FakeKeys<'_> {
    fn drop(&mut self) {
        let _ = self.sys.record("console keys off".to_owned());
    }
}
