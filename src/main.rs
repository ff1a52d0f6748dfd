//! `liveinit`: runs the live boot as PID 1; otherwise a small user tool.

// PID 1 never panics: no unwrap/expect/indexing/panics in the init. These are
// crate attributes, not Cargo.toml lints, because this package takes the
// workspace lints and Cargo cannot add per-crate ones on top of them.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo
)]

use std::process::ExitCode;

const HELP: &str = "\
liveinit — a static PID-1 init for live-booting Linux from an initramfs.

As PID 1 (installed as /init) it reads the kernel command line (dracut's
root=live:… grammar), finds the live medium, mounts its image with a
writable layer and switches root into the real init.

usage:
  liveinit explain [--cmdline \"TEXT\"]
      show how a kernel command line is understood and, for each layout a
      medium can have, every step the init would take; without --cmdline,
      this system's /proc/cmdline
  liveinit status
      on a running live system: what the root is and how full its writable
      layer (overlay upper dir, or the dm snapshot's copy-on-write store) is;
      exits 1 when it is 90% full or more, or has overflowed
  liveinit --help | --version
";

fn main() -> ExitCode {
    if rustix::process::getpid().is_init() {
        liveinit::boot::pid1_main();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["--help" | "-h" | "help"] => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        ["--version" | "-V"] => {
            println!("liveinit {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        ["status"] => {
            let (report, code) = liveinit::tools::status::status(&liveinit::sys::RealSys::new());
            print!("{report}");
            ExitCode::from(u8::try_from(code).unwrap_or(2))
        }
        ["explain", "--cmdline", text] => {
            print!("{}", liveinit::explain::explain(text));
            ExitCode::SUCCESS
        }
        ["explain"] => match std::fs::read_to_string("/proc/cmdline") {
            Ok(text) => {
                print!("{}", liveinit::explain::explain(&text));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("liveinit: cannot read /proc/cmdline: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("liveinit: unknown arguments {args:?} (see liveinit --help)");
            ExitCode::from(2)
        }
    }
}
