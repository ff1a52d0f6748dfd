//! Why a TLS connection failed, in the words the boot prints after "TLS: " (the
//! network-boot spec's error table): the verifier's reason, the CA bundle
//! and how many certificates it holds, and for a time error the system time
//! beside the certificate's validity window. Plain data, so every text is
//! tested without a TLS library; `tls.rs` maps rustls' errors onto it.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// Where the trusted certificates came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub path: String,
    /// Certificates in it that could be used as roots.
    pub certificates: usize,
}

/// What the verifier held against the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// No certificate of the bundle issued it (nor a chain up to one).
    UnknownIssuer,
    /// It does not name the host of the URL; `presented` is what it names.
    NameMismatch {
        expected: String,
        presented: Vec<String>,
    },
    /// Its `notAfter` has passed; seconds since the epoch (UTC).
    Expired { now: u64, not_after: u64 },
    /// Its `notBefore` has not come yet.
    NotYetValid { now: u64, not_before: u64 },
    /// Anything else the verifier says (bad signature, revoked, …).
    Other(String),
}

/// Why TLS failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The CA bundle cannot be read, or holds no certificate.
    Bundle { path: String, problem: String },
    /// The host is no name TLS can check (SNI).
    ServerName { host: String },
    /// The server's certificate was refused.
    Certificate {
        host: String,
        problem: CertProblem,
        bundle: Bundle,
    },
    /// The handshake or a record failed otherwise: no common protocol
    /// version or cipher, an alert from the server, a malformed message.
    Protocol { host: String, detail: String },
    /// The server closed the connection without TLS' closing message: the
    /// data may have been cut short by someone in between.
    Truncated { host: String },
    /// The connection under TLS failed during the handshake (reset, or no
    /// answer within the bound).
    Io { host: String, error: String },
    /// This init was built without the `https` feature.
    NotBuilt,
}

impl TlsFailure {
    /// Whether retrying cannot help: everything but a connection that
    /// failed or was cut short (the download retries those like any other).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, TlsFailure::Truncated { .. } | TlsFailure::Io { .. })
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::Bundle { path, problem } => write!(
                f,
                "CA bundle {path}: {problem}. Hint: build the initramfs with \
                 `cargo xtask initramfs --https` (the host's bundle) or \
                 `--https --ca-bundle FILE` (a private CA's PEM file)"
            ),
            TlsFailure::ServerName { host } => write!(
                f,
                "'{host}' is not a host name or IP address a certificate can be \
                 checked against"
            ),
            TlsFailure::Certificate {
                host,
                problem,
                bundle,
            } => {
                write!(f, "the certificate of {host} was refused: ")?;
                write_problem(f, problem)?;
                write!(
                    f,
                    " (checked against {}, {} certificate{}). Hint: {}",
                    bundle.path,
                    bundle.certificates,
                    plural(bundle.certificates),
                    hint(problem)
                )
            }
            TlsFailure::Protocol { host, detail } => write!(
                f,
                "the handshake with {host} failed: {detail}. Hint: the server must offer TLS 1.2 or \
                 1.3 with an ECDHE key exchange and AES-GCM or ChaCha20-Poly1305"
            ),
            TlsFailure::Truncated { host } => write!(
                f,
                "{host} closed the connection without close_notify before the end \
                 of the data"
            ),
            TlsFailure::Io { host, error } => write!(f, "the handshake with {host} failed: {error}"),
            TlsFailure::NotBuilt => f.write_str(
                "this liveinit was built without HTTPS support: pack the initramfs with \
                 `cargo xtask initramfs --https`, or use an http:// URL",
            ),
        }
    }
}

fn write_problem(f: &mut fmt::Formatter<'_>, problem: &CertProblem) -> fmt::Result {
    match problem {
        CertProblem::UnknownIssuer => f.write_str(
            "unknown issuer: no certificate of the CA bundle issued it or a chain up to it",
        ),
        CertProblem::NameMismatch {
            expected,
            presented,
        } => {
            write!(f, "it is not valid for the name '{expected}'; it names ")?;
            if presented.is_empty() {
                return f.write_str("nothing a client can check (no subjectAltName)");
            }
            let names: Vec<String> = presented.iter().map(|n| subject_name(n)).collect();
            f.write_str(&names.join(", "))
        }
        CertProblem::Expired { now, not_after } => write!(
            f,
            "expired: valid until {}, and the system time is {}",
            utc(*not_after),
            utc(*now)
        ),
        CertProblem::NotYetValid { now, not_before } => write!(
            f,
            "not valid yet: valid from {}, and the system time is {}",
            utc(*not_before),
            utc(*now)
        ),
        CertProblem::Other(reason) => f.write_str(reason),
    }
}

/// webpki lists a certificate's names as `DnsName("a.example")` and
/// `IpAddress(10.0.2.2)`; say them as a person would.
fn subject_name(presented: &str) -> String {
    let inner = |prefix: &str| {
        presented
            .strip_prefix(prefix)?
            .strip_suffix(')')
            .map(|n| n.trim_matches('"').to_owned())
    };
    if let Some(name) = inner("DnsName(") {
        return format!("DNS name {name}");
    }
    if let Some(ip) = inner("IpAddress(") {
        return format!("IP address {ip}");
    }
    presented.to_owned()
}

fn hint(problem: &CertProblem) -> &'static str {
    match problem {
        CertProblem::UnknownIssuer => {
            "pack the CA that signed the server's certificate (`cargo xtask initramfs --https \
             --ca-bundle FILE`), or boot with rd.noverifyssl to skip the check (insecure)"
        }
        CertProblem::NameMismatch { .. } => {
            "use the URL with a name the certificate lists (an IP address in the URL needs an \
             IP address in the certificate's subjectAltName)"
        }
        CertProblem::Expired { .. } | CertProblem::NotYetValid { .. } => {
            "the time comes from the machine's real-time clock; if it is wrong, set it in the \
             firmware setup, otherwise renew the server's certificate"
        }
        CertProblem::Other(_) => {
            "check the server's certificate chain (openssl s_client -showcerts), or boot with \
             rd.noverifyssl to skip the check (insecure)"
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `2026-11-30 04:05:00 UTC` for seconds since the epoch.
pub fn utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01: count 400-year
/// eras of 146,097 days from 0000-03-01, so leap days fall at the end of
/// each counted year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        Bundle {
            path: "/etc/ssl/certs/ca-certificates.crt".into(),
            certificates: 144,
        }
    }

    fn refused(problem: CertProblem) -> String {
        TlsFailure::Certificate {
            host: "images.example".into(),
            problem,
            bundle: bundle(),
        }
        .to_string()
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_709_251_199), "2024-02-29 23:59:59 UTC");
        assert_eq!(utc(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(utc(4_102_444_800), "2100-01-01 00:00:00 UTC");
    }

    #[test]
    fn unknown_issuer_names_the_bundle_and_its_size() {
        let text = refused(CertProblem::UnknownIssuer);
        assert!(text.contains("certificate of images.example"), "{text}");
        assert!(text.contains("unknown issuer"), "{text}");
        assert!(
            text.contains("/etc/ssl/certs/ca-certificates.crt, 144 certificates"),
            "{text}"
        );
        assert!(text.contains("--ca-bundle"), "{text}");
        assert!(text.contains("rd.noverifyssl"), "{text}");
    }

    #[test]
    fn name_mismatch_lists_what_the_certificate_names() {
        let text = refused(CertProblem::NameMismatch {
            expected: "10.0.2.2".into(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
                "DirectoryName".into(),
            ],
        });
        assert!(text.contains("not valid for the name '10.0.2.2'"), "{text}");
        assert!(
            text.contains("it names DNS name localhost, IP address 127.0.0.1, DirectoryName"),
            "{text}"
        );
        assert!(text.contains("IP address"), "{text}");
        let none = refused(CertProblem::NameMismatch {
            expected: "a".into(),
            presented: vec![],
        });
        assert!(none.contains("no subjectAltName"), "{none}");
    }

    #[test]
    fn time_errors_show_the_clock_and_the_window() {
        let text = refused(CertProblem::Expired {
            now: 1_798_761_599,
            not_after: 0,
        });
        assert!(text.contains("expired: valid until 1970-01-01 00:00:00 UTC"));
        assert!(text.contains("system time is 2026-12-31 23:59:59 UTC"));
        assert!(text.contains("real-time clock"), "{text}");
        let text = refused(CertProblem::NotYetValid {
            now: 0,
            not_before: 951_782_400,
        });
        assert!(text.contains("not valid yet: valid from 2000-02-29 00:00:00 UTC"));
        assert!(text.contains("system time is 1970-01-01 00:00:00 UTC"));
    }

    #[test]
    fn one_certificate_is_singular() {
        let text = TlsFailure::Certificate {
            host: "h".into(),
            problem: CertProblem::Other("bad signature".into()),
            bundle: Bundle {
                path: "/b".into(),
                certificates: 1,
            },
        }
        .to_string();
        assert!(text.contains("refused: bad signature (checked against /b, 1 certificate)"));
    }

    #[test]
    fn only_a_cut_connection_is_worth_retrying() {
        assert!(!TlsFailure::Truncated { host: "h".into() }.is_fatal());
        assert!(TlsFailure::NotBuilt.is_fatal());
        assert!(TlsFailure::NotBuilt.to_string().contains("--https"));
        let io = TlsFailure::Io {
            host: "h".into(),
            error: "Connection reset by peer (os error 104)".into(),
        };
        assert!(!io.is_fatal());
        assert_eq!(
            io.to_string(),
            "the handshake with h failed: Connection reset by peer (os error 104)"
        );
        assert!(TlsFailure::Bundle {
            path: "/b".into(),
            problem: "no certificate in it".into()
        }
        .is_fatal());
        assert!(TlsFailure::Protocol {
            host: "h".into(),
            detail: "x".into()
        }
        .is_fatal());
        let text = TlsFailure::Bundle {
            path: "/b".into(),
            problem: "no certificate in it".into(),
        }
        .to_string();
        assert!(
            text.contains("CA bundle /b: no certificate in it"),
            "{text}"
        );
        assert!(text.contains("--https"), "{text}");
    }
}
