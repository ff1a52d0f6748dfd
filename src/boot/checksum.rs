//! archiso's `checksum=y` (distro-live-spec §3.2): the image must have the
//! SHA-512 its `airootfs.sha512` lists, or the boot stops. One read of the
//! image, with progress on the console.

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use super::error::{BootError, Cause, Stage};
use super::progress_line;
use crate::progress::{size_text, Progress};
use crate::sha512::{listed_hash, Sha512};
use crate::sys::Sys;

/// How much is read at a time.
const CHUNK: usize = 1 << 20;

/// Checks `dir/name` against the listing `dir/list`.
pub fn verify_sha512(sys: &impl Sys, dir: &str, name: &str, list: &str) -> Result<(), BootError> {
    let image = format!("{dir}/{name}");
    let listing_path = format!("{dir}/{list}");
    let listing = sys.read_file(&listing_path).map_err(|e| {
        BootError::new(
            Stage::CheckMedium,
            &listing_path,
            Cause::NoChecksum {
                image: image.clone(),
                why: crate::sys::errno_text(e),
            },
        )
    })?;
    let listing = String::from_utf8_lossy(&listing);
    let Some(expected) = listed_hash(&listing, name) else {
        return Err(BootError::new(
            Stage::CheckMedium,
            &listing_path,
            Cause::NoChecksum {
                image,
                why: format!("it lists no SHA-512 for {name}"),
            },
        ));
    };
    let total = sys
        .file_size(&image)
        .map_err(|e| BootError::sys(Stage::CheckMedium, &image, e))?;
    info!(
        "checksum: verifying {image} ({}) against {list}",
        size_text(total)
    );
    let mut progress = Progress::new(&format!("checking {name}"), total, sys.now());
    let mut hash = Sha512::default();
    let mut done: u64 = 0;
    let read = loop {
        if done >= total {
            break Ok(());
        }
        match sys.read_at(&image, done, CHUNK) {
            Ok(chunk) if chunk.is_empty() => break Ok(()),
            Ok(chunk) => {
                hash.update(&chunk);
                done = done.saturating_add(chunk.len() as u64);
                progress_line::show(sys, progress.update(done, sys.now()));
            }
            Err(e) => {
                break Err(BootError::sys(
                    Stage::CheckMedium,
                    format!("read {image}"),
                    e,
                ))
            }
        }
    };
    progress_line::clear(sys);
    read?;
    let got = hash.hex();
    if !got.eq_ignore_ascii_case(expected) {
        return Err(BootError::new(
            Stage::CheckMedium,
            &image,
            Cause::ChecksumMismatch(Box::new([listing_path, String::from(expected), got])),
        ));
    }
    info!("{}", progress.finished(done, sys.now()));
    info!("checksum passed: {image}");
    Ok(())
}
