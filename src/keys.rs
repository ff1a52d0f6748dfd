//! What keys typed on the console during long work mean. Only one so far:
//! Esc skips the media check (`rd.live.check`), as dracut's `checkisomd5`
//! allows.
//!
//! A terminal sends Esc as the byte 0x1b, but it also starts the sequences
//! of the arrow and function keys (`ESC [ A`, `ESC O P`): an Esc followed,
//! in the same read, by `[` or `O` is such a key and skips nothing (a
//! sequence arrives in one read; a lone Esc arrives alone).

/// The Esc key's byte.
pub const ESC: u8 = 0x1b;

/// Whether the bytes read from the console in one go hold a lone Esc.
pub fn skip_requested(keys: &[u8]) -> bool {
    keys.iter()
        .enumerate()
        .filter(|(_, b)| **b == ESC)
        .any(|(i, _)| !matches!(keys.get(i + 1), Some(b'[' | b'O')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_esc_skips_but_arrow_and_function_keys_do_not() {
        assert!(skip_requested(b"\x1b"));
        assert!(skip_requested(b"ab\x1b"));
        assert!(skip_requested(b"\x1b[A\x1b"));
        assert!(skip_requested(b"\x1b\x1b[A"));
        assert!(!skip_requested(b""));
        assert!(!skip_requested(b"\r\n q"));
        assert!(!skip_requested(b"\x1b[A"));
        assert!(!skip_requested(b"\x1bOP"));
    }
}
