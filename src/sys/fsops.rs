//! Files, directories and links. std opens every fd with `O_CLOEXEC`.

use std::fs;
use std::io::{self, Read};
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
