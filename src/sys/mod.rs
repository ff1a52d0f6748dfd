//! The system seam: every syscall the init makes goes through [`Sys`].
//!
//! [`RealSys`] talks to the kernel (rustix; `unsafe` only in this folder,
//! each block with a `// SAFETY:` line). The recording fake in `fake.rs`
//! lets the orchestration and its failure paths run as ordinary unit tests.

#[allow(unused_imports)]
use crate::prelude::*;

mod allocator;
mod arp_socket;
mod child;
mod clear;
mod console;
mod dhcp_socket;
mod digest_child;
mod dm;
mod errno;
mod events;
mod filewrite;
mod fsops;
mod handles;
mod keys;
mod kmod;
pub mod kmsg;
mod loopdev;
mod module_child;
mod mounts;
mod net;
mod netlink_uevents;
mod power;
mod probe_child;
mod process;
mod real;
mod rtnl;
mod shell;
pub mod stdio;
mod stream;
mod switch_root;
#[cfg(feature = "https")]
pub mod tls;
pub mod tls_failure;

#[cfg(test)]
pub mod fake;

use core::net::SocketAddr;
use core::time::Duration;

pub use crate::plan::MountFlags;
pub use crate::policy::EmergencyAction;
pub use crate::probe::capture::Captured;
pub use allocator::LibcAlloc;
pub use errno::errno_text;
pub use fsops::{read_file, root_is_initramfs};
pub use keys::ConsoleKeys;
pub use real::RealSys;
pub use rtnl::{describe_route, AddrSpec, LinkChange, NetLink, RouteSpec};
pub use rustix::io::Errno;
pub use stream::{FileSink, Stream};

/// The result of one system call (or a short fixed sequence of them).
pub type SysResult<T> = Result<T, Errno>;

/// What `lstat` says a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    Other,
}

/// Why the switch to the new root failed, naming the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchError {
    pub step: &'static str,
    pub path: String,
    pub errno: Errno,
}

/// Something that happened in the background, reported by [`Sys::wait_events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysEvent {
    /// A device event from the kernel (a netlink `KOBJECT_UEVENT` message
    /// whose sender is the kernel), raw, for `uevent::Uevent::from_netlink`.
    Uevent(Vec<u8>),
    /// The receive buffer overflowed: events were lost, look at `/sys` again.
    UeventsLost,
    /// A load started by [`Sys::start_module_load`] finished (`EEXIST`
    /// counts as success).
    ModuleLoaded { path: String, result: SysResult<()> },
    /// A probe started by [`Sys::start_probe`] has what it read of `node`
    /// (or why it could not read it).
    Probed {
        node: String,
        result: SysResult<Captured>,
    },
}

/// Every operation the boot performs on the system.
pub trait Sys {
    /// `mount(2)`; `fstype` is `None` for bind mounts.
    fn mount(
        &self,
        source: &str,
        target: &str,
        fstype: Option<&str>,
        flags: MountFlags,
        data: &str,
    ) -> SysResult<()>;
    /// Lazy unmount (`MNT_DETACH`).
    fn detach(&self, target: &str) -> SysResult<()>;
    /// Plain unmount: fails with `EBUSY` while anything uses the mount.
    fn unmount(&self, target: &str) -> SysResult<()>;
    /// Remounts `target` with new filesystem options (e.g. a tmpfs `size=`).
    fn remount(&self, target: &str, data: &str) -> SysResult<()>;
    /// `mkdir -p` with mode 0755.
    fn mkdir_all(&self, path: &str) -> SysResult<()>;
    fn symlink(&self, target: &str, link: &str) -> SysResult<()>;
    fn read_file(&self, path: &str) -> SysResult<Vec<u8>>;
    /// Up to `len` bytes from the start of a file or device.
    fn read_head(&self, path: &str, len: usize) -> SysResult<Vec<u8>>;
    /// Up to `len` bytes at byte `offset` of a file or device (fewer only
    /// at its end).
    fn read_at(&self, path: &str, offset: u64, len: usize) -> SysResult<Vec<u8>>;
    fn write_file(&self, path: &str, data: &[u8]) -> SysResult<()>;
    /// The size in bytes of a file (`stat`, following symlinks).
    fn file_size(&self, path: &str) -> SysResult<u64>;
    /// The bytes of data a file holds: its size less its holes (blocks
    /// allocated, at most its size), what a sparse copy of it takes.
    fn file_data_bytes(&self, path: &str) -> SysResult<u64> {
        self.file_size(path)
    }
    /// Entry names of a directory, sorted.
    fn read_dir(&self, path: &str) -> SysResult<Vec<String>>;
    /// `lstat`: what the path itself is (symlinks are not followed).
    fn file_kind(&self, path: &str) -> Option<FileKind>;
    /// What `path` (under the mount point `root`) is, following symlinks
    /// only while they stay beneath `root`: one that leads out of it (an
    /// absolute target, or too many `..`) is `EXDEV`, so that nothing on a
    /// medium can point the boot at a file of the initramfs or another
    /// device (`openat2` with `RESOLVE_BENEATH`).
    fn file_kind_beneath(&self, root: &str, path: &str) -> SysResult<FileKind>;
    /// Whether `path`, resolved with `root` as `/` (absolute symlinks stay
    /// inside it), is an executable regular file.
    fn is_executable_in(&self, root: &str, path: &str) -> bool;

    /// Attaches `backing` to a free loop device (autoclear) and returns the
    /// device node. The device stays attached while the init runs, and is
    /// released by the kernel once nothing uses it.
    fn attach_loop(&self, backing: &str, read_only: bool) -> SysResult<String>;
    /// Removes everything inside the directory `path` (not `path` itself),
    /// never leaving its filesystem.
    fn clear_dir(&self, path: &str) -> SysResult<()>;
    /// Overwrites the first `bytes` of the existing file `path` with zeros
    /// (never past its end) and syncs it.
    fn zero_start(&self, path: &str, bytes: u64) -> SysResult<()>;
    /// Creates a sparse file of `bytes` apparent size (fails if it exists).
    fn create_sparse(&self, path: &str, bytes: u64) -> SysResult<()>;
    /// `unlink(2)`: a file open elsewhere (a loop device's backing) lives on.
    fn remove_file(&self, path: &str) -> SysResult<()>;
    /// `chmod(2)`.
    fn set_mode(&self, path: &str, mode: u32) -> SysResult<()>;
    /// Copies a file, keeping its holes; calls `progress(done, total)` in
    /// bytes as it goes. Returns the bytes copied.
    fn copy_sparse(
        &self,
        from: &str,
        to: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> SysResult<u64>;
    /// Creates and activates a one-target device-mapper device and its
    /// `/dev/mapper/<name>` node (there is no udev); returns the node.
    fn dm_create(
        &self,
        name: &str,
        read_only: bool,
        sectors: u64,
        target: &str,
        params: &str,
    ) -> SysResult<String>;
    /// Sends a message to a device-mapper target (sector 0).
    fn dm_message(&self, name: &str, text: &str) -> SysResult<()>;
    /// The status line of a device-mapper device's target.
    fn dm_status(&self, name: &str) -> SysResult<String>;
    /// Bytes used and in total on the filesystem holding `path` (statvfs).
    fn fs_usage(&self, path: &str) -> SysResult<(u64, u64)>;
    /// `finit_module` of a module file without parameters.
    fn load_module(&self, path: &str) -> SysResult<()>;
    /// Starts a [`Sys::load_module`] in a child process and returns at
    /// once; the outcome arrives as [`SysEvent::ModuleLoaded`]. A load that
    /// never returns holds up nothing but its own child.
    /// A `background` load runs at the lowest CPU priority (nice 19), so it
    /// does not slow down the others on a machine with few CPUs.
    fn start_module_load(&self, path: &str, background: bool);
    /// Starts reading the block device `node` (`device_bytes` long, with
    /// logical sectors of `sector_size` bytes) in a child process: every
    /// read its probes make ([`Captured::take`]), the device opened
    /// non-blocking. Returns at once; the outcome arrives as
    /// [`SysEvent::Probed`]. A read that stalls holds up only that child.
    fn start_probe(&self, node: &str, device_bytes: u64, sector_size: u32);

    /// Subscribes to the kernel's device events (a `NETLINK_KOBJECT_UEVENT`
    /// socket, multicast group 1); from now until [`Sys::stop_uevents`]
    /// they are delivered by [`Sys::wait_events`].
    fn listen_uevents(&self) -> SysResult<()>;
    /// Unsubscribes; events not yet collected are dropped.
    fn stop_uevents(&self);
    /// Waits until something happens in the background (a uevent, a module
    /// load finishing) or `timeout` passes, whichever is first; returns
    /// everything that happened (empty on timeout).
    fn wait_events(&self, timeout: Duration) -> Vec<SysEvent>;

    /// Monotonic time since an arbitrary fixed point.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration);

    /// Moves `/dev`, `/proc`, `/sys` and `/run` into `new_root`, empties the
    /// initramfs and makes `new_root` the root (`MS_MOVE` + `chroot`).
    fn switch_root(&self, new_root: &str) -> Result<(), SwitchError>;
    /// Replaces the init with `path`; returns only on failure.
    fn exec(&self, path: &str, args: &[String]) -> Errno;
    /// Once `/dev` is mounted: makes fds 0–2 the console if the kernel did
    /// not, and starts logging to `/dev/kmsg`.
    fn attach_console(&self);
    /// Writes `text` to the console only (progress that the kernel log
    /// would drown in): `\r` and no newline overwrite the line.
    fn console(&self, text: &str);
    /// Runs an interactive shell on the console and waits for it to exit;
    /// `note` goes into its prompt (why it was started).
    fn run_shell(&self, path: &str, note: &str) -> SysResult<i32>;
    /// Flushes filesystems and powers off, reboots or halts; returns only
    /// if that failed.
    fn power(&self, action: EmergencyAction) -> Errno;

    /// The addresses `host` resolves to (`getaddrinfo`, which reads
    /// `/etc/resolv.conf`), or the resolver's reason.
    fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String>;
    /// A TCP connection to `addr`, made within `timeout`.
    fn connect(&self, addr: SocketAddr, timeout: Duration) -> SysResult<Box<dyn Stream + '_>>;
    /// TLS over `stream` to `host` (certificate checked against the packed
    /// CA bundle unless `verify` is false), each wait at most `timeout`; a
    /// build without the `https` feature has no TLS.
    fn start_tls<'a>(
        &'a self,
        stream: Box<dyn Stream + 'a>,
        host: &str,
        verify: bool,
        timeout: Duration,
    ) -> Result<Box<dyn Stream + 'a>, tls_failure::TlsFailure> {
        let _ = (stream, host, verify, timeout);
        Err(tls_failure::TlsFailure::NotBuilt)
    }
    /// The console as a keyboard: keys as they are typed, without waiting
    /// for Enter, until the reader is dropped (which puts the console
    /// back); `None` when the console is not a terminal.
    fn console_keys(&self) -> Option<Box<dyn ConsoleKeys + '_>> {
        None
    }
    /// Opens a file for writing piece by piece: emptied, or appended to.
    fn open_writer(&self, path: &str, append: bool) -> SysResult<Box<dyn FileSink + '_>>;
    /// `rename(2)`.
    fn rename(&self, from: &str, to: &str) -> SysResult<()>;
    // Network (rtnetlink and DHCP sockets, `rtnl/` and `dhcp_socket.rs`).
    /// Every network interface (an rtnetlink link dump).
    fn net_links(&self) -> SysResult<Vec<NetLink>>;
    /// Renames a link, sets its MTU or MAC, brings it up or down.
    fn net_set_link(&self, index: u32, change: &LinkChange) -> SysResult<()>;
    /// Creates VLAN `id` on link `parent`, named `name`.
    fn net_add_vlan(&self, name: &str, parent: u32, id: u16) -> SysResult<()>;
    /// Adds (or replaces) an IPv4 address on a link.
    fn net_add_address(&self, index: u32, addr: &AddrSpec) -> SysResult<()>;
    /// Adds (or replaces) an IPv4 route.
    fn net_add_route(&self, route: &RouteSpec) -> SysResult<()>;
    /// Opens a DHCP client socket on interface `ifname`; returns its handle.
    fn dhcp_open(&self, ifname: &str) -> SysResult<u32>;
    /// Broadcasts a DHCP message to port 67 from that socket.
    fn dhcp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()>;
    /// Waits up to `timeout` for messages on any of `handles`.
    fn dhcp_recv(&self, handles: &[u32], timeout: Duration) -> Vec<(u32, Vec<u8>)>;
    fn dhcp_close(&self, handle: u32);
    /// Opens an ARP socket on link `index` (`arp_socket.rs`); returns its handle.
    fn arp_open(&self, index: u32) -> SysResult<u32>;
    /// Broadcasts an ARP payload from that socket.
    fn arp_send(&self, handle: u32, packet: &[u8]) -> SysResult<()>;
    /// Waits up to `timeout` for ARP payloads on that socket.
    fn arp_recv(&self, handle: u32, timeout: Duration) -> Vec<Vec<u8>>;
    fn arp_close(&self, handle: u32);
    // The download's SHA-256 beside it (`digest_child.rs`).
    /// Starts hashing the file at `path` from its first byte in a child
    /// process: as it grows, or, `after_last_byte`, only once told it is
    /// complete. Its handle; `None` when the caller is to hash as it
    /// writes (the fake, unless a test asks).
    fn digest_start(&self, path: &str, after_last_byte: bool) -> SysResult<Option<u32>>;
    /// The file has grown to `len` bytes (a hint; it may be dropped).
    fn digest_grown(&self, handle: u32, len: u64);
    /// Waits up to `timeout`: how far the hash of the `len`-byte file got,
    /// or its digest once all of it is hashed.
    fn digest_wait(&self, handle: u32, len: u64, timeout: Duration) -> SysResult<DigestState>;
    /// Stops that hash (done or not).
    fn digest_stop(&self, handle: u32);
}

/// How far a hash started with [`Sys::digest_start`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestState {
    /// This many bytes are hashed.
    Hashed(u64),
    /// All of them: the SHA-256.
    Done([u8; 32]),
}
