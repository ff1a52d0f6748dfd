//! `cargo xtask compression`: the measurements behind the default
//! `--compress`: the size of the default initramfs for a kernel tree under
//! each compressor, and how long it takes to unpack (median of several
//! runs of Debian's zstd, xz and gzip in user space, output discarded; the
//! kernel's decoders are ports of the same code, so the ratios carry over,
//! the absolute times depend on the machine).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use std::process::{Command, Stdio};

use crate::builder_options::BuilderOptions;
use crate::compress::{self, Compression};
use crate::initramfs::{self, PackOptions};

const RUNS: usize = 5;

const HELP: &str = "\
usage: cargo xtask compression --modules-dir DIR

Packs the default initramfs for the lib/modules/<version> tree DIR and
prints, per compressor (zstd levels 3, 9, 19 and 19 with long matching
off, xz, gzip, none), its size and the median time to unpack it.
";

pub fn cmd(args: &[String]) -> Result<()> {
    let modules_dir = match args {
        [flag, dir] if flag == "--modules-dir" => PathBuf::from(dir),
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{HELP}");
            return Ok(());
        }
        _ => bail!("expected --modules-dir DIR\n\n{HELP}"),
    };
    let opts = PackOptions {
        modules_dir,
        output: PathBuf::new(),
        compression: Compression::None,
        extra_files: Vec::new(),
        busybox: None,
    };
    let cpio = initramfs::cpio_bytes(&opts, &BuilderOptions::default())?;
    println!(
        "| compression | size (bytes) | ratio | unpack (ms, median of {RUNS}) | compress (s) |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, level) in [("zstd -3", 3), ("zstd -9", 9), ("zstd -19 (default)", 19)] {
        let t = Instant::now();
        let packed = compress::zstd_encode_level(&cpio, level)?;
        row(name, &cpio, &packed, t.elapsed(), "zstd")?;
    }
    for (name, how, decoder) in [
        ("xz -6 (CRC32)", Compression::Xz, "xz"),
        ("gzip -9", Compression::Gzip, "gzip"),
    ] {
        let t = Instant::now();
        let packed = compress::compress(&cpio, how)?;
        row(name, &cpio, &packed, t.elapsed(), decoder)?;
    }
    println!("| none | {} | 1.00 | 0 | 0 |", cpio.len());
    Ok(())
}

fn row(
    name: &str,
    plain: &[u8],
    packed: &[u8],
    compress_time: Duration,
    decoder: &str,
) -> Result<()> {
    let file = qemu_tests::out_dir().join("compression-sample");
    std::fs::create_dir_all(qemu_tests::out_dir())?;
    std::fs::write(&file, packed)?;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let status = Command::new(decoder)
            .args(["-d", "-c"])
            .arg(&file)
            .stdout(Stdio::null())
            .status()?;
        times.push(t.elapsed());
        if !status.success() {
            bail!("{decoder} -d failed on the {name} image");
        }
    }
    times.sort();
    println!(
        "| {name} | {} | {:.2} | {:.0} | {:.1} |",
        packed.len(),
        plain.len() as f64 / packed.len() as f64,
        times[RUNS / 2].as_secs_f64() * 1000.0,
        compress_time.as_secs_f64()
    );
    let _ = std::fs::remove_file(&file);
    Ok(())
}
