//! `cargo xtask`: the host side of liveinit — build, pack, test, demo, bench.

mod bench;
mod build_init;
mod builder_options;
mod compress;
mod compression_figures;
mod cpio;
mod demo;
mod demo_summary;
mod elf;
mod example_images;
mod firmware;
mod fixtures;
mod host_devices;
mod https;
mod initramfs;
mod initramfs_cli;
mod kmods;
mod man;
mod microcode;
mod module_choice;
mod msrv;
mod readme_examples;
mod reproducible;
mod size;
mod test;
mod test_arm64;
#[cfg(test)]
mod testutil;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  initramfs --modules-dir DIR --output FILE [OPTION...]
            build the init (static musl) and pack it with the modules a live
            boot needs from DIR (a lib/modules/<version> tree) into FILE;
            extra modules, firmware, baked kernel arguments, files and early
            microcode on request (cargo xtask initramfs --help)
  fixtures  regenerate the probe fixtures under src/probe/testdata (needs
            mkfs.ext4, xorriso, mksquashfs, mkfs.erofs)
  test [--no-boot]
            install what is missing, then run the checks, the unit tests, the
            size budget and the QEMU boot tests
  demo      install what is missing, build a demo live ISO and boot it in QEMU
  man [--output DIR | --check]
            the manual pages liveinit(8) and liveinit-initramfs(1), rendered
            from the --help text (docs/man; --output /usr/share/man installs)
  compression --modules-dir DIR
            size and unpack time of the initramfs per compressor and level
  size      the release init's stripped size against its budget, and the
            largest symbols of an unstripped build (what the bytes go to)
  reproducible
            build the init again in another directory and check it is the
            same bytes, with none of this builder's paths in it
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
        "initramfs" => initramfs_cli::cmd(rest),
        "fixtures" => fixtures::cmd(rest),
        "test" => test::cmd(rest),
        "demo" => demo::cmd(rest),
        "bench" => bench::cmd(rest),
        "size" => size::cmd(rest),
        "reproducible" => reproducible::check(),
        "man" => man::cmd(rest),
        "compression" => compression_figures::cmd(rest),
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
