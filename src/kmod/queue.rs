//! Which module may start loading next: every module once, after the
//! modules it depends on, device drivers before the background
//! filesystem stack, at most a fixed number at a time.

use alloc::string::String;
use alloc::vec::Vec;

use super::dep::{DepTable, ModuleEntry};

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

    /// Whether a device driver (or what a step needs) is loading or
    /// waiting to: more devices may be about to appear.
    pub fn drivers_busy(&self) -> bool {
        self.state
            .iter()
            .any(|s| matches!(s, State::Wanted(p) | State::Loading(p) if *p >= Priority::Device))
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

    use crate::kmod::dep::tests::DEP;

    fn names(entries: &[&ModuleEntry]) -> Vec<String> {
        entries.iter().map(|m| m.name.clone()).collect()
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
}
