//! memwatch: the benchmark's memory sampler. `cargo xtask bench` packs it
//! in front of an initramfs and boots with `rdinit=/memwatch`; it forks, the
//! parent (still PID 1) execs the initramfs's own `/init`, and the child
//! samples `/proc/meminfo` every [`SAMPLE_EVERY`] until PID 1's root
//! directory changes (the init switched root), then logs one kernel message:
//!
//! `memwatch: initramfs peak_kb=<N> start_kb=<N> total_kb=<N> samples=<N>`
//!
//! where "used" is `MemTotal - MemAvailable`: memory the system could not
//! hand out, i.e. what the kernel, the unpacked initramfs, the init and its
//! helpers, loaded modules and tmpfs contents hold (page cache that could be
//! dropped does not count). `peak_kb` is the highest sample while PID 1's
//! root was still the initramfs, `start_kb` the first one.
//!
//! It needs nothing from the initramfs it wraps and leaves nothing in it:
//! it mounts its own `proc` and makes its own `/dev/kmsg` node under
//! [`OWN_DIR`], opens what it reads, then detaches the mount and removes
//! the directory before the init under test gets far (so the init's
//! switch_root finds nothing of it to clean up). It must never stop the
//! boot: every failure of the sampler is logged (if it can be) and the
//! child exits.

use std::ffi::CString;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

/// Everything the sampler creates lives here, away from the init's paths.
const OWN_DIR: &str = "/.memwatch";
const PROC: &str = "/.memwatch/proc";
const KMSG: &str = "/.memwatch/kmsg";
/// Fine enough for steps that hold memory for a while (module loads,
/// mounts, unpacking); a spike shorter than this may be missed.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// Stop waiting for the root switch after this long (a failed boot).
const GIVE_UP_AFTER_SAMPLES: u32 = 60_000;

fn main() {
    // SAFETY: fork in a single-threaded process; the child only runs Rust
    // code that does not depend on locks held by other threads.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        sample_until_root_switch();
        std::process::exit(0);
    }
    // The parent (PID 1, or the fork failed): run the real initramfs init.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let err = Command::new("/init").arg0("/init").args(args).exec();
    let _ = writeln!(std::io::stderr(), "memwatch: cannot exec /init: {err}");
    std::process::exit(1);
}

/// What the sampler keeps open once its own directory is gone.
struct Handles {
    meminfo: fs::File,
    /// `/proc/1`, to stat PID 1's `root` link from.
    pid1: fs::File,
    kmsg: fs::File,
}

fn sample_until_root_switch() {
    // SAFETY: setsid and signal have no memory-safety preconditions; the
    // sampler leaves the console's session and ignores the signals an init
    // sends around at shutdown or hand-over.
    unsafe {
        libc::setsid();
        for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
    let opened = setup();
    clean_up();
    let mut h = match opened {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "memwatch: {e}");
            return;
        }
    };
    let Some(initramfs_root) = root_of(&h.pid1) else {
        let _ = h.kmsg.write_all(b"<4>memwatch: cannot stat PID 1's root\n");
        return;
    };
    let mut samples = 0u32;
    let (mut start, mut peak, mut total) = (None, 0u64, 0u64);
    while samples < GIVE_UP_AFTER_SAMPLES {
        if let Some((t, used)) = used_kb(&mut h.meminfo) {
            samples += 1;
            total = t;
            start.get_or_insert(used);
            peak = peak.max(used);
        }
        if root_of(&h.pid1).is_some_and(|root| root != initramfs_root) {
            let line = format!(
                "<6>memwatch: initramfs peak_kb={peak} start_kb={} total_kb={total} samples={samples}\n",
                start.unwrap_or(0)
            );
            let _ = h.kmsg.write_all(line.as_bytes());
            return;
        }
        sleep(SAMPLE_EVERY);
    }
    let _ = h
        .kmsg
        .write_all(b"<4>memwatch: PID 1 never switched root\n");
}

/// Mounts our own proc, makes our own kmsg node and opens what we read.
fn setup() -> Result<Handles, String> {
    fs::create_dir_all(PROC).map_err(|e| format!("mkdir {PROC}: {e}"))?;
    let (Ok(proc_path), Ok(kmsg_path), Ok(proc_type)) =
        (CString::new(PROC), CString::new(KMSG), CString::new("proc"))
    else {
        return Err("NUL in a path".into());
    };
    // SAFETY: valid NUL-terminated strings that outlive the calls.
    let mounted = unsafe {
        libc::mount(
            proc_type.as_ptr(),
            proc_path.as_ptr(),
            proc_type.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if mounted != 0 {
        return Err(format!(
            "mount proc on {PROC}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: as above; /dev/kmsg is character device 1:11.
    let made = unsafe {
        libc::mknod(
            kmsg_path.as_ptr(),
            libc::S_IFCHR | 0o600,
            libc::makedev(1, 11),
        )
    };
    if made != 0 {
        return Err(format!("mknod {KMSG}: {}", std::io::Error::last_os_error()));
    }
    let open = |path: &str| fs::File::open(path).map_err(|e| format!("open {path}: {e}"));
    Ok(Handles {
        meminfo: open(&format!("{PROC}/meminfo"))?,
        pid1: open(&format!("{PROC}/1"))?,
        kmsg: fs::OpenOptions::new()
            .write(true)
            .open(KMSG)
            .map_err(|e| format!("open {KMSG}: {e}"))?,
    })
}

/// Detaches our proc (open files keep working) and removes our directory.
fn clean_up() {
    if let Ok(proc_path) = CString::new(PROC) {
        // SAFETY: a valid NUL-terminated path.
        unsafe { libc::umount2(proc_path.as_ptr(), libc::MNT_DETACH) };
    }
    let _ = fs::remove_file(KMSG);
    let _ = fs::remove_dir(PROC);
    let _ = fs::remove_dir(OWN_DIR);
}

/// `(dev, ino)` of PID 1's root directory, through its `/proc/1` entry.
fn root_of(pid1: &fs::File) -> Option<(u64, u64)> {
    use std::os::fd::AsRawFd;
    let name = CString::new("root").ok()?;
    // SAFETY: an all-zero stat is a valid value for fstatat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid directory fd, a NUL-terminated name and a valid stat
    // buffer; following the magic link gives the root directory itself.
    let rc = unsafe { libc::fstatat(pid1.as_raw_fd(), name.as_ptr(), &mut st, 0) };
    (rc == 0).then_some((st.st_dev, st.st_ino))
}

/// `(MemTotal, MemTotal - MemAvailable)` in kB, re-read from the start.
fn used_kb(meminfo: &mut fs::File) -> Option<(u64, u64)> {
    meminfo.seek(SeekFrom::Start(0)).ok()?;
    let mut text = String::new();
    meminfo.read_to_string(&mut text).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:")?;
    Some((total, total.saturating_sub(available)))
}
