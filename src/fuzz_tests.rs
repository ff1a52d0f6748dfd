//! A short, deterministic fuzz run of everything the command line feeds:
//! the tokenizer, the live configuration, the policy and `explain`. It runs
//! in every `cargo test`; none of them may panic on any input.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cmdline::Cmdline;
use crate::config::LiveConfig;
use crate::explain::explain;
use crate::policy::Policy;

/// xorshift64*: small, deterministic, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces the grammar cares about, so inputs reach deep into it.
const KEYS: [&str; 24] = [
    "root",
    "rd.live.image",
    "liveimg",
    "rd.live.dir",
    "live_dir",
    "rd.live.squashimg",
    "rd.overlay",
    "rd.live.overlay",
    "overlay",
    "rd.live.overlay.size",
    "rd.live.overlay.thin",
    "rd.overlay.readonly",
    "rd.overlay.reset",
    "rd.writable.fsimg",
    "rd.retry",
    "rd.minmem",
    "rd.break",
    "rd.shell",
    "rd.emergency",
    "init",
    "rootflags",
    "check",
    "ro",
    "rw",
];
const VALUES: [&str; 24] = [
    "",
    "0",
    "1",
    "-5",
    "abc",
    "none",
    "NONE",
    "tmpfs:size=1M",
    "live:",
    "live:LABEL=",
    "live:CDLABEL=My\\x20Disk",
    "live:/dev/sr0",
    "live:/dev/disk/by-label/a\\x2",
    "live:UUID=x",
    "live:/x.iso",
    "live:http://h/x",
    "LABEL=p:/LiveOS/o",
    "pre-mount",
    "reboot",
    "18446744073709551616",
    "\"",
    "\"a b\"",
    "=",
    "\u{fffd}\u{0}",
];

fn random_cmdline(rng: &mut Rng) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(24) {
        match rng.below(6) {
            // Raw junk, including quotes, NULs and non-ASCII.
            0 => {
                for _ in 0..rng.below(40) {
                    let c = char::from_u32(u32::try_from(rng.next() % 0x3000).unwrap_or(32));
                    text.push(c.unwrap_or('x'));
                }
            }
            1 => text.push_str(rng.pick(&KEYS)),
            2 => text.push_str("-- "),
            _ => {
                text.push_str(rng.pick(&KEYS));
                text.push('=');
                text.push_str(rng.pick(&VALUES));
            }
        }
        text.push(if rng.below(8) == 0 { '\n' } else { ' ' });
    }
    text
}

fn feed(text: &str) {
    let cmdline = Cmdline::parse(text);
    let _ = LiveConfig::from_cmdline(&cmdline);
    let _ = Policy::from_cmdline(&cmdline);
    let _ = explain(text);
}

#[test]
fn thousands_of_random_command_lines_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        feed(&random_cmdline(&mut rng));
    }
}

#[test]
fn four_kib_of_junk_is_rejected_with_a_reason() {
    let mut rng = Rng(7);
    let mut junk = String::new();
    while junk.len() < 4096 {
        junk.push(char::from(b'!' + u8::try_from(rng.below(90)).unwrap_or(0)));
        if rng.below(9) == 0 {
            junk.push(' ');
        }
    }
    feed(&junk);
    // Junk with no keyword is either refused with a reason or, with no
    // root= and no boot= in it, a search for a casper medium.
    match LiveConfig::from_cmdline(&Cmdline::parse(&junk)) {
        Err(err) => assert!(!alloc::format!("{err}").is_empty()),
        Ok(cfg) => assert!(cfg.grammar.by_content, "{:?}", cfg.grammar),
    }
    let words: Vec<&str> = junk.split_whitespace().collect();
    assert!(words.len() > 100);
}

/// The long run `cargo xtask bench` does: many more command lines, and
/// every probe fixture mutated at random offsets (several bytes at a time).
#[test]
#[ignore = "long: run by cargo xtask bench"]
fn long_fuzz_command_line_and_probes() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..300_000 {
        feed(&random_cmdline(&mut rng));
    }
    let fixtures: [&[u8]; 6] = [
        include_bytes!("probe/testdata/iso9660-joliet.head"),
        include_bytes!("probe/testdata/ext4.head"),
        include_bytes!("probe/testdata/squashfs.head"),
        include_bytes!("probe/testdata/erofs.head"),
        include_bytes!("probe/testdata/fat32.head"),
        include_bytes!("probe/testdata/btrfs.head"),
    ];
    for fixture in fixtures {
        let mut image = fixture.to_vec();
        for _ in 0..60_000 {
            for _ in 0..=rng.below(8) {
                let at = rng.below(image.len());
                image[at] = u8::try_from(rng.next() & 0xff).unwrap_or(0);
            }
            let cut = image.len() - rng.below(image.len() / 4 + 1);
            let _ = crate::probe::probe(&image[..cut]);
            let _ = crate::probe::probe_all(&image[..cut]);
            if rng.below(64) == 0 {
                image.copy_from_slice(fixture);
            }
        }
    }
}

/// Pieces of URLs, HTTP heads and chunked bodies, so random inputs reach
/// past the first check of each parser.
const NET_PIECES: [&str; 24] = [
    "http://",
    "https://",
    "ftp://",
    "[",
    "]",
    "::1",
    "10.0.2.2",
    ":",
    "8080",
    "@",
    "/",
    "..",
    "%2e",
    "%",
    "?",
    "#",
    "HTTP/1.1 ",
    "206 ",
    "\r\n",
    "Content-Range: bytes 1-2/3",
    "Content-Length: 18446744073709551616",
    "Transfer-Encoding: chunked",
    "ffffffff;x\r\n",
    "0\r\n\r\n",
];

fn random_net_text(rng: &mut Rng) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(16) {
        if rng.below(4) == 0 {
            let c = char::from_u32(u32::try_from(rng.next() % 0x250).unwrap_or(32));
            text.push(c.unwrap_or('x'));
        } else {
            text.push_str(rng.pick(&NET_PIECES));
        }
    }
    text
}

/// The URL parser and `Location` resolution, the response head parser and
/// its fields, the chunked decoder and the status decisions: no input
/// makes any of them panic.
#[test]
fn network_parsers_never_panic() {
    use crate::fetch::{chunked::Chunked, decide, response, url::Url};
    let mut rng = Rng(0x51_7CC1_B727_220A);
    let base = Url::parse("http://u:p@h:81/a/b/c.img?q").unwrap();
    for _ in 0..20_000 {
        let text = random_net_text(&mut rng);
        if let Ok(url) = Url::parse(&text) {
            let _ = (url.file_name(), url.authority(), alloc::format!("{url}"));
        }
        if let Ok(url) = base.join(&text) {
            let _ = url.file_name();
        }
        let bytes = text.as_bytes();
        if let Ok(Some(end)) = response::head_end(bytes) {
            if let Ok(head) = response::parse_head(&bytes[..end]) {
                let _ = (
                    head.content_length(),
                    head.content_range(),
                    head.validator(),
                );
                let _ = decide::answer(&head, rng.next() % 4);
            }
        }
        let mut decoder = Chunked::new();
        for piece in bytes.chunks(1 + rng.below(7)) {
            if decoder.feed(piece, &mut |_| {}).is_err() {
                break;
            }
        }
    }
}

/// Network options (`ip=` and friends) built from the pieces their grammar
/// splits on, and DHCP replies mutated byte by byte: neither may panic.
#[test]
fn network_options_and_dhcp_replies_never_panic() {
    const PIECES: [&str; 16] = [
        "",
        ":",
        "[",
        "]",
        "dhcp",
        "none",
        "eth0",
        "10.0.2.15",
        "24",
        "255.255.0.0",
        "52",
        "52-54-00-12-34-56",
        "1500",
        "fe80::1",
        "any",
        ",",
    ];
    const NET_KEYS: [&str; 8] = [
        "ip",
        "BOOTIF",
        "ifname",
        "vlan",
        "rd.route",
        "nameserver",
        "bootdev",
        "rd.net.timeout.dhcp",
    ];
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..20_000 {
        let mut text = String::from("root=live:http://h/x ");
        for _ in 0..rng.below(4) {
            text.push_str(rng.pick(&NET_KEYS));
            text.push('=');
            for _ in 0..rng.below(12) {
                text.push_str(rng.pick(&PIECES));
                if rng.below(3) == 0 {
                    text.push(':');
                }
            }
            text.push(' ');
        }
        let mut warnings = Vec::new();
        let _ = crate::net::NetPlan::from_cmdline(&Cmdline::parse(&text), &mut warnings);
        let _ = crate::net::ip::parse(&text, &mut warnings);
        feed(&text);
    }
    let client = crate::net::dhcp::Client {
        xid: 7,
        mac: [2, 0, 0, 0, 0, 1],
        secs: 0,
        hostname: None,
    };
    let mut base = crate::net::dhcp::build(&client, crate::net::dhcp::Ask::Discover);
    base[0] = 2;
    for _ in 0..20_000 {
        let mut msg = base.clone();
        let len = 236 + rng.below(msg.len());
        msg.truncate(len);
        for _ in 0..rng.below(16) {
            let at = rng.below(msg.len());
            msg[at] = u8::try_from(rng.next() & 0xff).unwrap_or(0);
        }
        if let Ok(reply) = crate::net::dhcp::parse(&msg) {
            let _ = reply.lease.routes();
            let _ = reply.lease.full_hostname();
        }
    }
}

/// ARP payloads mutated byte by byte, and `/proc/net/if_inet6` and
/// `/proc/net/ipv6_route` lines cut and mangled: nothing panics, and a
/// probe never conflicts with itself.
#[test]
fn arp_and_ipv6_state_parsers_never_panic() {
    use crate::net::{arp, six};
    use core::net::Ipv4Addr;
    let mut rng = Rng(0x0A5B_0C1D_2E3F_4051);
    let ours = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    let cand = Ipv4Addr::new(10, 0, 2, 2);
    let base = arp::request(ours, Ipv4Addr::UNSPECIFIED, cand);
    let own = arp::parse(&base).unwrap();
    assert_eq!(arp::conflict(&own, ours, cand), None);
    for _ in 0..20_000 {
        let mut p = base.to_vec();
        p.truncate(rng.below(p.len() + 1));
        for _ in 0..rng.below(6) {
            if !p.is_empty() {
                let at = rng.below(p.len());
                p[at] = u8::try_from(rng.next() & 0xff).unwrap_or(0);
            }
        }
        if let Some(a) = arp::parse(&p) {
            let _ = (
                arp::conflict(&a, ours, cand),
                arp::from_host(&a, ours, cand),
            );
        }
    }
    const LINES: [&str; 3] = [
        "fec0000000000000505400fffe123456 02 40 40 c0 eth0\n",
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000400 00000001 00000000 00450003 eth0\n",
        "fe80000000000000505400fffe123456 02 80 20 80 eth0\n",
    ];
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..rng.below(4) {
            let line = rng.pick(&LINES);
            let cut = rng.below(line.len() + 1);
            text.push_str(line.get(..cut).unwrap_or(line));
            text.push_str(rng.pick(&[" ", "\n", "zz", "ffffffffff", ""]));
        }
        let _ = six::addresses(&text, "eth0");
        let _ = six::default_gateway(&text, "eth0");
    }
}
