//! The probe: installed as the live root's `/sbin/init`, it reports on the
//! console what the real init sees after liveinit handed over (PID, mounts,
//! writability of `/`, the live medium, `/run`, `/dev/live-base` and
//! `/dev/mapper`, the device-mapper and loop devices, its open fds), then
//! syncs and powers off. Format: `qemu_tests::report`.
//!
//! It must never hang and never panic: every step that fails is reported as
//! `error=…` and the probe goes on. If powering off fails, PID 1 exits, the
//! kernel panics and QEMU (`panic=-1 -no-reboot`) exits anyway.
//!
//! With `liveinit.probe.fill=<MiB>` on the kernel command line it then
//! fills `/` (1 MiB chunks, fsync after each) until an error or the limit,
//! checks that the system still answers, and repeats what the kernel said
//! meanwhile (device-mapper snapshot overflow, ext4 errors…).
//!
//! With `liveinit.probe.eject=<cd device>` it then announces that it waits
//! for the disc to go (the marker [`EJECT_MARKER`], for the host to eject it
//! from QEMU's monitor), waits until the drive reports no disc, drops the
//! page cache and reads every file of `/` (`after.disc_gone`,
//! `after.read_root`): a root that still needed the disc fails here.
//!
//! With `liveinit.probe.mark=<word>` (and `liveinit.probe.cut`) it then
//! reports and replaces a marker in `/`, for the persistence tests
//! (`qemu_tests::persist`).
//!
//! With `liveinit.probe.dd=<device>:<path>` (the copy benchmark) it then
//! mounts the medium again read-only, drops the page cache and times a
//! plain `/bin/dd bs=1M` of the file at `<path>` on it into `/run`
//! (`after.dd=ok <bytes> <seconds> <seconds>`, two cold runs): the same
//! read liveinit's copy to RAM made, done by the classic tool, in the same VM.
//!
//! With `liveinit.demo.shell` on the kernel command line and a `/bin/sh` in
//! the root, it runs that shell on the console after the report (for
//! `cargo xtask demo`) and powers off when the shell exits.

use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use qemu_tests::report::{escape, BEGIN, EJECT_MARKER, END};

const LIVE_DIR: &str = "/run/initramfs/live";
/// Paths under /run that are always reported, present or not.
const RUN_INTERESTING: &[&str] = &[
    "/run/rootfsbase",
    "/run/overlayfs",
    "/run/ovlwork",
    "/run/initramfs",
    "/run/initramfs/live",
    "/run/initramfs/livedev",
    "/run/initramfs/squashfs",
    "/run/initramfs/.need_shutdown",
    "/run/initramfs/fsimg/rootfs.img",
    "/run/initramfs/thin-overlay/data",
    "/run/initramfs/thin-overlay/meta",
];
/// Paths under /dev that are always reported (plus everything in /dev/mapper).
const DEV_INTERESTING: &[&str] = &[
    "/dev/live-base",
    "/dev/root",
    "/dev/mapper/live-rw",
    "/dev/mapper/live-base",
    "/dev/mapper/live-ro",
    "/dev/mapper/live-overlay-pool",
];
const LIVE_MAX_DEPTH: usize = 3;
const LIVE_MAX_ENTRIES: usize = 200;
const WRITE_TEST_FILE: &str = "/.liveinit-probe-write-test";
/// Kernel parameter that turns on the fill test (value: MiB to write at most).
const FILL_PARAM: &str = "liveinit.probe.fill";
const FILL_FILE: &str = "/.liveinit-probe-fill";
const MIB: usize = 1 << 20;
/// A file of the live image read back after the fill.
const IMAGE_FILE: &str = "/etc/os-release";
/// At most this many kernel messages from during the fill are repeated.
const KMSG_MAX_LINES: usize = 60;
/// Kernel parameter that turns on the read-after-eject test (value: the CD).
const EJECT_PARAM: &str = "liveinit.probe.eject";
/// The longest wait for the ejection.
const EJECT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Kernel parameter that turns on the timed `dd` (value: `<device>:<path>`).
const DD_PARAM: &str = "liveinit.probe.dd";
const DD_MNT: &str = "/run/liveinit-probe-dd";
const DD_COPY: &str = "/run/liveinit-probe-dd.copy";
/// Kernel parameter that turns on the timed `wget` (the download
/// benchmark; value: the URL, fetched over the network the init set up).
const WGET_PARAM: &str = "liveinit.probe.wget";
const WGET_COPY: &str = "/run/liveinit-probe-wget.copy";

fn main() {
    let pid = std::process::id();
    let mut notes = Vec::new();

    // /proc first (needed for everything else), then PID 1's fds before this
    // program opens anything, then make sure there is a console to print on.
    ensure_proc(&mut notes);
    // The benchmark's stop watch: read before anything else takes time.
    let uptime = fs::read_to_string("/proc/uptime");
    let fds = pid1_fds();
    ensure_stdio(&mut notes);
    let cmdline = fs::read_to_string("/proc/cmdline")
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("read /proc/cmdline: {e}"));
    let saved_loglevel = quiet_console();

    out(BEGIN);
    out(&format!("pid={pid}"));
    let argv: Vec<String> = std::env::args_os()
        .map(|a| escape(&a.to_string_lossy()))
        .collect();
    out(&format!("argv={}", argv.join(" ")));
    match &cmdline {
        Ok(c) => out(&format!("cmdline={c}")),
        Err(e) => out(&format!("error={e}")),
    }
    match uptime {
        Ok(u) => out(&format!(
            "uptime={}",
            u.split_whitespace().next().unwrap_or("?")
        )),
        Err(e) => out(&format!("error=read /proc/uptime: {e}")),
    }
    for n in &notes {
        out(&format!("note={n}"));
    }

    let mountinfo = fs::read_to_string("/proc/self/mountinfo");
    match &mountinfo {
        Ok(mi) => mi.lines().for_each(|l| out(&format!("mount={l}"))),
        Err(e) => out(&format!("error=read /proc/self/mountinfo: {e}")),
    }

    match write_test() {
        Ok(()) => out("root.write=ok"),
        Err(e) => out(&format!("root.write=error {e}")),
    }

    if let Ok(mi) = &mountinfo {
        let mounted = mi
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .any(|mp| mp == LIVE_DIR);
        out(&format!(
            "live.mounted={}",
            if mounted { "yes" } else { "no" }
        ));
    }
    let mut entries = Vec::new();
    list_tree(Path::new(LIVE_DIR), "", 0, &mut entries);
    entries.sort();
    for e in entries {
        out(&format!("live.entry={}", escape(&e)));
    }

    for line in run_entries() {
        out(&format!("run.entry={line}"));
    }
    for line in dev_entries() {
        out(&format!("dev.entry={line}"));
    }
    for line in dm_devices() {
        out(&format!("dm={line}"));
    }
    // Which kernel modules the initramfs loaded (the real init loads none
    // before this runs): `/proc/modules` starts each line with the name.
    match fs::read_to_string("/proc/modules") {
        Ok(text) => text
            .lines()
            .filter_map(|l| l.split(' ').next())
            .for_each(|name| out(&format!("module={name}"))),
        Err(e) => out(&format!("error=read /proc/modules: {e}")),
    }
    for line in loop_devices() {
        out(&format!("loop={line}"));
    }
    network_state();

    match fds {
        Ok(fds) => {
            for (n, target, kind) in fds {
                out(&format!("fd={n} {} {kind}", escape(&target)));
            }
        }
        Err(e) => out(&format!("error={e}")),
    }
    if let Some(value) = cmdline.as_ref().ok().and_then(|c| param(c, FILL_PARAM)) {
        match value.parse::<u64>() {
            Ok(limit) => fill_and_check(limit),
            Err(_) => out(&format!("error={FILL_PARAM}={value}: not a number of MiB")),
        }
    }
    if let Some(device) = cmdline.as_ref().ok().and_then(|c| param(c, EJECT_PARAM)) {
        read_root_without_disc(device);
    }
    if let Some(value) = cmdline.as_ref().ok().and_then(|c| param(c, DD_PARAM)) {
        after("dd", timed_dd(value));
    }
    if let Some(url) = cmdline.as_ref().ok().and_then(|c| param(c, WGET_PARAM)) {
        after("wget", timed_wget(url));
    }
    out(END);
    restore_console(saved_loglevel);
    let cut = cmdline
        .as_ref()
        .is_ok_and(|c| qemu_tests::persist::probe_side(c, &out));
    if cut {
        // The host cuts the power here; nothing is flushed after this.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }

    let demo_shell = cmdline
        .as_ref()
        .map(|c| c.split_whitespace().any(|w| w == "liveinit.demo.shell"))
        .unwrap_or(false);
    if demo_shell && Path::new("/bin/sh").exists() {
        run_shell();
    }
    power_off(pid);
}

/// What the initramfs left of the network: its state files, the local
/// addresses and routes the kernel has, the host name.
fn network_state() {
    if let Ok(dir) = fs::read_dir("/run/initramfs/net") {
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if let Ok(text) = fs::read_to_string(format!("/run/initramfs/net/{name}")) {
                let joined: Vec<&str> = text.lines().collect();
                out(&format!("net.state={name} {}", joined.join(";")));
            }
        }
    }
    // fib_trie: a `|-- a.b.c.d` line followed by `/32 host LOCAL`.
    if let Ok(trie) = fs::read_to_string("/proc/net/fib_trie") {
        let lines: Vec<&str> = trie.lines().collect();
        let mut seen = Vec::new();
        for pair in lines.windows(2) {
            if pair[1].contains("/32 host LOCAL") {
                if let Some(addr) = pair[0].trim().strip_prefix("|-- ") {
                    if !seen.contains(&addr) && !addr.starts_with("127.") {
                        seen.push(addr);
                        out(&format!("net.local={addr}"));
                    }
                }
            }
        }
    }
    if let Ok(routes) = fs::read_to_string("/proc/net/route") {
        for l in routes.lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() > 7 {
                out(&format!("net.route={} {} {} {}", f[0], f[1], f[2], f[7]));
            }
        }
    }
    if let Ok(dir) = fs::read_dir("/sys/class/net") {
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let attr = |a: &str| {
                fs::read_to_string(format!("/sys/class/net/{name}/{a}"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            out(&format!(
                "net.link={name} {} {}",
                attr("address"),
                attr("flags")
            ));
        }
    }
    if let Ok(h) = fs::read_to_string("/proc/sys/kernel/hostname") {
        out(&format!("net.hostname={}", h.trim()));
    }
    // IPv6 addresses (address index prefix scope flags name) and VLANs
    // (`name | id | parent`), as notes: the kernel's own view of them.
    for (file, tag) in [
        ("/proc/net/if_inet6", "inet6"),
        ("/proc/net/vlan/config", "vlan"),
    ] {
        if let Ok(text) = fs::read_to_string(file) {
            for l in text.lines() {
                out(&format!(
                    "note={tag} {}",
                    l.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
}

/// Waits (at most [`EJECT_WAIT`]) for the disc in `device` to be taken
/// out, then reads every file of the root from scratch.
fn read_root_without_disc(device: &str) {
    out(&format!("note={EJECT_MARKER} {device}"));
    after("disc_gone", wait_for_no_disc(device));
    after(
        "drop_caches",
        fs::write("/proc/sys/vm/drop_caches", "3").map(|()| "3".into()),
    );
    let mut totals = (0u64, 0u64);
    after(
        "read_root",
        read_tree(Path::new("/"), &mut totals)
            .map(|()| format!("{} files {} bytes", totals.0, totals.1)),
    );
}

/// Polls the drive's status (`CDROM_DRIVE_STATUS`) until it has no disc.
fn wait_for_no_disc(device: &str) -> std::io::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    const CDROM_DRIVE_STATUS: libc::Ioctl = 0x5326;
    const CDS_DISC_OK: libc::c_int = 4;
    let start = std::time::Instant::now();
    loop {
        let drive = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(device)?;
        // SAFETY: CDROM_DRIVE_STATUS takes an integer slot argument (none
        // here) and only returns a status code.
        let status = unsafe { libc::ioctl(drive.as_raw_fd(), CDROM_DRIVE_STATUS, 0) };
        drop(drive);
        if status >= 0 && status != CDS_DISC_OK {
            return Ok(format!(
                "status {status} after {} ms",
                start.elapsed().as_millis()
            ));
        }
        if start.elapsed() > EJECT_WAIT {
            return Err(std::io::Error::other(format!(
                "the disc is still there after {} s (status {status})",
                EJECT_WAIT.as_secs()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Reads every regular file under `dir` (not into the API filesystems or
/// `/run`), adding to `(files, bytes)`; the first failure names its file.
fn read_tree(dir: &Path, totals: &mut (u64, u64)) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if ["/proc", "/sys", "/dev", "/run"]
            .iter()
            .any(|p| path == Path::new(p))
        {
            continue;
        }
        let meta = fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            read_tree(&path, totals)?;
        } else if meta.is_file() {
            let bytes = fs::read(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            totals.0 += 1;
            totals.1 += bytes.len() as u64;
        }
    }
    Ok(())
}

/// The value of `key=value` on the command line (the last one wins).
fn param<'a>(cmdline: &'a str, key: &str) -> Option<&'a str> {
    cmdline
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .next_back()
}

/// Writes up to `limit_mib` MiB into [`FILL_FILE`] on `/`, 1 MiB at a time
/// with an fsync after each, and reports how far it got and the first
/// error; then checks the system still answers and repeats what the kernel
/// said about it.
fn fill_and_check(limit_mib: u64) {
    // Once the writable layer is full, reading more of this program from
    // `/` might fail: keep all of it in RAM from now on.
    // SAFETY: mlockall only changes how this process's pages are kept.
    let locked = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
    out(&format!("fill.limit_mib={limit_mib}"));
    if locked == 0 {
        out("fill.mlock=ok");
    } else {
        out(&format!(
            "fill.mlock=error {}",
            std::io::Error::last_os_error()
        ));
    }
    // The kernel's messages from now on: what it says about the fill.
    let kmsg = kmsg_from_now();
    let (written, stop) = fill(limit_mib);
    out(&format!("fill.written_mib={written}"));
    match stop {
        Ok(()) => out("fill.stop=limit"),
        Err((step, e)) => out(&format!(
            "fill.stop=error {step} {} {e}",
            e.raw_os_error().unwrap_or(0)
        )),
    }

    // Does the system still answer?
    after(
        "uptime",
        fs::read_to_string("/proc/uptime")
            .map(|u| u.split_whitespace().next().unwrap_or("?").to_string()),
    );
    after(
        "ls_root",
        fs::read_dir("/").and_then(|rd| {
            let mut names = Vec::new();
            for e in rd {
                names.push(e?.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            Ok(escape(&names.join(",")))
        }),
    );
    // Drop clean caches so the image file is read from the device again.
    after(
        "drop_caches",
        fs::write("/proc/sys/vm/drop_caches", "3").map(|()| "3".into()),
    );
    after(
        "read_image_file",
        fs::read(IMAGE_FILE).map(|b| format!("{IMAGE_FILE} {}", b.len())),
    );
    match kmsg.and_then(new_kernel_messages) {
        Ok((records, lines)) => {
            out(&format!("after.kmsg=ok {records}"));
            for l in lines {
                out(&format!("kmsg={l}"));
            }
        }
        Err(e) => out(&format!("after.kmsg=error {e}")),
    }
}

/// `after.<what>=ok <detail>` or `after.<what>=error <why>`.
fn after(what: &str, result: std::io::Result<String>) {
    match result {
        Ok(detail) => out(&format!("after.{what}=ok {detail}")),
        Err(e) => out(&format!("after.{what}=error {e}")),
    }
}

/// The MiB written and synced, and the step that failed with its error.
fn fill(limit_mib: u64) -> (u64, Result<(), (&'static str, std::io::Error)>) {
    let mut file = match fs::File::create(FILL_FILE) {
        Ok(f) => f,
        Err(e) => return (0, Err(("create", e))),
    };
    let mut chunk = vec![0u8; MIB];
    for n in 0..limit_mib {
        // Different bytes in every 4 KiB block, so nothing is shared.
        for (i, block) in chunk.chunks_mut(4096).enumerate() {
            let tag = format!("liveinit probe fill: MiB {n} block {i}\n");
            for (dst, src) in block.iter_mut().zip(tag.bytes().cycle()) {
                *dst = src;
            }
        }
        if let Err(e) = file.write_all(&chunk) {
            return (n, Err(("write", e)));
        }
        if let Err(e) = file.sync_all() {
            return (n, Err(("fsync", e)));
        }
    }
    (limit_mib, Ok(()))
}

/// `/dev/kmsg`, non-blocking, positioned after the last record so far.
fn kmsg_from_now() -> Result<fs::File, String> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    let mut kmsg = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .map_err(|e| format!("open /dev/kmsg: {e}"))?;
    kmsg.seek(SeekFrom::End(0))
        .map_err(|e| format!("seek to the end of /dev/kmsg: {e}"))?;
    Ok(kmsg)
}

/// Reads the kernel log records written since `kmsg` was opened, without
/// blocking: how many there were and the first [`KMSG_MAX_LINES`] (escaped).
fn new_kernel_messages(mut kmsg: fs::File) -> Result<(usize, Vec<String>), String> {
    let mut buf = vec![0u8; 8192];
    let (mut records, mut lines) = (0, Vec::new());
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                records += 1;
                // `prio,seq,usec,flags;text\n` then ` KEY=value` lines.
                let record = String::from_utf8_lossy(&buf[..n]);
                let text = record
                    .split_once(';')
                    .map(|(_, t)| t)
                    .unwrap_or(&record)
                    .lines()
                    .next()
                    .unwrap_or("");
                if lines.len() < KMSG_MAX_LINES {
                    lines.push(escape(text));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            // EPIPE: records were overwritten while reading; go on.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read /dev/kmsg: {e}")),
        }
    }
    Ok((records, lines))
}

/// Writes one line on stdout in one go (the console is shared with the kernel).
fn out(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(buf.as_bytes());
    let _ = stdout.flush();
}

fn ensure_proc(notes: &mut Vec<String>) {
    if Path::new("/proc/self").exists() {
        return;
    }
    let _ = fs::create_dir_all("/proc");
    match mount("proc", "/proc", "proc") {
        Ok(()) => notes.push("/proc was not mounted; the probe mounted it".into()),
        Err(e) => notes.push(format!("/proc was not mounted and mounting it failed: {e}")),
    }
}

fn mount(source: &str, target: &str, fstype: &str) -> Result<(), String> {
    let (Ok(s), Ok(t), Ok(f)) = (
        CString::new(source),
        CString::new(target),
        CString::new(fstype),
    ) else {
        return Err("NUL in argument".into());
    };
    // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, std::ptr::null()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

/// PID 1's open fds: number, link target, and what the fd refers to. The
/// directory listing opens an fd of its own; it is closed by the time the
/// links are read, so it drops out.
fn pid1_fds() -> Result<Vec<(u32, String, String)>, String> {
    let names: Vec<u32> = fs::read_dir("/proc/1/fd")
        .map_err(|e| format!("read /proc/1/fd: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut fds: Vec<(u32, String, String)> = names
        .into_iter()
        .filter_map(|n| {
            let link = format!("/proc/1/fd/{n}");
            let target = fs::read_link(&link).ok()?;
            // stat() follows the magic link to the open file itself, even if
            // its path was deleted.
            let kind = fs::metadata(&link)
                .map(|m| fd_kind(&m))
                .unwrap_or_else(|_| "?".into());
            Some((n, target.to_string_lossy().into_owned(), kind))
        })
        .collect();
    fds.sort();
    Ok(fds)
}

fn fd_kind(m: &fs::Metadata) -> String {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let (major, minor) = split_dev(m.rdev());
    let t = m.file_type();
    if t.is_char_device() {
        format!("chr:{major}:{minor}")
    } else if t.is_block_device() {
        format!("blk:{major}:{minor}")
    } else if t.is_file() {
        "file".into()
    } else if t.is_dir() {
        "dir".into()
    } else {
        "other".into()
    }
}

/// If fds 0–2 are not open, opens /dev/console for them so the report is seen.
fn ensure_stdio(notes: &mut Vec<String>) {
    // SAFETY: F_GETFD only queries the descriptor table.
    let missing: Vec<i32> = (0..3)
        .filter(|fd| unsafe { libc::fcntl(*fd, libc::F_GETFD) } == -1)
        .collect();
    if missing.is_empty() {
        return;
    }
    if !Path::new("/dev/console").exists() {
        let _ = mount("devtmpfs", "/dev", "devtmpfs");
    }
    let Ok(console) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")
    else {
        return;
    };
    use std::os::fd::AsRawFd;
    for fd in &missing {
        // SAFETY: dup2 onto a closed standard descriptor; `console` stays open
        // for the duration of the call.
        unsafe { libc::dup2(console.as_raw_fd(), *fd) };
    }
    notes.push(format!(
        "fds {missing:?} were not open; the probe opened /dev/console"
    ));
}

/// Lowers the console log level while the report is printed so kernel
/// messages do not cut report lines; returns the previous level.
fn quiet_console() -> Option<String> {
    let printk = fs::read_to_string("/proc/sys/kernel/printk").ok()?;
    let level = printk.split_whitespace().next()?.to_string();
    fs::write("/proc/sys/kernel/printk", "1").ok()?;
    Some(level)
}

fn restore_console(level: Option<String>) {
    if let Some(level) = level {
        let _ = fs::write("/proc/sys/kernel/printk", level);
    }
}

fn write_test() -> Result<(), String> {
    const DATA: &[u8] = b"liveinit probe write test\n";
    let mut f = fs::File::create(WRITE_TEST_FILE).map_err(|e| format!("create: {e}"))?;
    f.write_all(DATA).map_err(|e| format!("write: {e}"))?;
    f.sync_all().map_err(|e| format!("fsync: {e}"))?;
    drop(f);
    let mut back = Vec::new();
    fs::File::open(WRITE_TEST_FILE)
        .and_then(|mut f| f.read_to_end(&mut back))
        .map_err(|e| format!("read back: {e}"))?;
    if back != DATA {
        return Err(format!("read back {} bytes that differ", back.len()));
    }
    fs::remove_file(WRITE_TEST_FILE).map_err(|e| format!("remove: {e}"))
}

/// Relative paths below `dir` (directories end with `/`), bounded.
fn list_tree(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<String>) {
    if depth >= LIVE_MAX_DEPTH || out.len() >= LIVE_MAX_ENTRIES {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut children: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    children.sort_by_key(|e| e.file_name());
    for entry in children {
        if out.len() >= LIVE_MAX_ENTRIES {
            return;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            out.push(format!("{rel}/"));
            list_tree(&entry.path(), &format!("{rel}/"), depth + 1, out);
        } else {
            out.push(rel);
        }
    }
}

/// `/run` and `/run/initramfs` top-level entries plus the interesting paths.
fn run_entries() -> Vec<String> {
    let mut paths: Vec<String> = RUN_INTERESTING.iter().map(|s| s.to_string()).collect();
    for dir in ["/run", "/run/initramfs"] {
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                paths.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    describe_paths(paths)
}

/// `/dev/live-base` & co. and everything in `/dev/mapper`.
fn dev_entries() -> Vec<String> {
    let mut paths: Vec<String> = DEV_INTERESTING.iter().map(|s| s.to_string()).collect();
    if let Ok(rd) = fs::read_dir("/dev/mapper") {
        for e in rd.flatten() {
            paths.push(e.path().to_string_lossy().into_owned());
        }
    }
    describe_paths(paths)
}

/// `<path> <kind>` for each path, sorted, without duplicates.
fn describe_paths(mut paths: Vec<String>) -> Vec<String> {
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| format!("{} {}", escape(&p), path_kind(&p)))
        .collect()
}

/// What `path` is, without following a final symlink.
fn path_kind(path: &str) -> String {
    use std::os::unix::fs::FileTypeExt;
    match fs::symlink_metadata(path) {
        Err(_) => "missing".to_string(),
        Ok(m) if m.file_type().is_symlink() => match fs::read_link(path) {
            Ok(t) => format!("symlink {}", escape(&t.to_string_lossy())),
            Err(_) => "symlink ?".to_string(),
        },
        Ok(m) if m.is_dir() => "dir".to_string(),
        Ok(m) if m.is_file() => "file".to_string(),
        Ok(m) if m.file_type().is_block_device() => format!("block {}", dev_number(&m)),
        Ok(_) => "other".to_string(),
    }
}

/// `MAJ:MIN` of a device node.
fn dev_number(m: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    let (major, minor) = split_dev(m.rdev());
    format!("{major}:{minor}")
}

fn split_dev(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// Kernel names under /sys/block starting with `prefix`, sorted.
fn sys_block_names(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/sys/block")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A one-line sysfs attribute, trimmed (`?` if unreadable).
fn sys_attr(kname: &str, attr: &str) -> String {
    fs::read_to_string(format!("/sys/block/{kname}/{attr}"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// One line per device-mapper device: name, kernel name, dev, ro, size,
/// slaves, and what `/dev/mapper/<name>` is.
fn dm_devices() -> Vec<String> {
    use std::os::unix::fs::FileTypeExt;
    sys_block_names("dm-")
        .into_iter()
        .map(|kname| {
            let name = sys_attr(&kname, "dm/name");
            let mut slaves: Vec<String> = fs::read_dir(format!("/sys/block/{kname}/slaves"))
                .map(|rd| {
                    rd.flatten()
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            slaves.sort();
            // Follows a symlink, as `test -b` does (udev makes them links).
            let mapper = match fs::metadata(format!("/dev/mapper/{name}")) {
                Err(_) => "missing".to_string(),
                Ok(m) if m.file_type().is_block_device() => dev_number(&m),
                Ok(_) => "not-block".to_string(),
            };
            format!(
                "{} kname={kname} dev={} ro={} sectors={} slaves={} mapper={mapper}",
                escape(&name),
                sys_attr(&kname, "dev"),
                sys_attr(&kname, "ro"),
                sys_attr(&kname, "size"),
                slaves.join(","),
            )
        })
        .collect()
}

/// One line per bound loop device (those with a backing file).
fn loop_devices() -> Vec<String> {
    sys_block_names("loop")
        .into_iter()
        .filter_map(|kname| {
            let backing = fs::read_to_string(format!("/sys/block/{kname}/loop/backing_file"))
                .ok()?
                .trim_end_matches('\n')
                .to_string();
            Some(format!(
                "{kname} dev={} ro={} sectors={} backing={}",
                sys_attr(&kname, "dev"),
                sys_attr(&kname, "ro"),
                sys_attr(&kname, "size"),
                escape(&backing)
            ))
        })
        .collect()
}

/// Runs `/bin/sh` on the console's real tty (so it gets job control) and
/// waits for it.
fn run_shell() {
    out("probe: starting /bin/sh on the console; `exit` powers the machine off");
    let mut cmd = Command::new("/bin/sh");
    cmd.arg0("-sh")
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/")
        .env("TERM", "linux")
        .current_dir("/");
    if let Some(tty) = console_tty() {
        if let (Ok(a), Ok(b), Ok(c)) = (tty.try_clone(), tty.try_clone(), tty.try_clone()) {
            cmd.stdin(Stdio::from(a))
                .stdout(Stdio::from(b))
                .stderr(Stdio::from(c));
        }
    }
    // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    match cmd.spawn() {
        Ok(mut child) => {
            let _ = child.wait();
        }
        Err(e) => out(&format!("probe: cannot run /bin/sh: {e}")),
    }
}

/// The tty behind /dev/console (e.g. /dev/ttyS0): /dev/console itself cannot
/// be a controlling terminal.
fn console_tty() -> Option<fs::File> {
    let active = fs::read_to_string("/sys/class/tty/console/active").ok()?;
    let name = active.split_whitespace().last()?;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/dev/{name}"))
        .ok()
}

fn power_off(pid: u32) -> ! {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    if pid != 1 {
        // Never power off a machine the probe was merely run on by hand.
        out("probe: not PID 1, not powering off");
        std::process::exit(0);
    }
    // SAFETY: reboot(2) with a valid command; it only returns on failure.
    unsafe { libc::reboot(libc::RB_POWER_OFF) };
    out(&format!(
        "probe: power off failed: {}; exiting (the kernel will panic)",
        std::io::Error::last_os_error()
    ));
    std::process::exit(1);
}

/// `busybox wget -q -O /run/… <url>` into a tmpfs; returns `<bytes> <seconds>`.
fn timed_wget(url: &str) -> std::io::Result<String> {
    let start = std::time::Instant::now();
    let status = Command::new("/bin/busybox")
        .args(["wget", "-q", "-O", WGET_COPY, url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = fs::metadata(WGET_COPY).map(|m| m.len());
    let _ = fs::remove_file(WGET_COPY);
    if !status.success() {
        return Err(std::io::Error::other(format!("busybox wget: {status}")));
    }
    Ok(format!("{} {secs:.6}", bytes?))
}

/// `<device>:<path>`: mounts the device read-only (ISO 9660), drops the
/// page cache so the read starts cold as liveinit's did, then times
/// `dd if=<path> of=/run/… bs=1M`; returns `<bytes> <seconds>`.
fn timed_dd(value: &str) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let (device, path) = value.split_once(':').ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{DD_PARAM}={value}: expected <device>:<path>"),
        )
    })?;
    fs::create_dir_all(DD_MNT)?;
    let (Ok(s), Ok(t), Ok(f)) = (
        CString::new(device),
        CString::new(DD_MNT),
        CString::new("iso9660"),
    ) else {
        return Err(Error::new(ErrorKind::InvalidInput, "NUL in argument"));
    };
    // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            s.as_ptr(),
            t.as_ptr(),
            f.as_ptr(),
            libc::MS_RDONLY,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(Error::last_os_error());
    }
    // Twice, each from a cold cache: the second run shows how much two
    // reads of the same file differ in this VM, a gauge of the noise.
    let mut detail = String::new();
    for run in 0..2 {
        fs::write("/proc/sys/vm/drop_caches", "3")?;
        let start = std::time::Instant::now();
        let status = Command::new("/bin/dd")
            .arg(format!("if={DD_MNT}/{}", path.trim_start_matches('/')))
            .arg(format!("of={DD_COPY}"))
            .arg("bs=1M")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let secs = start.elapsed().as_secs_f64();
        let bytes = fs::metadata(DD_COPY).map(|m| m.len());
        let _ = fs::remove_file(DD_COPY);
        if !status.success() {
            return Err(Error::other(format!("/bin/dd: {status}")));
        }
        if run == 0 {
            detail = format!("{}", bytes?);
        }
        detail.push_str(&format!(" {secs:.6}"));
    }
    Ok(detail)
}
