//! A plain HTTP forward proxy for the network boot tests (`proxy=`): it
//! takes absolute-form requests (`GET http://host:port/path HTTP/1.1`),
//! logs them, and forwards them in origin form. Its whole world is the
//! boot's private network namespace: whatever host a request names, it
//! connects to 127.0.0.1 on that port (the image server), so no request
//! can leave the machine. `CONNECT` and origin-form requests are refused.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

/// A request line's absolute-form target, split: `(authority, port, path)`.
pub fn absolute_target(target: &str) -> Option<(String, u16, String)> {
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let port = match authority.rsplit_once(':') {
        Some((_, p)) if !authority.ends_with(']') => p.parse().ok()?,
        _ => 80,
    };
    Some((authority.to_string(), port, path.to_string()))
}

/// Accepts on `listener` until the process ends.
pub fn serve(listener: TcpListener) {
    for conn in listener.incoming().flatten() {
        thread::spawn(move || {
            if let Err(e) = forward(conn) {
                eprintln!("fwdproxy: {e}");
            }
        });
    }
}

fn forward(client: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (method, target, version) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or("HTTP/1.1"),
    );
    let mut headers = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        // Hop-by-hop for the proxy itself: not passed on.
        if !h.to_ascii_lowercase().starts_with("proxy-") {
            headers.push_str(&h);
        }
    }
    let mut client = client;
    let Some((authority, port, path)) = absolute_target(target).filter(|_| method == "GET") else {
        eprintln!("fwdproxy: refused {method} {target}");
        return write!(
            client,
            "HTTP/1.1 405 Not Here\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    };
    eprintln!("fwdproxy: {method} {target} -> 127.0.0.1:{port} ({authority})");
    let mut upstream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fwdproxy: connect 127.0.0.1:{port}: {e}");
            return write!(
                client,
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    };
    write!(upstream, "{method} {path} {version}\r\n{headers}\r\n")?;
    let copied = io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    copied.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_targets_are_split() {
        assert_eq!(
            absolute_target("http://origin.liveinit.test:18080/f/live.img"),
            Some((
                "origin.liveinit.test:18080".into(),
                18080,
                "/f/live.img".into()
            ))
        );
        assert_eq!(
            absolute_target("http://h"),
            Some(("h".into(), 80, "/".into()))
        );
        assert_eq!(
            absolute_target("http://[fd00::1]/x"),
            Some(("[fd00::1]".into(), 80, "/x".into()))
        );
        assert_eq!(absolute_target("/f/live.img"), None);
        assert_eq!(absolute_target("h:443"), None);
    }
}
