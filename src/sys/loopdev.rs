//! Loop devices, attached atomically with `LOOP_CONFIGURE` (Linux ≥ 5.8).

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::{AsFd, OwnedFd};

use linux_raw_sys::loop_device::{
    loop_config, loop_info64, LOOP_CONFIGURE, LOOP_CTL_GET_FREE, LO_FLAGS_AUTOCLEAR,
    LO_FLAGS_READ_ONLY,
};
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::ioctl::{self, Ioctl, IoctlOutput, Opcode, Setter};

/// Another process can take the free device between asking and attaching;
/// nothing competes in an initramfs, but be robust all the same.
const ATTEMPTS: usize = 8;
/// The block major of loop devices.
const LOOP_MAJOR: u32 = 7;

/// `LOOP_CTL_GET_FREE` answers through the ioctl's return value, which
/// rustix's ready-made patterns do not model.
struct GetFree;

// SAFETY: the opcode takes no argument and returns the device number as the
// ioctl's return value, which is exactly what `output_from_ptr` reads.
unsafe impl Ioctl for GetFree {
    type Output = u32;
    const IS_MUTATING: bool = false;

    fn opcode(&self) -> Opcode {
        LOOP_CTL_GET_FREE as Opcode
    }

    fn as_ptr(&mut self) -> *mut core::ffi::c_void {
        core::ptr::null_mut()
    }

    unsafe fn output_from_ptr(
        out: IoctlOutput,
        _: *mut core::ffi::c_void,
    ) -> rustix::io::Result<u32> {
        u32::try_from(out).map_err(|_| Errno::INVAL)
    }
}

/// Attaches `backing` to a free loop device. Returns the device path and
/// an open fd on it: the device must stay open until something (a mount, a
/// dm table) holds it, or autoclear would detach it at once.
pub fn attach(backing: &str, read_only: bool) -> Result<(String, OwnedFd), Errno> {
    let access = if read_only {
        OFlags::RDONLY
    } else {
        OFlags::RDWR
    };
    let file = fs::open(backing, access | OFlags::CLOEXEC, Mode::empty())?;
    let control = fs::open(
        "/dev/loop-control",
        OFlags::RDWR | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut last = Errno::BUSY;
    for _ in 0..ATTEMPTS {
        // SAFETY: `GetFree` matches the kernel's contract for this opcode.
        let number = unsafe { ioctl::ioctl(&control, GetFree) }?;
        let path = format!("/dev/loop{number}");
        let device = open_node(&path, number)?;
        match configure(&device, &file, backing, read_only) {
            Ok(()) => return Ok((path, device)),
            Err(Errno::BUSY) => last = Errno::BUSY,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Opens `/dev/loopN`, creating the node when devtmpfs has not (yet).
fn open_node(path: &str, number: u32) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDWR | OFlags::CLOEXEC;
    match fs::open(path, flags, Mode::empty()) {
        Err(Errno::NOENT) => {
            let dev = rustix::fs::makedev(LOOP_MAJOR, number);
            fs::mknodat(
                fs::CWD,
                path,
                FileType::BlockDevice,
                Mode::from_raw_mode(0o600),
                dev,
            )?;
            fs::open(path, flags, Mode::empty())
        }
        other => other,
    }
}

fn configure(device: &OwnedFd, file: &OwnedFd, name: &str, read_only: bool) -> Result<(), Errno> {
    let mut flags = LO_FLAGS_AUTOCLEAR as u32;
    if read_only {
        flags |= LO_FLAGS_READ_ONLY as u32;
    }
    let mut file_name = [0u8; 64];
    // Keep the last byte NUL; the name is informational (`losetup -l`).
    for (slot, byte) in file_name.iter_mut().take(63).zip(name.bytes()) {
        *slot = byte;
    }
    let raw_fd =
        u32::try_from(rustix::fd::AsRawFd::as_raw_fd(&file.as_fd())).map_err(|_| Errno::BADF)?;
    let config = loop_config {
        fd: raw_fd,
        block_size: 0,
        info: loop_info64 {
            lo_device: 0,
            lo_inode: 0,
            lo_rdevice: 0,
            lo_offset: 0,
            lo_sizelimit: 0,
            lo_number: 0,
            lo_encrypt_type: 0,
            lo_encrypt_key_size: 0,
            lo_flags: flags,
            lo_file_name: file_name,
            lo_crypt_name: [0; 64],
            lo_encrypt_key: [0; 32],
            lo_init: [0; 2],
        },
        __reserved: [0; 8],
    };
    // SAFETY: LOOP_CONFIGURE reads a `struct loop_config`, which is what the
    // setter passes; `file` outlives the call.
    unsafe {
        ioctl::ioctl(
            device,
            Setter::<{ LOOP_CONFIGURE as Opcode }, loop_config>::new(config),
        )
    }
}
