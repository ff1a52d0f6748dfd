//! The dependency table: the packed modules in load order with their
//! dependencies (`modules.dep` lines, `path: dependency-path …`).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::name::module_name;

/// One packed module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleEntry {
    pub name: String,
    /// Absolute path of the `.ko` in the initramfs.
    pub path: String,
    /// Indices (into the table) of the modules it needs loaded first; only
    /// earlier entries count, so a dependency cycle cannot block loading.
    pub(super) deps: Vec<usize>,
}

/// The packed modules in load order (every module after its dependencies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepTable {
    pub(super) modules: Vec<ModuleEntry>,
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
        // A module listed twice keeps its first entry and the first line's
        // dependencies: the line's position in the file is not the
        // module's position in the table once a duplicate was skipped.
        let mut done = alloc::vec![false; table.modules.len()];
        for (path, deps) in &lines {
            let Some(index) = table.by_name.get(&module_name(path)).copied() else {
                continue;
            };
            if done.get(index).copied().unwrap_or(true) {
                continue;
            }
            if let Some(flag) = done.get_mut(index) {
                *flag = true;
            }
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

    pub(crate) fn index(&self, name: &str) -> Option<usize> {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const DEP: &str = "\
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
    fn a_duplicated_line_does_not_shift_dependencies_onto_other_modules() {
        let t =
            DepTable::parse("/k/a.ko:\n/k/a.ko:\n/k/b.ko: /k/a.ko\n/k/c.ko:\n/k/d.ko: /k/c.ko\n");
        assert_eq!(t.len(), 4);
        assert_eq!(names(&t.closure("b")), ["a", "b"]);
        assert_eq!(names(&t.closure("c")), ["c"], "c needs nothing");
        assert_eq!(names(&t.closure("d")), ["c", "d"]);
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
}
