//! Booting QEMU: always TCG (nested KVM hangs on the test machines), serial
//! console on stdio, `-no-reboot` + `panic=-1` so every ending of the guest
//! (power off, reboot, kernel panic) ends QEMU, and a hard timeout on top.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::tail;

pub const QEMU: &str = "qemu-system-x86_64";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Kernel arguments every boot gets, before the case's own.
/// `no_timer_check`: under TCG on a busy host the kernel's IO-APIC timer
/// check can miss its ticks and panic before `/init` ("IO-APIC + timer
/// doesn't work"), a fault of the emulation that says nothing of the init.
pub const BASE_APPEND: &str = "console=ttyS0 panic=-1 no_timer_check";
/// Lines of console shown when a boot times out.
pub const TAIL_LINES: usize = 40;

/// A disk attached to the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drive {
    /// An ISO on an IDE CD-ROM drive (read-only).
    Cdrom(PathBuf),
    /// A raw image on a virtio-blk disk.
    VirtioDisk { path: PathBuf, readonly: bool },
    /// A raw image on a USB mass-storage device (behind an xHCI controller).
    UsbDisk { path: PathBuf, readonly: bool },
    /// A raw image on a SCSI disk behind a virtio-scsi controller.
    VirtioScsiDisk(PathBuf),
    /// A raw image on a SATA disk behind an AHCI controller.
    AhciDisk(PathBuf),
    /// A raw image on an NVMe namespace.
    NvmeDisk { path: PathBuf, readonly: bool },
}

/// Where the serial console goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Console {
    /// Captured into this file (created/truncated).
    Log(PathBuf),
    /// Captured into `log` like [`Console::Log`], and typed into: each step
    /// waits until its marker appears in the console output (after the
    /// previous step's marker), then writes its input to the guest's serial
    /// console (QEMU's stdin).
    Scripted {
        log: PathBuf,
        steps: Vec<ConsoleStep>,
    },
    /// QEMU's stdio is ours: an interactive session.
    Inherit,
    /// Interactive like [`Console::Inherit`], and the output also copied
    /// into this file, to read after the boot (the demo's summary).
    Tee(PathBuf),
}

/// One scripted exchange on the guest's console: when `wait_for` shows up
/// in the output, type `send` (use `\n` for Enter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleStep {
    pub wait_for: String,
    pub send: String,
}

impl ConsoleStep {
    pub fn new(wait_for: &str, send: &str) -> Self {
        ConsoleStep {
            wait_for: wait_for.to_string(),
            send: send.to_string(),
        }
    }

    /// Runs `command` in QEMU's monitor when `wait_for` shows up: with
    /// `-nographic` the console and the monitor share stdio, and Ctrl-A c
    /// switches between them.
    pub fn monitor(wait_for: &str, command: &str) -> Self {
        ConsoleStep::new(wait_for, &format!("\x01c{command}\n\x01c"))
    }
}

/// The monitor's name for the IDE CD drive of a [`Drive::Cdrom`] that is
/// the first IDE drive (bus 0, unit 0).
pub const FIRST_CDROM_ID: &str = "ide0-cd0";

/// One boot.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Kernel arguments after [`BASE_APPEND`].
    pub append: String,
    pub drives: Vec<Drive>,
    pub memory_mb: u32,
    pub smp: u32,
    /// `None`: no limit (interactive demo only).
    pub timeout: Option<Duration>,
    pub console: Console,
    /// `false` (default): `-nic none`, no network card (and no iPXE ROM).
    pub network: bool,
    /// Appended verbatim to QEMU's arguments.
    pub extra_args: Vec<String>,
    /// A program (and its arguments) run beside QEMU in its network
    /// namespace, e.g. the image server; its stderr goes to
    /// `<console log>.server.log`.
    pub netns_server: Option<Vec<String>>,
}

/// Where the server beside QEMU writes its log.
pub fn server_log(cfg: &QemuConfig) -> PathBuf {
    let log = match &cfg.console {
        Console::Log(p) | Console::Tee(p) | Console::Scripted { log: p, .. } => p.clone(),
        Console::Inherit => PathBuf::from("/tmp/qemu-console.log"),
    };
    log.with_extension("server.log")
}

impl QemuConfig {
    /// A boot with the defaults (1 GiB, 1 CPU, 120 s timeout, no NIC) whose
    /// console is captured into `log`.
    pub fn new(kernel: &Path, initrd: &Path, log: &Path) -> Self {
        QemuConfig {
            kernel: kernel.to_path_buf(),
            initrd: initrd.to_path_buf(),
            append: String::new(),
            drives: Vec::new(),
            memory_mb: 1024,
            smp: 1,
            timeout: Some(DEFAULT_TIMEOUT),
            console: Console::Log(log.to_path_buf()),
            network: false,
            extra_args: Vec::new(),
            netns_server: None,
        }
    }

    /// Adds kernel arguments (space separated, quotes allowed).
    pub fn append(mut self, args: &str) -> Self {
        if !self.append.is_empty() && !args.is_empty() {
            self.append.push(' ');
        }
        self.append.push_str(args);
        self
    }

    pub fn drive(mut self, drive: Drive) -> Self {
        self.drives.push(drive);
        self
    }

    pub fn console(mut self, console: Console) -> Self {
        self.console = console;
        self
    }

    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The full kernel command line.
    pub fn cmdline(&self) -> String {
        if self.append.is_empty() {
            BASE_APPEND.to_string()
        } else {
            format!("{BASE_APPEND} {}", self.append)
        }
    }

    /// QEMU's arguments (without the program name).
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |s: &str| a.push(s.into());
        push("-machine");
        push("pc");
        push("-accel");
        push("tcg");
        push("-m");
        push(&self.memory_mb.to_string());
        push("-smp");
        push(&self.smp.to_string());
        push("-nographic");
        push("-no-reboot");
        if !self.network {
            push("-nic");
            push("none");
        }
        push("-kernel");
        a.push(self.kernel.clone().into());
        a.push("-initrd".into());
        a.push(self.initrd.clone().into());
        a.push("-append".into());
        a.push(self.cmdline().into());
        let (mut usb, mut scsi, mut ahci) = (false, false, false);
        for (i, d) in self.drives.iter().enumerate() {
            match d {
                Drive::Cdrom(p) => {
                    a.push("-drive".into());
                    a.push(drive_opt(p, "media=cdrom,if=ide,readonly=on"));
                }
                Drive::VirtioDisk { path, readonly } => {
                    a.push("-drive".into());
                    a.push(drive_opt(
                        path,
                        &format!("format=raw,if=virtio{}", ro(*readonly)),
                    ));
                }
                Drive::UsbDisk { path, readonly } => {
                    if !usb {
                        a.push("-device".into());
                        a.push("qemu-xhci,id=xhci".into());
                        usb = true;
                    }
                    a.push("-drive".into());
                    a.push(drive_opt(
                        path,
                        &format!("format=raw,if=none,id=usbdisk{i}{}", ro(*readonly)),
                    ));
                    a.push("-device".into());
                    a.push(format!("usb-storage,bus=xhci.0,drive=usbdisk{i}").into());
                }
                Drive::VirtioScsiDisk(path) => {
                    if !scsi {
                        a.push("-device".into());
                        a.push("virtio-scsi-pci,id=scsi".into());
                        scsi = true;
                    }
                    a.push("-drive".into());
                    a.push(drive_opt(
                        path,
                        &format!("format=raw,if=none,id=scsidisk{i},readonly=on"),
                    ));
                    a.push("-device".into());
                    a.push(format!("scsi-hd,bus=scsi.0,drive=scsidisk{i}").into());
                }
                Drive::AhciDisk(path) => {
                    if !ahci {
                        a.push("-device".into());
                        a.push("ahci,id=ahci".into());
                        ahci = true;
                    }
                    a.push("-drive".into());
                    a.push(drive_opt(
                        path,
                        // ide-hd refuses read-only backends; snapshot=on keeps
                        // the shared image untouched all the same.
                        &format!("format=raw,if=none,id=sata{i},snapshot=on"),
                    ));
                    a.push("-device".into());
                    a.push(format!("ide-hd,bus=ahci.0,drive=sata{i}").into());
                }
                Drive::NvmeDisk { path, readonly } => {
                    a.push("-drive".into());
                    a.push(drive_opt(
                        path,
                        &format!("format=raw,if=none,id=nvme{i}{}", ro(*readonly)),
                    ));
                    a.push("-device".into());
                    a.push(format!("nvme,drive=nvme{i},serial=liveinit{i}").into());
                }
            }
        }
        a.extend(self.extra_args.iter().map(OsString::from));
        a
    }
}

fn ro(readonly: bool) -> &'static str {
    if readonly {
        ",readonly=on"
    } else {
        ""
    }
}

/// `file=<path>,<opts>` with QEMU's comma escaping (`,` → `,,`).
fn drive_opt(path: &Path, opts: &str) -> OsString {
    let p = path.to_string_lossy().replace(',', ",,");
    format!("file={p},{opts}").into()
}

/// How a boot ended (it ended by itself: timeouts are errors).
#[derive(Debug, Clone)]
pub struct BootOutcome {
    /// The console output (empty for [`Console::Inherit`]).
    pub log: String,
    pub log_path: Option<PathBuf>,
    pub status: ExitStatus,
    pub elapsed: Duration,
    /// How many steps of a [`Console::Scripted`] console were typed.
    pub steps_sent: usize,
}

impl BootOutcome {
    /// The last `n` lines of the console.
    pub fn tail(&self, n: usize) -> String {
        tail(&self.log, n)
    }
}

/// Boots and waits. If the timeout passes, QEMU is killed and the error
/// carries the last [`TAIL_LINES`] lines of the console.
pub fn boot(cfg: &QemuConfig) -> Result<BootOutcome> {
    // A guest with a network card runs in a network namespace of its own,
    // with only a loopback: no packet of a test can leave this machine.
    // (`unshare -n` execs QEMU in place, so killing it kills QEMU.)
    let mut cmd = if let (true, Some(server)) = (cfg.network, &cfg.netns_server) {
        // A server beside QEMU in the same namespace: loopback up, the
        // server started in the background, then the shell becomes QEMU
        // (so the server's parent is QEMU, and it exits with it).
        let quoted: Vec<String> = server.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "ip link set lo up || exit 1; {} 2>>'{}' & exec \"$@\"",
            quoted.join(" "),
            server_log(cfg).display()
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "--", "sh", "-c", &script, "sh", QEMU]);
        cmd
    } else if cfg.network {
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "--", QEMU]);
        cmd
    } else {
        Command::new(QEMU)
    };
    cmd.args(cfg.args());
    let (log_path, steps): (Option<PathBuf>, &[ConsoleStep]) = match &cfg.console {
        Console::Log(path) => {
            capture_into(&mut cmd, path)?;
            cmd.stdin(Stdio::null());
            (Some(path.clone()), &[])
        }
        Console::Scripted { log, steps } => {
            capture_into(&mut cmd, log)?;
            cmd.stdin(Stdio::piped());
            (Some(log.clone()), steps)
        }
        Console::Inherit => (None, &[]),
        Console::Tee(path) => {
            cmd.stdout(Stdio::piped());
            (Some(path.clone()), &[])
        }
    };
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {QEMU} (is qemu-system-x86 installed?)"))?;
    // Kept open until QEMU exits: EOF on the serial console is not an input.
    let mut stdin = child.stdin.take();
    let tee = match (&cfg.console, child.stdout.take()) {
        (Console::Tee(path), Some(out)) => Some(tee_thread(out, path)?),
        _ => None,
    };
    let mut typist = Typist::default();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let (Some(path), Some(input)) = (&log_path, stdin.as_mut()) {
            typist.advance(steps, path, input);
        }
        if let Some(limit) = cfg.timeout {
            if start.elapsed() >= limit {
                let _ = child.kill();
                let _ = child.wait();
                let log = read_log(log_path.as_deref());
                bail!(
                    "QEMU timed out after {}s and was killed{}; last {TAIL_LINES} console lines:\n{}",
                    limit.as_secs(),
                    log_path
                        .as_ref()
                        .map(|p| format!(" (full log: {})", p.display()))
                        .unwrap_or_default(),
                    tail(&log, TAIL_LINES)
                );
            }
        }
        thread::sleep(Duration::from_millis(100));
    };
    let elapsed = start.elapsed();
    drop(stdin);
    if let Some(tee) = tee {
        // It ends at EOF, which QEMU's exit has just given it.
        let _ = tee.join();
    }
    Ok(BootOutcome {
        log: read_log(log_path.as_deref()),
        log_path,
        status,
        elapsed,
        steps_sent: typist.next,
    })
}

/// Copies QEMU's output to our stdout and into `path` as it comes.
fn tee_thread(mut from: std::process::ChildStdout, path: &Path) -> Result<thread::JoinHandle<()>> {
    use std::io::Read;
    let mut file = File::create(path).with_context(|| format!("create {}", path.display()))?;
    Ok(thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdout = std::io::stdout();
        while let Ok(n @ 1..) = from.read(&mut buf) {
            let _ = stdout.write_all(&buf[..n]).and_then(|()| stdout.flush());
            let _ = file.write_all(&buf[..n]);
        }
    }))
}

/// Sends QEMU's stdout and stderr into `path` (created or truncated).
fn capture_into(cmd: &mut Command, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let f = File::create(path).with_context(|| format!("create {}", path.display()))?;
    cmd.stdout(f.try_clone()?).stderr(f);
    Ok(())
}

/// Where a scripted console is: the next step, and how far the output has
/// been searched for its marker.
#[derive(Debug, Default)]
struct Typist {
    next: usize,
    searched: usize,
}

impl Typist {
    /// Types every step whose marker has appeared since the last one.
    fn advance(&mut self, steps: &[ConsoleStep], log: &Path, input: &mut impl Write) {
        let Some(step) = steps.get(self.next) else {
            return;
        };
        let Ok(output) = fs::read(log) else { return };
        let Some(at) = find_from(&output, self.searched, step.wait_for.as_bytes()) else {
            // The marker may be half written: search its length back next time.
            self.searched = self
                .searched
                .max(output.len().saturating_sub(step.wait_for.len()));
            return;
        };
        // A failed write means QEMU is going away; its exit ends the boot.
        let _ = input
            .write_all(step.send.as_bytes())
            .and_then(|()| input.flush());
        self.next += 1;
        self.searched = at + step.wait_for.len();
        self.advance(steps, log, input);
    }
}

/// The position of `needle` in `hay` at or after `from`.
fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The last kernel timestamp (`[   12.345678] …`) in a console log: the
/// guest's uptime when it stopped printing (e.g. at `reboot: Power down`).
pub fn last_kernel_timestamp(log: &str) -> Option<f64> {
    log.lines().rev().find_map(kernel_timestamp)
}

/// The kernel timestamp of the first console line containing `needle`
/// (e.g. `Run /init as init process`).
pub fn kernel_timestamp_of(log: &str, needle: &str) -> Option<f64> {
    log.lines()
        .filter(|l| l.contains(needle))
        .find_map(kernel_timestamp)
}

fn kernel_timestamp(line: &str) -> Option<f64> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (secs, _) = rest.split_once(']')?;
    secs.trim().parse().ok()
}

fn read_log(path: Option<&Path>) -> String {
    path.and_then(|p| fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_shape() {
        let cfg = QemuConfig::new(Path::new("/k"), Path::new("/i"), Path::new("/l"))
            .append("root=\"live:CDLABEL=My Live Disk\"")
            .drive(Drive::Cdrom("/m/a,b.iso".into()))
            .drive(Drive::VirtioDisk {
                path: "/d.img".into(),
                readonly: true,
            });
        let args: Vec<String> = cfg
            .args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        let joined = args.join(" ");
        assert!(joined.starts_with("-machine pc -accel tcg -m 1024 -smp 1 -nographic -no-reboot"));
        let i = args.iter().position(|a| a == "-append").unwrap();
        assert_eq!(
            args[i + 1],
            "console=ttyS0 panic=-1 no_timer_check root=\"live:CDLABEL=My Live Disk\""
        );
        assert!(args.contains(&"file=/m/a,,b.iso,media=cdrom,if=ide,readonly=on".to_string()));
        assert!(args.contains(&"file=/d.img,format=raw,if=virtio,readonly=on".to_string()));
        assert!(!joined.contains("kvm"));
    }

    #[test]
    fn typist_waits_for_each_marker_in_order() {
        let dir = crate::out_dir().join("unit").join("typist");
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("console.log");
        let steps = [
            ConsoleStep::new("login:", "root\n"),
            ConsoleStep::new("# ", "exit\n"),
        ];
        let mut typist = Typist::default();
        let mut typed = Vec::new();
        fs::write(&log, "booting # \nlog").unwrap();
        typist.advance(&steps, &log, &mut typed);
        assert_eq!((typist.next, typed.as_slice()), (0, &b""[..]));
        // The second marker before the first one does not count.
        fs::write(&log, "booting # \nlogin: ").unwrap();
        typist.advance(&steps, &log, &mut typed);
        assert_eq!((typist.next, typed.as_slice()), (1, &b"root\n"[..]));
        fs::write(&log, "booting # \nlogin: root\n# ").unwrap();
        typist.advance(&steps, &log, &mut typed);
        assert_eq!((typist.next, typed.as_slice()), (2, &b"root\nexit\n"[..]));
        typist.advance(&steps, &log, &mut typed);
        assert_eq!(typist.next, 2);
    }

    #[test]
    fn find_from_bounds() {
        assert_eq!(find_from(b"abcabc", 0, b"bc"), Some(1));
        assert_eq!(find_from(b"abcabc", 2, b"bc"), Some(4));
        assert_eq!(find_from(b"abcabc", 5, b"bc"), None);
        assert_eq!(find_from(b"abc", 9, b"bc"), None);
    }

    #[test]
    fn kernel_timestamps() {
        let log = "[    1.000000] a\r\nPROBE-END\r\n[   19.702582] reboot: Power down\r\nx\n";
        assert_eq!(last_kernel_timestamp(log), Some(19.702582));
        assert_eq!(last_kernel_timestamp("no kernel here"), None);
        assert_eq!(kernel_timestamp_of(log, "] a"), Some(1.0));
        assert_eq!(kernel_timestamp_of(log, "PROBE"), None);
    }

    #[test]
    fn usb_disks_share_one_controller() {
        let cfg = QemuConfig::new(Path::new("/k"), Path::new("/i"), Path::new("/l"))
            .drive(Drive::UsbDisk {
                path: "/a".into(),
                readonly: false,
            })
            .drive(Drive::UsbDisk {
                path: "/b".into(),
                readonly: false,
            });
        let n = cfg
            .args()
            .iter()
            .filter(|a| a.to_str() == Some("qemu-xhci,id=xhci"))
            .count();
        assert_eq!(n, 1);
    }
}
