use super::*;
use alloc::vec;

const MAC: Mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

fn client() -> Client<'static> {
    Client {
        xid: 0x1234_5678,
        mac: MAC,
        secs: 0,
        hostname: Some("box"),
    }
}

/// A server's reply to `client()`, as libslirp sends it.
fn reply(kind: u8, extra: &[(u8, &[u8])]) -> Vec<u8> {
    let mut p = vec![2u8, 1, 6, 0];
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.resize(16, 0);
    p.extend_from_slice(&[10, 0, 2, 15]); // yiaddr
    p.extend_from_slice(&[10, 0, 2, 2]); // siaddr
    p.resize(28, 0);
    p.extend_from_slice(&MAC);
    p.resize(FIXED, 0);
    p.extend_from_slice(&MAGIC);
    p.extend_from_slice(&[53, 1, kind]);
    for (code, data) in extra {
        p.push(*code);
        p.push(u8::try_from(data.len()).unwrap());
        p.extend_from_slice(data);
    }
    p.push(255);
    p
}

#[test]
fn discover_and_request_carry_the_spec_options() {
    let d = build(&client(), Ask::Discover);
    assert!(d.len() >= MIN_LEN);
    assert_eq!(&d[..4], &[1, 1, 6, 0]);
    assert_eq!(&d[4..8], &0x1234_5678u32.to_be_bytes());
    assert_eq!(&d[10..12], &[0x80, 0], "broadcast flag");
    assert_eq!(&d[28..34], &MAC);
    let opts = &d[FIXED + 4..];
    let find = |code: u8| -> Option<Vec<u8>> {
        let mut rest = opts;
        while let [c, len, tail @ ..] = rest {
            if *c == 255 {
                return None;
            }
            let data = tail[..usize::from(*len)].to_vec();
            if *c == code {
                return Some(data);
            }
            rest = &tail[usize::from(*len)..];
        }
        None
    };
    assert_eq!(find(53), Some(vec![1]));
    assert_eq!(find(61), Some(vec![1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    assert_eq!(find(57), Some(vec![5, 220]));
    assert_eq!(find(55), Some(WANTED.to_vec()));
    assert_eq!(find(12), Some(b"box".to_vec()));
    assert_eq!(find(50), None);
    let r = build(
        &client(),
        Ask::Request {
            address: Ipv4Addr::new(10, 0, 2, 15),
            server: Ipv4Addr::new(10, 0, 2, 2),
        },
    );
    let opts = &r[FIXED + 4..];
    assert!(opts.windows(6).any(|w| w == [50, 4, 10, 0, 2, 15]));
    assert!(opts.windows(6).any(|w| w == [54, 4, 10, 0, 2, 2]));
    assert!(opts.windows(3).any(|w| w == [53, 1, 3]));
}

#[test]
fn offer_with_every_option() {
    // search list "a.example, b.example" with a compression pointer.
    let search: &[u8] = &[
        1, b'a', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 1, b'b', 0xc0, 2,
    ];
    let classless: &[u8] = &[24, 192, 168, 5, 10, 0, 2, 1, 0, 10, 0, 2, 2];
    let msg = reply(
        2,
        &[
            (1, &[255, 255, 255, 0]),
            (3, &[10, 0, 2, 2, 10, 0, 2, 9]),
            (6, &[10, 0, 2, 3]),
            (12, b"host"),
            (15, b"lan"),
            (26, &[5, 220]),
            (28, &[10, 0, 2, 255]),
            (51, &[0, 1, 81, 128]),
            (54, &[10, 0, 2, 2]),
            (119, search),
            (121, classless),
        ],
    );
    let r = parse(&msg).unwrap();
    assert_eq!(r.kind, MsgType::Offer);
    assert!(answers(&r, 0x1234_5678, &MAC));
    assert!(!answers(&r, 1, &MAC));
    assert!(!answers(&r, 0x1234_5678, &[0; 6]));
    let l = r.lease;
    assert_eq!(l.address, Some(Ipv4Addr::new(10, 0, 2, 15)));
    assert_eq!(l.prefix, Some(24));
    assert_eq!(l.routers.len(), 2);
    assert_eq!(l.dns, [Ipv4Addr::new(10, 0, 2, 3)]);
    assert_eq!(l.full_hostname().as_deref(), Some("host.lan"));
    assert_eq!(l.mtu_to_set(), Some(1500));
    assert_eq!(l.broadcast, Some(Ipv4Addr::new(10, 0, 2, 255)));
    assert_eq!(l.lease_secs, Some(86400));
    assert_eq!(l.server, Some(Ipv4Addr::new(10, 0, 2, 2)));
    assert_eq!(l.search, ["a.example", "b.example"]);
    // Option 121 wins over option 3.
    assert_eq!(
        l.routes(),
        [
            LeaseRoute {
                net: Ipv4Addr::new(192, 168, 5, 0),
                prefix: 24,
                gateway: Some(Ipv4Addr::new(10, 0, 2, 1)),
            },
            LeaseRoute {
                net: Ipv4Addr::UNSPECIFIED,
                prefix: 0,
                gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
            },
        ]
    );
}

#[test]
fn routers_and_slash_32() {
    let l = Lease {
        prefix: Some(32),
        routers: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)],
        mtu: Some(576),
        ..Lease::default()
    };
    let r = l.routes();
    assert_eq!(r.len(), 3);
    assert_eq!((r[0].prefix, r[0].gateway), (32, None));
    assert_eq!(l.gateway(), Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(l.mtu_to_set(), None);
}

#[test]
fn nak_and_junk() {
    assert_eq!(parse(&reply(6, &[])).unwrap().kind, MsgType::Nak);
    assert_eq!(parse(&[2, 1, 6]), Err(DhcpError::Short));
    let mut m = reply(5, &[]);
    m[0] = 1;
    assert_eq!(parse(&m), Err(DhcpError::NotReply));
    let mut m = reply(5, &[]);
    m[FIXED] = 0;
    assert_eq!(parse(&m), Err(DhcpError::NoMagic));
    let mut m = reply(5, &[]);
    m.truncate(FIXED + 4);
    assert_eq!(parse(&m), Err(DhcpError::NoType));
    // A truncated option and a pointer loop end quietly.
    let mut m = reply(5, &[(119, &[0xc0, 0])]);
    m.extend_from_slice(&[3, 200, 1]);
    let r = parse(&m).unwrap();
    assert!(r.lease.search.is_empty());
    // A missing or non-contiguous mask gives no prefix.
    let r = parse(&reply(5, &[(1, &[255, 0, 255, 0])])).unwrap();
    assert_eq!(r.lease.prefix, None);
}

#[test]
fn retransmit_timing() {
    let secs: Vec<u64> = (0..6).map(|a| retransmit_delay(a, 0).as_secs()).collect();
    assert_eq!(secs, [4, 8, 16, 32, 64, 64]);
    assert_eq!(retransmit_delay(0, -1000).as_millis(), 3000);
    assert_eq!(retransmit_delay(0, 5000).as_millis(), 5000);
    for seed in 0..1000 {
        assert!((-1000..=1000).contains(&jitter_ms(seed)));
    }
}
