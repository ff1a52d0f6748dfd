//! `liveinit`: runs the live boot as PID 1; otherwise a small user tool.

use std::process::ExitCode;

const HELP: &str = "\
liveinit — a static PID-1 init for live-booting Linux from an initramfs.

As PID 1 (installed as /init) it reads the kernel command line (dracut's
root=live:… grammar), finds the live medium, mounts its image with a
writable overlay and switches root into the real init.

usage: liveinit [--help | --version]

  --help     show this text
  --version  show the version
";

fn main() -> ExitCode {
    if rustix::process::getpid().is_init() {
        liveinit::boot::pid1_main();
    }
    match std::env::args().nth(1).as_deref() {
        None | Some("--help" | "-h" | "help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("liveinit {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("liveinit: unknown argument '{other}' (see liveinit --help)");
            ExitCode::from(2)
        }
    }
}
