//! `livenet.info` and the digest that finishes after the download.
//!
//! When `rd.liveinit.net.sha256=` asks for a check, the image is not used
//! before its digest matches. Otherwise the digest is only recorded, so
//! the boot does not wait for it: the child hashes the file from the last
//! byte on, while the image is attached and the root assembled, and the
//! record is completed just before the hand-over to the real init.

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;

use log::{info, warn};

use super::digest::{Digest, Stopped};
use crate::boot::error::{BootError, Cause, Stage};
use crate::fetch::info::Info;
use crate::fetch::sha256::hex;
use crate::fetch::LIVENET_INFO;
use crate::sys::Sys;

/// `SHA256=` of the record until the digest is known.
pub const PENDING: &str = "pending";

/// A finished download whose digest may still be on its way.
pub struct Pending {
    pub info: Info,
    pub digest: Digest,
    pub name: String,
    pub path: String,
    pub stall: Duration,
    /// When the last byte was written.
    pub downloaded: Duration,
}

impl Pending {
    /// Writes the record as it stands (a failure to is only warned about:
    /// the boot does not need it).
    pub fn write<S: Sys>(&self, sys: &S) {
        if let Err(e) = sys.write_file(LIVENET_INFO, self.info.render().as_bytes()) {
            warn!("livenet: cannot write {LIVENET_INFO}: {e}");
        }
    }

    /// Waits for the digest (as long as its hash makes progress) and
    /// records it. It was not asked for, so a hash that fails is warned
    /// about and the boot goes on.
    pub fn complete<S: Sys>(mut self, sys: &S) {
        if self.info.sha256 != PENDING {
            return;
        }
        let (name, path, size) = (self.name.clone(), self.path.clone(), self.info.size);
        match wait_digest(sys, &mut self.digest, &path, &name, size, self.stall) {
            Ok(digest) => {
                let late = sys.now().saturating_sub(self.downloaded);
                info!(
                    "livenet: sha256 {digest} of {name}, ready {} ms after the download",
                    late.as_millis()
                );
                self.info.sha256 = digest;
            }
            Err(e) => {
                warn!("livenet: {e}; {LIVENET_INFO} records no digest");
                self.info.sha256 = String::from("unknown");
            }
        }
        self.write(sys);
    }
}

/// The digest of the `size`-byte file at `path`, as 64 hex digits.
pub fn wait_digest<S: Sys>(
    sys: &S,
    digest: &mut Digest,
    path: &str,
    name: &str,
    size: u64,
    stall: Duration,
) -> Result<String, BootError> {
    let what = format!("checking the SHA-256 of {name}");
    digest
        .finish(sys, size, &what, stall)
        .map(|d| hex(&d))
        .map_err(|stopped| match stopped {
            Stopped::At(hashed) => BootError::new(
                Stage::Download,
                path,
                Cause::NetHashStalled {
                    hashed,
                    bytes: size,
                    secs: stall.as_secs(),
                },
            ),
            Stopped::Failed(e) => {
                BootError::sys(Stage::Download, format!("the SHA-256 of {path}"), e)
            }
        })
}
