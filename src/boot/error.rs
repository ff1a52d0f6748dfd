//! Boot errors: each names the stage, its subject and the cause, e.g.
//! `mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro, nosuid, nodev): Invalid argument (os error 22)`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::borrow::Cow;
use core::fmt;

use core::time::Duration;

use crate::config::{ConfigError, IDLE_OPTION, SLOW_IDLE_OPTION};
use crate::discovery::seconds_text;
use crate::isomd5::Mismatch;
use crate::plan::image::NoRoot;
use crate::plan::ram::TooBig;
use crate::printable::printable;
use crate::probe::FsType;
use crate::sys::Errno;

/// The stages of the boot, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    EarlyMounts,
    Break,
    Cmdline,
    FindMedium,
    IsoScan,
    CheckMedium,
    MountMedium,
    MountImage,
    CopyToRam,
    Download,
    AssembleRoot,
    FindInit,
    SwitchRoot,
    ExecInit,
    /// Bringing the network up (drivers, links, DHCP or static addresses).
    Network,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::EarlyMounts => "early mounts",
            Stage::Break => "break",
            Stage::Cmdline => "command line",
            Stage::FindMedium => "find medium",
            Stage::IsoScan => "iso-scan",
            Stage::CheckMedium => "check medium",
            Stage::MountMedium => "mount medium",
            Stage::MountImage => "mount image",
            Stage::CopyToRam => "copy to RAM",
            Stage::Download => "download",
            Stage::AssembleRoot => "assemble root",
            Stage::FindInit => "find init",
            Stage::SwitchRoot => "switch root",
            Stage::ExecInit => "exec init",
            Stage::Network => "network",
        }
    }
}

/// Why a stage failed. Every text the init shows for a failure is in the
/// `Display` below (the command line's and the plan's own errors aside,
/// which `explain` shows too), so tests match variants and the wording is
/// kept consistent in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Sys(Errno),
    Config(ConfigError),
    /// A step failed with `errno`, and the kernel module it needed is
    /// why: it failed to load (`failed`, each `name: reason`), or nothing
    /// provides the filesystem (`failed` empty, `fstype` named).
    MissingSupport {
        errno: Errno,
        failed: Vec<String>,
        fstype: Option<String>,
    },
    /// A root this build cannot boot yet.
    RootNotSupported,
    /// No block device matched before `rd.retry` ran out.
    NoMatchInTime {
        retry: Duration,
        seen: usize,
    },
    /// No block device matched and nothing new happened for `idle`.
    NoMatchIdle {
        idle: Duration,
        waited: Duration,
        retry: Duration,
        seen: usize,
    },
    /// Distinct devices match the medium's spec.
    AmbiguousMedium {
        devices: Vec<String>,
    },
    /// `iso-scan/filename=`: no filesystem holds the file; each one looked
    /// at, with its type (and why, if it could not be mounted).
    IsoNotFound {
        searched: Vec<String>,
    },
    /// `iso-scan/filename=`: the ISO found is not the medium asked for.
    IsoNotTheMedium {
        spec: String,
        label: Option<String>,
    },
    /// `rd.live.check`: the medium's contents do not match its implanted
    /// MD5 checksum (from a fragment on, or as a whole).
    MediumDamaged(Mismatch),
    /// `rd.live.check`: the device ends at byte `ends`, before the
    /// `covered` bytes its implanted checksum covers.
    MediumTruncated {
        covered: u64,
        ends: u64,
    },
    /// The image file is not on the medium.
    ImageNotFound(Box<MissingImage>),
    /// A file that should be a filesystem image holds none liveinit knows.
    NoFilesystem,
    /// live-boot's module list names no image that is on the medium.
    NoListedImages,
    /// archiso's `checksum=y`: no usable checksum for the image.
    NoChecksum {
        image: String,
        why: String,
    },
    /// archiso's `checksum=y`: the image is not what its listing says
    /// (the listing, the hash it gives, the image's).
    ChecksumMismatch(Box<[String; 3]>),
    /// live-boot's `verify-checksums`: the media test failed.
    MediaTest(Box<crate::grammar::verify_checksums::Failure>),
    /// casper: layers the leaf's name implies are not on the medium.
    MissingLayers {
        dir: String,
        missing: Vec<String>,
    },
    /// casper with no keyword: the names do not say which layer is the leaf.
    UnsettledLayers {
        dir: String,
        candidates: Vec<String>,
    },
    /// The compressed image is another filesystem.
    NotCompressed(FsType),
    /// The image holds neither layout.
    NoRoot(NoRoot),
    /// `rd.live.ram`: the image and `rd.minmem` do not fit in RAM.
    RamTooSmall(TooBig),
    /// `rd.writable.fsimg`: the image's data and `rd.minmem` exceed the RAM.
    FsImageTooBig(TooBig),
    /// `rd.break` with no shell packed.
    NoShell,
    /// No candidate init is an executable file in the new root.
    NoInit {
        tried: Vec<String>,
    },
    /// Every init candidate failed to exec.
    InitsFailed,
    /// Download (network-boot-spec §5): 404/410, the server has no such
    /// image (the subject is the URL after redirects).
    NetNotFound {
        status: String,
    },
    /// 401/403.
    NetDenied {
        status: String,
        credentials: bool,
    },
    /// Another status that is not worth retrying.
    NetStatus {
        status: String,
    },
    /// Not an HTTP answer, or a 206 for another range than asked.
    NetBadAnswer {
        why: String,
    },
    /// More than the allowed redirects, or an https→http one: the chain.
    NetRedirects {
        chain: Vec<String>,
        downgrade: bool,
    },
    /// The announced length leaves less than `rd.minmem` of the RAM.
    NetTooBig {
        bytes: u64,
        mem_total_mib: u64,
        minmem_mib: u64,
    },
    /// The image outgrew its tmpfs (no length was announced).
    NetNoRoom {
        bytes: u64,
        room: u64,
        minmem_mib: u64,
    },
    /// `rd.liveinit.net.sha256` does not match.
    NetDigest {
        expected: String,
        computed: String,
        bytes: u64,
    },
    /// The SHA-256 computed beside the download stopped moving.
    NetHashStalled {
        hashed: u64,
        bytes: u64,
        secs: u64,
    },
    /// The file is no image: what its first bytes look like.
    NetNotImage {
        what: &'static str,
        bytes: u64,
    },
    /// TLS could not be set up (or this build has none).
    NetTls {
        reason: String,
    },
    /// Transient failures went on for every attempt allowed.
    NetGaveUp {
        attempts: u32,
        secs: u64,
        last: String,
    },
    /// Network bring-up failures (network-boot-spec §5); texts in `net_cause.rs`.
    Net(Box<super::network::NetCause>),
}

/// Where the image was looked for, and what the medium holds instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingImage {
    pub device: String,
    /// The other name tried (`LiveOS/rootfs.img`).
    pub nested: String,
    pub live_dir: String,
    pub squash_img: String,
    /// The names at the top of the medium.
    pub top_level: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootError {
    pub stage: Stage,
    /// The device, file, option or step at fault; may be empty.
    pub subject: String,
    pub cause: Cause,
    /// The block devices discovery saw, one line each, when it is the
    /// stage that failed: the summary shows them rather than reading every
    /// disk again (a dying one would stall the emergency path).
    pub devices_seen: Option<Vec<String>>,
}

impl BootError {
    pub fn new(stage: Stage, subject: impl Into<String>, cause: Cause) -> BootError {
        BootError {
            stage,
            subject: subject.into(),
            cause,
            devices_seen: None,
        }
    }

    /// Records what discovery saw, for the summary.
    pub fn with_devices_seen(mut self, devices: Vec<String>) -> BootError {
        self.devices_seen = Some(devices);
        self
    }

    pub fn sys(stage: Stage, subject: impl Into<String>, errno: Errno) -> BootError {
        BootError::new(stage, subject, Cause::Sys(errno))
    }
}

pub use crate::sys::errno_text;

impl Cause {
    /// Discovery gave up without any device matching (not an ambiguity).
    pub fn is_no_match(&self) -> bool {
        matches!(
            self,
            Cause::NoMatchInTime { .. } | Cause::NoMatchIdle { .. }
        )
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Sys(errno) => f.write_str(&errno_text(*errno)),
            Cause::Config(e) => e.fmt(f),
            Cause::MissingSupport {
                errno,
                failed,
                fstype,
            } => {
                f.write_str(&errno_text(*errno))?;
                match fstype {
                    Some(fstype) if failed.is_empty() => write!(
                        f,
                        " (the kernel has no {fstype} filesystem: it is not built in, \
                         and no module in the initramfs provides it)"
                    ),
                    _ => write!(
                        f,
                        " (the kernel module it needs did not load: {})",
                        failed.join("; ")
                    ),
                }
            }
            Cause::RootNotSupported => f.write_str("this root is not supported yet"),
            Cause::NoMatchInTime { retry, seen } => write!(
                f,
                "no block device matched within {} s ({seen} devices seen; rd.retry= sets the wait)",
                retry.as_secs()
            ),
            Cause::NoMatchIdle {
                idle,
                waited,
                retry,
                seen,
            } => write!(
                f,
                "no block device matched, and nothing new appeared for {} \
                 ({seen} devices seen in {} s; {IDLE_OPTION}= sets that wait, {SLOW_IDLE_OPTION}= \
                 once a USB disk or an optical drive is there, 0 waits for rd.retry= ({} s))",
                seconds_text(*idle),
                waited.as_secs(),
                retry.as_secs()
            ),
            Cause::ImageNotFound(missing) => {
                let MissingImage {
                    device,
                    nested,
                    live_dir,
                    squash_img,
                    top_level,
                } = missing.as_ref();
                write!(
                f,
                "not found on {device} (nor {nested}; rd.live.dir={live_dir}, \
                 rd.live.squashimg={squash_img}); the medium's top level has: {}",
                    if top_level.is_empty() {
                        String::from("nothing")
                    } else {
                        let names: Vec<_> = top_level.iter().map(|n| printable(n)).collect();
                        names.join(" ")
                    }
                )
            }
            Cause::AmbiguousMedium { devices } => write!(
                f,
                "{} devices match and liveinit will not guess which one is meant: {}; \
                 name one by UUID=, PARTUUID= or /dev/disk/by-path/…, or remove the others",
                devices.len(),
                devices.join(", ")
            ),
            Cause::IsoNotFound { searched } if searched.is_empty() => f.write_str(
                "not found: no block device holds a filesystem to look on (iso-scan/filename)",
            ),
            Cause::IsoNotFound { searched } => write!(
                f,
                "not found on any filesystem (iso-scan/filename); looked on {}",
                searched.join(", ")
            ),
            Cause::IsoNotTheMedium { spec, label } => write!(
                f,
                "found, but it is not {spec}: its label is {} (root=live: must name the ISO's label)",
                label.as_deref().map_or(Cow::Borrowed("none"), printable)
            ),
            Cause::MediumDamaged(at) => {
                f.write_str("its contents do not match the MD5 checksum implanted in it")?;
                if let Mismatch::Fragment(part) = at {
                    write!(f, " (first seen in part {part})")?;
                }
                f.write_str(
                    ": the medium is damaged (rd.live.check); \
                     do not boot or install from it, write or burn it again",
                )
            }
            Cause::MediumTruncated { covered, ends } => write!(
                f,
                "it ends after {ends} bytes, but its implanted MD5 checksum covers {covered}: \
                 the medium is truncated (rd.live.check); write or burn it again"
            ),
            Cause::NoChecksum { image, why } => write!(
                f,
                "cannot check {image} (checksum=y): {why}; without checksum=y the image is \
                 used unchecked"
            ),
            Cause::ChecksumMismatch(which) => {
                let [list, expected, got] = which.as_ref();
                write!(
                f,
                "SHA-512 {got} is not the {expected} {list} lists: the image is damaged or \
                 not the one the listing was made for (checksum=y)"
                )
            }
            Cause::MediaTest(failure) => {
                use crate::grammar::verify_checksums::Failure;
                match failure.as_ref() {
                    Failure::NoListing {
                        looked,
                        not_carried,
                    } => {
                        write!(f, "no checksum listing at its root (looked for {})", looked.join(", "))?;
                        if !not_carried.is_empty() {
                            write!(
                                f,
                                "; found {}, whose digest liveinit does not compute (it does \
                                 sha512, sha256 and md5)",
                                not_carried.join(", ")
                            )?;
                        }
                        f.write_str(": nothing to test (verify-checksums)")
                    }
                    Failure::Empty { listing } => write!(
                        f,
                        "{listing} lists no file to check (verify-checksums)"
                    ),
                    Failure::Bad {
                        listing,
                        first,
                        why,
                        bad,
                        total,
                    } => write!(
                        f,
                        "{first} {why}, {bad} of the {total} files {listing} lists failed: the \
                         medium is damaged or not the one the listing was made for \
                         (verify-checksums, a media test: remove it to boot unchecked)"
                    ),
                }
            }
            Cause::MissingLayers { dir, missing } => write!(
                f,
                "the layers under it are missing from {dir}: {} (layerfs-path= names the top \
                 layer; each name with its last .part removed must be there too)",
                missing.join(", ")
            ),
            Cause::UnsettledLayers { dir, candidates } => write!(
                f,
                "the command line names no layer and {dir} does not settle it: not one \
                 *.live.squashfs, not one *.squashfs, but {}; add layerfs-path=<the top layer> \
                 (e.g. in the initramfs's /etc/cmdline.d)",
                candidates.join(", ")
            ),
            Cause::NoListedImages => f.write_str(
                "its module list names no image that is there (module= picks another list)",
            ),
            Cause::NoFilesystem => {
                f.write_str("holds no filesystem liveinit recognises (damaged or truncated?)")
            }
            Cause::NotCompressed(fstype) => write!(
                f,
                "is {}, expected a squashfs or EROFS image",
                fstype.as_str()
            ),
            Cause::NoRoot(why) => why.fmt(f),
            Cause::RamTooSmall(too_big) => too_big.fmt(f),
            Cause::FsImageTooBig(t) => write!(
                f,
                "the writable copy of the image ({} MiB of data) does not fit in RAM: {} MiB \
                 total, {} MiB of which must stay free (rd.minmem); boot without \
                 rd.writable.fsimg, or lower rd.minmem",
                t.image_mib, t.mem_total_mib, t.minmem_mib
            ),
            Cause::NoShell => f.write_str(
                "no shell in this initramfs to break into \
                 (pack one with `cargo xtask initramfs --busybox`)",
            ),
            Cause::NoInit { tried } => write!(f, "no executable init; tried {}", tried.join(", ")),
            Cause::InitsFailed => f.write_str("no init could be started"),
            Cause::NetNotFound { status } => write!(
                f,
                "no such image: the server answered {status}; check the URL (this is not retried)"
            ),
            Cause::NetDenied { status, credentials } => write!(
                f,
                "the server refused access: {status}; {}",
                if *credentials {
                    "the user and password in the URL were sent and not accepted"
                } else {
                    "no credentials were sent (put user:password@ in the URL if it needs them)"
                }
            ),
            Cause::NetStatus { status } => {
                write!(f, "the server answered {status} (not retried)")
            }
            Cause::NetBadAnswer { why } => write!(f, "the server's answer is unusable: {why}"),
            Cause::NetRedirects { chain, downgrade } => write!(
                f,
                "{}: {}",
                if *downgrade {
                    "an https:// URL redirected to http://, which liveinit refuses"
                } else {
                    "too many redirects"
                },
                chain.join(" -> ")
            ),
            Cause::NetTooBig {
                bytes,
                mem_total_mib,
                minmem_mib,
            } => write!(
                f,
                "the image is {} and must live in RAM, but the machine has {mem_total_mib} MiB of which {minmem_mib} MiB must stay free (rd.minmem); give the machine more memory, serve a smaller image, or lower rd.minmem (nothing was downloaded)",
                crate::progress::size_text(*bytes)
            ),
            Cause::NetNoRoom {
                bytes,
                room,
                minmem_mib,
            } => write!(
                f,
                "image larger than the RAM allowed: {} received and the {} tmpfs is full (the RAM less rd.minmem={minmem_mib} MiB; the server announced no length)",
                crate::progress::size_text(*bytes),
                crate::progress::size_text(*room)
            ),
            Cause::NetDigest {
                expected,
                computed,
                bytes,
            } => write!(
                f,
                "SHA-256 mismatch after {bytes} bytes: expected {expected} (rd.liveinit.net.sha256), computed {computed}; the image is damaged or not the one meant"
            ),
            Cause::NetHashStalled { hashed, bytes, secs } => write!(
                f,
                "the SHA-256 of the download stopped at {hashed} of {bytes} bytes for {secs} s (rd.liveinit.net.stall): the child process hashing it is stuck or gone"
            ),
            Cause::NetNotImage { what, bytes } => write!(
                f,
                "not a live image ({bytes} bytes): the server sent {what}; expected a squashfs, EROFS, ext4 or ISO 9660 image"
            ),
            Cause::NetTls { reason } => write!(f, "TLS: {reason}"),
            Cause::NetGaveUp {
                attempts,
                secs,
                last,
            } => write!(
                f,
                "gave up after {attempts} attempt{} in {secs} s (rd.liveinit.net.retries=); last error: {last}",
                if *attempts == 1 { "" } else { "s" }
            ),
            Cause::Net(cause) => cause.fmt(f),
        }
    }
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stage.name())?;
        if !self.subject.is_empty() {
            write!(f, ": {}", self.subject)?;
        }
        write!(f, ": {}", self.cause)
    }
}
