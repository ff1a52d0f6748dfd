//! The fake's hash beside the download: off unless a test asks (a machine
//! with one CPU, where the boot hashes as it writes); on, it hashes the
//! fake file from where it left off whenever it is asked, as the child
//! does, so a file cut behind its back gives a wrong digest or an error
//! here too.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::Cell;
use core::time::Duration;
use std::cell::RefCell;

use super::super::{DigestState, Errno, SysResult};
use super::FakeSys;
use crate::fetch::sha256::Sha256;

#[derive(Default)]
pub struct FakeDigests {
    on: Cell<bool>,
    /// The hasher never gets anywhere (a child stopped by the kernel).
    stuck: Cell<bool>,
    /// Per handle: the file, its hash so far and how much of it that is
    /// (`None` once stopped).
    open: RefCell<Vec<Option<(String, Sha256, u64)>>>,
}

impl FakeSys {
    /// A machine with CPUs to spare: downloads are hashed beside.
    pub fn digest_beside(&self) -> &Self {
        self.digests.on.set(true);
        self
    }

    /// Hashes beside, but never gets past byte 0.
    pub fn digest_stuck(&self) -> &Self {
        self.digests.stuck.set(true);
        self.digest_beside()
    }

    pub(super) fn fake_digest_start(
        &self,
        path: &str,
        after_last_byte: bool,
    ) -> SysResult<Option<u32>> {
        let when = if after_last_byte {
            " after the last byte"
        } else {
            ""
        };
        self.record(format!("digest start {path}{when}"))?;
        if !self.digests.on.get() {
            return Ok(None);
        }
        let mut open = self.digests.open.borrow_mut();
        open.push(Some((path.to_owned(), Sha256::new(), 0)));
        Ok(Some(
            u32::try_from(open.len() - 1).map_err(|_| Errno::MFILE)?,
        ))
    }

    /// Hashes at once; a stuck hasher uses up the whole `timeout`.
    pub(super) fn fake_digest_wait(
        &self,
        handle: u32,
        len: u64,
        timeout: Duration,
    ) -> SysResult<DigestState> {
        self.record(format!("digest wait {handle} {len}"))?;
        if self.digests.stuck.get() {
            self.clock.set(self.clock.get() + timeout);
            return Ok(DigestState::Hashed(0));
        }
        let mut open = self.digests.open.borrow_mut();
        let (path, hash, hashed) = usize::try_from(handle)
            .ok()
            .and_then(|i| open.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)?;
        let files = self.files.borrow();
        let file = files.get(path.as_str()).ok_or(Errno::NOENT)?;
        let from = usize::try_from(*hashed).map_err(|_| Errno::IO)?;
        let to = usize::try_from(len).map_err(|_| Errno::IO)?;
        let new = file.get(from..to).ok_or(Errno::IO)?;
        hash.update(new);
        *hashed = len;
        Ok(DigestState::Done(hash.clone().finish()))
    }

    /// A hash follows its file through a rename, as the child's open
    /// descriptor does.
    pub(super) fn digest_renamed(&self, from: &str, to: &str) {
        for (path, _, _) in self.digests.open.borrow_mut().iter_mut().flatten() {
            if path == from {
                *path = to.to_owned();
            }
        }
    }

    pub(super) fn fake_digest_stop(&self, handle: u32) {
        let _ = self.record(format!("digest stop {handle}"));
        let mut open = self.digests.open.borrow_mut();
        if let Some(slot) = usize::try_from(handle).ok().and_then(|i| open.get_mut(i)) {
            *slot = None;
        }
    }
}
