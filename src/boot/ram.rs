//! `rd.live.ram` (docs/dracut-live.md §3.7): the memory check, the copy
//! with its progress, and letting go of the medium once the copy is made.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::error::{BootError, Cause, Stage};
use super::progress_line;
use crate::plan::ram::{self, check_memory, MemoryFacts, RamFit};
use crate::plan::{ImageSource, LIVE_MNT};
use crate::progress::{size_text, Progress};
use crate::sys::Sys;
use crate::usage::mem_total_mib;

/// Copies the image to RAM if it fits, and returns where it is now.
pub fn copy_image(
    sys: &impl Sys,
    minmem_mib: u64,
    source: ImageSource,
) -> Result<ImageSource, BootError> {
    let Some(target) = ram::copy_target(&source) else {
        warn!("rd.live.ram: {source:?} is a device, not a file; it is used in place, not copied");
        return Ok(source);
    };
    let from = match &source {
        ImageSource::SquashedFile(p) | ImageSource::FsImage(p) | ImageSource::SquashedDevice(p) => {
            p.clone()
        }
    };
    let facts = memory_facts(sys, &from)?;
    match check_memory(facts, minmem_mib) {
        RamFit::TooBig(too_big) => {
            return Err(BootError::new(
                Stage::CopyToRam,
                from,
                Cause::RamTooSmall(too_big),
            ))
        }
        RamFit::GrowRun { size_mib } => {
            info!("growing {} to {size_mib} MiB to hold the copy", ram::RUN);
            sys.remount(ram::RUN, &format!("size={size_mib}m"))
                .map_err(|e| {
                    BootError::sys(
                        Stage::CopyToRam,
                        format!("remount {} size={size_mib}m", ram::RUN),
                        e,
                    )
                })?;
        }
        RamFit::Fits => {}
    }
    copy_with_progress(sys, &from, target, facts.image_bytes)?;
    Ok(match source {
        ImageSource::FsImage(_) => ImageSource::FsImage(target.to_owned()),
        _ => ImageSource::SquashedFile(target.to_owned()),
    })
}

/// `rd.writable.fsimg` (docs/dracut-live.md §3.8): the image is copied
/// into `/run` and written to there, so before a byte is copied it must
/// fit as `rd.live.ram`'s copy must: its data (a sparse copy's holes take
/// no RAM) leaves `rd.minmem` of the RAM free, and `/run` is grown to hold
/// it. `/run`'s size then bounds the copy and what is written to it: the
/// writes fail with ENOSPC rather than run the machine out of memory.
pub fn check_writable_copy(sys: &impl Sys, minmem_mib: u64, image: &str) -> Result<(), BootError> {
    let mut facts = memory_facts(sys, image)?;
    facts.image_bytes = sys
        .file_data_bytes(image)
        .map_err(|e| BootError::sys(Stage::CopyToRam, image, e))?;
    match check_memory(facts, minmem_mib) {
        RamFit::TooBig(too_big) => Err(BootError::new(
            Stage::CopyToRam,
            image,
            Cause::FsImageTooBig(too_big),
        )),
        RamFit::GrowRun { size_mib } => {
            info!(
                "growing {} to {size_mib} MiB to hold the writable image",
                ram::RUN
            );
            sys.remount(ram::RUN, &format!("size={size_mib}m"))
                .map_err(|e| {
                    BootError::sys(
                        Stage::CopyToRam,
                        format!("remount {} size={size_mib}m", ram::RUN),
                        e,
                    )
                })
        }
        RamFit::Fits => Ok(()),
    }
}

/// The image's size, the RAM, and how full `/run` is.
fn memory_facts(sys: &impl Sys, image: &str) -> Result<MemoryFacts, BootError> {
    let fail = |subject: &str, e| BootError::sys(Stage::CopyToRam, subject, e);
    let image_bytes = sys.file_size(image).map_err(|e| fail(image, e))?;
    let meminfo = sys
        .read_file("/proc/meminfo")
        .map_err(|e| fail("/proc/meminfo", e))?;
    let mem_total_mib = mem_total_mib(&String::from_utf8_lossy(&meminfo))
        .ok_or_else(|| fail("/proc/meminfo", crate::sys::Errno::INVAL))?;
    let (run_used_bytes, run_size_bytes) = sys.fs_usage(ram::RUN).map_err(|e| fail(ram::RUN, e))?;
    Ok(MemoryFacts {
        image_bytes,
        mem_total_mib,
        run_size_bytes,
        run_used_bytes,
    })
}

/// One pass over the image: progress on the console a few times a second,
/// a kernel log line every 10%, the rate at the end.
fn copy_with_progress(sys: &impl Sys, from: &str, to: &str, bytes: u64) -> Result<(), BootError> {
    info!("copying {from} ({}) to RAM at {to}", size_text(bytes));
    copy_files(sys, &[(from.to_owned(), to.to_owned())], bytes)
}

/// Copies each `(from, to)` in turn under one progress line for `bytes`
/// in all (a whole medium goes to RAM as one copy, not file by file).
pub fn copy_files(sys: &impl Sys, files: &[(String, String)], bytes: u64) -> Result<(), BootError> {
    let mut progress = Progress::new("copying to RAM", bytes, sys.now());
    let mut before = 0u64;
    let mut copied = Ok(());
    for (from, to) in files {
        match sys.copy_sparse(from, to, &mut |done, _| {
            progress_line::show(sys, progress.update(before.saturating_add(done), sys.now()));
        }) {
            Ok(n) => before = before.saturating_add(n),
            Err(e) => {
                copied = Err(BootError::sys(
                    Stage::CopyToRam,
                    format!("copy {from} -> {to}"),
                    e,
                ));
                break;
            }
        }
    }
    progress_line::clear(sys);
    copied?;
    info!("{}", progress.finished(before, sys.now()));
    Ok(())
}

/// Once the image is in RAM nothing needs the medium: unmount it so the
/// stick can be pulled or the virtual CD ejected. A medium still in use
/// stays (and the boot goes on from RAM all the same).
pub fn release_medium(sys: &impl Sys, device: &str) {
    release(sys, LIVE_MNT, device);
}

/// [`release_medium`] for a medium mounted at `mount`.
pub fn release(sys: &impl Sys, mount: &str, device: &str) {
    match sys.unmount(mount) {
        Ok(()) => info!("the image runs from RAM; {device} is released and can be removed"),
        Err(e) => warn!("the image runs from RAM, but {device} could not be unmounted from {mount}: {e}; do not remove it"),
    }
}
