//! A writer for the cpio "newc" format, the one the kernel unpacks as an
//! initramfs. Output is deterministic: entries sorted by path (so every parent
//! comes before its children), owner root, one mtime, inode numbers assigned
//! in emit order.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::{bail, Result};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const MAGIC: &[u8] = b"070701";
const TRAILER: &str = "TRAILER!!!";
/// Fixed part of a newc header: the magic plus 13 fields of 8 hex digits.
const HEADER_LEN: usize = 110;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    CharDev { major: u32, minor: u32 },
}

#[derive(Debug, Clone)]
struct Node {
    perm: u32,
    body: Body,
}

/// An in-memory archive. Adding an entry creates its missing parents
/// (mode 0755), because the kernel does not create them for us.
#[derive(Debug, Default)]
pub struct Archive {
    nodes: BTreeMap<String, Node>,
}

impl Archive {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory, or sets the mode of one that already exists.
    pub fn dir(&mut self, path: &str, perm: u32) -> Result<()> {
        self.insert(path, perm, Body::Dir)
    }

    /// Adds a regular file; a later file at the same path replaces it.
    pub fn file(&mut self, path: &str, perm: u32, data: Vec<u8>) -> Result<()> {
        self.insert(path, perm, Body::File(data))
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> Result<()> {
        if target.is_empty() || target.len() >= PATH_MAX {
            bail!(
                "cpio: symlink '{path}' has a target of {} bytes (1 to {})",
                target.len(),
                PATH_MAX - 1
            );
        }
        self.insert(path, 0o777, Body::Symlink(target.to_owned()))
    }

    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) -> Result<()> {
        self.insert(path, perm, Body::CharDev { major, minor })
    }

    fn insert(&mut self, path: &str, perm: u32, body: Body) -> Result<()> {
        let path = normalize(path)?;
        for (slash, _) in path.match_indices('/') {
            let parent = &path[..slash];
            match self.nodes.get(parent) {
                Some(Node {
                    body: Body::Dir, ..
                }) => {}
                Some(_) => bail!("cpio: '{parent}' is not a directory, cannot add '{path}'"),
                None => {
                    let dir = Node {
                        perm: 0o755,
                        body: Body::Dir,
                    };
                    self.nodes.insert(parent.to_owned(), dir);
                }
            }
        }
        let node = Node {
            perm: perm & 0o7777,
            body,
        };
        match self.nodes.get_mut(&path) {
            None => {
                self.nodes.insert(path, node);
            }
            Some(old) => match (&old.body, &node.body) {
                (Body::Dir, Body::Dir) => old.perm = node.perm,
                (Body::Dir, _) | (_, Body::Dir) => {
                    bail!("cpio: '{path}' is added both as a directory and as a non-directory")
                }
                _ => *old = node,
            },
        }
        Ok(())
    }

    /// Serialises the archive, `TRAILER!!!` included.
    pub fn to_bytes(&self, mtime: u32) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for (ino, (path, node)) in (1u32..).zip(&self.nodes) {
            let (kind, nlink, data, rdev) = match &node.body {
                Body::Dir => (S_IFDIR, 2, &[][..], (0, 0)),
                Body::File(data) => (S_IFREG, 1, &data[..], (0, 0)),
                Body::Symlink(target) => (S_IFLNK, 1, target.as_bytes(), (0, 0)),
                Body::CharDev { major, minor } => (S_IFCHR, 1, &[][..], (*major, *minor)),
            };
            let header = Header {
                ino,
                mode: kind | node.perm,
                nlink,
                mtime,
                rdev,
            };
            write_entry(&mut out, &header, path, data)?;
        }
        let trailer = Header {
            ino: 0,
            mode: 0,
            nlink: 1,
            mtime: 0,
            rdev: (0, 0),
        };
        write_entry(&mut out, &trailer, TRAILER, &[])?;
        Ok(out)
    }
}

/// The kernel's unpacker skips, without a word, an entry whose name (with
/// its NUL) or symlink target is longer than `PATH_MAX`; a component
/// longer than `NAME_MAX` cannot be created. Such entries are refused here.
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;

/// Archive names are relative (`etc/x`, never `/etc/x`) and must not escape.
fn normalize(path: &str) -> Result<String> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        bail!("cpio: empty path '{path}'");
    }
    if rel.len() >= PATH_MAX {
        bail!(
            "cpio: path of {} bytes is too long for the kernel's unpacker (at most {}): '{}…'",
            rel.len(),
            PATH_MAX - 1,
            rel.get(..64).unwrap_or(rel)
        );
    }
    if let Some(part) = rel.split('/').find(|part| part.len() > NAME_MAX) {
        bail!(
            "cpio: path '{path}' has a component of {} bytes (at most {NAME_MAX}): '{}…'",
            part.len(),
            part.get(..64).unwrap_or(part)
        );
    }
    if rel
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        bail!("cpio: path '{path}' has an empty, '.' or '..' component");
    }
    Ok(rel.to_owned())
}

struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    mtime: u32,
    rdev: (u32, u32),
}

fn write_entry(out: &mut Vec<u8>, h: &Header, name: &str, data: &[u8]) -> io::Result<()> {
    let too_big = |what: &str| io::Error::other(format!("cpio: {what} of '{name}' exceeds 4 GiB"));
    let filesize = u32::try_from(data.len()).map_err(|_| too_big("size"))?;
    let namesize = u32::try_from(name.len() + 1).map_err(|_| too_big("name"))?;
    let fields = [
        h.ino, h.mode, 0, // uid
        0, // gid
        h.nlink, h.mtime, filesize, 0, // devmajor
        0, // devminor
        h.rdev.0, h.rdev.1, namesize, 0, // check (only used by the "070702" variant)
    ];
    out.write_all(MAGIC)?;
    for field in fields {
        write!(out, "{field:08X}")?;
    }
    out.write_all(name.as_bytes())?;
    out.write_all(&[0])?;
    pad4(out, HEADER_LEN + name.len() + 1);
    out.write_all(data)?;
    pad4(out, data.len());
    Ok(())
}

/// Header+name and data are each padded to a multiple of 4 bytes; every entry
/// starts 4-aligned, so padding depends only on the lengths themselves.
fn pad4(out: &mut Vec<u8>, len: usize) {
    out.resize(out.len() + (4 - len % 4) % 4, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::read_cpio as parse;

    #[test]
    fn golden_bytes_of_a_tiny_archive() {
        let mut a = Archive::new();
        a.file("/a/b", 0o644, b"hi".to_vec()).unwrap();
        let got = a.to_bytes(5).unwrap();
        // Fields: magic, ino, mode, uid, gid, nlink, mtime, filesize,
        // devmajor, devminor, rdevmajor, rdevminor, namesize, check.
        let want = concat!(
            // "a": the implicit parent, 040755, nlink 2; 110 + 2 = 112 is
            // already aligned, so no padding.
            "070701",
            "00000001",
            "000041ED",
            "00000000",
            "00000000",
            "00000002",
            "00000005",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000002",
            "00000000",
            "a\0",
            // "a/b": 0100644, size 2; 110 + 4 = 114 takes 2 bytes of padding,
            // and so does the 2-byte body.
            "070701",
            "00000002",
            "000081A4",
            "00000000",
            "00000000",
            "00000001",
            "00000005",
            "00000002",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000004",
            "00000000",
            "a/b\0",
            "\0\0",
            "hi",
            "\0\0",
            // Trailer: nlink 1, namesize 11; 110 + 11 = 121 takes 3.
            "070701",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000001",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "0000000B",
            "00000000",
            "TRAILER!!!\0",
            "\0\0\0",
        );
        assert_eq!(String::from_utf8_lossy(&got), want);
        assert_eq!(got.len(), 112 + 120 + 124);
    }

    #[test]
    fn padding_keeps_every_entry_aligned() {
        for name_len in 1..=9 {
            for data_len in 0..=9 {
                let mut a = Archive::new();
                let name = "n".repeat(name_len);
                a.file(&name, 0o644, vec![7; data_len]).unwrap();
                a.file("z", 0o600, vec![]).unwrap();
                let bytes = a.to_bytes(0).unwrap();
                assert_eq!(bytes.len() % 4, 0);
                let entries = parse(&bytes); // asserts alignment and zero padding
                assert_eq!(entries[0].data, vec![7; data_len]);
                assert_eq!(entries[1].name, "z");
            }
        }
    }

    #[test]
    fn reader_sees_sorted_parents_first_with_modes_and_devices() {
        let mut a = Archive::new();
        a.file("usr/lib/x", 0o100_755, b"x".to_vec()).unwrap();
        a.char_dev("dev/console", 0o600, 5, 1).unwrap();
        a.symlink("bin", "usr/bin").unwrap();
        a.dir("usr", 0o700).unwrap();
        a.dir("dev", 0o755).unwrap();
        let entries = parse(&a.to_bytes(42).unwrap());
        let listing: Vec<(&str, u32)> = entries.iter().map(|e| (&e.name[..], e.mode)).collect();
        assert_eq!(
            listing,
            [
                ("bin", 0o120_777),
                ("dev", 0o040_755),
                ("dev/console", 0o020_600),
                ("usr", 0o040_700),
                ("usr/lib", 0o040_755),
                ("usr/lib/x", 0o100_755),
            ]
        );
        let inos: Vec<u32> = entries.iter().map(|e| e.ino).collect();
        assert_eq!(inos, [1, 2, 3, 4, 5, 6]);
        assert_eq!(entries[0].data, b"usr/bin");
        assert_eq!(entries[2].rdev, (5, 1));
        assert_eq!(entries[1].nlink, 2);
        assert_eq!(entries[5].nlink, 1);
        assert!(entries.iter().all(|e| e.mtime == 42));
    }

    #[test]
    fn a_later_file_replaces_an_earlier_one() {
        let mut a = Archive::new();
        a.file("etc/f", 0o644, b"old".to_vec()).unwrap();
        a.file("etc/f", 0o600, b"new".to_vec()).unwrap();
        let entries = parse(&a.to_bytes(0).unwrap());
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[1].mode, &entries[1].data[..]),
            (0o100_600, &b"new"[..])
        );
    }

    #[test]
    fn rejects_bad_paths_and_kind_conflicts() {
        let mut a = Archive::new();
        assert!(a.file("", 0o644, vec![]).is_err());
        assert!(a.file("/", 0o644, vec![]).is_err());
        assert!(a.file("a/../b", 0o644, vec![]).is_err());
        assert!(a.file("a//b", 0o644, vec![]).is_err());
        a.file("f", 0o644, vec![]).unwrap();
        assert!(a.file("f/g", 0o644, vec![]).is_err());
        assert!(a.dir("f", 0o755).is_err());
        a.dir("d", 0o755).unwrap();
        assert!(a.file("d", 0o644, vec![]).is_err());
    }

    /// The kernel would skip these without a word: refused, naming why.
    #[test]
    fn names_the_kernel_would_drop_are_refused() {
        let mut a = Archive::new();
        let component = "c".repeat(255);
        a.file(&component, 0o644, vec![]).unwrap();
        let err = a.file(&"c".repeat(256), 0o644, vec![]).unwrap_err();
        assert!(err.to_string().contains("component of 256 bytes"), "{err}");
        let deep = vec!["d".repeat(200); 21].join("/");
        assert!(deep.len() > 4095);
        let err = a.file(&deep, 0o644, vec![]).unwrap_err();
        assert!(err.to_string().contains("too long"), "{err}");
        let fits = vec!["d".repeat(200); 20].join("/");
        a.file(&fits, 0o644, vec![]).unwrap();
        assert!(a.symlink("l", &"t".repeat(4096)).is_err());
        assert!(a.symlink("l", "").is_err());
        a.symlink("l", &"t".repeat(4095)).unwrap();
    }
}
