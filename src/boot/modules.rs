//! Loading the kernel modules packed into the initramfs.

use log::{info, warn};

use super::error::errno_text;
use crate::sys::{Errno, Sys};

/// Written by `cargo xtask initramfs`: one module path per line, every
/// module after the modules it depends on.
pub const LOAD_LIST: &str = "/etc/liveinit/modules.load";

/// Loads every listed module in order. A module that fails is reported and
/// skipped: the medium may still be reachable through built-in drivers.
pub fn load_packed(sys: &impl Sys) -> usize {
    let list = match sys.read_file(LOAD_LIST) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(Errno::NOENT) => {
            info!("no {LOAD_LIST}: relying on built-in drivers");
            return 0;
        }
        Err(e) => {
            warn!("read {LOAD_LIST}: {}", errno_text(e));
            return 0;
        }
    };
    let mut loaded = 0;
    for path in list.lines().map(str::trim) {
        if path.is_empty() || path.starts_with('#') {
            continue;
        }
        match sys.load_module(path) {
            Ok(()) => loaded += 1,
            Err(e) => warn!("load module {path}: {}", errno_text(e)),
        }
    }
    info!("loaded {loaded} kernel modules");
    loaded
}
