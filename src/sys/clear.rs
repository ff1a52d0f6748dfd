//! Emptying a persistent overlay for `rd.overlay.reset`: a directory's
//! contents, or the start of a COW store. Every walk is fd-relative and
//! never follows a symlink nor leaves the directory's filesystem, so a
//! crafted overlay cannot make the init delete anything else.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Deeper trees are refused rather than walked (each level holds an fd).
const MAX_DEPTH: usize = 128;

pub fn clear_dir(path: &str) -> Result<(), Errno> {
    let dir = rfs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let dev = rfs::fstat(&dir)?.st_dev;
    clear_at(dir.as_fd(), dev, 0)
}

fn clear_at(dir: BorrowedFd<'_>, dev: u64, depth: usize) -> Result<(), Errno> {
    if depth > MAX_DEPTH {
        return Err(Errno::LOOP);
    }
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_owned();
        let bytes = name.as_bytes();
        if bytes != b"." && bytes != b".." {
            names.push(name);
        }
    }
    for name in names {
        let st = rfs::statat(dir, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            if st.st_dev != dev {
                // A mount point inside the overlay: not ours to empty.
                return Err(Errno::XDEV);
            }
            let sub: OwnedFd = rfs::openat(
                dir,
                name.as_c_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            clear_at(sub.as_fd(), dev, depth + 1)?;
            rfs::unlinkat(dir, name.as_c_str(), AtFlags::REMOVEDIR)?;
        } else {
            rfs::unlinkat(dir, name.as_c_str(), AtFlags::empty())?;
        }
    }
    Ok(())
}

pub fn zero_start(path: &str, bytes: u64) -> Result<(), Errno> {
    let fd = rfs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    let len = u64::try_from(rfs::fstat(&fd)?.st_size).unwrap_or(0);
    let zeros = vec![0u8; usize::try_from(bytes.min(len)).map_err(|_| Errno::INVAL)?];
    let mut done = 0;
    while let Some(rest) = zeros.get(done..) {
        if rest.is_empty() {
            break;
        }
        match rustix::io::pwrite(&fd, rest, done as u64) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => done += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    rfs::fsync(&fd)
}
