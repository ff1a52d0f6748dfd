//! Picks the kernel modules a live boot needs out of a `lib/modules/<version>`
//! tree, with everything they depend on, in an order the init can load them
//! (it has no modprobe and no decompressor), and writes what the init needs
//! to load them by need: their aliases ([`Modules::alias_file`]) and
//! dependencies ([`Modules::dep_file`]).
//!
//! Dependencies come from `modules.dep` when the tree has one. A distribution
//! package (Debian's linux-image) ships none — depmod writes it at install
//! time — so then they are read from each module's own `.modinfo depends=`,
//! which is what depmod itself derives `modules.dep` from. Soft
//! dependencies (`softdep=pre:`) are always read from `.modinfo`, because
//! modprobe would honour them and the init cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::compress;
use crate::elf::Elf;

/// Storage and USB controllers a live medium may sit behind. The init
/// loads a controller's driver when a device's MODALIAS matches one of its
/// aliases.
pub const DRIVERS: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "ahci",
    "ata_piix",
    "nvme",
    "sr_mod",
    "sd_mod",
    "usb_storage",
    "uas",
    "xhci_pci",
    "xhci_hcd",
    "ehci_pci",
    "ehci_hcd",
    "uhci_hcd",
    "ohci_pci",
];

/// Network cards packed by default, for network roots and `rd.neednet`
/// (issue 14): the virtual machines' NICs and the common small ones, with
/// VLAN support. Measured on Debian 6.1.0-57: +738 KB of zstd initramfs
/// (4,099,277 -> 4,837,379 bytes, 64 -> 86 modules with dependencies)
/// (see [`NIC_DRIVERS_SERVER`] for the rest).
pub const NIC_DRIVERS: &[&str] = liveinit::contract::NIC_DRIVERS;

/// Server NICs, packed with `--all-nics`: they add another 2.16 MB (to
/// 6,995,890 bytes, 100 modules) to
/// every initramfs (mlx5_core alone is 3.8 MB unpacked), which a live CD
/// user should not pay for.
pub const NIC_DRIVERS_SERVER: &[&str] = liveinit::contract::NIC_DRIVERS_SERVER;

/// What the packer packs by default: the drivers, then what the initramfs
/// contract says the init may ask for (every filesystem a probe recognises
/// with what it needs at mount time, and the block layers of the plans).
pub fn wanted() -> Vec<&'static str> {
    let mut wanted = DRIVERS.to_vec();
    wanted.extend(NIC_DRIVERS);
    wanted.extend(liveinit::contract::stack_modules());
    wanted
}

/// A module ready for the archive: decompressed, at its final path.
#[derive(Debug)]
pub struct Module {
    /// Normalised name, e.g. `virtio_blk`.
    pub name: String,
    /// e.g. `lib/modules/6.1.0-40-amd64/kernel/drivers/block/virtio_blk.ko`
    pub archive_path: String,
    pub data: Vec<u8>,
    /// Packed modules it needs loaded first (hard and `softdep pre:`).
    pub deps: Vec<String>,
    /// Its `.modinfo` `alias=` patterns, in order.
    pub aliases: Vec<String>,
    /// Its `.modinfo` `firmware=` files (relative to `/lib/firmware`).
    pub firmware: Vec<String>,
}

#[derive(Debug)]
pub struct Modules {
    pub version: String,
    /// In load order: every module after all of its dependencies.
    pub modules: Vec<Module>,
    /// Modules left out on request although something asked for them:
    /// (module, the packed module that needs it; None when it was wanted).
    pub omitted: Vec<(String, Option<String>)>,
}

impl Modules {
    /// Every module, one absolute path per line, in load order.
    pub fn load_list(&self) -> String {
        self.modules
            .iter()
            .map(|m| format!("/{}\n", m.archive_path))
            .collect()
    }

    /// `etc/liveinit/modules.alias`: `alias <pattern> <module>` for every
    /// alias of every packed module (the kernel's `modules.alias` format),
    /// modules in load order, aliases in `.modinfo` order.
    pub fn alias_file(&self) -> String {
        let mut text = String::new();
        for m in &self.modules {
            for alias in &m.aliases {
                text.push_str(&format!("alias {alias} {}\n", m.name));
            }
        }
        text
    }

    /// `etc/liveinit/modules.dep`: per module, in load order,
    /// `/path: /dependency …` with every module it needs, directly or not,
    /// in load order (a module's line comes after its dependencies' lines).
    pub fn dep_file(&self) -> String {
        let mut text = String::new();
        for m in &self.modules {
            let closure = self.closure(std::iter::once(m));
            text.push_str(&format!("/{}:", m.archive_path));
            for dep in self.modules.iter().filter(|d| d.name != m.name) {
                if closure.contains(&dep.name) {
                    text.push_str(&format!(" /{}", dep.archive_path));
                }
            }
            text.push('\n');
        }
        text
    }

    /// The names of `roots` and of everything they need.
    fn closure<'a>(&'a self, roots: impl Iterator<Item = &'a Module>) -> BTreeSet<String> {
        let by_name: BTreeMap<&str, &Module> =
            self.modules.iter().map(|m| (m.name.as_str(), m)).collect();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Module> = roots.collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m.name.clone()) {
                todo.extend(m.deps.iter().filter_map(|d| by_name.get(d.as_str())));
            }
        }
        seen
    }
}

/// Resolves `wanted` in the tree at `dir` and reads the modules in.
/// Missing modules are reported on stderr, not treated as errors: a kernel
/// may simply not have a given driver.
pub fn collect(dir: &Path, wanted: &[&str]) -> Result<Modules> {
    Tree::open(dir)?.collect(wanted, &BTreeSet::new())
}

/// A `lib/modules/<version>` tree: which modules it has, which are built
/// into the kernel, and the dependencies depmod recorded (if it ran).
#[derive(Debug)]
pub struct Tree {
    dir: std::path::PathBuf,
    pub version: String,
    builtin: BTreeSet<String>,
    /// name → path relative to `dir`.
    paths: BTreeMap<String, String>,
    /// name → dependency names, from `modules.dep` when there is one.
    depmod: BTreeMap<String, Vec<String>>,
}

impl Tree {
    pub fn open(dir: &Path) -> Result<Tree> {
        let version = dir
            .file_name()
            .and_then(|v| v.to_str())
            .with_context(|| format!("{}: cannot tell the kernel version", dir.display()))?
            .to_owned();
        let builtin = match std::fs::read_to_string(dir.join("modules.builtin")) {
            Ok(text) => parse_builtin(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(e).context(format!("{}/modules.builtin", dir.display())),
        };
        let dep_file = dir.join("modules.dep");
        let (paths, depmod) = if dep_file.exists() {
            let text = std::fs::read_to_string(&dep_file)
                .with_context(|| format!("reading {}", dep_file.display()))?;
            parse_modules_dep(&text)
        } else {
            (find_modules(dir)?, BTreeMap::new())
        };
        Ok(Tree {
            dir: dir.to_path_buf(),
            version,
            builtin,
            paths,
            depmod,
        })
    }

    /// Whether the tree has `name` as a loadable module.
    pub fn has(&self, name: &str) -> bool {
        self.paths.contains_key(&module_name(name))
    }

    /// Whether `name` is built into the kernel (nothing to load or pack).
    pub fn is_builtin(&self, name: &str) -> bool {
        self.builtin.contains(&module_name(name))
    }

    /// Resolves `wanted` with its dependencies, leaving out `omit` (which
    /// [`Modules::omitted`] then reports with who needed them), and reads
    /// the modules in. Missing modules are reported on stderr.
    pub fn collect(&self, wanted: &[&str], omit: &BTreeSet<String>) -> Result<Modules> {
        let (dir, paths) = (&self.dir, &self.paths);
        let mut depmod = self.depmod.clone();
        // Every module is read (and decompressed) once: for its .modinfo
        // while resolving, then for the archive.
        let mut plain: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut infos: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
        let mut resolution = resolve(
            wanted,
            &self.builtin,
            |name| paths.contains_key(name) && !omit.contains(name),
            |name| {
                let path = &paths[name];
                let data = read_module(&dir.join(path))?;
                let info = modinfo_deps(&data).with_context(|| format!(".modinfo of {path}"))?;
                infos.insert(
                    name.to_owned(),
                    (modinfo_aliases(&data)?, modinfo_firmware(&data)?),
                );
                plain.insert(name.to_owned(), data);
                // depmod's view wins when there is one; soft deps are not in it.
                let hard = depmod.remove(name).unwrap_or(info.hard);
                Ok(Deps {
                    hard,
                    soft: info.soft,
                })
            },
        )?;
        let (omitted, missing): (Vec<_>, Vec<_>) = std::mem::take(&mut resolution.missing)
            .into_iter()
            .partition(|(name, _)| omit.contains(name));
        for (name, needed_by) in &missing {
            match needed_by {
                None => eprintln!(
                    "warning: module {name} is neither in {} nor built in",
                    dir.display()
                ),
                Some(by) => eprintln!("warning: module {name}, needed by {by}, is missing"),
            }
        }
        for name in &resolution.cycle_breaks {
            eprintln!("warning: module {name} is in a dependency cycle; loading it early");
        }

        let mut modules = Vec::new();
        for name in resolution.order {
            let path = &paths[&name];
            let stored = strip_compression(path).unwrap_or(path);
            let (aliases, firmware) = infos.remove(&name).unwrap_or_default();
            modules.push(Module {
                archive_path: format!("lib/modules/{}/{stored}", self.version),
                data: plain.remove(&name).unwrap_or_default(),
                deps: resolution.deps.remove(&name).unwrap_or_default(),
                aliases,
                firmware,
                name,
            });
        }
        Ok(Modules {
            version: self.version.clone(),
            modules,
            omitted,
        })
    }
}

/// The outcome of a dependency closure, names normalised.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resolution {
    pub order: Vec<String>,
    pub builtin: Vec<String>,
    /// (module, the module that needed it; None when it was asked for).
    pub missing: Vec<(String, Option<String>)>,
    /// Modules emitted before all their dependencies to break a cycle.
    pub cycle_breaks: Vec<String>,
    /// Per module in `order`, the modules of `order` it needs first.
    pub deps: BTreeMap<String, Vec<String>>,
}

/// What one module needs loaded before it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deps {
    /// Symbols it links against: must be present.
    pub hard: Vec<String>,
    /// `softdep pre:` modules: loaded first when we have them, else ignored.
    pub soft: Vec<String>,
}

/// Closes `wanted` under `deps_of`, then orders the set topologically, ties
/// (and cycles) broken by name so the result is deterministic.
pub fn resolve(
    wanted: &[&str],
    builtin: &BTreeSet<String>,
    exists: impl Fn(&str) -> bool,
    mut deps_of: impl FnMut(&str) -> Result<Deps>,
) -> Result<Resolution> {
    let mut res = Resolution::default();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut todo: Vec<(String, Option<String>)> =
        wanted.iter().map(|w| (module_name(w), None)).collect();
    while let Some((name, needed_by)) = todo.pop() {
        if graph.contains_key(&name) {
            continue;
        }
        if !exists(&name) {
            if builtin.contains(&name) {
                res.builtin.push(name);
            } else {
                res.missing.push((name, needed_by));
            }
            continue;
        }
        let Deps { hard, soft } = deps_of(&name)?;
        let soft = soft.iter().map(|d| module_name(d)).filter(|d| exists(d));
        let deps: BTreeSet<String> = hard.iter().map(|d| module_name(d)).chain(soft).collect();
        todo.extend(deps.iter().map(|d| (d.clone(), Some(name.clone()))));
        graph.insert(name, deps);
    }
    // Only modules we ship need ordering; built-in or missing ones are gone.
    let shipped: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| shipped.contains(d));
    }
    res.deps = graph
        .iter()
        .map(|(name, deps)| (name.clone(), deps.iter().cloned().collect()))
        .collect();
    while !graph.is_empty() {
        let ready = graph.iter().find(|(_, deps)| deps.is_empty());
        let next = match ready {
            Some((name, _)) => name.clone(),
            None => {
                let first = graph.keys().next().cloned().unwrap_or_default();
                res.cycle_breaks.push(first.clone());
                first
            }
        };
        graph.remove(&next);
        for deps in graph.values_mut() {
            deps.remove(&next);
        }
        res.order.push(next);
    }
    for list in [&mut res.builtin, &mut res.cycle_breaks] {
        list.sort();
        list.dedup();
    }
    res.missing.sort();
    res.missing.dedup_by(|a, b| a.0 == b.0);
    Ok(res)
}

pub use liveinit::contract::module_name;

const COMPRESSED: &[&str] = &[".xz", ".zst", ".gz"];

/// `x.ko.xz` → `x.ko`; None when `path` is not a compressed module.
fn strip_compression(path: &str) -> Option<&str> {
    COMPRESSED
        .iter()
        .find_map(|ext| path.strip_suffix(ext))
        .filter(|p| p.ends_with(".ko"))
}

fn is_module_file(path: &str) -> bool {
    path.ends_with(".ko") || strip_compression(path).is_some()
}

/// `modules.builtin` lists one module path per line.
pub fn parse_builtin(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(module_name)
        .collect()
}

/// `kernel/a.ko.xz: kernel/b.ko.xz kernel/c.ko.xz` lines, as
/// (name → path, name → dependency names).
pub fn parse_modules_dep(text: &str) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut paths = BTreeMap::new();
    let mut deps = BTreeMap::new();
    for line in text.lines() {
        let Some((module, needs)) = line.split_once(':') else {
            continue;
        };
        let name = module_name(module.trim());
        paths.insert(name.clone(), module.trim().to_owned());
        deps.insert(name, needs.split_whitespace().map(module_name).collect());
    }
    (paths, deps)
}

/// Every module file below `dir` (symlinks such as `build` not followed),
/// as name → path relative to `dir`; the first path in sorted order wins.
fn find_modules(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    let mut paths = BTreeMap::new();
    for rel in files.into_iter().filter(|f| is_module_file(f)) {
        paths.entry(module_name(&rel)).or_insert(rel);
    }
    Ok(paths)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir.join(rel))
        .with_context(|| format!("listing {}", dir.join(rel).display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(dir, &child, out)?;
        } else if kind.is_file() {
            out.push(child);
        }
    }
    Ok(())
}

/// The module as the kernel's finit_module wants it: a plain ELF object.
fn read_module(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.to_string_lossy();
    let data = if name.ends_with(".ko.xz") {
        compress::xz_decode(&raw)
    } else if name.ends_with(".ko.zst") {
        compress::zstd_decode(&raw)
    } else if name.ends_with(".ko.gz") {
        compress::gzip_decode(&raw)
    } else {
        Ok(raw)
    }
    .with_context(|| format!("decompressing {}", path.display()))?;
    if !data.starts_with(b"\x7fELF") {
        bail!("{} is not an ELF kernel module", path.display());
    }
    Ok(data)
}

/// Soft dependencies may name a crypto algorithm, which modprobe would map to
/// a module through modules.alias; these are the ones our modules ask for.
const SOFTDEP_ALIASES: &[(&str, &str)] = &[
    ("crc32c", "crc32c_generic"),
    ("crypto_crc32c", "crc32c_generic"),
];

/// `depends=` and the `pre:` part of `softdep=` from an ELF module's
/// `.modinfo` section.
pub fn modinfo_deps(module: &[u8]) -> Result<Deps> {
    let info = modinfo(module)?;
    let value = |key: &[u8]| -> String {
        let found = info.split(|&b| b == 0).find_map(|kv| kv.strip_prefix(key));
        String::from_utf8_lossy(found.unwrap_or_default()).into_owned()
    };
    let hard = value(b"depends=")
        .split(',')
        .filter(|d| !d.is_empty())
        .map(module_name)
        .collect();
    let mut soft = Vec::new();
    let mut in_pre = false;
    for word in value(b"softdep=").split_whitespace() {
        match word {
            "pre:" => in_pre = true,
            "post:" => in_pre = false,
            name if in_pre => {
                let name = module_name(name);
                let alias = SOFTDEP_ALIASES.iter().find(|(a, _)| *a == name);
                soft.push(alias.map_or(name, |(_, module)| module.to_string()));
            }
            _ => {}
        }
    }
    Ok(Deps { hard, soft })
}

/// The `alias=` patterns of an ELF module's `.modinfo` section, in order.
pub fn modinfo_aliases(module: &[u8]) -> Result<Vec<String>> {
    let info = modinfo(module)?;
    Ok(info
        .split(|&b| b == 0)
        .filter_map(|kv| kv.strip_prefix(b"alias="))
        .map(|alias| String::from_utf8_lossy(alias).into_owned())
        .filter(|alias| !alias.is_empty() && !alias.contains(char::is_whitespace))
        .collect())
}

/// The `firmware=` files of an ELF module's `.modinfo` section, in order.
pub fn modinfo_firmware(module: &[u8]) -> Result<Vec<String>> {
    let info = modinfo(module)?;
    Ok(info
        .split(|&b| b == 0)
        .filter_map(|kv| kv.strip_prefix(b"firmware="))
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .filter(|name| !name.is_empty())
        .collect())
}

/// The `.modinfo` section of an ELF module: `key=value` strings, each
/// NUL-terminated.
fn modinfo(module: &[u8]) -> Result<&[u8]> {
    Elf::parse(module)?
        .section_data(".modinfo")?
        .context("no .modinfo section")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{fake_module, put_file, TempDir};

    const DEP: &str = "\
kernel/drivers/virtio/virtio_ring.ko.xz:
kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/usb/storage/usb-storage.ko.zst: kernel/drivers/usb/core/usbcore.ko kernel/drivers/scsi/scsi_mod.ko
kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/common/usb-common.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/x/cyc_b.ko: kernel/x/cyc_a.ko
kernel/x/cyc_a.ko: kernel/x/cyc_b.ko kernel/x/gone.ko
";

    fn run(wanted: &[&str], builtin: &[&str]) -> Resolution {
        run_soft(wanted, builtin, &[])
    }

    fn run_soft(wanted: &[&str], builtin: &[&str], soft: &[(&str, &str)]) -> Resolution {
        let (paths, deps) = parse_modules_dep(DEP);
        let builtin = builtin.iter().map(|b| b.to_string()).collect();
        let soft_of = |n: &str| {
            let pre = soft.iter().filter(|(m, _)| *m == n);
            pre.map(|(_, d)| d.to_string()).collect()
        };
        let deps_of = |n: &str| {
            Ok(Deps {
                hard: deps[n].clone(),
                soft: soft_of(n),
            })
        };
        resolve(wanted, &builtin, |n| paths.contains_key(n), deps_of).unwrap()
    }

    #[test]
    fn names_ignore_dashes_paths_and_compression() {
        assert_eq!(module_name("kernel/a/usb-storage.ko.zst"), "usb_storage");
        assert_eq!(module_name("nls_iso8859-1"), "nls_iso8859_1");
        assert_eq!(module_name("x.ko"), "x");
        assert_eq!(strip_compression("a/b.ko.xz"), Some("a/b.ko"));
        assert_eq!(strip_compression("a/b.ko"), None);
        assert_eq!(strip_compression("notes.xz"), None);
    }

    #[test]
    fn closure_puts_dependencies_first() {
        let r = run(&["virtio_blk", "usb-storage"], &[]);
        assert_eq!(
            r.order,
            [
                "scsi_common",
                "scsi_mod",
                "usb_common",
                "usbcore",
                "usb_storage",
                "virtio_ring",
                "virtio",
                "virtio_blk"
            ]
        );
        assert!(r.missing.is_empty() && r.builtin.is_empty() && r.cycle_breaks.is_empty());
    }

    #[test]
    fn order_does_not_depend_on_the_wanted_order() {
        let a = run(&["usb_storage", "virtio_blk", "virtio"], &[]);
        let b = run(&["virtio", "virtio_blk", "usb_storage", "virtio_blk"], &[]);
        assert_eq!(a, b);
    }

    #[test]
    fn builtin_and_missing_are_reported_not_fatal() {
        let r = run(&["isofs", "virtio_blk", "nope"], &["isofs"]);
        assert_eq!(r.builtin, ["isofs"]);
        assert_eq!(r.missing, [("nope".to_owned(), None)]);
        assert_eq!(r.order, ["virtio_ring", "virtio", "virtio_blk"]);
    }

    #[test]
    fn cycles_terminate_deterministically() {
        let r = run(&["cyc_b"], &[]);
        assert_eq!(r.order, ["cyc_a", "cyc_b"]);
        assert_eq!(r.cycle_breaks, ["cyc_a"]);
        assert_eq!(r.missing, [("gone".to_owned(), Some("cyc_a".to_owned()))]);
    }

    #[test]
    fn soft_deps_order_and_pull_in_only_present_modules() {
        let soft = [("scsi_common", "virtio-ring"), ("scsi_common", "crc32c")];
        let r = run_soft(&["usb_storage"], &["crc32c"], &soft);
        assert_eq!(
            r.order,
            [
                "usb_common",
                "usbcore",
                "virtio_ring",
                "scsi_common",
                "scsi_mod",
                "usb_storage"
            ]
        );
        assert!(r.missing.is_empty() && r.builtin.is_empty());
    }

    #[test]
    fn builtin_list_parses_paths() {
        let b = parse_builtin("kernel/fs/isofs/isofs.ko\n\nkernel/drivers/block/loop.ko\n");
        assert_eq!(b.into_iter().collect::<Vec<_>>(), ["isofs", "loop"]);
    }

    #[test]
    fn modinfo_gives_depends_and_pre_softdeps() {
        let m = fake_module(
            b"license=GPL\0depends=virtio,virtio_ring,dm-mod\0\
              softdep=pre: crypto-crc32c ehci-pci post: zzz\0name=x\0",
        );
        let deps = modinfo_deps(&m).unwrap();
        assert_eq!(deps.hard, ["virtio", "virtio_ring", "dm_mod"]);
        assert_eq!(deps.soft, ["crc32c_generic", "ehci_pci"]);
        let none = fake_module(b"depends=\0name=virtio_ring\0");
        assert_eq!(modinfo_deps(&none).unwrap(), Deps::default());
        assert_eq!(modinfo_deps(&fake_module(b"")).unwrap(), Deps::default());
        assert!(modinfo_deps(b"\x7fELF\x02\x01").is_err());
    }

    fn write(root: &Path, rel: &str, data: &[u8]) {
        put_file(&root.join(rel), data, 0o644);
    }

    /// A tree like a distribution package: no modules.dep, compressed files.
    #[test]
    fn collect_without_modules_dep_reads_modinfo_and_decompresses() {
        let tmp = TempDir::new("kmods");
        let root = tmp.path().join("6.1.0-test");
        let ring = fake_module(b"depends=\0");
        let virtio = fake_module(b"depends=virtio_ring\0");
        let blk = fake_module(b"depends=virtio,virtio-ring\0");
        let xz = compress::Compression::Xz;
        let zstd = compress::Compression::Zstd;
        write(&root, "kernel/v/virtio_ring.ko", &ring);
        write(
            &root,
            "kernel/v/virtio.ko.zst",
            &compress::compress(&virtio, zstd).unwrap(),
        );
        write(
            &root,
            "kernel/b/virtio_blk.ko.xz",
            &compress::compress(&blk, xz).unwrap(),
        );
        write(&root, "modules.builtin", b"kernel/fs/isofs/isofs.ko\n");
        let m = collect(&root, &["virtio-blk", "isofs", "absent"]).unwrap();
        assert_eq!(m.version, "6.1.0-test");
        assert_eq!(
            m.load_list(),
            "/lib/modules/6.1.0-test/kernel/v/virtio_ring.ko\n\
             /lib/modules/6.1.0-test/kernel/v/virtio.ko\n\
             /lib/modules/6.1.0-test/kernel/b/virtio_blk.ko\n"
        );
        assert_eq!(m.modules[1].data, virtio);
        assert_eq!(m.modules[2].data, blk);
    }

    #[test]
    fn modinfo_gives_aliases_in_order() {
        let m = fake_module(b"alias=pci:v*d*sv*sd*bc01sc06i01*\0depends=\0alias=fs-x\0alias=\0");
        assert_eq!(
            modinfo_aliases(&m).unwrap(),
            ["pci:v*d*sv*sd*bc01sc06i01*", "fs-x"]
        );
    }

    /// The three files the init reads: aliases, dependencies, the list it
    /// always loads.
    #[test]
    fn metadata_files_for_the_init() {
        let tmp = TempDir::new("kmods-meta");
        let root = tmp.path().join("6.1.0-meta");
        write(
            &root,
            "kernel/s/scsi_common.ko",
            &fake_module(b"depends=\0"),
        );
        write(
            &root,
            "kernel/s/scsi_mod.ko",
            &fake_module(b"depends=scsi_common\0"),
        );
        write(&root, "kernel/c/cdrom.ko", &fake_module(b"depends=\0"));
        write(
            &root,
            "kernel/s/sr_mod.ko",
            &fake_module(
                b"alias=scsi:t-0x05*\0alias=scsi:t-0x04*\0depends=scsi_mod,cdrom,scsi_common\0",
            ),
        );
        write(
            &root,
            "kernel/f/isofs.ko",
            &fake_module(b"alias=fs-iso9660\0depends=cdrom\0"),
        );
        let m = collect(&root, &["sr_mod", "isofs"]).unwrap();
        let names: Vec<&str> = m.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["cdrom", "isofs", "scsi_common", "scsi_mod", "sr_mod"]
        );
        assert_eq!(
            m.alias_file(),
            "alias fs-iso9660 isofs\n\
             alias scsi:t-0x05* sr_mod\n\
             alias scsi:t-0x04* sr_mod\n"
        );
        let p = "/lib/modules/6.1.0-meta/kernel";
        assert_eq!(
            m.dep_file(),
            format!(
                "{p}/c/cdrom.ko:\n\
                 {p}/f/isofs.ko: {p}/c/cdrom.ko\n\
                 {p}/s/scsi_common.ko:\n\
                 {p}/s/scsi_mod.ko: {p}/s/scsi_common.ko\n\
                 {p}/s/sr_mod.ko: {p}/c/cdrom.ko {p}/s/scsi_common.ko {p}/s/scsi_mod.ko\n"
            )
        );
    }

    #[test]
    fn the_packer_packs_everything_the_contract_names() {
        let wanted = wanted();
        for fs in liveinit::contract::FsType::ALL {
            let support = liveinit::contract::fs_support(fs);
            for name in std::iter::once(support.module).chain(support.at_mount.iter().copied()) {
                assert!(
                    wanted.contains(&name),
                    "{fs:?} needs {name}, which is not packed"
                );
            }
        }
        for layer in liveinit::contract::BLOCK_LAYERS {
            assert!(wanted.contains(layer), "{layer} is not packed");
        }
    }
}
