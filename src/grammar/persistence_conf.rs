//! Debian live-boot's `persistence.conf` (distro-live-spec §1.8): one line
//! per directory of the root to keep on the volume, `DIR [option,…]`.
//! Read as live-boot reads it, with every line it would skip, and every
//! option liveinit does not carry out, named in a warning of its own.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The file live-boot looks for at a volume's root.
pub const FILE_NAME: &str = "persistence.conf";

/// How a directory is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The volume's directory is bind-mounted on the root's (the default).
    Bind,
    /// An overlayfs whose upper is `<source>/rw` on the volume.
    Union,
    /// Symlinks to each file of the source (not carried out).
    Link,
}

/// One usable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The root's directory, absolute and normalised (`/` or `/a/b`).
    pub dir: String,
    pub kind: Kind,
    /// Its place on the volume, relative to the volume's root (empty: the
    /// root itself): `source=`, else `dir` without its leading `/`.
    pub source: String,
}

/// The lines of a `persistence.conf` liveinit will carry out, in the order
/// to mount them (by destination, so no mount hides another), and one
/// warning for each line or option it will not.
pub fn parse(text: &str) -> (Vec<Entry>, Vec<String>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut warnings = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(dir) = words.next().filter(|d| !d.starts_with('#')) else {
            continue;
        };
        match entry(dir, words.collect::<Vec<_>>().join(",").as_str()) {
            Ok(entry) => {
                if entries.iter().any(|e| e.dir == entry.dir) {
                    warnings.push(format!("{dir}: given twice; the first line is used"));
                } else if let Some(other) =
                    entries.iter().find(|e| nested(&e.source, &entry.source))
                {
                    warnings.push(format!(
                        "{dir}: its source ({}) nests with {}'s ({}); skipped",
                        shown(&entry.source),
                        other.dir,
                        shown(&other.source)
                    ));
                } else {
                    // In destination order, so that no mount hides another
                    // (an insertion: a sort would cost kilobytes of code).
                    let at = entries.iter().take_while(|e| e.dir < entry.dir).count();
                    entries.insert(at, entry);
                }
            }
            Err(why) => warnings.push(format!("{}: {why}; skipped", line.trim())),
        }
    }
    (entries, warnings)
}

/// The volume root shown as `.`.
fn shown(source: &str) -> &str {
    if source.is_empty() {
        "."
    } else {
        source
    }
}

/// Whether one relative path is the other or inside it.
fn nested(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        outer.is_empty()
            || inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    inside(a, b) || inside(b, a)
}

fn entry(dir: &str, options: &str) -> Result<Entry, String> {
    let dir = normalised(dir).ok_or_else(|| {
        String::from("not an absolute path without . or .., outside /lib and /run/live")
    })?;
    let mut kind = Kind::Bind;
    let mut source = None;
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "bind" => kind = Kind::Bind,
            "union" => kind = Kind::Union,
            "link" => kind = Kind::Link,
            _ => match opt.strip_prefix("source=") {
                Some(".") => source = Some(String::new()),
                Some(s) if relative(s) => source = Some(String::from(s.trim_end_matches('/'))),
                Some(s) => return Err(format!("source={s} is not . or a path inside the volume")),
                None => return Err(format!("unknown option `{opt}`")),
            },
        }
    }
    let source = source.unwrap_or_else(|| String::from(dir.trim_start_matches('/')));
    Ok(Entry { dir, kind, source })
}

/// `dir` with repeated and trailing slashes dropped, if live-boot takes it.
fn normalised(dir: &str) -> Option<String> {
    if !dir.starts_with('/') {
        return None;
    }
    let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return None;
    }
    let dir = format!("/{}", parts.join("/"));
    // live-boot's own test: anything starting with /lib, /run/live itself
    // and everything below it.
    let refused = dir.starts_with("/lib") || dir == "/run/live" || dir.starts_with("/run/live/");
    (!refused).then_some(dir)
}

fn relative(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && s.split('/')
            .filter(|p| !p.is_empty())
            .all(|p| p != "." && p != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(dir: &str, kind: Kind, source: &str) -> Entry {
        Entry {
            dir: dir.into(),
            kind,
            source: source.into(),
        }
    }

    #[test]
    fn the_usual_files() {
        let (entries, w) = parse("/ union\n");
        assert_eq!(entries, [e("/", Kind::Union, "")]);
        assert!(w.is_empty());
        let (entries, w) =
            parse("# keep homes\n\n  /home   bind\n/var/cache/apt union,source=apt\n");
        assert_eq!(
            entries,
            [
                e("/home", Kind::Bind, "home"),
                e("/var/cache/apt", Kind::Union, "apt")
            ]
        );
        assert!(w.is_empty(), "{w:?}");
        // No option: bind; the last kind wins; options split on spaces too.
        let (entries, _) = parse("/opt\n/srv bind,union\n/x link source=y\n");
        assert_eq!(
            entries,
            [
                e("/opt", Kind::Bind, "opt"),
                e("/srv", Kind::Union, "srv"),
                e("/x", Kind::Link, "y")
            ]
        );
    }

    #[test]
    fn unsafe_lines_are_skipped_with_a_warning_each() {
        let (entries, w) = parse(
            "home\n/lib/modules\n/run/live/x\n/a/../b\n/c bogus\n/d source=/abs\n\
             /e source=../up\n//f// source=.\n",
        );
        assert_eq!(entries, [e("/f", Kind::Bind, "")]);
        assert_eq!(w.len(), 7, "{w:?}");
        assert!(w[4].contains("unknown option `bogus`"), "{}", w[4]);
        assert!(
            w[5].starts_with("/d source=/abs: source=/abs is not"),
            "{}",
            w[5]
        );
    }

    #[test]
    fn duplicates_and_nested_sources_are_skipped() {
        let (entries, w) = parse("/home bind\n/home union\n/home/user bind\n/srv source=s\n");
        assert_eq!(
            entries,
            [e("/home", Kind::Bind, "home"), e("/srv", Kind::Bind, "s")]
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].contains("nests with /home's (home)"), "{}", w[1]);
        // `/ union` uses the volume's root: any other entry nests in it.
        let (entries, w) = parse("/ union\n/home bind\n");
        assert_eq!(entries.len(), 1);
        assert_eq!(w.len(), 1);
    }
}
