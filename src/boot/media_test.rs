//! live-boot's `verify-checksums` (distro-live-spec §1.9): once the medium
//! is found, and before anything is copied to RAM, every file the first
//! checksum listing at its root names is read once and compared, with
//! progress on the console. This is a media test, not a boot, as in
//! live-boot: when every file matches the machine reboots after
//! [`REBOOT_AFTER`]; the first file that does not is named and the
//! emergency policy follows.
//!
//! Esc skips the rest of the test, as it skips `rd.live.check` (live-boot
//! has no such key): the boot then goes on, with a warning that the medium
//! was not tested.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{error, info, warn};

use super::error::{BootError, Cause, Stage};
use super::progress_line;
use crate::grammar::verify_checksums::{entry, inside, Digest, Failure, Hasher};
use crate::policy::EmergencyAction;
use crate::printable::printable;
use crate::progress::{size_text, Progress};
use crate::sys::{ConsoleKeys, FileKind, Sys};

/// live-boot's pause before the reboot that ends a passed test.
pub const REBOOT_AFTER: Duration = Duration::from_secs(10);
/// How much is read at a time.
const CHUNK: usize = 1 << 20;

/// Tests the medium mounted at `root`. Returns `Ok` only when Esc skipped
/// the test (the boot goes on); a pass reboots, so it ends in an error
/// only if the reboot fails.
#[inline(never)]
pub fn run(sys: &impl Sys, root: &str, digests: &[Digest]) -> Result<(), BootError> {
    let fail = |failure| {
        BootError::new(
            Stage::CheckMedium,
            root,
            Cause::MediaTest(Box::new(failure)),
        )
    };
    let (digest, listing) = find_listing(sys, root, digests).map_err(fail)?;
    let path = format!("{root}/{listing}");
    let text = sys
        .read_file(&path)
        .map_err(|e| BootError::sys(Stage::CheckMedium, &path, e))?;
    let text = String::from_utf8_lossy(&text);
    let mut files: Vec<(&str, &str)> = Vec::new();
    for line in text.lines() {
        match entry(line, digest) {
            Some((_, file)) if !inside(file) => {
                warn!(
                    "verify-checksums: {listing}: {} is not on the medium; not checked",
                    printable(file)
                );
            }
            Some(pair) => files.push(pair),
            // Like `sha256sum -c` without --strict: other lines are skipped.
            None => {}
        }
    }
    if files.is_empty() {
        return Err(fail(Failure::Empty { listing }));
    }
    let total: u64 = files
        .iter()
        .map(|(_, f)| sys.file_size(&format!("{root}/{f}")).unwrap_or(0))
        .sum();
    let mut keys = sys.console_keys();
    info!(
        "verify-checksums: checking the {} files {listing} lists ({}); a media test: the \
         machine reboots afterwards{}",
        files.len(),
        size_text(total),
        if keys.is_some() {
            "; press Esc to stop it and boot"
        } else {
            ""
        }
    );
    let mut progress = Progress::new("verify-checksums", total, sys.now());
    let mut done = 0u64;
    let mut first_bad: Option<(&str, String)> = None;
    let (mut checked, mut bad) = (0, 0);
    for (want, file) in &files {
        let got = hash_file(
            sys,
            &format!("{root}/{file}"),
            digest,
            &mut done,
            &mut progress,
            &mut keys,
        );
        let why = match got {
            Ok(None) => break,
            Ok(Some(got)) if got.eq_ignore_ascii_case(want) => None,
            Ok(Some(got)) => Some(format!("has {} {got}, not {want}", digest.name())),
            Err(why) => Some(why),
        };
        checked += 1;
        if let Some(why) = why {
            progress_line::clear(sys);
            error!("verify-checksums: {file}: FAILED: {why}");
            bad += 1;
            first_bad.get_or_insert((file, why));
        }
    }
    drop(keys);
    progress_line::clear(sys);
    if checked < files.len() {
        warn!(
            "verify-checksums: Esc pressed: the media test was stopped after {checked} of {} \
             files; the medium was NOT fully tested; booting",
            files.len()
        );
        return Ok(());
    }
    if let Some((first, why)) = first_bad {
        return Err(fail(Failure::Bad {
            listing,
            first: String::from(first),
            why,
            bad,
            total: files.len(),
        }));
    }
    info!("{}", progress.finished(done, sys.now()));
    info!(
        "verify-checksums: all {} files {listing} lists match: the medium is good. This was a \
         media test, not a boot: rebooting in {} s",
        files.len(),
        REBOOT_AFTER.as_secs()
    );
    sys.sleep(REBOOT_AFTER);
    let _ = sys.unmount(root);
    let errno = sys.power(EmergencyAction::Reboot);
    Err(BootError::sys(
        Stage::CheckMedium,
        "reboot after the media test",
        errno,
    ))
}

/// The first listing there, in the digests' order, whose digest is carried.
fn find_listing(
    sys: &impl Sys,
    root: &str,
    digests: &[Digest],
) -> Result<(Digest, String), Failure> {
    let (mut looked, mut not_carried) = (Vec::new(), Vec::new());
    for digest in digests {
        for name in digest.files() {
            if sys.file_kind(&format!("{root}/{name}")) != Some(FileKind::File) {
                looked.push(name);
            } else if digest.carried() {
                info!("verify-checksums: found {name}");
                return Ok((*digest, name));
            } else {
                warn!(
                    "verify-checksums: found {name}, but liveinit does not compute {}; looking further",
                    digest.name()
                );
                not_carried.push(name);
            }
        }
    }
    Err(Failure::NoListing {
        looked,
        not_carried,
    })
}

/// One file's digest, its bytes counted into `done`; `Ok(None)` when Esc
/// was pressed, `Err` with why it cannot be read.
fn hash_file(
    sys: &impl Sys,
    path: &str,
    digest: Digest,
    done: &mut u64,
    progress: &mut Progress,
    keys: &mut Option<Box<dyn ConsoleKeys + '_>>,
) -> Result<Option<String>, String> {
    let Some(mut hasher) = Hasher::new(digest) else {
        return Err(format!("cannot be checked: no {}", digest.name()));
    };
    let mut at = 0u64;
    loop {
        if let Some(keys) = keys {
            if crate::keys::skip_requested(&keys.read()) {
                return Ok(None);
            }
        }
        let chunk = sys
            .read_at(path, at, CHUNK)
            .map_err(|e| format!("cannot be read at byte {at}: {}", crate::sys::errno_text(e)))?;
        if chunk.is_empty() {
            return Ok(Some(hasher.hex()));
        }
        hasher.update(&chunk);
        at = at.saturating_add(chunk.len() as u64);
        *done = done.saturating_add(chunk.len() as u64);
        progress_line::show(sys, progress.update(*done, sys.now()));
    }
}
