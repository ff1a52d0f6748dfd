//! `cargo xtask initramfs`: build the init and pack a reproducible initramfs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use liveinit::contract;

use crate::compress::{self, Compression};
use crate::{build_init, cpio, kmods};

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
    // Cheap checks first, before a release build of the init.
    if !opts.modules_dir.is_dir() {
        bail!(
            "--modules-dir {}: not a directory",
            opts.modules_dir.display()
        );
    }
    let mtime = source_date_epoch()?;
    let init = build_init::build()?;
    let skel = build_init::workspace_root().join("initramfs-skel");
    let archive = assemble(&init, &skel, opts)?;
    let cpio = archive.cpio.to_bytes(mtime)?;
    let bytes = compress::compress(&cpio, opts.compression)?;
    write_atomically(&opts.output, &bytes)?;
    println!(
        "initramfs: {} ({} bytes, {} modules for {}, {})",
        opts.output.display(),
        bytes.len(),
        archive.module_count,
        archive.kernel_version,
        opts.compression
    );
    Ok(())
}

/// The archive before serialisation, with what the summary reports.
pub(crate) struct Assembled {
    pub cpio: cpio::Archive,
    pub module_count: usize,
    pub kernel_version: String,
}

/// Everything that goes into the initramfs, from an already built init.
/// Later additions override earlier ones at the same path, so extra files
/// can replace anything from the skeleton.
pub(crate) fn assemble(init: &Path, skel: &Path, opts: &PackOptions) -> Result<Assembled> {
    let mut a = cpio::Archive::new();
    for dir in BASE_DIRS {
        a.dir(dir, 0o755)?;
    }
    // Normally the kernel's built-in cpio provides it; not with a custom
    // CONFIG_INITRAMFS_SOURCE, and the init needs a console from the start.
    a.char_dev("dev/console", 0o600, 5, 1)?;
    if skel.is_dir() {
        add_tree(&mut a, skel, "")?;
    }
    let modules = kmods::collect(&opts.modules_dir, &kmods::wanted())?;
    a.file(MODULES_LOAD, 0o644, LOAD_LIST_HEADER.as_bytes().to_vec())?;
    a.file(MODULES_ALIAS, 0o644, modules.alias_file().into_bytes())?;
    a.file(MODULES_DEP, 0o644, modules.dep_file().into_bytes())?;
    for m in &modules.modules {
        a.file(&m.archive_path, 0o644, m.data.clone())?;
    }
    a.file("init", 0o755, read(init)?)?;
    if let Some(busybox) = &opts.busybox {
        let bytes = read(busybox)?;
        crate::build_init::check_static(&bytes).with_context(|| {
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
    Ok(Assembled {
        cpio: a,
        module_count: modules.modules.len(),
        kernel_version: modules.version,
    })
}

/// Copies a host tree; only the executable bit of a file's mode matters, so
/// the archive does not depend on the umask of whoever checked it out.
fn add_tree(a: &mut cpio::Archive, root: &Path, rel: &str) -> Result<()> {
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
        let meta = entry.metadata()?;
        let kind = meta.file_type();
        if kind.is_dir() {
            a.dir(&child, 0o755)?;
            add_tree(a, root, &child)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&host)?;
            let target = target
                .to_str()
                .with_context(|| format!("{}: link target is not UTF-8", host.display()))?;
            a.symlink(&child, target)?;
        } else if kind.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            a.file(&child, if exec { 0o755 } else { 0o644 }, read(&host)?)?;
        } else {
            bail!(
                "{}: only files, directories and symlinks are supported",
                host.display()
            );
        }
    }
    Ok(())
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

const USAGE: &str = "\
usage: cargo xtask initramfs --modules-dir DIR --output FILE [--compress zstd|gzip|xz|none]
                            [--busybox[=PATH]]

Builds the init (release, static, x86_64-unknown-linux-musl) and packs it into
a cpio initramfs at FILE with initramfs-skel/, /dev/console, and the storage,
USB and filesystem modules a live boot needs (plus their dependencies) taken
from DIR, a lib/modules/<version> tree; modules are stored decompressed and
the init loads them by need (a driver when its device appears, a filesystem
or block layer just before a mount or device-mapper step asks for it) from
/etc/liveinit/modules.alias and modules.dep; /etc/liveinit/modules.load lists
any to load on every boot (none by default).

  --modules-dir DIR   lib/modules/<version> tree (modules.dep optional)
  --output FILE       where to write the image
  --compress FORMAT   zstd (default), gzip, xz (CRC32 check) or none
  --busybox[=PATH]    add a static busybox (default /bin/busybox) as /bin/sh and
                      common tools, for rd.break and rd.shell
  -h, --help          print this help

The output is reproducible: mtimes come from SOURCE_DATE_EPOCH (default 0).
";

pub fn cmd(args: &[String]) -> Result<()> {
    let mut modules_dir = None;
    let mut output = None;
    let mut compression = Compression::Zstd;
    let mut busybox = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if matches!(flag, "-h" | "--help") {
            print!("{USAGE}");
            return Ok(());
        }
        if flag == "--busybox" {
            busybox = Some(PathBuf::from(
                inline.unwrap_or_else(|| DEFAULT_BUSYBOX.to_owned()),
            ));
            continue;
        }
        if !matches!(flag, "--modules-dir" | "--output" | "--compress") {
            bail!("unknown option '{arg}'\n\n{USAGE}");
        }
        let value = match inline.or_else(|| args.next().cloned()) {
            Some(v) => v,
            None => bail!("option {flag} needs a value\n\n{USAGE}"),
        };
        match flag {
            "--modules-dir" => modules_dir = Some(PathBuf::from(value)),
            "--output" => output = Some(PathBuf::from(value)),
            _ => compression = value.parse().context("option --compress")?,
        }
    }
    let (Some(modules_dir), Some(output)) = (modules_dir, output) else {
        bail!("--modules-dir and --output are required\n\n{USAGE}");
    };
    pack(&PackOptions {
        modules_dir,
        output,
        compression,
        extra_files: Vec::new(),
        busybox,
    })
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
        let a = assemble(&init, &skel, &opts).unwrap();
        assert_eq!((a.module_count, &a.kernel_version[..]), (3, "6.1.0-t"));
        let entries = parse(&a.cpio.to_bytes(7).unwrap());
        let find = |name: &str| {
            entries
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        for dir in BASE_DIRS {
            assert_eq!(find(dir).mode, 0o040_755, "{dir}");
        }
        assert_eq!(
            (find("dev/console").mode, find("dev/console").rdev),
            (0o020_600, (5, 1))
        );
        assert_eq!(find("etc/initrd-release").mode, 0o100_644);
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
        let a = assemble(&init, &skel, &opts).unwrap();
        let entries = parse(&a.cpio.to_bytes(7).unwrap());
        let find = |name: &str| entries.iter().find(|e| e.name == name).unwrap();
        assert_eq!(find("bin/busybox").mode, 0o100_755);
        assert_eq!(find("bin/sh").data, b"busybox");
        assert_eq!(find("bin/sh").mode & 0o170_000, 0o120_000);

        // A dynamically linked binary would not run: refuse it.
        opts.busybox = Some(PathBuf::from("/bin/ls"));
        let Err(err) = assemble(&init, &skel, &opts) else {
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
        let a = assemble(&init, &skel, &opts).unwrap();
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
            let a = assemble(&init, &skel, &opts).unwrap();
            let cpio = a.cpio.to_bytes(1_700_000_000).unwrap();
            [Compression::Zstd, Compression::Gzip, Compression::Xz]
                .map(|c| compress::compress(&cpio, c).unwrap())
        };
        assert_eq!(once(), once());
    }

    #[test]
    fn flags_parse_and_errors_name_the_flag() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let err = cmd(&args(&["--modules", "x"])).unwrap_err().to_string();
        assert!(err.contains("'--modules'"), "{err}");
        let err = cmd(&args(&["--output"])).unwrap_err().to_string();
        assert!(err.contains("--output needs a value"), "{err}");
        let err = cmd(&args(&["--compress=lz4"])).unwrap_err();
        assert!(format!("{err:#}").contains("lz4"), "{err:#}");
        let err = cmd(&args(&["--output", "x"])).unwrap_err().to_string();
        assert!(err.contains("required"), "{err}");
        let err = cmd(&args(&[
            "--modules-dir=/nonexistent/x",
            "--output",
            "/tmp/y",
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a directory"), "{err}");
        cmd(&args(&["--help"])).unwrap();
    }

    #[test]
    fn source_date_epoch_parsing() {
        assert_eq!(parse_epoch("1700000000").unwrap(), 1_700_000_000);
        assert!(parse_epoch("soon").is_err());
        assert!(parse_epoch("99999999999").is_err());
    }
}
