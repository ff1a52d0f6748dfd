//! A DNS responder for the network boot tests: one name has one IPv4
//! address, every other name does not exist. It runs inside the boot's
//! private network namespace on 127.0.0.1:53, which QEMU's user networking
//! shows the guest as 10.0.2.2:53 (so the guest's command line says
//! `nameserver=10.0.2.2`). It never forwards a query anywhere.
//!
//! Answers follow what musl's resolver needs to succeed: the question
//! echoed, `NOERROR` for every type of the known name (an A record for A,
//! no records for AAAA and the rest: musl asks both and fails the lookup if
//! either is not `NOERROR`/`NXDOMAIN`), `NXDOMAIN` for any other name.

use std::net::{Ipv4Addr, UdpSocket};

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_FORMERR: u8 = 1;

/// Serves `name` → `addr` on `socket` until the process ends; every
/// query is logged to stderr (the server log the tests read).
pub fn serve(socket: &UdpSocket, name: &str, addr: Ipv4Addr) {
    let mut buf = [0u8; 512];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Some(reply) = answer(&buf[..n], name, addr) else {
            continue;
        };
        eprintln!("dnsstub: {}", describe(&buf[..n], &reply));
        let _ = socket.send_to(&reply, from);
    }
}

/// The question of a query: its name (lower case, dotted) and type, and
/// where the question section ends.
fn question(query: &[u8]) -> Option<(String, u16, usize)> {
    if query.len() < 12 || query[4..6] != [0, 1] {
        return None;
    }
    let mut at = 12;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        // No compression in a question; longer labels are malformed.
        if len > 63 {
            return None;
        }
        let label = query.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    query.get(at + 3)?;
    Some((labels.join("."), qtype, at + 4))
}

/// The reply to `query`, or `None` for something that is not a query.
pub fn answer(query: &[u8], name: &str, addr: Ipv4Addr) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&query[0..2]);
    // QR, the query's opcode and RD; RA.
    out.push(0x80 | (query[2] & 0x79));
    let Some((qname, qtype, end)) = question(query) else {
        out.push(0x80 | RCODE_FORMERR);
        out.extend_from_slice(&[0; 8]);
        return Some(out);
    };
    let known = qname == name.trim_end_matches('.').to_ascii_lowercase();
    let with_a = known && qtype == TYPE_A;
    out.push(0x80 | if known { 0 } else { RCODE_NXDOMAIN });
    out.extend_from_slice(&[0, 1, 0, u8::from(with_a), 0, 0, 0, 0]);
    out.extend_from_slice(&query[12..end]);
    if with_a {
        // The name as a pointer to the question's, then A IN, TTL 60, the address.
        out.extend_from_slice(&[0xc0, 12]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&60u32.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&addr.octets());
    }
    Some(out)
}

/// `A live.test -> NOERROR, 1 answer` for the log.
fn describe(query: &[u8], reply: &[u8]) -> String {
    let (name, qtype) = question(query).map_or((String::from("?"), 0), |(n, t, _)| (n, t));
    let rcode = match reply[3] & 15 {
        0 => "NOERROR",
        RCODE_NXDOMAIN => "NXDOMAIN",
        _ => "FORMERR",
    };
    let kind = match qtype {
        1 => String::from("A"),
        28 => String::from("AAAA"),
        t => format!("type {t}"),
    };
    format!(
        "{kind} {name} -> {rcode}, {} answer(s)",
        reply.get(7).copied().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query as musl builds it (id 0x1234, RD, one question).
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(u8::try_from(label.len()).unwrap());
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

    #[test]
    fn the_known_name_has_its_address() {
        let q = query("Images.LiveInit.test", TYPE_A);
        let r = answer(&q, "images.liveinit.test", ADDR).unwrap();
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(r[2] & 0x80, 0x80, "QR");
        assert_eq!(r[3] & 15, 0);
        assert_eq!(&r[4..8], &[0, 1, 0, 1]);
        assert_eq!(&r[12..q.len()], &q[12..]);
        assert_eq!(&r[r.len() - 4..], &[10, 0, 2, 2]);
        assert_eq!(
            describe(&q, &r),
            "A images.liveinit.test -> NOERROR, 1 answer(s)"
        );
    }

    #[test]
    fn other_types_of_the_known_name_are_empty_and_other_names_do_not_exist() {
        let r = answer(
            &query("images.liveinit.test", 28),
            "images.liveinit.test",
            ADDR,
        )
        .unwrap();
        assert_eq!((r[3] & 15, r[7]), (0, 0));
        let r = answer(
            &query("nowhere.liveinit.test", TYPE_A),
            "images.liveinit.test",
            ADDR,
        )
        .unwrap();
        assert_eq!((r[3] & 15, r[7]), (RCODE_NXDOMAIN, 0));
    }

    #[test]
    fn replies_and_garbage_get_no_answer_or_formerr() {
        let mut q = query("x", TYPE_A);
        q[2] |= 0x80;
        assert!(answer(&q, "x", ADDR).is_none());
        assert!(answer(&[1, 2, 3], "x", ADDR).is_none());
        let mut q = query("x", TYPE_A);
        q.truncate(14);
        assert_eq!(answer(&q, "x", ADDR).unwrap()[3] & 15, RCODE_FORMERR);
    }
}
