//! Persistence as Debian live-boot (`persistence`, distro-live-spec §1.8)
//! and casper (`persistent`, §2.7) do it: the block devices present once
//! the medium is found are looked at for the grammar's own volumes, which
//! are mounted where that initramfs leaves them; the overlay root's upper
//! layer goes onto one, and live-boot's `persistence.conf` may keep more
//! directories there. A volume that is missing, unusable or cannot be
//! mounted is named in a warning and the boot goes on with the tmpfs:
//! nothing here stops a boot, and nothing is ever partitioned, formatted
//! or created beyond the upper and work directories on a volume found.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::{self, Seen};
use super::error::{errno_text, Stage};
use super::execute::Executor;
use super::modules::Loader;
use super::persist::temporary;
use crate::config::LiveConfig;
use crate::discovery::TICK;
use crate::grammar::persistence::PersistAsk;
use crate::grammar::persistence_conf::{self, Entry, Kind, FILE_NAME};
use crate::grammar::{Grammar, LayeredConfig};
use crate::plan::iso_scan::can_hold_files;
use crate::plan::layered_persist::{
    bind, mount_file_host, mount_volume, onto_volume, union, FILE_HOST, LIVE_BOOT_VOLUMES,
};
use crate::plan::persist::{can_hold_upper, state_step};
use crate::plan::Step;
use crate::probe::{self, FsType, PROBE_BYTES};
use crate::sys::{FileKind, Sys};

/// A volume found and mounted.
struct Volume {
    /// What to call it in messages: `/dev/vdb (LABEL=persistence)`.
    named: String,
    fstype: FsType,
    /// Its mount point.
    at: String,
}

/// What the volumes give the root.
#[derive(Default)]
struct Plan {
    /// The directory holding the root's upper layer (`rw`/`upper`, `work`).
    root: Option<String>,
    /// Entries carried out once the root is mounted, with their source.
    after: Vec<(Entry, String)>,
    /// One line each, for `liveinit status`.
    lines: Vec<String>,
}

/// Mounts the overlay root (`steps`, tmpfs-backed as planned) with the
/// persistence the command line asks for, then the directories kept on
/// the volumes. `lowers` is the root's `lowerdir=`, top first. Only the
/// tmpfs root itself can stop the boot.
pub fn assemble<S: Sys>(
    sys: &S,
    modules: &mut Loader,
    cfg: &LiveConfig,
    live: &LayeredConfig,
    medium: &str,
    steps: Vec<Step>,
    lowers: &str,
) -> Result<(), super::error::BootError> {
    let Some(ask) = &live.persistence else {
        return Executor::new(sys, modules).run(Stage::AssembleRoot, &steps);
    };
    // The medium is taken as soon as it is seen; the disk drivers still
    // loading, and USB sticks bound but not yet scanned, may bring the
    // volumes (live-boot waits for new disks too).
    let end = sys.now().saturating_add(cfg.idle.probe);
    while (modules.drivers_busy() || discover::usb_disk_pending(sys)) && sys.now() < end {
        let _ = super::events::wait(sys, modules, end.saturating_sub(sys.now()).min(TICK));
        modules.pump(sys);
    }
    let exec = &mut Executor::new(sys, modules);
    let seen = discover::scan(sys, cfg.idle.probe);
    let devices: Vec<&Seen> = seen
        .iter()
        .filter(|s| {
            format!("/dev/{}", s.name) != medium
                && !["loop", "ram", "fd", "sr"]
                    .iter()
                    .any(|p| s.name.starts_with(p))
                && s.fs.as_ref().is_some_and(|fs| can_hold_files(fs.fstype))
                && ask
                    .media
                    .map_or(true, |only| discover::admits(sys, only, s))
        })
        .collect();
    let plan = match ask.grammar {
        Grammar::Casper => casper(exec, sys, ask, &devices),
        _ => live_boot(exec, sys, ask, &devices),
    };
    let paths = live.paths;
    match &plan.root {
        Some(holder) => {
            let persistent = onto_volume(steps.clone(), paths, holder, ask.read_only);
            if let Err(e) = exec.run(Stage::AssembleRoot, &persistent) {
                temporary(&format!("the root on the persistence volume: {e}"));
                exec.run(Stage::AssembleRoot, &steps)?;
            }
        }
        None => exec.run(Stage::AssembleRoot, &steps)?,
    }
    let lowers: Vec<&str> = lowers.split(':').collect();
    let mut lines = plan.lines;
    for (entry, source) in &plan.after {
        if let Some(line) = keep_dir(
            exec,
            sys,
            paths.overlay,
            ask.read_only,
            entry,
            source,
            &lowers,
        ) {
            lines.push(line);
        }
    }
    if !lines.is_empty() {
        record(exec, &lines.join("; "));
    }
    Ok(())
}

/// Logs what the persistent layer is and records it for `liveinit
/// status` (a failure to write that is no reason to stop).
pub fn record<S: Sys>(exec: &mut Executor<'_, S>, text: &str) {
    info!("persistence: {text}");
    let _ = exec.run(
        Stage::AssembleRoot,
        &[
            Step::MakeDir {
                path: String::from("/run/initramfs"),
            },
            state_step(text),
        ],
    );
}

/// `DIR bind` or `DIR union` of `persistence.conf`, once the root is
/// mounted; `None` (after a warning) when it cannot be done.
fn keep_dir<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    tmpfs: &str,
    read_only: bool,
    entry: &Entry,
    source: &str,
    lowers: &[&str],
) -> Option<String> {
    let dir = entry.dir.as_str();
    if sys.file_kind(source) != Some(FileKind::Dir) {
        if read_only {
            warn!(
                "persistence: {dir}: {source} does not exist, and the volume is read-only; skipped"
            );
            return None;
        }
        if let Err(e) = sys.mkdir_all(source) {
            warn!(
                "persistence: {dir}: cannot create {source}: {}; skipped",
                errno_text(e)
            );
            return None;
        }
        if entry.kind == Kind::Bind {
            warn!("persistence: {dir}: {source} was made empty (not copied from the image)");
        }
    }
    let steps = match entry.kind {
        Kind::Bind => bind(dir, source, read_only.then_some(tmpfs)),
        _ => {
            let mut below: Vec<String> = lowers
                .iter()
                .map(|l| format!("{l}{dir}"))
                .filter(|l| sys.file_kind(l) == Some(FileKind::Dir))
                .collect();
            let holder = if read_only {
                below.insert(0, format!("{source}/rw"));
                format!("{tmpfs}{dir}")
            } else {
                String::from(source)
            };
            if below.is_empty() {
                warn!("persistence: {dir} union: no image has {dir}, overlayfs needs one; skipped");
                return None;
            }
            union(dir, &holder, &below)
        }
    };
    match exec.run(Stage::AssembleRoot, &steps) {
        Ok(()) => Some(format!(
            "{dir} {} {source}{}",
            if entry.kind == Kind::Bind {
                "bound to"
            } else {
                "union on"
            },
            if read_only { " (read-only)" } else { "" }
        )),
        Err(e) => {
            warn!("persistence: {dir}: {e}; skipped");
            None
        }
    }
}

/// live-boot: every volume labelled (or GPT-named) like a
/// `persistence-label`, or holding an image file so named, that has a
/// `persistence.conf`.
fn live_boot<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    ask: &PersistAsk,
    devices: &[&Seen],
) -> Plan {
    let mut plan = Plan::default();
    let mut found = 0;
    for seen in devices {
        let Some(volume) = find_volume(exec, sys, ask, seen, LIVE_BOOT_VOLUMES) else {
            continue;
        };
        found += 1;
        let conf = format!("{}/{FILE_NAME}", volume.at);
        let Ok(text) = sys.read_file(&conf) else {
            warn!(
                "persistence: {} has no {FILE_NAME} at its root: not used",
                volume.named
            );
            let _ = sys.unmount(&volume.at);
            continue;
        };
        let (entries, warnings) = persistence_conf::parse(&String::from_utf8_lossy(&text));
        for w in warnings {
            warn!("persistence: {conf}: {w}");
        }
        let mut used = false;
        for entry in entries {
            let source = if entry.source.is_empty() {
                volume.at.clone()
            } else {
                format!("{}/{}", volume.at, entry.source)
            };
            let root = entry.kind == Kind::Union && entry.dir == "/";
            let skip = match entry.kind {
                Kind::Link => Some("link is not carried out by liveinit"),
                Kind::Bind if entry.dir == "/" => Some("bind of / is not carried out (use union)"),
                _ if !root => None,
                _ if plan.root.is_some() => Some("the root is already on another volume"),
                _ if ask.read_only && !is_dir(sys, &format!("{source}/rw")) => {
                    Some("there is no rw/ directory to show read-only")
                }
                _ if !ask.read_only && !can_hold_upper(volume.fstype) => {
                    Some("this filesystem cannot hold an overlayfs upper directory")
                }
                _ if !ask.read_only && !upper_dirs(sys, &source, "rw") => Some("see above"),
                _ => None,
            };
            if let Some(why) = skip {
                warn!("persistence: {conf}: {}: {why}; skipped", entry.dir);
            } else if root {
                plan.lines.push(format!(
                    "/ union on {} at {source}{}",
                    volume.named,
                    if ask.read_only { " (read-only)" } else { "" }
                ));
                plan.root = Some(source);
                used = true;
            } else {
                plan.after.push((entry, source));
                used = true;
            }
        }
        if !used {
            let _ = sys.unmount(&volume.at);
        }
    }
    if found == 0 {
        temporary(&format!(
            "persistence: no volume found: no filesystem labelled or GPT partition named {}, \
             nor such a file in /{} of a partition (not the medium{}); liveinit never makes one",
            ask.labels.join(" or "),
            ask.path,
            match ask.media {
                Some(only) => format!(
                    ", on {} only: persistence-media={}",
                    only.disks(),
                    only.name()
                ),
                None => String::new(),
            }
        ));
    }
    plan
}

/// casper: the filesystem labelled `writable`, else `casper-rw`, else an
/// image file so named on a FAT partition, mounted at `/cow` as the upper
/// layer's holder.
fn casper<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    ask: &PersistAsk,
    devices: &[&Seen],
) -> Plan {
    let mut plan = Plan::default();
    let labelled = ask.labels.iter().find_map(|label| {
        devices
            .iter()
            .find(|s| s.fs.as_ref().and_then(|f| f.label.as_deref()) == Some(label.as_str()))
    });
    // casper looks for files on FAT only: mounting another filesystem
    // could replay the journal of a hibernated system's disk.
    let fat: Vec<&Seen> = devices
        .iter()
        .filter(|s| s.fs.as_ref().is_some_and(|f| f.fstype == FsType::Vfat))
        .copied()
        .collect();
    let volume = match labelled {
        Some(seen) => find_volume(exec, sys, &by_label_only(ask), seen, "/cow"),
        None => fat
            .iter()
            .find_map(|seen| find_volume(exec, sys, &by_file_only(ask), seen, "/cow")),
    };
    let Some(volume) = volume else {
        temporary(&format!(
            "persistent: no filesystem labelled {}, nor such a file on a FAT partition \
             (not the medium); liveinit never makes one, as casper would",
            ask.labels.join(" or ")
        ));
        return plan;
    };
    if !can_hold_upper(volume.fstype) {
        temporary(&format!(
            "persistent: {} is {}, which cannot hold an overlayfs upper directory",
            volume.named,
            volume.fstype.as_str()
        ));
        let _ = sys.unmount(&volume.at);
        return plan;
    }
    if !is_dir(sys, "/cow/upper") {
        let old: Vec<String> = sys
            .read_dir("/cow")
            .unwrap_or_default()
            .into_iter()
            .filter(|n| !matches!(n.as_str(), "lost+found" | "work" | "log" | "crash"))
            .filter(|n| !n.starts_with("install-logs-"))
            .collect();
        if !old.is_empty() {
            warn!(
                "persistent: {} holds {} outside upper/ (casper's old layout): not moved, \
                 not seen",
                volume.named,
                old.join(", ")
            );
        }
    }
    if !upper_dirs(sys, "/cow", "upper") {
        let _ = sys.unmount(&volume.at);
        return plan;
    }
    plan.lines.push(format!(
        "the root's upper layer on {} at /cow",
        volume.named
    ));
    plan.root = Some(String::from("/cow"));
    plan
}

fn by_label_only(ask: &PersistAsk) -> PersistAsk {
    PersistAsk {
        by_file: false,
        ..ask.clone()
    }
}

fn by_file_only(ask: &PersistAsk) -> PersistAsk {
    PersistAsk {
        by_label: false,
        ..ask.clone()
    }
}

/// `seen` as a volume: by its label or GPT partition name, else by an
/// image file on it (whose partition stays mounted under `base`). Mounted
/// at `base/<name>` (live-boot) or at `base` itself (casper's `/cow`).
fn find_volume<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    ask: &PersistAsk,
    seen: &Seen,
    base: &str,
) -> Option<Volume> {
    let fs = seen.fs.as_ref()?;
    let device = format!("/dev/{}", seen.name);
    let at = |name: &str| {
        if base == LIVE_BOOT_VOLUMES {
            format!("{base}/{name}")
        } else {
            String::from(base)
        }
    };
    let is_label = |v: Option<&str>| v.is_some_and(|v| ask.labels.iter().any(|l| l == v));
    if ask.by_label && (is_label(seen.partlabel.as_deref()) || is_label(fs.label.as_deref())) {
        let named = match (&seen.partlabel, &fs.label) {
            (Some(p), _) if is_label(Some(p)) => format!("{device} (PARTLABEL={p})"),
            (_, l) => format!("{device} (LABEL={})", l.as_deref().unwrap_or_default()),
        };
        return mount(exec, ask, &device, fs.fstype, &at(&seen.name), named);
    }
    if !ask.by_file {
        return None;
    }
    // Looked at read-only first: only a partition holding the file is
    // mounted writable.
    exec.run(Stage::AssembleRoot, &mount_file_host(&device, fs.fstype))
        .ok()?;
    let label = ask
        .labels
        .iter()
        .find(|l| sys.file_kind(&ask.file_at(FILE_HOST, l)) == Some(FileKind::File));
    let _ = sys.unmount(FILE_HOST);
    let label = label?;
    let host = if base == LIVE_BOOT_VOLUMES {
        at(&seen.name)
    } else {
        format!("/{label}-backing")
    };
    let file = ask.file_at(&host, label);
    let named = format!("{} on {device}", ask.file_at("", label));
    // The file and its partition stay writable even under
    // persistence-read-only, where the filesystem in it is mounted
    // read-only: a journal left to replay (the last boot's power went) is
    // replayed then, as for a volume on a partition, and a read-only
    // device would refuse the mount instead.
    if let Err(e) = exec.run(
        Stage::AssembleRoot,
        &mount_volume(&device, fs.fstype, &host, false),
    ) {
        warn!("persistence: {named}: {e}");
        return None;
    }
    let loop_dev = match sys.attach_loop(&file, false) {
        Ok(dev) => dev,
        Err(e) => {
            warn!(
                "persistence: attach a loop device to {file}: {}; not used",
                errno_text(e)
            );
            let _ = sys.unmount(&host);
            return None;
        }
    };
    let fstype = sys
        .read_head(&loop_dev, PROBE_BYTES)
        .ok()
        .and_then(|head| probe::probe(&head))
        .map(|fs| fs.fstype);
    let Some(fstype) = fstype else {
        warn!("persistence: {named} holds no filesystem liveinit knows; not used");
        let _ = sys.unmount(&host);
        return None;
    };
    let name = loop_dev.trim_start_matches("/dev/");
    mount(exec, ask, &loop_dev, fstype, &at(name), named)
}

fn mount<S: Sys>(
    exec: &mut Executor<'_, S>,
    ask: &PersistAsk,
    device: &str,
    fstype: FsType,
    at: &str,
    named: String,
) -> Option<Volume> {
    info!("persistence: found {named}");
    match exec.run(
        Stage::AssembleRoot,
        &mount_volume(device, fstype, at, ask.read_only),
    ) {
        Ok(()) => Some(Volume {
            named,
            fstype,
            at: String::from(at),
        }),
        Err(e) => {
            warn!("persistence: {named} cannot be mounted: {e}; not used");
            None
        }
    }
}

fn is_dir(sys: &impl Sys, path: &str) -> bool {
    sys.file_kind(path) == Some(FileKind::Dir)
}

/// Makes the upper and work directories on a volume, as live-boot and
/// casper do; says why not when it cannot.
fn upper_dirs(sys: &impl Sys, holder: &str, upper: &str) -> bool {
    for dir in [upper, "work"] {
        let path = format!("{holder}/{dir}");
        if let Err(e) = sys.mkdir_all(&path) {
            temporary(&format!(
                "persistence: cannot create {path}: {}",
                errno_text(e)
            ));
            return false;
        }
    }
    true
}
