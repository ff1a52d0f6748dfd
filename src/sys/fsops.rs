//! Files, directories and links. std opens every fd with `O_CLOEXEC`.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::FileKind;

pub fn errno(e: &io::Error) -> Errno {
    Errno::from_io_error(e).unwrap_or(Errno::IO)
}

pub fn mkdir_all(path: &str) -> Result<(), Errno> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|e| errno(&e))
}

pub fn symlink(target: &str, link: &str) -> Result<(), Errno> {
    std::os::unix::fs::symlink(target, link).map_err(|e| errno(&e))
}

pub fn read_file(path: &str) -> Result<Vec<u8>, Errno> {
    fs::read(path).map_err(|e| errno(&e))
}

pub fn read_head(path: &str, len: usize) -> Result<Vec<u8>, Errno> {
    let file = fs::File::open(path).map_err(|e| errno(&e))?;
    let mut buf = Vec::with_capacity(len);
    file.take(u64::try_from(len).unwrap_or(u64::MAX))
        .read_to_end(&mut buf)
        .map_err(|e| errno(&e))?;
    Ok(buf)
}

pub fn write_file(path: &str, data: &[u8]) -> Result<(), Errno> {
    fs::write(path, data).map_err(|e| errno(&e))
}

pub fn read_dir(path: &str) -> Result<Vec<String>, Errno> {
    let mut names = Vec::new();
    for entry in fs::read_dir(path).map_err(|e| errno(&e))? {
        let entry = entry.map_err(|e| errno(&e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

pub fn file_kind(path: &str) -> Option<FileKind> {
    let kind = fs::symlink_metadata(path).ok()?.file_type();
    Some(if kind.is_dir() {
        FileKind::Dir
    } else if kind.is_file() {
        FileKind::File
    } else if kind.is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::Other
    })
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
    let file = fs::Permissions::from_mode(stat.st_mode);
    rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile
        && file.mode() & 0o111 != 0
}

pub fn create_sparse(path: &str, bytes: u64) -> Result<(), Errno> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| errno(&e))?;
    file.set_len(bytes).map_err(|e| errno(&e))
}

/// Block size of the copy; zero blocks are skipped (left as holes).
const COPY_BLOCK: usize = 1 << 20;

pub fn copy_sparse(from: &str, to: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, Errno> {
    let mut src = fs::File::open(from).map_err(|e| errno(&e))?;
    let total = src.metadata().map_err(|e| errno(&e))?.len();
    let mut dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| errno(&e))?;
    let mut buf = vec![0u8; COPY_BLOCK];
    let mut done: u64 = 0;
    loop {
        let n = read_full(&mut src, &mut buf).map_err(|e| errno(&e))?;
        let Some(block) = buf.get(..n) else { break };
        if n == 0 {
            break;
        }
        if block.iter().all(|&b| b == 0) {
            dst.seek(SeekFrom::Current(n as i64))
                .map_err(|e| errno(&e))?;
        } else {
            dst.write_all(block).map_err(|e| errno(&e))?;
        }
        done += n as u64;
        progress(done, total);
    }
    // A trailing hole still needs the file to have its full length.
    dst.set_len(done).map_err(|e| errno(&e))?;
    dst.sync_all().map_err(|e| errno(&e))?;
    Ok(done)
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Bytes used and in total on the filesystem holding `path`.
pub fn fs_usage(path: &str) -> Result<(u64, u64), Errno> {
    let st = rustix::fs::statvfs(path)?;
    let block = st.f_frsize;
    let total = st.f_blocks.saturating_mul(block);
    let free = st.f_bfree.saturating_mul(block);
    Ok((total.saturating_sub(free), total))
}
