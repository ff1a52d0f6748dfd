//! What a downloaded file is, from its first bytes: an image liveinit can
//! boot (the existing probes), or a named kind of something else, so the
//! refusal says what the server actually sent.

use crate::probe::{self, FsType};

/// The verdict on a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A filesystem image (squashfs, EROFS, ext*…).
    Image(FsType),
    /// An ISO 9660 image (hybrid ones included): a medium.
    Iso,
    /// Not an image: what it looks like.
    Other(&'static str),
}

/// Classifies `head` (up to [`probe::PROBE_BYTES`] from the start).
pub fn classify(head: &[u8]) -> Content {
    match probe::probe(head).map(|fs| fs.fstype) {
        Some(FsType::Iso9660) => return Content::Iso,
        Some(t) => return Content::Image(t),
        None => {}
    }
    Content::Other(describe(head))
}

/// A few kinds of file a wrong URL or a proxy tends to give.
fn describe(head: &[u8]) -> &'static str {
    let text = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| head.get(i..))
        .unwrap_or(&[]);
    let starts = |magic: &[u8]| head.starts_with(magic);
    if head.is_empty() {
        "an empty file"
    } else if text.starts_with(b"<") {
        "an HTML page (a captive portal, a proxy's error or a directory listing?)"
    } else if text.starts_with(b"{") {
        "JSON text (an API's error answer?)"
    } else if starts(&[0x1f, 0x8b]) {
        "gzip data (unpack it on the server; liveinit does not decompress images)"
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "xz data (unpack it on the server)"
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd data (unpack it on the server)"
    } else if starts(b"BZh") {
        "bzip2 data (unpack it on the server)"
    } else if starts(b"PK\x03\x04") {
        "a zip archive"
    } else if starts(b"070701") || starts(b"070702") {
        "a cpio archive (an initramfs?)"
    } else if starts(b"\x7fELF") {
        "an ELF program"
    } else if head.get(0x202..0x206) == Some(b"HdrS") {
        "a Linux kernel"
    } else if head.get(510..512) == Some(&[0x55, 0xaa]) {
        "a disk image with a partition table (point the URL at the image inside it)"
    } else if head.iter().take(512).all(|b| b.is_ascii()) {
        "text"
    } else {
        "data liveinit does not recognise"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUASHFS: &[u8] = include_bytes!("../probe/testdata/squashfs.head");
    const ISO: &[u8] = include_bytes!("../probe/testdata/iso9660-plain.head");
    const EXT4: &[u8] = include_bytes!("../probe/testdata/ext4.head");

    #[test]
    fn images_and_everything_else() {
        assert_eq!(classify(SQUASHFS), Content::Image(FsType::Squashfs));
        assert_eq!(classify(EXT4), Content::Image(FsType::Ext4));
        assert_eq!(classify(ISO), Content::Iso);
        let other = |b: &[u8]| match classify(b) {
            Content::Other(what) => what,
            c => panic!("{c:?}"),
        };
        assert!(other(b"\r\n <!DOCTYPE html>").starts_with("an HTML page"));
        assert!(other(&[0x1f, 0x8b, 8, 0]).starts_with("gzip data"));
        assert_eq!(other(b""), "an empty file");
        assert_eq!(other(b"hello"), "text");
        assert_eq!(other(&[0xff; 600]), "data liveinit does not recognise");
    }
}
