//! Network bring-up against the fake: DHCP, static ip=, BOOTIF, failures.

use super::*;
use crate::sys::NetLink;

const MAC0: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
const MAC1: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x57];

fn nic(sys: &FakeSys, index: u32, name: &str, mac: [u8; 6], carrier: bool) {
    sys.net_link_at(
        Duration::ZERO,
        NetLink {
            index,
            name: name.into(),
            mac: mac.to_vec(),
            arp_type: 1,
            up: false,
            carrier,
            mtu: 1500,
        },
    );
    sys.file(
        &format!("/sys/class/net/{name}/device/uevent"),
        format!("DRIVER=e1000\nPCI_SLOT_NAME=0000:00:0{index}.0\n").as_bytes(),
    );
}

fn machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .dir("/proc/sys/kernel");
    sys.net_link_at(
        Duration::ZERO,
        NetLink {
            index: 1,
            name: "lo".into(),
            mac: vec![0; 6],
            arp_type: 772,
            up: false,
            carrier: false,
            mtu: 65536,
        },
    );
    sys
}

/// A server like libslirp's: offers 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3.
fn slirp(request: &[u8]) -> Option<Vec<u8>> {
    let kind = request
        .windows(3)
        .skip(240)
        .find(|w| w[0] == 53 && w[1] == 1)?[2];
    let answer = match kind {
        1 => 2,
        3 => 5,
        _ => return None,
    };
    let mut p = vec![2u8, 1, 6, 0];
    p.extend_from_slice(&request[4..8]);
    p.resize(16, 0);
    p.extend_from_slice(&[10, 0, 2, 15, 10, 0, 2, 2]);
    p.resize(28, 0);
    p.extend_from_slice(&request[28..34]);
    p.resize(236, 0);
    p.extend_from_slice(&[99, 130, 83, 99, 53, 1, answer]);
    p.extend_from_slice(&[1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3]);
    p.extend_from_slice(&[51, 4, 0, 1, 81, 128, 54, 4, 10, 0, 2, 2, 255]);
    Some(p)
}

#[test]
fn a_network_root_gets_a_lease_then_downloads() {
    let sys = machine("root=live:http://10.0.2.2/x.sfs");
    nic(&sys, 2, "eth0", MAC0, true);
    nic(&sys, 3, "eth1", MAC1, true);
    sys.dhcp_server("eth1", Box::new(slirp));
    let err = boot(&sys);
    // The network is up: the download starts (and finds no /proc/meminfo here).
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(
        sys.calls_starting("dhcp open").len(),
        2,
        "parallel DHCP on both"
    );
    assert_eq!(
        sys.calls_starting("net addr"),
        ["net addr 3 10.0.2.15/24 lft 86400"]
    );
    assert_eq!(
        sys.calls_starting("net route"),
        ["net route 0.0.0.0/0 via 10.0.2.2 dev 3"]
    );
    assert!(sys.calls().contains(&"net set 1 up".to_owned()), "lo up");
    let state = String::from_utf8(sys.read_file("/run/initramfs/net/eth1").unwrap()).unwrap();
    assert!(state.contains("METHOD=dhcp\nMAC=52:54:00:12:34:57\nADDRESS=10.0.2.15\nPREFIX=24\nGATEWAY=10.0.2.2\nDNS=10.0.2.3\n"), "{state}");
    let resolv = String::from_utf8(sys.read_file("/etc/resolv.conf").unwrap()).unwrap();
    assert_eq!(
        resolv,
        "nameserver 10.0.2.3\noptions timeout:2 attempts:2\n"
    );
    assert!(sys.read_file("/run/initramfs/net/resolv.conf").is_ok());
    assert!(
        sys.read_file("/run/initramfs/net/eth0").is_err(),
        "the loser stays unconfigured"
    );
}

#[test]
fn static_ip_with_a_prefix_mask_and_a_gateway() {
    let sys = machine("root=live:http://h/x ip=10.0.2.16::10.0.2.2:255.255.255.0:box:enp0s3:none nameserver=10.0.2.3");
    nic(&sys, 3, "eth0", MAC0, true);
    let err = boot(&sys);
    // The network is up: the download starts (and finds no /proc/meminfo here).
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert!(sys.calls_starting("dhcp").is_empty());
    assert_eq!(sys.calls_starting("net addr"), ["net addr 3 10.0.2.16/24"]);
    assert_eq!(
        sys.calls_starting("net route"),
        ["net route 0.0.0.0/0 via 10.0.2.2 dev 3"]
    );
    assert_eq!(sys.read_file("/proc/sys/kernel/hostname").unwrap(), b"box");
    let state = String::from_utf8(sys.read_file("/run/initramfs/net/eth0").unwrap()).unwrap();
    assert!(state.starts_with("METHOD=static\n"), "{state}");
}

#[test]
fn bootif_picks_its_nic_and_a_missing_one_lists_the_nics() {
    let sys = machine("root=live:http://h/x BOOTIF=01-52-54-00-12-34-57");
    nic(&sys, 2, "eth0", MAC0, true);
    nic(&sys, 3, "eth1", MAC1, true);
    sys.dhcp_server("eth0", Box::new(slirp));
    sys.dhcp_server("eth1", Box::new(slirp));
    let err = boot(&sys);
    // The network is up: the download starts (and finds no /proc/meminfo here).
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(sys.calls_starting("dhcp open"), ["dhcp open eth1"]);

    let sys = machine("root=live:http://h/x BOOTIF=01-52-54-00-aa-bb-cc rd.net.timeout.iflink=3");
    nic(&sys, 2, "eth0", MAC0, true);
    let err = boot(&sys);
    let text = format!("{err}");
    assert!(
        matches!(&err.cause, Cause::Net(c) if matches!(**c, NetCause::NicNotFound { .. })),
        "{text}"
    );
    assert!(
        text.contains("the NIC with MAC 52:54:00:aa:bb:cc (BOOTIF=) did not appear within 3 s"),
        "{text}"
    );
    assert!(
        text.contains("eth0 52:54:00:12:34:56 e1000 enp0s2"),
        "{text}"
    );
    assert!(sys.now() <= Duration::from_secs(4));
}

#[test]
fn no_dhcp_answer_names_interfaces_and_discovers_within_the_bound() {
    let sys = machine("root=live:http://h/x rd.net.timeout.dhcp=20");
    nic(&sys, 2, "eth0", MAC0, true);
    let err = boot(&sys);
    let text = format!("{err}");
    assert!(
        text.contains("no DHCP answer on eth0 (52:54:00:12:34:56): 3 DISCOVERs sent in"),
        "{text}"
    );
    assert!(text.contains("rd.net.timeout.dhcp="), "{text}");
    assert!(sys.now() < Duration::from_secs(25), "{:?}", sys.now());
}

#[test]
fn no_carrier_on_a_named_nic_is_fatal() {
    let sys = machine("root=live:http://h/x ip=eth0:dhcp rd.net.timeout.carrier=2");
    nic(&sys, 2, "eth0", MAC0, false);
    let text = format!("{}", boot(&sys));
    assert!(
        text.contains("no carrier on eth0 (52:54:00:12:34:56) after 2 s"),
        "{text}"
    );
}

#[test]
fn neednet_with_a_local_root_only_warns() {
    let sys = live_machine("root=live:CDLABEL=My\\x20Disk rd.neednet=1 rd.net.timeout.iflink=1");
    sys.net_link_at(
        Duration::ZERO,
        NetLink {
            index: 1,
            name: "lo".into(),
            mac: vec![0; 6],
            arp_type: 772,
            up: false,
            carrier: false,
            mtu: 65536,
        },
    );
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::ExecInit, "{err}");
}

use crate::boot::network::NetCause;

/// A NIC's driver is packed and its device is there: it is loaded like any
/// packed driver; the network comes up only when it is wanted.
#[test]
fn nic_drivers_load_for_their_devices_the_network_only_when_wanted() {
    let setup = |cmdline: &str| {
        let sys = live_machine(cmdline);
        sys.file(crate::contract::MODULES_DEP, b"/lib/modules/k/e1000.ko:\n")
            .file(
                crate::contract::MODULES_ALIAS,
                b"alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\n",
            )
            .file(
                "/sys/bus/pci/devices/0000:00:03.0/modalias",
                b"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00\n",
            )
            .dir("/proc/sys/kernel");
        nic(&sys, 2, "eth0", MAC0, true);
        sys.dhcp_server("eth0", Box::new(slirp));
        sys
    };
    let sys = setup(r"root=live:CDLABEL=My\x20Disk");
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
    assert!(
        loaded(&sys).contains(&"e1000".to_owned()),
        "{:?}",
        loaded(&sys)
    );
    assert!(sys.calls_starting("dhcp").is_empty());
    assert!(sys.calls_starting("net ").is_empty());
    let sys = setup(r"root=live:CDLABEL=My\x20Disk rd.neednet=1");
    assert_eq!(boot(&sys).stage, Stage::ExecInit);
    assert!(
        loaded(&sys).contains(&"e1000".to_owned()),
        "{:?}",
        loaded(&sys)
    );
    assert!(sys.read_file("/run/initramfs/net/eth0").is_ok());
}

const GW_MAC: [u8; 6] = [0x52, 0x55, 10, 0, 2, 2];

fn cause(err: &BootError) -> &NetCause {
    match &err.cause {
        Cause::Net(c) => c,
        other => panic!("not a network cause: {other:?} ({err})"),
    }
}

/// rd.net.timeout.ifup bounds the wait for the kernel to report the link
/// up; before, such a link was only noticed by the (longer) carrier wait.
#[test]
fn a_link_that_does_not_come_up_is_named_within_ifup() {
    let sys = machine(
        "root=live:http://h/x ip=eth0:dhcp rd.net.timeout.ifup=2 rd.net.timeout.carrier=10",
    );
    nic(&sys, 2, "eth0", MAC0, true);
    sys.link_stuck_down(2);
    let err = boot(&sys);
    let text = format!("{err}");
    assert!(matches!(cause(&err), NetCause::LinkNotUp { .. }), "{text}");
    assert!(
        text.contains(
            "eth0 (52:54:00:12:34:56) not up 2 s after it was set up (rd.net.timeout.ifup)"
        ),
        "{text}"
    );
    assert!(sys.now() < Duration::from_secs(3), "{:?}", sys.now());
}

/// RFC 5227: the address is probed before it is configured; a host that
/// answers for it stops the boot, named with its MAC.
#[test]
fn a_static_address_another_host_has_is_refused() {
    let sys = machine("root=live:http://h/x ip=10.0.2.2::10.0.2.2:24::eth0:none");
    nic(&sys, 2, "eth0", MAC0, true);
    sys.arp_host([10, 0, 2, 2], GW_MAC);
    let err = boot(&sys);
    let text = format!("{err}");
    assert!(
        matches!(cause(&err), NetCause::AddressInUse { .. }),
        "{text}"
    );
    assert!(
        text.contains(
            "10.0.2.2 is already in use on the network of eth0 (52:54:00:12:34:56): \
             52:55:0a:00:02:02 answered the ARP probe (ip=10.0.2.2::10.0.2.2:24::eth0:none)"
        ),
        "{text}"
    );
    assert!(sys.calls_starting("net addr").is_empty(), "not configured");
    assert_eq!(sys.calls_starting("arp send").len(), 1);
    assert!(sys.now() < Duration::from_secs(1), "{:?}", sys.now());
}

/// A free address: probes 1 s apart for rd.liveinit.net.dad, then the
/// address, then the gateway asked for until it answers.
#[test]
fn a_free_static_address_is_probed_then_the_gateway_checked() {
    let sys = machine("root=live:http://h/x ip=10.0.2.16::10.0.2.2:24::eth0:none");
    nic(&sys, 2, "eth0", MAC0, true);
    sys.arp_host([10, 0, 2, 2], GW_MAC);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(
        sys.calls_starting("arp send"),
        [
            "arp send 0.0.0.0 who-has 10.0.2.16",
            "arp send 0.0.0.0 who-has 10.0.2.16",
            "arp send 0.0.0.0 who-has 10.0.2.16",
            "arp send 10.0.2.16 who-has 10.0.2.2",
        ]
    );
    let calls = sys.calls();
    let addr = calls
        .iter()
        .position(|c| c.starts_with("net addr"))
        .unwrap();
    let last_probe = calls
        .iter()
        .rposition(|c| c.starts_with("arp send 0.0.0.0"))
        .unwrap();
    assert!(last_probe < addr, "probe before the address: {calls:?}");

    let sys =
        machine("root=live:http://h/x ip=10.0.2.16::10.0.2.2:24::eth0:none rd.liveinit.net.dad=0");
    nic(&sys, 2, "eth0", MAC0, true);
    sys.arp_host([10, 0, 2, 2], GW_MAC);
    assert_eq!(boot(&sys).stage, Stage::Download);
    assert_eq!(
        sys.calls_starting("arp send"),
        ["arp send 10.0.2.16 who-has 10.0.2.2"]
    );
}

/// rd.net.timeout.route bounds the wait for the gateway; a silent one is
/// asked once a second until then, and the boot goes on (as dracut's).
#[test]
fn a_silent_gateway_is_waited_for_within_route() {
    let sys = machine(
        "root=live:http://h/x ip=10.0.2.16::10.0.2.9:24::eth0:none rd.liveinit.net.dad=0 rd.net.timeout.route=4",
    );
    nic(&sys, 2, "eth0", MAC0, true);
    sys.arp_network();
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(
        sys.calls_starting("arp send 10.0.2.16 who-has 10.0.2.9")
            .len(),
        4
    );
    assert!(
        sys.now() >= Duration::from_secs(4) && sys.now() < Duration::from_secs(6),
        "{:?}",
        sys.now()
    );
}

const INET6_TENTATIVE: &[u8] = b"fe80000000000000505400fffe123456 02 40 20 80 eth0\n\
fec0000000000000505400fffe123456 02 40 40 40 eth0\n";
const INET6_DONE: &[u8] = b"fe80000000000000505400fffe123456 02 40 20 80 eth0\n\
fec0000000000000505400fffe123456 02 40 40 00 eth0\n";
const ROUTE6: &[u8] = b"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000400 00000001 00000000 00450003 eth0\n";

fn six_machine(cmdline: &str) -> FakeSys {
    let sys = machine(cmdline);
    nic(&sys, 2, "eth0", MAC0, true);
    sys.dir("/proc/sys/net/ipv6/conf/eth0");
    sys
}

/// ip=<if>:auto6: SLAAC switched on before "up", then the global address
/// waited for until it is no longer tentative, and the router's route.
#[test]
fn auto6_waits_for_the_slaac_address_and_records_it() {
    let sys = six_machine("root=live:http://h/x ip=eth0:auto6");
    sys.file_at(
        Duration::from_secs(1),
        "/proc/net/if_inet6",
        INET6_TENTATIVE,
    )
    .file_at(Duration::from_secs(2), "/proc/net/if_inet6", INET6_DONE)
    .file_at(Duration::from_secs(2), "/proc/net/ipv6_route", ROUTE6);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(
        sys.read_file("/proc/sys/net/ipv6/conf/eth0/accept_ra")
            .unwrap(),
        b"1"
    );
    let calls = sys.calls();
    let ra = calls
        .iter()
        .position(|c| c.contains("ipv6/conf/eth0/accept_ra"));
    let up = calls.iter().position(|c| c == "net set 2 up");
    assert!(ra.is_some() && ra < up, "{calls:?}");
    assert!(sys.calls_starting("dhcp").is_empty());
    let state = String::from_utf8(sys.read_file("/run/initramfs/net/eth0").unwrap()).unwrap();
    assert!(
        state.starts_with("METHOD=auto6\nMAC=52:54:00:12:34:56\nADDRESS6=fec0::5054:ff:fe12:3456\nPREFIX6=64\nGATEWAY6=fe80::2\n"),
        "{state}"
    );
    assert!(sys.now() >= Duration::from_secs(2));
}

#[test]
fn link6_takes_the_link_local_address_and_no_router() {
    let sys = six_machine("root=live:http://h/x ip=link6");
    sys.file("/proc/net/if_inet6", INET6_DONE);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(
        sys.read_file("/proc/sys/net/ipv6/conf/eth0/accept_ra")
            .unwrap(),
        b"0"
    );
    let state = String::from_utf8(sys.read_file("/run/initramfs/net/eth0").unwrap()).unwrap();
    assert!(state.contains("METHOD=link6\n"), "{state}");
    assert!(
        state.contains("ADDRESS6=fe80::5054:ff:fe12:3456\n"),
        "{state}"
    );
}

#[test]
fn auto6_without_a_router_ends_within_ipv6auto_and_tentative_within_ipv6dad() {
    let sys = six_machine("root=live:http://h/x ip=eth0:auto6 rd.net.timeout.ipv6auto=3");
    sys.file("/proc/net/if_inet6", &INET6_DONE[..50]);
    let err = boot(&sys);
    let text = format!("{err}");
    assert!(
        text.contains("no global IPv6 address on eth0 (52:54:00:12:34:56) (ip=auto6) after 3 s (rd.net.timeout.ipv6auto)"),
        "{text}"
    );
    assert!(sys.now() < Duration::from_secs(4));

    let sys = six_machine("root=live:http://h/x ip=eth0:auto6 rd.net.timeout.ipv6dad=2");
    sys.file("/proc/net/if_inet6", INET6_TENTATIVE);
    let text = format!("{}", boot(&sys));
    assert!(
        text.contains(
            "was still tentative (duplicate-address detection) after 2 s (rd.net.timeout.ipv6dad)"
        ),
        "{text}"
    );
}

/// vlan=: 8021q's device made on the NIC, the static address on it, and
/// the VLAN ID in its state file.
#[test]
fn a_vlan_gets_its_static_address() {
    let sys = machine(
        "root=live:http://h/x vlan=vlan5:eth0 ip=10.0.5.2:::24::vlan5:none rd.liveinit.net.dad=0",
    );
    nic(&sys, 2, "eth0", MAC0, true);
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Download, "{err}");
    assert_eq!(sys.calls_starting("net vlan"), ["net vlan vlan5 2 5"]);
    assert_eq!(sys.calls_starting("net addr"), ["net addr 3 10.0.5.2/24"]);
    let state = String::from_utf8(sys.read_file("/run/initramfs/net/vlan5").unwrap()).unwrap();
    assert!(state.contains("VLAN_ID=5\nADDRESS=10.0.5.2\n"), "{state}");
}
