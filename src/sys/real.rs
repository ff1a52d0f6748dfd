//! The real system: each method is one call into the modules beside it.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;
use core::net::SocketAddr;
use core::time::Duration;

use rustix::fd::OwnedFd;
use rustix::time::{clock_gettime, ClockId};

use super::events::Hub;
use super::{
    clear, console, dm, filewrite, fsops, kmod, loopdev, mounts, net, power, process, shell,
    switch_root, EmergencyAction, Errno, FileKind, FileSink, MountFlags, Stream, SwitchError, Sys,
    SysEvent, SysResult,
};

/// The kernel, as PID 1 sees it.
pub struct RealSys {
    /// The monotonic clock when the init started.
    started: Duration,
    /// Open loop devices: each must stay open until a mount holds it. They
    /// are `O_CLOEXEC`, so the real init never sees them.
    loops: RefCell<Vec<OwnedFd>>,
    /// Uevents and background module loads.
    hub: RefCell<Hub>,
    /// Open DHCP client sockets.
    dhcp: RefCell<super::dhcp_socket::DhcpSockets>,
    /// Open ARP sockets (duplicate-address probe, gateway check).
    arp: RefCell<super::arp_socket::ArpSockets>,
    /// Children hashing a download beside it.
    digests: RefCell<super::handles::Handles<super::digest_child::Digesting>>,
}

impl RealSys {
    pub fn new() -> RealSys {
        RealSys {
            started: monotonic(),
            loops: RefCell::new(Vec::new()),
            hub: RefCell::new(Hub::default()),
            dhcp: RefCell::default(),
            arp: RefCell::default(),
            digests: RefCell::default(),
        }
    }
}

impl Default for RealSys {
    fn default() -> Self {
        RealSys::new()
    }
}

impl Sys for RealSys {
    fn mount(
        &self,
        source: &str,
        target: &str,
        fstype: Option<&str>,
        flags: MountFlags,
        data: &str,
    ) -> SysResult<()> {
        mounts::mount(source, target, fstype, flags, data)
    }

    fn detach(&self, target: &str) -> SysResult<()> {
        mounts::detach(target)
    }

    fn unmount(&self, target: &str) -> SysResult<()> {
        mounts::unmount(target)
    }

    fn remount(&self, target: &str, data: &str) -> SysResult<()> {
        mounts::remount(target, data)
    }

    fn mkdir_all(&self, path: &str) -> SysResult<()> {
        fsops::mkdir_all(path)
    }

    fn symlink(&self, target: &str, link: &str) -> SysResult<()> {
        fsops::symlink(target, link)
    }

    fn read_file(&self, path: &str) -> SysResult<Vec<u8>> {
        fsops::read_file(path)
    }

    fn read_head(&self, path: &str, len: usize) -> SysResult<Vec<u8>> {
        fsops::read_head(path, len)
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> SysResult<Vec<u8>> {
        fsops::read_at(path, offset, len)
    }

    fn write_file(&self, path: &str, data: &[u8]) -> SysResult<()> {
        fsops::write_file(path, data)
    }

    fn file_size(&self, path: &str) -> SysResult<u64> {
        fsops::file_size(path)
    }

    fn file_data_bytes(&self, path: &str) -> SysResult<u64> {
        fsops::file_data_bytes(path)
    }

    fn read_dir(&self, path: &str) -> SysResult<Vec<String>> {
        fsops::read_dir(path)
    }

    fn file_kind(&self, path: &str) -> Option<FileKind> {
        fsops::file_kind(path)
    }

    fn file_kind_beneath(&self, root: &str, path: &str) -> SysResult<FileKind> {
        fsops::file_kind_beneath(root, path)
    }

    fn is_executable_in(&self, root: &str, path: &str) -> bool {
        fsops::is_executable_in(root, path)
    }

    fn attach_loop(&self, backing: &str, read_only: bool) -> SysResult<String> {
        let (path, fd) = loopdev::attach(backing, read_only)?;
        self.loops.borrow_mut().push(fd);
        Ok(path)
    }

    fn clear_dir(&self, path: &str) -> SysResult<()> {
        clear::clear_dir(path)
    }

    fn zero_start(&self, path: &str, bytes: u64) -> SysResult<()> {
        clear::zero_start(path, bytes)
    }

    fn create_sparse(&self, path: &str, bytes: u64) -> SysResult<()> {
        fsops::create_sparse(path, bytes)
    }

    fn remove_file(&self, path: &str) -> SysResult<()> {
        rustix::fs::unlink(path)
    }

    fn set_mode(&self, path: &str, mode: u32) -> SysResult<()> {
        rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(mode))
    }

    fn copy_sparse(
        &self,
        from: &str,
        to: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> SysResult<u64> {
        fsops::copy_sparse(from, to, progress)
    }

    fn dm_create(
        &self,
        name: &str,
        read_only: bool,
        sectors: u64,
        target: &str,
        params: &str,
    ) -> SysResult<String> {
        let table = [dm::Target {
            start: 0,
            sectors,
            kind: target,
            params,
        }];
        dm::create(name, read_only, &table).map(|created| created.node)
    }

    fn dm_message(&self, name: &str, text: &str) -> SysResult<()> {
        dm::message(name, 0, text)
    }

    fn dm_status(&self, name: &str) -> SysResult<String> {
        dm::status(name)
    }

    fn fs_usage(&self, path: &str) -> SysResult<(u64, u64)> {
        fsops::fs_usage(path)
    }

    fn load_module(&self, path: &str) -> SysResult<()> {
        kmod::load(path)
    }

    fn start_module_load(&self, path: &str, background: bool) {
        self.hub.borrow_mut().start_module_load(path, background);
    }

    fn start_probe(&self, node: &str, device_bytes: u64, sector_size: u32) {
        self.hub
            .borrow_mut()
            .start_probe(node, device_bytes, sector_size);
    }

    fn listen_uevents(&self) -> SysResult<()> {
        self.hub.borrow_mut().listen_uevents()
    }

    fn stop_uevents(&self) {
        self.hub.borrow_mut().stop_uevents();
    }

    fn wait_events(&self, timeout: Duration) -> Vec<SysEvent> {
        self.hub.borrow_mut().wait(timeout)
    }

    fn now(&self) -> Duration {
        monotonic().saturating_sub(self.started)
    }

    fn sleep(&self, duration: Duration) {
        let mut left = timespec(duration);
        // Interrupted by a signal: sleep on for what is left.
        while let rustix::thread::NanosleepRelativeResult::Interrupted(rest) =
            rustix::thread::nanosleep(&left)
        {
            left = rest;
        }
    }

    fn switch_root(&self, new_root: &str) -> Result<(), SwitchError> {
        switch_root::switch_root(new_root)
    }

    fn exec(&self, path: &str, args: &[String]) -> Errno {
        // argv[0] is the path, as a shell would pass it.
        let argv: Vec<&str> = core::iter::once(path)
            .chain(args.iter().map(String::as_str))
            .collect();
        process::exec(path, &argv)
    }

    fn attach_console(&self) {
        console::attach_console();
        crate::logger::attach_kmsg();
    }

    fn console(&self, text: &str) {
        super::kmsg::write_console(text.as_bytes());
    }

    fn run_shell(&self, path: &str, note: &str) -> SysResult<i32> {
        shell::run_shell(path, note)
    }

    fn power(&self, action: EmergencyAction) -> Errno {
        power::power(action)
    }

    fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        net::resolve(host, port)
    }

    fn connect(&self, addr: SocketAddr, timeout: Duration) -> SysResult<Box<dyn Stream + '_>> {
        Ok(Box::new(net::connect_timeout(addr, timeout)?))
    }

    #[cfg(feature = "https")]
    fn start_tls<'a>(
        &'a self,
        stream: Box<dyn Stream + 'a>,
        host: &str,
        verify: bool,
        timeout: Duration,
    ) -> Result<Box<dyn Stream + 'a>, super::tls_failure::TlsFailure> {
        super::tls::start_tls(stream, host, verify, timeout)
    }

    fn console_keys(&self) -> Option<Box<dyn super::ConsoleKeys + '_>> {
        let keys = super::keys::TermKeys::start()?;
        Some(Box::new(keys))
    }

    fn open_writer(&self, path: &str, append: bool) -> SysResult<Box<dyn FileSink + '_>> {
        Ok(Box::new(filewrite::open_writer(path, append)?))
    }

    fn rename(&self, from: &str, to: &str) -> SysResult<()> {
        filewrite::rename(from, to)
    }

    fn net_links(&self) -> SysResult<Vec<super::NetLink>> {
        super::rtnl::links()
    }

    fn net_set_link(&self, index: u32, change: &super::LinkChange) -> SysResult<()> {
        super::rtnl::set_link(index, change)
    }

    fn net_add_vlan(&self, name: &str, parent: u32, id: u16) -> SysResult<()> {
        super::rtnl::add_vlan(name, parent, id)
    }

    fn net_add_address(&self, index: u32, addr: &super::AddrSpec) -> SysResult<()> {
        super::rtnl::add_address(index, addr)
    }

    fn net_add_route(&self, route: &super::RouteSpec) -> SysResult<()> {
        super::rtnl::add_route(route)
    }

    fn dhcp_open(&self, ifname: &str) -> SysResult<u32> {
        self.dhcp.borrow_mut().open(ifname)
    }

    fn dhcp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        self.dhcp.borrow().send(handle, packet)
    }

    fn dhcp_recv(&self, handles: &[u32], timeout: Duration) -> Vec<(u32, Vec<u8>)> {
        self.dhcp.borrow().recv(handles, timeout)
    }

    fn dhcp_close(&self, handle: u32) {
        self.dhcp.borrow_mut().close(handle);
    }

    fn arp_open(&self, index: u32) -> SysResult<u32> {
        self.arp.borrow_mut().open(index)
    }

    fn arp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()> {
        self.arp.borrow().send(handle, packet)
    }

    fn arp_recv(&self, handle: u32, timeout: Duration) -> Vec<Vec<u8>> {
        self.arp.borrow().recv(handle, timeout)
    }

    fn arp_close(&self, handle: u32) {
        self.arp.borrow_mut().close(handle);
    }

    fn digest_start(&self, path: &str, after_last_byte: bool) -> SysResult<Option<u32>> {
        let child = super::digest_child::start(path, after_last_byte)?;
        self.digests.borrow_mut().insert(child).map(Some)
    }

    fn digest_grown(&self, handle: u32, len: u64) {
        if let Ok(child) = self.digests.borrow().get(handle) {
            child.grown(len);
        }
    }

    fn digest_wait(
        &self,
        handle: u32,
        len: u64,
        timeout: Duration,
    ) -> SysResult<super::DigestState> {
        self.digests
            .borrow_mut()
            .get_mut(handle)?
            .wait(len, timeout)
    }

    fn digest_stop(&self, handle: u32) {
        self.digests.borrow_mut().close(handle);
    }
}

fn monotonic() -> Duration {
    let now = clock_gettime(ClockId::Monotonic);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

fn timespec(d: Duration) -> rustix::time::Timespec {
    rustix::time::Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}
