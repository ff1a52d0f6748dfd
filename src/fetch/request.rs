//! The HTTP/1.1 request liveinit sends (network-boot-spec §3.1): `GET` with
//! `Host`, `User-Agent`, `Accept-Encoding: identity` (the bytes on the wire
//! are the image's bytes), `Connection: close`, and `Range` + `If-Range`
//! to resume.

use alloc::format;
use alloc::string::String;

use super::url::{basic_credentials, Scheme, Url};

/// Where a resumed download picks up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// Bytes already on disk: the request asks for the rest.
    pub from: u64,
    /// The `ETag` or `Last-Modified` of the copy already on disk: a changed
    /// file is then sent whole (200) instead of a mismatched rest.
    pub validator: Option<String>,
}

/// The request for `url`, through `proxy` if given (absolute-form for an
/// `http://` URL; an `https://` one goes through [`connect_request`]).
pub fn get_request(url: &Url, proxy: Option<&Url>, resume: Option<&Resume>) -> String {
    let via_proxy = proxy.filter(|_| url.scheme == Scheme::Http);
    let target = match via_proxy {
        Some(_) => format!("http://{}{}", url.authority(), url.target),
        None => url.target.clone(),
    };
    let mut r = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: liveinit/{}\r\nAccept: */*\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n",
        url.authority(),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(user) = &url.userinfo {
        r.push_str(&format!(
            "Authorization: Basic {}\r\n",
            basic_credentials(user)
        ));
    }
    if let Some(user) = via_proxy.and_then(|p| p.userinfo.as_ref()) {
        r.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            basic_credentials(user)
        ));
    }
    if let Some(resume) = resume.filter(|r| r.from > 0) {
        r.push_str(&format!("Range: bytes={}-\r\n", resume.from));
        if let Some(v) = &resume.validator {
            r.push_str(&format!("If-Range: {v}\r\n"));
        }
    }
    r.push_str("\r\n");
    r
}

/// `CONNECT host:port` asking `proxy` for a tunnel to an `https://` URL.
pub fn connect_request(url: &Url, proxy: &Url) -> String {
    let hostport = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut r = format!("CONNECT {hostport} HTTP/1.1\r\nHost: {hostport}\r\n");
    if let Some(user) = &proxy.userinfo {
        r.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            basic_credentials(user)
        ));
    }
    r.push_str("\r\n");
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_request_and_a_resumed_one() {
        let url = Url::parse("http://h:8080/a%20b.img?x#f").unwrap();
        let r = get_request(&url, None, None);
        assert!(r.starts_with("GET /a%20b.img?x HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: liveinit/"));
        assert!(r.contains("Accept-Encoding: identity\r\nConnection: close\r\n"));
        assert!(r.ends_with("\r\n\r\n") && !r.contains("Range"));
        let resume = Resume {
            from: 42,
            validator: Some("\"e\"".into()),
        };
        let r = get_request(&url, None, Some(&resume));
        assert!(
            r.contains("Range: bytes=42-\r\nIf-Range: \"e\"\r\n\r\n"),
            "{r}"
        );
    }

    #[test]
    fn credentials_and_proxies() {
        let url = Url::parse("http://u:p@h/x").unwrap();
        let proxy = Url::parse("http://pu:pp@proxy:3128").unwrap();
        let r = get_request(&url, Some(&proxy), None);
        assert!(
            r.starts_with("GET http://h/x HTTP/1.1\r\nHost: h\r\n"),
            "{r}"
        );
        assert!(r.contains("Authorization: Basic dTpw\r\n"), "{r}");
        assert!(r.contains("Proxy-Authorization: Basic cHU6cHA=\r\n"), "{r}");
        let tls = Url::parse("https://[fd00::1]/x").unwrap();
        let r = get_request(&tls, Some(&proxy), None);
        assert!(
            r.starts_with("GET /x HTTP/1.1\r\nHost: [fd00::1]\r\n"),
            "{r}"
        );
        assert_eq!(
            connect_request(&tls, &Url::parse("http://proxy:3128").unwrap()),
            "CONNECT [fd00::1]:443 HTTP/1.1\r\nHost: [fd00::1]:443\r\n\r\n"
        );
    }
}
