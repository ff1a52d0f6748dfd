//! A connected byte stream whose every wait is bounded: the seam between the
//! download (HTTP over it) and what carries the bytes (a TCP socket, or TLS
//! over one). The HTTP code is written once against [`Stream`]; `https://`
//! only changes which stream it is given.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

use super::tls_failure::TlsFailure;
use super::{errno_text, Errno};

/// Bytes in both directions, each call waiting at most the bound the
/// stream was made with (`rd.liveinit.net.stall`).
pub trait Stream {
    /// Reads what has arrived, up to `buf.len()` bytes, waiting for the first
    /// one at most the stream's bound (then `Io(Errno::TIMEDOUT)`). `Ok(0)`
    /// is the end of the stream.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError>;

    /// Sends all of `buf`, each wait bounded the same way.
    fn write_all(&mut self, buf: &[u8]) -> Result<(), StreamError>;
}

/// Why a stream failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The system refused, the peer reset, or a wait ran past its bound
    /// (`ETIMEDOUT`): worth another attempt.
    Io(Errno),
    /// TLS failed; [`TlsFailure::is_fatal`] says whether retrying can help.
    Tls(TlsFailure),
}

impl StreamError {
    /// Whether another attempt cannot help (a refused certificate, a CA
    /// bundle with nothing in it), so the boot stops at once.
    pub fn is_fatal(&self) -> bool {
        match self {
            StreamError::Io(_) => false,
            StreamError::Tls(failure) => failure.is_fatal(),
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io(errno) => f.write_str(&errno_text(*errno)),
            StreamError::Tls(failure) => failure.fmt(f),
        }
    }
}

impl From<Errno> for StreamError {
    fn from(errno: Errno) -> StreamError {
        StreamError::Io(errno)
    }
}

impl From<TlsFailure> for StreamError {
    fn from(failure: TlsFailure) -> StreamError {
        StreamError::Tls(failure)
    }
}
