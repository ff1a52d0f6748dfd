//! An errno in words, as `strerror` has them.

use core::ffi::CStr;

#[allow(unused_imports)]
use crate::prelude::*;

use super::Errno;

/// `No such device (os error 19)`: the C library's words and the number.
pub fn errno_text(errno: Errno) -> String {
    let code = errno.raw_os_error();
    // SAFETY: `strerror` returns a pointer to a NUL-terminated string that
    // stays valid until the next `strerror` call; the init is
    // single-threaded and copies it out at once.
    let words = unsafe { CStr::from_ptr(libc::strerror(code)) };
    format!(
        "{} (os error {code})",
        String::from_utf8_lossy(words.to_bytes())
    )
}
