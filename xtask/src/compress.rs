//! Compressing the whole archive in a form the kernel can unpack, and
//! decoding the compressed modules distributions ship.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use lzma_rust2::{CheckType, XzOptions, XzReader, XzWriter};

/// What kbuild uses for initramfs images (`zstd -19`).
const ZSTD_LEVEL: i32 = 19;
/// xz's default preset; its 8 MiB dictionary is fine for the kernel's
/// initramfs decoder, which allocates the dictionary dynamically.
const XZ_PRESET: u32 = 6;

/// Compression of the whole cpio archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Gzip,
    Xz,
    None,
}

impl FromStr for Compression {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "zstd" => Self::Zstd,
            "gzip" => Self::Gzip,
            "xz" => Self::Xz,
            "none" => Self::None,
            other => bail!("unknown compression '{other}' (expected zstd, gzip, xz or none)"),
        })
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::Xz => "xz",
            Self::None => "none",
        })
    }
}

pub fn compress(data: &[u8], how: Compression) -> Result<Vec<u8>> {
    match how {
        Compression::None => Ok(data.to_vec()),
        Compression::Zstd => zstd_encode(data).context("zstd compression"),
        Compression::Gzip => gzip_encode(data).context("gzip compression"),
        Compression::Xz => xz_encode(data).context("xz compression"),
    }
}

fn zstd_encode(data: &[u8]) -> Result<Vec<u8>> {
    zstd_encode_level(data, ZSTD_LEVEL)
}

/// zstd at any level, for `cargo xtask compression` to compare levels.
pub fn zstd_encode_level(data: &[u8], level: i32) -> Result<Vec<u8>> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), level)?;
    enc.include_checksum(true)?;
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// flate2 writes mtime 0 and no file name into the gzip header, so the output
/// depends on the input only.
fn gzip_encode(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// The kernel's xz decoder verifies CRC32 (or no check) only; xz's default
/// CRC64 makes the kernel reject the image, so the check is set explicitly.
fn xz_encode(data: &[u8]) -> Result<Vec<u8>> {
    let mut opts = XzOptions::with_preset(XZ_PRESET);
    opts.set_check_sum_type(CheckType::Crc32);
    let mut enc = XzWriter::new(Vec::new(), opts)?;
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

pub fn zstd_decode(data: &[u8]) -> Result<Vec<u8>> {
    Ok(zstd::stream::decode_all(data)?)
}

pub fn xz_decode(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    XzReader::new(data, true).read_to_end(&mut out)?;
    Ok(out)
}

pub fn gzip_decode(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn every_format_round_trips_and_is_deterministic() {
        let data = sample();
        for how in [
            Compression::None,
            Compression::Zstd,
            Compression::Gzip,
            Compression::Xz,
        ] {
            let packed = compress(&data, how).unwrap();
            let unpacked = match how {
                Compression::None => packed.clone(),
                Compression::Zstd => zstd_decode(&packed).unwrap(),
                Compression::Gzip => gzip_decode(&packed).unwrap(),
                Compression::Xz => xz_decode(&packed).unwrap(),
            };
            assert_eq!(unpacked, data, "{how:?}");
            assert_eq!(compress(&data, how).unwrap(), packed, "{how:?}");
            if how != Compression::None {
                assert!(packed.len() < data.len() / 4, "{how:?} barely compressed");
            }
        }
    }

    #[test]
    fn xz_stream_flags_declare_crc32() {
        let packed = compress(b"liveinit", Compression::Xz).unwrap();
        assert_eq!(&packed[..6], b"\xFD7zXZ\0");
        // Stream flags: byte 6 is reserved (0), byte 7 is the check type.
        assert_eq!((packed[6], packed[7]), (0x00, 0x01));
        // The footer repeats the flags just before its "YZ" magic.
        let n = packed.len();
        assert_eq!(&packed[n - 4..], b"\0\x01YZ");
    }

    #[test]
    fn gzip_header_has_no_timestamp() {
        let packed = compress(b"liveinit", Compression::Gzip).unwrap();
        assert_eq!(&packed[..3], b"\x1f\x8b\x08");
        assert_eq!(&packed[4..8], [0, 0, 0, 0]);
    }
}
