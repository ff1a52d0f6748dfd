//! HTTP(S) URLs as a boot command line gives them (network-boot-spec §2.1):
//! `scheme://[user[:password]@]host[:port]/path[?query]`. The path is kept
//! byte for byte (no globbing, no re-encoding, like curl `--globoff`); a
//! `#fragment` is dropped; spaces and control characters are refused.

use alloc::format;
use alloc::string::String;
use core::fmt;

/// The schemes liveinit downloads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    /// `user[:password]`, still percent-encoded, if given.
    pub userinfo: Option<String>,
    /// A name, a dotted IPv4 literal, or an IPv6 literal without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`, exactly as written.
    pub target: String,
}

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// A scheme liveinit does not download with (`ftp`, `nfs`…).
    Unsupported(String),
    /// No `scheme://`.
    NoScheme,
    NoHost,
    BadPort(String),
    /// A space or control character at this byte.
    BadChar(usize),
    BadHost(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Unsupported(scheme) => write!(
                f,
                "{scheme}:// is not supported by liveinit; use http:// or https:// \
                 (ftp, tftp, torrent and nfs roots are not supported)"
            ),
            UrlError::NoScheme => f.write_str("not a URL (expected http://host/path)"),
            UrlError::NoHost => f.write_str("the URL names no host"),
            UrlError::BadPort(p) => write!(f, "port '{p}' is not a number from 1 to 65535"),
            UrlError::BadChar(at) => write!(
                f,
                "a space or control character at byte {at}; percent-encode it (%20)"
            ),
            UrlError::BadHost(h) => write!(f, "host '{h}' is not a name or an address"),
        }
    }
}

/// Schemes a live root URL may have that liveinit recognises but refuses.
const REFUSED: [&str; 5] = ["ftp", "tftp", "torrent", "nfs", "nfs4"];

impl Url {
    /// Parses an absolute URL.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        if let Some(at) = text.bytes().position(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::BadChar(at));
        }
        let (scheme, rest) = text.split_once("://").ok_or(UrlError::NoScheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other if REFUSED.contains(&other) => return Err(UrlError::Unsupported(other.into())),
            other => return Err(UrlError::Unsupported(String::from(other))),
        };
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let target = if target.starts_with('/') {
            String::from(target)
        } else {
            format!("/{target}")
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(String::from(u)), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UrlError::BadPort(String::from(p))),
            },
        };
        Ok(Url {
            scheme,
            userinfo,
            host,
            port,
            target,
        })
    }

    /// Resolves a `Location` header against this URL (RFC 3986 §5.2, the
    /// forms servers send: absolute, `//host/…`, `/path`, relative path,
    /// `?query`).
    pub fn join(&self, location: &str) -> Result<Url, UrlError> {
        let location = location.trim();
        if location.contains("://") {
            return Url::parse(location);
        }
        let origin = format!("{}://{}", self.scheme.as_str(), self.authority());
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme.as_str()));
        }
        let target = if location.starts_with('/') {
            String::from(location)
        } else if location.starts_with('?') {
            let path = self.target.split('?').next().unwrap_or("/");
            format!("{path}{location}")
        } else {
            let path = self.target.split('?').next().unwrap_or("/");
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            format!("{dir}/{location}")
        };
        let mut url = Url::parse(&format!("{origin}{}", remove_dots(&target)))?;
        url.userinfo = self.userinfo.clone();
        Ok(url)
    }

    /// `host[:port]` as the `Host` header wants it (brackets for IPv6,
    /// the port only when not the scheme's default).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The downloaded file's name (§3.1): the last path segment,
    /// percent-decoded, reduced to `[A-Za-z0-9._-]`, `image` if nothing
    /// (or only dots) is left.
    pub fn file_name(&self) -> String {
        let path = self.target.split('?').next().unwrap_or("");
        let last = path.rsplit('/').next().unwrap_or("");
        let decoded = percent_decode(last);
        let name: String = decoded
            .iter()
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            .map(|&b| char::from(b))
            .collect();
        if name.chars().all(|c| c == '.') {
            String::from("image")
        } else {
            name
        }
    }

    /// Whether the path ends in `.iso` (dracut's only test for an ISO).
    pub fn names_iso(&self) -> bool {
        self.file_name().to_ascii_lowercase().ends_with(".iso")
    }
}

/// The URL without its password (for messages and the info file).
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if let Some(user) = &self.userinfo {
            let name = user.split(':').next().unwrap_or("");
            write!(f, "{name}@")?;
        }
        write!(f, "{}{}", self.authority(), self.target)
    }
}

fn split_host_port(hostport: &str) -> Result<(String, Option<&str>), UrlError> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| UrlError::BadHost(String::from(hostport)))?;
        if addr.parse::<core::net::Ipv6Addr>().is_err() {
            return Err(UrlError::BadHost(String::from(addr)));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| UrlError::BadHost(String::from(hostport)))?,
            ),
        };
        return Ok((String::from(addr), port));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    let name_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !name_ok {
        return Err(UrlError::BadHost(String::from(host)));
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// Removes `.` and `..` segments of an absolute path.
fn remove_dots(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut out: alloc::vec::Vec<&str> = alloc::vec::Vec::new();
    let segments: alloc::vec::Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
        if i == last && matches!(*seg, "." | "..") {
            out.push("");
        }
    }
    let mut s = format!("/{}", out.join("/"));
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// `%xx` sequences decoded; a broken one is kept as is.
pub fn percent_decode(text: &str) -> alloc::vec::Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = alloc::vec::Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// `user:password` (percent-decoded) as a Basic credential, base64.
pub fn basic_credentials(userinfo: &str) -> String {
    let decoded = percent_decode(userinfo);
    base64(&decoded)
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| char::from(*ALPHABET.get((n & 63) as usize).unwrap_or(&b'='));
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parts_of_a_url() {
        let u = url("http://user:pa%40ss@Boot.Example:8080/live/x%20y.img?v=1#frag");
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(u.userinfo.as_deref(), Some("user:pa%40ss"));
        assert_eq!(u.host, "boot.example");
        assert_eq!(u.port, 8080);
        assert_eq!(u.target, "/live/x%20y.img?v=1");
        assert_eq!(
            u.to_string(),
            "http://user@boot.example:8080/live/x%20y.img?v=1"
        );
        assert_eq!(u.file_name(), "xy.img");
        assert_eq!(basic_credentials("user:pa%40ss"), "dXNlcjpwYUBzcw==");
        let v6 = url("https://[fd00::1]/a.iso");
        assert_eq!((v6.host.as_str(), v6.port), ("fd00::1", 443));
        assert_eq!(v6.authority(), "[fd00::1]");
        assert!(v6.names_iso());
        let v4 = url("http://10.0.2.2:18080");
        assert_eq!((v4.host.as_str(), v4.target.as_str()), ("10.0.2.2", "/"));
        assert_eq!(v4.file_name(), "image");
        assert_eq!(url("http://h?x").target, "/?x");
    }

    #[test]
    fn bad_urls() {
        assert_eq!(Url::parse("http://h/a b"), Err(UrlError::BadChar(10)));
        assert_eq!(Url::parse("http://h/a\tb"), Err(UrlError::BadChar(10)));
        assert!(matches!(Url::parse("ftp://h/x"), Err(UrlError::Unsupported(s)) if s == "ftp"));
        assert!(matches!(
            Url::parse("nfs4://h/x"),
            Err(UrlError::Unsupported(_))
        ));
        assert_eq!(Url::parse("h/x"), Err(UrlError::NoScheme));
        assert_eq!(Url::parse("http:///x"), Err(UrlError::NoHost));
        assert!(matches!(
            Url::parse("http://h:0/"),
            Err(UrlError::BadPort(_))
        ));
        assert!(matches!(
            Url::parse("http://h:99999/"),
            Err(UrlError::BadPort(_))
        ));
        assert!(matches!(
            Url::parse("http://[zz]/"),
            Err(UrlError::BadHost(_))
        ));
        assert!(matches!(
            Url::parse("http://a,b/"),
            Err(UrlError::BadHost(_))
        ));
        assert!(UrlError::Unsupported("tftp".into())
            .to_string()
            .contains("use http:// or https://"));
    }

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = url("http://u:p@h:81/a/b/c.img?q");
        let cases = [
            ("/f/c.img", "http://u@h:81/f/c.img"),
            ("d.img", "http://u@h:81/a/b/d.img"),
            ("../d.img", "http://u@h:81/a/d.img"),
            ("./x/./y", "http://u@h:81/a/b/x/y"),
            ("?v=2", "http://u@h:81/a/b/c.img?v=2"),
            ("//other/x", "http://other/x"),
            ("https://s/x", "https://s/x"),
        ];
        for (loc, want) in cases {
            assert_eq!(base.join(loc).unwrap().to_string(), want, "{loc}");
        }
    }

    #[test]
    fn file_names_are_reduced_to_safe_characters() {
        assert_eq!(url("http://h/a/..%2F..%2Fetc").file_name(), "....etc");
        assert_eq!(url("http://h/a/%2e%2e").file_name(), "image");
        assert_eq!(url("http://h/a/").file_name(), "image");
        assert_eq!(url("http://h/Live_1-2.ISO").file_name(), "Live_1-2.ISO");
    }
}
