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
        text.contains("the NIC with MAC 52:54:00:aa:bb:cc (BOOTIF=) within 3 s"),
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
