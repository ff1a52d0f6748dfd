//! The download options of a network root (network-boot-spec §2.4), read
//! from the command line into [`NetImage`], the one field `LiveConfig`
//! carries for them.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::url::{Scheme, Url, UrlError};
use crate::cmdline::{Arg, Cmdline};

/// dracut's `RETRIES` (livenetroot L9).
pub const DEFAULT_RETRIES: u32 = 100;
/// Seconds without progress before an attempt is abandoned.
pub const DEFAULT_STALL_SECS: u32 = 30;

pub const SHA256_OPTION: &str = "rd.liveinit.net.sha256";
pub const RETRIES_OPTION: &str = "rd.liveinit.net.retries";
pub const STALL_OPTION: &str = "rd.liveinit.net.stall";

/// The `rd.liveinit.*` options this module reads (for the typo check).
pub const KNOWN: [&str; 3] = [SHA256_OPTION, RETRIES_OPTION, STALL_OPTION];

/// Whether this build speaks TLS.
pub const HTTPS_BUILT: bool = cfg!(feature = "https");

/// How this build is rebuilt with HTTPS.
pub const HTTPS_HINT: &str = "this liveinit was built without HTTPS support; pack the initramfs \
    with `cargo xtask initramfs --https` (TLS and a CA bundle), or use http://";

/// Everything about downloading the live image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetImage {
    pub url: Url,
    /// `proxy=`.
    pub proxy: Option<Url>,
    /// `false` with `rd.noverifyssl`.
    pub verify_tls: bool,
    /// `rd.liveinit.net.sha256=`: the expected digest, lower-case hex.
    pub sha256: Option<String>,
    /// `rd.liveinit.net.retries=`: attempts for transient failures, 0 = forever.
    pub retries: u32,
    /// `rd.liveinit.net.stall=`: seconds without progress per attempt.
    pub stall_secs: u32,
}

/// Why the download options cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The root URL (as written) is not usable.
    Url { url: String, error: UrlError },
    /// `proxy=` is not usable.
    Proxy { proxy: String, error: UrlError },
    /// An `https://` URL and no TLS in this build.
    NoHttps { url: String },
    /// A value that is not what the option takes.
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Url { url, error } => write!(f, "root URL {url}: {error}"),
            NetError::Proxy { proxy, error } => write!(f, "proxy={proxy}: {error}"),
            NetError::NoHttps { url } => write!(f, "{url}: {HTTPS_HINT}"),
            NetError::BadValue {
                key,
                value,
                expected,
            } => write!(f, "{key}={value}: expected {expected}"),
        }
    }
}

/// Reads the download options for the root URL `url`; warnings (a password
/// on the command line, `rd.noverifyssl`) go to `warnings`.
pub fn read(
    cmdline: &Cmdline,
    url: &str,
    warnings: &mut Vec<String>,
) -> Result<NetImage, NetError> {
    let parsed = Url::parse(url).map_err(|error| NetError::Url {
        url: String::from(url),
        error,
    })?;
    if parsed.scheme == Scheme::Https && !HTTPS_BUILT {
        return Err(NetError::NoHttps {
            url: parsed.to_string(),
        });
    }
    if parsed.userinfo.as_deref().is_some_and(|u| u.contains(':')) {
        warnings.push(format!(
            "the root URL {parsed} carries a password: /proc/cmdline is readable by every user of the booted system"
        ));
    }
    let proxy = match cmdline.value("proxy").filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let with_scheme = if p.contains("://") {
                String::from(p)
            } else {
                format!("http://{p}")
            };
            let proxy = Url::parse(&with_scheme).map_err(|error| NetError::Proxy {
                proxy: String::from(p),
                error,
            })?;
            if proxy.scheme != Scheme::Http {
                return Err(NetError::Proxy {
                    proxy: String::from(p),
                    error: UrlError::Unsupported(String::from(proxy.scheme.as_str())),
                });
            }
            Some(proxy)
        }
    };
    let verify_tls = !cmdline.bool("rd.noverifyssl", false);
    if !verify_tls && parsed.scheme == Scheme::Https {
        warnings.push(String::from(
            "rd.noverifyssl: the server's certificate is NOT checked; anyone on the path can serve another image",
        ));
    }
    let sha256 = match cmdline.get(SHA256_OPTION) {
        Arg::Absent => None,
        Arg::Value(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(v.to_ascii_lowercase())
        }
        Arg::Value(v) => return Err(bad(SHA256_OPTION, v, "64 hexadecimal digits")),
        Arg::Bare => return Err(bad(SHA256_OPTION, "", "64 hexadecimal digits")),
    };
    Ok(NetImage {
        url: parsed,
        proxy,
        verify_tls,
        sha256,
        retries: number(
            cmdline,
            RETRIES_OPTION,
            DEFAULT_RETRIES,
            "a number of attempts (0: forever)",
        )?,
        stall_secs: match number(
            cmdline,
            STALL_OPTION,
            DEFAULT_STALL_SECS,
            "a number of seconds from 1",
        )? {
            0 => return Err(bad(STALL_OPTION, "0", "a number of seconds from 1")),
            n => n,
        },
    })
}

/// Warnings for network options that are recognised but not carried out,
/// whatever the root.
pub fn unsupported(cmdline: &Cmdline) -> Option<String> {
    cmdline.value("live.updates").map(|u| {
        format!("live.updates={u} is not supported by liveinit; the updates image is not fetched")
    })
}

fn bad(key: &'static str, value: &str, expected: &'static str) -> NetError {
    NetError::BadValue {
        key,
        value: String::from(value),
        expected,
    }
}

fn number(
    cmdline: &Cmdline,
    key: &'static str,
    default: u32,
    expected: &'static str,
) -> Result<u32, NetError> {
    match cmdline.get(key) {
        Arg::Absent => Ok(default),
        Arg::Value(v) => v.parse().map_err(|_| bad(key, v, expected)),
        Arg::Bare => Err(bad(key, "", expected)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (Result<NetImage, NetError>, Vec<String>) {
        let cmdline = Cmdline::parse(text);
        let mut warnings = Vec::new();
        let url = cmdline
            .value("root")
            .unwrap_or("")
            .trim_start_matches("live:")
            .to_string();
        (read(&cmdline, &url, &mut warnings), warnings)
    }

    #[test]
    fn defaults_and_every_option() {
        let (net, warnings) = read_text("root=live:http://10.0.2.2:8080/x.img");
        let net = net.unwrap();
        assert_eq!(
            (net.retries, net.stall_secs, net.verify_tls),
            (100, 30, true)
        );
        assert_eq!((net.proxy, net.sha256), (None, None));
        assert!(warnings.is_empty());
        let digest = "AB".repeat(32);
        let (net, warnings) = read_text(&format!(
            "root=http://u:pw@h/x.img proxy=p:3128 rd.liveinit.net.sha256={digest} \
             rd.liveinit.net.retries=0 rd.liveinit.net.stall=5"
        ));
        let net = net.unwrap();
        assert_eq!(net.proxy.unwrap().to_string(), "http://p:3128/");
        assert_eq!(net.sha256.unwrap(), "ab".repeat(32));
        assert_eq!((net.retries, net.stall_secs), (0, 5));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("/proc/cmdline"));
    }

    #[test]
    fn bad_values_are_refused() {
        for (text, needle) in [
            ("root=live:ftp://h/x", "ftp:// is not supported"),
            (
                "root=live:http://h/x rd.liveinit.net.sha256=abc",
                "64 hexadecimal",
            ),
            (
                "root=live:http://h/x rd.liveinit.net.retries=many",
                "number of attempts",
            ),
            ("root=live:http://h/x rd.liveinit.net.stall=0", "from 1"),
            ("root=live:http://h/x proxy=https://p", "proxy=https://p"),
        ] {
            let (net, _) = read_text(text);
            let err = net.unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let (net, _) = read_text("root=live:https://h/x");
        if HTTPS_BUILT {
            assert!(net.is_ok());
        } else {
            let err = net.unwrap_err().to_string();
            assert!(err.contains("built without HTTPS support"), "{err}");
            assert!(err.contains("or use http://"), "{err}");
        }
    }

    #[test]
    fn live_updates_is_recognised_and_warned_about() {
        let cmdline = Cmdline::parse("root=live:LABEL=x live.updates=http://h/u.img");
        assert!(unsupported(&cmdline).unwrap().contains("not supported"));
        assert_eq!(unsupported(&Cmdline::parse("root=live:LABEL=x")), None);
    }
}
