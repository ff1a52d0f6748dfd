//! Kernel modules.

#[allow(unused_imports)]
use crate::prelude::*;

use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// Loads one module file. `EEXIST` (already loaded or built in) is success.
pub fn load(path: &str) -> Result<(), Errno> {
    let file = fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    match rustix::system::finit_module(&file, c"", 0) {
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e),
    }
}
