//! Copying a layered medium to RAM before its images are mounted
//! (distro-live-spec §1.7, §2.6, §3.5; conflict C3): live-boot's and
//! casper's `toram` copy the whole medium, live-boot's `toram=IMG` one
//! image that is then booted alone, archiso's `copytoram` only its image,
//! and by default (`auto`) when the medium is not optical and the RAM
//! holds the image with 2 GiB to spare.

use alloc::format;
use alloc::string::String;

use super::live_boot::BadValue;
use super::Grammar;
use crate::cmdline::{Arg, Cmdline};

/// What goes to RAM before the images are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToRam {
    /// Nothing: the images are read from the medium.
    Off,
    /// `toram` (live-boot, casper): every file of the medium.
    Medium,
    /// `toram=IMG` (live-boot): that image alone, then booted alone.
    Image(String),
    /// `copytoram=y` (archiso): the chosen image, into a tmpfs of this
    /// size (`copytoram_size=`).
    ChosenImage(String),
    /// `copytoram=auto` (archiso's default): [`archiso_auto`] decides.
    Auto(String),
}

/// Where archiso's copy goes.
pub const ARCHISO_COPY_DIR: &str = "/run/archiso/copytoram";
/// archiso's default `copytoram_size`.
pub const DEFAULT_COPYTORAM_SIZE: &str = "75%";

/// archiso copies on `auto` only an image under this size (`du -bsk`)…
pub const AUTO_MAX_IMAGE_KIB: u64 = 4 * 1024 * 1024;
/// …when `MemAvailable` exceeds the image by this much, both in KiB.
pub const AUTO_SPARE_KIB: u64 = 2 * 1024 * 1024;

/// Reads the grammar's copy-to-RAM option; the last occurrence wins.
pub fn read(cmdline: &Cmdline, grammar: Grammar) -> Result<ToRam, BadValue> {
    match grammar {
        Grammar::LiveBoot => match cmdline.get("toram") {
            Arg::Absent => Ok(ToRam::Off),
            Arg::Bare | Arg::Value("") => Ok(ToRam::Medium),
            Arg::Value(v) if v.contains('/') || v == ".." => Err(BadValue {
                key: "toram",
                value: String::from(v),
                expected: "an image's file name in <live-media-path>/, e.g. filesystem.squashfs",
            }),
            Arg::Value(v) => Ok(ToRam::Image(String::from(v))),
        },
        // casper's toram is a flag; a value is not read.
        Grammar::Casper if cmdline.has("toram") => Ok(ToRam::Medium),
        // mkinitcpio's getarg: a bare key is `y`, an empty value unset.
        Grammar::Archiso => match cmdline.get("copytoram") {
            Arg::Absent | Arg::Value("") | Arg::Value("auto") => Ok(ToRam::Auto(size(cmdline)?)),
            Arg::Bare | Arg::Value("y") => Ok(ToRam::ChosenImage(size(cmdline)?)),
            Arg::Value("n") => Ok(ToRam::Off),
            Arg::Value(v) => Err(BadValue {
                key: "copytoram",
                value: String::from(v),
                expected: "y, n or auto",
            }),
        },
        _ => Ok(ToRam::Off),
    }
}

/// `copytoram_size=`, a tmpfs size.
fn size(cmdline: &Cmdline) -> Result<String, BadValue> {
    match cmdline.get("copytoram_size") {
        Arg::Value(v) if super::live_boot::is_tmpfs_size(v) => Ok(String::from(v)),
        Arg::Value(v) if !v.is_empty() => Err(BadValue {
            key: "copytoram_size",
            value: String::from(v),
            expected: "a tmpfs size: a number with %, k, m or g (e.g. 75%)",
        }),
        _ => Ok(String::from(DEFAULT_COPYTORAM_SIZE)),
    }
}

/// archiso's `auto` rule (hooks/archiso): the medium is not an optical
/// drive (`/dev/sr*`), the image is under 4 GiB, and `MemAvailable` holds
/// it with 2 GiB more. `Ok` says why it copies, `Err` why not.
pub fn archiso_auto(
    device: &str,
    image_bytes: u64,
    mem_available_kib: u64,
) -> Result<String, String> {
    let image_kib = image_bytes.div_ceil(1024);
    let facts = format!("{device}, image {image_kib} KiB, MemAvailable {mem_available_kib} KiB");
    if device.starts_with("/dev/sr") {
        Err(format!("{facts}: an optical drive is not copied from"))
    } else if image_kib >= AUTO_MAX_IMAGE_KIB {
        Err(format!(
            "{facts}: the image is not under {AUTO_MAX_IMAGE_KIB} KiB"
        ))
    } else if mem_available_kib <= image_kib.saturating_add(AUTO_SPARE_KIB) {
        Err(format!(
            "{facts}: MemAvailable is not above the image plus {AUTO_SPARE_KIB} KiB"
        ))
    } else {
        Ok(facts)
    }
}

/// The `<key>:  <n> kB` line of `/proc/meminfo`, in KiB.
pub fn meminfo_kib(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// `liveinit explain`'s line for it.
pub fn explain(to_ram: &ToRam, medium: &str, dir: &str) -> String {
    let (what, into, when) = match to_ram {
        ToRam::Off => return String::from("no"),
        ToRam::Medium => ("toram: the whole medium", medium, ""),
        ToRam::Image(image) => {
            return format!(
                "toram={image}: {dir}/{image} alone, booted alone, into a tmpfs at {medium}{RULE}"
            )
        }
        ToRam::ChosenImage(_) => ("copytoram=y: the image", ARCHISO_COPY_DIR, ""),
        ToRam::Auto(_) => (
            "copytoram=auto: the image",
            ARCHISO_COPY_DIR,
            " if the medium is not /dev/sr*, the image is under 4 GiB and MemAvailable \
             exceeds it by 2 GiB (archiso's rule)",
        ),
    };
    format!("{what}, into a tmpfs at {into}{when}{RULE}")
}

/// How every copy to RAM goes.
const RULE: &str = ", before the images are mounted, with progress; then the medium is \
                    released; a copy RAM cannot hold with rd.minmem to spare is a warning";

#[cfg(test)]
mod tests {
    use super::*;

    fn read_line(text: &str, g: Grammar) -> Result<ToRam, BadValue> {
        read(&Cmdline::parse(text), g)
    }

    #[test]
    fn each_grammar_reads_its_own_word() {
        use Grammar::*;
        assert_eq!(read_line("boot=live", LiveBoot), Ok(ToRam::Off));
        assert_eq!(read_line("toram", LiveBoot), Ok(ToRam::Medium));
        assert_eq!(
            read_line("toram toram=filesystem.squashfs", LiveBoot),
            Ok(ToRam::Image("filesystem.squashfs".into()))
        );
        assert_eq!(read_line("toram=a/b", LiveBoot).unwrap_err().key, "toram");
        assert_eq!(read_line("toram", Casper), Ok(ToRam::Medium));
        assert_eq!(read_line("copytoram", Casper), Ok(ToRam::Off));
        let auto = Ok(ToRam::Auto("75%".into()));
        assert_eq!(read_line("archisolabel=X", Archiso), auto);
        assert_eq!(
            read_line("copytoram", Archiso),
            Ok(ToRam::ChosenImage("75%".into()))
        );
        assert_eq!(
            read_line("copytoram=y copytoram_size=1G", Archiso),
            Ok(ToRam::ChosenImage("1G".into()))
        );
        assert_eq!(read_line("copytoram=n", Archiso), Ok(ToRam::Off));
        assert_eq!(read_line("copytoram=n copytoram=auto", Archiso), auto);
        assert_eq!(
            read_line("copytoram=yes", Archiso).unwrap_err().key,
            "copytoram"
        );
        assert_eq!(
            read_line("copytoram_size=lots", Archiso).unwrap_err().key,
            "copytoram_size"
        );
        assert_eq!(read_line("toram", Archiso), auto);
    }

    #[test]
    fn archisos_auto_rule() {
        const MIB: u64 = 1 << 20;
        assert!(archiso_auto("/dev/vda1", 100 * MIB, 3 * 1024 * 1024).is_ok());
        let no = archiso_auto("/dev/sr0", 100 * MIB, 8 * 1024 * 1024).unwrap_err();
        assert!(no.contains("optical"), "{no}");
        assert!(archiso_auto("/dev/vda1", 4096 * MIB, 64 * 1024 * 1024).is_err());
        assert!(archiso_auto("/dev/vda1", 4096 * MIB - 1024, 64 * 1024 * 1024).is_ok());
        // Above, not equal: 100 MiB image + 2 GiB exactly is not enough.
        assert!(archiso_auto("/dev/loop0", 100 * MIB, 100 * 1024 + AUTO_SPARE_KIB).is_err());
        assert!(archiso_auto("/dev/loop0", 100 * MIB, 100 * 1024 + AUTO_SPARE_KIB + 1).is_ok());
    }

    #[test]
    fn meminfo_lines() {
        let m = "MemTotal:        2048000 kB\nMemFree:  10 kB\nMemAvailable:    1900000 kB\n";
        assert_eq!(meminfo_kib(m, "MemAvailable"), Some(1_900_000));
        assert_eq!(meminfo_kib(m, "MemTotal"), Some(2_048_000));
        assert_eq!(meminfo_kib(m, "Cached"), None);
    }
}
