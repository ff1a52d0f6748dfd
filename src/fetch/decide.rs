//! What to do with an answer, and when to try again (network-boot-spec
//! §3.1 and the download rows of §5): a missing image fails at once, a busy
//! or unreachable server is waited for, a cut transfer is resumed.

use alloc::string::String;
use core::time::Duration;

use super::response::Head;

/// The first retry waits this long; each next one twice as long …
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// … up to this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// A `Retry-After` longer than this is shortened (a server asking for an
/// hour would make the boot look hung).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What an answer means for the download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A body follows: the whole file from byte 0 (`restart`: whatever is
    /// on disk must go first), or the rest from `offset` (a 206).
    Body {
        restart: bool,
        offset: u64,
        /// The full file's size, when the answer says.
        total: Option<u64>,
    },
    /// Follow `Location` (relative to the current URL).
    Redirect(String),
    /// Nothing to fetch: the file on disk is already whole (a 416 whose
    /// size is what we have).
    Complete,
    /// A 416 for a file we do not have whole: start over.
    StartOver,
    /// Try again later (408, 429, 5xx), after at least `after` if the
    /// server said so.
    Transient { after: Option<Duration> },
    /// Give up now.
    Fatal(Refusal),
}

/// Why an answer ends the download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 404, 410: no such image.
    NotFound,
    /// 401, 403.
    Denied,
    /// A redirect without `Location`.
    NoLocation,
    /// A 206 for another range than asked for.
    WrongRange,
    /// Any other status.
    Other,
}

/// Classifies the answer to a request for the bytes from `have` on.
pub fn answer(head: &Head, have: u64) -> Answer {
    match head.status {
        200 => Answer::Body {
            restart: have > 0,
            offset: 0,
            total: head.content_length().ok().flatten(),
        },
        206 => match head.content_range() {
            Some(range) if range.start == have && range.end >= range.start => Answer::Body {
                restart: false,
                offset: have,
                total: range.total,
            },
            _ => Answer::Fatal(Refusal::WrongRange),
        },
        301 | 302 | 303 | 307 | 308 => match head.location() {
            Some(loc) if !loc.trim().is_empty() => Answer::Redirect(String::from(loc)),
            _ => Answer::Fatal(Refusal::NoLocation),
        },
        416 if have > 0 && head.unsatisfied_total() == Some(have) => Answer::Complete,
        416 => Answer::StartOver,
        404 | 410 => Answer::Fatal(Refusal::NotFound),
        401 | 403 => Answer::Fatal(Refusal::Denied),
        408 | 429 | 500..=599 => Answer::Transient {
            after: head
                .retry_after()
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        },
        _ => Answer::Fatal(Refusal::Other),
    }
}

/// The wait before retry number `retry` (1 for the first): 1 s doubling,
/// at most [`MAX_BACKOFF`].
pub fn backoff(retry: u32) -> Duration {
    let shift = retry.saturating_sub(1).min(5);
    (FIRST_BACKOFF * (1u32 << shift)).min(MAX_BACKOFF)
}

/// Whether another attempt is allowed after `done` attempts (`0` = forever).
pub fn may_retry(done: u32, max: u32) -> bool {
    max == 0 || done < max
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::response::parse_head;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).unwrap()
    }

    #[test]
    fn status_table() {
        let cases: [(&str, u64, Answer); 13] = [
            (
                "200 OK\r\nContent-Length: 9",
                0,
                Answer::Body {
                    restart: false,
                    offset: 0,
                    total: Some(9),
                },
            ),
            (
                "200 OK\r\nContent-Length: 9",
                4,
                Answer::Body {
                    restart: true,
                    offset: 0,
                    total: Some(9),
                },
            ),
            (
                "206 P\r\nContent-Range: bytes 4-8/9",
                4,
                Answer::Body {
                    restart: false,
                    offset: 4,
                    total: Some(9),
                },
            ),
            (
                "206 P\r\nContent-Range: bytes 0-8/9",
                4,
                Answer::Fatal(Refusal::WrongRange),
            ),
            ("302 F\r\nLocation: /x", 0, Answer::Redirect("/x".into())),
            ("301 M", 0, Answer::Fatal(Refusal::NoLocation)),
            ("416 R\r\nContent-Range: bytes */9", 9, Answer::Complete),
            ("416 R\r\nContent-Range: bytes */9", 4, Answer::StartOver),
            ("404 Not Found", 0, Answer::Fatal(Refusal::NotFound)),
            ("403 Forbidden", 0, Answer::Fatal(Refusal::Denied)),
            (
                "429 Slow\r\nRetry-After: 5",
                0,
                Answer::Transient {
                    after: Some(Duration::from_secs(5)),
                },
            ),
            (
                "503 Busy\r\nRetry-After: 99999",
                0,
                Answer::Transient {
                    after: Some(MAX_RETRY_AFTER),
                },
            ),
            ("418 Teapot", 0, Answer::Fatal(Refusal::Other)),
        ];
        for (text, have, want) in cases {
            let h = head(&alloc::format!("HTTP/1.1 {text}\r\n\r\n"));
            assert_eq!(answer(&h, have), want, "{text}");
        }
    }

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        let secs: alloc::vec::Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert!(may_retry(5, 0) && may_retry(2, 3) && !may_retry(3, 3));
    }
}
