//! Kernel device events (uevents), parsed from a netlink `KOBJECT_UEVENT`
//! message (`add@/devices/…\0ACTION=add\0…`) or a sysfs `uevent` file
//! (`KEY=VALUE` lines). Pure: bytes in, typed event out.

use alloc::string::String;

/// The keys of a device event liveinit acts on (see
/// `Documentation/ABI/testing/sysfs-uevent` and `lib/kobject_uevent.c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uevent {
    /// `add`, `remove`, `change`, `bind`, …
    pub action: Option<String>,
    /// `/devices/pci0000:00/…/block/sda/sda1`, relative to `/sys`.
    pub devpath: Option<String>,
    pub subsystem: Option<String>,
    /// What driver would serve the device, e.g. `pci:v00008086d00007010…`.
    pub modalias: Option<String>,
    /// The device node below `/dev`, e.g. `sda1`.
    pub devname: Option<String>,
    /// `disk` or `partition` for block devices.
    pub devtype: Option<String>,
    /// The bound driver (`bind` events, sysfs `uevent` files).
    pub driver: Option<String>,
    /// A partition's number.
    pub partn: Option<u32>,
    /// A GPT partition's name (PARTLABEL).
    pub partname: Option<String>,
    /// A partition's PARTUUID (only newer kernels send it).
    pub partuuid: Option<String>,
}

impl Uevent {
    /// A message from a netlink `KOBJECT_UEVENT` socket: a header
    /// `ACTION@DEVPATH`, then `KEY=VALUE` strings, all NUL-terminated.
    /// `None` for what is not a kernel event (udev's `libudev` messages,
    /// which start with that magic, or anything without the header).
    pub fn from_netlink(msg: &[u8]) -> Option<Uevent> {
        let mut fields = msg.split(|&b| b == 0);
        let header = fields.next()?;
        if header.starts_with(b"libudev") {
            return None;
        }
        let at = header.iter().position(|&b| b == b'@')?;
        let mut event = Uevent::default();
        for field in fields {
            event.set(field);
        }
        // The header says the same as ACTION/DEVPATH; use it if they are missing.
        if event.action.is_none() {
            event.action = text(header.get(..at)?);
        }
        if event.devpath.is_none() {
            event.devpath = text(header.get(at + 1..)?);
        }
        Some(event)
    }

    /// A sysfs `uevent` file: `KEY=VALUE` lines (no ACTION, no DEVPATH).
    pub fn from_sysfs(file: &[u8]) -> Uevent {
        let mut event = Uevent::default();
        for line in file.split(|&b| b == b'\n') {
            event.set(line);
        }
        event
    }

    fn set(&mut self, field: &[u8]) {
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            return;
        };
        let (Some(key), Some(value)) = (field.get(..eq), field.get(eq + 1..)) else {
            return;
        };
        let value = text(value);
        match key {
            b"ACTION" => self.action = value,
            b"DEVPATH" => self.devpath = value,
            b"SUBSYSTEM" => self.subsystem = value,
            b"MODALIAS" => self.modalias = value,
            b"DEVNAME" => self.devname = value,
            b"DEVTYPE" => self.devtype = value,
            b"DRIVER" => self.driver = value,
            b"PARTN" => self.partn = value.and_then(|v| v.parse().ok()),
            b"PARTNAME" => self.partname = value,
            b"PARTUUID" => self.partuuid = value,
            _ => {}
        }
    }

    /// The kernel name of a block device event (`DEVNAME`, else the last
    /// part of `DEVPATH`), `None` for other subsystems.
    pub fn block_name(&self) -> Option<&str> {
        if self.subsystem.as_deref() != Some("block") {
            return None;
        }
        let name = match (&self.devname, &self.devpath) {
            (Some(name), _) => name.rsplit('/').next().unwrap_or(name),
            (None, Some(path)) => path.rsplit('/').next().unwrap_or(path),
            (None, None) => return None,
        };
        (!name.is_empty()).then_some(name)
    }

    /// For a partition's event, its disk's name: the parent in `DEVPATH`
    /// (`…/block/sda/sda1` → `sda`).
    pub fn parent_disk(&self) -> Option<&str> {
        if self.devtype.as_deref() != Some("partition") {
            return None;
        }
        let mut parts = self.devpath.as_deref()?.rsplit('/');
        parts.next()?;
        parts.next().filter(|p| !p.is_empty())
    }

    pub fn is(&self, action: &str) -> bool {
        self.action.as_deref() == Some(action)
    }
}

/// Non-empty UTF-8 text, else `None`.
fn text(bytes: &[u8]) -> Option<String> {
    core::str::from_utf8(bytes)
        .ok()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netlink_messages_parse() {
        let msg =
            b"add@/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0/block/sr0\0\
ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0/block/sr0\0\
SUBSYSTEM=block\0MAJOR=11\0MINOR=0\0DEVNAME=sr0\0DEVTYPE=disk\0DISKSEQ=9\0SEQNUM=1234\0";
        let e = Uevent::from_netlink(msg).unwrap();
        assert!(e.is("add"));
        assert_eq!(e.subsystem.as_deref(), Some("block"));
        assert_eq!(e.devname.as_deref(), Some("sr0"));
        assert_eq!(e.devtype.as_deref(), Some("disk"));
        assert_eq!(e.block_name(), Some("sr0"));
        assert_eq!(e.parent_disk(), None);
        assert_eq!(e.modalias, None);

        let part = b"add@/devices/virtual/block/vda/vda2\0ACTION=add\0\
DEVPATH=/devices/virtual/block/vda/vda2\0SUBSYSTEM=block\0DEVNAME=vda2\0\
DEVTYPE=partition\0PARTN=2\0PARTNAME=Live data\0PARTUUID=0011-02\0";
        let e = Uevent::from_netlink(part).unwrap();
        assert_eq!(e.block_name(), Some("vda2"));
        assert_eq!(e.parent_disk(), Some("vda"));
        assert_eq!(e.partn, Some(2));
        assert_eq!(e.partname.as_deref(), Some("Live data"));
        assert_eq!(e.partuuid.as_deref(), Some("0011-02"));

        let pci = b"add@/devices/pci0000:00/0000:00:03.0\0ACTION=add\0\
SUBSYSTEM=pci\0MODALIAS=pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\0";
        let e = Uevent::from_netlink(pci).unwrap();
        assert_eq!(
            e.devpath.as_deref(),
            Some("/devices/pci0000:00/0000:00:03.0")
        );
        assert_eq!(
            e.modalias.as_deref(),
            Some("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00")
        );
        assert_eq!(e.block_name(), None);

        let bind = b"bind@/devices/x/1-1:1.0\0ACTION=bind\0SUBSYSTEM=usb\0DRIVER=usb-storage\0";
        assert_eq!(
            Uevent::from_netlink(bind).unwrap().driver.as_deref(),
            Some("usb-storage")
        );
    }

    #[test]
    fn netlink_header_fills_in_and_junk_is_refused() {
        let e = Uevent::from_netlink(b"remove@/devices/virtual/block/loop0\0SUBSYSTEM=block\0")
            .unwrap();
        assert!(e.is("remove"));
        assert_eq!(e.block_name(), Some("loop0"));
        assert_eq!(Uevent::from_netlink(b"libudev\0\xfe\xed\xca\xfe"), None);
        assert_eq!(Uevent::from_netlink(b"no header\0ACTION=add\0"), None);
        assert_eq!(Uevent::from_netlink(b""), None);
        let odd =
            Uevent::from_netlink(b"add@/x\0=\0NOEQ\0PARTN=x\0DEVNAME=\xff\0ACTION=\0").unwrap();
        assert_eq!(odd.partn, None);
        assert_eq!(odd.devname, None);
        assert!(odd.is("add"), "an empty ACTION falls back to the header");
    }

    #[test]
    fn sysfs_uevent_files_parse() {
        let e = Uevent::from_sysfs(
            b"MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\nDISKSEQ=3\nPARTN=1\nPARTNAME=EFI\n",
        );
        assert_eq!(e.devname.as_deref(), Some("sda1"));
        assert_eq!(e.partn, Some(1));
        assert_eq!(e.partname.as_deref(), Some("EFI"));
        assert_eq!(e.partuuid, None);
        assert_eq!(e.action, None);
        assert_eq!(Uevent::from_sysfs(b""), Uevent::default());
    }
}
