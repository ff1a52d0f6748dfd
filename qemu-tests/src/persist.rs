//! The probe's persistence test, and its reading by the boot tests: with
//! `liveinit.probe.mark=<word>` on the kernel command line the probe (after
//! its report) prints what [`MARKER_FILE`] held at boot, writes `<word>`
//! into it, fsyncs the file and `/`, and says so; with `liveinit.probe.cut`
//! as well it then prints [`CUT_MARKER`] and hangs, for the host to cut
//! the power (kill QEMU) at that line.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::harness::{Case, Probed};
use crate::media::mkfs_ext4;
use crate::qemu::Drive;

/// Kernel parameter: the word to leave in the root for the next boot.
pub const MARK_PARAM: &str = "liveinit.probe.mark";
/// Kernel parameter (a bare word): hang after the marker is synced.
pub const CUT_PARAM: &str = "liveinit.probe.cut";
/// The marker, in the root (so in whatever writable layer it has).
pub const MARKER_FILE: &str = "/liveinit-persist-marker";
/// `persist.before=<word>`, or `(none)` when there was no marker.
pub const BEFORE: &str = "persist.before=";
/// `persist.wrote=<word>` once written and synced, or `error …`.
pub const WROTE: &str = "persist.wrote=";
/// The line after which the host cuts the power.
pub const CUT_MARKER: &str = "persist: marker synced; cut the power now";
pub const NO_MARKER: &str = "(none)";

/// The probe's side: returns whether to hang (a power cut is expected).
pub fn probe_side(cmdline: &str, out: &dyn Fn(&str)) -> bool {
    let Some(word) = cmdline
        .split_whitespace()
        .filter_map(|w| w.strip_prefix(MARK_PARAM)?.strip_prefix('='))
        .next_back()
    else {
        return false;
    };
    let before = fs::read_to_string(MARKER_FILE)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| NO_MARKER.to_string());
    out(&format!("{BEFORE}{before}"));
    match write_synced(word) {
        Ok(()) => out(&format!("{WROTE}{word}")),
        Err(e) => out(&format!("{WROTE}error {e}")),
    }
    let cut = cmdline.split_whitespace().any(|w| w == CUT_PARAM);
    if cut {
        out(CUT_MARKER);
    }
    cut
}

fn write_synced(word: &str) -> std::io::Result<()> {
    let mut f = fs::File::create(MARKER_FILE)?;
    f.write_all(format!("{word}\n").as_bytes())?;
    f.sync_all()?;
    // The new name is in `/`: sync the directory too.
    fs::File::open("/")?.sync_all()
}

/// What the probe printed after `key` on the console `log` (`None` if it
/// did not print it).
pub fn printed<'a>(log: &'a str, key: &str) -> Option<&'a str> {
    log.lines()
        .map(|l| l.trim_end_matches('\r'))
        .find_map(|l| l.strip_prefix(key))
}

/// A writable virtio disk (the boots write to it; not shared).
pub fn virtio_rw(path: &Path) -> Drive {
    Drive::VirtioDisk {
        path: path.to_path_buf(),
        readonly: false,
    }
}

/// An 8 MiB ext4 filesystem at `out` labelled `label`, holding `files`
/// (`(path, contents)`) and the empty directories `dirs`.
pub fn ext4_volume(out: &Path, label: Option<&str>, files: &[(&str, &str)], dirs: &[&str]) {
    let tree = out.with_extension("tree");
    let _ = fs::remove_dir_all(&tree);
    fs::create_dir_all(&tree).unwrap();
    for (path, text) in files {
        let at = tree.join(path);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        fs::write(at, text).unwrap();
    }
    for d in dirs {
        fs::create_dir_all(tree.join(d)).unwrap();
    }
    mkfs_ext4(&tree, out, 8, label).expect("building an ext4 volume");
}

/// One boot that leaves `mark` in `/`; the marker at boot must be `before`.
pub fn boot_marking(
    name: &str,
    drives: Vec<Drive>,
    args: &str,
    mark: &str,
    before: &str,
) -> Probed {
    let b = Case::new(name, drives, &format!("{args} {MARK_PARAM}={mark}")).boot_probe();
    let log = &b.ended.out.log;
    let seen = printed(log, BEFORE);
    b.check(
        seen == Some(before),
        &format!("the marker at boot was {seen:?}, expected {before:?}"),
    );
    let wrote = printed(log, WROTE);
    b.check(
        wrote == Some(mark),
        &format!("the probe's write: {wrote:?}"),
    );
    b
}

/// The `upperdir=` of the root's overlay.
pub fn root_upper(b: &Probed) -> Option<&str> {
    b.report
        .root_mount()
        .and_then(|m| m.super_option("upperdir"))
}
