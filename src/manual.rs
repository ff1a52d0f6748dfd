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
command line (dracut's root=live: grammar), finds the live medium, mounts
its image with a writable layer and switches root into the real init. It
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
On a running live system: what the root is and how full its writable
layer (overlay upper directory, or the dm snapshot's copy-on-write
store) is. Exits 1 when it is 90% full or more, or has overflowed.",
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
                    term: "rd.live.check",
                    text: "Verify the MD5 checksum implanted in the medium (isomd5sum's format) \
before it is used, with progress; a mismatch stops the boot, a medium without one is \
warned about.",
                },
                Item {
                    term: "iso-scan/filename=PATH",
                    text: "The medium is an ISO file at PATH on some filesystem: each one \
liveinit can mount is searched (read-only), the file is loop-attached and matched \
against root=live:; root=live:/PATH.iso names an ISO inside the initramfs.",
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
initramfs.",
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
