//! The network plan as `explain` shows it: one line per decision.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::addr::mac_text;
use super::ifname::ref_text;
use super::{Method, NetPlan, Targets};

/// Lines describing what the bring-up would do, in order.
pub fn describe(plan: &NetPlan) -> Vec<String> {
    let mut out = Vec::new();
    let t = &plan.timeouts;
    out.push(format!(
        "drivers: NIC drivers packed in the initramfs load by modalias; interfaces awaited up to {} s (rd.net.timeout.iflink)",
        t.iflink.as_secs()
    ));
    out.push(format!(
        "links: each set up and reported up within {} s (rd.net.timeout.ifup), then carrier within {} s (rd.net.timeout.carrier)",
        t.ifup.as_secs(),
        t.carrier.as_secs()
    ));
    for (name, mac) in &plan.renames {
        out.push(format!(
            "rename the NIC with MAC {} to {name} (ifname=)",
            mac_text(mac)
        ));
    }
    for v in &plan.vlans {
        out.push(format!(
            "create VLAN {} (ID {}) on {} (vlan=)",
            v.name, v.id, v.parent
        ));
    }
    let dhcp = format!(
        "DHCPv4, {} s per attempt (rd.net.timeout.dhcp), {} attempt(s) (rd.net.dhcp.retry)",
        t.dhcp.as_secs(),
        t.dhcp_retry
    );
    let six = |m: Method| {
        let what = if m == Method::Auto6 {
            "a global address from the router's prefix"
        } else {
            "its link-local address"
        };
        let route = if m == Method::Auto6 {
            format!(
                ", the router's default route within {} s (rd.net.timeout.route; else a warning)",
                t.route.as_secs()
            )
        } else {
            String::new()
        };
        format!(
            "IPv6 by the kernel's autoconfiguration ({}): {what} within {} s (rd.net.timeout.ipv6auto), \
             duplicate-address detection over within {} s (rd.net.timeout.ipv6dad){route}; no DHCPv6, no DNS from the router",
            m.name(),
            t.ipv6auto.as_secs(),
            t.ipv6dad.as_secs()
        )
    };
    let dad = if t.dad.is_zero() {
        String::from("no ARP probe (rd.liveinit.net.dad=0)")
    } else {
        format!(
            "after an ARP probe of {} s that no other host may answer (rd.liveinit.net.dad)",
            t.dad.as_secs()
        )
    };
    let auto = |m: Method| if m.is_six() { six(m) } else { dhcp.clone() };
    match &plan.targets {
        Targets::Any if plan.auto_method.is_six() => out.push(format!(
            "interfaces: every Ethernet NIC with carrier (waited for up to {} s, rd.net.timeout.carrier); {}",
            t.carrier.as_secs(),
            six(plan.auto_method)
        )),
        Targets::Any => out.push(format!(
            "interfaces: every Ethernet NIC with carrier (waited for up to {} s, rd.net.timeout.carrier); \
             {dhcp} on all in parallel, the first lease wins, the others stay down",
            t.carrier.as_secs()
        )),
        Targets::Bootif(mac) => out.push(format!(
            "interfaces: only the NIC with MAC {} (BOOTIF=); {}",
            mac_text(mac),
            auto(plan.auto_method)
        )),
        Targets::Named(configs) => {
            for c in configs {
                let what = match (&c.method, &c.addr) {
                    (Method::Static, Some(s)) => format!(
                        "static {}/{}{}{}",
                        s.address,
                        s.prefix,
                        s.peer.map_or_else(|| format!(", {dad}"), |(p, _)| format!(" peer {p} (no ARP probe on a point-to-point link)")),
                        s.gateway.map_or(String::new(), |g| format!(", default route via {g}"))
                    ),
                    (m, _) => auto(*m),
                };
                let mut extra = String::new();
                if let Some(m) = c.mtu {
                    extra.push_str(&format!(", MTU {m}"));
                }
                if let Some(m) = c.set_mac {
                    extra.push_str(&format!(", MAC set to {}", mac_text(&m)));
                }
                if let Some(h) = &c.hostname {
                    extra.push_str(&format!(", host name {h}"));
                }
                out.push(format!("interface {}: {what}{extra} (ip={})", ref_text(&c.iface), c.text));
            }
        }
    }
    if let Some(dev) = plan.boot_device() {
        out.push(format!("boot device (routes and DNS): {}", ref_text(&dev)));
    }
    out.push(format!(
        "gateway: the boot device's IPv4 gateway, if it has one, is asked for by ARP until it answers, up to {} s (rd.net.timeout.route; else a warning)",
        t.route.as_secs()
    ));
    for r in &plan.routes {
        out.push(format!(
            "route {}/{}{}{} (rd.route=)",
            r.net,
            r.prefix,
            r.gateway.map_or(String::new(), |g| format!(" via {g}")),
            r.iface
                .as_deref()
                .map_or(String::new(), |i| format!(" dev {i}"))
        ));
    }
    let dhcp_used = match &plan.targets {
        Targets::Named(c) => c.iter().any(|c| c.method == Method::Dhcp),
        _ => plan.auto_method == Method::Dhcp,
    };
    let dns = match (dhcp_used, plan.peerdns) {
        (false, _) => "from ip= and nameserver= only (no DHCP, no DNS from IPv6 routers)",
        (true, true) => "from DHCP",
        (true, false) => "not from DHCP (rd.peerdns=0)",
    };
    let extra: Vec<String> = plan.nameservers.iter().map(|a| format!("{a}")).collect();
    out.push(format!(
        "DNS: {dns}{}; written to /etc/resolv.conf and /run/initramfs/net/resolv.conf",
        if extra.is_empty() {
            String::new()
        } else {
            format!(", then {} (nameserver=)", extra.join(" "))
        }
    ));
    out.push(String::from(
        "state: /run/initramfs/net/<interface> (key=value) for the real root",
    ));
    out
}
