//! The network image against a scripted server: the download's decisions
//! (resume, restart, redirects, retries, refusals), what it leaves in
//! `/run`, and the hand-off to the image-file and medium code.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::fetch::sha256::{hex, Sha256};

const URL: &str = "http://10.0.2.2:8080/images/live.img";
const ISO_HYBRID: &[u8] = include_bytes!("../../probe/testdata/iso9660-hybrid.head");

/// A machine with one NIC, configured statically (no DHCP to script).
fn net_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    let cmdline = format!("{cmdline} ip=10.0.2.15::10.0.2.2:24::eth0:none");
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/proc/meminfo", b"MemTotal:        4194304 kB\n")
        .dir("/proc/sys/kernel")
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    for (index, name, arp_type) in [(1, "lo", 772), (2, "eth0", 1)] {
        sys.net_link_at(
            Duration::ZERO,
            crate::sys::NetLink {
                index,
                name: name.into(),
                mac: vec![0x52, 0x54, 0, 0x12, 0x34, 0x56],
                arp_type,
                up: false,
                carrier: index == 2,
                mtu: 1500,
            },
        );
    }
    sys.file(
        "/sys/class/net/eth0/device/uevent",
        b"DRIVER=e1000\nPCI_SLOT_NAME=0000:00:02.0\n",
    );
    sys
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nETag: \"v1\"\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn partial(body: &[u8], from: usize) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\n\r\n",
        body.len() - from,
        body.len() - 1,
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(&body[from..]);
    r
}

fn sha(body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(body);
    hex(&h.finish())
}

fn image() -> Vec<u8> {
    let mut body = SQUASHFS.to_vec();
    body.extend((0..20_000u32).map(|i| (i % 251) as u8));
    body
}

fn info(sys: &FakeSys) -> String {
    String::from_utf8(sys.read_file("/run/initramfs/livenet.info").unwrap()).unwrap()
}

#[test]
fn a_squashfs_url_is_downloaded_recorded_and_booted() {
    let body = image();
    let sys = net_machine(&format!("root=live:{URL} rd.live.ram"));
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let image = "/run/initramfs/livenet/live.img";
    assert_eq!(sys.read_file(image).unwrap(), body);
    let calls = sys.calls();
    let mounted = calls
        .iter()
        .position(|c| {
            c.starts_with("mount tmpfs /run/initramfs/livenet tmpfs rw size=2097152,mode=0755")
        })
        .unwrap_or_else(|| panic!("{calls:#?}"));
    let opened = calls
        .iter()
        .position(|c| c == "open /run/initramfs/livenet/live.img.part truncate")
        .unwrap();
    let renamed = calls
        .iter()
        .position(|c| {
            c == "rename /run/initramfs/livenet/live.img.part /run/initramfs/livenet/live.img"
        })
        .unwrap();
    let attached = calls
        .iter()
        .position(|c| c == &format!("attach {image} ro"))
        .unwrap();
    assert!(
        mounted < opened && opened < renamed && renamed < attached,
        "{calls:#?}"
    );
    assert!(calls.contains(&format!("symlink /run/initramfs/livedev {image}")));
    let request = &sys.requests()[0];
    assert!(
        request.starts_with("GET /images/live.img HTTP/1.1\r\nHost: 10.0.2.2:8080\r\n"),
        "{request}"
    );
    let info = info(&sys);
    assert!(info.contains(&format!("URL={URL}\n")), "{info}");
    assert!(info.contains(&format!("SIZE={}\n", body.len())), "{info}");
    assert!(
        info.contains(&format!("SHA256={}\nSHA256_VERIFIED=no\n", sha(&body))),
        "{info}"
    );
    assert!(info.contains("RESUMES=0\n"), "{info}");
}

#[test]
fn a_cut_transfer_is_resumed_and_verified() {
    let body = image();
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.sha256={}", sha(&body)));
    let have = 9000 - (ok(&body).len() - body.len());
    sys.serve_then(&ok(&body)[..9000], Some(Errno::CONNRESET))
        .serve(&partial(&body, have));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let second = &sys.requests()[1];
    assert!(
        second.contains(&format!("Range: bytes={have}-\r\nIf-Range: \"v1\"\r\n")),
        "{second}"
    );
    assert!(sys
        .calls()
        .contains(&"open /run/initramfs/livenet/live.img.part append".to_owned()));
    let info = info(&sys);
    assert!(
        info.contains("SHA256_VERIFIED=yes\n") && info.contains("RESUMES=1\n"),
        "{info}"
    );
    assert_eq!(sys.now(), Duration::from_secs(1), "one 1 s pause");
}

#[test]
fn a_server_ignoring_ranges_restarts_from_zero() {
    let body = image();
    let sys = net_machine(&format!("root={URL}"));
    sys.serve_then(&ok(&body)[..5000], None).serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(
        sys.read_file("/run/initramfs/livenet/live.img").unwrap(),
        body
    );
    assert_eq!(
        sys.calls_starting("open /run/initramfs/livenet/live.img.part"),
        [
            "open /run/initramfs/livenet/live.img.part truncate",
            "open /run/initramfs/livenet/live.img.part truncate"
        ]
    );
    assert!(info(&sys).contains(&format!("SHA256={}\n", sha(&body))));
}

#[test]
fn hashed_beside_the_download_a_restart_starts_a_new_hash() {
    let body = image();
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.sha256={}", sha(&body)));
    sys.digest_beside();
    sys.serve_then(&ok(&body)[..5000], None).serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let part = "/run/initramfs/livenet/live.img.part";
    assert_eq!(
        sys.calls_starting("digest"),
        [
            format!("digest start {part}"),
            "digest stop 0".to_owned(),
            format!("digest start {part}"),
            format!("digest wait 1 {}", body.len()),
            "digest stop 1".to_owned(),
        ]
    );
    assert!(
        info(&sys).contains("SHA256_VERIFIED=yes\n"),
        "{}",
        info(&sys)
    );
}

#[test]
fn hashed_beside_a_resumed_download_keeps_its_hash() {
    let body = image();
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.sha256={}", sha(&body)));
    sys.digest_beside();
    let have = 9000 - (ok(&body).len() - body.len());
    sys.serve_then(&ok(&body)[..9000], Some(Errno::CONNRESET))
        .serve(&partial(&body, have));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.calls_starting("digest start").len(), 1);
    assert!(
        info(&sys).contains("SHA256_VERIFIED=yes\n"),
        "{}",
        info(&sys)
    );
}

#[test]
fn a_hash_beside_that_stops_moving_ends_the_boot_when_a_digest_was_asked_for() {
    let body = image();
    let sys = net_machine(&format!(
        "root={URL} rd.liveinit.net.stall=5 rd.liveinit.net.sha256={}",
        sha(&body)
    ));
    sys.digest_stuck();
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(
            "/run/initramfs/livenet/live.img.part: the SHA-256 of the download stopped at 0 of"
        ) && text.contains("for 5 s (rd.liveinit.net.stall)"),
        "{text}"
    );
    assert!(sys.now() >= Duration::from_secs(5) && sys.now() < Duration::from_secs(6));
    assert_eq!(sys.calls_starting("digest stop"), ["digest stop 0"]);
}

#[test]
fn a_digest_not_asked_for_finishes_beside_the_boot_before_the_hand_over() {
    let body = image();
    let sys = net_machine(&format!("root={URL}"));
    sys.digest_beside();
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    let at = |prefix: &str| {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {calls:#?}"))
    };
    // The image is attached and the root assembled before the digest is
    // waited for; the record is complete before the switch.
    assert!(at("attach ") < at("digest wait"), "{calls:#?}");
    assert!(
        at("mount LiveOS_rootfs /sysroot overlay") < at("digest wait"),
        "{calls:#?}"
    );
    assert!(at("digest wait") < at("switch_root"), "{calls:#?}");
    assert!(calls.contains(
        &"digest start /run/initramfs/livenet/live.img.part after the last byte".to_owned()
    ));
    let info = info(&sys);
    assert!(
        info.contains(&format!("SHA256={}\nSHA256_VERIFIED=no\n", sha(&body))),
        "{info}"
    );
}

#[test]
fn a_digest_not_asked_for_that_stops_moving_is_warned_about_and_the_boot_goes_on() {
    let body = image();
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.stall=5"));
    sys.digest_stuck();
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(info(&sys).contains("SHA256=unknown\n"), "{}", info(&sys));
    assert!(
        sys.now() >= Duration::from_secs(5),
        "the stall bound was not waited out"
    );
}

#[test]
fn a_stall_is_abandoned_and_resumed() {
    let body = image();
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.stall=7"));
    let have = 6000 - (ok(&body).len() - body.len());
    sys.serve_then(&ok(&body)[..6000], Some(Errno::TIMEDOUT))
        .serve(&partial(&body, have));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.now(), Duration::from_secs(8), "7 s stall, 1 s pause");
    assert_eq!(
        sys.read_file("/run/initramfs/livenet/live.img").unwrap(),
        body
    );
}

#[test]
fn not_found_fails_at_once_naming_the_url_and_status() {
    let sys = net_machine(&format!("root={URL}"));
    sys.serve(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(err.subject, URL);
    assert_eq!(
        err.cause,
        Cause::NetNotFound {
            status: "HTTP/1.1 404 Not Found".into()
        }
    );
    assert_eq!(sys.calls_starting("connect").len(), 1);
    assert_eq!(sys.now(), Duration::ZERO);
    assert!(err.to_string().contains("no such image"), "{err}");
}

#[test]
fn a_server_down_at_first_is_waited_for_with_growing_pauses() {
    let body = image();
    let sys = net_machine(&format!("root={URL}"));
    sys.refuse(Errno::CONNREFUSED)
        .refuse(Errno::CONNREFUSED)
        .refuse(Errno::CONNREFUSED)
        .serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.now(), Duration::from_secs(1 + 2 + 4));
}

#[test]
fn retries_run_out_with_the_last_error() {
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.retries=3"));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    let Cause::NetGaveUp { attempts, last, .. } = &err.cause else {
        panic!("{err}");
    };
    assert_eq!(*attempts, 3);
    assert!(
        last.contains("connect to 10.0.2.2:8080: Connection refused"),
        "{last}"
    );
    assert!(
        err.to_string().contains("gave up after 3 attempts in"),
        "{err}"
    );
    let one = boot(&net_machine(&format!(
        "root={URL} rd.liveinit.net.retries=1"
    )));
    assert!(
        one.to_string().contains("gave up after 1 attempt in"),
        "{one}"
    );
}

#[test]
fn a_wrong_digest_is_fatal_with_both_digests() {
    let body = image();
    let wrong = "0".repeat(64);
    let sys = net_machine(&format!("root={URL} rd.liveinit.net.sha256={wrong}"));
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(
        err.cause,
        Cause::NetDigest {
            expected: wrong,
            computed: sha(&body),
            bytes: body.len() as u64
        }
    );
    assert!(sys.read_file("/run/initramfs/livenet/live.img").is_err());
}

#[test]
fn an_html_page_is_refused_by_what_it_is() {
    let sys = net_machine(&format!("root={URL}"));
    sys.serve(&ok(b"<!DOCTYPE html><title>Portal</title>"));
    let err = boot(&sys);
    let Cause::NetNotImage { what, .. } = err.cause else {
        panic!("{err}");
    };
    assert!(what.starts_with("an HTML page"), "{what}");
}

#[test]
fn an_image_larger_than_ram_is_refused_before_its_body() {
    let sys = net_machine(&format!("root={URL} rd.minmem=512"));
    sys.serve(b"HTTP/1.1 200 OK\r\nContent-Length: 4000000000\r\n\r\nxx");
    let err = boot(&sys);
    assert_eq!(
        err.cause,
        Cause::NetTooBig {
            bytes: 4_000_000_000,
            mem_total_mib: 4096,
            minmem_mib: 512
        }
    );
    assert!(sys
        .calls_starting("mount tmpfs /run/initramfs/livenet")
        .is_empty());
    assert!(sys.calls_starting("open").is_empty());
}

#[test]
fn redirects_are_followed_and_bounded() {
    let body = image();
    let sys = net_machine(&format!("root={URL}"));
    sys.serve(b"HTTP/1.1 302 Found\r\nLocation: ../f/live.img\r\n\r\n")
        .serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.requests()[1].starts_with("GET /f/live.img HTTP/1.1"));
    assert!(info(&sys).contains("FINAL_URL=http://10.0.2.2:8080/f/live.img\n"));
    let sys = net_machine(&format!("root={URL}"));
    for _ in 0..12 {
        sys.serve(b"HTTP/1.1 301 Moved\r\nLocation: /again\r\n\r\n");
    }
    let err = boot(&sys);
    let Cause::NetRedirects { chain, downgrade } = &err.cause else {
        panic!("{err}");
    };
    assert_eq!((chain.len(), *downgrade), (12, false));
}

#[test]
fn a_chunked_body_and_a_name_are_decoded() {
    let body = image();
    let sys = net_machine("root=http://boot.example/live.img");
    sys.host("boot.example", &["10.0.2.9:0"]);
    let mut reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(7000) {
        reply.extend(format!("{:x}\r\n", piece.len()).bytes());
        reply.extend_from_slice(piece);
        reply.extend(b"\r\n");
    }
    reply.extend(b"0\r\n\r\n");
    sys.serve(&reply);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls().contains(&"connect 10.0.2.9:80".to_owned()));
    assert_eq!(
        sys.read_file("/run/initramfs/livenet/live.img").unwrap(),
        body
    );
    // No length: the tmpfs is what rd.minmem leaves.
    assert!(!sys
        .calls_starting("mount tmpfs /run/initramfs/livenet tmpfs rw size=3221225472,")
        .is_empty());
}

#[test]
fn an_unknown_name_is_retried_naming_the_resolver() {
    let sys = net_machine("root=http://nowhere.example/x.img rd.liveinit.net.retries=2");
    let err = boot(&sys);
    let Cause::NetGaveUp { last, .. } = &err.cause else {
        panic!("{err}");
    };
    assert!(
        last.contains("cannot resolve nowhere.example: Name does not resolve"),
        "{last}"
    );
    assert!(last.contains("no resolver"), "{last}");
}

#[test]
fn an_iso_is_attached_and_treated_as_a_medium() {
    let sys = net_machine("root=live:http://10.0.2.2/live.iso");
    sys.file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS);
    sys.serve(&ok(ISO_HYBRID));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    let calls = sys.calls();
    assert!(
        calls.contains(&"attach /run/initramfs/livenet/live.iso ro".to_owned()),
        "{calls:#?}"
    );
    assert!(
        calls.contains(&"mount /dev/loop0 /run/initramfs/live iso9660 ro".to_owned()),
        "{calls:#?}"
    );
    assert!(
        calls.contains(&"symlink /run/initramfs/livedev /dev/loop0".to_owned()),
        "{calls:#?}"
    );
}

#[test]
fn rd_live_ram_copies_nothing_out_of_a_downloaded_iso() {
    let sys = net_machine("root=live:http://10.0.2.2/live.iso rd.live.ram rd.minmem=0");
    sys.file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS);
    sys.serve(&ok(ISO_HYBRID));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls_starting("copy").is_empty(), "{:#?}", sys.calls());
    assert!(
        sys.calls()
            .contains(&"attach /run/initramfs/live/LiveOS/squashfs.img ro".to_owned()),
        "{:#?}",
        sys.calls()
    );
}

#[test]
fn a_proxy_gets_absolute_form_requests() {
    let body = image();
    let sys = net_machine(&format!("root={URL} proxy=10.0.2.3:3128"));
    sys.serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert!(sys.calls().contains(&"connect 10.0.2.3:3128".to_owned()));
    assert!(
        sys.requests()[0].starts_with(&format!("GET {URL} HTTP/1.1\r\nHost: 10.0.2.2:8080\r\n")),
        "{}",
        sys.requests()[0]
    );
}

#[test]
fn a_busy_server_is_waited_for_as_long_as_it_asks() {
    let body = image();
    let sys = net_machine(&format!("root={URL}"));
    sys.serve(b"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n")
        .serve(&ok(&body));
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
    assert_eq!(sys.now(), Duration::from_secs(7));
}

#[test]
fn a_full_tmpfs_without_a_length_is_too_big_for_ram() {
    let sys = net_machine(&format!("root={URL}"));
    sys.serve(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhsqs and more")
        .fail("append /run/initramfs/livenet/live.img.part", Errno::NOSPC);
    let err = boot(&sys);
    let Cause::NetNoRoom { room, .. } = err.cause else {
        panic!("{err}");
    };
    assert_eq!(room, 3072 << 20);
    assert!(
        err.to_string()
            .contains("image larger than the RAM allowed"),
        "{err}"
    );
}
