//! Device-mapper control: create, message and status of dm devices by
//! talking to `/dev/mapper/control` directly.
//!
//! Why in-house: the `devicemapper` crate needs libdevmapper headers,
//! pkg-config and bindgen at build time and pulls in ~35 crates, while the
//! whole job here (dracut's `live-base`/`live-rw`/thin tables, docs/dracut-live.md
//! §3.6) is four ioctls and a `mknod`. The byte layout lives in
//! [`abi`] as pure, host-tested functions; this file only opens the control
//! node, issues the calls and makes the device node.
//!
//! There is no udev in the initramfs, so nothing creates
//! `/dev/mapper/<name>` for us: [`create`] makes the block node itself, as
//! `dmsetup` does with `--noudevsync` or when udev is absent. For the same
//! reason no udev cookie is passed (`event_nr` = 0): nobody would ever
//! acknowledge it.

#[allow(unused_imports)]
use crate::prelude::*;

mod abi;

use rustix::fd::OwnedFd;

use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::ioctl::{self, Ioctl, IoctlOutput, Opcode};

pub use abi::Target;

/// The control node; devtmpfs creates it (char 10:236) when `dm-mod` loads.
const CONTROL: &str = "/dev/mapper/control";
const MAPPER_DIR: &str = "/dev/mapper";
/// `MISC_MAJOR` and `MAPPER_CTRL_MINOR`: the control node's fixed number.
const CONTROL_MAJOR: u32 = 10;
const CONTROL_MINOR: u32 = 236;
/// First buffer size for TABLE_STATUS answers; one snapshot or thin line
/// is far smaller. Doubled on `DM_BUFFER_FULL_FLAG` up to `STATUS_MAX`.
const STATUS_START: usize = 16 * 1024;
const STATUS_MAX: usize = 4 * 1024 * 1024;

/// A dm device made by [`create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// `/dev/mapper/<name>`, the block node we made.
    pub node: String,
    /// The kernel's device number; devtmpfs names it `/dev/dm-<minor>`.
    pub major: u32,
    pub minor: u32,
}

/// Creates the dm device `name` with `table` and makes it live:
/// `DM_DEV_CREATE`, `DM_TABLE_LOAD` (with `DM_READONLY_FLAG` when
/// `read_only`, so the table opens its devices read-only and the device is
/// read-only once resumed), then `DM_DEV_SUSPEND` without the suspend flag,
/// which resumes it and swaps the loaded table in. Then makes the block
/// node `/dev/mapper/<name>` (creating `/dev/mapper` if needed), because
/// no udev will.
///
/// Every step after `DM_DEV_CREATE` that fails (load, resume, node)
/// removes the half-made device again, so a failed create leaves nothing
/// behind. The name is checked first: 1–127 bytes, no `/`; anything else
/// is `EINVAL`, never truncated.
pub fn create(name: &str, read_only: bool, table: &[Target<'_>]) -> Result<Created, Errno> {
    let flags = if read_only { abi::flag::READONLY } else { 0 };
    let count = u32::try_from(table.len()).map_err(|_| Errno::INVAL)?;
    let mut load = abi::request(name, flags, count, &abi::table_payload(table)?, 0)?;
    let control = open_control()?;
    let created = call(
        &control,
        abi::cmd::DEV_CREATE,
        &mut abi::request(name, 0, 0, &[], 0)?,
    )?;
    let (major, minor) = abi::split_dev(created.dev);
    activate(&control, name, &mut load, major, minor).inspect_err(|_| {
        // Best effort: the error that made us give up is the one to report.
        let _ = remove_with(&control, name);
    })
}

/// The steps of [`create`] after `DM_DEV_CREATE`: load, resume, node.
fn activate(
    control: &OwnedFd,
    name: &str,
    load: &mut [u8],
    major: u32,
    minor: u32,
) -> Result<Created, Errno> {
    if major == 0 {
        return Err(Errno::PROTO);
    }
    call(control, abi::cmd::TABLE_LOAD, load)?;
    let mut resume = abi::request(name, 0, 0, &[], 0)?;
    call(control, abi::cmd::DEV_SUSPEND, &mut resume)?;
    let node = make_node(name, major, minor)?;
    Ok(Created { node, major, minor })
}

/// Sends `text` to the target that maps `sector` of device `name`
/// (`DM_TARGET_MSG`, as `dmsetup message <name> <sector> <text>`), e.g.
/// `create_thin 0` to a thin pool.
pub fn message(name: &str, sector: u64, text: &str) -> Result<(), Errno> {
    let mut buf = abi::request(name, 0, 0, &abi::message_payload(sector, text)?, 0)?;
    let control = open_control()?;
    call(&control, abi::cmd::TARGET_MSG, &mut buf).map(|_| ())
}

/// The status line of the first target of `name`'s active table
/// (`DM_TABLE_STATUS`, the part of `dmsetup status` after the type), e.g.
/// `16/65536 16` for a snapshot (used/total COW sectors, metadata sectors),
/// or `Invalid` / `Overflow` once its COW is full. `ENODATA` when the
/// device has no active table.
pub fn status(name: &str) -> Result<String, Errno> {
    abi::validate_name(name)?;
    let control = open_control()?;
    let mut size = STATUS_START;
    loop {
        let mut buf = abi::request(name, 0, 0, &[], size)?;
        let header = call(&control, abi::cmd::TABLE_STATUS, &mut buf)?;
        if header.flags & abi::flag::BUFFER_FULL == 0 {
            return abi::parse_status(&buf)?
                .into_iter()
                .next()
                .map(|target| target.params)
                .ok_or(Errno::NODATA);
        }
        size = size.checked_mul(2).ok_or(Errno::NOBUFS)?;
        if size > STATUS_MAX {
            return Err(Errno::NOBUFS);
        }
    }
}

/// Removes the dm device `name` (`DM_DEV_REMOVE`) and unlinks its node:
/// how a half-made device is cleaned up after a failed create.
fn remove_with(control: &OwnedFd, name: &str) -> Result<(), Errno> {
    let removed = call(
        control,
        abi::cmd::DEV_REMOVE,
        &mut abi::request(name, 0, 0, &[], 0)?,
    );
    match removed {
        Ok(_) | Err(Errno::NXIO) => {
            match fs::unlink(node_path(name)) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
            }
            removed.map(|_| ())
        }
        Err(e) => Err(e),
    }
}

fn node_path(name: &str) -> String {
    format!("{MAPPER_DIR}/{name}")
}

/// Opens the control node, making it first if devtmpfs has not (an
/// initramfs with a static `/dev`, or dm built in and `/dev` mounted late).
fn open_control() -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDWR | OFlags::CLOEXEC;
    match fs::open(CONTROL, flags, Mode::empty()) {
        Err(Errno::NOENT) => {
            mkdir_mapper()?;
            let dev = fs::makedev(CONTROL_MAJOR, CONTROL_MINOR);
            match fs::mknodat(
                fs::CWD,
                CONTROL,
                FileType::CharacterDevice,
                Mode::from_raw_mode(0o600),
                dev,
            ) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
            fs::open(CONTROL, flags, Mode::empty())
        }
        other => other,
    }
}

fn mkdir_mapper() -> Result<(), Errno> {
    match fs::mkdir(MAPPER_DIR, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes `/dev/mapper/<name>` a block node for `major:minor` (mode 0600,
/// as libdevmapper does). A node already there with the right number is
/// kept; anything else there is replaced, since it can only be stale.
fn make_node(name: &str, major: u32, minor: u32) -> Result<String, Errno> {
    mkdir_mapper()?;
    let path = node_path(name);
    let dev = fs::makedev(major, minor);
    if let Ok(st) = fs::lstat(path.as_str()) {
        let is_block = FileType::from_raw_mode(st.st_mode) == FileType::BlockDevice;
        if is_block && st.st_rdev == dev {
            return Ok(path);
        }
        fs::unlink(path.as_str())?;
    }
    fs::mknodat(
        fs::CWD,
        path.as_str(),
        FileType::BlockDevice,
        Mode::from_raw_mode(0o600),
        dev,
    )?;
    Ok(path)
}

/// One dm ioctl on a whole request buffer.
struct DmIoctl<'a> {
    opcode: Opcode,
    buf: &'a mut [u8],
}

// SAFETY: every dm ioctl takes a pointer to a `struct dm_ioctl` header
// followed by its payload, and the kernel reads and writes at most the
// header's `data_size` bytes; `call` checks `data_size <= buf.len()` before
// issuing it. The output is read back from `buf` by the caller, not here.
unsafe impl Ioctl for DmIoctl<'_> {
    type Output = ();
    const IS_MUTATING: bool = true;

    fn opcode(&self) -> Opcode {
        self.opcode
    }

    fn as_ptr(&mut self) -> *mut core::ffi::c_void {
        self.buf.as_mut_ptr().cast()
    }

    unsafe fn output_from_ptr(_: IoctlOutput, _: *mut core::ffi::c_void) -> rustix::io::Result<()> {
        Ok(())
    }
}

/// Issues `cmd` with `buf` (built by [`abi::request`]) and reads the reply
/// header, which also checks the kernel speaks interface version 4.
fn call(control: &OwnedFd, cmd: u8, buf: &mut [u8]) -> Result<abi::Header, Errno> {
    let declared = abi::parse_request_size(buf)?;
    if declared > buf.len() {
        return Err(Errno::INVAL);
    }
    let request = DmIoctl {
        opcode: abi::opcode(cmd),
        buf: &mut *buf,
    };
    // SAFETY: `DmIoctl` matches the kernel's contract for every dm opcode
    // and the buffer holds the `data_size` bytes the header declares.
    unsafe { ioctl::ioctl(control, request) }?;
    abi::parse_header(buf)
}
