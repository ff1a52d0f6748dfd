//! The devices of the machine the packer runs on, as the kernel names them
//! for module loading (`MODALIAS`), for `--host-only`: an image for one
//! kind of server packs only the drivers its hardware needs (booster's
//! default). Matching uses the init's own alias table, so the packer keeps
//! exactly the drivers the init would load on this machine.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Result};
use liveinit::kmod::alias::AliasTable;

use crate::kmods::Modules;

/// Every `modalias` under a sysfs tree's `devices/`.
#[derive(Debug, Default)]
pub struct HostDevices {
    modaliases: BTreeSet<String>,
}

impl HostDevices {
    /// Reads `<sysfs>/devices/**/modalias` (symlinks not followed: sysfs
    /// links the same devices from many places).
    pub fn scan(sysfs: &Path) -> Result<HostDevices> {
        let devices = sysfs.join("devices");
        if !devices.is_dir() {
            bail!(
                "--host-only: {} is not a directory (is sysfs mounted?)",
                devices.display()
            );
        }
        let mut found = HostDevices::default();
        found.walk(&devices)?;
        Ok(found)
    }

    fn walk(&mut self, dir: &Path) -> Result<()> {
        // Devices come and go while we walk; a vanished entry is not an error.
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                self.walk(&entry.path())?;
            } else if kind.is_file() && entry.file_name() == "modalias" {
                // Reading some attributes can fail (permissions); skip those.
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    let alias = text.trim();
                    if !alias.is_empty() {
                        self.modaliases.insert(alias.to_owned());
                    }
                }
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.modaliases.len()
    }

    /// The modules among `candidates` that serve at least one device here,
    /// in `candidates`' order.
    pub fn matching_modules(&self, candidates: &Modules) -> Vec<String> {
        let table = AliasTable::parse(&candidates.alias_file());
        let serving: BTreeSet<&str> = self
            .modaliases
            .iter()
            .flat_map(|alias| table.modules_for(alias))
            .collect();
        candidates
            .modules
            .iter()
            .filter(|m| serving.contains(m.name.as_str()))
            .map(|m| m.name.clone())
            .collect()
    }
}

/// The running machine's sysfs.
pub const SYSFS: &str = "/sys";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmods::Module;
    use crate::testutil::{put_file, TempDir};

    fn module(name: &str, aliases: &[&str]) -> Module {
        Module {
            name: name.into(),
            archive_path: format!("lib/modules/t/{name}.ko"),
            data: Vec::new(),
            deps: Vec::new(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            firmware: Vec::new(),
        }
    }

    #[test]
    fn scans_modaliases_and_matches_them_like_the_init() {
        let tmp = TempDir::new("host-devices");
        let sys = tmp.path();
        put_file(
            &sys.join("devices/pci0000:00/0000:00:1f.2/modalias"),
            b"pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01\n",
            0o644,
        );
        put_file(
            &sys.join("devices/platform/serial8250/modalias"),
            b"\n",
            0o644,
        );
        std::os::unix::fs::symlink(sys.join("devices"), sys.join("devices/loop")).unwrap();
        let host = HostDevices::scan(sys).unwrap();
        assert_eq!(host.len(), 1);
        let candidates = Modules {
            version: "t".into(),
            modules: vec![
                module("nvme", &["pci:v*d*sv*sd*bc01sc08i02*"]),
                module("ahci", &["pci:v*d*sv*sd*bc01sc06i01*"]),
                module("xhci_hcd", &[]),
            ],
            omitted: Vec::new(),
        };
        assert_eq!(host.matching_modules(&candidates), ["ahci"]);
    }

    #[test]
    fn a_tree_without_devices_is_an_error() {
        let tmp = TempDir::new("host-devices-none");
        let err = HostDevices::scan(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("is sysfs mounted"), "{err}");
    }
}
