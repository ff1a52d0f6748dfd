use super::*;
use alloc::vec;

fn plan(text: &str) -> Result<NetPlan, NetError> {
    NetPlan::from_cmdline(&Cmdline::parse(text), &mut Vec::new())
}

const MAC: Mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

#[test]
fn selection_follows_the_table() {
    assert_eq!(plan("").unwrap().targets, Targets::Any);
    assert_eq!(plan("ip=dhcp").unwrap().targets, Targets::Any);
    assert_eq!(plan("ip=single-dhcp").unwrap().targets, Targets::Any);
    let p = plan("BOOTIF=01-52-54-00-12-34-56").unwrap();
    assert_eq!(p.targets, Targets::Bootif(MAC));
    assert_eq!(p.boot_device(), Some(IfRef::Mac(MAC)));
    assert_eq!(
        plan("BOOTIF=01-52-54-00-12-34-56 ip=dhcp").unwrap().targets,
        Targets::Bootif(MAC)
    );
    let p = plan("BOOTIF=01-52-54-00-12-34-56 rd.bootif=0").unwrap();
    assert_eq!((p.targets, p.bootif), (Targets::Any, None));
    let p = plan("ip=eth1:dhcp ip=10.0.0.2::10.0.0.1:8::eth2:none").unwrap();
    match &p.targets {
        Targets::Named(c) => assert_eq!(c.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.boot_device(), Some(IfRef::Name("eth1".into())));
    let p = plan("ip=eth1:dhcp ip=eth2:dhcp bootdev=eth2").unwrap();
    assert_eq!(p.boot_device(), Some(IfRef::Name("eth2".into())));
}

#[test]
fn conflicts_and_unsupported() {
    assert!(matches!(
        plan("ip=eth0:dhcp ip=eth0:dhcp"),
        Err(NetError::Conflict { .. })
    ));
    assert!(matches!(
        plan("ip=dhcp ip=eth0:dhcp"),
        Err(NetError::Conflict { .. })
    ));
    assert!(matches!(
        plan("ip=eth0:dhcp::52:54:00:12:34:56 ifname=eth0:52:54:00:12:34:57"),
        Err(NetError::Conflict { .. })
    ));
    for u in [
        "bond=bond0:eth0,eth1",
        "team=t0:eth0",
        "bridge=br0:eth0",
        "ip=ibft",
    ] {
        let e = plan(u).unwrap_err();
        assert!(matches!(e, NetError::Unsupported { .. }), "{u}");
        assert!(alloc::format!("{e}").contains("not supported yet"));
    }
    assert!(matches!(
        plan("BOOTIF=zz"),
        Err(NetError::Option { key: "BOOTIF", .. })
    ));
}

#[test]
fn other_options() {
    let mut w = Vec::new();
    let p = NetPlan::from_cmdline(
        &Cmdline::parse(
            "ifname=lan0:52:54:00:12:34:56 ifname=eth5:52:54:00:12:34:57 nameserver=1.1.1.1 \
             nameserver=9.9.9.9 nameserver=2001:db8::1 rd.peerdns=0 rd.route=192.168.7.0/24:10.0.2.1 \
             rd.route=10.9.0.0/255.255.0.0::eth0 rd.route=[2001:db8::]/64:[2001:db8::1] \
             vlan=vlan0005:eth0 vlan=eth0.7:eth0 rd.net.timeout.dhcp=7 rd.net.timeout.carrier=3 \
             rd.net.dhcp.retry=2 rd.net.timeout.iflink=9",
        ),
        &mut w,
    )
    .unwrap();
    assert_eq!(
        p.renames,
        [
            ("lan0".into(), MAC),
            ("eth5".into(), [0x52, 0x54, 0, 0x12, 0x34, 0x57])
        ]
    );
    assert_eq!(
        p.nameservers,
        [Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(9, 9, 9, 9)]
    );
    assert!(!p.peerdns);
    assert_eq!(p.routes.len(), 2);
    assert_eq!(p.routes[1].prefix, 16);
    assert_eq!(p.routes[1].iface.as_deref(), Some("eth0"));
    assert_eq!(
        p.vlans,
        [
            Vlan {
                name: "vlan0005".into(),
                parent: "eth0".into(),
                id: 5
            },
            Vlan {
                name: "eth0.7".into(),
                parent: "eth0".into(),
                id: 7
            },
        ]
    );
    assert_eq!(p.timeouts.dhcp, Duration::from_secs(7));
    assert_eq!(p.timeouts.carrier, Duration::from_secs(3));
    assert_eq!(p.timeouts.iflink, Duration::from_secs(9));
    assert_eq!(p.timeouts.dhcp_retry, 2);
    assert_eq!(p.timeouts.route, Duration::from_secs(20));
    // eth5 warning, IPv6 nameserver, IPv6 route.
    assert_eq!(w.len(), 3, "{w:?}");
    for bad in [
        "ifname=lan0",
        "nameserver=x",
        "rd.route=10.0.0.0:10.0.0.1",
        "rd.route=10.0.0.0/24",
        "vlan=foo:eth0",
        "vlan=vlan0:eth0",
        "rd.net.timeout.dhcp=soon",
        "rd.net.dhcp.retry=0",
    ] {
        assert!(matches!(plan(bad), Err(NetError::Option { .. })), "{bad}");
    }
    let _ = vec![0u8];
}

#[test]
fn explain_shows_the_network_plan() {
    let text = crate::explain::explain(
        "root=live:http://h/x.sfs BOOTIF=01-52-54-00-12-34-56 rd.net.timeout.dhcp=5",
    );
    assert!(
        text.contains("network, brought up before anything else"),
        "{text}"
    );
    assert!(
        text.contains("only the NIC with MAC 52:54:00:12:34:56 (BOOTIF=)"),
        "{text}"
    );
    assert!(text.contains("5 s per attempt"), "{text}");
    let local = crate::explain::explain("root=live:CDLABEL=x rd.neednet=1");
    assert!(
        local.contains("after the medium is found (rd.neednet=1"),
        "{local}"
    );
    assert!(!crate::explain::explain("root=live:CDLABEL=x ip=dhcp").contains("network,"));
}
