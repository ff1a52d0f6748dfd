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

use liveinit::contract::PROBE_BYTES;
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
    /// Also keep `<name>.extents`: the image size and its non-zero sectors
    /// beyond the head (for probes that read further: FAT's root
    /// directory, a backup GPT).
    extents: bool,
    /// Also keep `<name>.partx`: `partx -P` on the image (libblkid's
    /// partition list).
    partx: bool,
}

const fn fixture(
    name: &'static str,
    tools: &'static [(&'static str, &'static str)],
    build: fn(&Work, &Path) -> Result<()>,
) -> Fixture {
    Fixture {
        name,
        tools,
        build,
        extents: false,
        partx: false,
    }
}

const XORRISO: (&str, &str) = ("xorriso", "xorriso");
const MKFS_VFAT: (&str, &str) = ("mkfs.vfat", "dosfstools");
const MKE2FS: (&str, &str) = ("mke2fs", "e2fsprogs");
const MKSQUASHFS: (&str, &str) = ("mksquashfs", "squashfs-tools");
const MKFS_EROFS: (&str, &str) = ("mkfs.erofs", "erofs-utils");
const MKFS_XFS: (&str, &str) = ("mkfs.xfs", "xfsprogs");
const MKFS_BTRFS: (&str, &str) = ("mkfs.btrfs", "btrfs-progs");
const MKFS_F2FS: (&str, &str) = ("mkfs.f2fs", "f2fs-tools");
const SFDISK: (&str, &str) = ("sfdisk", "fdisk");
const PARTX: (&str, &str) = ("partx", "util-linux");
const BLKID: (&str, &str) = ("blkid", "util-linux");

#[rustfmt::skip]
const FIXTURES: &[Fixture] = &[
    fixture("iso9660-plain", &[XORRISO], iso_plain),
    fixture("iso9660-joliet", &[XORRISO], iso_joliet),
    Fixture { extents: true, partx: true, ..fixture("iso9660-hybrid", &[XORRISO, MKFS_VFAT, PARTX], iso_hybrid) },
    fixture("ext2", &[MKE2FS], ext2),
    fixture("ext3", &[MKE2FS], ext3),
    fixture("ext4", &[MKE2FS], ext4),
    fixture("squashfs", &[MKSQUASHFS], squashfs),
    fixture("erofs", &[MKFS_EROFS], erofs),
    fixture("erofs-label", &[MKFS_EROFS], erofs_label),
    fixture("fat12", &[MKFS_VFAT], fat12),
    Fixture { extents: true, ..fixture("fat16", &[MKFS_VFAT], fat16) },
    Fixture { extents: true, ..fixture("fat32", &[MKFS_VFAT], fat32) },
    fixture("xfs", &[MKFS_XFS], xfs),
    fixture("btrfs", &[MKFS_BTRFS], btrfs),
    fixture("f2fs", &[MKFS_F2FS], f2fs),
    Fixture { partx: true, ..fixture("dos", &[SFDISK, PARTX], dos) },
    Fixture { extents: true, partx: true, ..fixture("gpt", &[SFDISK, PARTX], gpt) },
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
            save(f, &image, &out_dir).with_context(|| format!("saving fixture {}", f.name))?;
        }
        write_versions(&work, &out_dir)
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}

/// Keeps the image's first `PROBE_BYTES` and blkid's report on it (and,
/// when asked, its extents beyond the head and partx's partition list).
fn save(f: &Fixture, image: &Path, out_dir: &Path) -> Result<()> {
    let name = f.name;
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
    let mut note = String::new();
    if f.extents {
        let extents = extents(&data);
        note.push_str(&format!(", {} bytes of extents", extents.len()));
        fs::write(out_dir.join(format!("{name}.extents")), extents)?;
    }
    if f.partx {
        let out = Command::new("partx")
            .args(["-o", "NR,START,SECTORS,UUID,NAME,TYPE", "-P"])
            .arg(image)
            .output()?;
        if !out.status.success() {
            bail!(
                "partx {}: {}",
                image.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        fs::write(out_dir.join(format!("{name}.partx")), &out.stdout)?;
        note.push_str(", partx list");
    }
    println!(
        "{name}: {} bytes of head{note}; blkid: {}",
        head.len(),
        report.trim().replace('\n', " ")
    );
    Ok(())
}

/// The image size (LE u64), then each run of non-zero 512-byte sectors
/// beyond the head as LE u64 offset, LE u32 length, bytes.
fn extents(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u64).to_le_bytes().to_vec();
    let mut run: Option<(usize, usize)> = None;
    let flush = |run: &mut Option<(usize, usize)>, out: &mut Vec<u8>| {
        if let Some((start, end)) = run.take() {
            out.extend_from_slice(&(start as u64).to_le_bytes());
            out.extend_from_slice(&u32::try_from(end - start).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&data[start..end]);
        }
    };
    let mut off = PROBE_BYTES;
    while off < data.len() {
        let end = (off + 512).min(data.len());
        if data[off..end].iter().any(|&b| b != 0) {
            match &mut run {
                Some((_, e)) if *e == off => *e = end,
                _ => {
                    flush(&mut run, &mut out);
                    run = Some((off, end));
                }
            }
        }
        off = end;
    }
    flush(&mut run, &mut out);
    out
}

fn write_versions(work: &Work, out_dir: &Path) -> Result<()> {
    let mut text =
        String::from("# tool versions that made these fixtures (cargo xtask fixtures)\n");
    let erofs_probe = work.dir.join("version.erofs");
    let erofs_probe = erofs_probe.to_string_lossy().into_owned();
    let tree = work.tree.join("LiveOS").to_string_lossy().into_owned();
    // (program, arguments that make it name its version, how it names itself)
    for (tool, args, needle) in [
        ("blkid", vec!["--version"], "blkid"),
        ("xorriso", vec!["-version"], "xorriso"),
        ("mke2fs", vec!["-V"], "mke2fs"),
        ("mksquashfs", vec!["-version"], "mksquashfs"),
        // Old mkfs.erofs has no --version; it names itself when it builds.
        (
            "mkfs.erofs",
            vec![erofs_probe.as_str(), tree.as_str()],
            "mkfs.erofs",
        ),
        ("mkfs.vfat", vec!["--help"], "mkfs.fat"),
        ("mkfs.xfs", vec!["-V"], "mkfs.xfs"),
        ("mkfs.btrfs", vec!["--version"], "btrfs-progs"),
        ("mkfs.f2fs", vec!["-V"], "mkfs.f2fs"),
        ("sfdisk", vec!["--version"], "sfdisk"),
        ("partx", vec!["--version"], "partx"),
    ] {
        if which(tool).is_none() {
            continue;
        }
        let out = Command::new(tool).args(&args).output()?;
        let all = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        let line = all
            .lines()
            .map(str::trim)
            .find(|l| l.contains(needle) && l.contains(|c: char| c.is_ascii_digit()))
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
        .args(["--invariant", "-C", "-n", "EFIBOOT", "-i", "12345678"])
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

fn blank(image: &Path, bytes: u64) -> Result<()> {
    fs::File::create(image)?.set_len(bytes)?;
    Ok(())
}

/// `--invariant`: fixed times in the label entry (dosfstools ignores
/// SOURCE_DATE_EPOCH).
fn mkfs_vfat(image: &Path, bits: &str, label: &str, kib: &str) -> Result<()> {
    run(Command::new("mkfs.vfat")
        .args([
            "--invariant",
            "-F",
            bits,
            "-n",
            label,
            "-i",
            "1234ABCD",
            "-C",
        ])
        .arg(image)
        .arg(kib))
}

/// A floppy-sized FAT12: the root directory is inside the head.
fn fat12(_: &Work, image: &Path) -> Result<()> {
    mkfs_vfat(image, "12", "FAT12 LBL", "1440")
}

/// FAT16 on 32 MiB: the root directory straddles the end of the head.
fn fat16(_: &Work, image: &Path) -> Result<()> {
    mkfs_vfat(image, "16", "LIVE USB", "32768")
}

/// The smallest FAT32 (65525+ clusters): the root cluster lies ~540 KiB in.
fn fat32(_: &Work, image: &Path) -> Result<()> {
    mkfs_vfat(image, "32", "LIVEUSB32", "34000")
}

/// 300 MiB, mkfs.xfs's minimum (sparse: only the head is kept).
fn xfs(_: &Work, image: &Path) -> Result<()> {
    blank(image, 300 << 20)?;
    run(Command::new("mkfs.xfs")
        .args(["-q", "-f", "-L", "xfs root"])
        .arg(format!("-muuid={FIXED_UUID}"))
        .arg(image))
}

fn btrfs(_: &Work, image: &Path) -> Result<()> {
    blank(image, 128 << 20)?;
    run(Command::new("mkfs.btrfs")
        .args(["-q", "-f", "-L", "btrfs label", "-U", FIXED_UUID])
        .arg(image))
}

/// A label with non-ASCII letters (F2FS stores it as UTF-16LE) and the
/// optional superblock checksum on.
fn f2fs(_: &Work, image: &Path) -> Result<()> {
    blank(image, 64 << 20)?;
    run(Command::new("mkfs.f2fs")
        .args([
            "-q",
            "-f",
            "-O",
            "sb_checksum",
            "-l",
            "F2FS Données",
            "-U",
            FIXED_UUID,
        ])
        .arg(image))
}

fn sfdisk(image: &Path, script: &str) -> Result<()> {
    use std::io::Write;
    let mut child = Command::new("sfdisk")
        .args(["-q", "--wipe", "never", "--no-reread", "--no-tell-kernel"])
        .arg(image)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("sfdisk stdin")?
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("sfdisk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// An MBR disk small enough to be all head: a bootable primary, an empty
/// slot 3, an extended partition with two logical ones (their boot records
/// at sectors 16 and 40), a FAT-typed primary 4.
fn dos(_: &Work, image: &Path) -> Result<()> {
    blank(image, PROBE_BYTES as u64)?;
    let n = image.display();
    sfdisk(
        image,
        &format!(
            "label: dos\nlabel-id: 0x1234abcd\nunit: sectors\n\n\
             {n}1 : start=2, size=10, type=83, bootable\n\
             {n}2 : start=16, size=100, type=5\n\
             {n}4 : start=120, size=10, type=c\n\
             {n}5 : start=18, size=20, type=83\n\
             {n}6 : start=42, size=30, type=82\n"
        ),
    )
}

/// A GPT disk (over blkid's 1.44 MB floppy limit) with pinned GUIDs, a
/// non-ASCII name, an unnamed partition and an unused entry 3.
fn gpt(_: &Work, image: &Path) -> Result<()> {
    blank(image, 2 << 20)?;
    let n = image.display();
    sfdisk(
        image,
        &format!(
            "label: gpt\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\nunit: sectors\n\n\
             {n}1 : start=2048, size=1024, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, \
             uuid=11111111-2222-3333-4444-555555555555, name=\"persistence\"\n\
             {n}2 : start=3072, size=512, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, \
             uuid=AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE, name=\"EFI System ünï\"\n\
             {n}4 : start=3584, size=256, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, \
             uuid=CAFEBABE-0000-1111-2222-333344445555\n"
        ),
    )
}
