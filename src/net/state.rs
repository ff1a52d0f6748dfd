//! What a configured interface leaves for the real root (network-boot-spec
//! §4): `/run/initramfs/net/<if>` as `key=value` lines, and the resolver
//! file, both rendered here so they are tested without a system.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::addr::{mac_text, Mac};
use super::ip::Method;
use super::six::text;

/// An address the kernel's IPv6 autoconfiguration gave (`auto6`, `link6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Six {
    pub method: Method,
    pub address: Ipv6Addr,
    pub prefix: u8,
    /// The router of the advertised default route.
    pub gateway: Option<Ipv6Addr>,
}

/// Where the state files go.
pub const NET_DIR: &str = "/run/initramfs/net";
/// The resolver file the real root can look at.
pub const RESOLV_STATE: &str = "/run/initramfs/net/resolv.conf";
/// The resolver file musl reads in the initramfs.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// One configured interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfState {
    pub name: String,
    pub dhcp: bool,
    pub mac: Mac,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub search: Vec<String>,
    pub hostname: Option<String>,
    pub mtu: Option<u32>,
    pub dhcp_server: Option<Ipv4Addr>,
    pub lease_secs: Option<u32>,
    /// `CLOCK_BOOTTIME` seconds when the lease was taken.
    pub lease_start: Option<u64>,
    /// Set for `auto6`/`link6`, which have no IPv4 address.
    pub six: Option<Six>,
    /// The VLAN ID, when the interface is a `vlan=` device.
    pub vlan: Option<u16>,
}

impl IfState {
    /// The `/run/initramfs/net/<if>` text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let join = |v: &[Ipv4Addr]| {
            v.iter()
                .map(|a| format!("{a}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let opt = |o: Option<String>| o.unwrap_or_default();
        if let Some(six) = &self.six {
            let _ = writeln!(s, "METHOD={}", six.method.name());
            let _ = writeln!(s, "MAC={}", mac_text(&self.mac));
            let _ = writeln!(s, "ADDRESS6={}", text(six.address));
            let _ = writeln!(s, "PREFIX6={}", six.prefix);
            let _ = writeln!(s, "GATEWAY6={}", opt(six.gateway.map(text)));
            let _ = writeln!(s, "DNS={}", join(&self.dns));
            let _ = writeln!(s, "HOSTNAME={}", opt(self.hostname.clone()));
            return s;
        }
        let _ = writeln!(s, "METHOD={}", if self.dhcp { "dhcp" } else { "static" });
        let _ = writeln!(s, "MAC={}", mac_text(&self.mac));
        if let Some(id) = self.vlan {
            let _ = writeln!(s, "VLAN_ID={id}");
        }
        let _ = writeln!(s, "ADDRESS={}", self.address);
        let _ = writeln!(s, "PREFIX={}", self.prefix);
        let _ = writeln!(s, "GATEWAY={}", opt(self.gateway.map(|g| format!("{g}"))));
        let _ = writeln!(s, "DNS={}", join(&self.dns));
        let _ = writeln!(s, "SEARCH={}", self.search.join(" "));
        let _ = writeln!(s, "HOSTNAME={}", opt(self.hostname.clone()));
        let _ = writeln!(s, "MTU={}", opt(self.mtu.map(|m| format!("{m}"))));
        if self.dhcp {
            let _ = writeln!(
                s,
                "DHCP_SERVER={}",
                opt(self.dhcp_server.map(|a| format!("{a}")))
            );
            let _ = writeln!(
                s,
                "LEASE_SECONDS={}",
                opt(self.lease_secs.map(|a| format!("{a}")))
            );
            let _ = writeln!(
                s,
                "LEASE_START={}",
                opt(self.lease_start.map(|a| format!("{a}")))
            );
        }
        s
    }
}

/// `/etc/resolv.conf`: the search list, each server once, and short
/// timeouts (musl reads the file on every lookup).
pub fn resolv_conf(servers: &[Ipv4Addr], search: &[String]) -> String {
    let mut s = String::new();
    let mut seen_search: Vec<&str> = Vec::new();
    for d in search {
        if !seen_search.contains(&d.as_str()) {
            seen_search.push(d);
        }
    }
    if !seen_search.is_empty() {
        let _ = writeln!(s, "search {}", seen_search.join(" "));
    }
    let mut seen: Vec<Ipv4Addr> = Vec::new();
    for a in servers {
        if !seen.contains(a) {
            seen.push(*a);
            let _ = writeln!(s, "nameserver {a}");
        }
    }
    s.push_str("options timeout:2 attempts:2\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_file_dedups() {
        let a = Ipv4Addr::new(10, 0, 2, 3);
        let text = resolv_conf(
            &[a, Ipv4Addr::new(1, 1, 1, 1), a],
            &["x".into(), "x".into()],
        );
        assert_eq!(
            text,
            "search x\nnameserver 10.0.2.3\nnameserver 1.1.1.1\noptions timeout:2 attempts:2\n"
        );
    }

    #[test]
    fn state_file_lines() {
        let st = IfState {
            name: "eth0".into(),
            dhcp: true,
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            address: Ipv4Addr::new(10, 0, 2, 15),
            prefix: 24,
            gateway: None,
            dns: Vec::new(),
            search: Vec::new(),
            hostname: None,
            mtu: None,
            dhcp_server: Some(Ipv4Addr::new(10, 0, 2, 2)),
            lease_secs: Some(86400),
            lease_start: Some(3),
            six: None,
            vlan: None,
        };
        let text = st.render();
        assert!(text.starts_with(
            "METHOD=dhcp\nMAC=52:54:00:12:34:56\nADDRESS=10.0.2.15\nPREFIX=24\nGATEWAY=\n"
        ));
        assert!(text.contains("DHCP_SERVER=10.0.2.2\nLEASE_SECONDS=86400\nLEASE_START=3\n"));
        let six = IfState {
            six: Some(Six {
                method: Method::Auto6,
                address: "fec0::5054:ff:fe12:3456".parse().unwrap(),
                prefix: 64,
                gateway: Some("fe80::2".parse().unwrap()),
            }),
            ..st.clone()
        };
        assert_eq!(
            six.render(),
            "METHOD=auto6\nMAC=52:54:00:12:34:56\nADDRESS6=fec0::5054:ff:fe12:3456\n\
             PREFIX6=64\nGATEWAY6=fe80::2\nDNS=\nHOSTNAME=\n"
        );
        let vlan = IfState {
            dhcp: false,
            vlan: Some(5),
            ..st
        };
        assert!(vlan
            .render()
            .starts_with("METHOD=static\nMAC=52:54:00:12:34:56\nVLAN_ID=5\n"));
    }
}
