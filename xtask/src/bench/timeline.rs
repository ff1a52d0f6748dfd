//! Where a boot's time went, read from the kernel timestamps (`[  t]`) on
//! the serial console: milestones every peer shows (the kernel prints them
//! whatever the init), and liveinit's own steps from an `rd.debug` boot.
//! Every time is in seconds after the kernel's "Run /init".

/// The kernel's line when it starts the initramfs's init.
pub const RUN_INIT: &str = "Run /init as init process";
/// With `rdinit=/memwatch` the kernel names the sampler instead.
pub const RUN_MEMWATCH: &str = "Run /memwatch as init process";

const LIVEINIT: &str = "liveinit: ";
/// Debian's kernel has TOMOYO built in; at the first exec of `/sbin/init`
/// it checks for its policy loader and says so ("Not activating Mandatory
/// Access Control as /sbin/tomoyo-init does not exist."): a kernel-stamped
/// mark of the moment the real init is executed, whatever the initramfs.
const REAL_INIT_EXEC: &str = "/sbin/tomoyo-init";

/// `(timestamp, text after "] ")` of every kernel-stamped console line.
pub fn stamped_lines(log: &str) -> impl Iterator<Item = (f64, &str)> {
    log.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix('[')?;
        let (secs, text) = rest.split_once(']')?;
        Some((
            secs.trim().parse().ok()?,
            text.trim().trim_end_matches('\r'),
        ))
    })
}

/// The timestamp of the first stamped line containing `needle`.
pub fn first(log: &str, needle: &str) -> Option<f64> {
    stamped_lines(log).find_map(|(t, text)| text.contains(needle).then_some(t))
}

/// Kernel-visible milestones of one boot, after "Run /init".
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Milestones {
    /// The medium's block device is announced by its driver (`[sr0] …`).
    pub device_appears: Option<f64>,
    /// liveinit's "found the live medium" (the others do not say).
    pub medium_matched: Option<f64>,
    /// The image file on the medium is attached to `loop0`.
    pub image_attached: Option<f64>,
    /// The init says it switches root (liveinit, dracut; not the floor).
    pub root_switched: Option<f64>,
    /// The kernel executes `/sbin/init` (see [`REAL_INIT_EXEC`]).
    pub real_init_exec: Option<f64>,
}

impl Milestones {
    /// `device` is the medium's kernel name (`sr0`, `sda`, `vda`).
    pub fn read(log: &str, run_init: f64, device: &str) -> Milestones {
        let since = |t: Option<f64>| t.map(|t| t - run_init);
        let switched = stamped_lines(log).find_map(|(t, text)| {
            let lower = text.to_ascii_lowercase();
            (lower.starts_with("liveinit: switching root")
                || lower.starts_with("dracut: switching root"))
            .then_some(t)
        });
        Milestones {
            device_appears: since(first(log, &format!("[{device}]"))),
            medium_matched: since(first(log, "liveinit: found the live medium")),
            image_attached: since(first(log, "loop0: detected capacity change")),
            root_switched: since(switched),
            real_init_exec: since(first(log, REAL_INIT_EXEC)),
        }
    }
}

/// One step of liveinit's own log, and how long until the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: f64,
    pub took: f64,
    pub what: String,
}

/// One module load: liveinit logs "loaded X (N ms)" when it is done.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleLoad {
    pub name: String,
    pub start: f64,
    pub took_ms: f64,
}

/// liveinit's steps and module loads from an `rd.debug` boot (booted with
/// `loglevel=8`, so the kernel stamps its debug lines too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breakdown {
    pub steps: Vec<Step>,
    pub modules: Vec<ModuleLoad>,
}

/// Lines that are detail of the step before them, not steps of their own.
fn is_detail(message: &str) -> bool {
    const DETAIL: &[&str] = &["loaded ", "uevent ", "mkdir ", "symlink ", "write "];
    DETAIL.iter().any(|p| message.starts_with(p)) || message.contains(" wants ")
}

impl Breakdown {
    /// `device`: the medium's kernel name, whose first kernel line is a step
    /// ("device appears"); `real_init`: when the real init read its clock.
    pub fn read(log: &str, run_init: f64, device: &str, real_init: Option<f64>) -> Breakdown {
        let device_tag = format!("[{device}]");
        let mut events: Vec<(f64, String)> = Vec::new();
        let mut modules = Vec::new();
        let mut device_seen = false;
        for (t, text) in stamped_lines(log).filter(|(t, _)| *t >= run_init) {
            let at = t - run_init;
            if let Some(message) = text.strip_prefix(LIVEINIT) {
                if let Some(load) = module_load(message, at) {
                    modules.push(load);
                } else if !is_detail(message) {
                    events.push((at, message.to_string()));
                }
            } else if !device_seen && text.contains(&device_tag) {
                device_seen = true;
                events.push((at, format!("kernel: {device} appears")));
            } else if text.contains(REAL_INIT_EXEC) {
                events.push((at, "kernel: exec /sbin/init".to_string()));
            }
        }
        if let Some(t) = real_init {
            events.push((
                t - run_init,
                "the real init reads its clock (/proc/uptime: another clock, 10 ms steps)"
                    .to_string(),
            ));
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let steps = events
            .iter()
            .enumerate()
            .map(|(i, (at, what))| Step {
                at: *at,
                took: events.get(i + 1).map_or(0.0, |next| next.0 - at),
                what: what.clone(),
            })
            .collect();
        modules.sort_by(|a: &ModuleLoad, b| a.start.total_cmp(&b.start));
        Breakdown { steps, modules }
    }
}

/// "loaded NAME (N ms)" at `end` → the load, started N ms earlier.
fn module_load(message: &str, end: f64) -> Option<ModuleLoad> {
    let rest = message.strip_prefix("loaded ")?;
    let (name, tail) = rest.split_once(" (")?;
    let ms: f64 = tail.strip_suffix(" ms)")?.trim().parse().ok()?;
    if name.contains(' ') {
        return None; // "loaded 10 of 64 kernel modules in …": a summary
    }
    Some(ModuleLoad {
        name: name.to_string(),
        start: end - ms / 1000.0,
        took_ms: ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[    2.000000] Run /init as init process\r
[    2.100000] liveinit: liveinit 0.1.0 starting\r
[    2.200000] liveinit: looking for the live medium LABEL=X (up to 180 s, or 5 s without news)
[    2.300000] liveinit: loaded scsi_mod (50 ms)
[    2.400000] sr 0:0:0:0: [sr0] scsi3-mmc drive: 4x/4x cd/rw xa/form2 tray
[    2.450000] liveinit: uevent add sr0
[    2.500000] liveinit: found the live medium: sr0: iso9660 LABEL=\"X\"
[    2.510000] liveinit: mkdir /run/initramfs/live
[    2.600000] liveinit: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro)
[    2.700000] loop0: detected capacity change from 0 to 432
[    2.800000] liveinit: loaded 10 of 64 kernel modules in 738 ms
[    2.900000] liveinit: switching root to /sysroot
[    3.000000] liveinit: running /sbin/init
[    3.010000] Not activating Mandatory Access Control as /sbin/tomoyo-init does not exist.
";

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn milestones_after_run_init() {
        let run = first(LOG, RUN_INIT).unwrap();
        let m = Milestones::read(LOG, run, "sr0");
        assert!(close(m.device_appears, 0.4), "{m:?}");
        assert!(close(m.medium_matched, 0.5), "{m:?}");
        assert!(close(m.image_attached, 0.7), "{m:?}");
        assert!(close(m.root_switched, 0.9), "{m:?}");
        assert!(close(m.real_init_exec, 1.01), "{m:?}");
        let dracut = "[ 1.0] Run /init as init process\n[ 9.0] dracut: Switching root\n";
        assert!(close(
            Milestones::read(dracut, 1.0, "sr0").root_switched,
            8.0
        ));
    }

    #[test]
    fn breakdown_keeps_steps_and_module_loads() {
        let b = Breakdown::read(LOG, 2.0, "sr0", Some(3.1));
        let whats: Vec<&str> = b.steps.iter().map(|s| s.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "liveinit 0.1.0 starting",
                "looking for the live medium LABEL=X (up to 180 s, or 5 s without news)",
                "kernel: sr0 appears",
                "found the live medium: sr0: iso9660 LABEL=\"X\"",
                "mount /dev/sr0 -> /run/initramfs/live (iso9660, ro)",
                "switching root to /sysroot",
                "running /sbin/init",
                "kernel: exec /sbin/init",
                "the real init reads its clock (/proc/uptime: another clock, 10 ms steps)",
            ]
        );
        let mount = &b.steps[4];
        assert!((mount.at - 0.6).abs() < 1e-9 && (mount.took - 0.3).abs() < 1e-9);
        assert_eq!(b.steps.last().unwrap().took, 0.0);
        assert_eq!(b.modules.len(), 1);
        assert_eq!(b.modules[0].name, "scsi_mod");
        assert!((b.modules[0].start - 0.25).abs() < 1e-9);
    }
}
