//! A file written piece by piece (the download): opened once, appended to
//! as the bytes arrive.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::OwnedFd;
use rustix::fs::{open, Mode, OFlags};

use super::{Errno, FileSink, SysResult};

/// An open file being written.
pub struct FileWriter {
    fd: OwnedFd,
}

/// Opens `path` for writing: emptied (`append` false) or appended to,
/// created if missing.
pub fn open_writer(path: &str, append: bool) -> SysResult<FileWriter> {
    let mode = if append {
        OFlags::APPEND
    } else {
        OFlags::TRUNC
    };
    let fd = open(
        path,
        OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC | mode,
        Mode::from_raw_mode(0o644),
    )?;
    Ok(FileWriter { fd })
}

impl FileSink for FileWriter {
    fn write_all(&mut self, mut data: &[u8]) -> SysResult<()> {
        while !data.is_empty() {
            match rustix::io::write(&self.fd, data) {
                Ok(0) => return Err(Errno::NOSPC),
                Ok(n) => data = data.get(n..).unwrap_or_default(),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// `rename(2)`.
pub fn rename(from: &str, to: &str) -> SysResult<()> {
    rustix::fs::rename(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_append_and_rename() {
        let dir = std::env::temp_dir().join(format!("liveinit-filewrite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let part = dir.join("x.part");
        let part = part.to_str().unwrap();
        std::fs::write(part, b"old contents").unwrap();
        open_writer(part, false).unwrap().write_all(b"abc").unwrap();
        open_writer(part, true).unwrap().write_all(b"def").unwrap();
        let done = dir.join("x");
        rename(part, done.to_str().unwrap()).unwrap();
        assert_eq!(std::fs::read(&done).unwrap(), b"abcdef");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
