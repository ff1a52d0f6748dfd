//! Files, directories and links, on rustix; every fd is `O_CLOEXEC`.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::OwnedFd;
use rustix::fs::{self as rfs, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::FileKind;

/// Every fd the init opens is close-on-exec: nothing leaks into the real init.
fn open(path: &str, flags: OFlags, mode: u32) -> Result<OwnedFd, Errno> {
    rfs::open(path, flags | OFlags::CLOEXEC, Mode::from_raw_mode(mode))
}

pub fn mkdir_all(path: &str) -> Result<(), Errno> {
    let mut prefix = String::with_capacity(path.len());
    for part in path.split('/') {
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        prefix.push_str(part);
        if part.is_empty() {
            continue;
        }
        match rfs::mkdir(prefix.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
    }
    match file_kind(path) {
        Some(FileKind::Dir) => Ok(()),
        // A symlink to a directory will do, as for `mkdir -p`.
        Some(FileKind::Symlink) if rfs::stat(path).is_ok_and(|st| is_dir(st.st_mode)) => Ok(()),
        Some(_) => Err(Errno::EXIST),
        None => Err(Errno::NOENT),
    }
}

fn is_dir(mode: u32) -> bool {
    rfs::FileType::from_raw_mode(mode) == rfs::FileType::Directory
}

pub fn symlink(target: &str, link: &str) -> Result<(), Errno> {
    rfs::symlink(target, link)
}

pub fn read_file(path: &str) -> Result<Vec<u8>, Errno> {
    read_head(path, usize::MAX)
}

/// Up to `len` bytes from the start of a file or device.
pub fn read_head(path: &str, len: usize) -> Result<Vec<u8>, Errno> {
    let fd = open(path, OFlags::RDONLY, 0)?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; len.min(64 * 1024)];
    while buf.len() < len {
        let want = (len - buf.len()).min(chunk.len());
        let Some(slice) = chunk.get_mut(..want) else {
            break;
        };
        match rustix::io::read(&fd, &mut *slice) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(slice.get(..n).unwrap_or_default()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}

/// `pread` until `len` bytes or the end of the file.
pub fn read_at(path: &str, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
    pread_full(&open(path, OFlags::RDONLY, 0)?, offset, len)
}

/// `pread` on an open file or device until `len` bytes or its end.
pub fn pread_full(fd: &OwnedFd, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        let at = offset.saturating_add(filled as u64);
        match rustix::io::pread(fd, rest, at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

pub fn write_file(path: &str, data: &[u8]) -> Result<(), Errno> {
    let fd = open(path, OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC, 0o644)?;
    write_all(&fd, data)
}

/// `write` until all of `data` is written.
pub fn write_all(fd: &OwnedFd, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Entry names of a directory (without `.` and `..`), sorted.
pub fn read_dir(path: &str) -> Result<Vec<String>, Errno> {
    let fd = open(path, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(&fd)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    names.sort_unstable();
    Ok(names)
}

pub fn file_kind(path: &str) -> Option<FileKind> {
    let st = rfs::lstat(path).ok()?;
    Some(kind_of(st.st_mode))
}

/// See [`super::Sys::file_kind_beneath`]. Without `openat2` (Linux before
/// 5.6) no symlink is followed at all.
pub fn file_kind_beneath(root: &str, path: &str) -> Result<FileKind, Errno> {
    let relative = path
        .strip_prefix(root)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or(Errno::XDEV)?
        .trim_start_matches('/');
    let root_fd = open(root, OFlags::PATH | OFlags::DIRECTORY, 0)?;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    let fd = match rustix::fs::openat2(
        &root_fd,
        relative,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        resolve,
    ) {
        Err(Errno::NOSYS) => return no_symlink_on_the_way(root, relative),
        other => other?,
    };
    let stat = rustix::fs::fstat(&fd)?;
    Ok(kind_of(stat.st_mode))
}

fn no_symlink_on_the_way(root: &str, relative: &str) -> Result<FileKind, Errno> {
    let mut at = String::from(root);
    let mut kind = file_kind(root).ok_or(Errno::NOENT)?;
    for part in relative.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        kind = file_kind(&at).ok_or(Errno::NOENT)?;
        if kind == FileKind::Symlink {
            return Err(Errno::XDEV);
        }
    }
    Ok(kind)
}

fn kind_of(mode: u32) -> FileKind {
    match rfs::FileType::from_raw_mode(mode) {
        rfs::FileType::Directory => FileKind::Dir,
        rfs::FileType::RegularFile => FileKind::File,
        rfs::FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

/// Resolves `path` as if `root` were `/` (`RESOLVE_IN_ROOT`, Linux ≥ 5.6),
/// so `/sbin/init -> /lib/systemd/systemd` is followed inside the new root.
pub fn is_executable_in(root: &str, path: &str) -> bool {
    let Ok(root_fd) = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let relative = path.trim_start_matches('/');
    let Ok(fd) = rustix::fs::openat2(
        &root_fd,
        relative,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT,
    ) else {
        return false;
    };
    let Ok(stat) = rustix::fs::fstat(&fd) else {
        return false;
    };
    rfs::FileType::from_raw_mode(stat.st_mode) == rfs::FileType::RegularFile
        && stat.st_mode & 0o111 != 0
}

pub fn file_size(path: &str) -> Result<u64, Errno> {
    let st = rfs::stat(path)?;
    u64::try_from(st.st_size).map_err(|_| Errno::INVAL)
}

/// `st_blocks` counts 512-byte units whatever the filesystem's block size;
/// a file's last block may hold less than a block of data.
pub fn file_data_bytes(path: &str) -> Result<u64, Errno> {
    let st = rfs::stat(path)?;
    let size = u64::try_from(st.st_size).map_err(|_| Errno::INVAL)?;
    let allocated = u64::try_from(st.st_blocks)
        .unwrap_or(u64::MAX)
        .saturating_mul(512);
    Ok(allocated.min(size))
}

pub fn create_sparse(path: &str, bytes: u64) -> Result<(), Errno> {
    let fd = open(path, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL, 0o600)?;
    rfs::ftruncate(&fd, bytes)
}

/// Block size of the copy; zero blocks are skipped (left as holes).
const COPY_BLOCK: usize = 1 << 20;

/// Copies `from` to a new file `to`, keeping it sparse: the source's holes
/// are found with `SEEK_DATA`/`SEEK_HOLE` and never read (a 4 GiB image
/// with 300 MiB of data reads 300 MiB), and blocks of zeros within the data
/// (a filesystem that does not report holes, such as squashfs) are not
/// written. Either way the copy's holes take no memory on a tmpfs.
pub fn copy_sparse(from: &str, to: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, Errno> {
    let src = open(from, OFlags::RDONLY, 0)?;
    let total = rfs::fstat(&src)?.st_size;
    let total = u64::try_from(total).unwrap_or(0);
    // One pass from start to end: a larger readahead window. Advice only;
    // a filesystem that ignores it is read all the same.
    let _ = rfs::fadvise(&src, 0, None, rfs::Advice::Sequential);
    let dst = open(to, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL, 0o600)?;
    let mut buf = vec![0u8; COPY_BLOCK];
    // The copy's length: the source's, unless it shrank under us.
    let mut end = total;
    let mut at: u64 = 0;
    'copy: while at < total {
        let (data, hole) = next_data(&src, at, total)?;
        if data >= total {
            break;
        }
        at = data;
        while at < hole {
            let want = usize::try_from(hole - at)
                .unwrap_or(COPY_BLOCK)
                .min(COPY_BLOCK);
            let Some(chunk) = buf.get_mut(..want) else {
                break 'copy;
            };
            prefetch(&src, at + want as u64, hole);
            let n = read_full_at(&src, chunk, at)?;
            let Some(block) = chunk.get(..n).filter(|b| !b.is_empty()) else {
                end = at;
                break 'copy;
            };
            if block.iter().any(|&b| b != 0) {
                write_all_at(&dst, block, at)?;
            }
            at += n as u64;
            progress(at, total);
        }
    }
    // A trailing hole still needs the file to have its full length.
    rfs::ftruncate(&dst, end)?;
    rfs::fsync(&dst)?;
    progress(end, total);
    Ok(end)
}

/// Starts reading the block after the one about to be copied (up to
/// `end`), without waiting for it: the medium reads it while this block is
/// copied into RAM, as `dd` (one block at a time) does not.
fn prefetch(src: &OwnedFd, from: u64, end: u64) {
    let len = end.saturating_sub(from).min(COPY_BLOCK as u64);
    if let Some(len) = core::num::NonZeroU64::new(len) {
        let _ = rfs::fadvise(src, from, Some(len), rfs::Advice::WillNeed);
    }
}

/// Where the next data at or after `at` starts, and where it ends (the
/// next hole); the whole rest of the file where holes cannot be asked for.
fn next_data(fd: &OwnedFd, at: u64, total: u64) -> Result<(u64, u64), Errno> {
    let data = match rfs::seek(fd, rfs::SeekFrom::Data(at)) {
        Ok(data) => data,
        // No data after `at`: the rest is a hole.
        Err(Errno::NXIO) => return Ok((total, total)),
        Err(Errno::INVAL | Errno::OPNOTSUPP) => return Ok((at, total)),
        Err(e) => return Err(e),
    };
    let hole = match rfs::seek(fd, rfs::SeekFrom::Hole(data)) {
        Ok(hole) => hole,
        Err(Errno::NXIO | Errno::INVAL | Errno::OPNOTSUPP) => total,
        Err(e) => return Err(e),
    };
    Ok((data, hole.min(total)))
}

/// `pread` until `buf` is full or the file ends.
fn read_full_at(fd: &OwnedFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match rustix::io::pread(fd, rest, offset.saturating_add(filled as u64)) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn write_all_at(fd: &OwnedFd, mut data: &[u8], mut offset: u64) -> Result<(), Errno> {
    while !data.is_empty() {
        match rustix::io::pwrite(fd, data, offset) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => {
                data = data.get(n..).unwrap_or_default();
                offset += n as u64;
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Bytes used and in total on the filesystem holding `path`.
pub fn fs_usage(path: &str) -> Result<(u64, u64), Errno> {
    let st = rustix::fs::statvfs(path)?;
    let block = st.f_frsize;
    let total = st.f_blocks.saturating_mul(block);
    let free = st.f_bfree.saturating_mul(block);
    Ok((total.saturating_sub(free), total))
}

/// `statfs` magic numbers of the filesystems an initramfs is unpacked into
/// (`rootfs` is ramfs, or tmpfs with `CONFIG_TMPFS` and no `root=`).
const RAMFS_MAGIC: u64 = 0x8584_58f6;
const TMPFS_MAGIC: u64 = 0x0102_1994;

/// Whether `/` is the kernel's initramfs (ramfs or tmpfs); false where it
/// cannot be told, so that doubt never starts a boot.
pub fn root_is_initramfs() -> bool {
    rustix::fs::statfs("/").is_ok_and(|st| {
        let magic = u64::try_from(st.f_type).unwrap_or(0);
        magic == RAMFS_MAGIC || magic == TMPFS_MAGIC
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileExt, MetadataExt};

    #[test]
    fn a_sparse_copy_reads_only_the_data_and_keeps_the_holes() {
        let dir = std::env::temp_dir().join(format!("liveinit-sparse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("image"), dir.join("copy"));
        let _ = std::fs::remove_file(&to);
        let size: u64 = 64 << 30;
        let file = std::fs::File::create(&from).unwrap();
        file.set_len(size).unwrap();
        file.write_all_at(b"superblock", 1 << 20).unwrap();
        file.write_all_at(b"end", size - 3).unwrap();
        drop(file);

        let mut calls = 0u32;
        let copied = copy_sparse(from.to_str().unwrap(), to.to_str().unwrap(), &mut |_, _| {
            calls += 1
        })
        .unwrap();
        assert_eq!(copied, size);
        let copy = std::fs::File::open(&to).unwrap();
        let meta = copy.metadata().unwrap();
        assert_eq!(meta.len(), size);
        // The copy's holes take no room.
        assert!(meta.blocks() * 512 < 16 << 20, "{} blocks", meta.blocks());
        let mut buf = [0u8; 10];
        copy.read_exact_at(&mut buf, 1 << 20).unwrap();
        assert_eq!(&buf, b"superblock");
        copy.read_exact_at(&mut buf[..3], size - 3).unwrap();
        assert_eq!(&buf[..3], b"end");
        // One progress call per block read: the 64 GiB of holes were
        // skipped, not read.
        assert!(calls < 64, "{calls} blocks read");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
