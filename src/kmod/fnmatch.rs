//! Shell-style matching as `modprobe` applies it to module aliases.

// fnmatch

/// Whether `text` matches the shell pattern `pattern`, as `fnmatch(3)` with
/// no flags (what kmod uses for aliases): `*` any run of characters
/// (including `/`), `?` any one, `[abc]`, `[a-z]`, `[!…]` or `[^…]` one of
/// (or none of) a set, `\c` the character `c`. A `[` without its `]` is an
/// ordinary character, a trailing `\` matches nothing (as glibc). Works on bytes; runs in O(pattern × text) at worst.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern after it, text it took up to).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let c = t.get(ti).copied().unwrap_or(0);
        match one(p, pi, c) {
            Step::Star => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Step::Match(width) => {
                pi += width;
                ti += 1;
                continue;
            }
            Step::NoMatch => {}
        }
        // Let the last `*` take one more character, or fail.
        match star {
            Some((after, taken)) => {
                pi = after;
                ti = taken + 1;
                star = Some((after, taken + 1));
            }
            None => return false,
        }
    }
    // Only stars may be left.
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

enum Step {
    Star,
    /// The pattern element (this many bytes of pattern) matched one character.
    Match(usize),
    NoMatch,
}

/// Matches the pattern element at `p[i]` against one character `c`.
fn one(p: &[u8], i: usize, c: u8) -> Step {
    let Some(&head) = p.get(i) else {
        return Step::NoMatch;
    };
    let matched = |ok: bool, width: usize| {
        if ok {
            Step::Match(width)
        } else {
            Step::NoMatch
        }
    };
    match head {
        b'*' => Step::Star,
        b'?' => Step::Match(1),
        b'\\' => match p.get(i + 1) {
            Some(&escaped) => matched(escaped == c, 2),
            // A trailing backslash is an error to glibc: it matches nothing.
            None => Step::NoMatch,
        },
        b'[' => match class(p, i + 1, c) {
            Some((ok, width)) => matched(ok, width + 1),
            None => matched(c == b'[', 1),
        },
        other => matched(other == c, 1),
    }
}

/// A bracket expression starting after its `[` at `p[i]`: whether `c` is in
/// it and how many bytes it spans (through the `]`); `None` if unclosed.
fn class(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start;
    let negated = matches!(p.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == b']' && !first {
            return Some((found != negated, i + 1 - start));
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&b| b != b']') {
            i += 1;
            hi = *p.get(i)?;
            if hi == b'\\' {
                i += 1;
                hi = *p.get(i)?;
            }
            i += 1;
        }
        if lo <= c && c <= hi {
            found = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_literals_and_wildcards() {
        assert!(fnmatch("abc", "abc"));
        assert!(!fnmatch("abc", "abd"));
        assert!(!fnmatch("abc", "abcd"));
        assert!(!fnmatch("abcd", "abc"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("*", "anything/at all"));
        assert!(fnmatch("a*", "a"));
        assert!(fnmatch("a*c", "abbbc"));
        assert!(fnmatch("a*c", "ac"));
        assert!(!fnmatch("a*c", "abcb"));
        assert!(fnmatch("a*b*c", "a-b-b-c"));
        assert!(fnmatch("**a", "bba"));
        assert!(fnmatch("a?c", "abc"));
        assert!(!fnmatch("a?c", "ac"));
        assert!(fnmatch("*?", "x"));
        assert!(!fnmatch("*?", ""));
    }

    #[test]
    fn fnmatch_classes_and_escapes() {
        assert!(fnmatch("[abc]", "b"));
        assert!(!fnmatch("[abc]", "d"));
        assert!(fnmatch("[a-c]x", "cx"));
        assert!(!fnmatch("[a-c]x", "dx"));
        assert!(fnmatch("[!a-c]", "d"));
        assert!(fnmatch("[^a-c]", "d"));
        assert!(!fnmatch("[!a-c]", "a"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("[!]]", "a"));
        assert!(fnmatch("[a-]", "-"));
        assert!(fnmatch("[\\]]", "]"));
        assert!(fnmatch("[0-9A-F]*", "C0"));
        // An unclosed bracket is an ordinary character.
        assert!(fnmatch("[ab", "[ab"));
        assert!(!fnmatch("[ab", "a"));
        assert!(fnmatch("a\\*", "a*"));
        assert!(!fnmatch("a\\*", "ab"));
        assert!(!fnmatch("a\\", "a\\"), "a trailing backslash, as glibc");
    }

    #[test]
    fn fnmatch_real_aliases() {
        let ahci = "pci:v*d*sv*sd*bc01sc06i01*";
        assert!(fnmatch(
            ahci,
            "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01"
        ));
        assert!(!fnmatch(
            ahci,
            "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"
        ));
        let piix = "pci:v00008086d00007010sv*sd*bc*sc*i*";
        assert!(fnmatch(
            piix,
            "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"
        ));
        let storage = "usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*";
        assert!(fnmatch(
            storage,
            "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00"
        ));
        assert!(fnmatch("scsi:t-0x05*", "scsi:t-0x05"));
        assert!(!fnmatch("scsi:t-0x05*", "scsi:t-0x00"));
        assert!(fnmatch(
            "usb:v0BC2p2[0-9A-F][0-9A-F][0-9A-F]d*",
            "usb:v0BC2p2321d0100"
        ));
    }

    #[test]
    fn fnmatch_does_not_blow_up() {
        let text = "a".repeat(200);
        let pattern = alloc::format!("{}b", "*a".repeat(50));
        assert!(!fnmatch(&pattern, &text));
    }
}
