//! `cargo xtask initramfs`: build the init and pack a reproducible initramfs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use liveinit::contract;

use crate::builder_options::{self, BuilderOptions};
use crate::compress::{self, Compression};
use crate::https::Https;
use crate::kmods::Tree;
use crate::{build_init, cpio, firmware, microcode};

/// A host file to add to the archive, e.g. a static busybox for `rd.shell`.
#[derive(Debug, Clone)]
pub struct ExtraFile {
    /// Path inside the initramfs, without a leading `/` (e.g. `bin/busybox`).
    pub archive_path: String,
    pub host_path: PathBuf,
    pub mode: u32,
}

#[derive(Debug, Clone)]
pub struct PackOptions {
    /// A `lib/modules/<version>` tree.
    pub modules_dir: PathBuf,
    pub output: PathBuf,
    pub compression: Compression,
    pub extra_files: Vec<ExtraFile>,
    /// A static busybox to pack as `/bin/busybox`, with `/bin/sh` and
    /// common applets linked to it: the shell for `rd.break` / `rd.shell`.
    pub busybox: Option<PathBuf>,
}

/// Where Debian's busybox-static puts its binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";

/// The busybox applets linked in `/bin`: enough to look around and repair.
const BUSYBOX_APPLETS: [&str; 28] = [
    "sh",
    "ls",
    "cat",
    "less",
    "vi",
    "grep",
    "find",
    "mount",
    "umount",
    "dmesg",
    "mkdir",
    "ln",
    "cp",
    "mv",
    "rm",
    "ps",
    "df",
    "stat",
    "free",
    "blkid",
    "losetup",
    "lsmod",
    "insmod",
    "switch_root",
    "reboot",
    "poweroff",
    "sleep",
    "echo",
];

/// Mount points and the like the init expects to exist before it mounts
/// anything; `sysroot` is where the live root gets assembled.
const BASE_DIRS: &[&str] = &["dev", "proc", "sys", "run", "sysroot", "tmp", "etc", "lib"];
pub const MODULES_LOAD: &str = in_archive(contract::MODULES_LOAD);
/// The init loads drivers and filesystems by need; this list is for image
/// builders who want a module on every boot all the same.
const LOAD_LIST_HEADER: &str = "\
# Kernel modules to load on every boot, in the background: one absolute path
# per line, dependencies first. liveinit loads device drivers, filesystems
# and block layers by need without this list.
";
pub const MODULES_ALIAS: &str = in_archive(contract::MODULES_ALIAS);
pub const MODULES_DEP: &str = in_archive(contract::MODULES_DEP);

/// An absolute path of the initramfs as an archive member name (no `/`).
const fn in_archive(path: &'static str) -> &'static str {
    match path.as_bytes() {
        [b'/', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(rel) => rel,
            Err(_) => path,
        },
        _ => path,
    }
}

/// Builds the init for musl, then packs it with the skeleton and modules,
/// and prints a one-line summary.
pub fn pack(opts: &PackOptions) -> Result<()> {
    pack_image(opts, &BuilderOptions::default())
}

/// [`pack`] with an image builder's additions.
pub fn pack_image(opts: &PackOptions, extra: &BuilderOptions) -> Result<()> {
    // Cheap checks first, before a release build of the init.
    if !opts.modules_dir.is_dir() {
        bail!(
            "--modules-dir {}: not a directory",
            opts.modules_dir.display()
        );
    }
    let mtime = source_date_epoch()?;
    let archive = build_and_assemble(opts, extra)?;
    let cpio = archive.cpio.to_bytes(mtime)?;
    let mut bytes = match &extra.microcode {
        Some(dir) => microcode::early_cpio(dir, mtime)?,
        None => Vec::new(),
    };
    let early = bytes.len();
    bytes.extend(compress::compress(&cpio, opts.compression)?);
    write_atomically(&opts.output, &bytes)?;
    println!(
        "initramfs: {} ({} bytes, {} modules for {}, {} firmware files, {}{}{})",
        opts.output.display(),
        bytes.len(),
        archive.module_count,
        archive.kernel_version,
        archive.firmware_count,
        opts.compression,
        match &extra.https {
            Some(https) => format!(
                ", HTTPS trusting {} ({} certificate{})",
                https.source.display(),
                https.certificates,
                if https.certificates == 1 { "" } else { "s" }
            ),
            None => String::new(),
        },
        if early > 0 {
            format!(", early microcode cpio of {early} bytes first")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The uncompressed archive [`pack_image`] would write (without microcode).
pub fn cpio_bytes(opts: &PackOptions, extra: &BuilderOptions) -> Result<Vec<u8>> {
    Ok(build_and_assemble(opts, extra)?
        .cpio
        .to_bytes(source_date_epoch()?)?)
}

fn build_and_assemble(opts: &PackOptions, extra: &BuilderOptions) -> Result<Assembled> {
    if extra.microcode.is_some() && extra.target != build_init::Target::X86_64 {
        bail!("--microcode: early microcode loading is for x86 CPUs only");
    }
    let init = match extra.https {
        Some(_) => build_init::build_https(extra.target)?,
        None => build_init::build_for(extra.target)?,
    };
    let skel = build_init::workspace_root().join("initramfs-skel");
    assemble(&init, &skel, opts, extra)
}

/// The archive before serialisation, with what the summary reports.
pub(crate) struct Assembled {
    pub cpio: cpio::Archive,
    pub module_count: usize,
    pub firmware_count: usize,
    pub kernel_version: String,
}

/// Everything that goes into the initramfs, from an already built init.
/// Later additions override earlier ones at the same path, so extra files
/// can replace anything from the skeleton.
pub(crate) fn assemble(
    init: &Path,
    skel: &Path,
    opts: &PackOptions,
    extra: &BuilderOptions,
) -> Result<Assembled> {
    let mut a = cpio::Archive::new();
    for dir in BASE_DIRS {
        a.dir(dir, 0o755)?;
    }
    // Normally the kernel's built-in cpio provides it; not with a custom
    // CONFIG_INITRAMFS_SOURCE, and the init needs a console from the start.
    a.char_dev("dev/console", 0o600, 5, 1)?;
    if skel.is_dir() {
        add_tree(&mut a, skel, "", "")?;
    }
    let modules = extra.modules.collect(&Tree::open(&opts.modules_dir)?)?;
    if let Some(m) = modules.modules.first() {
        let machine = crate::elf::Elf::parse(&m.data)?.machine();
        if machine != extra.target.elf_machine() {
            bail!(
                "--modules-dir {}: its modules are for ELF machine {machine}, not for the \
                 init's target {} (--target)",
                opts.modules_dir.display(),
                extra.target.triple()
            );
        }
    }
    a.file(MODULES_LOAD, 0o644, LOAD_LIST_HEADER.as_bytes().to_vec())?;
    a.file(MODULES_ALIAS, 0o644, modules.alias_file().into_bytes())?;
    a.file(MODULES_DEP, 0o644, modules.dep_file().into_bytes())?;
    for m in &modules.modules {
        a.file(&m.archive_path, 0o644, m.data.clone())?;
    }
    let mut firmware_count = 0;
    if let Some(dir) = &extra.firmware_dir {
        let found = firmware::collect(dir, &modules)?;
        for (module, files) in found.missing_by_module() {
            eprintln!(
                "warning: {module}: {} declared firmware files are not in {} (first: {})",
                files.len(),
                dir.display(),
                files.first().copied().unwrap_or_default()
            );
        }
        firmware_count = found.files.len();
        for file in found.files {
            a.file(&file.archive_path, 0o644, file.data)?;
        }
    }
    a.file("init", 0o755, read(init)?)?;
    if let Some(busybox) = &opts.busybox {
        let bytes = read(busybox)?;
        crate::build_init::check_static(&bytes, extra.target).with_context(|| {
            format!(
                "{} cannot run in the initramfs, which has no libraries \
                 (on Debian: apt-get install busybox-static)",
                busybox.display()
            )
        })?;
        a.file("bin/busybox", 0o755, bytes)?;
        for applet in BUSYBOX_APPLETS {
            a.symlink(&format!("bin/{applet}"), "busybox")?;
        }
    }
    for extra in &opts.extra_files {
        a.file(&extra.archive_path, extra.mode, read(&extra.host_path)?)
            .with_context(|| format!("extra file {}", extra.host_path.display()))?;
    }
    for include in &extra.includes {
        if include.source.is_dir() {
            a.dir(&include.dest, 0o755)?;
            add_tree(&mut a, &include.source, "", &include.dest)?;
        } else {
            add_file(&mut a, &include.source, &include.dest)?;
        }
    }
    if let Some(https) = &extra.https {
        a.file(Https::archive_path(), 0o644, https.pem.clone())?;
    }
    if let Some(text) = &extra.cmdline {
        let conf = builder_options::cmdline_conf(text);
        a.file(builder_options::BAKED_CMDLINE, 0o644, conf.into_bytes())?;
    }
    Ok(Assembled {
        cpio: a,
        module_count: modules.modules.len(),
        firmware_count,
        kernel_version: modules.version,
    })
}

/// Copies a host tree below `prefix` of the archive (`""`: its root).
fn add_tree(a: &mut cpio::Archive, root: &Path, rel: &str, prefix: &str) -> Result<()> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let host = entry.path();
        let name = entry.file_name();
        let name = name
            .to_str()
            .with_context(|| format!("{}: file name is not UTF-8", host.display()))?;
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let dest = if prefix.is_empty() {
            child.clone()
        } else {
            format!("{prefix}/{child}")
        };
        let meta = entry.metadata()?;
        let kind = meta.file_type();
        if kind.is_dir() {
            a.dir(
                &dest,
                dir_mode(std::os::unix::fs::PermissionsExt::mode(&meta.permissions())),
            )?;
            add_tree(a, root, &child, prefix)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&host)?;
            let target = target
                .to_str()
                .with_context(|| format!("{}: link target is not UTF-8", host.display()))?;
            a.symlink(&dest, target)?;
        } else if kind.is_file() {
            add_file(a, &host, &dest)?;
        } else {
            bail!(
                "{}: only files, directories and symlinks are supported",
                host.display()
            );
        }
    }
    Ok(())
}

/// A skeleton directory keeps what its mode says on purpose: the sticky
/// bit (a `tmp`: 1777) and a directory closed to others (a `root`: 0700).
/// Group and other write bits, which only say which umask checked the tree
/// out (git keeps no directory modes), are dropped, so the archive is the
/// same for every builder.
fn dir_mode(host: u32) -> u32 {
    if host & 0o1000 != 0 {
        0o1777
    } else if host & 0o077 == 0 {
        0o700
    } else {
        0o755
    }
}

/// Only the executable bit of a host file's mode matters, so the archive
/// does not depend on the umask of whoever checked it out.
fn add_file(a: &mut cpio::Archive, host: &Path, dest: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(host).with_context(|| format!("reading {}", host.display()))?;
    let exec = meta.permissions().mode() & 0o111 != 0;
    a.file(dest, if exec { 0o755 } else { 0o644 }, read(host)?)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The reproducible-builds convention for "the time of this build".
fn source_date_epoch() -> Result<u32> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(std::env::VarError::NotPresent) => Ok(0),
        Err(e) => bail!("SOURCE_DATE_EPOCH: {e}"),
        Ok(v) => parse_epoch(&v),
    }
}

fn parse_epoch(v: &str) -> Result<u32> {
    let secs: u64 = v
        .trim()
        .parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH='{v}' is not a number of seconds"))?;
    u32::try_from(secs)
        .with_context(|| format!("SOURCE_DATE_EPOCH={v} does not fit cpio's 32 bits"))
}

/// Writes next to the target and renames, so a failed run never leaves a
/// truncated image where a boot test would pick it up.
fn write_atomically(output: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, output).with_context(|| format!("renaming to {}", output.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{put_file as put, read_cpio as parse, TempDir};

    /// A fake init, skeleton, modules tree (with modules.dep) and extra file.
    fn fixture(tmp: &Path) -> (PathBuf, PathBuf, PackOptions) {
        let init = tmp.join("init-bin");
        put(&init, b"\x7fELF fake init", 0o755);
        let skel = tmp.join("skel");
        put(&skel.join("etc/initrd-release"), b"NAME=x\n", 0o664);
        put(&skel.join("usr/bin/hook"), b"#!/bin/sh\n", 0o700);
        for (dir, mode) in [("tmp", 0o1777), ("root", 0o700), ("usr", 0o775)] {
            std::fs::create_dir_all(skel.join(dir)).unwrap();
            std::fs::set_permissions(
                skel.join(dir),
                <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode),
            )
            .unwrap();
        }
        std::os::unix::fs::symlink("usr/bin", skel.join("bin")).unwrap();
        let kdir = tmp.join("lib/modules/6.1.0-t");
        let ko = crate::testutil::fake_module(b"depends=\0");
        let zst = compress::compress(&ko, Compression::Zstd).unwrap();
        put(
            &kdir.join("kernel/fs/overlayfs/overlay.ko.zst"),
            &zst,
            0o644,
        );
        put(&kdir.join("kernel/fs/fat/fat.ko"), &ko, 0o644);
        put(&kdir.join("kernel/fs/fat/vfat.ko"), &ko, 0o644);
        let dep = "kernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\nkernel/fs/fat/fat.ko:\n\
                   kernel/fs/overlayfs/overlay.ko.zst:\n";
        put(&kdir.join("modules.dep"), dep.as_bytes(), 0o644);
        put(
            &kdir.join("modules.builtin"),
            b"kernel/fs/isofs/isofs.ko\n",
            0o644,
        );
        let extra = tmp.join("busybox");
        put(&extra, b"bb", 0o600);
        let opts = PackOptions {
            modules_dir: kdir,
            output: tmp.join("out.img"),
            compression: Compression::Zstd,
            busybox: None,
            extra_files: vec![ExtraFile {
                archive_path: "usr/bin/busybox".into(),
                host_path: extra,
                mode: 0o755,
            }],
        };
        (init, skel, opts)
    }

    #[test]
    fn archive_has_base_dirs_console_skeleton_modules_init_and_extras() {
        let tmp = TempDir::new("assemble");
        let (init, skel, opts) = fixture(tmp.path());
        let a = assemble(&init, &skel, &opts, &BuilderOptions::default()).unwrap();
        assert_eq!((a.module_count, &a.kernel_version[..]), (3, "6.1.0-t"));
        let entries = parse(&a.cpio.to_bytes(7).unwrap());
        let find = |name: &str| {
            entries
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        // (The skeleton's tmp is sticky: below.)
        for dir in BASE_DIRS.iter().filter(|d| **d != "tmp") {
            assert_eq!(find(dir).mode, 0o040_755, "{dir}");
        }
        assert_eq!(
            (find("dev/console").mode, find("dev/console").rdev),
            (0o020_600, (5, 1))
        );
        assert_eq!(find("etc/initrd-release").mode, 0o100_644);
        // Skeleton directories keep their sticky bit or closed mode; a
        // umask's group-write bit does not reach the archive.
        assert_eq!(find("tmp").mode, 0o041_777);
        assert_eq!(find("root").mode, 0o040_700);
        assert_eq!(find("usr").mode, 0o040_755);
        assert_eq!(find("usr/bin/hook").mode, 0o100_755);
        assert_eq!(find("bin").data, b"usr/bin");
        assert_eq!(find("init").mode, 0o100_755);
        assert_eq!(find("init").data, b"\x7fELF fake init");
        assert_eq!(find("usr/bin/busybox").mode, 0o100_755);
        let overlay = find("lib/modules/6.1.0-t/kernel/fs/overlayfs/overlay.ko");
        assert!(overlay.data.starts_with(b"\x7fELF"), "stored decompressed");
        // Nothing is loaded on every boot: everything goes by need.
        assert_eq!(find(MODULES_LOAD).data, LOAD_LIST_HEADER.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&find(MODULES_DEP).data),
            "/lib/modules/6.1.0-t/kernel/fs/fat/fat.ko:\n\
             /lib/modules/6.1.0-t/kernel/fs/overlayfs/overlay.ko:\n\
             /lib/modules/6.1.0-t/kernel/fs/fat/vfat.ko: /lib/modules/6.1.0-t/kernel/fs/fat/fat.ko\n"
        );
        assert_eq!(find(MODULES_ALIAS).data, b"");
        let names: Vec<&str> = entries.iter().map(|e| &e.name[..]).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for name in &names {
            if let Some((parent, _)) = name.rsplit_once('/') {
                let p = names.iter().position(|n| n == &parent).unwrap();
                let c = names.iter().position(|n| n == name).unwrap();
                assert!(p < c, "{parent} after {name}");
            }
        }
    }

    #[test]
    fn busybox_is_packed_with_its_applet_links() {
        let tmp = TempDir::new("busybox");
        let (init, _, mut opts) = fixture(tmp.path());
        // The fixture's skeleton links bin -> usr/bin; ours has no bin.
        let skel = tmp.path().join("no-skeleton");
        let host_busybox = Path::new(DEFAULT_BUSYBOX);
        assert!(
            host_busybox.exists(),
            "busybox-static is a host package of the test suite"
        );
        opts.busybox = Some(host_busybox.to_path_buf());
        let a = assemble(&init, &skel, &opts, &BuilderOptions::default()).unwrap();
        let entries = parse(&a.cpio.to_bytes(7).unwrap());
        let find = |name: &str| entries.iter().find(|e| e.name == name).unwrap();
        assert_eq!(find("bin/busybox").mode, 0o100_755);
        assert_eq!(find("bin/sh").data, b"busybox");
        assert_eq!(find("bin/sh").mode & 0o170_000, 0o120_000);

        // A dynamically linked binary would not run: refuse it.
        opts.busybox = Some(PathBuf::from("/bin/ls"));
        let Err(err) = assemble(&init, &skel, &opts, &BuilderOptions::default()) else {
            panic!("a dynamic busybox was accepted");
        };
        assert!(format!("{err:#}").contains("busybox-static"), "{err:#}");
    }

    #[test]
    fn empty_modules_dir_still_writes_the_load_list_for_image_builders() {
        let tmp = TempDir::new("empty");
        let (init, skel, mut opts) = fixture(tmp.path());
        opts.modules_dir = tmp.path().join("lib/modules/9.9-empty");
        std::fs::create_dir_all(&opts.modules_dir).unwrap();
        opts.extra_files.clear();
        let a = assemble(&init, &skel, &opts, &BuilderOptions::default()).unwrap();
        let entries = parse(&a.cpio.to_bytes(0).unwrap());
        let load = entries.iter().find(|e| e.name == MODULES_LOAD).unwrap();
        assert_eq!(load.data, LOAD_LIST_HEADER.as_bytes());
        assert_eq!(a.module_count, 0);
    }

    #[test]
    fn packing_twice_gives_identical_bytes() {
        let once = || {
            let tmp = TempDir::new("repro");
            let (init, skel, opts) = fixture(tmp.path());
            let a = assemble(&init, &skel, &opts, &BuilderOptions::default()).unwrap();
            let cpio = a.cpio.to_bytes(1_700_000_000).unwrap();
            [Compression::Zstd, Compression::Gzip, Compression::Xz]
                .map(|c| compress::compress(&cpio, c).unwrap())
        };
        assert_eq!(once(), once());
    }

    #[test]
    fn modules_of_another_machine_than_the_target_are_an_error() {
        let tmp = TempDir::new("target-mismatch");
        let (init, skel, opts) = fixture(tmp.path());
        let arm64 = BuilderOptions {
            target: crate::build_init::Target::Aarch64,
            ..BuilderOptions::default()
        };
        let Err(err) = assemble(&init, &skel, &opts, &arm64) else {
            panic!("x86-64 modules were packed for an arm64 init");
        };
        let err = format!("{err:#}");
        assert!(
            err.contains("ELF machine 62") && err.contains("aarch64"),
            "{err}"
        );
    }

    #[test]
    fn source_date_epoch_parsing() {
        assert_eq!(parse_epoch("1700000000").unwrap(), 1_700_000_000);
        assert!(parse_epoch("soon").is_err());
        assert!(parse_epoch("99999999999").is_err());
    }
}
