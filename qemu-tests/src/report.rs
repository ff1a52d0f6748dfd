//! The probe's report: the line format written by `src/bin/probe.rs` on the
//! console and its parser, used by the boot tests.
//!
//! ```text
//! PROBE-BEGIN
//! pid=1
//! argv=/sbin/init
//! cmdline=console=ttyS0 panic=-1 root=live:CDLABEL=X
//! uptime=7.41
//! mount=<a /proc/self/mountinfo line, verbatim>
//! root.write=ok                       (or `error <what failed>`)
//! live.mounted=yes                    (is /run/initramfs/live a mount point)
//! live.entry=LiveOS/                  (one per entry below it, dirs end in `/`)
//! live.entry=LiveOS/squashfs.img
//! run.entry=/run/rootfsbase dir       (kind: dir|file|symlink <target>|block MAJ:MIN|other|missing)
//! dev.entry=/dev/live-base symlink /dev/loop1   (same kinds; /dev/live-base, /dev/mapper/…)
//! dm=live-rw kname=dm-1 dev=253:1 ro=0 sectors=32768 slaves=loop1,loop2 mapper=253:1
//!                                     (one per /sys/block/dm-*; `mapper` is the
//!                                      MAJ:MIN of /dev/mapper/<name> if that is a
//!                                      block node, else `missing` or `not-block`)
//! loop=loop1 dev=7:1 ro=1 sectors=32768 backing=/LiveOS/rootfs.img
//!                                     (one per bound loop device; backing last)
//! fd=0 /dev/console chr:5:1           (PID 1's open fds: target and what it is:
//!                                      chr:MAJ:MIN|blk:MAJ:MIN|file|dir|other|?)
//! note=…  /  error=…                  (free text)
//! fill.limit_mib=48                   (with `liveinit.probe.fill=48`: write
//! fill.mlock=ok                        `/` full, 1 MiB + fsync at a time;
//! fill.written_mib=15                  MiB written and synced;
//! fill.stop=error fsync 5 Input/output error (os error 5)
//!                                      or `limit`: the first error, its step
//!                                      (create|write|fsync) and errno)
//! after.uptime=ok 23.41               (checks after the fill: `ok <detail>`
//! after.read_image_file=error …        or `error <why>`)
//! after.kmsg=ok 12                    (kernel log records since the fill began)
//! kmsg=device-mapper:\040snapshots:\040Snapshot\040overflowed:…
//!                                     (the first 60 of them, escaped)
//! PROBE-END
//! ```
//!
//! Paths and arguments inside values are escaped like `/proc/self/mountinfo`
//! does (`\040` for a space, octal for whitespace, `\` and control bytes), so a
//! value can always be split on spaces. The format is line based because the
//! console is shared with the kernel: unknown lines are kept aside, not fatal.

use std::fmt::Write as _;

pub const BEGIN: &str = "PROBE-BEGIN";
pub const END: &str = "PROBE-END";
/// The probe's note when it waits for its CD to be ejected
/// (`liveinit.probe.eject=<device>`).
pub const EJECT_MARKER: &str = "waiting for the disc to be ejected from";

/// Escapes a path or argument for the report (mountinfo style octal escapes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || c <= ' ' || c == '\u{7f}' {
            let _ = write!(out, "\\{:03o}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape`] (and the kernel's mountinfo escaping): `\ooo` → byte.
pub fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && is_octal_triplet(&bytes[i + 1..i + 4]) {
            // The first digit is at most 3, so the value fits in a byte.
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_octal_triplet(b: &[u8]) -> bool {
    b.len() == 3 && b[0] <= b'3' && b.iter().all(|c| (b'0'..=b'7').contains(c))
}

/// One `/proc/self/mountinfo` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_id: u32,
    pub parent_id: u32,
    /// `major:minor`.
    pub dev: String,
    /// Root of the mount within its filesystem.
    pub root: String,
    pub mount_point: String,
    /// Per-mount options (`rw,relatime`).
    pub options: String,
    pub fstype: String,
    pub source: String,
    /// Per-superblock options (`lowerdir=…,upperdir=…`).
    pub super_options: String,
}

impl MountEntry {
    /// Parses a mountinfo line:
    /// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
    pub fn parse(line: &str) -> Option<MountEntry> {
        let (left, right) = line.split_once(" - ")?;
        let mut l = left.split(' ');
        let mount_id = l.next()?.parse().ok()?;
        let parent_id = l.next()?.parse().ok()?;
        let dev = l.next()?.to_string();
        let root = unescape(l.next()?);
        let mount_point = unescape(l.next()?);
        let options = l.next()?.to_string();
        let mut r = right.split(' ');
        let fstype = r.next()?.to_string();
        let source = unescape(r.next()?);
        let super_options = r.next().unwrap_or("").to_string();
        Some(MountEntry {
            mount_id,
            parent_id,
            dev,
            root,
            mount_point,
            options,
            fstype,
            source,
            super_options,
        })
    }

    /// True if the per-mount options contain `opt` (e.g. `ro`).
    pub fn has_option(&self, opt: &str) -> bool {
        self.options.split(',').any(|o| o == opt)
    }

    /// Value of a superblock option such as `lowerdir`.
    pub fn super_option(&self, key: &str) -> Option<&str> {
        self.super_options
            .split(',')
            .find_map(|o| match o.split_once('=') {
                Some((k, v)) if k == key => Some(v),
                None if o == key => Some(""),
                _ => None,
            })
    }
}

/// What an entry under `/run` (or `/dev`) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunKind {
    Dir,
    File,
    Symlink(String),
    /// A block device node, with its `MAJ:MIN`.
    Block(String),
    Other,
    Missing,
}

/// One device-mapper device, from `/sys/block/dm-*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmDevice {
    /// The dm name (`live-rw`).
    pub name: String,
    /// The kernel name (`dm-0`).
    pub kname: String,
    /// `MAJ:MIN`.
    pub dev: String,
    pub read_only: Option<bool>,
    /// Size in 512-byte sectors.
    pub sectors: Option<u64>,
    /// Kernel names of the devices it maps onto (`loop1`, `dm-0`).
    pub slaves: Vec<String>,
    /// What `/dev/mapper/<name>` is: its `MAJ:MIN` if it is a block node,
    /// else `missing` or `not-block`.
    pub mapper: String,
}

impl DmDevice {
    /// `/dev/mapper/<name>` exists and is the block node of this device.
    pub fn has_mapper_node(&self) -> bool {
        !self.dev.is_empty() && self.mapper == self.dev
    }
}

/// One bound loop device, from `/sys/block/loop*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopDevice {
    /// The kernel name (`loop0`).
    pub kname: String,
    /// `MAJ:MIN`.
    pub dev: String,
    pub read_only: Option<bool>,
    pub sectors: Option<u64>,
    /// The backing file as the kernel shows it (`… (deleted)` if unlinked;
    /// relative to its mount if that mount was detached).
    pub backing: String,
}

/// One open fd of PID 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdInfo {
    pub fd: u32,
    /// The `/proc/1/fd/N` link target (e.g. `/dev/console`, `pipe:[123]`).
    pub target: String,
    /// What it refers to: `chr:5:1`, `blk:7:0`, `file`, `dir`, `other`, `?`.
    pub kind: String,
}

impl FdInfo {
    /// A character device: the console (5:1), a serial port (4:64+) or a VT (4:0-63).
    pub fn is_console(&self) -> bool {
        match self.kind.strip_prefix("chr:") {
            Some("5:1") => true,
            Some(dev) => dev.starts_with("4:"),
            None => false,
        }
    }
}

/// How the fill test (`liveinit.probe.fill=<MiB>`) stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillStop {
    /// It wrote the whole limit without an error.
    Limit,
    /// The first error: the step (`create`, `write`, `fsync`), the errno
    /// (0 if unknown) and its text.
    Error {
        step: String,
        errno: i32,
        text: String,
    },
}

impl FillStop {
    /// The errno of the error, if it stopped on one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            FillStop::Limit => None,
            FillStop::Error { errno, .. } => Some(*errno),
        }
    }
}

/// The fill test's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FillReport {
    pub limit_mib: Option<u64>,
    /// Whether the probe could lock itself in RAM first.
    pub mlock: Option<Result<(), String>>,
    /// Whole MiB written and synced before it stopped.
    pub written_mib: Option<u64>,
    pub stop: Option<FillStop>,
}

/// Everything the probe reported. Fields the probe could not determine stay
/// empty / `None`; `errors` says why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeReport {
    pub pid: Option<u32>,
    pub argv: Vec<String>,
    pub cmdline: Option<String>,
    pub uptime_secs: Option<f64>,
    pub mounts: Vec<MountEntry>,
    /// `Ok(())` or the failure text of the create/write/read/remove test on `/`.
    pub root_write: Option<Result<(), String>>,
    pub live_mounted: Option<bool>,
    pub live_entries: Vec<String>,
    pub run_entries: Vec<(String, RunKind)>,
    pub dev_entries: Vec<(String, RunKind)>,
    pub dm: Vec<DmDevice>,
    pub loops: Vec<LoopDevice>,
    /// Kernel modules loaded when the real init started (`/proc/modules`).
    pub modules: Vec<String>,
    pub fds: Vec<FdInfo>,
    /// The fill test, if it ran.
    pub fill: Option<FillReport>,
    /// The checks after the fill, in order: `(what, Ok(detail) | Err(why))`.
    pub after: Vec<(String, Result<String, String>)>,
    /// The kernel's log messages from during the fill (the first 60).
    pub kmsg: Vec<String>,
    pub notes: Vec<String>,
    /// `/run/initramfs/net/<file>`: its name and its lines joined by `;`.
    pub net_state: Vec<(String, String)>,
    /// Local IPv4 addresses (`/proc/net/fib_trie`).
    pub net_local: Vec<String>,
    /// `/proc/net/route` lines: `iface destination gateway mask` (hex, as the kernel writes them).
    pub net_routes: Vec<String>,
    /// `/sys/class/net/<if>`: `name mac flags` (flags in hex, IFF_UP = 0x1).
    pub net_links: Vec<String>,
    /// `/proc/sys/kernel/hostname`.
    pub hostname: Option<String>,
    pub errors: Vec<String>,
    /// Lines between the markers that are not part of the format (kernel
    /// messages that interleaved with the report, usually).
    pub unknown_lines: Vec<String>,
}

impl ProbeReport {
    /// Whether the kernel module `name` was loaded when the real init
    /// started.
    pub fn has_module(&self, name: &str) -> bool {
        self.modules.iter().any(|m| m == name)
    }

    /// The `KEY=value` of the network state file `/run/initramfs/net/<file>`.
    pub fn net_value(&self, file: &str, key: &str) -> Option<String> {
        let (_, text) = self.net_state.iter().find(|(f, _)| f == file)?;
        text.split(';')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    }

    /// Whether the interface with `mac` is up (`IFF_UP` in its flags).
    pub fn link_up(&self, mac: &str) -> Option<bool> {
        self.net_links.iter().find_map(|l| {
            let mut f = l.split(' ');
            let (_, m, flags) = (f.next()?, f.next()?, f.next()?);
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            (m == mac).then_some(flags & 1 == 1)
        })
    }

    /// The state files whose `MAC=` is `mac`.
    pub fn net_files_with_mac(&self, mac: &str) -> Vec<String> {
        self.net_state
            .iter()
            .filter(|(f, _)| self.net_value(f, "MAC").as_deref() == Some(mac))
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// Finds the report in a console log (the first `PROBE-BEGIN` … `PROBE-END`).
    pub fn parse_log(log: &str) -> anyhow::Result<ProbeReport> {
        let mut lines = log.lines().map(clean_line);
        if !lines.any(|l| l.ends_with(BEGIN)) {
            anyhow::bail!("no `{BEGIN}` line in the console log: the probe never ran");
        }
        let mut report = ProbeReport::default();
        for line in lines {
            if line.ends_with(END) {
                return Ok(report);
            }
            report.add_line(line);
        }
        anyhow::bail!("`{BEGIN}` without `{END}`: the probe's report was cut short")
    }

    fn add_line(&mut self, line: &str) {
        let Some((key, value)) = line.split_once('=') else {
            self.unknown_lines.push(line.to_string());
            return;
        };
        let ok = match key {
            "pid" => value.parse().map(|p| self.pid = Some(p)).is_ok(),
            "argv" => {
                self.argv = value
                    .split(' ')
                    .filter(|a| !a.is_empty())
                    .map(unescape)
                    .collect();
                true
            }
            "cmdline" => {
                self.cmdline = Some(value.to_string());
                true
            }
            "uptime" => value.parse().map(|u| self.uptime_secs = Some(u)).is_ok(),
            "mount" => MountEntry::parse(value)
                .map(|m| self.mounts.push(m))
                .is_some(),
            "root.write" => {
                self.root_write = Some(if value == "ok" {
                    Ok(())
                } else {
                    Err(value.strip_prefix("error ").unwrap_or(value).to_string())
                });
                true
            }
            "live.mounted" => {
                self.live_mounted = Some(value == "yes");
                value == "yes" || value == "no"
            }
            "live.entry" => {
                self.live_entries.push(unescape(value));
                true
            }
            "module" => {
                self.modules.push(value.to_string());
                true
            }
            "run.entry" => parse_run_entry(value)
                .map(|e| self.run_entries.push(e))
                .is_some(),
            "dev.entry" => parse_run_entry(value)
                .map(|e| self.dev_entries.push(e))
                .is_some(),
            "dm" => parse_dm(value).map(|d| self.dm.push(d)).is_some(),
            "loop" => parse_loop(value).map(|l| self.loops.push(l)).is_some(),
            "fd" => parse_fd(value).map(|e| self.fds.push(e)).is_some(),
            "note" => {
                self.notes.push(value.to_string());
                true
            }
            "net.state" => value
                .split_once(' ')
                .map(|(f, t)| self.net_state.push((f.to_string(), t.to_string())))
                .is_some(),
            "net.local" => {
                self.net_local.push(value.to_string());
                true
            }
            "net.route" => {
                self.net_routes.push(value.to_string());
                true
            }
            "net.link" => {
                self.net_links.push(value.to_string());
                true
            }
            "net.hostname" => {
                self.hostname = Some(value.to_string());
                true
            }
            "kmsg" => {
                self.kmsg.push(unescape(value));
                true
            }
            "error" => {
                self.errors.push(value.to_string());
                true
            }
            _ => {
                if let Some(what) = key.strip_prefix("fill.") {
                    self.add_fill(what, value)
                } else if let Some(what) = key.strip_prefix("after.") {
                    parse_outcome(value)
                        .map(|r| self.after.push((what.to_string(), r)))
                        .is_some()
                } else {
                    false
                }
            }
        };
        if !ok {
            self.unknown_lines.push(line.to_string());
        }
    }

    fn add_fill(&mut self, key: &str, value: &str) -> bool {
        let fill = self.fill.get_or_insert_with(FillReport::default);
        match key {
            "limit_mib" => value.parse().map(|v| fill.limit_mib = Some(v)).is_ok(),
            "written_mib" => value.parse().map(|v| fill.written_mib = Some(v)).is_ok(),
            "mlock" => parse_outcome(value)
                .map(|r| fill.mlock = Some(r.map(|_| ())))
                .is_some(),
            "stop" => parse_fill_stop(value)
                .map(|s| fill.stop = Some(s))
                .is_some(),
            _ => false,
        }
    }

    /// The check `after.<what>` done after the fill.
    pub fn after_check(&self, what: &str) -> Option<&Result<String, String>> {
        self.after.iter().find(|(w, _)| w == what).map(|(_, r)| r)
    }

    /// The mount that is `/` for the probe (the last one stacked there).
    pub fn root_mount(&self) -> Option<&MountEntry> {
        self.mount_at("/")
    }

    /// The top-most mount at `path`.
    pub fn mount_at(&self, path: &str) -> Option<&MountEntry> {
        self.mounts.iter().rev().find(|m| m.mount_point == path)
    }

    /// What the probe saw at `path` under /run, if it reported it.
    pub fn run_entry(&self, path: &str) -> Option<&RunKind> {
        self.run_entries
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, k)| k)
    }

    /// What the probe saw at `path` under /dev, if it reported it.
    pub fn dev_entry(&self, path: &str) -> Option<&RunKind> {
        self.dev_entries
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, k)| k)
    }

    /// The device-mapper device named `name`.
    pub fn dm_device(&self, name: &str) -> Option<&DmDevice> {
        self.dm.iter().find(|d| d.name == name)
    }

    /// The names of all device-mapper devices, sorted.
    pub fn dm_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.dm.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// The bound loop device with kernel name `kname` (`loop0`).
    pub fn loop_device(&self, kname: &str) -> Option<&LoopDevice> {
        self.loops.iter().find(|l| l.kname == kname)
    }

    /// The bound loop device behind a `/dev/loopN` path.
    pub fn loop_at(&self, path: &str) -> Option<&LoopDevice> {
        self.loop_device(path.strip_prefix("/dev/")?)
    }
}

/// Strips the `\r` the serial console adds. (Markers are matched with
/// `ends_with`, so kernel text glued in front of them does not hide them.)
fn clean_line(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// `ok[ <detail>]` or `error <why>`.
fn parse_outcome(value: &str) -> Option<Result<String, String>> {
    let (word, rest) = value.split_once(' ').unwrap_or((value, ""));
    match word {
        "ok" => Some(Ok(rest.to_string())),
        "error" => Some(Err(rest.to_string())),
        _ => None,
    }
}

/// `limit` or `error <step> <errno> <text>`.
fn parse_fill_stop(value: &str) -> Option<FillStop> {
    if value == "limit" {
        return Some(FillStop::Limit);
    }
    let mut parts = value.strip_prefix("error ")?.splitn(3, ' ');
    let step = parts.next().filter(|s| !s.is_empty())?.to_string();
    let errno = parts.next()?.parse().ok()?;
    let text = parts.next().unwrap_or("").to_string();
    Some(FillStop::Error { step, errno, text })
}

fn parse_run_entry(value: &str) -> Option<(String, RunKind)> {
    let mut parts = value.split(' ');
    let path = unescape(parts.next()?);
    let kind = match parts.next()? {
        "dir" => RunKind::Dir,
        "file" => RunKind::File,
        "symlink" => RunKind::Symlink(unescape(parts.next()?)),
        "block" => RunKind::Block(parts.next()?.to_string()),
        "other" => RunKind::Other,
        "missing" => RunKind::Missing,
        _ => return None,
    };
    Some((path, kind))
}

/// `key=value` words after the first word of a line.
fn key_values(rest: std::str::Split<'_, char>) -> impl Iterator<Item = (&str, &str)> {
    rest.filter_map(|w| w.split_once('='))
}

fn parse_flag(v: &str) -> Option<bool> {
    match v {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

fn parse_dm(value: &str) -> Option<DmDevice> {
    let mut words = value.split(' ');
    let mut d = DmDevice {
        name: unescape(words.next().filter(|n| !n.is_empty())?),
        ..DmDevice::default()
    };
    for (k, v) in key_values(words) {
        match k {
            "kname" => d.kname = v.to_string(),
            "dev" => d.dev = v.to_string(),
            "ro" => d.read_only = parse_flag(v),
            "sectors" => d.sectors = v.parse().ok(),
            "slaves" => {
                d.slaves = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "mapper" => d.mapper = v.to_string(),
            _ => {}
        }
    }
    Some(d)
}

fn parse_loop(value: &str) -> Option<LoopDevice> {
    let mut words = value.split(' ');
    let mut l = LoopDevice {
        kname: words.next().filter(|n| !n.is_empty())?.to_string(),
        ..LoopDevice::default()
    };
    for (k, v) in key_values(words) {
        match k {
            "dev" => l.dev = v.to_string(),
            "ro" => l.read_only = parse_flag(v),
            "sectors" => l.sectors = v.parse().ok(),
            "backing" => l.backing = unescape(v),
            _ => {}
        }
    }
    Some(l)
}

fn parse_fd(value: &str) -> Option<FdInfo> {
    let mut parts = value.split(' ');
    let fd = parts.next()?.parse().ok()?;
    let target = unescape(parts.next()?);
    let kind = parts.next().unwrap_or("?").to_string();
    Some(FdInfo { fd, target, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
[    7.120000] liveinit: switching root\r
noise before\r
PROBE-BEGIN\r
pid=1\r
argv=/sbin/init a\\040b\r
cmdline=console=ttyS0 panic=-1 root=live:CDLABEL=LIVEINIT_TEST\r
uptime=7.52\r
mount=21 1 0:20 / / rw,relatime - overlay LiveOS_rootfs rw,lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork\r
mount=25 21 11:0 / /run/initramfs/live ro,relatime - iso9660 /dev/sr0 ro,nojoliet,check=s,map=n,blocksize=2048\r
mount=26 21 0:5 / /mnt/with\\040space rw - tmpfs tmpfs rw\r
root.write=ok\r
live.mounted=yes\r
live.entry=LiveOS/\r
live.entry=LiveOS/squashfs.img\r
run.entry=/run/rootfsbase dir\r
run.entry=/run/initramfs/live dir\r
run.entry=/run/ovlwork missing\r
run.entry=/run/link symlink /run/initramfs/live\r
dev.entry=/dev/live-base symlink /dev/loop1\r
dev.entry=/dev/mapper/live-rw block 253:1\r
dev.entry=/dev/mapper/live-osimg-min missing\r
dm=live-base kname=dm-0 dev=253:0 ro=1 sectors=32768 slaves=loop1 mapper=253:0\r
dm=live-rw kname=dm-1 dev=253:1 ro=0 sectors=32768 slaves=loop1,loop2 mapper=missing\r
loop=loop1 dev=7:1 ro=1 sectors=32768 backing=/LiveOS/rootfs.img\r
module=squashfs\r
module=loop\r
loop=loop2 dev=7:2 ro=0 sectors=524288 backing=/overlay\\040(deleted)\r
fd=0 /dev/console chr:5:1\r
fd=1 /dev/console\\040(deleted) chr:5:1\r
fd=2 /dev/ttyS0 chr:4:64\r
fd=3 /dev/loop0 blk:7:0\r
[    7.600000] random: crng init done\r
note=hello\r
PROBE-END\r
reboot: Power down\r
";

    #[test]
    fn parses_a_full_report() {
        let r = ProbeReport::parse_log(SAMPLE).unwrap();
        assert_eq!(r.pid, Some(1));
        assert_eq!(r.argv, vec!["/sbin/init", "a b"]);
        assert_eq!(
            r.cmdline.as_deref(),
            Some("console=ttyS0 panic=-1 root=live:CDLABEL=LIVEINIT_TEST")
        );
        assert_eq!(r.uptime_secs, Some(7.52));
        assert_eq!(r.mounts.len(), 3);
        let root = r.root_mount().unwrap();
        assert_eq!(root.fstype, "overlay");
        assert_eq!(root.source, "LiveOS_rootfs");
        assert!(root.has_option("rw"));
        assert_eq!(root.super_option("lowerdir"), Some("/run/rootfsbase"));
        let live = r.mount_at("/run/initramfs/live").unwrap();
        assert_eq!(live.fstype, "iso9660");
        assert_eq!(live.source, "/dev/sr0");
        assert!(r.mount_at("/mnt/with space").is_some());
        assert_eq!(r.root_write, Some(Ok(())));
        assert_eq!(r.live_mounted, Some(true));
        assert!(r.live_entries.iter().any(|e| e == "LiveOS/squashfs.img"));
        assert_eq!(r.run_entry("/run/rootfsbase"), Some(&RunKind::Dir));
        assert_eq!(r.run_entry("/run/ovlwork"), Some(&RunKind::Missing));
        assert_eq!(
            r.run_entry("/run/link"),
            Some(&RunKind::Symlink("/run/initramfs/live".into()))
        );
        assert_eq!(
            r.dev_entry("/dev/live-base"),
            Some(&RunKind::Symlink("/dev/loop1".into()))
        );
        assert_eq!(
            r.dev_entry("/dev/mapper/live-rw"),
            Some(&RunKind::Block("253:1".into()))
        );
        assert_eq!(
            r.dev_entry("/dev/mapper/live-osimg-min"),
            Some(&RunKind::Missing)
        );
        assert_eq!(r.dm_names(), ["live-base", "live-rw"]);
        let base = r.dm_device("live-base").unwrap();
        assert_eq!(base.kname, "dm-0");
        assert_eq!(base.read_only, Some(true));
        assert_eq!(base.sectors, Some(32768));
        assert_eq!(base.slaves, ["loop1"]);
        assert!(base.has_mapper_node());
        let rw = r.dm_device("live-rw").unwrap();
        assert_eq!(rw.slaves, ["loop1", "loop2"]);
        assert_eq!(rw.read_only, Some(false));
        assert!(!rw.has_mapper_node());
        let l1 = r.loop_at("/dev/loop1").unwrap();
        assert_eq!(l1.dev, "7:1");
        assert_eq!(l1.read_only, Some(true));
        assert_eq!(l1.backing, "/LiveOS/rootfs.img");
        assert_eq!(
            r.loop_device("loop2").unwrap().backing,
            "/overlay (deleted)"
        );
        assert!(r.loop_at("loop2").is_none());
        assert_eq!(r.modules, ["squashfs", "loop"]);
        assert!(r.has_module("loop") && !r.has_module("ext4"));
        assert_eq!(r.fds.len(), 4);
        assert_eq!(r.fds[1].target, "/dev/console (deleted)");
        assert!(r.fds[..3].iter().all(FdInfo::is_console));
        assert!(!r.fds[3].is_console());
        assert_eq!(r.fds[3].kind, "blk:7:0");
        assert_eq!(r.notes, vec!["hello"]);
        assert_eq!(
            r.unknown_lines,
            vec!["[    7.600000] random: crng init done"]
        );
    }

    #[test]
    fn malformed_device_lines_are_kept_aside() {
        let r = ProbeReport::parse_log(
            "PROBE-BEGIN\ndm=\nloop=\ndev.entry=/dev/x block\ndm=x junk mapper=missing\nPROBE-END\n",
        )
        .unwrap();
        assert_eq!(r.unknown_lines, ["dm=", "loop=", "dev.entry=/dev/x block"]);
        assert_eq!(r.dm.len(), 1);
        assert!(!r.dm[0].has_mapper_node());
    }

    #[test]
    fn missing_or_truncated_report_is_an_error() {
        assert!(ProbeReport::parse_log("nothing here\n").is_err());
        assert!(ProbeReport::parse_log("PROBE-BEGIN\npid=1\n").is_err());
    }

    #[test]
    fn parses_the_fill_report() {
        let r = ProbeReport::parse_log(
            "PROBE-BEGIN\r
pid=1\r
fill.limit_mib=48\r
fill.mlock=ok\r
fill.written_mib=15\r
fill.stop=error fsync 5 Input/output error (os error 5)\r
after.uptime=ok 23.41\r
after.ls_root=ok bin,etc,proc\r
after.drop_caches=ok 3\r
after.read_image_file=error Input/output error (os error 5)\r
after.kmsg=ok 412\r
kmsg=device-mapper:\\040snapshots:\\040Snapshot\\040overflowed:\\040Unable\\040to\\040allocate\\040exception.\r
kmsg=EXT4-fs\\040error\\040(device\\040dm-1)\r
PROBE-END\r
",
        )
        .unwrap();
        assert!(r.unknown_lines.is_empty(), "{:?}", r.unknown_lines);
        let fill = r.fill.as_ref().unwrap();
        assert_eq!(fill.limit_mib, Some(48));
        assert_eq!(fill.mlock, Some(Ok(())));
        assert_eq!(fill.written_mib, Some(15));
        assert_eq!(
            fill.stop,
            Some(FillStop::Error {
                step: "fsync".into(),
                errno: 5,
                text: "Input/output error (os error 5)".into()
            })
        );
        assert_eq!(fill.stop.as_ref().unwrap().errno(), Some(5));
        assert_eq!(r.after_check("uptime"), Some(&Ok("23.41".into())));
        assert_eq!(r.after_check("ls_root"), Some(&Ok("bin,etc,proc".into())));
        assert_eq!(
            r.after_check("read_image_file"),
            Some(&Err("Input/output error (os error 5)".into()))
        );
        assert_eq!(r.after_check("kmsg"), Some(&Ok("412".into())));
        assert_eq!(r.after_check("nothing"), None);
        assert_eq!(
            r.kmsg,
            [
                "device-mapper: snapshots: Snapshot overflowed: Unable to allocate exception.",
                "EXT4-fs error (device dm-1)"
            ]
        );
    }

    #[test]
    fn fill_reached_its_limit_or_was_malformed() {
        let r = ProbeReport::parse_log(
            "PROBE-BEGIN\nfill.stop=limit\nfill.mlock=error Cannot allocate memory\n\
             fill.stop=error write\nfill.bogus=1\nafter.x=maybe\nPROBE-END\n",
        )
        .unwrap();
        let fill = r.fill.unwrap();
        assert_eq!(fill.stop, Some(FillStop::Limit));
        assert_eq!(fill.stop.unwrap().errno(), None);
        assert_eq!(fill.mlock, Some(Err("Cannot allocate memory".into())));
        assert_eq!(
            r.unknown_lines,
            ["fill.stop=error write", "fill.bogus=1", "after.x=maybe"]
        );
        assert!(ProbeReport::parse_log("PROBE-BEGIN\npid=1\nPROBE-END\n")
            .unwrap()
            .fill
            .is_none());
    }

    #[test]
    fn write_error_is_kept() {
        let r = ProbeReport::parse_log("PROBE-BEGIN\nroot.write=error create: EROFS\nPROBE-END\n")
            .unwrap();
        assert_eq!(r.root_write, Some(Err("create: EROFS".into())));
    }

    #[test]
    fn escape_round_trips() {
        for s in [
            "plain",
            "My Live Disk",
            "a\\b",
            "tab\there",
            "nl\nx",
            "ünï cödé x",
        ] {
            let e = escape(s);
            assert!(!e.contains(' ') && !e.contains('\n'), "{e:?}");
            assert_eq!(unescape(&e), s);
        }
        assert_eq!(escape("My Live Disk"), "My\\040Live\\040Disk");
    }

    #[test]
    fn unescape_leaves_non_octal_backslashes() {
        assert_eq!(unescape("My\\x20Disk"), "My\\x20Disk");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("\\04"), "\\04");
    }

    #[test]
    fn mountinfo_with_optional_fields() {
        let m = MountEntry::parse(
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue",
        )
        .unwrap();
        assert_eq!(m.mount_point, "/mnt2");
        assert_eq!(m.root, "/mnt1");
        assert_eq!(m.fstype, "ext3");
        assert_eq!(m.source, "/dev/root");
        assert_eq!(m.super_option("errors"), Some("continue"));
        assert!(m.has_option("noatime"));
    }
}
