//! The console as a keyboard while long work runs (the media check's Esc):
//! non-canonical, no echo, reads that never wait, and the terminal's
//! settings put back when the reader is dropped, so the real init (and a
//! shell) find the console as the kernel set it up.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fd::BorrowedFd;
use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

/// Keys typed on the console, as they are typed.
pub trait ConsoleKeys {
    /// The bytes typed since the last call; empty at once if none.
    fn read(&mut self) -> Vec<u8>;
}

/// The init's stdin, the console ([`super::console`] makes sure of it).
fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 is the console for the init's whole life (attached at
    // start, never closed); the borrow is only used for termios calls and
    // reads.
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// The console switched to single keys; dropping it restores the settings.
pub struct TermKeys {
    saved: Termios,
}

impl TermKeys {
    /// `None` when the console is not a terminal (or cannot be switched).
    pub fn start() -> Option<TermKeys> {
        let saved = termios::tcgetattr(stdin()).ok()?;
        let mut raw = saved.clone();
        raw.local_modes &= !(LocalModes::ICANON | LocalModes::ECHO);
        // A read returns at once with what is there, possibly nothing.
        raw.special_codes[SpecialCodeIndex::VMIN] = 0;
        raw.special_codes[SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(stdin(), OptionalActions::Now, &raw).ok()?;
        Some(TermKeys { saved })
    }
}

impl ConsoleKeys for TermKeys {
    fn read(&mut self) -> Vec<u8> {
        let mut keys = Vec::new();
        let mut buf = [0u8; 64];
        // Bounded: a terminal pasting for ever cannot hold the check.
        for _ in 0..16 {
            match rustix::io::read(stdin(), &mut buf) {
                Ok(n) if n > 0 => keys.extend_from_slice(buf.get(..n).unwrap_or_default()),
                _ => break,
            }
        }
        keys
    }
}

impl Drop for TermKeys {
    fn drop(&mut self) {
        // Keys typed meanwhile are not left for the real init to read.
        let _ = termios::tcflush(stdin(), termios::QueueSelector::IFlush);
        let _ = termios::tcsetattr(stdin(), OptionalActions::Now, &self.saved);
    }
}
