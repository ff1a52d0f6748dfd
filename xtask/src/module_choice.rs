//! Which modules an image packs beyond (or instead of) the contract's
//! default set: `--add-modules`, `--omit-modules` and `--host-only`, each
//! checked against the kernel tree so a typo or a built-in module is an
//! error before anything is packed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::host_devices::HostDevices;
use crate::kmods::{self, module_name, Modules, Tree};

/// The image builder's module choices; the default packs the contract set.
#[derive(Debug, Clone, Default)]
pub struct ModuleChoice {
    /// Packed with their dependencies on top of the default set.
    pub add: Vec<String>,
    /// Left out, even as a dependency (an error if a packed module needs one).
    pub omit: Vec<String>,
    /// Keep only the storage drivers whose aliases match a device of the
    /// machine whose sysfs is here (normally `/sys`); filesystems, block
    /// layers and added modules stay.
    pub host_only: Option<PathBuf>,
}

impl ModuleChoice {
    /// Checks the choice against `tree`, then collects the modules.
    pub fn collect(&self, tree: &Tree) -> Result<Modules> {
        self.check(tree)?;
        let omit: BTreeSet<String> = self.omit.iter().map(|m| module_name(m)).collect();
        let wanted = self.wanted(tree, &omit)?;
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let modules = tree.collect(&wanted, &omit)?;
        let needed: Vec<String> = modules
            .omitted
            .iter()
            .filter_map(|(name, by)| by.as_ref().map(|by| format!("{name} (needed by {by})")))
            .collect();
        if !needed.is_empty() {
            bail!(
                "--omit-modules: packed modules need {}; omit those too, or keep it",
                needed.join(", ")
            );
        }
        Ok(modules)
    }

    /// Every named module must be loadable from this tree.
    fn check(&self, tree: &Tree) -> Result<()> {
        for (flag, names) in [("--add-modules", &self.add), ("--omit-modules", &self.omit)] {
            for name in names {
                if tree.is_builtin(name) {
                    bail!(
                        "{flag} {name}: built into kernel {}, so there is no module to {}",
                        tree.version,
                        if flag == "--add-modules" {
                            "pack"
                        } else {
                            "leave out"
                        }
                    );
                }
                if !tree.has(name) {
                    bail!("{flag} {name}: no such module in kernel {}", tree.version);
                }
            }
        }
        if let Some(both) = self
            .add
            .iter()
            .find(|a| self.omit.iter().any(|o| module_name(o) == module_name(a)))
        {
            bail!("module {both} is both in --add-modules and --omit-modules");
        }
        Ok(())
    }

    /// The roots of the closure: the default set (or its host-only part),
    /// the added modules, without the omitted ones.
    fn wanted(&self, tree: &Tree, omit: &BTreeSet<String>) -> Result<Vec<String>> {
        let mut roots = kmods::wanted();
        if let Some(sysfs) = &self.host_only {
            let host = HostDevices::scan(sysfs)?;
            let candidates = tree.collect(kmods::DRIVERS, omit)?;
            let matching = host.matching_modules(&candidates);
            println!(
                "initramfs: --host-only: {} device aliases in {}; storage drivers kept: {}",
                host.len(),
                sysfs.display(),
                if matching.is_empty() {
                    "none".to_owned()
                } else {
                    matching.join(" ")
                }
            );
            let is_driver = |m: &str| kmods::DRIVERS.contains(&m);
            roots.retain(|m| !is_driver(m) || matching.contains(&module_name(m)));
        }
        let all = roots
            .into_iter()
            .map(module_name)
            .chain(self.add.iter().map(|a| module_name(a)));
        let mut seen = BTreeSet::new();
        Ok(all
            .filter(|m| !omit.contains(m) && seen.insert(m.clone()))
            .collect())
    }
}

/// `a,b c` → `["a", "b", "c"]`: the list form of `--add-modules` and
/// `--omit-modules` (dracut's lists are space separated, ours comma
/// separated; both are accepted).
pub fn parse_list(flag: &str, value: &str) -> Result<Vec<String>> {
    let names: Vec<String> = value
        .split([',', ' '])
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        bail!("{flag}: no module names in '{value}'");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{fake_module, put_file, TempDir};

    /// A tree with storage drivers (virtio_blk needs virtio), a NIC with
    /// firmware, isofs built in, and a filesystem from the contract.
    fn tree(tmp: &TempDir) -> Tree {
        let root = tmp.path().join("6.1.0-choice");
        let put = |rel: &str, info: &[u8]| put_file(&root.join(rel), &fake_module(info), 0o644);
        put("kernel/v/virtio.ko", b"depends=\0");
        put(
            "kernel/v/virtio_blk.ko",
            b"alias=virtio:d00000002v*\0depends=virtio\0",
        );
        put(
            "kernel/n/nvme.ko",
            b"alias=pci:v*d*sv*sd*bc01sc08i02*\0depends=\0",
        );
        put(
            "kernel/n/e1000.ko",
            b"alias=pci:v00008086d0000100Esv*sd*bc*sc*i*\0depends=\0",
        );
        put("kernel/f/squashfs.ko", b"depends=\0");
        put_file(
            &root.join("modules.builtin"),
            b"kernel/fs/isofs/isofs.ko\n",
            0o644,
        );
        Tree::open(&root).unwrap()
    }

    fn names(m: &Modules) -> Vec<&str> {
        m.modules.iter().map(|m| m.name.as_str()).collect()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_choice_packs_the_contract_set_found_in_the_tree() {
        let tmp = TempDir::new("choice-default");
        let m = ModuleChoice::default().collect(&tree(&tmp)).unwrap();
        // e1000 is one of the NIC drivers packed by default.
        assert_eq!(
            names(&m),
            ["e1000", "nvme", "squashfs", "virtio", "virtio_blk"]
        );
    }

    #[test]
    fn added_modules_come_with_their_dependencies() {
        let tmp = TempDir::new("choice-add");
        let t = tree(&tmp);
        let choice = ModuleChoice {
            add: list(&["e1000"]),
            omit: list(&["nvme"]),
            ..Default::default()
        };
        let m = choice.collect(&t).unwrap();
        assert_eq!(names(&m), ["e1000", "squashfs", "virtio", "virtio_blk"]);
    }

    #[test]
    fn omitting_a_needed_dependency_is_an_error_naming_who_needs_it() {
        let tmp = TempDir::new("choice-omit-dep");
        let choice = ModuleChoice {
            omit: list(&["virtio"]),
            ..Default::default()
        };
        let err = choice.collect(&tree(&tmp)).unwrap_err().to_string();
        assert!(err.contains("virtio (needed by virtio_blk)"), "{err}");
        // Omitting the dependent too is fine.
        let choice = ModuleChoice {
            omit: list(&["virtio", "virtio-blk"]),
            ..Default::default()
        };
        let m = choice.collect(&tree(&tmp)).unwrap();
        assert_eq!(names(&m), ["e1000", "nvme", "squashfs"]);
    }

    #[test]
    fn unknown_builtin_and_contradictory_names_are_errors() {
        let tmp = TempDir::new("choice-errors");
        let t = tree(&tmp);
        let err = |choice: ModuleChoice| choice.collect(&t).unwrap_err().to_string();
        let e = err(ModuleChoice {
            add: list(&["e1001"]),
            ..Default::default()
        });
        assert!(
            e.contains("--add-modules e1001: no such module in kernel 6.1.0-choice"),
            "{e}"
        );
        let e = err(ModuleChoice {
            add: list(&["isofs"]),
            ..Default::default()
        });
        assert!(e.contains("--add-modules isofs: built into kernel"), "{e}");
        let e = err(ModuleChoice {
            omit: list(&["isofs"]),
            ..Default::default()
        });
        assert!(e.contains("--omit-modules isofs: built into kernel"), "{e}");
        let e = err(ModuleChoice {
            omit: list(&["nope"]),
            ..Default::default()
        });
        assert!(e.contains("--omit-modules nope: no such module"), "{e}");
        let e = err(ModuleChoice {
            add: list(&["e1000"]),
            omit: list(&["e1000"]),
            ..Default::default()
        });
        assert!(e.contains("both"), "{e}");
    }

    #[test]
    fn host_only_keeps_the_drivers_of_present_devices() {
        let tmp = TempDir::new("choice-host");
        let t = tree(&tmp);
        let sysfs = tmp.path().join("sys");
        put_file(
            &sysfs.join("devices/pci0000:00/0000:00:04.0/virtio1/modalias"),
            b"virtio:d00000002v00001AF4\n",
            0o644,
        );
        let choice = ModuleChoice {
            host_only: Some(sysfs.clone()),
            add: list(&["e1000"]),
            ..Default::default()
        };
        let m = choice.collect(&t).unwrap();
        // No NVMe controller: nvme is gone; the added NIC and the
        // filesystems stay whatever the devices.
        assert_eq!(names(&m), ["e1000", "squashfs", "virtio", "virtio_blk"]);
        let err = ModuleChoice {
            host_only: Some(tmp.path().join("no-sys")),
            ..Default::default()
        }
        .collect(&t)
        .unwrap_err();
        assert!(format!("{err:#}").contains("no-sys"), "{err:#}");
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert_eq!(
            parse_list("--add-modules", "a,b c,,").unwrap(),
            ["a", "b", "c"]
        );
        let err = parse_list("--omit-modules", " , ").unwrap_err().to_string();
        assert!(err.contains("--omit-modules: no module names"), "{err}");
    }
}
