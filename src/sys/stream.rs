//! The byte streams a download uses, as the `Sys` seam hands them out: a
//! connection to a server (TCP, or TLS over it: the TLS adapter wraps one
//! `Stream` in another) and a file being written. Both are traits so the
//! recording fake can script a server and keep the file in memory.

use core::time::Duration;

use super::SysResult;

/// A connection to a server. Every call waits at most `timeout`, then
/// fails with `TIMEDOUT`.
pub trait Stream {
    /// Reads what has arrived (at least one byte), `Ok(0)` at the end.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize>;
    /// Sends all of `data`.
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> SysResult<()>;
}

/// A file being written, piece by piece.
pub trait FileSink {
    fn write_all(&mut self, data: &[u8]) -> SysResult<()>;
}
