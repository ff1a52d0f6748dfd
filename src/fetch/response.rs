//! The head of an HTTP/1.x response: status line and header fields, and the
//! few fields a download acts on.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A head longer than this is refused (a server sending garbage, not HTTP).
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// The status line as received (for messages), e.g. `HTTP/1.1 404 Not Found`.
    pub status_line: String,
    pub headers: Vec<(String, String)>,
}

/// `Content-Range: bytes <start>-<end>/<total>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Not `HTTP/1.x <3 digits>` (the first line, quoted).
    BadStatusLine(String),
    /// A field line without a colon.
    BadField(String),
    /// More than [`MAX_HEAD`] bytes without the blank line ending it.
    TooLong,
    /// `Content-Length` that is not one number.
    BadLength(String),
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::BadStatusLine(l) => write!(f, "not an HTTP response (first line: {l:?})"),
            HeadError::BadField(l) => write!(f, "malformed header line {l:?}"),
            HeadError::TooLong => write!(f, "response head longer than {MAX_HEAD} bytes"),
            HeadError::BadLength(v) => write!(f, "Content-Length {v:?} is not a number"),
        }
    }
}

/// Where the head ends in `buf` (the index after the blank line), if it is
/// all there; `Err` once it is too long to be a head.
pub fn head_end(buf: &[u8]) -> Result<Option<usize>, HeadError> {
    let mut i = 0;
    while let Some(at) = buf
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let nl = i + at;
        let next = nl + 1;
        // A blank line: `\n\n` or `\n\r\n`.
        match (buf.get(next), buf.get(next + 1)) {
            (Some(b'\n'), _) => return Ok(Some(next + 1)),
            (Some(b'\r'), Some(b'\n')) => return Ok(Some(next + 2)),
            _ => {}
        }
        i = next;
    }
    if buf.len() > MAX_HEAD {
        Err(HeadError::TooLong)
    } else {
        Ok(None)
    }
}

/// Parses a complete head (what [`head_end`] delimited).
pub fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("");
    let status = parse_status(first).ok_or_else(|| HeadError::BadStatusLine(short(first)))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // An obsolete folded continuation: part of the previous value.
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HeadError::BadField(short(line)))?;
        headers.push((name.trim().to_ascii_lowercase(), String::from(value.trim())));
    }
    Ok(Head {
        status,
        status_line: String::from(first.trim_end()),
        headers,
    })
}

fn short(line: &str) -> String {
    line.chars().take(80).collect()
}

fn parse_status(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    let _minor = parts.next().filter(|m| m.len() == 1)?;
    let code = parts.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse().ok()
}

impl Head {
    /// The value of the last field named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body length, if announced (ignored under chunked coding, as
    /// RFC 9112 §6.3 says).
    pub fn content_length(&self) -> Result<Option<u64>, HeadError> {
        if self.chunked() {
            return Ok(None);
        }
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| HeadError::BadLength(short(v))),
        }
    }

    pub fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    pub fn content_range(&self) -> Option<ContentRange> {
        let v = self.header("content-range")?;
        let rest = v.strip_prefix("bytes")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        let (start, end) = range.split_once('-')?;
        Some(ContentRange {
            start: start.trim().parse().ok()?,
            end: end.trim().parse().ok()?,
            total: total.trim().parse().ok(),
        })
    }

    /// The `*/<total>` of a 416 answer: the full size.
    pub fn unsatisfied_total(&self) -> Option<u64> {
        let v = self.header("content-range")?;
        v.strip_prefix("bytes */")?.trim().parse().ok()
    }

    /// `Retry-After` in seconds (the HTTP-date form is not understood:
    /// the init may not know the date).
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")?.trim().parse().ok()
    }

    pub fn accepts_ranges(&self) -> bool {
        self.header("accept-ranges")
            .is_some_and(|v| v.eq_ignore_ascii_case("bytes"))
    }

    /// What `If-Range` should name to resume this entity: a strong `ETag`,
    /// else `Last-Modified`.
    pub fn validator(&self) -> Option<String> {
        match self.header("etag") {
            Some(tag) if !tag.starts_with("W/") => Some(String::from(tag)),
            _ => self.header("last-modified").map(String::from),
        }
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\
        Content-Range: bytes 90-99/100\r\nAccept-Ranges: bytes\r\nETag: \"abc\"\r\n\
        X-Folded: a\r\n  b\r\n\r\nBODY";

    #[test]
    fn a_head_and_its_fields() {
        let end = head_end(OK).unwrap().unwrap();
        assert_eq!(&OK[end..], b"BODY");
        let head = parse_head(&OK[..end]).unwrap();
        assert_eq!(head.status, 206);
        assert_eq!(head.status_line, "HTTP/1.1 206 Partial Content");
        assert_eq!(head.content_length(), Ok(Some(10)));
        assert_eq!(
            head.content_range(),
            Some(ContentRange {
                start: 90,
                end: 99,
                total: Some(100)
            })
        );
        assert!(head.accepts_ranges());
        assert_eq!(head.validator().as_deref(), Some("\"abc\""));
        assert_eq!(head.header("x-folded"), Some("a b"));
    }

    #[test]
    fn incomplete_bad_and_odd_heads() {
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n"), Ok(None));
        assert_eq!(head_end(b"HTTP/1.0 200 OK\n\nx"), Ok(Some(17)));
        assert_eq!(head_end(&[b'a'; MAX_HEAD + 1]), Err(HeadError::TooLong));
        assert!(matches!(
            parse_head(b"<html>\r\n\r\n"),
            Err(HeadError::BadStatusLine(_))
        ));
        assert!(matches!(
            parse_head(b"HTTP/1.1 20 OK\r\n\r\n"),
            Err(HeadError::BadStatusLine(_))
        ));
        assert!(matches!(
            parse_head(b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n"),
            Err(HeadError::BadField(_))
        ));
        let h = parse_head(b"HTTP/1.1 200\r\nContent-Length: x\r\n\r\n").unwrap();
        assert!(h.content_length().is_err());
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.content_length(), Ok(None));
        let h = parse_head(b"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Range: bytes */42\r\nETag: W/\"x\"\r\nLast-Modified: Mon\r\n\r\n").unwrap();
        assert_eq!(
            (h.retry_after(), h.unsatisfied_total()),
            (Some(7), Some(42))
        );
        assert_eq!(h.validator().as_deref(), Some("Mon"));
    }
}
