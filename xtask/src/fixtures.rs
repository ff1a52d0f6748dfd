//! `cargo xtask fixtures [NAME…]`: regenerates the probe fixtures under
//! `src/probe/testdata/`.
//!
//! Each fixture is a small real image made by the real tool (xorriso,
//! mkfs.*, mksquashfs, …); only its first `PROBE_BYTES` are kept, as
//! `<name>.head`, next to what the real blkid says about the whole image,
//! `blkid -p -o export` (low-level probe, no cache), as `<name>.blkid`. The
//! probe tests assert that `liveinit::probe` agrees with those blkid files.
//!
//! Inputs are pinned (UUIDs, hash seeds, timestamps via SOURCE_DATE_EPOCH /
//! E2FSPROGS_FAKE_TIME / --modification-date) so regenerating with the same
//! tool versions gives the same bytes; `testdata/VERSIONS` records them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};

/// Must equal `liveinit::probe::PROBE_BYTES` (the tests check each head
/// against it).
const PROBE_BYTES: usize = 68 * 1024;
/// Every timestamp in every image.
const EPOCH: u64 = 1_700_000_000;
const FIXED_UUID: &str = "0123abcd-4567-89ef-0123-456789abcdef";
const HASH_SEED: &str = "11111111-2222-3333-4444-555555555555";
/// ISO 9660 modification date, which blkid turns into the ISO's UUID.
const ISO_DATE: &str = "2024010203040506";

struct Fixture {
    name: &'static str,
    /// Programs the builder runs (checked up front), with their Debian package.
    tools: &'static [(&'static str, &'static str)],
    build: fn(&Work, &Path) -> Result<()>,
}

const XORRISO: (&str, &str) = ("xorriso", "xorriso");
const MKFS_VFAT: (&str, &str) = ("mkfs.vfat", "dosfstools");
const MKE2FS: (&str, &str) = ("mke2fs", "e2fsprogs");
const MKSQUASHFS: (&str, &str) = ("mksquashfs", "squashfs-tools");
const MKFS_EROFS: (&str, &str) = ("mkfs.erofs", "erofs-utils");
const BLKID: (&str, &str) = ("blkid", "util-linux");

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "iso9660-plain",
        tools: &[XORRISO],
        build: iso_plain,
    },
    Fixture {
        name: "iso9660-joliet",
        tools: &[XORRISO],
        build: iso_joliet,
    },
    Fixture {
        name: "iso9660-hybrid",
        tools: &[XORRISO, MKFS_VFAT],
        build: iso_hybrid,
    },
    Fixture {
        name: "ext2",
        tools: &[MKE2FS],
        build: ext2,
    },
    Fixture {
        name: "ext3",
        tools: &[MKE2FS],
        build: ext3,
    },
    Fixture {
        name: "ext4",
        tools: &[MKE2FS],
        build: ext4,
    },
    Fixture {
        name: "squashfs",
        tools: &[MKSQUASHFS],
        build: squashfs,
    },
    Fixture {
        name: "erofs",
        tools: &[MKFS_EROFS],
        build: erofs,
    },
    Fixture {
        name: "erofs-label",
        tools: &[MKFS_EROFS],
        build: erofs_label,
    },
];

/// The scratch directory and the content tree images are made from.
struct Work {
    dir: PathBuf,
    tree: PathBuf,
}

pub fn cmd(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: cargo xtask fixtures [NAME…]\n\nfixtures:");
        for f in FIXTURES {
            println!("  {}", f.name);
        }
        return Ok(());
    }
    let selected: Vec<&Fixture> = if args.is_empty() {
        FIXTURES.iter().collect()
    } else {
        let mut v = Vec::new();
        for a in args {
            match FIXTURES.iter().find(|f| f.name == a.as_str()) {
                Some(f) => v.push(f),
                None => bail!("unknown fixture '{a}' (see --help)"),
            }
        }
        v
    };

    let mut missing: Vec<String> = Vec::new();
    for &(tool, pkg) in selected.iter().flat_map(|f| f.tools.iter()).chain([&BLKID]) {
        if which(tool).is_none() && !missing.iter().any(|m| m.starts_with(tool)) {
            missing.push(format!("{tool} (Debian package {pkg})"));
        }
    }
    if !missing.is_empty() {
        bail!("missing tools: {}", missing.join(", "));
    }

    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/probe/testdata");
    fs::create_dir_all(&out_dir)?;
    let dir = std::env::temp_dir().join(format!("liveinit-fixtures-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let work = Work {
        tree: dir.join("tree"),
        dir: dir.clone(),
    };
    let result = (|| -> Result<()> {
        make_tree(&work.tree)?;
        for f in &selected {
            let image = work.dir.join(format!("{}.img", f.name));
            (f.build)(&work, &image).with_context(|| format!("building fixture {}", f.name))?;
            save(f.name, &image, &out_dir).with_context(|| format!("saving fixture {}", f.name))?;
        }
        write_versions(&work, &out_dir)
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}

/// Keeps the image's first `PROBE_BYTES` and blkid's report on it.
fn save(name: &str, image: &Path, out_dir: &Path) -> Result<()> {
    let data = fs::read(image)?;
    let head = &data[..data.len().min(PROBE_BYTES)];
    fs::write(out_dir.join(format!("{name}.head")), head)?;
    let out = Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(image)
        .output()?;
    // Exit 2 means "nothing found", which is an answer too.
    if !out.status.success() && out.status.code() != Some(2) {
        bail!(
            "blkid -p {}: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut report = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // The scratch path is noise: name the fixture instead.
        if line.starts_with("DEVNAME=") {
            report.push_str(&format!("DEVNAME={name}.img\n"));
        } else {
            report.push_str(line);
            report.push('\n');
        }
    }
    fs::write(out_dir.join(format!("{name}.blkid")), &report)?;
    println!(
        "{name}: {} bytes of head; blkid: {}",
        head.len(),
        report.trim().replace('\n', " ")
    );
    Ok(())
}

fn write_versions(work: &Work, out_dir: &Path) -> Result<()> {
    let mut text =
        String::from("# tool versions that made these fixtures (cargo xtask fixtures)\n");
    let erofs_probe = work.dir.join("version.erofs");
    let erofs_probe = erofs_probe.to_string_lossy().into_owned();
    let tree = work.tree.join("LiveOS").to_string_lossy().into_owned();
    for (tool, args) in [
        ("blkid", vec!["--version"]),
        ("xorriso", vec!["-version"]),
        ("mke2fs", vec!["-V"]),
        ("mksquashfs", vec!["-version"]),
        // Old mkfs.erofs has no --version; it names itself when it builds.
        ("mkfs.erofs", vec![erofs_probe.as_str(), tree.as_str()]),
    ] {
        if which(tool).is_none() {
            continue;
        }
        let out = Command::new(tool).args(&args).output()?;
        let all = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        let name = tool.trim_start_matches("mk");
        let line = all
            .lines()
            .map(str::trim)
            .find(|l| l.contains(name) && l.contains(|c: char| c.is_ascii_digit()))
            .unwrap_or("?");
        text.push_str(&format!("{tool}: {line}\n"));
    }
    fs::write(out_dir.join("VERSIONS"), text)?;
    Ok(())
}

/// A few files with pinned timestamps, plus a tiny FAT image to serve as an
/// EFI El Torito boot image / appended partition.
fn make_tree(tree: &Path) -> Result<()> {
    fs::create_dir_all(tree.join("LiveOS"))?;
    fs::create_dir_all(tree.join("boot"))?;
    fs::write(tree.join("README.txt"), "liveinit probe fixture\n")?;
    fs::write(tree.join("LiveOS/placeholder"), vec![0x5a; 3000])?;
    run(Command::new("mkfs.vfat")
        .args(["-C", "-n", "EFIBOOT", "-i", "12345678"])
        .arg(tree.join("boot/efi.img"))
        .arg("64"))?;
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH);
    for p in [
        "README.txt",
        "LiveOS/placeholder",
        "boot/efi.img",
        "LiveOS",
        "boot",
        ".",
    ] {
        fs::File::open(tree.join(p))?.set_modified(when)?;
    }
    Ok(())
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> Result<()> {
    cmd.env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .env("E2FSPROGS_FAKE_TIME", EPOCH.to_string());
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn xorriso(work: &Work, image: &Path, extra: &[&str]) -> Result<()> {
    let mut cmd = Command::new("xorriso");
    cmd.args(["-as", "mkisofs", "-quiet"])
        .arg(format!("--modification-date={ISO_DATE}"));
    cmd.args(extra).arg("-o").arg(image).arg(&work.tree);
    run(&mut cmd)
}

fn iso_plain(work: &Work, image: &Path) -> Result<()> {
    xorriso(work, image, &["-V", "My Disk"])
}

fn iso_joliet(work: &Work, image: &Path) -> Result<()> {
    xorriso(work, image, &["-J", "-V", "My Disk"])
}

/// Like a distribution's live ISO (archiso layout): Rock Ridge + Joliet, a
/// 28-character mixed-case label (Joliet keeps only 16 characters, blkid
/// rebuilds the rest from the primary descriptor), an EFI El Torito boot
/// record, and a GPT with an appended EFI partition in the system area.
fn iso_hybrid(work: &Work, image: &Path) -> Result<()> {
    let efi = work.tree.join("boot/efi.img");
    let efi = efi.to_str().context("non-UTF-8 scratch path")?;
    xorriso(
        work,
        image,
        &[
            "-R",
            "-J",
            "-joliet-long",
            "-V",
            "Live-Init Hybrid 2024 x86_64",
            "-partition_offset",
            "16",
            "-e",
            "boot/efi.img",
            "-no-emul-boot",
            "-append_partition",
            "2",
            "0xef",
            efi,
            "-appended_part_as_gpt",
        ],
    )
}

fn mke2fs(image: &Path, fstype: &str, label: &str) -> Result<()> {
    fs::File::create(image)?.set_len(4 << 20)?;
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", fstype, "-L", label, "-U", FIXED_UUID])
        .arg(format!("-Ehash_seed={HASH_SEED}"))
        .arg(image))
}

fn ext2(_: &Work, image: &Path) -> Result<()> {
    mke2fs(image, "ext2", "ext2 label")
}

fn ext3(_: &Work, image: &Path) -> Result<()> {
    mke2fs(image, "ext3", "Live data")
}

/// The label fills all 16 bytes: no NUL terminator on disk.
fn ext4(_: &Work, image: &Path) -> Result<()> {
    mke2fs(image, "ext4", "live-persistence")
}

fn squashfs(work: &Work, image: &Path) -> Result<()> {
    run(Command::new("mksquashfs")
        .arg(work.tree.join("LiveOS"))
        .arg(image)
        // Timestamps come from SOURCE_DATE_EPOCH (set by `run`).
        .args(["-noappend", "-quiet", "-no-progress", "-all-root"]))
}

fn mkfs_erofs(work: &Work, image: &Path, label: Option<&str>) -> Result<()> {
    let mut cmd = Command::new("mkfs.erofs");
    cmd.arg(format!("-U{FIXED_UUID}")).arg(format!("-T{EPOCH}"));
    if let Some(label) = label {
        cmd.arg(format!("-L{label}"));
    }
    run(cmd.arg(image).arg(work.tree.join("LiveOS")))
}

fn erofs(work: &Work, image: &Path) -> Result<()> {
    mkfs_erofs(work, image, None)
}

/// `mkfs.erofs -L` where it exists (erofs-utils ≥ 1.6). Older mkfs.erofs
/// cannot set a label, so the volume name is written into its image the way
/// a newer one would and the superblock checksum resealed; blkid remains the
/// judge of the result either way.
fn erofs_label(work: &Work, image: &Path) -> Result<()> {
    const LABEL: &str = "erofs root";
    let help = Command::new("mkfs.erofs").arg("--help").output()?;
    let help = String::from_utf8_lossy(&[help.stdout, help.stderr].concat()).into_owned();
    if help.lines().any(|l| l.trim_start().starts_with("-L")) {
        return mkfs_erofs(work, image, Some(LABEL));
    }
    mkfs_erofs(work, image, None)?;
    let mut data = fs::read(image)?;
    const SB: usize = 1024;
    let bits = data[SB + 12];
    let block = 1usize << bits;
    let name = &mut data[SB + 0x40..SB + 0x50];
    name.fill(0);
    name[..LABEL.len()].copy_from_slice(LABEL.as_bytes());
    let compat = u32::from_le_bytes(data[SB + 8..SB + 12].try_into()?);
    if compat & 1 != 0 {
        data[SB + 4..SB + 8].fill(0);
        let crc = crc32c(!0, &data[SB..block]);
        data[SB + 4..SB + 8].copy_from_slice(&crc.to_le_bytes());
    }
    fs::write(image, data)?;
    Ok(())
}

/// CRC-32C, no pre/post inversion (the kernel's `crc32c(seed, …)`).
fn crc32c(seed: u32, data: &[u8]) -> u32 {
    let mut crc = seed;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    crc
}
