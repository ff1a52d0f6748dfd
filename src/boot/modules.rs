//! Loading the kernel modules packed into the initramfs, by need and in the
//! background.
//!
//! `cargo xtask initramfs` writes, next to the modules:
//! - [`LOAD_LIST`]: the modules every boot loads — the filesystems and
//!   block layers the live root may be built from (squashfs, erofs, ext4,
//!   overlay, loop, dm-mod, dm-snapshot) — with their dependencies, in load
//!   order;
//! - [`ALIASES`]: the `alias <pattern> <module>` lines of every packed
//!   module (from its `.modinfo`), i.e. the kernel's `modules.alias`
//!   trimmed to what is packed;
//! - [`DEPS`]: per packed module, in load order, everything it needs
//!   loaded first (`modules.dep` style, absolute paths).
//!
//! Device drivers are loaded when a device asks for one: discovery hands
//! every `MODALIAS` it sees (coldplug or uevent) to [`Loader::device`].
//! The stack is loaded in the background while discovery runs, because
//! which of it the plan needs is only known once the medium and the image
//! on it are mounted, and the kernel cannot load a filesystem on demand
//! itself without a `modprobe` helper. The module for a filesystem a
//! device was seen to hold (isofs, vfat) is added to it through the
//! filesystem's `fs-<type>` alias. Drivers go first; every module loads
//! once, after its dependencies, on a few workers (`modalias::LoadQueue`);
//! discovery lets all of it finish before the medium is mounted.
//!
//! An initramfs without the alias table (made before it existed) lists
//! every module in [`LOAD_LIST`]: they are all loaded, one after the other.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use log::{debug, info, warn};

use super::error::errno_text;
use crate::config::LiveConfig;
use crate::modalias::{module_name, AliasTable, DepTable, LoadQueue, Priority};
use crate::sys::{Errno, Sys, SysResult};

/// Modules every boot loads, in load order: one absolute path per line.
pub const LOAD_LIST: &str = "/etc/liveinit/modules.load";
/// `alias <pattern> <module>` lines of the packed modules.
pub const ALIASES: &str = "/etc/liveinit/modules.alias";
/// `path: dependency-path …` per packed module, in load order.
pub const DEPS: &str = "/etc/liveinit/modules.dep";

/// Loads that may run at once (`finit_module` blocks while the driver
/// probes its bus, so independent modules overlap); the real system has as
/// many workers.
const PARALLEL: usize = 4;
/// Modules that drive USB mass storage: once one is wanted, USB sticks may
/// still be settling, and discovery waits longer.
const USB_STORAGE: &[&str] = &["usb_storage", "uas"];
/// The thin-pool target, loaded only for `rd.live.overlay.thin`.
const THIN_POOL: &str = "dm_thin_pool";

/// The packed modules and what has been done with them.
pub struct Loader {
    aliases: AliasTable,
    queue: LoadQueue,
    /// Loaded on every boot, in the background.
    stack: Vec<String>,
    /// MODALIAS values already looked up.
    modaliases: BTreeSet<String>,
    /// Start times of the loads in flight, by path.
    started: BTreeMap<String, Duration>,
    first_start: Option<Duration>,
    last_finish: Duration,
    usb_storage: bool,
}

impl Loader {
    /// Reads the tables (nothing is loaded yet).
    pub fn open(sys: &impl Sys, cfg: &LiveConfig) -> Loader {
        let list = read_text(sys, LOAD_LIST);
        let table = match read_text(sys, DEPS) {
            Some(deps) => DepTable::parse(&deps),
            None => DepTable::chain(list.as_deref().unwrap_or_default()),
        };
        let aliases = AliasTable::parse(&read_text(sys, ALIASES).unwrap_or_default());
        let mut stack: Vec<String> = list
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(module_name)
            .collect();
        if cfg.overlay.thin {
            if table.get(THIN_POOL).is_some() {
                stack.push(THIN_POOL.to_owned());
            } else if !table.is_empty() {
                warn!("rd.live.overlay.thin: {THIN_POOL} is not in the initramfs; relying on a built-in thin-pool target");
            }
        }
        if table.is_empty() {
            info!("no kernel modules in the initramfs: relying on built-in drivers");
        } else {
            debug!(
                "{} kernel modules packed, {} aliases, {} loaded on every boot",
                table.len(),
                aliases.len(),
                stack.len()
            );
        }
        Loader {
            aliases,
            queue: LoadQueue::new(table, PARALLEL),
            stack,
            modaliases: BTreeSet::new(),
            started: BTreeMap::new(),
            first_start: None,
            last_finish: Duration::ZERO,
            usb_storage: false,
        }
    }

    /// Starts the background loading of the stack.
    ///
    /// Background loads run at the lowest CPU priority; a module a device
    /// driver may need too (`cdrom`, for `sr_mod` and `isofs`) is loaded at
    /// the drivers' priority instead, or the driver would wait for it.
    pub fn start_stack(&mut self, sys: &impl Sys) {
        let table = self.queue.table();
        let closure = |names: &mut dyn Iterator<Item = &str>| -> BTreeSet<String> {
            names
                .flat_map(|name| table.closure(name))
                .map(|m| m.name.clone())
                .collect()
        };
        let stack = closure(&mut self.stack.iter().map(String::as_str));
        let not_drivers = closure(&mut self.stack.iter().map(String::as_str).chain([THIN_POOL]));
        let drivers_need = closure(
            &mut table
                .iter()
                .map(|m| m.name.as_str())
                .filter(|name| !not_drivers.contains(*name)),
        );
        let shared: Vec<&String> = stack.intersection(&drivers_need).collect();
        for name in &self.stack {
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

    /// A device holds a filesystem of type `fstype` (as `mount(2)` names
    /// it): loads, in the background, the module providing it — its
    /// `fs-<type>` alias, which is what the kernel would ask modprobe for.
    pub fn filesystem_seen(&mut self, fstype: &str) {
        self.filesystem(fstype, Priority::Stack);
    }

    /// The medium is about to be mounted as `fstype`: its module is wanted
    /// now (at drivers' priority if it has not started yet).
    pub fn filesystem_needed(&mut self, fstype: &str) {
        self.filesystem(fstype, Priority::Device);
    }

    fn filesystem(&mut self, fstype: &str, priority: Priority) {
        let alias = format!("fs-{fstype}");
        let modules: Vec<String> = self
            .aliases
            .modules_for(&alias)
            .into_iter()
            .map(str::to_owned)
            .collect();
        for name in modules {
            let added = self.queue.want(&name, priority);
            if !added.is_empty() {
                debug!("{alias} wants {}", added.join(" "));
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
        if self.queue.finished(path, result.is_ok()).is_none() {
            return;
        }
        self.last_finish = sys.now();
        match result {
            Ok(()) => debug!("loaded {} ({took} ms)", module_name(path)),
            Err(e) => warn!("load module {path}: {}", errno_text(e)),
        }
        self.pump(sys);
    }

    /// Whether a module is loading or waiting to.
    pub fn busy(&self) -> bool {
        self.queue.busy()
    }

    /// Whether a USB mass-storage driver has been asked for.
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
