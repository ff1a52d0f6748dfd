//! What discovery waits on: the kernel's device events and module loads
//! running in the background. Both feed one channel, so the boot has a
//! single bounded wait (`recv_timeout`) and wakes the moment either
//! happens — no busy polling.
//!
//! - Uevents: a `NETLINK_KOBJECT_UEVENT` socket (CLOEXEC, group 1, a large
//!   receive buffer) read by one thread. Only messages whose sender port is
//!   0 — the kernel — are passed on (kata-agent does the same); anything
//!   else could be forged by any process. The socket has a receive timeout,
//!   so the thread notices [`Hub::stop_uevents`] within [`RECV_SLICE`] and
//!   closes it.
//! - Modules: [`WORKERS`] threads take paths from a queue and call
//!   `finit_module` (which blocks until the module's init has run, bus
//!   probing included), so independent modules load side by side. Which
//!   module may start when is decided by the caller (`kmod::LoadQueue`).
//!   A background load runs at nice 19: the kernel does a module's
//!   relocation, signature check and init in the loading thread, so on a
//!   machine with one CPU the drivers the boot waits for are not slowed
//!   down by filesystems it may never mount.
//!
//! Threads are started with `Builder::spawn`, which reports failure instead
//! of panicking; if none can be started, work is done on the calling
//! thread. The threads hold no fds that outlive them and end with the
//! process at `exec`.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::sockopt::{self, Timeout};
use rustix::net::{self as rnet, AddressFamily, RecvFlags, SocketFlags, SocketType};

use super::{kmod, SysEvent, SysResult};

/// Module loads that may run at once (`boot::modules` starts no more).
pub const WORKERS: usize = 4;
/// How long the reader blocks in `recvfrom` before looking at its stop flag.
const RECV_SLICE: Duration = Duration::from_millis(250);
/// Kernel uevent messages are at most a few KiB (`UEVENT_BUFFER_SIZE` is 2 KiB
/// of environment plus the header).
const MESSAGE_BYTES: usize = 8192;
/// Receive buffer, as nlplug-findfs sizes it: bursts of coldplug-time
/// events must not overflow it.
const RECV_BUFFER: usize = 4 << 20;
/// The nice value of background loads: the lowest CPU priority.
const BACKGROUND_NICE: i32 = 19;
/// Small stacks: the threads only make syscalls.
const STACK: usize = 128 * 1024;
/// Events handed out by one wait at most (the rest wait for the next).
const BATCH: usize = 512;

/// A module to load, and whether at the lowest CPU priority.
struct Job {
    path: String,
    background: bool,
}

/// The channel and the threads feeding it.
pub struct Hub {
    tx: Sender<SysEvent>,
    rx: Receiver<SysEvent>,
    /// Set while a listener runs; storing `true` tells it to stop.
    stop: Option<Arc<AtomicBool>>,
    /// Feeds the module workers, once started.
    jobs: Option<Sender<Job>>,
    /// No worker could be started: load on the calling thread.
    inline_loads: bool,
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, rx) = mpsc::channel();
        Hub {
            tx,
            rx,
            stop: None,
            jobs: None,
            inline_loads: false,
        }
    }

    /// Opens and binds the socket, then starts its reader.
    pub fn listen_uevents(&mut self) -> SysResult<()> {
        if self.stop.is_some() {
            return Ok(());
        }
        let socket = open_socket()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, tx) = (Arc::clone(&stop), self.tx.clone());
        thread::Builder::new()
            .name("uevents".into())
            .stack_size(STACK)
            .spawn(move || read_uevents(&socket, &flag, &tx))
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::AGAIN))?;
        self.stop = Some(stop);
        Ok(())
    }

    pub fn stop_uevents(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }

    pub fn start_module_load(&mut self, path: &str, background: bool) {
        if self.jobs.is_none() && !self.inline_loads {
            self.start_workers();
        }
        let job = Job {
            path: path.to_owned(),
            background,
        };
        let queued = match &self.jobs {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !queued {
            let result = kmod::load(path);
            let _ = self.tx.send(SysEvent::ModuleLoaded {
                path: path.to_owned(),
                result,
            });
        }
    }

    fn start_workers(&mut self) {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for n in 0..WORKERS {
            let (queue, tx) = (Arc::clone(&queue), self.tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("modules{n}"))
                .stack_size(STACK)
                .spawn(move || load_modules(&queue, &tx));
            if spawned.is_ok() {
                started += 1;
            }
        }
        if started == 0 {
            self.inline_loads = true;
        } else {
            self.jobs = Some(jobs);
        }
    }

    /// Waits up to `timeout` for the first event, then takes what else is
    /// already there.
    pub fn wait(&self, timeout: Duration) -> Vec<SysEvent> {
        let first = match self.rx.recv_timeout(timeout) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Vec::new(),
        };
        let mut events = vec![first];
        while events.len() < BATCH {
            match self.rx.try_recv() {
                Ok(event) => events.push(event),
                Err(_) => break,
            }
        }
        let listening = self.stop.is_some();
        events.retain(|e| listening || matches!(e, SysEvent::ModuleLoaded { .. }));
        events
    }
}

/// A CLOEXEC netlink uevent socket bound to the kernel's multicast group.
fn open_socket() -> SysResult<OwnedFd> {
    let socket = rnet::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(netlink::KOBJECT_UEVENT),
    )?;
    // Forcing the size needs CAP_NET_ADMIN, which PID 1 has; else the
    // plain call is capped at rmem_max, which still beats the default.
    if sockopt::set_socket_recv_buffer_size_force(&socket, RECV_BUFFER).is_err() {
        let _ = sockopt::set_socket_recv_buffer_size(&socket, RECV_BUFFER);
    }
    sockopt::set_socket_timeout(&socket, Timeout::Recv, Some(RECV_SLICE))?;
    rnet::bind(&socket, &SocketAddrNetlink::new(0, 1))?;
    Ok(socket)
}

/// The reader thread: forwards the kernel's messages until told to stop.
fn read_uevents(socket: &OwnedFd, stop: &AtomicBool, tx: &Sender<SysEvent>) {
    let mut buf = vec![0u8; MESSAGE_BYTES];
    while !stop.load(Ordering::Relaxed) {
        let event = match rnet::recvfrom(socket, buf.as_mut_slice(), RecvFlags::empty()) {
            Ok((len, _, from)) => {
                let from_kernel = from
                    .and_then(|addr| SocketAddrNetlink::try_from(addr).ok())
                    .is_some_and(|addr| addr.pid() == 0);
                match buf.get(..len) {
                    Some(msg) if from_kernel && len > 0 => SysEvent::Uevent(msg.to_vec()),
                    _ => continue,
                }
            }
            Err(Errno::AGAIN | Errno::INTR) => continue,
            Err(Errno::NOBUFS) => SysEvent::UeventsLost,
            Err(_) => {
                // The socket is unusable: say events may be missing, and
                // stop; the boot falls back to looking at /sys.
                let _ = tx.send(SysEvent::UeventsLost);
                return;
            }
        };
        if tx.send(event).is_err() {
            return;
        }
    }
}

/// A worker thread: loads modules until the queue is gone.
fn load_modules(queue: &Mutex<Receiver<Job>>, tx: &Sender<SysEvent>) {
    let mut nice = 0;
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(Job { path, background }) = job else {
            return;
        };
        // `finit_module` runs in this thread: its CPU time (relocation,
        // signature check, the module's init) is charged at this thread's
        // priority. On Linux `who = 0` is the calling thread, not the
        // whole process; going back to 0 needs CAP_SYS_NICE, which PID 1
        // has (if it fails, the load just runs at the lower priority).
        let wanted = if background { BACKGROUND_NICE } else { 0 };
        if wanted != nice && rustix::process::setpriority_process(None, wanted).is_ok() {
            nice = wanted;
        }
        let result = kmod::load(&path);
        if tx.send(SysEvent::ModuleLoaded { path, result }).is_err() {
            return;
        }
    }
}
