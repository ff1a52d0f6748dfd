//! The running SHA-256 of the `.part` file: hashed beside the download by
//! the seam's child where the machine has a CPU to spare
//! ([`Sys::digest_start`]), otherwise here as each piece is written. Either
//! way one pass, while the image streams; the record gets the digest
//! whether or not `rd.liveinit.net.sha256=` asked for a check.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{info, warn};

use super::super::progress_line;
use crate::fetch::sha256::Sha256;
use crate::progress::Progress;
use crate::sys::{DigestState, Errno, Sys};

/// How often the hash that lags behind is looked at once the download is
/// over (and its progress shown).
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Wake the child after this many new bytes, not after every piece.
const WAKE_EVERY: u64 = 1 << 20;

/// Why the hash beside gave no digest.
pub enum Stopped {
    /// No progress within the bound, at this many bytes.
    At(u64),
    Failed(Errno),
}

#[derive(Default)]
pub struct Digest {
    /// The hash kept here, when nothing hashes beside.
    inline: Sha256,
    /// The seam's hash beside the download.
    beside: Option<u32>,
    /// Hashes beside that no longer match the file, to be stopped.
    stale: Vec<u32>,
    /// Bytes written since the child was last woken.
    unwoken: u64,
}

impl Digest {
    /// The file at `path` starts (again) from its first byte. A digest
    /// that is only recorded (`after_last_byte`) waits for the last byte:
    /// it never competes with the transfer for a CPU.
    pub fn start<S: Sys>(&mut self, sys: &S, path: &str, after_last_byte: bool) {
        self.forget();
        self.stop(sys);
        self.beside = match sys.digest_start(path, after_last_byte) {
            Ok(Some(handle)) => {
                info!("livenet: hashing in a child process beside the download");
                Some(handle)
            }
            Ok(None) => None,
            Err(e) => {
                warn!(
                    "livenet: hashing beside the download failed ({e}); hashing as it is written"
                );
                None
            }
        };
    }

    /// What was hashed no longer counts (the file is emptied next).
    pub fn forget(&mut self) {
        self.inline = Sha256::new();
        self.stale.extend(self.beside.take());
        self.unwoken = 0;
    }

    /// `piece` was appended; the file now holds `len` bytes.
    pub fn took<S: Sys>(&mut self, sys: &S, piece: &[u8], len: u64) {
        match self.beside {
            None => self.inline.update(piece),
            Some(handle) => {
                self.unwoken += piece.len() as u64;
                if self.unwoken >= WAKE_EVERY {
                    self.unwoken = 0;
                    sys.digest_grown(handle, len);
                }
            }
        }
    }

    /// The digest of the whole `len`-byte file. A hash that lags behind
    /// is waited for, with its progress on the console, as long as it
    /// moves: `stall` without progress ends the wait.
    pub fn finish<S: Sys>(
        &mut self,
        sys: &S,
        len: u64,
        what: &str,
        stall: Duration,
    ) -> Result<[u8; 32], Stopped> {
        let Some(handle) = self.beside else {
            return Ok(self.inline.clone().finish());
        };
        let mut progress: Option<Progress> = None;
        let mut moved = sys.now();
        let mut hashed = 0;
        let result = loop {
            match sys.digest_wait(handle, len, LOOK_EVERY) {
                Ok(DigestState::Done(digest)) => break Ok(digest),
                Ok(DigestState::Hashed(n)) => {
                    let now = sys.now();
                    if n > hashed {
                        hashed = n;
                        moved = now;
                    } else if now.saturating_sub(moved) >= stall {
                        break Err(Stopped::At(hashed));
                    }
                    let shown = progress.get_or_insert_with(|| Progress::new(what, len, now));
                    progress_line::show(sys, shown.update(hashed, now));
                }
                Err(e) => break Err(Stopped::Failed(e)),
            }
        };
        if progress.is_some() {
            progress_line::clear(sys);
        }
        self.stop(sys);
        result
    }

    /// Stops every hash beside (on any way out of the download).
    pub fn stop<S: Sys>(&mut self, sys: &S) {
        for handle in self.stale.drain(..).chain(self.beside.take()) {
            sys.digest_stop(handle);
        }
    }
}
