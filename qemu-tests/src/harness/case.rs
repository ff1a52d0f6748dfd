//! One boot: what to boot ([`Case`]) and how it ended ([`Ended`]), with the
//! checks every boot gets whatever it tests.

use crate::qemu::{self, Arch, BootOutcome, Console, ConsoleStep, Drive, QemuConfig};
use crate::verdict::{self, Fatal};
use crate::{out_dir, report::ProbeReport};

use super::inputs::{self, Initramfs};
use super::probed::Probed;

/// One boot to run; its console goes to `target/qemu-tests/<name>.log`.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub initramfs: Initramfs,
    pub drives: Vec<Drive>,
    pub args: String,
    /// Typed into the console when their markers appear.
    pub steps: Vec<ConsoleStep>,
    /// The guest's RAM (QEMU's default config when `None`).
    pub memory_mb: Option<u32>,
    /// vCPUs (1 unless set).
    pub cpus: Option<u32>,
    /// A network card of this QEMU model (user networking), else none.
    pub nic: Option<&'static str>,
    /// A server (program and arguments) beside QEMU in its private network
    /// namespace, reached by the guest at 10.0.2.2 (unrestricted user
    /// networking: the namespace holds nothing but a loopback).
    pub server: Option<Vec<String>>,
    /// QEMU network arguments of a boot's own (several NICs, fixed MACs, a
    /// NIC on an empty hub); the boot still runs in a network namespace.
    pub net_args: Vec<String>,
    /// The machine (x86-64 unless set); arm64 boots its own kernel.
    pub arch: Arch,
    /// More QEMU arguments, as given (devices no [`Drive`] describes).
    pub qemu_args: Vec<String>,
}

impl Case {
    pub fn new(name: &str, drives: Vec<Drive>, args: &str) -> Case {
        Case {
            name: name.to_string(),
            initramfs: Initramfs::Plain,
            drives,
            args: args.to_string(),
            steps: Vec::new(),
            memory_mb: None,
            cpus: None,
            nic: None,
            server: None,
            net_args: Vec::new(),
            arch: Arch::X86_64,
            qemu_args: Vec::new(),
        }
    }

    /// Adds QEMU arguments as they are (e.g. a `-drive` with a block
    /// driver of its own).
    pub fn qemu_args(mut self, args: &[&str]) -> Case {
        self.qemu_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Boots on `arch`, with that machine's kernel ([`inputs::kernel_for`]).
    pub fn arch(mut self, arch: Arch) -> Case {
        self.arch = arch;
        self
    }

    /// Gives the machine a network card of QEMU model `model` (e.g. `e1000`).
    pub fn nic(mut self, model: &'static str) -> Case {
        self.nic = Some(model);
        self
    }

    /// Runs `server` beside the guest (see [`Case::server`]).
    pub fn server(mut self, server: Vec<String>) -> Case {
        self.server = Some(server);
        self
    }

    /// Gives the machine the network devices of these QEMU arguments
    /// (`-netdev …`, `-device …`), run like [`Case::nic`] in a network
    /// namespace of its own.
    pub fn net_args(mut self, args: &[&str]) -> Case {
        self.net_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Gives the guest `mb` MiB of RAM.
    pub fn memory(mut self, mb: u32) -> Case {
        self.memory_mb = Some(mb);
        self
    }

    /// Gives the guest `n` vCPUs.
    pub fn cpus(mut self, n: u32) -> Case {
        self.cpus = Some(n);
        self
    }

    pub fn initramfs(mut self, initramfs: Initramfs) -> Case {
        self.initramfs = initramfs;
        self
    }

    /// Types `input` into the console once `marker` has appeared (after
    /// the previous step's marker).
    pub fn type_after(mut self, marker: &str, input: &str) -> Case {
        self.steps.push(ConsoleStep::new(marker, input));
        self
    }

    /// Force-ejects the first CD from QEMU's monitor once `marker` has
    /// appeared (as pulling a disc out, or a BMC dropping its virtual CD).
    pub fn eject_cd_after(mut self, marker: &str) -> Case {
        self.steps.push(ConsoleStep::monitor(
            marker,
            &format!("eject -f {}", qemu::FIRST_CDROM_ID),
        ));
        self
    }

    /// Runs `command` in QEMU's monitor once `marker` has appeared (after
    /// the previous step's marker), e.g. `device_del <id>` to pull a device.
    pub fn monitor_after(mut self, marker: &str, command: &str) -> Case {
        self.steps.push(ConsoleStep::monitor(marker, command));
        self
    }

    pub fn config(&self) -> QemuConfig {
        let log = out_dir().join(format!("{}.log", self.name));
        let console = if self.steps.is_empty() {
            Console::Log(log.clone())
        } else {
            Console::Scripted {
                log: log.clone(),
                steps: self.steps.clone(),
            }
        };
        let mut cfg = self.drives.iter().cloned().fold(
            QemuConfig::new(inputs::kernel_for(self.arch), self.initramfs.path(), &log)
                .arch(self.arch)
                .append(&self.args)
                .console(console),
            QemuConfig::drive,
        );
        if let Some(mb) = self.memory_mb {
            cfg.memory_mb = mb;
        }
        if let Some(n) = self.cpus {
            cfg.smp = n;
        }
        cfg.extra_args.extend(self.qemu_args.iter().cloned());
        if let Some(model) = self.nic {
            cfg.network = true;
            // No option ROM: iPXE's ROMs are a package of their own, and
            // nothing here boots from the network.
            let restrict = if self.server.is_some() { "off" } else { "on" };
            cfg.netns_server = self.server.clone();
            cfg.extra_args.extend([
                "-netdev".into(),
                format!("user,id=net0,restrict={restrict}"),
                "-device".into(),
                format!("{model},netdev=net0,romfile="),
            ]);
        }
        if !self.net_args.is_empty() {
            cfg.network = true;
            cfg.extra_args.extend(self.net_args.iter().cloned());
        }
        cfg
    }

    /// Boots; panics on a timeout, a kernel panic, a guest that ran past
    /// [`verdict::GUEST_TIME_LIMIT_SECS`], or console input that could not
    /// be typed.
    pub fn boot(&self) -> Ended {
        let cfg = self.config();
        let name = &self.name;
        eprintln!("[{name}] booting: {}", cfg.cmdline());
        let out = match qemu::boot(&cfg) {
            Ok(out) => out,
            Err(e) => panic!("[{name}] {e:#}"),
        };
        eprintln!(
            "[{name}] QEMU exited after {:.1}s ({})",
            out.elapsed.as_secs_f64(),
            out.status
        );
        let ended = Ended {
            name: name.clone(),
            out,
        };
        match verdict::check_ended_cleanly(&ended.out.log) {
            Ok(guest) => eprintln!("[{name}] guest stopped at {guest:.1}s of uptime"),
            Err(why) => ended.fail(&why),
        }
        if let Some(missed) = self.steps.get(ended.out.steps_sent) {
            ended.fail(&format!(
                "only {} of the {} console inputs were typed: `{}` never appeared",
                ended.out.steps_sent,
                self.steps.len(),
                missed.wait_for
            ));
        }
        ended
    }

    /// Boots a case that must fail as `fatal` says ([`Fatal::check`]).
    pub fn boot_fatal_as(&self, fatal: &Fatal) -> Ended {
        let ended = self.boot();
        match fatal.check(&ended.out.log, ended.out.elapsed) {
            Ok(at) => eprintln!("[{}] {}", self.name, ended.lines()[at].trim()),
            Err(why) => ended.fail(&why),
        }
        ended
    }

    /// Boots a case that must fail with a FATAL line containing all of
    /// `needles`, then power off (the default `rd.emergency`).
    pub fn boot_fatal(&self, needles: &[&str]) -> Ended {
        self.boot_fatal_as(&Fatal::power_off(needles))
    }

    /// Boots a case that must reach the live root: the probe's report, with
    /// the probe as PID 1, no FATAL error, and the machine powered off.
    pub fn boot_probe(&self) -> Probed {
        let ended = self.boot();
        if let Err(why) = verdict::check_reached_probe(&ended.out.log) {
            ended.fail(&why);
        }
        let report = match ProbeReport::parse_log(&ended.out.log) {
            Ok(r) => r,
            Err(e) => ended.fail(&format!("{e:#}")),
        };
        let probed = Probed { ended, report };
        probed.log_timing();
        probed.check(
            probed.report.pid == Some(1),
            &format!("the probe is not PID 1 (pid {:?})", probed.report.pid),
        );
        probed
    }
}

/// A boot that ended by itself.
#[derive(Debug)]
pub struct Ended {
    pub name: String,
    pub out: BootOutcome,
}

impl Ended {
    /// Fails the test with `why`, the log's path and its last lines.
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "[{}] {why}\nlog: {}\nlast {} console lines:\n{}",
            self.name,
            self.out
                .log_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            qemu::TAIL_LINES,
            self.out.tail(qemu::TAIL_LINES)
        )
    }

    /// Fails the test with `what` unless `ok`.
    pub fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    /// The console lines without the serial console's `\r`.
    pub fn lines(&self) -> Vec<&str> {
        verdict::lines(&self.out.log)
    }

    /// Whether a console line contains all of `needles`.
    pub fn has_line(&self, needles: &[&str]) -> bool {
        verdict::find_line(&self.lines(), 0, needles).is_some()
    }
}
