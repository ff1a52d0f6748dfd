//! The real system: each method is one call into the modules beside it.

use std::cell::RefCell;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use super::uevent::Hub;
use super::{
    console, dm, fsops, kmod, loopdev, mounts, power, shell, switch_root, EmergencyAction, Errno,
    FileKind, MountFlags, SwitchError, Sys, SysEvent, SysResult,
};

/// The kernel, as PID 1 sees it.
pub struct RealSys {
    started: Instant,
    /// Open loop devices: each must stay open until a mount holds it. They
    /// are `O_CLOEXEC`, so the real init never sees them.
    loops: RefCell<Vec<OwnedFd>>,
    /// Uevents and background module loads.
    hub: RefCell<Hub>,
}

impl RealSys {
    pub fn new() -> RealSys {
        RealSys {
            started: Instant::now(),
            loops: RefCell::new(Vec::new()),
            hub: RefCell::new(Hub::new()),
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
        read_at(path, offset, len)
    }

    fn write_file(&self, path: &str, data: &[u8]) -> SysResult<()> {
        fsops::write_file(path, data)
    }

    fn read_dir(&self, path: &str) -> SysResult<Vec<String>> {
        fsops::read_dir(path)
    }

    fn file_kind(&self, path: &str) -> Option<FileKind> {
        fsops::file_kind(path)
    }

    fn is_executable_in(&self, root: &str, path: &str) -> bool {
        fsops::is_executable_in(root, path)
    }

    fn attach_loop(&self, backing: &str, read_only: bool) -> SysResult<String> {
        let (path, fd) = loopdev::attach(backing, read_only)?;
        self.loops.borrow_mut().push(fd);
        Ok(path)
    }

    fn create_sparse(&self, path: &str, bytes: u64) -> SysResult<()> {
        fsops::create_sparse(path, bytes)
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

    fn listen_uevents(&self) -> SysResult<()> {
        self.hub.borrow_mut().listen_uevents()
    }

    fn stop_uevents(&self) {
        self.hub.borrow_mut().stop_uevents();
    }

    fn wait_events(&self, timeout: Duration) -> Vec<SysEvent> {
        self.hub.borrow().wait(timeout)
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn switch_root(&self, new_root: &str) -> Result<(), SwitchError> {
        switch_root::switch_root(new_root)
    }

    fn exec(&self, path: &str, args: &[String]) -> Errno {
        // std's exec resets SIGPIPE to its default, as a real init expects.
        let error = Command::new(path).args(args).exec();
        fsops::errno(&error)
    }

    fn attach_console(&self) {
        console::attach_console();
        crate::logger::attach_kmsg();
    }

    fn run_shell(&self, path: &str, note: &str) -> SysResult<i32> {
        shell::run_shell(path, note)
    }

    fn power(&self, action: EmergencyAction) -> Errno {
        power::power(action)
    }
}

/// `pread` until `len` bytes or the end of the file (std opens with CLOEXEC).
fn read_at(path: &str, offset: u64, len: usize) -> SysResult<Vec<u8>> {
    let file = File::open(path).map_err(|e| fsops::errno(&e))?;
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        let at = offset.saturating_add(filled as u64);
        match file.read_at(rest, at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fsops::errno(&e)),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}
