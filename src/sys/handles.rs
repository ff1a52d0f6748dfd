//! Open kernel objects (sockets) kept by the seam and named to the boot by
//! small integer handles, so the `Sys` trait carries no file descriptors
//! and the fake can hand out the same handles.

use crate::prelude::*;

use rustix::io::Errno;

use super::SysResult;

/// A handle is an index here; a closed one leaves its slot empty, so a
/// stale handle never reaches another object.
pub struct Handles<T> {
    open: Vec<Option<T>>,
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Handles { open: Vec::new() }
    }
}

impl<T> Handles<T> {
    pub fn insert(&mut self, item: T) -> SysResult<u32> {
        self.open.push(Some(item));
        u32::try_from(self.open.len() - 1).map_err(|_| Errno::MFILE)
    }

    pub fn get(&self, handle: u32) -> SysResult<&T> {
        usize::try_from(handle)
            .ok()
            .and_then(|i| self.open.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    pub fn get_mut(&mut self, handle: u32) -> SysResult<&mut T> {
        usize::try_from(handle)
            .ok()
            .and_then(|i| self.open.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// Drops (closes) what `handle` names; an unknown handle is ignored.
    pub fn close(&mut self, handle: u32) {
        if let Some(slot) = usize::try_from(handle)
            .ok()
            .and_then(|i| self.open.get_mut(i))
        {
            *slot = None;
        }
    }
}
