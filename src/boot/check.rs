//! `rd.live.check` (docs/dracut-live.md §3.9): the medium's implanted MD5
//! (isomd5sum's format, [`crate::isomd5`]) verified in one pass over the
//! device before anything on it is used, with progress on the console.
//!
//! Where dracut differs on purpose: a medium without an implanted sum is
//! used with a warning (`checkisomd5` calls that a failure, and dracut
//! then sleeps 12 hours), and a failed check is an ordinary fatal error
//! followed by the `rd.emergency` action at once.
//!
//! As with `checkisomd5`, Esc on a terminal skips the check: while it
//! runs the console is read a key at a time, never waiting (the seam's
//! [`Sys::console_keys`], which puts the terminal back afterwards), and
//! [`crate::keys::skip_requested`] decides; the boot goes on with a
//! warning that the medium was not checked.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::Found;
use super::error::{BootError, Cause, Stage};
use super::progress_line;
use crate::isomd5::{self, Implanted, Verifier, DESCRIPTORS_START, READ_BLOCK, SECTOR};
use crate::probe::FsType;
use crate::progress::{size_text, Progress};
use crate::sys::{ConsoleKeys, Sys};

/// Bytes read from the device at a time: isomd5sum's 32 KiB blocks, 32 of
/// them, so the reads are few and the progress line moves smoothly.
const CHUNK: u64 = 32 * READ_BLOCK as u64;
/// Volume descriptors looked at for the primary one (it is the first on
/// every ISO seen in practice; the set ends with a terminator).
const MAX_DESCRIPTORS: u64 = 32;
/// The volume descriptor set terminator's type.
const TERMINATOR: u8 = 255;

/// Verifies the found medium's implanted checksum: `Ok` when it matches or
/// when there is nothing to verify (said in a warning); a mismatch or a
/// read error is fatal, naming the device.
pub fn check_medium(sys: &impl Sys, found: &Found) -> Result<(), BootError> {
    let device = found.device.as_str();
    if found.fs.fstype != FsType::Iso9660 {
        warn!(
            "rd.live.check: {device} is {}, not an ISO 9660 image, so it carries no \
             implanted checksum; it is used unverified",
            found.fs.fstype.as_str()
        );
        return Ok(());
    }
    let Some(sum) = implanted_sum(sys, device)? else {
        warn!(
            "rd.live.check: {device} carries no implanted checksum (implantisomd5 was not \
             run on it); it is used unverified"
        );
        return Ok(());
    };
    verify(sys, device, sum)
}

/// The sum in the primary volume descriptor, if `implantisomd5` put one.
fn implanted_sum(sys: &impl Sys, device: &str) -> Result<Option<Implanted>, BootError> {
    for index in 0..MAX_DESCRIPTORS {
        let offset = DESCRIPTORS_START + index * SECTOR;
        let descriptor = read(sys, device, offset, SECTOR)?;
        match descriptor.first() {
            Some(1) => return Ok(isomd5::parse(&descriptor, offset)),
            Some(&TERMINATOR) | None => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// How a pass over the device ended, when nothing failed.
enum Fed {
    All,
    /// Esc was pressed.
    Skipped,
}

/// One pass over the part of the device the sum covers.
fn verify(sys: &impl Sys, device: &str, sum: Implanted) -> Result<(), BootError> {
    let mut verifier = Verifier::new(sum);
    let total = verifier.total();
    let mut keys = sys.console_keys();
    info!(
        "rd.live.check: verifying {device} ({}) against its implanted MD5 checksum{}",
        size_text(total),
        if keys.is_some() {
            "; press Esc to skip"
        } else {
            ""
        }
    );
    let mut progress = Progress::new(&format!("checking {device}"), total, sys.now());
    let fed = feed_all(sys, device, &mut verifier, &mut progress, &mut keys);
    // The console is put back before anything else is said or run.
    drop(keys);
    progress_line::clear(sys);
    let done = verifier.done();
    if let Fed::Skipped = fed? {
        warn!(
            "rd.live.check: Esc pressed: the check of {device} was skipped after {} of {}; \
             the medium was NOT checked and is used unverified",
            size_text(done),
            size_text(total)
        );
        return Ok(());
    }
    verifier
        .finish()
        .map_err(|at| BootError::new(Stage::CheckMedium, device, Cause::MediumDamaged(at)))?;
    info!("{}", progress.finished(done, sys.now()));
    info!("medium check passed: {device}");
    Ok(())
}

/// Feeds the verifier the device in order, a [`CHUNK`] per read, cut into
/// the blocks it asks for (its fragment sums depend on them).
fn feed_all(
    sys: &impl Sys,
    device: &str,
    verifier: &mut Verifier,
    progress: &mut Progress,
    keys: &mut Option<Box<dyn ConsoleKeys + '_>>,
) -> Result<Fed, BootError> {
    let damaged = |at| BootError::new(Stage::CheckMedium, device, Cause::MediumDamaged(at));
    loop {
        let left = verifier.total().saturating_sub(verifier.done());
        if left == 0 {
            return Ok(Fed::All);
        }
        if let Some(keys) = keys {
            if crate::keys::skip_requested(&keys.read()) {
                return Ok(Fed::Skipped);
            }
        }
        let mut chunk = read(sys, device, verifier.done(), left.min(CHUNK))?;
        if chunk.is_empty() {
            return Err(BootError::new(
                Stage::CheckMedium,
                device,
                Cause::MediumTruncated {
                    covered: verifier.total(),
                    ends: verifier.done(),
                },
            ));
        }
        let mut at = 0;
        while at < chunk.len() {
            // The block the verifier asks for, or what is left of a short
            // read (the device ends there: the next read will say so).
            let end = chunk.len().min(at.saturating_add(verifier.next_len()));
            let Some(block) = chunk.get_mut(at..end).filter(|b| !b.is_empty()) else {
                break;
            };
            verifier.feed(block).map_err(damaged)?;
            at = end;
        }
        progress_line::show(sys, progress.update(verifier.done(), sys.now()));
    }
}

fn read(sys: &impl Sys, device: &str, offset: u64, len: u64) -> Result<Vec<u8>, BootError> {
    let len = usize::try_from(len).unwrap_or(READ_BLOCK);
    sys.read_at(device, offset, len).map_err(|e| {
        BootError::sys(
            Stage::CheckMedium,
            format!("read {device} at byte {offset}"),
            e,
        )
    })
}
