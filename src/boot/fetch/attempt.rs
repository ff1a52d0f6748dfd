//! One attempt: resolve, connect, ask, read the head, act on it, and
//! stream the body to the `.part` file (hashing it on the way). Every wait
//! is bounded by `rd.liveinit.net.stall`.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::SocketAddr;
use core::time::Duration;

use log::info;

use super::transfer::Transfer;
use crate::boot::error::{errno_text, BootError, Cause, Stage};
use crate::boot::progress_line;
use crate::fetch::chunked::Chunked;
use crate::fetch::decide::{answer, Answer, Refusal, MAX_REDIRECTS};
use crate::fetch::request::{connect_request, get_request, Resume};
use crate::fetch::response::{head_end, parse_head, Head};
use crate::fetch::room;
use crate::fetch::url::Scheme;
use crate::fetch::{NetImage, LIVENET_DIR};
use crate::progress::{size_text, Progress, CONSOLE_INTERVAL};
use crate::sys::{Errno, FileSink, Stream, Sys};

/// How an attempt ended, when not with the whole file.
pub enum Failure {
    /// Stop the boot.
    Fatal(Box<BootError>),
    /// Try again after a pause (at least `after`, if the server said).
    Transient {
        why: String,
        after: Option<Duration>,
    },
    /// The URL changed: ask again at once.
    Redirect,
}

fn fatal(t: &Transfer, cause: Cause) -> Failure {
    Failure::Fatal(Box::new(BootError::new(
        Stage::Download,
        t.url.to_string(),
        cause,
    )))
}

fn transient(why: String) -> Failure {
    Failure::Transient { why, after: None }
}

/// Read buffer: large enough that a fast link costs few system calls.
const BUFFER: usize = 128 * 1024;

/// One request and, if the answer has one, its body.
pub fn attempt<S: Sys>(sys: &S, net: &NetImage, t: &mut Transfer) -> Result<(), Failure> {
    let stall = Duration::from_secs(u64::from(net.stall_secs));
    let (host, port) = match &net.proxy {
        Some(p) => (p.host.clone(), p.port),
        None => (t.url.host.clone(), t.url.port),
    };
    let addrs = sys
        .resolve(&host, port)
        .map_err(|reason| transient(dns_failure(sys, &host, &reason)))?;
    let (mut stream, peer) = connect_any(sys, &addrs, stall)?;
    if t.url.scheme == Scheme::Https {
        if let Some(proxy) = &net.proxy {
            tunnel(&mut *stream, &connect_request(&t.url, proxy), stall)?;
        }
        stream = sys
            .start_tls(stream, &t.url.host, net.verify_tls, stall)
            .map_err(|failure| match failure.is_fatal() {
                true => fatal(
                    t,
                    Cause::NetTls {
                        reason: failure.to_string(),
                    },
                ),
                false => transient(format!("TLS: {failure}")),
            })?;
    }
    let resume = (t.have > 0).then(|| Resume {
        from: t.have,
        validator: t.validator.clone(),
    });
    let request = get_request(&t.url, net.proxy.as_ref(), resume.as_ref());
    stream
        .write_all(request.as_bytes(), stall)
        .map_err(|e| transient(format!("sending the request to {peer}: {}", errno_text(e))))?;
    let mut buf = vec![0u8; BUFFER];
    let (head, rest) = read_head(&mut *stream, &mut buf, stall, peer, t)?;
    match answer(&head, t.have) {
        Answer::Redirect(location) => redirect(t, &location),
        Answer::Complete => {
            info!(
                "livenet: the server says the {} on disk are the whole file",
                size_text(t.have)
            );
            Ok(())
        }
        Answer::StartOver if !t.started_over => {
            t.started_over = true;
            t.restart();
            Err(transient(format!(
                "{}: the range asked for is not satisfiable; starting over",
                head.status_line
            )))
        }
        Answer::StartOver => Err(fatal(
            t,
            Cause::NetBadAnswer {
                why: format!("{} again after starting over", head.status_line),
            },
        )),
        Answer::Transient { after } => Err(Failure::Transient {
            why: format!("the server answered {}", head.status_line),
            after,
        }),
        Answer::Fatal(refusal) => Err(refused(t, &head, refusal)),
        Answer::Body {
            restart,
            offset,
            total,
        } => {
            if restart {
                info!(
                    "livenet: the server does not support ranges, restarting from byte 0 \
                     ({} were on disk)",
                    size_text(t.have)
                );
                t.restart();
            } else if offset > 0 {
                t.resumes += 1;
                info!(
                    "livenet: {}: resuming at byte {offset} of {}",
                    head.status_line,
                    total.map_or_else(|| String::from("?"), |n| n.to_string())
                );
            }
            t.total = total;
            t.validator = head.validator();
            t.peer = Some(peer);
            make_room(sys, t)?;
            let body = Body::new(&head, t)?;
            receive(sys, t, &mut *stream, body, &rest, &mut buf, stall)
        }
    }
}

/// The resolver's failure, with what it asked.
fn dns_failure(sys: &impl Sys, host: &str, reason: &str) -> String {
    let conf = sys.read_file("/etc/resolv.conf").unwrap_or_default();
    let conf = String::from_utf8_lossy(&conf);
    let servers: Vec<&str> = conf
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver"))
        .map(str::trim)
        .collect();
    if servers.is_empty() {
        format!("cannot resolve {host}: {reason} (no resolver: DHCP gave none and no nameserver= was given)")
    } else {
        format!(
            "cannot resolve {host}: {reason} (asked {})",
            servers.join(", ")
        )
    }
}

/// Connects to each address in turn; the first that answers wins.
fn connect_any<'a, S: Sys>(
    sys: &'a S,
    addrs: &[SocketAddr],
    stall: Duration,
) -> Result<(Box<dyn Stream + 'a>, SocketAddr), Failure> {
    let mut errors: Vec<String> = Vec::new();
    for &addr in addrs {
        match sys.connect(addr, stall) {
            Ok(stream) => return Ok((stream, addr)),
            Err(Errno::TIMEDOUT) => errors.push(format!(
                "connect to {addr}: no answer within {} s (rd.liveinit.net.stall)",
                stall.as_secs()
            )),
            Err(e) => errors.push(format!("connect to {addr}: {}", errno_text(e))),
        }
    }
    if errors.is_empty() {
        errors.push(String::from("the name resolved to no address"));
    }
    Err(transient(errors.join("; ")))
}

/// `CONNECT` through the proxy; anything but 2xx is fatal.
fn tunnel(stream: &mut dyn Stream, request: &str, stall: Duration) -> Result<(), Failure> {
    let proxy_err = |why: String| transient(format!("proxy: {why}"));
    stream
        .write_all(request.as_bytes(), stall)
        .map_err(|e| proxy_err(errno_text(e)))?;
    let mut buf = vec![0u8; 4096];
    let mut got: Vec<u8> = Vec::new();
    loop {
        let n = stream
            .read(&mut buf, stall)
            .map_err(|e| proxy_err(errno_text(e)))?;
        if n == 0 {
            return Err(proxy_err(String::from("closed the connection")));
        }
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
        if let Some(end) = head_end(&got).map_err(|e| proxy_err(e.to_string()))? {
            let head = parse_head(got.get(..end).unwrap_or_default())
                .map_err(|e| proxy_err(e.to_string()))?;
            return if (200..300).contains(&head.status) {
                Ok(())
            } else {
                Err(proxy_err(format!("CONNECT answered {}", head.status_line)))
            };
        }
    }
}

/// Reads up to the end of the head; returns it and the body bytes read with it.
fn read_head(
    stream: &mut dyn Stream,
    buf: &mut [u8],
    stall: Duration,
    peer: SocketAddr,
    t: &Transfer,
) -> Result<(Head, Vec<u8>), Failure> {
    let mut got: Vec<u8> = Vec::new();
    loop {
        let n = stream.read(buf, stall).map_err(|e| match e {
            Errno::TIMEDOUT => transient(format!(
                "{peer} sent no answer within {} s (rd.liveinit.net.stall)",
                stall.as_secs()
            )),
            e => transient(format!("{peer}: {} before an answer", errno_text(e))),
        })?;
        if n == 0 {
            return Err(transient(format!(
                "{peer} closed the connection before answering"
            )));
        }
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
        let end =
            head_end(&got).map_err(|e| fatal(t, Cause::NetBadAnswer { why: e.to_string() }))?;
        if let Some(end) = end {
            let head = parse_head(got.get(..end).unwrap_or_default())
                .map_err(|e| fatal(t, Cause::NetBadAnswer { why: e.to_string() }))?;
            let rest = got.get(end..).unwrap_or_default().to_vec();
            return Ok((head, rest));
        }
    }
}

fn redirect(t: &mut Transfer, location: &str) -> Result<(), Failure> {
    let next = t.url.join(location).map_err(|e| {
        fatal(
            t,
            Cause::NetBadAnswer {
                why: format!("redirect to {location:?}: {e}"),
            },
        )
    })?;
    t.chain.push(next.to_string());
    let downgrade = t.url.scheme == Scheme::Https && next.scheme == Scheme::Http;
    if downgrade || t.chain.len() > MAX_REDIRECTS + 1 {
        return Err(fatal(
            t,
            Cause::NetRedirects {
                chain: t.chain.clone(),
                downgrade,
            },
        ));
    }
    info!("livenet: redirected to {next}");
    t.url = next;
    Err(Failure::Redirect)
}

fn refused(t: &Transfer, head: &Head, refusal: Refusal) -> Failure {
    let status = head.status_line.clone();
    let cause = match refusal {
        Refusal::NotFound => Cause::NetNotFound { status },
        Refusal::Denied => Cause::NetDenied {
            status,
            credentials: t.url.userinfo.is_some(),
        },
        Refusal::NoLocation => Cause::NetBadAnswer {
            why: format!("{status} without a Location"),
        },
        Refusal::WrongRange => Cause::NetBadAnswer {
            why: format!(
                "{status} with Content-Range {:?}, but bytes from {} were asked for",
                head.header("content-range").unwrap_or(""),
                t.have
            ),
        },
        Refusal::Other => Cause::NetStatus { status },
    };
    fatal(t, cause)
}

/// Checks the RAM against the announced size, then mounts (or grows) the
/// image's tmpfs, before the first body byte.
fn make_room<S: Sys>(sys: &S, t: &mut Transfer) -> Result<(), Failure> {
    if let Some(total) = t.total {
        if !room::fits(total, t.mem_total_mib, t.minmem_mib) {
            return Err(fatal(
                t,
                Cause::NetTooBig {
                    bytes: total,
                    mem_total_mib: t.mem_total_mib,
                    minmem_mib: t.minmem_mib,
                },
            ));
        }
    }
    let size = room::tmpfs_bytes(t.total, t.mem_total_mib, t.minmem_mib);
    let result = match t.room {
        None => sys.mkdir_all(LIVENET_DIR).and_then(|()| {
            sys.mount(
                "tmpfs",
                LIVENET_DIR,
                Some("tmpfs"),
                crate::plan::MountFlags {
                    nosuid: true,
                    nodev: true,
                    ..crate::plan::MountFlags::RW
                },
                &format!("size={size},mode=0755"),
            )
        }),
        Some(room) if size > room => sys.remount(LIVENET_DIR, &format!("size={size}")),
        Some(_) => return Ok(()),
    };
    result.map_err(|e| {
        Failure::Fatal(Box::new(BootError::sys(
            Stage::Download,
            format!("mount tmpfs {LIVENET_DIR} (size={size})"),
            e,
        )))
    })?;
    t.room = Some(size);
    Ok(())
}

/// How the body is delimited.
enum Body {
    /// This many bytes are still to come.
    Length(u64),
    Chunked(Chunked),
    /// Until the server closes (HTTP/1.0 style).
    UntilClose,
}

impl Body {
    fn new(head: &Head, t: &Transfer) -> Result<Body, Failure> {
        if head.chunked() {
            return Ok(Body::Chunked(Chunked::new()));
        }
        match head.content_length() {
            Ok(Some(n)) => Ok(Body::Length(n)),
            Ok(None) => Ok(Body::UntilClose),
            Err(e) => Err(fatal(t, Cause::NetBadAnswer { why: e.to_string() })),
        }
    }
}

/// Streams the body into the `.part` file: written, hashed, counted,
/// shown. Ends at the announced length without waiting for the close.
fn receive<S: Sys>(
    sys: &S,
    t: &mut Transfer,
    stream: &mut dyn Stream,
    mut body: Body,
    first: &[u8],
    buf: &mut [u8],
    stall: Duration,
) -> Result<(), Failure> {
    let mut file = sys.open_writer(&t.part, t.have > 0).map_err(|e| {
        Failure::Fatal(Box::new(BootError::sys(Stage::Download, t.part.clone(), e)))
    })?;
    if t.have == 0 {
        // A digest only recorded is computed after the last byte.
        t.digest.start(sys, &t.part, !t.verify);
    }
    let what = format!("downloading {}", t.name);
    let mut shown = Shown {
        progress: t.total.map(|total| Progress::new(&what, total, sys.now())),
        last: None,
    };
    let result = (|| {
        if store(sys, t, &mut *file, &mut body, first, &mut shown)? {
            return Ok(());
        }
        loop {
            let n = match stream.read(buf, stall) {
                Ok(n) => n,
                Err(Errno::TIMEDOUT) => {
                    return Err(transient(format!(
                        "stalled: no data for {} s after {} (rd.liveinit.net.stall)",
                        stall.as_secs(),
                        of_total(t)
                    )))
                }
                Err(e) => {
                    return Err(transient(format!(
                        "{} after {}",
                        errno_text(e),
                        of_total(t)
                    )))
                }
            };
            if n == 0 {
                return match body {
                    Body::UntilClose => Ok(()),
                    _ => Err(transient(format!(
                        "the server closed the connection after {}",
                        of_total(t)
                    ))),
                };
            }
            let data = buf.get(..n).unwrap_or_default();
            if store(sys, t, &mut *file, &mut body, data, &mut shown)? {
                return Ok(());
            }
        }
    })();
    progress_line::clear(sys);
    result
}

/// What was shown of the progress.
struct Shown {
    progress: Option<Progress>,
    last: Option<Duration>,
}

/// Takes `data` from the wire; `true` once the body is complete.
fn store<S: Sys>(
    sys: &S,
    t: &mut Transfer,
    file: &mut dyn FileSink,
    body: &mut Body,
    data: &[u8],
    shown: &mut Shown,
) -> Result<bool, Failure> {
    let mut write_err: Option<Errno> = None;
    let mut take = |piece: &[u8]| {
        if write_err.is_some() || piece.is_empty() {
            return;
        }
        match file.write_all(piece) {
            Ok(()) => {
                t.have += piece.len() as u64;
                t.digest.took(sys, piece, t.have);
            }
            Err(e) => write_err = Some(e),
        }
    };
    let done = match body {
        Body::Length(left) => {
            let n = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
            take(data.get(..n).unwrap_or_default());
            *left -= n as u64;
            *left == 0
        }
        Body::UntilClose => {
            take(data);
            false
        }
        Body::Chunked(decoder) => {
            let fed = decoder.feed(data, &mut |piece| take(piece));
            if fed.is_err() {
                return Err(fatal(
                    t,
                    Cause::NetBadAnswer {
                        why: format!("broken chunked coding after {} bytes", t.have),
                    },
                ));
            }
            decoder.done()
        }
    };
    if let Some(e) = write_err {
        let cause = if e == Errno::NOSPC {
            Cause::NetNoRoom {
                bytes: t.have,
                room: t.room.unwrap_or(0),
                minmem_mib: t.minmem_mib,
            }
        } else {
            return Err(Failure::Fatal(Box::new(BootError::sys(
                Stage::Download,
                format!("write {}", t.part),
                e,
            ))));
        };
        return Err(fatal(t, cause));
    }
    show(sys, t, shown);
    Ok(done)
}

fn show<S: Sys>(sys: &S, t: &Transfer, shown: &mut Shown) {
    let now = sys.now();
    match &mut shown.progress {
        Some(progress) => progress_line::show(sys, progress.update(t.have, now)),
        None => {
            let due = match shown.last {
                None => true,
                Some(last) => now.saturating_sub(last) >= CONSOLE_INTERVAL,
            };
            if due {
                shown.last = Some(now);
                sys.console(&format!(
                    "\rliveinit: downloading {}: {} (no length announced)\x1b[K",
                    t.name,
                    size_text(t.have)
                ));
            }
        }
    }
}

/// `1000 of 3000 bytes`, or `1000 bytes` without a known size.
fn of_total(t: &Transfer) -> String {
    match t.total {
        Some(total) => format!("{} of {total} bytes", t.have),
        None => format!("{} bytes", t.have),
    }
}
