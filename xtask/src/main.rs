//! `cargo xtask`: the host side of liveinit — build, pack, test, demo, bench.

mod bench;
mod build_init;
mod compress;
mod cpio;
mod demo;
mod fixtures;
mod initramfs;
mod kmods;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  initramfs --modules-dir DIR --output FILE [--compress zstd|gzip|xz|none]
            build the init (static musl) and pack it with the modules a live
            boot needs from DIR (a lib/modules/<version> tree) into FILE
  fixtures  regenerate the probe fixtures under src/probe/testdata (needs
            mkfs.ext4, xorriso, mksquashfs, mkfs.erofs)
  test      install what is missing, then run the unit tests and the QEMU boot tests
  demo      install what is missing, build a demo live ISO and boot it in QEMU
  bench [--runs N] [--cases a,b] [--no-fuzz]
            liveinit vs dracut vs a busybox floor in one run (boot time,
            memory, sizes, ratios), liveinit against a 4 GiB image and 32
            disks, then a longer fuzz run
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "initramfs" => initramfs::cmd(rest),
        "fixtures" => fixtures::cmd(rest),
        "test" => test::cmd(rest),
        "demo" => demo::cmd(rest),
        "bench" => bench::cmd(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("xtask: unknown command '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {command}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
