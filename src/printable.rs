//! Text from media (labels, partition names, file names) as it may be
//! shown: anything that could steer a terminal or start a new log line —
//! control characters, escape sequences, line breaks — is written as
//! `\xNN`, so a hostile label can neither hide a message nor forge a
//! `liveinit:` line in the kernel log.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write;

/// `text` with every control character (C0, DEL, C1) escaped, and
/// backslashes doubled when anything was, so the escaping is unambiguous.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_control(c: char) -> bool {
    c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_kept() {
        assert_eq!(printable("Fedora-WS-Live 42"), "Fedora-WS-Live 42");
        assert_eq!(printable("ünï \\ x"), "ünï \\ x");
        assert_eq!(
            printable("X\n<3>liveinit: FATAL: fake"),
            "X\\x0a<3>liveinit: FATAL: fake"
        );
        assert_eq!(printable("\u{1b}[2J\\"), "\\x1b[2J\\\\");
        assert_eq!(printable("a\u{85}b\u{7f}"), "a\\x85b\\x7f");
    }
}
