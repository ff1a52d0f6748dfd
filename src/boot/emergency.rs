//! When the boot stops: `rd.break` points, and fatal errors (a one-line
//! reason, a summary of what was found, a shell with `rd.shell`, then the
//! `rd.emergency` action). Never a panic, never a silent hang.

#[allow(unused_imports)]
use crate::prelude::*;

use core::sync::atomic::{AtomicU8, Ordering};
use core::time::Duration;

use log::{error, info, warn};

use super::discover;
use super::error::{errno_text, BootError, Cause, Stage};
use crate::config::IdleWaits;
use crate::policy::{BreakPoint, EmergencyAction, Policy};
use crate::sys::{Sys, SysResult};

/// The shell `cargo xtask initramfs --busybox` packs.
pub const SHELL: &str = "/bin/sh";
/// Time to read the reason on the console before the machine goes away.
pub const PAUSE: Duration = Duration::from_secs(5);

/// The action the panic hook takes, once the command line is known.
static PANIC_ACTION: AtomicU8 = AtomicU8::new(0);

/// Remembers the policy's action for the panic hook.
pub fn remember(policy: &Policy) {
    let code = match policy.action {
        EmergencyAction::PowerOff => 0,
        EmergencyAction::Reboot => 1,
        EmergencyAction::Halt => 2,
    };
    PANIC_ACTION.store(code, Ordering::Relaxed);
}

fn panic_action() -> EmergencyAction {
    match PANIC_ACTION.load(Ordering::Relaxed) {
        1 => EmergencyAction::Reboot,
        2 => EmergencyAction::Halt,
        _ => EmergencyAction::PowerOff,
    }
}

/// Stops at `point` if `rd.break` asked for it: a shell, and when it exits
/// the boot goes on. Without a shell in the initramfs the break cannot be
/// honoured, which is an error (then `rd.emergency` applies).
pub fn at_break(sys: &impl Sys, policy: &Policy, point: BreakPoint) -> Result<(), BootError> {
    if !policy.breaks_at(point) {
        return Ok(());
    }
    let subject = match point {
        BreakPoint::SwitchRoot => String::from("rd.break"),
        _ => format!("rd.break={point}"),
    };
    info!("{subject}: stopping before {}", describe(point));
    if !has_shell(sys) {
        return Err(BootError::new(Stage::Break, subject, Cause::NoShell));
    }
    info!("starting a shell; exit it to continue the boot");
    report_shell(sys.run_shell(SHELL, &subject));
    info!("{subject}: continuing the boot");
    Ok(())
}

fn describe(point: BreakPoint) -> &'static str {
    match point {
        BreakPoint::Cmdline => "anything else happens",
        BreakPoint::PreUdev => "kernel modules are loaded",
        BreakPoint::PreTrigger => "devices are looked at",
        BreakPoint::Initqueue => "waiting for the medium",
        BreakPoint::PreMount => "the medium is mounted",
        BreakPoint::Mount => "the writable root is assembled",
        BreakPoint::PrePivot => "the init is chosen",
        BreakPoint::Cleanup => "cleaning up for the switch",
        BreakPoint::SwitchRoot => "switch_root",
    }
}

fn has_shell(sys: &impl Sys) -> bool {
    sys.is_executable_in("/", SHELL)
}

fn report_shell(result: SysResult<i32>) {
    match result {
        Ok(code) => info!("shell exited with status {code}"),
        Err(e) => warn!("could not start {SHELL}: {}", errno_text(e)),
    }
}

/// Reports `err`, offers a shell if `rd.shell` asked for one, then takes
/// the `rd.emergency` action. Returns only if that action failed.
pub fn fatal(sys: &impl Sys, policy: &Policy, err: &BootError) {
    error!("FATAL: {err}");
    summary(sys, err);
    if policy.shell_on_fatal {
        if has_shell(sys) {
            info!(
                "rd.shell: starting an emergency shell; exit it to {}",
                policy.action.name()
            );
            report_shell(sys.run_shell(SHELL, "emergency"));
        } else {
            warn!("rd.shell: no shell in this initramfs (pack one with `cargo xtask initramfs --busybox`)");
        }
    }
    act(sys, policy.action);
}

/// What was found, so the reason can be read in context.
fn summary(sys: &impl Sys, err: &BootError) {
    let devices: Vec<String> = match &err.devices_seen {
        Some(seen) => seen.clone(),
        // The boot stopped before discovery (which hands what it saw to
        // every later error): read the devices now, each in a child and
        // for a bounded time, so a stalling disk cannot hold up the
        // emergency action.
        None => discover::describe_all(&discover::scan(sys, IdleWaits::default().probe)),
    };
    error!(
        "block devices: {}",
        if devices.is_empty() {
            String::from("none")
        } else {
            devices.join("; ")
        }
    );
    let mounts = sys.read_file("/proc/self/mounts").unwrap_or_default();
    let ours: Vec<String> = String::from_utf8_lossy(&mounts)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (source, target, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            (target.starts_with("/run/") || target.starts_with("/sysroot"))
                .then(|| format!("{target} ({fstype} {source})"))
        })
        .collect();
    if !ours.is_empty() {
        error!("mounted so far: {}", ours.join("; "));
    }
}

fn act(sys: &impl Sys, action: EmergencyAction) {
    error!(
        "{} in {} s (rd.emergency={})",
        action.name(),
        PAUSE.as_secs(),
        action.name()
    );
    sys.sleep(PAUSE);
    let errno = sys.power(action);
    error!(
        "{} failed: {}; stopping here",
        action.name(),
        errno_text(errno)
    );
}

/// Sends a panic anywhere in the init (the binary's panic handler calls
/// this) to the same policy as any other fatal error, instead of the
/// kernel's "Attempted to kill init". It formats into the logger's stack
/// buffer, allocates nothing and never returns.
pub fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    error!("FATAL: internal error (please report): {info}");
    let sys = crate::sys::RealSys::new();
    act(&sys, panic_action());
    loop {
        sys.sleep(Duration::from_secs(3600));
    }
}
