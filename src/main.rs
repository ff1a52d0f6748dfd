//! `liveinit`: runs the live boot as PID 1; otherwise a small user tool.

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
