//! What went wrong bringing the network up, with the texts the spec's §5
//! asks for: what was looked for, what was there (name, MAC, driver, PCI
//! path name), how long was waited and which option sets that wait.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;
use core::net::Ipv4Addr;

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
                    "no network interface {wanted} ({option}) within {waited_secs} s \
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
                "the boot device {wanted} got no address (no lease and no static ip= for it);                  check bootdev= and the ip= options"
            ),
        }
    }
}
