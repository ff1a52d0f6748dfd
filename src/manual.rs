//! The manual of `liveinit` as data: `liveinit --help` prints it and
//! `cargo xtask man` renders it as the `liveinit(8)` page, so the two
//! cannot say different things. The packer's page uses the same types.

use alloc::string::String;

/// A manual page: a one-line summary, usage lines, then sections.
#[derive(Debug)]
pub struct Manual {
    pub name: &'static str,
    /// The man section: 1 for user commands, 8 for system administration.
    pub section: u8,
    pub summary: &'static str,
    pub synopsis: &'static [&'static str],
    pub sections: &'static [Section],
}

/// A titled section: running text (blank lines separate paragraphs), then
/// a list of terms with their descriptions.
#[derive(Debug)]
pub struct Section {
    pub title: &'static str,
    pub text: &'static str,
    pub items: &'static [Item],
}

#[derive(Debug)]
pub struct Item {
    pub term: &'static str,
    pub text: &'static str,
}

impl Manual {
    /// The plain-text form for `--help`: text indented under each title.
    pub fn help(&self) -> String {
        let mut out = String::new();
        push_line(&mut out, "", &[self.name, " - ", self.summary].concat());
        out.push_str("\nUSAGE\n");
        for line in self.synopsis {
            push_line(&mut out, "  ", line);
        }
        for section in self.sections {
            out.push('\n');
            push_line(&mut out, "", section.title);
            push_text(&mut out, "  ", section.text);
            for item in section.items {
                push_line(&mut out, "  ", item.term);
                push_text(&mut out, "      ", item.text);
            }
        }
        out
    }
}

fn push_text(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        push_line(out, indent, line);
    }
}

fn push_line(out: &mut String, indent: &str, line: &str) {
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(line);
    }
    out.push('\n');
}

/// `liveinit(8)`.
pub const LIVEINIT: Manual = Manual {
    name: "liveinit",
    section: 8,
    summary: "a static PID-1 init for live-booting Linux from an initramfs",
    synopsis: &[
        "/init (as PID 1, started by the kernel)",
        "liveinit explain [--cmdline \"TEXT\"]",
        "liveinit status",
        "liveinit --help | --version",
    ],
    sections: &[
        Section {
            title: "DESCRIPTION",
            text: "\
As PID 1 (installed as /init in an initramfs) liveinit reads the kernel
command line (dracut's root=live: grammar, or Debian live-boot's, Ubuntu
casper's, Arch archiso's or openSUSE kiwi's, each below), finds the live
medium or downloads the image, mounts it with a writable layer and switches
root into the real init. It
loads the drivers of the devices that appear and the filesystems and
block layers its steps need, from the modules packed with it.

Run by a user, the same binary explains a command line or reports on the
running live system.",
            items: &[],
        },
        Section {
            title: "COMMANDS",
            text: "",
            items: &[
                Item {
                    term: "explain [--cmdline \"TEXT\"]",
                    text: "\
Show how a kernel command line is understood and, for each layout a
medium can have, every step the init would take; without --cmdline,
this system's /proc/cmdline.",
                },
                Item {
                    term: "status",
                    text: "\
On a running live system: what the root is, the downloaded network image
(URL, size, digest, room left in its tmpfs) if any, how full its writable
layer (overlay upper directory, or the dm snapshot's copy-on-write store)
is, and where a persistent overlay is. Exits 1 when it is 90% full or
more, or has overflowed.",
                },
                Item {
                    term: "--help, --version",
                    text: "This text; the version.",
                },
            ],
        },
        Section {
            title: "KERNEL COMMAND LINE",
            text: "\
Read from /etc/cmdline.d/*.conf in the initramfs, then /proc/cmdline;
the last occurrence of an option wins; booleans are false only for 0,
no and off.",
            items: &[
                Item {
                    term: "root=live:SPEC, or rd.live.image root=SPEC",
                    text: "\
The live medium: CDLABEL=, LABEL=, UUID=, PARTUUID=, PARTLABEL=,
/dev/NAME or /dev/disk/by-*/... .",
                },
                Item {
                    term: "rd.live.dir=DIR, rd.live.squashimg=FILE",
                    text: "Where the image is on the medium (LiveOS, squashfs.img).",
                },
                Item {
                    term: "rd.overlay[=tmpfs:size=...|none]",
                    text: "\
overlayfs instead of a device-mapper snapshot; none makes the image
itself writable.",
                },
                Item {
                    term: "rd.overlay=DEVSPEC[:PATH|:auto], rd.live.overlay=DEVSPEC[:PATH]",
                    text: "\
A persistent overlay at PATH (default /LIVEDIR/overlay-LABEL-UUID, the
medium's label and UUID) on the device DEVSPEC, found like the medium
within the same waits; the medium is mounted read-write when it is that
device. PATH may be a directory with ovlwork beside it (overlayfs upper
and work dirs), a filesystem image holding overlayfs/ and ovlwork/ (for
FAT sticks), or a device-mapper COW store for an ext4 rootfs.img
(Fedora's; a full or invalid one is reported and not used). If nothing
usable is there: a warning naming what was looked for, then a temporary
overlay; never a prompt.",
                },
                Item {
                    term: "rd.overlay.reset, rd.overlay.readonly",
                    text: "\
Empty the persistent overlay first (its upper and work dirs, or the head
of its COW store), keeping the directory or file; or keep it read-only,
one more lower layer (live-ro for a COW store) under a fresh temporary
one. Also spelt rd.live.overlay.reset and rd.live.overlay.readonly.",
                },
                Item {
                    term: "rd.live.overlay.size=MIB",
                    text: "The snapshot's copy-on-write size (32768), kept in RAM: capped at half \
the machine's RAM, with a warning, so that filling it turns the root read-only instead of \
exhausting memory.",
                },
                Item {
                    term: "rd.live.overlay.thin",
                    text: "A device-mapper thin pool instead of a snapshot.",
                },
                Item {
                    term: "rd.live.ram, rd.minmem=MIB",
                    text: "Copy the image to RAM (/run/initramfs/squashed.img or rootfs.img) \
after checking it fits with rd.minmem MiB (1024) to spare, with progress on the console; \
then the medium is unmounted and may be removed.",
                },
                Item {
                    term: "rd.live.ram=auto",
                    text: "liveinit's extension: copy as rd.live.ram does when the medium is an \
optical drive or a USB disk, the image is under 4096 MiB, and MemTotal holds the image plus \
2048 MiB (or rd.minmem, if larger), archiso's copytoram=auto sizes; else run from the medium. \
The decision and its inputs are logged.",
                },
                Item {
                    term: "rd.live.check",
                    text: "Verify the MD5 checksum implanted in the medium (isomd5sum's format) \
before it is used, with progress; a mismatch stops the boot, a medium without one is \
warned about. Esc on the console's terminal skips the check, with a warning.",
                },
                Item {
                    term: "iso-scan/filename=PATH",
                    text: "The medium is an ISO file at PATH on some filesystem: each one \
liveinit can mount is searched (read-only), the file is loop-attached and matched \
against root=live:; root=live:/PATH.iso names an ISO inside the initramfs.",
                },
                Item {
                    term: "root=live:/PATH.img",
                    text: "\
An image file inside the initramfs: a squashfs or EROFS image (the root,
or holding LiveOS/rootfs.img) or an ext4 root filesystem image,
loop-attached and booted like the image on a medium.",
                },
                Item {
                    term: "root=live:http://URL, root=http://URL",
                    text: "\
Download the live image into RAM (a tmpfs at /run/initramfs/livenet) and
boot it like an image file; an ISO is attached and used as the medium.
The RAM check (rd.minmem) is made from Content-Length before the first
byte; a cut transfer is resumed with Range; 404, 410, 401 and 403 stop at
once, refused connections, stalls and 5xx are retried. user:password@ is
sent as Basic authentication. https:// needs a build with the https
feature; ftp, tftp, torrent and nfs are not supported. What was fetched
is recorded in /run/initramfs/livenet.info.",
                },
                Item {
                    term: "rd.liveinit.net.sha256=HEX, rd.liveinit.net.retries=N, rd.liveinit.net.stall=SECONDS",
                    text: "\
The expected SHA-256 of the image, checked before it is used (a child
process hashes it behind the download; a mismatch stops the boot; without
this option the digest is still recorded, computed after the last byte
while the image is mounted); attempts for transient
failures (100; 0 retries forever); seconds without progress before an
attempt is abandoned and resumed (30).",
                },
                Item {
                    term: "proxy=http://[USER:PASSWORD@]HOST:PORT, rd.noverifyssl",
                    text: "\
Download through an HTTP proxy (CONNECT for https://); do not check the
server's certificate (warned about on every boot). live.updates= is
recognised and not supported.",
                },
                Item {
                    term: "boot=live [live-media=DEV] [live-media-path=DIR] [module=NAME] \
[overlay-size=SIZE] [nofstab]",
                    text: "\
Debian live-boot's grammar, chosen when there is no root=live:. The medium is
the first device (live-media= first, partitions before their disk) whose DIR
(live) holds images; the images listed in DIR/filesystem.NAME.module or
DIR/NAME.module, else every *.squashfs, *.ext2/3/4, *.xfs, *.jffs2 and *.dir
in name order, are stacked under overlayfs, the last on top, with a tmpfs
of SIZE (50%) for the writes; the state is left in /run/live as live-boot
leaves it and /etc/fstab gets its lines. It waits 60 s (rd.retry). Options of
live-boot liveinit does not carry out (todisk, plainroot...), and
other grammars' options (archiso's, casper's, dracut's), are named in a
warning and ignored.",
                },
                Item {
                    term: "live-media=removable|removable-usb, verify-checksums[=LIST]",
                    text: "\
boot=live: search only the disks whose sysfs removable is 1 (and, for
removable-usb, that are on USB mass storage), partitions with their disk; none
there by rd.retry is fatal, naming the restriction and the devices seen.
verify-checksums (or live-boot.verify-checksums) is live-boot's media test:
the first of SHA512SUMS/sha512sum.txt ... MD5SUMS/md5sum.txt (the LIST's
order; sha512, sha256 and md5 are computed, sha384, sha224 and sha1 not) at
the medium's root is checked file by file with progress; all match: reboot
after 10 s, no boot; a mismatch or no listing is fatal, naming the first bad
file. Esc stops the test and boots.",
                },
                Item {
                    term: "boot=casper [layerfs-path=FILE] [live-media=DEV] [uuid=U] \
[ignore_uuid] [iso-scan/filename=PATH]",
                    text: "\
Ubuntu casper's grammar. The medium is found as for boot=live, with casper/;
the layers are FILE and every name its name implies (a.b.c.squashfs: a, a.b,
a.b.c), else every *.ext2, *.squashfs, *.dir; the medium stays at /cdrom and
the base layer at /rofs in the real root, the writes in a tmpfs at /cow.
uuid=U: the medium must also carry U (its filesystem UUID or a
.disk/casper-uuid* file), else it is passed over (the later of uuid= and
ignore_uuid counts; not checked for live-media= or an ISO file).
iso-scan/filename=PATH: the medium is that ISO file, its filesystem left
read-only at /isodevice. casper's live session setup (user, autologin) and
its automatic writable partition are not done.",
                },
                Item {
                    term: "persistence [persistence-label=L,...] [persistence-path=DIR] \
[persistence-read-only] [persistence-media=removable|removable-usb] [nopersistence]",
                    text: "\
boot=live: each other block device with a filesystem labelled, or GPT
partition named, L (persistence), else holding an image file L in DIR, is
mounted rw,noatime (ro with persistence-read-only: the changes then go to
RAM) at /run/live/persistence/DEVICE, if its persistence.conf exists:
`/ union` keeps the root's upper layer in rw/ and work/ on it; `/DIR bind`
binds the volume's DIR (or source=), made empty when missing; `/DIR union`
stacks its rw/ over the images' /DIR. persistence-media= looks at those
disks only (as live-media=). `link`, encrypted volumes and other
options not carried out are named in a warning. nopersistence wins.",
                },
                Item {
                    term: "persistent [persistent-path=DIR] [nopersistent]",
                    text: "\
boot=casper: the filesystem labelled writable, else casper-rw, else such an
image file on a FAT partition (in DIR), is mounted at /cow in place of the
tmpfs, holding upper/ and work/. nopersistent wins. A volume missing or
unusable is named in a warning and the tmpfs used; liveinit never creates
one, nor uses another grammar's (e.g. a dracut rd.overlay volume).",
                },
                Item {
                    term: "archisobasedir=DIR archisolabel=L | archisodevice=DEV | \
archisosearchuuid=U",
                    text: "\
archiso's grammar: DIR/x86_64/airootfs.sfs (or .erofs) on the device named,
or holding /boot/U.uuid; state under /run/archiso, writes in a 256M tmpfs
(cow_spacesize=). checksum=y checks the image against its .sha512 listing
(a mismatch stops the boot); verify=y and cms_verify=y stop the boot:
liveinit cannot do those checks.",
                },
                Item {
                    term: "cow_label=L | cow_device=DEV, cow_directory=D, cow_flags=O, \
cow_persistent=P|N, img_dev=DEV | img_label=L, img_loop=PATH",
                    text: "\
archiso: the COW space is that filesystem (mounted read-only with O, then
read-write; missing or unusable: a warning and the tmpfs), changes in
D/{upperdir,workdir} (persistent_<archisolabel>/x86_64, mode 0700). An
image holding airootfs.img is the dm-snapshot arch_airootfs over
D/airootfs.cow (kept with P, the default with a device; else unlinked).
img_loop: the ISO file on img_dev, which is mounted at /run/archiso/img_dev
(released after copytoram).",
                },
                Item {
                    term: "toram[=IMAGE], copytoram=y|n|auto, copytoram_size=SIZE",
                    text: "\
Copy to RAM first (rd.minmem to spare, else a warning), then release the
medium. toram: the whole medium, in its place; toram=IMAGE: that image alone;
copytoram: archiso's image, to /run/archiso/copytoram; auto (default) if not
/dev/sr*, under 4 GiB, and MemAvailable exceeds it by 2 GiB.",
                },
                Item {
                    term: "findiso=/PATH, fromiso=[FS:]/dev/DEV/PATH",
                    text: "\
live-boot: the medium is that ISO file; its filesystem stays read-only at
/run/live/findiso (fromiso).",
                },
                Item {
                    term: "(no root=, no boot=)",
                    text: "\
casper by content (Ubuntu 22.10 on): the top layer is the one *.live.squashfs,
else the one *.squashfs, else the boot stops naming them (layerfs-path=).",
                },
                Item {
                    term: "rd.liveinit.flavour=kiwi|dracut",
                    text: "\
kiwi mode, also chosen by kiwi's own options: state under /run/overlay as
kiwi leaves it (live, squashfs_container, rootfsbase, overlayfs), its tmpfs
sized by rd.live.overlay.size as tmpfs reads it (50%).",
                },
                Item {
                    term: "rd.live.overlay.persistent [rd.live.overlay.cowfs=FS]",
                    text: "\
kiwi mode: the partition labelled cow on the medium's disk is mounted at
/run/overlay/overlayfs, holding rw/ and work/. kiwi would create and format
(FS) one when missing; liveinit never does: a warning, and the tmpfs, as on
a CD.",
                },
                Item {
                    term: "rd.writable.fsimg",
                    text: "Copy the filesystem image to RAM and use it writable.",
                },
                Item {
                    term: "rootflags=OPTIONS, ro, rw",
                    text: "Mount options of a dm root; how the medium is mounted (ro).",
                },
                Item {
                    term: "rd.retry=SECONDS",
                    text: "The longest wait for the medium (180).",
                },
                Item {
                    term: "rd.liveinit.idle=SECONDS, rd.liveinit.idle.slow=SECONDS",
                    text: "\
Give up once nothing new has appeared for this long (5; 15 with a USB
disk or an optical drive); 0 waits for rd.retry.",
                },
                Item {
                    term: "rd.liveinit.probe=SECONDS",
                    text: "\
How long one device's reads may hold the search up (5): each device is
read in a child process; one that has not answered by then is named as
stalling and the search goes on without it.",
                },
                Item {
                    term: "init=PATH, -- ARGS",
                    text: "\
The real init (else /sbin/init, /etc/init, /bin/init, /bin/sh) and its
arguments.",
                },
                Item {
                    term: "rd.break[=STAGE], rd.shell",
                    text: "\
Stop in a shell at a stage (cmdline, pre-udev, pre-trigger, initqueue,
pre-mount, mount, pre-pivot, cleanup); a shell after a fatal error.
Both need a shell in the initramfs.",
                },
                Item {
                    term: "rd.emergency=poweroff|reboot|halt",
                    text: "What follows a fatal error (poweroff).",
                },
                Item {
                    term: "rd.debug, rd.live.debug",
                    text: "More messages.",
                },
                Item {
                    term: "rd.neednet=1",
                    text: "\
Bring the network up after the medium is found (a failure is only a
warning). A root=live:http://... root brings it up first; downloading
it is not supported yet.",
                },
                Item {
                    term: "ip=dhcp, ip=IF:dhcp, ip=ADDR:PEER:GW:MASK:HOST:IF:none",
                    text: "\
dracut's ip= (also on, any, single-dhcp; IF:dhcp:MTU:MAC; a static
form followed by :MTU:MAC or :DNS1:DNS2): DHCPv4 on every NIC with
carrier in parallel (the first lease wins), on the named ones, or a
static address (MASK dotted or a prefix length), first probed with ARP
(RFC 5227): a host that answers for it stops the boot, named with its
MAC. ip=auto6 and ip=IF:auto6 let the kernel configure IPv6 from router
advertisements (SLAAC, EUI-64) and wait for the global address; link6
waits for the link-local one (no DHCPv6, no DNS from the router: use
nameserver=). IF is a kernel name, enx<mac>, enp<bus>s<slot> or a MAC
written aa-bb-cc-dd-ee-ff. dhcp6, either6, ibft, bond=, team= and
bridge= stop the boot as not supported yet.",
                },
                Item {
                    term: "BOOTIF=01-MAC, rd.bootif=0, bootdev=IF",
                    text: "\
Configure only the NIC with that MAC (PXELINUX); the interface whose
routes and DNS are used.",
                },
                Item {
                    term: "ifname=NAME:MAC, vlan=NAME:PHYS, rd.route=NET/MASK:GW[:IF]",
                    text: "Rename a NIC, create a VLAN, add a route.",
                },
                Item {
                    term: "nameserver=IP, rd.peerdns=0",
                    text: "Add a resolver; ignore the DNS servers DHCP gives.",
                },
                Item {
                    term: "rd.net.timeout.iflink|ifup|carrier|dhcp|route|ipv6auto|ipv6dad=SECONDS, rd.net.dhcp.retry=N",
                    text: "\
The waits, in seconds: for the interfaces (60), for each link to be
reported up (ifup, 20), for carrier (10), for one DHCP attempt (60), for
the gateway to answer ARP or, with auto6, for the router's default route
(route, 20; a warning when over), for the SLAAC address (ipv6auto, 40)
and its duplicate-address detection (ipv6dad, 50); the number of DHCP
attempts (1). The result is recorded in /run/initramfs/net/IF and
/etc/resolv.conf (copied to /run/initramfs/net/resolv.conf).",
                },
                Item {
                    term: "rd.liveinit.net.dad=SECONDS",
                    text: "\
How long the ARP probe of a static address listens for another host
that has it (3; probes go out a second apart); 0 skips the probe.",
                },
            ],
        },
        Section {
            title: "STATE LEFT FOR THE REAL ROOT",
            text: "\
The medium stays mounted at /run/initramfs/live and is named in
/run/initramfs/livedev. The read-only image is at /run/rootfsbase; an
overlay's upper and work directories are /run/overlayfs and /run/ovlwork.
Device-mapper roots leave /dev/mapper/live-base, /dev/mapper/live-rw
(and the thin pool's devices) and the link /dev/live-base.
/run/initramfs/.need_shutdown asks the shutdown to return to the
initramfs. A persistent overlay's device (or its image) is mounted at
/run/initramfs/overlayfs and described in
/run/initramfs/persistent-overlay; kept read-only, it is
/run/overlayfs-r (or /dev/mapper/live-ro). Persistence volumes:
/run/live/persistence/DEVICE (boot=live), /cow in the initramfs
(boot=casper), kiwi's cow partition at /run/overlay/overlayfs; described in
/run/initramfs/persistent-overlay too.",
            items: &[],
        },
        Section {
            title: "FILES",
            text: "",
            items: &[
                Item {
                    term: "/etc/cmdline.d/*.conf",
                    text: "Kernel arguments baked into the initramfs, read before /proc/cmdline.",
                },
                Item {
                    term: "/etc/liveinit/modules.alias, /etc/liveinit/modules.dep",
                    text: "The packed modules' aliases and dependencies.",
                },
                Item {
                    term: "/etc/liveinit/modules.load",
                    text: "Modules to load on every boot, one path per line.",
                },
            ],
        },
        Section {
            title: "DIAGNOSTICS",
            text: "\
Messages go to the kernel log with the prefix liveinit: and to the
console. A failure prints one line liveinit: FATAL: STAGE: SUBJECT:
REASON, lists the block devices and the mounts made so far, and after 5
seconds takes the rd.emergency action.",
            items: &[],
        },
        Section {
            title: "SEE ALSO",
            text: "liveinit-initramfs(1), dracut.cmdline(7), bootup(7)",
            items: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_usage_sections_and_items_indented() {
        let help = LIVEINIT.help();
        assert!(help.starts_with("liveinit - a static PID-1 init"), "{help}");
        assert!(help.contains("\n  liveinit status\n"), "{help}");
        assert!(help.contains("\nUSAGE\n  /init (as PID 1"), "{help}");
        assert!(help.contains("\nCOMMANDS\n  explain [--cmdline \"TEXT\"]\n      Show how"));
        assert!(help.contains("\n  rd.retry=SECONDS\n      The longest wait"));
        assert!(!help.contains("\n\n\n"), "no doubled blank lines");
    }
}
