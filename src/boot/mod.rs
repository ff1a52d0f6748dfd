//! Orchestration: the boot sequence, one step per function, no raw syscalls.

#[allow(unused_imports)]
use crate::prelude::*;

mod check;
mod checksum;
mod discover;
mod early;
mod emergency;
mod error;
mod events;
mod execute;
mod fetch;
mod handoff;
mod image_file;
mod iso_file;
mod iso_scan;
mod kiwi;
mod layered;
mod layered_archiso;
mod layered_iso;
mod layered_persist;
mod layered_ram;
mod layered_uuid;
mod live;
mod media_test;
mod modules;
pub mod network;
mod persist;
mod progress_line;
mod ram;
mod ram_auto;

use core::convert::Infallible;
use core::time::Duration;

use log::{info, warn};

pub use emergency::on_panic;
pub use error::{BootError, Cause, Stage};

use crate::cmdline::Cmdline;
use crate::config::{LiveConfig, LiveRoot};
use crate::policy::{BreakPoint, Policy};
use crate::sys::{RealSys, Sys};
use execute::Executor;

/// Runs the boot as PID 1; never returns.
pub fn pid1_main() -> ! {
    crate::logger::init();
    let sys = RealSys::new();
    let mut policy = Policy::default();
    let err = match run(&sys, &mut policy) {
        Ok(never) => match never {},
        Err(err) => err,
    };
    emergency::fatal(&sys, &policy, &err);
    loop {
        sys.sleep(Duration::from_secs(3600));
    }
}

/// The whole boot. Succeeds only by exec'ing the real init, so it only
/// ever returns the reason it stopped; `policy` is filled in as soon as the
/// command line is read, for the caller to act on that reason.
pub fn run<S: Sys>(sys: &S, policy: &mut Policy) -> Result<Infallible, BootError> {
    // What discovery saw goes with every later failure, for its summary.
    let mut seen = None;
    boot(sys, policy, &mut seen).map_err(|mut err| {
        if err.devices_seen.is_none() {
            err.devices_seen = seen.as_deref().map(discover::describe_all);
        }
        err
    })
}

fn boot<S: Sys>(
    sys: &S,
    policy: &mut Policy,
    seen: &mut Option<Vec<discover::Seen>>,
) -> Result<Infallible, BootError> {
    early::mount_api_filesystems(sys)?;
    sys.attach_console();
    info!("liveinit {} starting", env!("CARGO_PKG_VERSION"));
    let throttle = early::unthrottle_kmsg(sys);

    let cmdline = read_cmdline(sys)?;
    *policy = Policy::from_cmdline(&cmdline);
    emergency::remember(policy);
    for warning in &policy.warnings {
        warn!("{warning}");
    }
    let stop = |point| emergency::at_break(sys, policy, point);
    stop(BreakPoint::Cmdline)?;
    let cfg = live_config(&cmdline)?;

    stop(BreakPoint::PreUdev)?;
    let mut modules = modules::Loader::open(sys, &cfg);
    stop(BreakPoint::PreTrigger)?;
    stop(BreakPoint::Initqueue)?;
    if let Some(live) = &cfg.layered {
        layered::mount_root(sys, &cfg, live, &mut modules, &stop)?;
        return hand_over(sys, policy, &cfg, &mut modules, throttle);
    }
    if let Some(kiwi) = &cfg.kiwi {
        kiwi::mount_root(sys, &cfg, kiwi, &mut modules, seen, &stop)?;
        return hand_over(sys, policy, &cfg, &mut modules, throttle);
    }
    // The digest of a downloaded image, finishing beside the boot.
    let mut pending = None;
    let start = match &cfg.root {
        LiveRoot::Device(spec) => {
            let devices = seen.insert(Vec::new());
            match (
                discover::find_medium(sys, spec, &cfg, &mut modules, devices),
                &cfg.iso_scan,
            ) {
                (Err(not_found), Some(iso)) if not_found.cause.is_no_match() => {
                    Start::Medium(iso_scan::find_iso(sys, &mut modules, spec, iso, devices)?)
                }
                (found, _) => Start::Medium(found?),
            }
        }
        LiveRoot::IsoFile(path) => Start::Medium(iso_file::open_iso_file(sys, &mut modules, path)?),
        LiveRoot::ImageFile(path) => Start::Image(path.clone()),
        LiveRoot::Url(_) => {
            let (start, digest) = network_image(sys, &cfg, &mut modules)?;
            pending = Some(digest);
            start
        }
        // Only the layered grammars find their medium by content, above.
        LiveRoot::ByContent => {
            return Err(BootError::new(
                Stage::FindMedium,
                format!("root=live:{}", cfg.root),
                Cause::RootNotSupported,
            ))
        }
    };
    // A downloaded image is already in RAM: rd.live.ram copies nothing
    // more, not even out of a downloaded ISO (network-boot-spec §2.4).
    let cfg = match cfg.root {
        LiveRoot::Url(_) => LiveConfig {
            ram: crate::config::RamCopy::Off,
            ..cfg
        },
        _ => cfg,
    };
    if let (true, Start::Medium(found)) = (cfg.check, &start) {
        check::check_medium(sys, found)?;
    }
    if let (Some(net), false) = (&cfg.net, matches!(cfg.root, LiveRoot::Url(_))) {
        // rd.neednet=1 with a local root: wanted, not needed to boot.
        if let Err(e) = network::bring_up(sys, net, &mut modules) {
            warn!("{e} (rd.neednet=1: booting on without the network)");
        }
    }

    let overlay_device = match &start {
        Start::Medium(found) => persist::find_device(sys, &cfg, found, &mut modules),
        Start::Image(path) => {
            if let Some(asked) = &cfg.overlay.persistent {
                warn!(
                    "rd.overlay={asked}: the image {path} is a file in RAM, not on a medium; \
                     persistent overlays are looked for on the medium only, so changes will not \
                     survive a reboot"
                );
            }
            None
        }
    };
    let cfg = persist::with_medium_rw(cfg, overlay_device.as_ref());

    stop(BreakPoint::PreMount)?;
    let mut exec = Executor::new(sys, &mut modules);
    let layout = match &start {
        Start::Medium(found) => live::open_image(&mut exec, sys, &cfg, found)?,
        Start::Image(path) => image_file::open_image_file(&mut exec, sys, &cfg, path)?,
    };
    stop(BreakPoint::Mount)?;
    let persistent = persist::open(&mut exec, sys, &cfg, &layout, overlay_device);
    live::assemble(&mut exec, sys, &cfg, &layout, persistent.as_ref())?;
    if let Some(pending) = pending {
        pending.complete(sys);
    }
    hand_over(sys, policy, &cfg, &mut modules, throttle)
}

/// From a mounted new root to the real init.
fn hand_over<S: Sys>(
    sys: &S,
    policy: &Policy,
    cfg: &LiveConfig,
    modules: &mut modules::Loader,
    throttle: Option<Vec<u8>>,
) -> Result<Infallible, BootError> {
    let stop = |point| emergency::at_break(sys, policy, point);
    modules.settle(sys);
    stop(BreakPoint::PrePivot)?;
    let inits = handoff::usable_inits(sys, cfg)?;
    stop(BreakPoint::Cleanup)?;
    early::restore_kmsg(sys, throttle);
    stop(BreakPoint::SwitchRoot)?;
    Err(handoff::switch_and_exec(sys, cfg, &inits))
}

/// Downloads the network image, then starts from it as from an image
/// file, or, for an ISO, from its loop device as a medium; with the record
/// whose digest may still be on its way.
fn network_image<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    modules: &mut modules::Loader,
) -> Result<(Start, fetch::Pending), BootError> {
    let (Some(download), Some(plan)) = (&cfg.download, &cfg.net) else {
        return Err(BootError::new(
            Stage::FindMedium,
            format!("root=live:{}", cfg.root),
            Cause::RootNotSupported,
        ));
    };
    let up = network::bring_up(sys, plan, modules)?;
    let (fetched, pending) = fetch::download(sys, cfg, download, &up.interface)?;
    let start = match fetched.content {
        crate::fetch::content::Content::Iso => {
            Start::Medium(iso_file::open_iso_file(sys, modules, &fetched.path)?)
        }
        _ => Start::Image(fetched.path),
    };
    Ok((start, pending))
}

/// Where the boot starts from once the root is located.
enum Start {
    /// A medium (a device, or an ISO attached to a loop device).
    Medium(discover::Found),
    /// An image file already in RAM.
    Image(String),
}

fn read_cmdline(sys: &impl Sys) -> Result<Cmdline, BootError> {
    let sources = cmdline_sources(sys)?;
    let words: Vec<&str> = sources.iter().flat_map(|s| s.split_whitespace()).collect();
    info!("command line: {}", words.join(" "));
    Ok(Cmdline::parse_sources(sources.iter().map(String::as_str)))
}

fn live_config(cmdline: &Cmdline) -> Result<LiveConfig, BootError> {
    let cfg = LiveConfig::from_cmdline(cmdline)
        .map_err(|e| BootError::new(Stage::Cmdline, "", Cause::Config(e)))?;
    crate::logger::set_verbose(cfg.debug);
    for warning in &cfg.warnings {
        warn!("{warning}");
    }
    Ok(cfg)
}

/// The command line as dracut assembles it (docs/dracut-live.md §1.1): configuration
/// files shipped in the initramfs, then the kernel's, then files written
/// at run time, each a source of its own. The last occurrence of an
/// option wins.
fn cmdline_sources(sys: &impl Sys) -> Result<Vec<String>, BootError> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    parts.extend(conf_files(sys, "/etc/cmdline.d"));
    parts.extend(sys.read_file("/etc/cmdline").ok());
    parts.push(
        sys.read_file("/proc/cmdline")
            .map_err(|e| BootError::sys(Stage::Cmdline, "/proc/cmdline", e))?,
    );
    parts.extend(conf_files(sys, "/run/initramfs/cmdline.d"));
    Ok(parts
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// The `*.conf` files of a directory, in name order (the shell's glob order).
fn conf_files(sys: &impl Sys, dir: &str) -> Vec<Vec<u8>> {
    sys.read_dir(dir)
        .unwrap_or_default()
        .iter()
        .filter(|name| name.ends_with(".conf"))
        .filter_map(|name| sys.read_file(&format!("{dir}/{name}")).ok())
        .collect()
}

#[cfg(test)]
mod tests;
