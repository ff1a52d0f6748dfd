//! Network bring-up boots (issue 14, network-boot-spec §3 steps 1–7): the
//! NIC drivers loaded by modalias, DHCPv4 in-process, static `ip=` with
//! its ARP duplicate-address probe, `BOOTIF=`, `ip=auto6`/`link6` through
//! the kernel's SLAAC, a VLAN, and the failures of §5 up to "no DHCP
//! answer" and "address in use". Every boot runs in a network namespace of
//! its own (QEMU user networking, `restrict=on` unless a server runs
//! beside it: slirp's DHCP, ARP and IPv6 router advertisements answer).
//!
//! The positive boots use a local live CD with `rd.neednet=1`, so the probe
//! (the real init) reports the state files, addresses and routes; the
//! failures use a network root (`root=live:http://…`), where a network
//! failure is fatal.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{
    cdrom, probe_root, shared, Case, Expect, LiveBase, Medium, Probed, Shared, FLAT_ISO,
};
use qemu_tests::media::{Image, Layout, LiveImages, LiveRoot, HOST_BUSYBOX};
use qemu_tests::out_dir;

const LABEL: &str = "LIVEINIT_NET";
const MAC0: &str = "52:54:00:12:34:56";
const MAC1: &str = "52:54:00:12:34:57";

fn media_dir() -> PathBuf {
    out_dir().join("media-net")
}

fn images() -> &'static LiveImages {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    static IMAGES: Shared<LiveImages> = OnceLock::new();
    let root = probe_root(&ROOT, &media_dir());
    shared(&IMAGES, "net-flat", || {
        LiveImages::build(root, Layout::FlatSquashfs, &media_dir())
    })
}

fn live_iso() -> &'static Image {
    static ISO: Shared<Image> = OnceLock::new();
    shared(&ISO, "net-live.iso", || {
        images().iso(LABEL, &media_dir().join("net-live.iso"))
    })
}

/// The flattened SquashFS of the live CD, in a directory of its own for
/// an HTTP server to serve as `/live.img`.
fn served_dir() -> &'static PathBuf {
    static DIR: Shared<PathBuf> = OnceLock::new();
    shared(&DIR, "served over IPv6", || {
        let dir = media_dir().join("served6");
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(&images().files[0].1, dir.join("live.img"))?;
        Ok(dir)
    })
}

/// A user-network NIC of `model` with a fixed MAC.
fn user_nic(id: &str, model: &str, mac: &str) -> [String; 4] {
    [
        "-netdev".into(),
        format!("user,id={id},restrict=on"),
        "-device".into(),
        format!("{model},netdev={id},mac={mac},romfile="),
    ]
}

fn local_case(name: &str, args: &str, net: &[String]) -> Case {
    let net: Vec<&str> = net.iter().map(String::as_str).collect();
    Case::new(
        name,
        vec![cdrom(live_iso())],
        &format!("root=live:CDLABEL={LABEL} rd.neednet=1 {args}"),
    )
    .net_args(&net)
}

fn check_dhcp(b: &Probed, file: &str, mac: &str) {
    let r = &b.report;
    b.check(
        r.net_value(file, "METHOD").as_deref() == Some("dhcp"),
        &format!("no DHCP state for {file}: {:?}", r.net_state),
    );
    b.check(
        r.net_value(file, "MAC").as_deref() == Some(mac),
        &format!("{file} is not {mac}: {:?}", r.net_state),
    );
    b.check(
        r.net_value(file, "ADDRESS").as_deref() == Some("10.0.2.15")
            && r.net_value(file, "PREFIX").as_deref() == Some("24")
            && r.net_value(file, "DHCP_SERVER").as_deref() == Some("10.0.2.2"),
        &format!("unexpected lease: {:?}", r.net_state),
    );
    b.check(
        r.net_local.iter().any(|a| a == "10.0.2.15"),
        &format!("10.0.2.15 is not configured: {:?}", r.net_local),
    );
    b.check(
        r.net_state.iter().any(|(f, _)| f == "resolv.conf"),
        "no /run/initramfs/net/resolv.conf",
    );
}

#[test]
fn dhcp_on_virtio_net() {
    let b = local_case(
        "net_dhcp_virtio",
        "",
        &user_nic("n0", "virtio-net-pci", MAC0),
    )
    .boot_live(&FLAT_ISO);
    b.check(
        b.report.has_module("virtio_net"),
        "virtio_net was not loaded",
    );
    check_dhcp(&b, "eth0", MAC0);
}

#[test]
fn dhcp_on_e1000() {
    let b = local_case("net_dhcp_e1000", "", &user_nic("n0", "e1000", MAC0)).boot_live(&FLAT_ISO);
    b.check(b.report.has_module("e1000"), "e1000 was not loaded");
    check_dhcp(&b, "eth0", MAC0);
}

/// Two NICs, one `ip=` each: a dotted netmask with a gateway, and a prefix
/// length with a host name.
#[test]
fn static_ip_dotted_and_prefix_masks() {
    let mut net = user_nic("n0", "virtio-net-pci", MAC0).to_vec();
    net.extend(user_nic("n1", "virtio-net-pci", MAC1));
    let b = local_case(
        "net_static",
        "ip=10.0.2.20::10.0.2.2:255.255.255.0::enx525400123456:none \
         ip=10.0.3.21:::24:netbox:enx525400123457:none nameserver=10.0.2.3",
        &net,
    )
    .boot_live(&FLAT_ISO);
    let r = &b.report;
    for (mac, addr) in [(MAC0, "10.0.2.20"), (MAC1, "10.0.3.21")] {
        let files = r.net_files_with_mac(mac);
        b.check(
            files.len() == 1,
            &format!("state for {mac}: {:?}", r.net_state),
        );
        b.check(
            r.net_value(&files[0], "METHOD").as_deref() == Some("static")
                && r.net_value(&files[0], "ADDRESS").as_deref() == Some(addr)
                && r.net_value(&files[0], "PREFIX").as_deref() == Some("24"),
            &format!("state of {mac}: {:?}", r.net_state),
        );
        b.check(
            r.net_local.iter().any(|a| a == addr),
            &format!("{addr} not configured: {:?}", r.net_local),
        );
    }
    // The first ip= is the boot device: its gateway is the default route
    // (10.0.2.2 as /proc/net/route writes it, little-endian hex).
    b.check(
        r.net_routes
            .iter()
            .any(|l| l.contains(" 00000000 0202000A 00000000")),
        &format!("no default route via 10.0.2.2: {:?}", r.net_routes),
    );
    b.check(
        r.hostname.as_deref() == Some("netbox"),
        &format!("host name {:?}", r.hostname),
    );
}

/// Both NICs would answer; `BOOTIF=` names the second, only it is configured.
#[test]
fn bootif_chooses_between_two_nics() {
    let mut net = user_nic("n0", "virtio-net-pci", MAC0).to_vec();
    net.extend(user_nic("n1", "virtio-net-pci", MAC1));
    let b = local_case("net_bootif", "BOOTIF=01-52-54-00-12-34-57", &net).boot_live(&FLAT_ISO);
    let r = &b.report;
    let files = r.net_files_with_mac(MAC1);
    b.check(files.len() == 1, &format!("state: {:?}", r.net_state));
    check_dhcp(&b, &files[0], MAC1);
    b.check(
        r.net_files_with_mac(MAC0).is_empty(),
        &format!("the other NIC was configured: {:?}", r.net_state),
    );
}

/// No `ip=`, two NICs, one on an empty hub: DHCP runs on both at once and
/// the one that answers is configured; the silent one is left alone.
#[test]
fn dhcp_on_all_nics_at_once_the_live_one_wins() {
    let mut net: Vec<String> = [
        "-netdev",
        "hubport,id=n0,hubid=7",
        "-device",
        "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    net.extend(user_nic("n1", "virtio-net-pci", MAC1));
    let b = local_case("net_dhcp_any", "", &net).boot_live(&FLAT_ISO);
    let r = &b.report;
    let files = r.net_files_with_mac(MAC1);
    b.check(files.len() == 1, &format!("state: {:?}", r.net_state));
    check_dhcp(&b, &files[0], MAC1);
    b.check(
        r.net_files_with_mac(MAC0).is_empty(),
        &format!("the silent NIC was configured: {:?}", r.net_state),
    );
    b.check(
        r.link_up(MAC0) == Some(false) && r.link_up(MAC1) == Some(true),
        &format!("the silent NIC is not down: {:?}", r.net_links),
    );
}

#[test]
fn bootif_naming_a_missing_mac_lists_the_nics() {
    let net = user_nic("n0", "virtio-net-pci", MAC0);
    let net: Vec<&str> = net.iter().map(String::as_str).collect();
    Case::new(
        "net_bootif_missing",
        vec![],
        "root=live:http://10.0.2.2/live.sfs BOOTIF=01-52-54-00-aa-bb-cc rd.net.timeout.iflink=5",
    )
    .net_args(&net)
    .boot_fatal(&[
        "the NIC with MAC 52:54:00:aa:bb:cc (BOOTIF=) did not appear within 5 s",
        "eth0 52:54:00:12:34:56 virtio_net enp0s",
    ]);
}

/// A NIC on a QEMU hub with nothing else on it: carrier, but no DHCP
/// server. The boot must end on its own within the bound set here.
#[test]
fn no_dhcp_answer_names_the_interface_and_the_discovers() {
    let net = [
        "-netdev",
        "hubport,id=n0,hubid=7",
        "-device",
        "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=",
    ];
    let ended = Case::new(
        "net_no_dhcp",
        vec![],
        "root=live:http://10.0.2.2/live.sfs rd.net.timeout.dhcp=6",
    )
    .net_args(&net)
    .boot_fatal(&[
        "no DHCP answer on eth0 (52:54:00:12:34:56)",
        "DISCOVERs sent in 6 s",
        "rd.net.timeout.dhcp=",
    ]);
    ended.check(
        ended.out.elapsed.as_secs() < 60,
        &format!("took {:?}", ended.out.elapsed),
    );
}

/// A network root: the lease is taken before the download, which then
/// fails by itself (restricted user networking refuses the connection)
/// after the one attempt the command line allows.
#[test]
fn network_root_brings_the_network_up_first() {
    let net = user_nic("n0", "e1000", MAC0);
    let net: Vec<&str> = net.iter().map(String::as_str).collect();
    let ended = Case::new(
        "net_url_root",
        vec![],
        "root=live:http://10.0.2.2/live.sfs rd.liveinit.net.retries=1",
    )
    .net_args(&net)
    .boot_fatal(&["gave up after 1 attempt in", "rd.liveinit.net.retries="]);
    ended.check(
        ended.has_line(&["network up in", "eth0 10.0.2.15/24"]),
        "no `network up` line",
    );
}

/// RFC 5227 probe: slirp answers ARP for its gateway 10.0.2.2, so taking
/// that address statically is refused, naming the MAC that answered,
/// within the probe's bound (3 s by default) and before it is configured.
#[test]
fn static_address_in_use_is_refused_by_the_arp_probe() {
    let net = user_nic("n0", "virtio-net-pci", MAC0);
    let net: Vec<&str> = net.iter().map(String::as_str).collect();
    let ended = Case::new(
        "net_dad_conflict",
        vec![],
        "root=live:http://10.0.2.2/live.sfs ip=10.0.2.2::10.0.2.2:255.255.255.0::eth0:none",
    )
    .net_args(&net)
    .boot_fatal(&[
        "10.0.2.2 is already in use on the network of eth0 (52:54:00:12:34:56)",
        "52:55:0a:00:02:02 answered the ARP probe",
        "rd.liveinit.net.dad=0",
    ]);
    ended.check(
        !ended.has_line(&["eth0: 10.0.2.2/24 (static"]),
        "the address was configured anyway",
    );
    ended.check(
        ended.out.elapsed.as_secs() < 60,
        &format!("took {:?}", ended.out.elapsed),
    );
}

/// `ip=<if>:auto6` on one NIC, `ip=<if>:link6` on the other: the kernel's
/// SLAAC from slirp's router advertisement (fec0::/64) gives the first its
/// EUI-64 address and the default route; the second keeps its link-local
/// address only. The probe sees both in /proc/net/if_inet6.
#[test]
fn auto6_and_link6_through_the_kernels_slaac() {
    let mut net = user_nic("n0", "virtio-net-pci", MAC0).to_vec();
    net.extend(user_nic("n1", "virtio-net-pci", MAC1));
    let b = local_case(
        "net_auto6",
        "ip=enx525400123456:auto6 ip=enx525400123457:link6",
        &net,
    )
    .boot_live(&FLAT_ISO);
    let r = &b.report;
    let f0 = r.net_files_with_mac(MAC0);
    let f1 = r.net_files_with_mac(MAC1);
    b.check(
        f0.len() == 1 && f1.len() == 1,
        &format!("state: {:?}", r.net_state),
    );
    b.check(
        r.net_value(&f0[0], "METHOD").as_deref() == Some("auto6")
            && r.net_value(&f0[0], "ADDRESS6").as_deref() == Some("fec0::5054:ff:fe12:3456")
            && r.net_value(&f0[0], "PREFIX6").as_deref() == Some("64"),
        &format!("auto6 state: {:?}", r.net_state),
    );
    b.check(
        r.net_value(&f0[0], "GATEWAY6")
            .is_some_and(|g| g.starts_with("fe80::")),
        &format!("no IPv6 default route recorded: {:?}", r.net_state),
    );
    b.check(
        r.net_value(&f1[0], "METHOD").as_deref() == Some("link6")
            && r.net_value(&f1[0], "ADDRESS6").as_deref() == Some("fe80::5054:ff:fe12:3457"),
        &format!("link6 state: {:?}", r.net_state),
    );
    // The kernel's own view: the global address is there and not tentative
    // (flags without 0x40); link6's NIC has none.
    let inet6: Vec<&String> = r.notes.iter().filter(|n| n.starts_with("inet6 ")).collect();
    b.check(
        inet6.iter().any(|n| {
            let f: Vec<&str> = n.split(' ').collect();
            f.get(1) == Some(&"fec0000000000000505400fffe123456")
                && f.get(5)
                    .and_then(|x| u32::from_str_radix(x, 16).ok())
                    .is_some_and(|x| x & 0x40 == 0)
        }),
        &format!("fec0::5054:ff:fe12:3456 not configured: {inet6:?}"),
    );
    b.check(
        !inet6
            .iter()
            .any(|n| n.starts_with("inet6 fec0") && n.contains("fffe123457")),
        &format!("link6 took a global address: {inet6:?}"),
    );
}

/// `vlan=vlan5:eth0` with a static address on the VLAN: 8021q is loaded,
/// the device made on the NIC, the address put on it. slirp does not speak
/// 802.1Q, so only the kernel's view is checked, not traffic.
#[test]
fn vlan_device_with_a_static_address() {
    let b = local_case(
        "net_vlan",
        "vlan=vlan5:eth0 ip=10.0.5.2:::24::vlan5:none rd.liveinit.net.dad=1",
        &user_nic("n0", "virtio-net-pci", MAC0),
    )
    .boot_live(&FLAT_ISO);
    let r = &b.report;
    b.check(r.has_module("8021q"), "8021q was not loaded");
    b.check(
        r.notes.iter().any(|n| n == "vlan vlan5 | 5 | eth0"),
        &format!("no VLAN 5 on eth0 in /proc/net/vlan/config: {:?}", r.notes),
    );
    b.check(
        r.net_value("vlan5", "VLAN_ID").as_deref() == Some("5")
            && r.net_value("vlan5", "ADDRESS").as_deref() == Some("10.0.5.2"),
        &format!("vlan5 state: {:?}", r.net_state),
    );
    b.check(
        r.net_local.iter().any(|a| a == "10.0.5.2"),
        &format!("10.0.5.2 is not configured: {:?}", r.net_local),
    );
}

/// A network root over IPv6 only: `ip=eth0:auto6` takes slirp's fec0::/64
/// prefix, then the image comes from fec0::2, which slirp forwards to the
/// host's ::1, where busybox httpd serves it in the test's namespace.
#[test]
fn network_root_downloaded_over_ipv6_after_slaac() {
    const NET_FLAT: Expect = Expect::overlay(
        Medium::Released,
        "/run/initramfs/livenet/live.img",
        LiveBase::Loop("livenet/live.img"),
        "squashfs",
    );
    let dir = served_dir().display().to_string();
    let server = [HOST_BUSYBOX, "httpd", "-f", "-p", "[::1]:18086", "-h", &dir];
    let b = Case::new(
        "net_auto6_download",
        vec![],
        "root=live:http://[fec0::2]:18086/live.img ip=eth0:auto6",
    )
    // The image lives in RAM next to rd.minmem's 1024 MiB.
    .memory(1536)
    .nic("virtio-net-pci")
    .server(server.iter().map(|a| a.to_string()).collect())
    .boot_live(&NET_FLAT);
    b.check(
        b.ended.has_line(&["network up in", "eth0 fec0::"]),
        "no `network up` line with the SLAAC address",
    );
    b.check(
        b.report.net_value("eth0", "METHOD").as_deref() == Some("auto6"),
        &format!("state: {:?}", b.report.net_state),
    );
}
