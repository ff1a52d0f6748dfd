//! `liveinit`: runs the live boot as PID 1; otherwise a small user tool.
//!
//! The binary is `no_std` on musl's libc: `std` would link its backtrace
//! printer (about 150 KB of symbolizer, DWARF parser and demangler) into an
//! init that aborts on panic and has no debug info to print. The heap is
//! the C library's, a panic goes to the emergency policy, and the library
//! code is the same that the host tests run.
// A test build (clippy's `--all-targets`) is an ordinary std program with
// nothing in it; the init is everything else.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg(not(test))]
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

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use liveinit::sys::{stdio, LibcAlloc, RealSys};

// Without `std` nobody asks for the C library: link musl's statically (a
// host build links the system's dynamically, as it does anyway).
#[cfg_attr(
    target_env = "musl",
    link(name = "c", kind = "static", modifiers = "-bundle")
)]
extern "C" {}

#[global_allocator]
static HEAP: LibcAlloc = LibcAlloc;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if rustix::process::getpid().is_init() {
        liveinit::boot::on_panic(info);
    }
    let mut line = String::new();
    let _ = core::fmt::write(
        &mut line,
        format_args!("liveinit: internal error: {info}\n"),
    );
    stdio::err(line.as_bytes());
    stdio::exit(101)
}

/// `alloc` and `core` are shipped precompiled with unwinding landing pads,
/// which call this. With `panic = "abort"` nothing ever unwinds, so it is
/// never reached; were it, stopping is all that is left to do.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    stdio::exit(134)
}

/// Named by the same precompiled landing pads' unwind tables; never
/// called, as nothing unwinds.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// The C runtime's entry point. As PID 1 the boot never returns; as a
/// tool, the arguments are read from `/proc/self/cmdline` (always there
/// when a user runs it), which needs no raw pointers.
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    if rustix::process::getpid().is_init() {
        if !liveinit::sys::root_is_initramfs() {
            // PID 1 of a container, or a disk's init= by mistake: the boot
            // would mount and switch roots over a system that is running.
            stdio::err(
                b"liveinit: PID 1 but / is not an initramfs (ramfs or tmpfs); \
                  not booting. As a tool, run it as another process.\n",
            );
            return 1;
        }
        liveinit::boot::pid1_main();
    }
    let args = arguments();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (text, code) = tool(&args);
    // Reports go to standard output (`status` exits 1 on a full layer but
    // still reports); usage errors (exit 2) to standard error.
    match code {
        2 => stdio::err(text.as_bytes()),
        _ => stdio::out(text.as_bytes()),
    }
    code
}

/// Our arguments, without the program name.
fn arguments() -> Vec<String> {
    let bytes = liveinit::sys::read_file("/proc/self/cmdline").unwrap_or_default();
    bytes
        .split(|&b| b == 0)
        .skip(1)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(String::is_empty)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// What a user tool prints, and its exit code.
fn tool(args: &[&str]) -> (String, i32) {
    match args {
        [] | ["--help" | "-h" | "help"] => (liveinit::manual::LIVEINIT.help(), 0),
        ["--version" | "-V"] => (
            alloc::format!("liveinit {}\n", env!("CARGO_PKG_VERSION")),
            0,
        ),
        ["status"] => liveinit::tools::status::status(&RealSys::new()),
        ["explain", "--cmdline", text] => (liveinit::explain::explain(text), 0),
        ["explain"] => match liveinit::sys::read_file("/proc/cmdline") {
            Ok(text) => (
                liveinit::explain::explain(&String::from_utf8_lossy(&text)),
                0,
            ),
            Err(e) => (
                alloc::format!(
                    "liveinit: cannot read /proc/cmdline: {}\n",
                    liveinit::sys::errno_text(e)
                ),
                2,
            ),
        },
        _ => (
            alloc::format!("liveinit: unknown arguments {args:?} (see liveinit --help)\n"),
            2,
        ),
    }
}
