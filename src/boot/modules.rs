//! Loading the kernel modules packed into the initramfs, by need.
//!
//! `cargo xtask initramfs` writes, next to the modules:
//! - [`ALIASES`]: the `alias <pattern> <module>` lines of every packed
//!   module (from its `.modinfo`), i.e. the kernel's `modules.alias`
//!   trimmed to what is packed;
//! - [`DEPS`]: per packed module, in load order, everything it needs
//!   loaded first (`modules.dep` style, absolute paths);
//! - [`LOAD_LIST`]: modules an image builder wants loaded on every boot
//!   (empty unless they add some), loaded in the background.
//!
//! Two kinds of need start a load:
//! - a device whose driver is packed: discovery hands every `MODALIAS` it
//!   sees (coldplug or uevent) to [`Loader::device`];
//! - a boot step the kernel would ask `modprobe` for (a filesystem, the
//!   loop driver, a device-mapper target; see `plan::kernel`): the
//!   executor calls [`Loader::request`] for a whole phase of steps, so its
//!   modules load side by side, then [`Loader::wait_for`] before each step.
//!
//! Besides, while discovery waits for the hardware, the modules the
//! command line says the steps will most likely ask for (loop, squashfs,
//! overlayfs: `plan::kernel::likely_requests`) load at idle priority. No
//! wait is ever for more than what the next step asks: a filesystem or
//! block layer this boot does not use is never waited for. Every module
//! loads once, after its dependencies, on a few workers
//! (`kmod::LoadQueue`), what a step waits for first.
//!
//! An initramfs without the alias table (made before it existed) lists
//! every module in [`LOAD_LIST`]: they are all loaded, one after the other,
//! and a step waits for all of them.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::{BTreeMap, BTreeSet};
use core::time::Duration;

use log::{debug, info, warn};

use super::error::errno_text;
use crate::config::LiveConfig;
use crate::kmod::{module_name, AliasTable, DepTable, LoadQueue, Priority};
use crate::plan::kernel::likely_requests;
use crate::sys::{Errno, Sys, SysResult};

/// `alias <pattern> <module>` lines of the packed modules.
pub use crate::contract::MODULES_ALIAS as ALIASES;
/// `path: dependency-path …` per packed module, in load order.
pub use crate::contract::MODULES_DEP as DEPS;
/// Modules every boot loads, in load order: one absolute path per line.
pub use crate::contract::MODULES_LOAD as LOAD_LIST;

/// Loads that may run at once (`finit_module` blocks while the driver
/// probes its bus, so independent modules overlap); the real system has as
/// many workers.
const PARALLEL: usize = 4;
/// Modules that drive USB mass storage: once one is wanted, USB sticks may
/// still be settling, and discovery waits longer.
const USB_STORAGE: &[&str] = &["usb_storage", "uas"];
/// USB host controller drivers (module names): a stick behind one shows up
/// only once the controller's ports are scanned, after the load returned.
const USB_HOSTS: &[&str] = &[
    "xhci_pci",
    "xhci_hcd",
    "xhci_plat_hcd",
    "ehci_pci",
    "ehci_hcd",
    "ehci_platform",
    "ohci_pci",
    "ohci_hcd",
    "uhci_hcd",
];
/// How often a wait for a slow module says so.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The packed modules and what has been done with them.
pub struct Loader {
    aliases: AliasTable,
    queue: LoadQueue,
    /// Loaded on every boot, in the background.
    listed: Vec<String>,
    /// Kernel requests the boot steps will most likely make.
    likely: Vec<String>,
    /// MODALIAS values already looked up.
    modaliases: BTreeSet<String>,
    /// Start times of the loads in flight, by path.
    started: BTreeMap<String, Duration>,
    /// Why loads failed, by module name.
    errors: BTreeMap<String, Errno>,
    first_start: Option<Duration>,
    last_finish: Duration,
    usb_storage: bool,
    /// When a USB host controller's driver last finished loading.
    usb_host_loaded: Option<Duration>,
    /// The longest a wait for modules may take (`rd.retry`).
    patience: Duration,
    /// Device events that came while a step waited for its modules, for
    /// discovery to take in ([`Loader::take_held`]): a disc drive that
    /// appears while another device is being looked into is not lost.
    held: Vec<super::events::DeviceNews>,
}

/// More held device events than this are replaced by one "events lost",
/// after which discovery looks at `/sys` again.
const MAX_HELD: usize = 64;

impl Loader {
    /// Reads the tables (nothing is loaded yet).
    pub fn open(sys: &impl Sys, cfg: &LiveConfig) -> Loader {
        let list = read_text(sys, LOAD_LIST);
        let table = match read_text(sys, DEPS) {
            Some(deps) => DepTable::parse(&deps),
            None => DepTable::chain(list.as_deref().unwrap_or_default()),
        };
        let aliases = AliasTable::parse(&read_text(sys, ALIASES).unwrap_or_default());
        let listed: Vec<String> = list
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(module_name)
            .collect();
        if table.is_empty() {
            info!("no kernel modules in the initramfs: relying on built-in drivers");
        } else {
            debug!(
                "{} kernel modules packed, {} aliases, {} loaded on every boot",
                table.len(),
                aliases.len(),
                listed.len()
            );
        }
        Loader {
            aliases,
            queue: LoadQueue::new(table, PARALLEL),
            listed,
            likely: likely_requests(cfg),
            modaliases: BTreeSet::new(),
            started: BTreeMap::new(),
            errors: BTreeMap::new(),
            first_start: None,
            last_finish: Duration::ZERO,
            usb_storage: false,
            usb_host_loaded: None,
            patience: Duration::from_secs(cfg.retry_secs.into()),
            held: Vec::new(),
        }
    }

    /// The device events held by module waits since the last call.
    pub fn take_held(&mut self) -> Vec<super::events::DeviceNews> {
        core::mem::take(&mut self.held)
    }

    /// Starts loading, in the background, the modules listed for every
    /// boot and those the boot steps will most likely ask for. Call it
    /// after the drivers of the devices there have been asked for, so
    /// they go first.
    ///
    /// Background loads run at the lowest CPU priority; one a device
    /// driver may need too (`cdrom`, for `sr_mod` and `isofs`) is loaded
    /// at the drivers' priority instead, or the driver would wait for it.
    pub fn start_background(&mut self, sys: &impl Sys) {
        let likely = self.likely.iter().flat_map(|r| self.resolve(r));
        let background: Vec<String> = self.listed.iter().cloned().chain(likely).collect();
        let table = self.queue.table();
        let closure = |names: &mut dyn Iterator<Item = &str>| -> BTreeSet<String> {
            names
                .flat_map(|name| table.closure(name))
                .map(|m| m.name.clone())
                .collect()
        };
        let in_background = closure(&mut background.iter().map(String::as_str));
        let drivers_need = closure(
            &mut table
                .iter()
                .map(|m| m.name.as_str())
                .filter(|name| !in_background.contains(*name)),
        );
        let shared: Vec<&String> = in_background.intersection(&drivers_need).collect();
        for name in &background {
            self.queue.want(name, Priority::Stack);
        }
        for name in shared {
            self.queue.want(name, Priority::Device);
        }
        self.pump(sys);
    }

    /// A device is there whose driver would be matched by `modalias`:
    /// wants the modules whose aliases match (each MODALIAS is looked up
    /// once). Call [`Loader::pump`] to start them.
    pub fn device(&mut self, modalias: &str) {
        let modalias = modalias.trim();
        if modalias.is_empty() || !self.modaliases.insert(modalias.to_owned()) {
            return;
        }
        let modules: Vec<String> = self
            .aliases
            .modules_for(modalias)
            .into_iter()
            .map(str::to_owned)
            .collect();
        for name in modules {
            if USB_STORAGE.contains(&name.as_str()) {
                self.usb_storage = true;
            }
            let added = self.queue.want(&name, Priority::Device);
            if !added.is_empty() {
                debug!("{modalias} wants {}", added.join(" "));
            }
        }
    }

    /// The modules answering a kernel request, as `modprobe` resolves it:
    /// the module of that name, else those whose alias matches. None: the
    /// kernel has it built in (or nobody packed it; the step will say).
    fn resolve(&self, request: &str) -> Vec<String> {
        if let Some(module) = self.queue.table().get(request) {
            return vec![module.name.clone()];
        }
        self.aliases
            .modules_for(request)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Whether a module answering `request` is still queued or loading
    /// (for waits that already pump the loader, like the NIC wait).
    pub fn loading(&self, request: &str) -> bool {
        self.resolve(request).iter().any(|n| self.queue.pending(n))
    }

    /// Whether a packed module answers a kernel request.
    pub fn can_answer(&self, request: &str) -> bool {
        !self.resolve(request).is_empty()
    }

    /// Boot steps coming up will make these kernel requests (`fs-squashfs`,
    /// `loop`, `dm-snapshot`): starts their modules now, ahead of
    /// everything else, side by side.
    pub fn request(&mut self, sys: &impl Sys, requests: &[String]) {
        for request in requests {
            for name in self.resolve(request) {
                let added = self.queue.want(&name, Priority::Needed);
                if !added.is_empty() {
                    debug!("{request} wants {}", added.join(" "));
                }
            }
        }
        self.pump(sys);
    }

    /// Waits until the modules answering `requests` (asked for with
    /// [`Loader::request`]) and their dependencies have loaded or failed,
    /// for at most `rd.retry`; returns those that failed, with why, for the
    /// step's error should it fail.
    pub fn wait_for(&mut self, sys: &impl Sys, requests: &[String]) -> Vec<String> {
        let names: Vec<String> = requests.iter().flat_map(|r| self.resolve(r)).collect();
        if names.is_empty() && self.aliases.is_empty() {
            // An initramfs without an alias table cannot say what answers
            // a request: everything it lists must be there.
            self.wait_until(sys, "every listed module", |l| !l.queue.busy());
        } else {
            let what = names.join(" ");
            self.wait_until(sys, &what, |l| !names.iter().any(|n| l.queue.pending(n)));
        }
        let mut failed: Vec<String> = Vec::new();
        for name in &names {
            for module in self.queue.failures(name) {
                let why = self
                    .errors
                    .get(module)
                    .map_or(String::new(), |e| format!(": {}", errno_text(*e)));
                let line = format!("{module}{why}");
                if !failed.contains(&line) {
                    failed.push(line);
                }
            }
        }
        failed
    }

    /// Before the switch: takes in the loads that have finished, says what
    /// was loaded, and names the loads still running. Those are not waited
    /// for: each runs in a child process that the real init inherits, so
    /// the exec does not depend on a driver that hangs in its probe (and
    /// nothing the root needs is among them: every step waited for its
    /// own modules). Loads not started yet are left to the real system.
    pub fn settle(&mut self, sys: &impl Sys) {
        super::events::wait(sys, self, Duration::ZERO);
        self.report();
        let now = sys.now();
        let running: Vec<String> = self
            .started
            .iter()
            .map(|(path, at)| {
                let secs = now.saturating_sub(*at).as_secs();
                format!("{} ({secs} s)", module_name(path))
            })
            .collect();
        if !running.is_empty() {
            warn!(
                "kernel modules still loading are left to finish under the real init: {}",
                running.join(", ")
            );
        }
    }

    /// Handles module events until `done`, with a line every few seconds
    /// and a warning if `rd.retry` runs out first.
    fn wait_until(&mut self, sys: &impl Sys, what: &str, done: impl Fn(&Loader) -> bool) {
        let start = sys.now();
        let deadline = start.checked_add(self.patience).unwrap_or(Duration::MAX);
        let mut next_progress = start.saturating_add(PROGRESS_EVERY);
        while !done(self) {
            let now = sys.now();
            if now >= deadline {
                warn!(
                    "kernel modules ({what}) are still loading after {} s (rd.retry=); going on",
                    self.patience.as_secs()
                );
                return;
            }
            if now >= next_progress {
                info!(
                    "waiting for kernel modules to load: {what} ({} s)",
                    now.saturating_sub(start).as_secs()
                );
                next_progress = now.saturating_add(PROGRESS_EVERY);
            }
            let wake = deadline.min(next_progress);
            let happened = super::events::wait(sys, self, wake.saturating_sub(now));
            // Discovery may be listening (a step inside its search): keep
            // what it would have handled.
            self.held.extend(happened.devices);
            if self.held.len() > MAX_HELD {
                self.held = Vec::from([super::events::DeviceNews::Lost]);
            }
        }
    }

    /// Starts every module that may start now.
    pub fn pump(&mut self, sys: &impl Sys) {
        while let Some((module, priority)) = self.queue.start_next() {
            let now = sys.now();
            self.first_start.get_or_insert(now);
            self.started.insert(module.path.clone(), now);
            sys.start_module_load(&module.path, priority == Priority::Stack);
        }
    }

    /// A load started by [`Loader::pump`] is over: logs it and starts what
    /// was waiting for it. A failure is reported, never fatal.
    pub fn finished(&mut self, sys: &impl Sys, path: &str, result: SysResult<()>) {
        let took = self
            .started
            .remove(path)
            .map(|at| sys.now().saturating_sub(at).as_millis())
            .unwrap_or_default();
        let Some(name) = self.queue.finished(path, result.is_ok()) else {
            return;
        };
        let name = name.to_owned();
        self.last_finish = sys.now();
        if result.is_ok() && USB_HOSTS.contains(&name.as_str()) {
            self.usb_host_loaded = Some(self.last_finish);
        }
        match result {
            Ok(()) => debug!("loaded {name} ({took} ms)"),
            Err(e) => {
                warn!("load module {path}: {}", errno_text(e));
                self.errors.insert(name, e);
            }
        }
        self.pump(sys);
    }

    /// Whether a module is loading or waiting to.
    pub fn busy(&self) -> bool {
        self.queue.busy()
    }

    /// Whether a USB mass-storage driver has been asked for.
    pub fn drivers_busy(&self) -> bool {
        self.queue.drivers_busy()
    }

    /// When a USB host controller's driver last finished loading: its
    /// ports are scanned after that, with no sign of when it is done.
    pub fn usb_host_loaded(&self) -> Option<Duration> {
        self.usb_host_loaded
    }

    pub fn usb_storage(&self) -> bool {
        self.usb_storage
    }

    /// One line on what was loaded, once loading is over.
    pub fn report(&self) {
        let c = self.queue.counts();
        if c.loaded + c.failed == 0 {
            return;
        }
        let took = self
            .first_start
            .map(|t| self.last_finish.saturating_sub(t).as_millis())
            .unwrap_or_default();
        let failed = if c.failed > 0 {
            format!(", {} failed", c.failed)
        } else {
            String::new()
        };
        info!(
            "loaded {} of {} kernel modules in {took} ms{failed}",
            c.loaded,
            self.queue.table().len()
        );
    }
}

fn read_text(sys: &impl Sys, path: &str) -> Option<String> {
    match sys.read_file(path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(Errno::NOENT) => None,
        Err(e) => {
            warn!("read {path}: {}", errno_text(e));
            None
        }
    }
}
