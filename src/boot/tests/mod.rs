//! The orchestration against the recording fake, by concern; the
//! machines and helpers they share are here.

#[allow(unused_imports)]
use crate::prelude::*;

pub(super) use super::*;
pub(super) use crate::plan::SQUASH_MNT;
pub(super) use crate::sys::fake::FakeSys;
pub(super) use crate::sys::Errno;
pub(super) use core::time::Duration;

mod check;
mod debian;
mod discovery;
mod fetch;
mod hostile;
mod image_file;
mod iso_scan;
mod kernel_modules;
mod kiwi;
mod layered;
mod layered_archiso;
mod layered_casper;
mod layered_persist;
mod layouts;
mod network;
mod persist;
mod policy;
mod ram;
mod ram_auto;
mod sequence;
mod stalls;

pub(super) const ISO: &[u8] = include_bytes!("../../probe/testdata/iso9660-plain.head");

pub(super) const SQUASHFS: &[u8] = include_bytes!("../../probe/testdata/squashfs.head");
pub(super) const EXT4: &[u8] = include_bytes!("../../probe/testdata/ext4.head");

/// A machine with a CD labelled "My Disk" holding a flattened image.
pub(super) fn live_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/sr0/size", b"4096\n")
        .file("/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file("/sys/class/block/sr1/size", b"0\n")
        .file("/dev/sr0", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
}

pub(super) fn boot(sys: &FakeSys) -> BootError {
    boot_with_policy(sys).0
}

pub(super) fn boot_with_policy(sys: &FakeSys) -> (BootError, Policy) {
    let mut policy = Policy::default();
    let err = match run(sys, &mut policy) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    (err, policy)
}

/// A disc whose squashfs nests `LiveOS/rootfs.img` (ext4): the classic
/// Fedora layout.
pub(super) fn nested_machine(cmdline: &str) -> FakeSys {
    let sys = live_machine(cmdline);
    sys.on_mount(
        SQUASH_MNT,
        &[("LiveOS", None), ("LiveOS/rootfs.img", Some(EXT4))],
    );
    sys
}

/// The machine of `live_machine` with a shell in the initramfs.
pub(super) fn with_shell(sys: FakeSys) -> FakeSys {
    sys.executable("/", emergency::SHELL);
    sys
}

/// A kernel uevent as the netlink socket delivers it.
pub(super) fn kernel_uevent(action: &str, devpath: &str, keys: &[(&str, &str)]) -> Vec<u8> {
    let mut msg = format!("{action}@{devpath}\0ACTION={action}\0DEVPATH={devpath}\0");
    for (key, value) in keys {
        msg.push_str(&format!("{key}={value}\0"));
    }
    msg.into_bytes()
}

pub(super) fn block_added(name: &str) -> Vec<u8> {
    kernel_uevent(
        "add",
        &format!("/devices/pci0000:00/0000:00:01.1/block/{name}"),
        &[
            ("SUBSYSTEM", "block"),
            ("DEVNAME", name),
            ("DEVTYPE", "disk"),
        ],
    )
}

/// `live_machine` whose CD drive (`sr0`) shows up only at `at`, announced
/// by a uevent.
pub(super) fn late_cd_machine(cmdline: &str, at: Duration) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .dir("/sys/class/block")
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys.file_at(at, "/sys/class/block/sr0/size", b"4096\n")
        .file_at(at, "/sys/class/block/sr0/uevent", b"DEVNAME=sr0\n")
        .file_at(at, "/dev/sr0", ISO)
        .uevent_at(at, &block_added("sr0"));
    sys
}

pub(super) const PIIX: &str = "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80";
pub(super) const USB_STICK: &str = "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00";

/// Packs module tables like `cargo xtask initramfs` writes them: an IDE
/// controller's and a CD's drivers, USB storage, and a filesystem stack.
pub(super) fn with_module_tables(sys: &FakeSys) {
    let k = "/lib/modules/k";
    let dep = format!(
        "{k}/scsi_common.ko:\n\
         {k}/scsi_mod.ko: {k}/scsi_common.ko\n\
         {k}/libata.ko: {k}/scsi_common.ko {k}/scsi_mod.ko\n\
         {k}/ata_piix.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/libata.ko\n\
         {k}/ahci.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/libata.ko\n\
         {k}/cdrom.ko:\n\
         {k}/sr_mod.ko: {k}/scsi_common.ko {k}/scsi_mod.ko {k}/cdrom.ko\n\
         {k}/usb-storage.ko: {k}/scsi_common.ko {k}/scsi_mod.ko\n\
         {k}/isofs.ko: {k}/cdrom.ko\n\
         {k}/loop.ko:\n\
         {k}/squashfs.ko:\n\
         {k}/crc16.ko:\n\
         {k}/ext4.ko: {k}/crc16.ko\n\
         {k}/erofs.ko:\n\
         {k}/overlay.ko:\n\
         {k}/dm-mod.ko:\n\
         {k}/dm-snapshot.ko: {k}/dm-mod.ko\n\
         {k}/dm-thin-pool.ko: {k}/dm-mod.ko\n"
    );
    let aliases = "\
alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v*d*sv*sd*bc01sc06i01* ahci
alias scsi:t-0x05* sr_mod
alias scsi:t-0x04* sr_mod
alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage
alias fs-iso9660 isofs
alias fs-squashfs squashfs
alias fs-ext4 ext4
alias fs-ext2 ext4
alias fs-erofs erofs
alias fs-overlay overlay
alias devname:loop-control loop
alias dm-snapshot-origin dm_snapshot
";
    sys.file(crate::contract::MODULES_DEP, dep.as_bytes())
        .file(crate::contract::MODULES_ALIAS, aliases.as_bytes())
        .file(crate::contract::MODULES_LOAD, b"# nothing on every boot\n");
}

/// Where the load of `module` is in `calls`, asserting it is there.
pub(super) fn load_position(calls: &[String], module: &str) -> usize {
    position(calls, &format!("load /lib/modules/k/{module}.ko"))
}

/// The module names loaded, in order.
pub(super) fn loaded(sys: &FakeSys) -> Vec<String> {
    sys.calls_starting("load ")
        .iter()
        .map(|c| crate::kmod::module_name(c.trim_start_matches("load ")))
        .collect()
}

pub(super) fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:#?}"))
}

/// A device image from a probe fixture's head and extents (see
/// `probe::testutil::Image`), cut to `len` bytes.
pub(super) fn fixture_image(head: &[u8], extents: &[u8], len: usize) -> Vec<u8> {
    let mut image = head.to_vec();
    image.resize(len, 0);
    let mut rest = &extents[8..];
    while !rest.is_empty() {
        let offset = usize::try_from(u64::from_le_bytes(rest[..8].try_into().unwrap())).unwrap();
        let n = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
        if offset + n <= len {
            image[offset..offset + n].copy_from_slice(&rest[12..12 + n]);
        }
        rest = &rest[12 + n..];
    }
    image
}

/// The ISO on a virtio disk: no optical drive, so the short idle applies.
pub(super) fn disk_machine(cmdline: &str) -> FakeSys {
    let sys = FakeSys::new();
    sys.file("/proc/cmdline", cmdline.as_bytes())
        .file("/sys/class/block/vda/size", b"4096\n")
        .file("/sys/class/block/vda/uevent", b"DEVNAME=vda\n")
        .file("/dev/vda", ISO)
        .file("/run/initramfs/live/LiveOS/squashfs.img", SQUASHFS)
        .on_mount(SQUASH_MNT, &[("usr", None)])
        .executable("/sysroot", "/sbin/init");
    sys
}
