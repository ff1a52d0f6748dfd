//! From what the kernel says about a device to the module that drives it,
//! and in which order modules may load. Pure: text and bytes in, decisions
//! out; the orchestration (`boot::modules`, `boot::discover`) does the I/O.
//!
//! - [`Uevent`]: a kernel device event, parsed from a netlink
//!   `KOBJECT_UEVENT` message (`add@/devices/…\0ACTION=add\0…`) or a sysfs
//!   `uevent` file (`KEY=VALUE` lines).
//! - [`fnmatch`]: the shell-style matching `modprobe` applies to aliases
//!   (`*`, `?`, `[…]`, backslash escapes; `*` also matches `/`).
//! - [`AliasTable`]: `alias <pattern> <module>` lines (the kernel's
//!   `modules.alias` format), asked which modules serve a `MODALIAS`.
//! - [`DepTable`]: the packed modules in load order with their dependencies
//!   (`modules.dep` lines, `path: dependency-path …`).
//! - [`LoadQueue`]: which module may start loading next: every module once,
//!   after the modules it depends on, device drivers before the background
//!   filesystem stack, at most a fixed number at a time.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

// ---------------------------------------------------------------------------
// Module names

/// A module's name as the kernel knows it (`-` and `_` alike, written `_`),
/// from a bare name or a path such as `/lib/modules/v/kernel/fs/fat/vfat.ko`.
pub fn module_name(name_or_path: &str) -> String {
    let base = name_or_path.rsplit('/').next().unwrap_or(name_or_path);
    let base = [".xz", ".zst", ".gz"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))
        .unwrap_or(base);
    base.strip_suffix(".ko").unwrap_or(base).replace('-', "_")
}

// ---------------------------------------------------------------------------
// Uevents

/// The keys of a device event liveinit acts on (see
/// `Documentation/ABI/testing/sysfs-uevent` and `lib/kobject_uevent.c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uevent {
    /// `add`, `remove`, `change`, `bind`, …
    pub action: Option<String>,
    /// `/devices/pci0000:00/…/block/sda/sda1`, relative to `/sys`.
    pub devpath: Option<String>,
    pub subsystem: Option<String>,
    /// What driver would serve the device, e.g. `pci:v00008086d00007010…`.
    pub modalias: Option<String>,
    /// The device node below `/dev`, e.g. `sda1`.
    pub devname: Option<String>,
    /// `disk` or `partition` for block devices.
    pub devtype: Option<String>,
    /// The bound driver (`bind` events, sysfs `uevent` files).
    pub driver: Option<String>,
    /// A partition's number.
    pub partn: Option<u32>,
    /// A GPT partition's name (PARTLABEL).
    pub partname: Option<String>,
    /// A partition's PARTUUID (only newer kernels send it).
    pub partuuid: Option<String>,
}

impl Uevent {
    /// A message from a netlink `KOBJECT_UEVENT` socket: a header
    /// `ACTION@DEVPATH`, then `KEY=VALUE` strings, all NUL-terminated.
    /// `None` for what is not a kernel event (udev's `libudev` messages,
    /// which start with that magic, or anything without the header).
    pub fn from_netlink(msg: &[u8]) -> Option<Uevent> {
        let mut fields = msg.split(|&b| b == 0);
        let header = fields.next()?;
        if header.starts_with(b"libudev") {
            return None;
        }
        let at = header.iter().position(|&b| b == b'@')?;
        let mut event = Uevent::default();
        for field in fields {
            event.set(field);
        }
        // The header says the same as ACTION/DEVPATH; use it if they are missing.
        if event.action.is_none() {
            event.action = text(header.get(..at)?);
        }
        if event.devpath.is_none() {
            event.devpath = text(header.get(at + 1..)?);
        }
        Some(event)
    }

    /// A sysfs `uevent` file: `KEY=VALUE` lines (no ACTION, no DEVPATH).
    pub fn from_sysfs(file: &[u8]) -> Uevent {
        let mut event = Uevent::default();
        for line in file.split(|&b| b == b'\n') {
            event.set(line);
        }
        event
    }

    fn set(&mut self, field: &[u8]) {
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            return;
        };
        let (Some(key), Some(value)) = (field.get(..eq), field.get(eq + 1..)) else {
            return;
        };
        let value = text(value);
        match key {
            b"ACTION" => self.action = value,
            b"DEVPATH" => self.devpath = value,
            b"SUBSYSTEM" => self.subsystem = value,
            b"MODALIAS" => self.modalias = value,
            b"DEVNAME" => self.devname = value,
            b"DEVTYPE" => self.devtype = value,
            b"DRIVER" => self.driver = value,
            b"PARTN" => self.partn = value.and_then(|v| v.parse().ok()),
            b"PARTNAME" => self.partname = value,
            b"PARTUUID" => self.partuuid = value,
            _ => {}
        }
    }

    /// The kernel name of a block device event (`DEVNAME`, else the last
    /// part of `DEVPATH`), `None` for other subsystems.
    pub fn block_name(&self) -> Option<&str> {
        if self.subsystem.as_deref() != Some("block") {
            return None;
        }
        let name = match (&self.devname, &self.devpath) {
            (Some(name), _) => name.rsplit('/').next().unwrap_or(name),
            (None, Some(path)) => path.rsplit('/').next().unwrap_or(path),
            (None, None) => return None,
        };
        (!name.is_empty()).then_some(name)
    }

    /// For a partition's event, its disk's name: the parent in `DEVPATH`
    /// (`…/block/sda/sda1` → `sda`).
    pub fn parent_disk(&self) -> Option<&str> {
        if self.devtype.as_deref() != Some("partition") {
            return None;
        }
        let mut parts = self.devpath.as_deref()?.rsplit('/');
        parts.next()?;
        parts.next().filter(|p| !p.is_empty())
    }

    pub fn is(&self, action: &str) -> bool {
        self.action.as_deref() == Some(action)
    }
}

/// Non-empty UTF-8 text, else `None`.
fn text(bytes: &[u8]) -> Option<String> {
    core::str::from_utf8(bytes)
        .ok()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

// ---------------------------------------------------------------------------
// fnmatch

/// Whether `text` matches the shell pattern `pattern`, as `fnmatch(3)` with
/// no flags (what kmod uses for aliases): `*` any run of characters
/// (including `/`), `?` any one, `[abc]`, `[a-z]`, `[!…]` or `[^…]` one of
/// (or none of) a set, `\c` the character `c`. A `[` without its `]` is an
/// ordinary character, a trailing `\` matches nothing (as glibc). Works on bytes; runs in O(pattern × text) at worst.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern after it, text it took up to).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let c = t.get(ti).copied().unwrap_or(0);
        match one(p, pi, c) {
            Step::Star => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Step::Match(width) => {
                pi += width;
                ti += 1;
                continue;
            }
            Step::NoMatch => {}
        }
        // Let the last `*` take one more character, or fail.
        match star {
            Some((after, taken)) => {
                pi = after;
                ti = taken + 1;
                star = Some((after, taken + 1));
            }
            None => return false,
        }
    }
    // Only stars may be left.
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

enum Step {
    Star,
    /// The pattern element (this many bytes of pattern) matched one character.
    Match(usize),
    NoMatch,
}

/// Matches the pattern element at `p[i]` against one character `c`.
fn one(p: &[u8], i: usize, c: u8) -> Step {
    let Some(&head) = p.get(i) else {
        return Step::NoMatch;
    };
    let matched = |ok: bool, width: usize| {
        if ok {
            Step::Match(width)
        } else {
            Step::NoMatch
        }
    };
    match head {
        b'*' => Step::Star,
        b'?' => Step::Match(1),
        b'\\' => match p.get(i + 1) {
            Some(&escaped) => matched(escaped == c, 2),
            // A trailing backslash is an error to glibc: it matches nothing.
            None => Step::NoMatch,
        },
        b'[' => match class(p, i + 1, c) {
            Some((ok, width)) => matched(ok, width + 1),
            None => matched(c == b'[', 1),
        },
        other => matched(other == c, 1),
    }
}

/// A bracket expression starting after its `[` at `p[i]`: whether `c` is in
/// it and how many bytes it spans (through the `]`); `None` if unclosed.
fn class(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start;
    let negated = matches!(p.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == b']' && !first {
            return Some((found != negated, i + 1 - start));
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&b| b != b']') {
            i += 1;
            hi = *p.get(i)?;
            if hi == b'\\' {
                i += 1;
                hi = *p.get(i)?;
            }
            i += 1;
        }
        if lo <= c && c <= hi {
            found = true;
        }
    }
}

// ---------------------------------------------------------------------------
// Alias table

/// `alias <pattern> <module>` lines, as in the kernel's `modules.alias`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasTable {
    entries: Vec<Alias>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Alias {
    pattern: String,
    module: String,
    /// Length of the pattern's literal start (before any `*?[\\`): most
    /// aliases are ruled out by comparing it, without matching.
    literal: usize,
}

impl AliasTable {
    /// Reads `alias` lines; anything else (comments, blank lines, other
    /// keywords) is skipped. Module names are normalised.
    pub fn parse(text: &str) -> AliasTable {
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                if words.next() != Some("alias") {
                    return None;
                }
                let pattern = words.next()?;
                let module = words.next()?;
                let literal = pattern.find(['*', '?', '[', '\\']).unwrap_or(pattern.len());
                Some(Alias {
                    pattern: String::from(pattern),
                    module: module_name(module),
                    literal,
                })
            })
            .collect();
        AliasTable { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every module with an alias matching `modalias`, each once, in table
    /// order (modprobe loads them all).
    pub fn modules_for(&self, modalias: &str) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for alias in &self.entries {
            let start = alias.pattern.as_bytes().get(..alias.literal);
            if start.is_some_and(|start| modalias.as_bytes().starts_with(start))
                && !found.contains(&alias.module.as_str())
                && fnmatch(&alias.pattern, modalias)
            {
                found.push(&alias.module);
            }
        }
        found
    }
}

// ---------------------------------------------------------------------------
// Dependency table

/// One packed module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleEntry {
    pub name: String,
    /// Absolute path of the `.ko` in the initramfs.
    pub path: String,
    /// Indices (into the table) of the modules it needs loaded first; only
    /// earlier entries count, so a dependency cycle cannot block loading.
    deps: Vec<usize>,
}

/// The packed modules in load order (every module after its dependencies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepTable {
    modules: Vec<ModuleEntry>,
    by_name: BTreeMap<String, usize>,
}

impl DepTable {
    /// `path: dependency-path …` lines (`modules.dep` style), one per
    /// module, in load order. Dependencies that are not themselves listed
    /// (built in, not packed) are ignored.
    pub fn parse(text: &str) -> DepTable {
        let lines: Vec<(&str, Vec<&str>)> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| match line.split_once(':') {
                Some((path, deps)) => (path.trim(), deps.split_whitespace().collect()),
                None => (line, Vec::new()),
            })
            .collect();
        let mut table = DepTable::default();
        for (path, _) in &lines {
            table.push(path);
        }
        for (index, (_, deps)) in lines.iter().enumerate() {
            let deps: Vec<usize> = deps
                .iter()
                .filter_map(|d| table.by_name.get(&module_name(d)).copied())
                .filter(|&d| d < index)
                .collect();
            if let Some(entry) = table.modules.get_mut(index) {
                entry.deps = deps;
            }
        }
        table
    }

    /// A plain load list (one path per line): without dependency
    /// information every module waits for the one before it.
    pub fn chain(list: &str) -> DepTable {
        let mut table = DepTable::default();
        let paths = list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        for path in paths {
            let before = table.modules.len().checked_sub(1);
            table.push(path);
            if let (Some(prev), Some(entry)) = (before, table.modules.last_mut()) {
                entry.deps.push(prev);
            }
        }
        table
    }

    fn push(&mut self, path: &str) {
        let name = module_name(path);
        if self.by_name.contains_key(&name) {
            return;
        }
        self.by_name.insert(name.clone(), self.modules.len());
        self.modules.push(ModuleEntry {
            name,
            path: String::from(path),
            deps: Vec::new(),
        });
    }

    pub fn len(&self) -> usize {
        self.modules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Every module, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &ModuleEntry> {
        self.modules.iter()
    }

    pub fn get(&self, name: &str) -> Option<&ModuleEntry> {
        self.index(name).and_then(|i| self.modules.get(i))
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&module_name(name)).copied()
    }

    /// `name` and everything it needs, dependencies first (table order);
    /// empty if `name` is not packed.
    pub fn closure(&self, name: &str) -> Vec<&ModuleEntry> {
        let Some(start) = self.index(name) else {
            return Vec::new();
        };
        let mut wanted = alloc::vec![false; self.modules.len()];
        let mut todo = alloc::vec![start];
        while let Some(i) = todo.pop() {
            match wanted.get_mut(i) {
                Some(seen) if !*seen => *seen = true,
                _ => continue,
            }
            if let Some(entry) = self.modules.get(i) {
                todo.extend(entry.deps.iter().copied());
            }
        }
        self.modules
            .iter()
            .zip(wanted)
            .filter_map(|(m, w)| w.then_some(m))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Load scheduling

/// Why a module is wanted; device drivers go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Filesystems and block layers loaded in the background.
    Stack,
    /// A driver for a device that is there now (it may hold the medium).
    Device,
    /// The next boot step cannot run without it.
    Needed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Wanted(Priority),
    Loading(Priority),
    Loaded,
    Failed,
}

/// Decides which wanted module starts loading next: each module once, only
/// after every module it depends on has finished (loaded or failed: the
/// kernel then tells what is missing), device drivers before the stack,
/// in table order among equals, and at most `limit` at a time — of which
/// the stack may take all but one, so a driver never waits behind it.
#[derive(Debug, Clone)]
pub struct LoadQueue {
    table: DepTable,
    state: Vec<State>,
    limit: usize,
}

/// Where a [`LoadQueue`] stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub waiting: usize,
    pub loading: usize,
    pub loaded: usize,
    pub failed: usize,
}

impl LoadQueue {
    pub fn new(table: DepTable, limit: usize) -> LoadQueue {
        let state = alloc::vec![State::Idle; table.len()];
        LoadQueue {
            table,
            state,
            limit: limit.max(1),
        }
    }

    pub fn table(&self) -> &DepTable {
        &self.table
    }

    /// Asks for `name` and its dependencies. Returns the modules newly
    /// wanted (empty if it is not packed, or already wanted or loaded);
    /// a module already waiting is moved up to `priority`.
    pub fn want(&mut self, name: &str, priority: Priority) -> Vec<String> {
        let mut added = Vec::new();
        let indices: Vec<usize> = self
            .table
            .closure(name)
            .iter()
            .filter_map(|m| self.table.index(&m.name))
            .collect();
        for i in indices {
            let Some(state) = self.state.get_mut(i) else {
                continue;
            };
            match *state {
                State::Idle => {
                    *state = State::Wanted(priority);
                    if let Some(m) = self.table.modules.get(i) {
                        added.push(m.name.clone());
                    }
                }
                State::Wanted(p) if p < priority => *state = State::Wanted(priority),
                _ => {}
            }
        }
        added
    }

    /// The next module to start, if one may: marks it loading and returns
    /// its entry and why it is wanted.
    pub fn start_next(&mut self) -> Option<(&ModuleEntry, Priority)> {
        let loading = |p: Option<Priority>| {
            self.state
                .iter()
                .filter(|s| match s {
                    State::Loading(q) => p.map_or(true, |p| *q == p),
                    _ => false,
                })
                .count()
        };
        let running = loading(None);
        if running >= self.limit {
            return None;
        }
        let stack_room = loading(Some(Priority::Stack)) < self.limit.saturating_sub(1).max(1);
        let ready = |i: usize| {
            self.table.modules.get(i).is_some_and(|m| {
                m.deps
                    .iter()
                    .all(|&d| matches!(self.state.get(d), Some(State::Loaded | State::Failed)))
            })
        };
        let mut best: Option<(Priority, usize)> = None;
        for (i, state) in self.state.iter().enumerate() {
            let State::Wanted(p) = *state else { continue };
            if (p == Priority::Stack && !stack_room) || !ready(i) {
                continue;
            }
            if best.map_or(true, |(bp, _)| p > bp) {
                best = Some((p, i));
            }
        }
        let (p, i) = best?;
        if let Some(state) = self.state.get_mut(i) {
            *state = State::Loading(p);
        }
        self.table.modules.get(i).map(|m| (m, p))
    }

    /// Records the outcome of loading the module at `path`; returns its
    /// name, or `None` if it was not loading.
    pub fn finished(&mut self, path: &str, ok: bool) -> Option<&str> {
        let i = self.table.modules.iter().position(|m| m.path == path)?;
        let state = self.state.get_mut(i)?;
        if !matches!(state, State::Loading(_)) {
            return None;
        }
        *state = if ok { State::Loaded } else { State::Failed };
        self.table.modules.get(i).map(|m| m.name.as_str())
    }

    /// Whether `name` or anything it needs is still waiting or loading.
    pub fn pending(&self, name: &str) -> bool {
        self.closure_states(name)
            .any(|(_, s)| matches!(s, State::Wanted(_) | State::Loading(_)))
    }

    /// The modules among `name` and its dependencies that failed to load.
    pub fn failures(&self, name: &str) -> Vec<&str> {
        self.closure_states(name)
            .filter(|(_, s)| *s == State::Failed)
            .map(|(m, _)| m.name.as_str())
            .collect()
    }

    fn closure_states(&self, name: &str) -> impl Iterator<Item = (&ModuleEntry, State)> {
        self.table.closure(name).into_iter().filter_map(|m| {
            let i = self.table.index(&m.name)?;
            Some((m, *self.state.get(i)?))
        })
    }

    /// Whether anything is loading or waiting to.
    pub fn busy(&self) -> bool {
        self.state
            .iter()
            .any(|s| matches!(s, State::Wanted(_) | State::Loading(_)))
    }

    pub fn counts(&self) -> LoadCounts {
        let mut c = LoadCounts::default();
        for s in &self.state {
            match s {
                State::Idle => {}
                State::Wanted(_) => c.waiting += 1,
                State::Loading(_) => c.loading += 1,
                State::Loaded => c.loaded += 1,
                State::Failed => c.failed += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            module_name("/lib/modules/v/kernel/a/usb-storage.ko"),
            "usb_storage"
        );
        assert_eq!(module_name("dm-mod"), "dm_mod");
        assert_eq!(module_name("x.ko.zst"), "x");
    }

    #[test]
    fn fnmatch_literals_and_wildcards() {
        assert!(fnmatch("abc", "abc"));
        assert!(!fnmatch("abc", "abd"));
        assert!(!fnmatch("abc", "abcd"));
        assert!(!fnmatch("abcd", "abc"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("*", "anything/at all"));
        assert!(fnmatch("a*", "a"));
        assert!(fnmatch("a*c", "abbbc"));
        assert!(fnmatch("a*c", "ac"));
        assert!(!fnmatch("a*c", "abcb"));
        assert!(fnmatch("a*b*c", "a-b-b-c"));
        assert!(fnmatch("**a", "bba"));
        assert!(fnmatch("a?c", "abc"));
        assert!(!fnmatch("a?c", "ac"));
        assert!(fnmatch("*?", "x"));
        assert!(!fnmatch("*?", ""));
    }

    #[test]
    fn fnmatch_classes_and_escapes() {
        assert!(fnmatch("[abc]", "b"));
        assert!(!fnmatch("[abc]", "d"));
        assert!(fnmatch("[a-c]x", "cx"));
        assert!(!fnmatch("[a-c]x", "dx"));
        assert!(fnmatch("[!a-c]", "d"));
        assert!(fnmatch("[^a-c]", "d"));
        assert!(!fnmatch("[!a-c]", "a"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("[!]]", "a"));
        assert!(fnmatch("[a-]", "-"));
        assert!(fnmatch("[\\]]", "]"));
        assert!(fnmatch("[0-9A-F]*", "C0"));
        // An unclosed bracket is an ordinary character.
        assert!(fnmatch("[ab", "[ab"));
        assert!(!fnmatch("[ab", "a"));
        assert!(fnmatch("a\\*", "a*"));
        assert!(!fnmatch("a\\*", "ab"));
        assert!(!fnmatch("a\\", "a\\"), "a trailing backslash, as glibc");
    }

    #[test]
    fn fnmatch_real_aliases() {
        let ahci = "pci:v*d*sv*sd*bc01sc06i01*";
        assert!(fnmatch(
            ahci,
            "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01"
        ));
        assert!(!fnmatch(
            ahci,
            "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"
        ));
        let piix = "pci:v00008086d00007010sv*sd*bc*sc*i*";
        assert!(fnmatch(
            piix,
            "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"
        ));
        let storage = "usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*";
        assert!(fnmatch(
            storage,
            "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00"
        ));
        assert!(fnmatch("scsi:t-0x05*", "scsi:t-0x05"));
        assert!(!fnmatch("scsi:t-0x05*", "scsi:t-0x00"));
        assert!(fnmatch(
            "usb:v0BC2p2[0-9A-F][0-9A-F][0-9A-F]d*",
            "usb:v0BC2p2321d0100"
        ));
    }

    #[test]
    fn fnmatch_does_not_blow_up() {
        let text = "a".repeat(200);
        let pattern = alloc::format!("{}b", "*a".repeat(50));
        assert!(!fnmatch(&pattern, &text));
    }

    const ALIASES: &str = "\
# comment
alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v*d*sv*sd*bc01sc01i* ata_generic
alias scsi:t-0x05* sr_mod
alias scsi:t-0x04* sr_mod
alias scsi:t-0x05* sr-mod
softdep x pre: y
alias fs-iso9660 isofs
alias broken
";

    #[test]
    fn alias_table_answers_every_matching_module_once() {
        let t = AliasTable::parse(ALIASES);
        assert_eq!(t.len(), 6);
        assert_eq!(
            t.modules_for("pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"),
            ["ata_piix", "ata_generic"]
        );
        assert_eq!(t.modules_for("scsi:t-0x05"), ["sr_mod"]);
        assert_eq!(t.modules_for("fs-iso9660"), ["isofs"]);
        assert!(t.modules_for("fs-iso966").is_empty());
        assert!(t.modules_for("fs-iso96601").is_empty());
        let exact = AliasTable::parse("alias [ab]x m1\nalias \\?y m2\n");
        assert_eq!(exact.modules_for("bx"), ["m1"]);
        assert_eq!(exact.modules_for("?y"), ["m2"]);
        assert!(t.modules_for("acpi:PNP0A03:").is_empty());
        assert!(AliasTable::parse("").is_empty());
    }

    const DEP: &str = "\
/lib/modules/v/kernel/scsi_common.ko:
/lib/modules/v/kernel/scsi_mod.ko: /lib/modules/v/kernel/scsi_common.ko
/lib/modules/v/kernel/cdrom.ko:
/lib/modules/v/kernel/sr_mod.ko: /lib/modules/v/kernel/scsi_common.ko /lib/modules/v/kernel/scsi_mod.ko /lib/modules/v/kernel/cdrom.ko /lib/modules/v/kernel/builtin.ko
/lib/modules/v/kernel/isofs.ko: /lib/modules/v/kernel/cdrom.ko
/lib/modules/v/kernel/cyc_a.ko: /lib/modules/v/kernel/cyc-b.ko
/lib/modules/v/kernel/cyc_b.ko: /lib/modules/v/kernel/cyc_a.ko
";

    fn names(entries: &[&ModuleEntry]) -> Vec<String> {
        entries.iter().map(|m| m.name.clone()).collect()
    }

    #[test]
    fn dep_table_closure_is_in_load_order() {
        let t = DepTable::parse(DEP);
        assert_eq!(t.len(), 7);
        assert_eq!(
            names(&t.closure("sr-mod")),
            ["scsi_common", "scsi_mod", "cdrom", "sr_mod"]
        );
        assert_eq!(names(&t.closure("isofs")), ["cdrom", "isofs"]);
        assert!(t.closure("nope").is_empty());
        assert_eq!(
            t.get("isofs").map(|m| m.path.as_str()),
            Some("/lib/modules/v/kernel/isofs.ko")
        );
        // The cycle is broken by order: the later module waits, not the earlier.
        assert_eq!(names(&t.closure("cyc_a")), ["cyc_a"]);
        assert_eq!(names(&t.closure("cyc_b")), ["cyc_a", "cyc_b"]);
    }

    #[test]
    fn a_plain_list_becomes_a_chain() {
        let t = DepTable::chain("/a.ko\n\n# x\n/b.ko\n/c.ko\n");
        assert_eq!(names(&t.closure("c")), ["a", "b", "c"]);
        let mut q = LoadQueue::new(t, 4);
        q.want("c", Priority::Stack);
        assert_eq!(start(&mut q).as_deref(), Some("a"));
        assert!(q.start_next().is_none(), "b waits for a");
        q.finished("/a.ko", false);
        assert_eq!(
            q.start_next().map(|(m, p)| (m.name.clone(), p)),
            Some(("b".into(), Priority::Stack))
        );
    }

    fn start(q: &mut LoadQueue) -> Option<String> {
        q.start_next().map(|(m, _)| m.name.clone())
    }

    #[test]
    fn queue_loads_dependencies_first_and_each_module_once() {
        let mut q = LoadQueue::new(DepTable::parse(DEP), 4);
        assert_eq!(
            q.want("sr_mod", Priority::Device),
            ["scsi_common", "scsi_mod", "cdrom", "sr_mod"]
        );
        assert_eq!(q.want("isofs", Priority::Stack), ["isofs"]);
        assert!(q.want("sr_mod", Priority::Device).is_empty());
        assert!(q.want("unknown", Priority::Device).is_empty());
        // Independent modules start together; dependents wait.
        assert_eq!(start(&mut q).as_deref(), Some("scsi_common"));
        assert_eq!(start(&mut q).as_deref(), Some("cdrom"));
        assert_eq!(start(&mut q), None);
        assert_eq!(
            q.finished("/lib/modules/v/kernel/cdrom.ko", true),
            Some("cdrom")
        );
        assert_eq!(start(&mut q).as_deref(), Some("isofs"));
        assert_eq!(
            q.finished("/lib/modules/v/kernel/scsi_common.ko", false),
            Some("scsi_common")
        );
        // A failed dependency does not block: the kernel will say what is missing.
        assert_eq!(start(&mut q).as_deref(), Some("scsi_mod"));
        assert_eq!(start(&mut q), None);
        assert_eq!(
            q.finished("/lib/modules/v/kernel/scsi_mod.ko", true),
            Some("scsi_mod")
        );
        assert_eq!(q.finished("/lib/modules/v/kernel/scsi_mod.ko", true), None);
        assert_eq!(start(&mut q).as_deref(), Some("sr_mod"));
        assert!(q.busy());
        q.finished("/lib/modules/v/kernel/sr_mod.ko", true);
        q.finished("/lib/modules/v/kernel/isofs.ko", true);
        assert!(!q.busy());
        assert_eq!(
            q.counts(),
            LoadCounts {
                loaded: 4,
                failed: 1,
                ..LoadCounts::default()
            }
        );
        assert!(q.want("isofs", Priority::Device).is_empty());
    }

    #[test]
    fn drivers_go_before_the_stack_and_keep_a_free_slot() {
        let dep = "/s1.ko:\n/s2.ko:\n/s3.ko:\n/d1.ko:\n/d2.ko:\n";
        let mut q = LoadQueue::new(DepTable::parse(dep), 3);
        for s in ["s1", "s2", "s3"] {
            q.want(s, Priority::Stack);
        }
        assert_eq!(start(&mut q).as_deref(), Some("s1"));
        assert_eq!(start(&mut q).as_deref(), Some("s2"));
        assert_eq!(start(&mut q), None, "one slot stays free for drivers");
        q.want("d2", Priority::Device);
        q.want("d1", Priority::Device);
        assert_eq!(start(&mut q).as_deref(), Some("d1"));
        assert_eq!(start(&mut q), None, "the limit");
        q.finished("/s1.ko", true);
        assert_eq!(start(&mut q).as_deref(), Some("d2"));
        q.finished("/d1.ko", true);
        assert_eq!(start(&mut q).as_deref(), Some("s3"));
        // A module the stack wants is raised when a device wants it too.
        let mut q = LoadQueue::new(DepTable::parse(dep), 3);
        q.want("s1", Priority::Stack);
        q.want("s2", Priority::Stack);
        q.want("s2", Priority::Device);
        assert_eq!(start(&mut q).as_deref(), Some("s2"));
    }

    #[test]
    fn a_needed_module_goes_first_and_tells_when_it_and_its_dependencies_are_done() {
        let mut q = LoadQueue::new(DepTable::parse(DEP), 2);
        q.want("sr_mod", Priority::Device);
        q.want("isofs", Priority::Needed);
        assert!(q.pending("isofs"));
        // cdrom is needed by isofs too, so it goes before scsi_common.
        assert_eq!(start(&mut q).as_deref(), Some("cdrom"));
        assert_eq!(start(&mut q).as_deref(), Some("scsi_common"));
        q.finished("/lib/modules/v/kernel/cdrom.ko", false);
        assert_eq!(start(&mut q).as_deref(), Some("isofs"));
        assert!(q.pending("isofs"));
        q.finished("/lib/modules/v/kernel/isofs.ko", true);
        assert!(!q.pending("isofs"));
        assert_eq!(q.failures("isofs"), ["cdrom"]);
        assert!(q.pending("sr_mod"), "sr_mod still waits for scsi_mod");
        assert!(!q.pending("not-packed") && q.failures("not-packed").is_empty());
    }

    #[test]
    fn a_limit_of_one_still_loads_the_stack() {
        let mut q = LoadQueue::new(DepTable::parse("/a.ko:\n"), 0);
        q.want("a", Priority::Stack);
        assert_eq!(start(&mut q).as_deref(), Some("a"));
    }

    #[test]
    fn netlink_messages_parse() {
        let msg =
            b"add@/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0/block/sr0\0\
ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0/block/sr0\0\
SUBSYSTEM=block\0MAJOR=11\0MINOR=0\0DEVNAME=sr0\0DEVTYPE=disk\0DISKSEQ=9\0SEQNUM=1234\0";
        let e = Uevent::from_netlink(msg).unwrap();
        assert!(e.is("add"));
        assert_eq!(e.subsystem.as_deref(), Some("block"));
        assert_eq!(e.devname.as_deref(), Some("sr0"));
        assert_eq!(e.devtype.as_deref(), Some("disk"));
        assert_eq!(e.block_name(), Some("sr0"));
        assert_eq!(e.parent_disk(), None);
        assert_eq!(e.modalias, None);

        let part = b"add@/devices/virtual/block/vda/vda2\0ACTION=add\0\
DEVPATH=/devices/virtual/block/vda/vda2\0SUBSYSTEM=block\0DEVNAME=vda2\0\
DEVTYPE=partition\0PARTN=2\0PARTNAME=Live data\0PARTUUID=0011-02\0";
        let e = Uevent::from_netlink(part).unwrap();
        assert_eq!(e.block_name(), Some("vda2"));
        assert_eq!(e.parent_disk(), Some("vda"));
        assert_eq!(e.partn, Some(2));
        assert_eq!(e.partname.as_deref(), Some("Live data"));
        assert_eq!(e.partuuid.as_deref(), Some("0011-02"));

        let pci = b"add@/devices/pci0000:00/0000:00:03.0\0ACTION=add\0\
SUBSYSTEM=pci\0MODALIAS=pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\0";
        let e = Uevent::from_netlink(pci).unwrap();
        assert_eq!(
            e.devpath.as_deref(),
            Some("/devices/pci0000:00/0000:00:03.0")
        );
        assert_eq!(
            e.modalias.as_deref(),
            Some("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00")
        );
        assert_eq!(e.block_name(), None);

        let bind = b"bind@/devices/x/1-1:1.0\0ACTION=bind\0SUBSYSTEM=usb\0DRIVER=usb-storage\0";
        assert_eq!(
            Uevent::from_netlink(bind).unwrap().driver.as_deref(),
            Some("usb-storage")
        );
    }

    #[test]
    fn netlink_header_fills_in_and_junk_is_refused() {
        let e = Uevent::from_netlink(b"remove@/devices/virtual/block/loop0\0SUBSYSTEM=block\0")
            .unwrap();
        assert!(e.is("remove"));
        assert_eq!(e.block_name(), Some("loop0"));
        assert_eq!(Uevent::from_netlink(b"libudev\0\xfe\xed\xca\xfe"), None);
        assert_eq!(Uevent::from_netlink(b"no header\0ACTION=add\0"), None);
        assert_eq!(Uevent::from_netlink(b""), None);
        let odd =
            Uevent::from_netlink(b"add@/x\0=\0NOEQ\0PARTN=x\0DEVNAME=\xff\0ACTION=\0").unwrap();
        assert_eq!(odd.partn, None);
        assert_eq!(odd.devname, None);
        assert!(odd.is("add"), "an empty ACTION falls back to the header");
    }

    #[test]
    fn sysfs_uevent_files_parse() {
        let e = Uevent::from_sysfs(
            b"MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\nDISKSEQ=3\nPARTN=1\nPARTNAME=EFI\n",
        );
        assert_eq!(e.devname.as_deref(), Some("sda1"));
        assert_eq!(e.partn, Some(1));
        assert_eq!(e.partname.as_deref(), Some("EFI"));
        assert_eq!(e.partuuid, None);
        assert_eq!(e.action, None);
        assert_eq!(Uevent::from_sysfs(b""), Uevent::default());
    }
}
