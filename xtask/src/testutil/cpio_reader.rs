//! An independent reader of cpio "newc" archives, strict about alignment and
//! padding, used to check the writer. It spells the format out itself
//! rather than borrowing the writer's constants, so a wrong constant there
//! cannot go unnoticed here.

/// One parsed entry of a newc archive.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CpioEntry {
    pub ino: u32,
    pub mode: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub rdev: (u32, u32),
    pub name: String,
    pub data: Vec<u8>,
}

/// Magic plus 13 fields of 8 hex digits.
const HEADER_LEN: usize = 6 + 13 * 8;

/// Every entry up to (not including) `TRAILER!!!`; panics on any deviation.
pub(crate) fn read_cpio(mut bytes: &[u8]) -> Vec<CpioEntry> {
    let total = bytes.len();
    let mut entries = Vec::new();
    loop {
        let offset = total - bytes.len();
        assert_eq!(offset % 4, 0, "entry at unaligned offset {offset}");
        assert_eq!(&bytes[..6], b"070701", "bad magic at {offset}");
        let field = |i: usize| {
            let hex = std::str::from_utf8(&bytes[6 + 8 * i..14 + 8 * i]).unwrap();
            u32::from_str_radix(hex, 16).unwrap()
        };
        let filesize = usize::try_from(field(6)).unwrap();
        let namesize = usize::try_from(field(11)).unwrap();
        assert_eq!((field(2), field(3)), (0, 0), "uid/gid");
        let name_bytes = &bytes[HEADER_LEN..HEADER_LEN + namesize];
        assert_eq!(name_bytes.last(), Some(&0), "name not NUL-terminated");
        let name = std::str::from_utf8(&name_bytes[..namesize - 1]).unwrap();
        let data_start = (HEADER_LEN + namesize).next_multiple_of(4);
        let data_end = data_start + filesize;
        let entry = CpioEntry {
            ino: field(0),
            mode: field(1),
            nlink: field(4),
            mtime: field(5),
            rdev: (field(9), field(10)),
            name: name.to_owned(),
            data: bytes[data_start..data_end].to_vec(),
        };
        assert!(bytes[HEADER_LEN + namesize..data_start]
            .iter()
            .all(|&b| b == 0));
        bytes = &bytes[data_end.next_multiple_of(4)..];
        if entry.name == "TRAILER!!!" {
            assert!(bytes.is_empty(), "bytes after the trailer");
            return entries;
        }
        entries.push(entry);
    }
}
