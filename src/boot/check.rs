//! `rd.live.check` (docs/dracut-live.md §3.9): the medium's implanted MD5
//! (isomd5sum's format, [`crate::isomd5`]) verified in one pass over the
//! device before anything on it is used, with progress on the console.
//!
//! Where dracut differs on purpose: a medium without an implanted sum is
//! used with a warning (`checkisomd5` calls that a failure, and dracut
//! then sleeps 12 hours), and a failed check is an ordinary fatal error
//! followed by the `rd.emergency` action at once. There is no Esc to skip
//! the check: the console is in canonical mode, so a key would only arrive
//! with Enter, and a raw-mode terminal is not worth it for this.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::discover::Found;
use super::error::{BootError, Cause, Stage};
use super::progress_line;
use crate::isomd5::{self, Implanted, Verifier, DESCRIPTORS_START, READ_BLOCK, SECTOR};
use crate::probe::FsType;
use crate::progress::{size_text, Progress};
use crate::sys::Sys;

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

/// One pass over the part of the device the sum covers.
fn verify(sys: &impl Sys, device: &str, sum: Implanted) -> Result<(), BootError> {
    let mut verifier = Verifier::new(sum);
    let total = verifier.total();
    info!(
        "rd.live.check: verifying {device} ({}) against its implanted MD5 checksum",
        size_text(total)
    );
    let mut progress = Progress::new(&format!("checking {device}"), total, sys.now());
    let fed = feed_all(sys, device, &mut verifier, &mut progress);
    progress_line::clear(sys);
    fed?;
    let done = verifier.done();
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
) -> Result<(), BootError> {
    let damaged = |at| BootError::new(Stage::CheckMedium, device, Cause::MediumDamaged(at));
    loop {
        let left = verifier.total().saturating_sub(verifier.done());
        if left == 0 {
            return Ok(());
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
