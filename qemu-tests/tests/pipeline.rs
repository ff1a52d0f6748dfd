//! The README's "Adopting liveinit in your pipeline" examples, booted. The
//! initramfs images are packed by `cargo xtask test` from the commands in
//! README.md themselves (host paths replaced by fixtures), so a README
//! command that stops working fails here.
//!
//! Both boot one Fedora-layout ISO (`LiveOS/squashfs.img` holding an ext4
//! `LiveOS/rootfs.img`) labelled as in the README: on an IDE CD drive
//! with the command line baked into the initrd, and written to a virtio
//! disk for the network-boot pair packed `--host-only` for that machine.

use std::path::PathBuf;
use std::sync::OnceLock;

use qemu_tests::harness::{cdrom, probe_root, shared, virtio_ro, Case, Expect, Initramfs, Probed};
use qemu_tests::harness::{Shared, ISO_SQUASHFS_IMG};
use qemu_tests::media::{Image, Layout, LiveImages, LiveRoot};
use qemu_tests::verdict::find_line;
use qemu_tests::{out_dir, ENV_INITRAMFS_EXAMPLE_FEDORA_ISO, ENV_INITRAMFS_EXAMPLE_NETBOOT_PAIR};

/// The label the README's examples name.
const LABEL: &str = "MY_LIVE_ISO";
/// The README's `rd.live.overlay.size=256`, baked into the Fedora image.
const BAKED_COW_MIB: u64 = 256;

fn media_dir() -> PathBuf {
    out_dir().join("pipeline-media")
}

fn fedora_iso() -> &'static Image {
    static ROOT: Shared<LiveRoot> = OnceLock::new();
    static IMAGES: Shared<LiveImages> = OnceLock::new();
    static ISO: Shared<Image> = OnceLock::new();
    shared(&ISO, "fedora-layout.iso", || {
        let root = probe_root(&ROOT, &media_dir());
        let images = shared(&IMAGES, "nested", || {
            LiveImages::build(root, Layout::NestedExt4, &media_dir())
        });
        images.iso(LABEL, &media_dir().join("fedora-layout.iso"))
    })
}

/// The first console line after `from` that shows `output` and is not the
/// echo of the typed command.
fn shell_output(b: &Probed, from: usize, output: &str) -> usize {
    let lines = b.ended.lines();
    let found =
        (from..lines.len()).find(|&i| lines[i].contains(output) && !lines[i].contains("ls /"));
    found.unwrap_or_else(|| b.fail(&format!("the break shell did not show `{output}`")))
}

/// `--cmdline`, `--add-modules`, `--firmware-dir`, `--microcode` and
/// `--busybox` from the README, booted with nothing but `rd.break` from the
/// boot loader: the root comes from the baked `/etc/cmdline.d` file.
#[test]
fn fedora_layout_iso_with_baked_cmdline() {
    let b = Case::new(
        "pipeline_fedora_iso",
        vec![cdrom(fedora_iso())],
        "rd.break=pre-mount",
    )
    .initramfs(Initramfs::Env(ENV_INITRAMFS_EXAMPLE_FEDORA_ISO))
    .nic("e1000")
    .type_after(
        "liveinit (rd.break=pre-mount):",
        "ls /lib/firmware/rtl_nic/ /kernel/x86/microcode/; \
         cat /etc/cmdline.d/50-liveinit-packer.conf; exit\n",
    )
    .boot_live(&Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/sr0"));
    let lines = b.ended.lines();
    let Some(prompt) = find_line(&lines, 0, &["liveinit (rd.break=pre-mount):"]) else {
        b.fail("no break shell");
    };
    // Firmware: the plain file and the one stored as .zst, decompressed.
    shell_output(&b, prompt, "rtl8168d-1.fw");
    shell_output(&b, prompt, "rtl8168e-3.fw");
    // The early cpio's files, unpacked by the kernel like the rest.
    shell_output(&b, prompt, "AuthenticAMD.bin");
    shell_output(&b, prompt, "GenuineIntel.bin");
    shell_output(
        &b,
        prompt,
        "root=live:CDLABEL=MY_LIVE_ISO rd.live.overlay.size=256",
    );
    // The baked size reached the snapshot: its COW loop is 256 MiB.
    let base = b.live_base_loop().kname.clone();
    let cow = b
        .dm_slave_loops("live-rw")
        .into_iter()
        .find(|l| l.kname != base);
    b.check(
        cow.is_some_and(|l| l.sectors == Some(BAKED_COW_MIB * 2048)),
        "the COW store is not the baked rd.live.overlay.size=256",
    );
    // The added NIC driver was loaded for the machine's e1000 card.
    b.check_modules(&["e1000", "squashfs", "ext4", "dm_snapshot"], &[]);
}

/// `--host-only` (for the QEMU guest's devices), `--omit-modules` and
/// `--include` from the README; the root named on the kernel command line
/// as a boot server would.
#[test]
fn netboot_pair_with_host_only_image() {
    let iso = fedora_iso().path.clone();
    let b = Case::new(
        "pipeline_netboot_pair",
        vec![virtio_ro(iso)],
        "root=live:CDLABEL=MY_LIVE_ISO rd.live.overlay.size=64",
    )
    .initramfs(Initramfs::Env(ENV_INITRAMFS_EXAMPLE_NETBOOT_PAIR))
    .boot_live(&Expect::snapshot(ISO_SQUASHFS_IMG, "/dev/vda"));
    // Only the guest's storage drivers were packed, so only they can load.
    b.check_modules(
        &["virtio_blk", "isofs", "squashfs", "ext4", "dm_snapshot"],
        &[
            "ata_piix",
            "sr_mod",
            "ahci",
            "nvme",
            "usb_storage",
            "xhci_pci",
        ],
    );
}
