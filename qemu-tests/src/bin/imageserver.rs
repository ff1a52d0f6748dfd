//! The network boot tests' image server: serves a directory over HTTP/1.1
//! on 127.0.0.1 (inside the test's private network namespace, where QEMU's
//! user networking reaches it as 10.0.2.2), with Range support and faults
//! chosen by path prefix:
//!
//! - `/f/NAME`: the file, Range-aware (`Accept-Ranges`, `ETag`, 206);
//! - `/cut/N/NAME`: the first answer announces the full length and closes
//!   after N body bytes; later ones are whole (resume works);
//! - `/stall/N/NAME`: the first answer sends N body bytes, then nothing
//!   (the connection stays open) until the client gives up;
//! - `/slow/BPS/NAME`: at most BPS bytes per second;
//! - `/status/CODE/NAME`: that status, a short body;
//! - `/redir/NAME`: 302 with the relative `Location: ../f/NAME`;
//! - `/norange/NAME`: ignores Range (always 200 and the whole file);
//! - `/html/NAME`: 200 with an HTML page;
//! - `/big/NAME`: announces a 1 TiB `Content-Length`, then closes.
//!
//! Prefixes combine left to right (`/norange/cut/N/NAME`). `--delay S`
//! keeps the port closed for S seconds first; `--down-first S` closes every
//! connection unanswered for S seconds from the first one (a server still
//! starting, timed from the guest's first try rather than from QEMU's start).
//! The server exits when its parent (QEMU, which the shell `exec`ed in
//! place of itself) is gone, or after `--lifetime S` seconds.
//!
//! `--dns NAME` also answers DNS on 127.0.0.1:53 (NAME is 10.0.2.2, every
//! other name does not exist: `qemu_tests::dnsstub`); `--proxy-port P` also
//! runs a forward proxy on 127.0.0.1:P (`qemu_tests::fwdproxy`).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use qemu_tests::{dnsstub, fwdproxy};

struct Config {
    dir: PathBuf,
    port: u16,
    delay: u64,
    down_first: u64,
    lifetime: u64,
    dns: Option<String>,
    proxy_port: Option<u16>,
}

fn main() {
    let cfg = parse_args();
    let parent = std::os::unix::process::parent_id();
    let started = Instant::now();
    let lifetime = Duration::from_secs(cfg.lifetime);
    thread::spawn(move || loop {
        thread::sleep(Duration::from_millis(300));
        if std::os::unix::process::parent_id() != parent || started.elapsed() > lifetime {
            std::process::exit(0);
        }
    });
    if let Some(name) = cfg.dns.clone() {
        let socket = UdpSocket::bind(("127.0.0.1", 53)).unwrap_or_else(|e| {
            eprintln!("imageserver: bind udp 127.0.0.1:53: {e}");
            std::process::exit(1)
        });
        eprintln!("imageserver: DNS on 127.0.0.1:53: {name} is 10.0.2.2");
        thread::spawn(move || dnsstub::serve(&socket, &name, Ipv4Addr::new(10, 0, 2, 2)));
    }
    if let Some(port) = cfg.proxy_port {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
            eprintln!("imageserver: bind 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
        eprintln!("imageserver: forward proxy on 127.0.0.1:{port}");
        thread::spawn(move || fwdproxy::serve(listener));
    }
    thread::sleep(Duration::from_secs(cfg.delay));
    let listener = TcpListener::bind(("127.0.0.1", cfg.port)).unwrap_or_else(|e| {
        eprintln!("imageserver: bind 127.0.0.1:{}: {e}", cfg.port);
        std::process::exit(1)
    });
    eprintln!(
        "imageserver: serving {} on 127.0.0.1:{}",
        cfg.dir.display(),
        cfg.port
    );
    let used: Arc<Mutex<HashSet<String>>> = Arc::default();
    let dir = Arc::new(cfg.dir);
    let mut first: Option<Instant> = None;
    for conn in listener.incoming().flatten() {
        let since = *first.get_or_insert_with(Instant::now);
        if since.elapsed() < Duration::from_secs(cfg.down_first) {
            eprintln!("imageserver: down: closing a connection unanswered");
            drop(conn);
            continue;
        }
        let (dir, used) = (Arc::clone(&dir), Arc::clone(&used));
        thread::spawn(move || {
            if let Err(e) = serve(conn, &dir, &used) {
                eprintln!("imageserver: {e}");
            }
        });
    }
}

fn parse_args() -> Config {
    let mut cfg = Config {
        dir: PathBuf::from("."),
        port: 18080,
        delay: 0,
        down_first: 0,
        lifetime: 600,
        dns: None,
        proxy_port: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--dir" => cfg.dir = PathBuf::from(v),
            "--port" => cfg.port = v.parse().expect("--port N"),
            "--delay" => cfg.delay = v.parse().expect("--delay S"),
            "--down-first" => cfg.down_first = v.parse().expect("--down-first S"),
            "--lifetime" => cfg.lifetime = v.parse().expect("--lifetime S"),
            "--dns" => cfg.dns = Some(v),
            "--proxy-port" => cfg.proxy_port = Some(v.parse().expect("--proxy-port P")),
            _ => panic!("imageserver: unknown argument {a}"),
        }
    }
    cfg
}

/// The faults a path asks for.
#[derive(Default, Debug)]
struct Faults {
    cut: Option<u64>,
    stall: Option<u64>,
    slow: Option<u64>,
    status: Option<u16>,
    redir: bool,
    norange: bool,
    html: bool,
    big: bool,
}

fn faults(path: &str) -> (Faults, String) {
    let mut f = Faults::default();
    let mut parts = path.trim_start_matches('/').split('/').peekable();
    let num = |p: Option<&str>| p.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    while let Some(p) = parts.next() {
        match p {
            "f" => {}
            "cut" => f.cut = Some(num(parts.next())),
            "stall" => f.stall = Some(num(parts.next())),
            "slow" => f.slow = Some(num(parts.next()).max(1)),
            "status" => f.status = Some(u16::try_from(num(parts.next())).unwrap_or(500)),
            "redir" => f.redir = true,
            "norange" => f.norange = true,
            "html" => f.html = true,
            "big" => f.big = true,
            name => {
                let rest: Vec<&str> = std::iter::once(name).chain(parts).collect();
                return (f, rest.join("/"));
            }
        }
    }
    (f, String::new())
}

fn serve(conn: TcpStream, dir: &Path, used: &Mutex<HashSet<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range: Option<u64> = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range = v.trim().trim_end_matches('-').parse().ok();
        }
    }
    let (f, name) = faults(&path);
    let first = used.lock().unwrap().insert(path.clone());
    let mut out = conn;
    let log = |status: u16| eprintln!("imageserver: GET {path} range={range:?} -> {status}");
    if let Some(code) = f.status {
        log(code);
        let body = format!("status {code}\n");
        return write!(
            out,
            "HTTP/1.1 {code} Test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    if f.redir {
        log(302);
        return write!(
            out,
            "HTTP/1.1 302 Found\r\nLocation: ../f/{name}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    if f.html {
        log(200);
        let body =
            "<!DOCTYPE html>\n<html><body><h1>Welcome to the captive portal</h1></body></html>\n";
        return write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    let file = dir.join(&name);
    let data = match std::fs::read(&file) {
        Ok(d) if !name.is_empty() && !name.contains("..") => d,
        _ => {
            log(404);
            return write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    };
    let len = data.len() as u64;
    if f.big {
        log(200);
        return write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            1u64 << 40
        );
    }
    let etag = format!("\"{len}-{}\"", name.len());
    let from = match range {
        Some(r) if !f.norange && r < len => r,
        _ => 0,
    };
    let head = if from > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{len}\r\n\
             Accept-Ranges: bytes\r\nETag: {etag}\r\nConnection: close\r\n\r\n",
            len - from,
            len - 1
        )
    } else {
        let ranges = if f.norange { "none" } else { "bytes" };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nAccept-Ranges: {ranges}\r\nETag: {etag}\r\n\
             Connection: close\r\n\r\n"
        )
    };
    log(if from > 0 { 206 } else { 200 });
    out.write_all(head.as_bytes())?;
    let body = &data[usize::try_from(from).unwrap_or(0)..];
    if let (Some(n), true) = (f.cut, first) {
        let n = usize::try_from(n).unwrap_or(0).min(body.len());
        out.write_all(&body[..n])?;
        eprintln!("imageserver: {path}: cut after {n} bytes");
        return out.shutdown(std::net::Shutdown::Both);
    }
    if let (Some(n), true) = (f.stall, first) {
        let n = usize::try_from(n).unwrap_or(0).min(body.len());
        out.write_all(&body[..n])?;
        eprintln!("imageserver: {path}: stalling after {n} bytes");
        // Hold the connection open without sending, until the client goes.
        let mut sink = [0u8; 64];
        let _ = out.read(&mut sink);
        return Ok(());
    }
    match f.slow {
        Some(bps) => {
            let step = usize::try_from(bps / 10).unwrap_or(1).max(1);
            for piece in body.chunks(step) {
                out.write_all(piece)?;
                thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        }
        None => out.write_all(body),
    }
}
