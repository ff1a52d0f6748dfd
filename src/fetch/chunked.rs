//! The `chunked` transfer coding (RFC 9112 §7.1), decoded as the bytes
//! arrive: sizes, extensions and trailers are read and dropped, the data is
//! handed on without copying.

/// Why a chunked body cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// A byte that has no place there, at this offset of the input given.
    Malformed,
    /// A chunk size beyond any image (2^60 bytes).
    TooBig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` seen so far.
    Size {
        size: u64,
        digits: u32,
    },
    /// After `;`: an extension, skipped to the end of the line.
    Extension {
        size: u64,
    },
    /// The `\r` of the size line was seen.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    /// After the data: `\r\n`.
    DataCr,
    DataLf,
    /// Trailer lines; `empty` while the current line has no byte yet.
    Trailer {
        empty: bool,
    },
    TrailerLf {
        empty: bool,
    },
    Done,
}

/// A running decoder.
#[derive(Debug, Clone)]
pub struct Chunked {
    state: State,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked::new()
    }
}

impl Chunked {
    pub fn new() -> Chunked {
        Chunked {
            state: State::Size { size: 0, digits: 0 },
        }
    }

    /// Whether the last chunk and the trailer have been read.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, handing each piece of data to `out`. Bytes after
    /// the end of the body are ignored.
    pub fn feed<'a>(
        &mut self,
        input: &'a [u8],
        out: &mut dyn FnMut(&'a [u8]),
    ) -> Result<(), ChunkError> {
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            self.state = match self.state {
                State::Size { size, digits } => match (b, char::from(b).to_digit(16)) {
                    (_, Some(d)) => {
                        if size >= 1 << 56 {
                            return Err(ChunkError::TooBig);
                        }
                        State::Size {
                            size: size * 16 + u64::from(d),
                            digits: digits + 1,
                        }
                    }
                    (b';' | b' ' | b'\t', None) if digits > 0 => State::Extension { size },
                    (b'\r', None) if digits > 0 => State::SizeLf { size },
                    (b'\n', None) if digits > 0 => end_of_size(size),
                    _ => return Err(ChunkError::Malformed),
                },
                State::Extension { size } => match b {
                    b'\r' => State::SizeLf { size },
                    b'\n' => end_of_size(size),
                    _ => State::Extension { size },
                },
                State::SizeLf { size } => match b {
                    b'\n' => end_of_size(size),
                    _ => return Err(ChunkError::Malformed),
                },
                State::Data { left } => {
                    let rest = input.get(i..).unwrap_or(&[]);
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    if let Some(data) = rest.get(..take) {
                        out(data);
                    }
                    i += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data { left }
                    };
                    continue;
                }
                State::DataCr => match b {
                    b'\r' => State::DataLf,
                    b'\n' => State::Size { size: 0, digits: 0 },
                    _ => return Err(ChunkError::Malformed),
                },
                State::DataLf => match b {
                    b'\n' => State::Size { size: 0, digits: 0 },
                    _ => return Err(ChunkError::Malformed),
                },
                State::Trailer { empty } => match b {
                    b'\r' => State::TrailerLf { empty },
                    b'\n' if empty => State::Done,
                    b'\n' => State::Trailer { empty: true },
                    _ => State::Trailer { empty: false },
                },
                State::TrailerLf { empty } => match (b, empty) {
                    (b'\n', true) => State::Done,
                    (b'\n', false) => State::Trailer { empty: true },
                    _ => return Err(ChunkError::Malformed),
                },
                State::Done => return Ok(()),
            };
            i += 1;
        }
        Ok(())
    }
}

fn end_of_size(size: u64) -> State {
    if size == 0 {
        State::Trailer { empty: true }
    } else {
        State::Data { left: size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, bool), ChunkError> {
        let mut d = Chunked::new();
        let mut out = Vec::new();
        for part in input.chunks(step) {
            d.feed(part, &mut |data| out.extend_from_slice(data))?;
        }
        Ok((out, d.done()))
    }

    #[test]
    fn decodes_in_pieces_of_any_size() {
        let body =
            b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nJUNK";
        for step in 1..body.len() {
            let (out, done) = decode_in_steps(body, step).unwrap();
            assert_eq!(out, b"Wikipedia in \r\n\r\nchunks.", "{step}");
            assert!(done);
        }
        let (out, done) = decode_in_steps(b"3\nabc\n0\n\n", 2).unwrap();
        assert_eq!((out.as_slice(), done), (&b"abc"[..], true));
    }

    #[test]
    fn incomplete_and_broken_bodies() {
        let (out, done) = decode_in_steps(b"5\r\nabc", 3).unwrap();
        assert_eq!((out.as_slice(), done), (&b"abc"[..], false));
        assert_eq!(decode_in_steps(b"x\r\n", 1), Err(ChunkError::Malformed));
        assert_eq!(decode_in_steps(b"\r\n", 1), Err(ChunkError::Malformed));
        assert_eq!(
            decode_in_steps(b"1\r\nab\r\n", 8),
            Err(ChunkError::Malformed)
        );
        assert_eq!(
            decode_in_steps(b"ffffffffffffffffff\r\n", 4),
            Err(ChunkError::TooBig)
        );
    }
}
