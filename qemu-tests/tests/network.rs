//! Network live roots (network-boot-spec §6): an image file in the
//! initramfs (what a download reduces to), then `root=live:http://…` and
//! `root=http://…` against the harness's image server, which runs beside
//! QEMU in the boot's private network namespace (loopback only: no packet
//! leaves the machine) and injects faults by path prefix
//! (`src/bin/imageserver.rs`): cut transfers resumed and verified, a server
//! ignoring Range, a stall, a missing image failing fast, a server down at
//! first, a wrong digest, an HTML answer, an image larger than RAM; a
//! server found by its DNS name (the server's DNS responder, asked as
//! `nameserver=10.0.2.2`) and a name that does not resolve; a download
//! through `proxy=` (the server's forward proxy, which logs what it saw).
//!
//! Media (built once per run under `target/qemu-tests/media-network/`):
//! the probe root as a flattened SquashFS (`live.img`) and as an ISO
//! holding it (`live.iso`), both served from `served/`.
//!
//! Console logs: `target/qemu-tests/<case>.log`; the server's requests in
//! `target/qemu-tests/<case>.server.log`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use qemu_tests::harness::{
    probe_root, shared, Case, Expect, LiveBase, Medium, Probed, Shared, ISO_SQUASHFS_IMG,
};
use qemu_tests::media::{Layout, LiveImages, LiveRoot};
use qemu_tests::netboot::{image_server, initramfs_with, SERVER};
use qemu_tests::out_dir;
use qemu_tests::report::RunKind;

const IMAGE: &str = "/run/initramfs/livenet/live.img";
const SERVER_BIN: &str = env!("CARGO_BIN_EXE_imageserver");
/// The image lives in RAM and `rd.minmem` (1024 MiB) must stay free: the
/// default 1 GiB guest would refuse even a tiny image.
const NET_RAM_MB: u32 = 1536;

fn media_dir() -> PathBuf {
    out_dir().join("media-network")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

/// `served/live.img` (flattened SquashFS) and `served/live.iso`.
fn served() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "served images", || {
        let images = LiveImages::build(root(), Layout::FlatSquashfs, &media_dir())?;
        let dir = media_dir().join("served");
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(&images.files[0].1, dir.join("live.img"))?;
        images.iso("LIVENET", &dir.join("live.iso"))?;
        Ok(dir)
    })
}

fn live_img() -> PathBuf {
    served().join("live.img")
}

fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A boot of `args` with a NIC of `model` and the image server, down for
/// `down` seconds from the first connection.
fn net_case(name: &str, model: &'static str, args: &str, down: u64) -> Case {
    Case::new(name, vec![], args)
        .memory(NET_RAM_MB)
        .nic(model)
        .server(image_server(SERVER_BIN, served(), down))
}

/// The state a downloaded flattened SquashFS must leave.
const NET_FLAT: Expect = Expect::overlay(
    Medium::Released,
    IMAGE,
    LiveBase::Loop("livenet/live.img"),
    "squashfs",
);

/// The name the server's DNS responder knows (as 10.0.2.2); any other name
/// gets NXDOMAIN. Only that responder is asked (`rd.peerdns=0`): QEMU's own
/// DNS at 10.0.2.3 forwards to the host's resolvers, which the boot's
/// namespace cannot reach.
const DNS_NAME: &str = "images.liveinit.test";
const DNS_ARGS: &str = "rd.peerdns=0 nameserver=10.0.2.2";
/// The server's forward proxy, as the guest sees it.
const PROXY_PORT: u16 = 3128;

/// The image server with its DNS responder and forward proxy.
fn server_with_dns_and_proxy() -> Vec<String> {
    let mut args = image_server(SERVER_BIN, served(), 0);
    args.extend([
        "--dns".into(),
        DNS_NAME.into(),
        "--proxy-port".into(),
        PROXY_PORT.to_string(),
    ]);
    args
}

/// A boot beside the server with DNS and proxy; its earlier server log is
/// removed first (the harness appends to it).
fn dns_case(name: &str, args: &str) -> Case {
    let _ = std::fs::remove_file(out_dir().join(format!("{name}.server.log")));
    Case::new(name, vec![], args)
        .memory(NET_RAM_MB)
        .nic("e1000")
        .server(server_with_dns_and_proxy())
}

fn server_log(name: &str) -> String {
    std::fs::read_to_string(out_dir().join(format!("{name}.server.log"))).unwrap_or_default()
}

fn check_info(b: &Probed) {
    b.check(
        b.report.run_entry("/run/initramfs/livenet.info") == Some(&RunKind::File),
        "/run/initramfs/livenet.info is not a file",
    );
    // The digest: on the final line when it was checked, else on a line
    // of its own once the hash beside the boot finishes.
    b.check(
        b.ended
            .has_line(&["liveinit: livenet: http://", " sha256 ", "(verified)"])
            || b.ended
                .has_line(&["liveinit: livenet: sha256 ", " after the download"]),
        "no digest in the log",
    );
    // The served images are a few hundred KiB: their progress is in KiB.
    b.check(
        b.ended.has_line(&["liveinit: downloading ", " KiB, "]) && !b.ended.has_line(&["of 0 MiB"]),
        "the progress of an image under 1 MiB is not shown in KiB",
    );
}

// ---------------------------------------------------------------------------
// The image file root, no network.

#[test]
fn image_file_in_the_initramfs() {
    let initramfs = initramfs_with("image-file", &[("/images/live.img", &live_img())])
        .expect("initramfs with the image");
    let b = Case::new("net_image_file", vec![], "root=live:/images/live.img")
        .initramfs(initramfs)
        .boot_probe();
    b.check(
        b.ended
            .has_line(&["the live image is /images/live.img (squashfs)"]),
        "no line naming the image file",
    );
    b.check(
        b.report.run_entry("/run/initramfs/livedev")
            == Some(&RunKind::Symlink("/images/live.img".into())),
        "/run/initramfs/livedev does not name the image file",
    );
    b.check(
        b.report
            .mount_at("/")
            .is_some_and(|m| m.fstype == "overlay"),
        "/ is not the overlay",
    );
    let base = b.live_base_loop();
    b.check(
        base.backing.contains("/images/live.img") && base.read_only == Some(true),
        &format!("/dev/live-base is not a read-only loop on the image ({base:?})"),
    );
}

// ---------------------------------------------------------------------------
// Downloads that boot.

#[test]
fn squashfs_url_over_virtio_net() {
    let b = net_case(
        "net_virtio_live_url",
        "virtio-net-pci",
        &format!("root=live:http://{SERVER}/f/live.img"),
        0,
    )
    .boot_live(&NET_FLAT);
    check_info(&b);
    b.check_modules(&["virtio_net"], &[]);
}

#[test]
fn bare_url_over_e1000() {
    let b = net_case(
        "net_e1000_bare_url",
        "e1000",
        &format!("root=http://{SERVER}/f/live.img"),
        0,
    )
    .boot_live(&NET_FLAT);
    check_info(&b);
    b.check_modules(&["e1000"], &[]);
}

#[test]
fn iso_url_is_a_medium() {
    let b = net_case(
        "net_iso_url",
        "e1000",
        &format!("root=live:http://{SERVER}/f/live.iso"),
        0,
    )
    .boot_live(&Expect::overlay(
        ISO_SQUASHFS_IMG,
        "/dev/loop0",
        LiveBase::Loop("LiveOS/squashfs.img"),
        "squashfs",
    ));
    check_info(&b);
}

/// A transfer cut after a third is resumed with a Range request and
/// verified by the child process that hashes beside the download.
#[test]
fn cut_transfer_is_resumed_and_verified() {
    let cut = size_of(&live_img()) / 3;
    let b = net_case(
        "net_cut_resumed",
        "e1000",
        &format!(
            "root=live:http://{SERVER}/cut/{cut}/live.img rd.liveinit.net.sha256={}",
            sha256(&live_img())
        ),
        0,
    )
    .boot_live(&NET_FLAT);
    check_info(&b);
    b.check(
        b.ended.has_line(&["206 Partial Content: resuming at byte"]),
        "the log shows no resume with a 206",
    );
    b.check(
        b.ended.has_line(&["(verified)"]),
        "the digest was not verified",
    );
    b.check(
        b.ended
            .has_line(&["hashing in a child process beside the download"]),
        "the digest was not computed beside the download",
    );
}

#[test]
fn server_ignoring_range_restarts() {
    let cut = size_of(&live_img()) / 3;
    let b = net_case(
        "net_norange",
        "e1000",
        &format!("root=live:http://{SERVER}/norange/cut/{cut}/live.img"),
        0,
    )
    .boot_live(&NET_FLAT);
    b.check(
        b.ended
            .has_line(&["does not support ranges, restarting from byte 0"]),
        "no restart logged",
    );
}

#[test]
fn stall_is_abandoned_and_resumed() {
    let b = net_case(
        "net_stall",
        "e1000",
        &format!("root=live:http://{SERVER}/stall/100000/live.img rd.liveinit.net.stall=3"),
        0,
    )
    .boot_live(&NET_FLAT);
    b.check(
        b.ended.has_line(&["stalled: no data for 3 s"]),
        "no stall logged",
    );
}

#[test]
fn server_down_at_first_is_waited_for() {
    let b = net_case(
        "net_server_late",
        "e1000",
        &format!("root=live:http://{SERVER}/f/live.img"),
        5,
    )
    .boot_live(&NET_FLAT);
    b.check(
        b.ended
            .has_line(&["attempt 2 of 100 failed, retrying in 2 s"]),
        "the server's first seconds were not retried with a growing pause",
    );
}

#[test]
fn server_found_by_its_dns_name() {
    let b = dns_case(
        "net_dns_name",
        &format!("root=live:http://{DNS_NAME}:18080/f/live.img {DNS_ARGS}"),
    )
    .boot_live(&NET_FLAT);
    check_info(&b);
    b.check(
        b.ended.has_line(&[
            "liveinit: livenet: http://images.liveinit.test:18080/f/live.img",
            "from 10.0.2.2:18080",
        ]),
        "the final livenet line does not show the name resolved to 10.0.2.2",
    );
    let log = server_log("net_dns_name");
    b.check(
        log.contains("dnsstub: A images.liveinit.test -> NOERROR, 1 answer(s)"),
        &format!("the DNS responder was not asked for the name:\n{log}"),
    );
}

#[test]
fn download_through_the_proxy() {
    // The origin's name resolves nowhere in the guest (no DNS is asked for
    // it): only the proxy can reach it.
    let origin = "origin.liveinit.test:18080";
    let b = dns_case(
        "net_proxy",
        &format!(
            "root=live:http://{origin}/f/live.img proxy=http://10.0.2.2:{PROXY_PORT} {DNS_ARGS}"
        ),
    )
    .boot_live(&NET_FLAT);
    check_info(&b);
    let log = server_log("net_proxy");
    b.check(
        log.contains(&format!(
            "fwdproxy: GET http://{origin}/f/live.img -> 127.0.0.1:18080"
        )),
        &format!("the proxy did not see an absolute-form request:\n{log}"),
    );
    b.check(
        log.contains("imageserver: GET /f/live.img"),
        &format!("the image server did not get the forwarded request:\n{log}"),
    );
    b.check(
        !log.contains("dnsstub:"),
        &format!("the guest looked the origin up itself:\n{log}"),
    );
}

// ---------------------------------------------------------------------------
// Downloads that must fail by themselves, with the spec's message.

#[test]
fn unknown_name_fails_naming_host_and_resolver() {
    let ended = dns_case(
        "net_dns_unknown",
        &format!(
            "root=live:http://nowhere.liveinit.test:18080/f/live.img {DNS_ARGS} \
             rd.liveinit.net.retries=2"
        ),
    )
    .boot_fatal(&[
        "gave up after 2 attempts",
        "cannot resolve nowhere.liveinit.test: Name does not resolve (asked 10.0.2.2)",
    ]);
    let log = server_log("net_dns_unknown");
    ended.check(
        log.contains("dnsstub: A nowhere.liveinit.test -> NXDOMAIN"),
        &format!("the DNS responder was not asked:\n{log}"),
    );
}

#[test]
fn missing_image_fails_fast() {
    let ended = net_case(
        "net_404",
        "e1000",
        &format!("root=live:http://{SERVER}/f/missing.img"),
        0,
    )
    .boot_fatal(&[
        "download: http://",
        "no such image: the server answered HTTP/1.1 404",
    ]);
    ended.check(!ended.has_line(&["retrying in"]), "a 404 was retried");
}

/// With two vCPUs: the child hashing beside the download runs on the
/// other one at once (with one, it runs whenever the init waits).
#[test]
fn wrong_digest_is_fatal_with_both_digests() {
    let wrong = "0".repeat(64);
    let right = sha256(&live_img());
    net_case(
        "net_wrong_digest",
        "e1000",
        &format!("root=live:http://{SERVER}/f/live.img rd.liveinit.net.sha256={wrong}"),
        0,
    )
    .cpus(2)
    .boot_fatal(&[
        "SHA-256 mismatch",
        &format!("expected {wrong}"),
        &format!("computed {right}"),
    ]);
}

#[test]
fn html_answer_is_refused() {
    net_case(
        "net_html",
        "e1000",
        &format!("root=live:http://{SERVER}/html/live.img"),
        0,
    )
    .boot_fatal(&["not a live image", "the server sent an HTML page"]);
}

#[test]
fn image_larger_than_ram_is_refused_before_download() {
    let ended = net_case(
        "net_too_big",
        "e1000",
        &format!("root=live:http://{SERVER}/big/live.img"),
        0,
    )
    .boot_fatal(&["the image is 1048576 MiB and must live in RAM", "rd.minmem"]);
    ended.check(
        !ended.has_line(&["downloading live.img:"]),
        "bytes were downloaded before the refusal",
    );
}
