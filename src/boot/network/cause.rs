//! What went wrong bringing the network up, with the texts the spec's §5
//! asks for: what was looked for, what was there (name, MAC, driver, PCI
//! path name), how long was waited and which option sets that wait.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCause {
    /// A named interface or the BOOTIF MAC is not there.
    NicNotFound {
        wanted: String,
        option: &'static str,
        waited_secs: u64,
        /// Every interface present, described.
        present: Vec<String>,
    },
    /// No network interface at all.
    NoNic {
        waited_secs: u64,
        /// PCI network-class devices with no driver: `slot (modalias)`.
        unbound: Vec<String>,
    },
    /// Interfaces without carrier.
    NoCarrier {
        interfaces: Vec<String>,
        waited_secs: u64,
    },
    /// No DHCP server answered.
    NoDhcpAnswer {
        interfaces: Vec<String>,
        discovers: u32,
        waited_secs: u64,
        attempts: u32,
    },
    /// A server answered, but no usable lease came of it.
    DhcpRefused {
        interfaces: Vec<String>,
        server: Option<Ipv4Addr>,
        why: String,
    },
    /// The boot device (`bootdev=`, `BOOTIF=`, first `ip=`) got no address.
    BootDeviceUnconfigured { wanted: String },
    /// Links the kernel did not report up after they were set up.
    LinkNotUp {
        interfaces: Vec<String>,
        waited_secs: u64,
    },
    /// The ARP probe of a static address got an answer (RFC 5227).
    AddressInUse {
        address: Ipv4Addr,
        /// `eth0 (52:54:00:12:34:56)`.
        interface: String,
        /// The MAC of the host that has the address.
        holder: String,
        /// The `ip=` value.
        text: String,
    },
    /// `auto6`/`link6`: no usable IPv6 address in time.
    NoIpv6Address {
        interface: String,
        method: &'static str,
        /// Still tentative (DAD running) rather than absent.
        tentative: bool,
        waited_secs: u64,
        option: &'static str,
    },
    /// The kernel's IPv6 duplicate-address detection failed.
    Ipv6InUse {
        interface: String,
        address: Ipv6Addr,
    },
    /// `/proc/sys/net/ipv6/conf/<if>` cannot be written (IPv6 disabled?).
    Ipv6Unavailable { path: String, why: String },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        String::from("none")
    } else {
        items.join(", ")
    }
}

impl fmt::Display for NetCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetCause::NicNotFound {
                wanted,
                option,
                waited_secs,
                present,
            } => {
                write!(
                    f,
                    "{wanted} ({option}) did not appear within {waited_secs} s \
                     (rd.net.timeout.iflink); interfaces present: "
                )?;
                if present.is_empty() {
                    f.write_str("none, no network driver bound")?;
                } else {
                    f.write_str(&present.join("; "))?;
                }
                f.write_str(
                    "; name one by kernel name, enx<mac> or its PCI path name (enp<bus>s<slot>), \
                     or correct the MAC",
                )
            }
            NetCause::NoNic {
                waited_secs,
                unbound,
            } => {
                write!(
                    f,
                    "no network interface appeared within {waited_secs} s (rd.net.timeout.iflink): \
                     no network driver bound"
                )?;
                if unbound.is_empty() {
                    f.write_str(
                        "; no PCI network device without a driver either (is a NIC attached?)",
                    )
                } else {
                    write!(
                        f,
                        "; PCI network devices without a driver: {}; pack their driver into the initramfs",
                        unbound.join(", ")
                    )
                }
            }
            NetCause::NoCarrier {
                interfaces,
                waited_secs,
            } => write!(
                f,
                "no carrier on {} after {waited_secs} s (rd.net.timeout.carrier): \
                 cable or switch port down?",
                list(interfaces)
            ),
            NetCause::NoDhcpAnswer {
                interfaces,
                discovers,
                waited_secs,
                attempts,
            } => write!(
                f,
                "no DHCP answer on {}: {discovers} DISCOVERs sent in {waited_secs} s \
                 ({attempts} attempt(s), rd.net.dhcp.retry); choose the NIC with ip=<if>:dhcp \
                 or BOOTIF=, wait longer with rd.net.timeout.dhcp=, or give a static ip=",
                list(interfaces)
            ),
            NetCause::DhcpRefused {
                interfaces,
                server,
                why,
            } => write!(
                f,
                "DHCP on {} failed: the server {} {why}",
                list(interfaces),
                server.map_or(String::from("(unknown)"), |s| format!("{s}"))
            ),
            NetCause::BootDeviceUnconfigured { wanted } => write!(
                f,
                "the boot device {wanted} got no address (no lease and no static ip= for it); \
                 check bootdev= and the ip= options"
            ),
            NetCause::LinkNotUp {
                interfaces,
                waited_secs,
            } => write!(
                f,
                "{} not up {waited_secs} s after it was set up (rd.net.timeout.ifup): \
                 the driver did not open the device; see the kernel log for it",
                list(interfaces)
            ),
            NetCause::AddressInUse {
                address,
                interface,
                holder,
                text,
            } => write!(
                f,
                "{address} is already in use on the network of {interface}: {holder} answered \
                 the ARP probe (ip={text}); choose a free address, or rd.liveinit.net.dad=0 \
                 to skip the probe"
            ),
            NetCause::NoIpv6Address {
                interface,
                method,
                tentative,
                waited_secs,
                option,
            } => {
                let what = if *method == "link6" {
                    "link-local"
                } else {
                    "global"
                };
                if *tentative {
                    write!(
                        f,
                        "the {what} IPv6 address of {interface} (ip={method}) was still tentative \
                         (duplicate-address detection) after {waited_secs} s ({option})"
                    )
                } else {
                    write!(
                        f,
                        "no {what} IPv6 address on {interface} (ip={method}) after {waited_secs} s \
                         ({option}): no router advertisement with a prefix? use ip=<if>:dhcp \
                         or a static ip= for IPv4"
                    )
                }
            }
            NetCause::Ipv6InUse { interface, address } => write!(
                f,
                "IPv6 duplicate-address detection failed for {} on {interface}: \
                 another host has it",
                crate::net::six::text(*address)
            ),
            NetCause::Ipv6Unavailable { path, why } => write!(
                f,
                "cannot set up IPv6 autoconfiguration: {path}: {why} \
                 (is IPv6 disabled, ipv6.disable=1?)"
            ),
        }
    }
}
