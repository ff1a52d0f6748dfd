//! The device-mapper ioctl ABI (`include/uapi/linux/dm-ioctl.h`, version 4)
//! as pure byte encoding and decoding: no syscalls, so every offset, size
//! and alignment rule is unit-tested on the host without root.
//!
//! Every dm ioctl passes one buffer: a 312-byte `struct dm_ioctl` header,
//! then (from `data_start`, up to `data_size`) a command-specific payload.
//! We build and read the buffers field by field with native-endian
//! integers instead of `#[repr(C)]` structs: no `unsafe` transmutes, no
//! alignment requirement on the `Vec<u8>` (the kernel `copy_from_user`s it),
//! and the golden offsets below document the layout.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::string::String;
use alloc::vec::Vec;

use rustix::io::Errno;

/// `sizeof(struct dm_ioctl)`: 3×u32 version, data_size, data_start,
/// target_count, open_count, flags, event_nr, padding (40), u64 dev (48),
/// name[128] (176), uuid[129] (305), data[7] (312). Already 8-aligned.
pub const HEADER_SIZE: usize = 312;
/// Where our payloads start: right after the header.
const DATA_START: u32 = 312;
/// `sizeof(struct dm_target_spec)`: sector_start, length, status, next,
/// target_type[16].
pub const SPEC_SIZE: usize = 40;
/// `DM_NAME_LEN`, including the terminating NUL.
pub const NAME_LEN: usize = 128;
/// `DM_MAX_TYPE_NAME`, including the terminating NUL.
pub const TYPE_LEN: usize = 16;
/// Target specs must start on this boundary (`__alignof__(dm_target_spec)`):
/// the uapi header asks for padding after each params string "to ensure
/// correct alignment of subsequent dm_target_spec", and the kernel reads the
/// specs in place.
pub const SPEC_ALIGN: usize = 8;

/// The ioctl "type" byte of device-mapper (`DM_IOCTL`).
pub const IOCTL_GROUP: u8 = 0xfd;
/// The interface version we speak. The kernel accepts any request whose
/// major matches and whose minor is not newer than its own, so asking for
/// 4.0.0 works on every v4 kernel; it answers with its own version.
pub const VERSION: [u32; 3] = [4, 0, 0];

/// Command numbers (`enum { DM_VERSION_CMD = 0, … }`).
pub mod cmd {
    pub const DEV_CREATE: u8 = 3;
    pub const DEV_REMOVE: u8 = 4;
    /// Suspend *and* resume: without `SUSPEND` in the flags it resumes,
    /// which swaps the loaded (inactive) table in.
    pub const DEV_SUSPEND: u8 = 6;
    pub const TABLE_LOAD: u8 = 9;
    pub const TABLE_STATUS: u8 = 12;
    pub const TARGET_MSG: u8 = 14;
}

/// `dm_ioctl.flags` bits used here.
pub mod flag {
    /// In on TABLE_LOAD: the table opens its devices read-only and the dm
    /// device becomes read-only on resume.
    pub const READONLY: u32 = 1 << 0;
    /// Out: the result did not fit; ask again with a bigger buffer.
    pub const BUFFER_FULL: u32 = 1 << 8;
}

/// Byte offsets of the header fields we touch.
pub mod off {
    pub const VERSION: usize = 0;
    pub const DATA_SIZE: usize = 12;
    pub const DATA_START: usize = 16;
    pub const TARGET_COUNT: usize = 20;
    pub const FLAGS: usize = 28;
    pub const DEV: usize = 40;
    pub const NAME: usize = 48;
}

/// Byte offsets inside a `struct dm_target_spec`.
pub mod spec_off {
    pub const SECTOR_START: usize = 0;
    pub const LENGTH: usize = 8;
    pub const NEXT: usize = 20;
    pub const TARGET_TYPE: usize = 24;
}

/// One line of a table, as `dmsetup` would read it:
/// `<start> <sectors> <kind> <params>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// First sector (512 bytes) of the dm device this line maps.
    pub start: u64,
    /// Number of sectors it maps.
    pub sectors: u64,
    /// Target type, e.g. `linear`, `snapshot`, `thin-pool`, `thin`.
    pub kind: &'a str,
    /// The target's parameter string, e.g. `/dev/loop0 /dev/loop1 PO 8`.
    pub params: &'a str,
}

/// The fields of a reply header we act on. (The kernel also answers with
/// its own interface version, checked by [`parse_header`], `open_count`
/// and `event_nr`, which nothing here needs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub data_size: u32,
    pub data_start: u32,
    pub target_count: u32,
    pub flags: u32,
    pub dev: u64,
}

/// One target of a TABLE_STATUS reply: its type and its status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStatus {
    pub kind: String,
    pub params: String,
}

/// Checks a device name the way the kernel would, but up front and with
/// `EINVAL` instead of truncation: 1–127 bytes (`DM_NAME_LEN` holds the
/// NUL), no `/` (it becomes `/dev/mapper/<name>`), no NUL, and not `.`,
/// `..` or `control` (which would clash with the control node).
pub fn validate_name(name: &str) -> Result<(), Errno> {
    let bad = name.is_empty()
        || name.len() >= NAME_LEN
        || name.contains(['/', '\0'])
        || matches!(name, "." | ".." | "control");
    if bad {
        Err(Errno::INVAL)
    } else {
        Ok(())
    }
}

/// The ioctl request number: `_IOWR(0xfd, cmd, struct dm_ioctl)`.
pub fn opcode(cmd: u8) -> rustix::ioctl::Opcode {
    rustix::ioctl::opcode::read_write::<[u8; HEADER_SIZE]>(IOCTL_GROUP, cmd)
}

/// A complete ioctl buffer: header for `name` with `flags` and
/// `target_count`, then `payload` at `data_start` = 312, zero-padded to at
/// least `min_size` bytes (room for the kernel's answer).
pub fn request(
    name: &str,
    flags: u32,
    target_count: u32,
    payload: &[u8],
    min_size: usize,
) -> Result<Vec<u8>, Errno> {
    validate_name(name)?;
    let used = HEADER_SIZE.checked_add(payload.len()).ok_or(Errno::NOMEM)?;
    let size = used.max(min_size);
    let data_size = u32::try_from(size).map_err(|_| Errno::NOMEM)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| Errno::NOMEM)?;
    buf.resize(HEADER_SIZE, 0);
    for (i, part) in VERSION.iter().enumerate() {
        put_u32(&mut buf, off::VERSION + 4 * i, *part)?;
    }
    put_u32(&mut buf, off::DATA_SIZE, data_size)?;
    put_u32(&mut buf, off::DATA_START, DATA_START)?;
    put_u32(&mut buf, off::TARGET_COUNT, target_count)?;
    put_u32(&mut buf, off::FLAGS, flags)?;
    put_bytes(&mut buf, off::NAME, name.as_bytes())?;
    buf.extend_from_slice(payload);
    buf.resize(size, 0);
    Ok(buf)
}

/// The TABLE_LOAD payload: one `dm_target_spec` per target, each followed
/// by its NUL-terminated params, zero-padded so the next spec is 8-byte
/// aligned. `next` is the distance from this spec to the next one (the
/// kernel's convention on load; set on the last spec too, as libdevmapper
/// does). Rejects an empty table, a type that does not fit in 15 bytes, and
/// NULs inside strings, all with `EINVAL`.
pub fn table_payload(table: &[Target<'_>]) -> Result<Vec<u8>, Errno> {
    if table.is_empty() {
        return Err(Errno::INVAL);
    }
    let mut out = Vec::new();
    for target in table {
        let kind = target.kind.as_bytes();
        if kind.is_empty() || kind.len() >= TYPE_LEN || kind.contains(&0) {
            return Err(Errno::INVAL);
        }
        if target.params.as_bytes().contains(&0) {
            return Err(Errno::INVAL);
        }
        let begin = out.len();
        // Spec, params, NUL, then padding up to the alignment.
        let unpadded = SPEC_SIZE
            .checked_add(target.params.len())
            .and_then(|n| n.checked_add(1))
            .ok_or(Errno::NOMEM)?;
        let len = align_up(unpadded).ok_or(Errno::NOMEM)?;
        let next = u32::try_from(len).map_err(|_| Errno::NOMEM)?;
        let end = begin.checked_add(len).ok_or(Errno::NOMEM)?;
        out.try_reserve(len).map_err(|_| Errno::NOMEM)?;
        out.resize(end, 0);
        let spec = out.get_mut(begin..end).ok_or(Errno::NOMEM)?;
        put_u64(spec, spec_off::SECTOR_START, target.start)?;
        put_u64(spec, spec_off::LENGTH, target.sectors)?;
        put_u32(spec, spec_off::NEXT, next)?;
        put_bytes(spec, spec_off::TARGET_TYPE, kind)?;
        put_bytes(spec, SPEC_SIZE, target.params.as_bytes())?;
    }
    Ok(out)
}

/// The TARGET_MSG payload: `struct dm_target_msg { u64 sector; char
/// message[]; }` with the message NUL-terminated.
pub fn message_payload(sector: u64, text: &str) -> Result<Vec<u8>, Errno> {
    if text.is_empty() || text.as_bytes().contains(&0) {
        return Err(Errno::INVAL);
    }
    let mut out = Vec::new();
    out.try_reserve(text.len().saturating_add(9))
        .map_err(|_| Errno::NOMEM)?;
    out.extend_from_slice(&sector.to_ne_bytes());
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    Ok(out)
}

/// The `data_size` a request buffer declares: how many bytes the kernel
/// will read from it and may write back. `EINVAL` for a short buffer.
pub fn parse_request_size(buf: &[u8]) -> Result<usize, Errno> {
    if buf.len() < HEADER_SIZE {
        return Err(Errno::INVAL);
    }
    let size = get_u32(buf, off::DATA_SIZE).map_err(|_| Errno::INVAL)?;
    usize::try_from(size).map_err(|_| Errno::INVAL)
}

/// Reads the header of a reply. Fails with `EPROTO` when the buffer is
/// short or the kernel speaks another major version of the interface.
pub fn parse_header(buf: &[u8]) -> Result<Header, Errno> {
    if buf.len() < HEADER_SIZE {
        return Err(Errno::PROTO);
    }
    if get_u32(buf, off::VERSION)? != VERSION[0] {
        return Err(Errno::PROTO);
    }
    Ok(Header {
        data_size: get_u32(buf, off::DATA_SIZE)?,
        data_start: get_u32(buf, off::DATA_START)?,
        target_count: get_u32(buf, off::TARGET_COUNT)?,
        flags: get_u32(buf, off::FLAGS)?,
        dev: u64::from_ne_bytes(get_array(buf, off::DEV)?),
    })
}

/// Decodes the targets of a TABLE_STATUS reply. On the way out the kernel
/// measures each spec's `next` from the *first* spec (not from the current
/// one as on load); the params follow each spec, NUL-terminated. Every
/// offset is bounds-checked against `data_size` and the buffer.
pub fn parse_status(buf: &[u8]) -> Result<Vec<TargetStatus>, Errno> {
    let header = parse_header(buf)?;
    let end = usize::try_from(header.data_size)
        .map_err(|_| Errno::PROTO)?
        .min(buf.len());
    let data = buf
        .get(usize::try_from(header.data_start).map_err(|_| Errno::PROTO)?..end)
        .ok_or(Errno::PROTO)?;
    let mut targets = Vec::new();
    let mut at = 0usize;
    for index in 1..=header.target_count {
        let spec = data
            .get(at..at.checked_add(SPEC_SIZE).ok_or(Errno::PROTO)?)
            .ok_or(Errno::PROTO)?;
        let kind = c_string(spec.get(spec_off::TARGET_TYPE..).ok_or(Errno::PROTO)?)?;
        let params = c_string(data.get(at + SPEC_SIZE..).ok_or(Errno::PROTO)?)?;
        targets.push(TargetStatus { kind, params });
        let next = usize::try_from(get_u32(spec, spec_off::NEXT)?).map_err(|_| Errno::PROTO)?;
        // Offsets from the first spec must move forwards, or a corrupt
        // reply could loop us over the same bytes.
        if next <= at && index < header.target_count {
            return Err(Errno::PROTO);
        }
        at = next;
    }
    Ok(targets)
}

/// Splits the kernel's `huge_encode_dev` (the `new_encode_dev` layout:
/// minor low byte, 12 bits of major, then the rest of the minor) into
/// major and minor.
pub fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (
        u32::try_from(major & 0xffff_ffff).unwrap_or(0),
        u32::try_from(minor & 0xffff_ffff).unwrap_or(0),
    )
}

fn align_up(n: usize) -> Option<usize> {
    n.checked_add(SPEC_ALIGN - 1).map(|m| m & !(SPEC_ALIGN - 1))
}

/// The NUL-terminated string at the start of `bytes` (all of it when no NUL).
fn c_string(bytes: &[u8]) -> Result<String, Errno> {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = bytes.get(..len).ok_or(Errno::PROTO)?;
    String::from_utf8(text.to_vec()).map_err(|_| Errno::PROTO)
}

fn put_bytes(buf: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), Errno> {
    let end = at.checked_add(bytes.len()).ok_or(Errno::INVAL)?;
    buf.get_mut(at..end)
        .ok_or(Errno::INVAL)?
        .copy_from_slice(bytes);
    Ok(())
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) -> Result<(), Errno> {
    put_bytes(buf, at, &value.to_ne_bytes())
}

fn put_u64(buf: &mut [u8], at: usize, value: u64) -> Result<(), Errno> {
    put_bytes(buf, at, &value.to_ne_bytes())
}

fn get_array<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N], Errno> {
    let end = at.checked_add(N).ok_or(Errno::PROTO)?;
    buf.get(at..end)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(Errno::PROTO)
}

fn get_u32(buf: &[u8], at: usize) -> Result<u32, Errno> {
    get_array(buf, at).map(u32::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(buf: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap())
    }
    fn u64_at(buf: &[u8], at: usize) -> u64 {
        u64::from_ne_bytes(buf[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn layout_matches_the_uapi_header() {
        // 3*4 + 6*4 + 8 = 48; + 128 name + 129 uuid + 7 data = 312.
        // name at 48, uuid (DM_UUID_LEN 129) at 176, data[7] at 305.
        assert_eq!(off::NAME + NAME_LEN + 129 + 7, HEADER_SIZE);
        assert_eq!(HEADER_SIZE % 8, 0);
        assert_eq!(DATA_START as usize, HEADER_SIZE);
        assert_eq!(spec_off::TARGET_TYPE + TYPE_LEN, SPEC_SIZE);
        assert_eq!(SPEC_SIZE % SPEC_ALIGN, 0);
    }

    #[test]
    fn opcodes_are_iowr_0xfd_with_the_header_size() {
        // _IOWR: dir 3 << 30 | size 312 << 16 | 0xfd << 8 | nr.
        assert_eq!(opcode(cmd::DEV_CREATE) as u64, 0xc138_fd03);
        assert_eq!(opcode(cmd::DEV_REMOVE) as u64, 0xc138_fd04);
        assert_eq!(opcode(cmd::DEV_SUSPEND) as u64, 0xc138_fd06);
        assert_eq!(opcode(cmd::TABLE_LOAD) as u64, 0xc138_fd09);
        assert_eq!(opcode(cmd::TABLE_STATUS) as u64, 0xc138_fd0c);
        assert_eq!(opcode(cmd::TARGET_MSG) as u64, 0xc138_fd0e);
    }

    #[test]
    fn request_header_fields() {
        let buf = request("live-rw", flag::READONLY, 2, b"abc", 0).unwrap();
        assert_eq!(buf.len(), HEADER_SIZE + 3);
        assert_eq!(u32_at(&buf, 0), 4);
        assert_eq!(u32_at(&buf, 4), 0);
        assert_eq!(u32_at(&buf, 8), 0);
        assert_eq!(u32_at(&buf, off::DATA_SIZE), 315);
        assert_eq!(u32_at(&buf, off::DATA_START), 312);
        assert_eq!(u32_at(&buf, off::TARGET_COUNT), 2);
        assert_eq!(u32_at(&buf, off::FLAGS), 1);
        assert_eq!(u64_at(&buf, off::DEV), 0);
        assert_eq!(&buf[off::NAME..off::NAME + 8], b"live-rw\0");
        assert!(buf[off::NAME + 8..HEADER_SIZE].iter().all(|&b| b == 0));
        assert_eq!(&buf[HEADER_SIZE..], b"abc");
    }

    #[test]
    fn request_pads_to_the_minimum_size() {
        let buf = request("x", 0, 0, &[], 16 * 1024).unwrap();
        assert_eq!(buf.len(), 16 * 1024);
        assert_eq!(parse_request_size(&buf), Ok(16 * 1024));
        assert_eq!(parse_request_size(&buf[..100]), Err(Errno::INVAL));
        assert_eq!(u32_at(&buf, off::DATA_SIZE), 16 * 1024);
        let bare = request("x", 0, 0, &[], 0).unwrap();
        assert_eq!(bare.len(), HEADER_SIZE);
    }

    #[test]
    fn names_are_checked_not_truncated() {
        let longest = "a".repeat(127);
        assert!(request(&longest, 0, 0, &[], 0).is_ok());
        let buf = request(&longest, 0, 0, &[], 0).unwrap();
        assert_eq!(buf[off::NAME + 127], 0);
        for bad in [
            "a".repeat(128).as_str(),
            "",
            "a/b",
            "nul\0",
            ".",
            "..",
            "control",
        ] {
            assert_eq!(validate_name(bad), Err(Errno::INVAL), "{bad:?}");
            assert_eq!(request(bad, 0, 0, &[], 0), Err(Errno::INVAL));
        }
        assert_eq!(validate_name("live-base"), Ok(()));
    }

    #[test]
    fn one_target_spec_is_padded_to_eight() {
        let table = [Target {
            start: 0,
            sectors: 131072,
            kind: "snapshot",
            params: "/dev/loop0 /dev/loop1 PO 8",
        }];
        let p = table_payload(&table).unwrap();
        // 40 + 26 + NUL = 67 -> 72.
        assert_eq!(p.len(), 72);
        assert_eq!(u64_at(&p, spec_off::SECTOR_START), 0);
        assert_eq!(u64_at(&p, spec_off::LENGTH), 131072);
        assert_eq!(u32_at(&p, 16), 0); // status: out only
        assert_eq!(u32_at(&p, spec_off::NEXT), 72);
        assert_eq!(&p[24..40], b"snapshot\0\0\0\0\0\0\0\0");
        assert_eq!(&p[40..66], b"/dev/loop0 /dev/loop1 PO 8");
        assert!(p[66..].iter().all(|&b| b == 0));
    }

    #[test]
    fn next_is_relative_to_the_current_spec() {
        let table = [
            Target {
                start: 0,
                sectors: 8,
                kind: "linear",
                params: "7:0 0", // 40 + 5 + 1 = 46 -> 48
            },
            Target {
                start: 8,
                sectors: 8,
                kind: "zero",
                params: "", // 40 + 1 = 41 -> 48
            },
            Target {
                start: 16,
                sectors: 8,
                kind: "error",
                params: "1234567", // 40 + 7 + 1 = 48 exactly
            },
        ];
        let p = table_payload(&table).unwrap();
        assert_eq!(p.len(), 48 * 3);
        for (i, start) in [0u64, 8, 16].iter().enumerate() {
            let at = i * 48;
            assert_eq!(at % SPEC_ALIGN, 0);
            assert_eq!(u64_at(&p, at), *start);
            assert_eq!(u32_at(&p, at + spec_off::NEXT), 48);
        }
        assert_eq!(&p[48 + 24..48 + 29], b"zero\0");
        assert_eq!(p[48 + 40], 0);
        assert_eq!(&p[96 + 40..96 + 48], b"1234567\0");
    }

    #[test]
    fn target_type_must_fit_in_fifteen_bytes() {
        let ok = [Target {
            start: 0,
            sectors: 1,
            kind: "fifteen-chars-x",
            params: "",
        }];
        let p = table_payload(&ok).unwrap();
        assert_eq!(&p[24..40], b"fifteen-chars-x\0");
        for kind in ["sixteen-chars-xx", ""] {
            let bad = [Target { kind, ..ok[0] }];
            assert_eq!(table_payload(&bad), Err(Errno::INVAL));
        }
        let nul = [Target {
            params: "a\0b",
            ..ok[0]
        }];
        assert_eq!(table_payload(&nul), Err(Errno::INVAL));
        assert_eq!(table_payload(&[]), Err(Errno::INVAL));
    }

    #[test]
    fn message_payload_layout() {
        let p = message_payload(0, "create_thin 0").unwrap();
        assert_eq!(p.len(), 8 + 13 + 1);
        assert_eq!(u64_at(&p, 0), 0);
        assert_eq!(&p[8..], b"create_thin 0\0");
        let q = message_payload(0x0102_0304_0506_0708, "x").unwrap();
        assert_eq!(u64_at(&q, 0), 0x0102_0304_0506_0708);
        assert_eq!(message_payload(0, ""), Err(Errno::INVAL));
        assert_eq!(message_payload(0, "a\0"), Err(Errno::INVAL));
    }

    /// A reply as the kernel writes it: our request, the version and flags
    /// overwritten, specs at data_start with `next` from the first spec.
    fn status_reply(targets: &[(u64, u64, &str, &str)], flags: u32) -> Vec<u8> {
        let mut buf = request("live-rw", 0, 0, &[], 4096).unwrap();
        buf[0..4].copy_from_slice(&4u32.to_ne_bytes());
        buf[4..8].copy_from_slice(&47u32.to_ne_bytes());
        let mut at = 0usize;
        for (start, len, kind, params) in targets {
            let base = HEADER_SIZE + at;
            buf[base..base + 8].copy_from_slice(&start.to_ne_bytes());
            buf[base + 8..base + 16].copy_from_slice(&len.to_ne_bytes());
            buf[base + 24..base + 24 + kind.len()].copy_from_slice(kind.as_bytes());
            buf[base + 40..base + 40 + params.len()].copy_from_slice(params.as_bytes());
            at += align_up(SPEC_SIZE + params.len() + 1).unwrap();
            buf[base + 20..base + 24].copy_from_slice(&u32::try_from(at).unwrap().to_ne_bytes());
        }
        let count = u32::try_from(targets.len()).unwrap();
        buf[off::TARGET_COUNT..off::TARGET_COUNT + 4].copy_from_slice(&count.to_ne_bytes());
        buf[off::FLAGS..off::FLAGS + 4].copy_from_slice(&flags.to_ne_bytes());
        let size = u32::try_from(HEADER_SIZE + at).unwrap();
        buf[off::DATA_SIZE..off::DATA_SIZE + 4].copy_from_slice(&size.to_ne_bytes());
        buf[off::DEV..off::DEV + 8].copy_from_slice(&((253u64 << 8) | 3).to_ne_bytes());
        buf
    }

    #[test]
    fn status_reply_round_trip() {
        let buf = status_reply(
            &[
                (0, 131072, "snapshot", "16/65536 16"),
                (131072, 8, "linear", ""),
            ],
            0,
        );
        let header = parse_header(&buf).unwrap();
        assert_eq!(header.target_count, 2);
        assert_eq!(header.data_start, 312);
        assert_eq!(header.data_size, 312 + 56 + 48);
        assert_eq!(split_dev(header.dev), (253, 3));
        let targets = parse_status(&buf).unwrap();
        assert_eq!(
            targets,
            vec![
                TargetStatus {
                    kind: "snapshot".into(),
                    params: "16/65536 16".into(),
                },
                TargetStatus {
                    kind: "linear".into(),
                    params: String::new(),
                },
            ]
        );
        let overflow = status_reply(&[(0, 8, "snapshot", "Overflow")], 0);
        assert_eq!(parse_status(&overflow).unwrap()[0].params, "Overflow");
    }

    #[test]
    fn status_reply_flags_and_garbage() {
        let full = status_reply(&[(0, 8, "snapshot", "Invalid")], flag::BUFFER_FULL);
        assert_eq!(parse_header(&full).unwrap().flags & flag::BUFFER_FULL, 256);
        // Short buffer, wrong major.
        assert_eq!(parse_header(&full[..311]), Err(Errno::PROTO));
        let mut v5 = full.clone();
        v5[0] = 5;
        assert_eq!(parse_header(&v5), Err(Errno::PROTO));
        // A target count pointing past the data.
        let mut lying = status_reply(&[(0, 8, "snapshot", "Invalid")], 0);
        lying[off::TARGET_COUNT] = 9;
        assert_eq!(parse_status(&lying), Err(Errno::PROTO));
        // data_start beyond data_size.
        let mut odd = status_reply(&[(0, 8, "linear", "")], 0);
        odd[off::DATA_START..off::DATA_START + 4].copy_from_slice(&9999u32.to_ne_bytes());
        assert_eq!(parse_status(&odd), Err(Errno::PROTO));
        // No targets (no active table) decodes to nothing.
        let empty = status_reply(&[], 0);
        assert_eq!(parse_status(&empty).unwrap(), vec![]);
    }

    #[test]
    fn dev_numbers_use_the_kernel_encoding() {
        assert_eq!(split_dev(253 << 8), (253, 0));
        assert_eq!(split_dev((253 << 8) | 0xff), (253, 255));
        // Minor 256 goes to bits 20..: new_encode_dev.
        assert_eq!(split_dev((253 << 8) | (1 << 20)), (253, 256));
        assert_eq!(split_dev((254 << 8) | 5 | (0x12 << 20)), (254, 0x1205));
        assert_eq!(split_dev(rustix::fs::makedev(253, 70000)), (253, 70000));
    }
}
