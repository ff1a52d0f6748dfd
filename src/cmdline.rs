//! The kernel command line, read the way dracut reads it (docs/dracut-live.md §1).
//!
//! Tokenising follows the kernel's `next_arg()`: whitespace separates
//! parameters unless inside double quotes; a parameter splits at its first
//! `=`; a value that starts with `"` loses that quote and a trailing one; a
//! whole parameter wrapped in quotes (`"root=live:x y"`) loses them too.
//! Lookups follow dracut's `getarg`: keys compare exactly (no `-`/`_`
//! folding) and the **last** occurrence wins.
//!
//! Everything after a bare `--` belongs to the real init (the kernel passes
//! those words to init and does not parse them as options), so it is kept
//! apart in [`Cmdline::init_args`].

use alloc::string::String;
use alloc::vec::Vec;

/// One `key` or `key=value` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    /// `None` for a bare key, `Some("")` for `key=`.
    pub value: Option<String>,
}

/// A parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    params: Vec<Param>,
    init_args: Vec<String>,
}

/// The value of a parameter as dracut's `getarg` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// The key is not on the command line.
    Absent,
    /// The key is given bare (`rd.live.image`).
    Bare,
    /// The key is given with a value (`rd.live.dir=LiveOS`, or `key=`).
    Value(&'a str),
}

impl Cmdline {
    /// Several sources in order (config files, then `/proc/cmdline`, then
    /// run-time files), each tokenised on its own, so a stray quote in one
    /// file cannot swallow the next source; later parameters win as usual,
    /// and the init arguments come from the last source that has a `--`.
    pub fn parse_sources<'a>(sources: impl IntoIterator<Item = &'a str>) -> Cmdline {
        let mut all = Cmdline::default();
        for source in sources {
            let one = Cmdline::parse(source);
            all.params.extend(one.params);
            if !one.init_args.is_empty() || source.split_whitespace().any(|w| w == "--") {
                all.init_args = one.init_args;
            }
        }
        all
    }

    /// Parses one source of command-line text.
    pub fn parse(text: &str) -> Cmdline {
        let mut cmdline = Cmdline::default();
        let mut rest = text;
        let mut after_dashes = false;
        while let Some((token, tail)) = next_token(rest) {
            rest = tail;
            if after_dashes {
                cmdline.init_args.push(String::from(token.raw));
            } else if token.key == "--" && token.value.is_none() {
                after_dashes = true;
            } else {
                cmdline.params.push(Param {
                    key: String::from(token.key),
                    value: token.value.map(String::from),
                });
            }
        }
        cmdline
    }

    /// Every parameter in order (before `--`).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The words after `--`, for the real init.
    pub fn init_args(&self) -> &[String] {
        &self.init_args
    }

    /// dracut's `getarg key`: the last occurrence wins.
    pub fn get(&self, key: &str) -> Arg<'_> {
        match self.params.iter().rev().find(|p| p.key == key) {
            None => Arg::Absent,
            Some(Param { value: None, .. }) => Arg::Bare,
            Some(Param { value: Some(v), .. }) => Arg::Value(v),
        }
    }

    /// The value of `key` when given as `key=value` (last occurrence).
    pub fn value(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Arg::Value(v) => Some(v),
            Arg::Absent | Arg::Bare => None,
        }
    }

    /// The same line with only the keys `keep` accepts (kiwi reads some
    /// of dracut's keys in its own way).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Cmdline {
        Cmdline {
            params: self
                .params
                .iter()
                .filter(|p| keep(&p.key))
                .cloned()
                .collect(),
            init_args: self.init_args.clone(),
        }
    }

    /// Whether `key` is present at all, with or without a value.
    pub fn has(&self, key: &str) -> bool {
        self.get(key) != Arg::Absent
    }

    /// dracut's `getargbool default key`: absent gives `default`; bare is
    /// true; `0`, `no` and `off` are false; any other value (even `false`
    /// or an empty one) is true.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Arg::Absent => default,
            Arg::Bare => true,
            Arg::Value(v) => !matches!(v, "0" | "no" | "off"),
        }
    }
}

struct Token<'a> {
    /// The whole parameter as written, outer quotes removed.
    raw: &'a str,
    key: &'a str,
    value: Option<&'a str>,
}

/// Splits off the next parameter, as the kernel's `next_arg()` does.
fn next_token(text: &str) -> Option<(Token<'_>, &str)> {
    let text = text.trim_start_matches(is_space);
    if text.is_empty() {
        return None;
    }
    let (quoted, body) = match text.strip_prefix('"') {
        Some(inner) => (true, inner),
        None => (false, text),
    };
    let mut in_quote = quoted;
    let mut end = body.len();
    for (i, c) in body.char_indices() {
        if is_space(c) && !in_quote {
            end = i;
            break;
        }
        if c == '"' {
            in_quote = !in_quote;
        }
    }
    let (word, tail) = body.split_at(end);
    // A parameter that opened with a quote drops its closing quote.
    let word = if quoted {
        word.strip_suffix('"').unwrap_or(word)
    } else {
        word
    };
    let token = match word.split_once('=') {
        None => Token {
            raw: word,
            key: word,
            value: None,
        },
        Some((key, value)) => {
            // A value that opens with a quote drops it and a closing one.
            let value = match value.strip_prefix('"') {
                Some(v) => v.strip_suffix('"').unwrap_or(v),
                None => value,
            };
            Token {
                raw: word,
                key,
                value: Some(value),
            }
        }
    };
    Some((token, tail))
}

fn is_space(c: char) -> bool {
    // The kernel's isspace(): space, \t, \n, \v, \f, \r.
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(c: &Cmdline) -> Vec<(String, Option<String>)> {
        c.params()
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect()
    }

    #[test]
    fn each_source_is_tokenised_on_its_own() {
        let c = Cmdline::parse_sources([
            "rd.live.dir=\"oops\nrd.retry=3",
            "root=live:LABEL=x -- single",
        ]);
        assert_eq!(
            c.value("root"),
            Some("live:LABEL=x"),
            "the stray quote stays in its file"
        );
        assert_eq!(c.init_args(), ["single"]);
        let joined = Cmdline::parse("rd.live.dir=\"oops\nrd.retry=3\nroot=live:LABEL=x");
        assert_eq!(joined.value("root"), None, "what one joined text would do");
        let late = Cmdline::parse_sources(["root=a -- x", "rd.retry=1"]);
        assert_eq!(
            late.init_args(),
            ["x"],
            "a later source without -- keeps them"
        );
    }
    #[test]
    fn splits_on_whitespace_and_first_equals() {
        let c = Cmdline::parse("  ro\troot=live:LABEL=a=b  quiet\n");
        assert_eq!(
            kv(&c),
            [
                ("ro".into(), None),
                ("root".into(), Some("live:LABEL=a=b".into())),
                ("quiet".into(), None),
            ]
        );
    }

    #[test]
    fn quoted_value_keeps_spaces_and_loses_quotes() {
        let c = Cmdline::parse(r#"root="live:CDLABEL=My Disk" rd.live.image"#);
        assert_eq!(c.value("root"), Some("live:CDLABEL=My Disk"));
        assert!(c.has("rd.live.image"));
    }

    #[test]
    fn whole_quoted_parameter_loses_quotes() {
        let c = Cmdline::parse(r#""root=live:LABEL=a b" x"#);
        assert_eq!(c.value("root"), Some("live:LABEL=a b"));
        assert!(c.has("x"));
    }

    #[test]
    fn inner_quotes_are_kept_as_the_kernel_does() {
        let c = Cmdline::parse(r#"a=b"c d" e"#);
        assert_eq!(c.value("a"), Some(r#"b"c d""#));
        assert!(c.has("e"));
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        let c = Cmdline::parse(r#"root="live:LABEL=x y"#);
        assert_eq!(c.value("root"), Some("live:LABEL=x y"));
    }

    #[test]
    fn last_occurrence_wins() {
        let c = Cmdline::parse("root=live:/dev/sda root=live:/dev/sdb rd.live.dir=a rd.live.dir");
        assert_eq!(c.value("root"), Some("live:/dev/sdb"));
        assert_eq!(c.get("rd.live.dir"), Arg::Bare);
    }

    #[test]
    fn keys_compare_exactly() {
        let c = Cmdline::parse("rd_live_dir=x");
        assert_eq!(c.get("rd.live.dir"), Arg::Absent);
        assert_eq!(c.get("rd_live_dir"), Arg::Value("x"));
    }

    #[test]
    fn empty_value_is_a_value() {
        let c = Cmdline::parse("key=");
        assert_eq!(c.get("key"), Arg::Value(""));
    }

    #[test]
    fn bool_follows_getargbool() {
        let c = Cmdline::parse("a b=0 c=no d=off e=1 f=false g=n h= i=LABEL=x");
        assert!(c.bool("a", false));
        assert!(!c.bool("b", true));
        assert!(!c.bool("c", true));
        assert!(!c.bool("d", true));
        assert!(c.bool("e", false));
        assert!(c.bool("f", false));
        assert!(c.bool("g", false));
        assert!(c.bool("h", false));
        assert!(c.bool("i", false));
        assert!(c.bool("absent", true));
        assert!(!c.bool("absent", false));
    }

    #[test]
    fn words_after_double_dash_go_to_init() {
        let c = Cmdline::parse("root=live:LABEL=x -- single foo=bar");
        assert_eq!(c.init_args(), ["single", "foo=bar"]);
        assert_eq!(c.get("foo"), Arg::Absent);
    }

    #[test]
    fn junk_never_panics() {
        for text in [
            "\"",
            "=",
            "==",
            "\"=\"",
            "a=\"",
            " \" \" ",
            "\u{fffd}=\u{fffd}",
            "--",
        ] {
            let _ = Cmdline::parse(text);
        }
    }
}
