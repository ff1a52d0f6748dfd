//! The network image (network-boot-spec §3.1, §3.2, §4): downloaded into a
//! tmpfs of its own, verified while it streams, then handed to the same
//! code as an image file in the initramfs (or, for an ISO, attached and
//! treated as a medium). One attempt is in `attempt.rs`; this file holds the
//! retry loop and what is done with the finished file.

#[allow(unused_imports)]
use crate::prelude::*;

mod attempt;
mod digest;
mod record;
mod transfer;

use core::time::Duration;

use log::{info, warn};

use super::error::{BootError, Cause, Stage};
use crate::config::LiveConfig;
use crate::fetch::content::{self, Content};
use crate::fetch::decide::{backoff, may_retry};
use crate::fetch::info::Info;
use crate::fetch::NetImage;
use crate::probe::PROBE_BYTES;
use crate::progress::{rate_text, seconds_text, size_text};
use crate::sys::Sys;
use crate::usage::mem_total_mib;
use attempt::{attempt, Failure};
pub use record::Pending;
use transfer::Transfer;

/// The downloaded file and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub path: String,
    pub content: Content,
}

/// Downloads the live image, retrying transient failures within
/// `rd.liveinit.net.retries`; `interface` is the one the network came up on
/// (for the record).
pub fn download<S: Sys>(
    sys: &S,
    cfg: &LiveConfig,
    net: &NetImage,
    interface: &str,
) -> Result<(Fetched, Pending), BootError> {
    let meminfo = sys
        .read_file("/proc/meminfo")
        .map_err(|e| BootError::sys(Stage::Download, "/proc/meminfo", e))?;
    let mem_total = mem_total_mib(&String::from_utf8_lossy(&meminfo)).unwrap_or(0);
    let mut t = Transfer::new(net, mem_total, cfg.minmem_mib, sys.now());
    if cfg.ram != crate::config::RamCopy::Off {
        info!("rd.live.ram: a network image is downloaded into RAM; it is not copied again");
    }
    if !net.verify_tls && net.url.scheme == crate::fetch::url::Scheme::Https {
        warn!(
            "rd.noverifyssl: the certificate of {} is NOT checked",
            net.url.host
        );
    }
    info!("livenet: downloading {} to {}", net.url, t.final_path());
    let result = attempts(sys, net, &mut t).and_then(|()| finish(sys, net, &mut t, interface));
    t.digest.stop(sys);
    result
}

/// Attempts until the file is complete, or a failure is final.
fn attempts<S: Sys>(sys: &S, net: &NetImage, t: &mut Transfer) -> Result<(), BootError> {
    let mut attempts: u32 = 0;
    let mut quiet: u32 = 0;
    loop {
        let before = t.have;
        match attempt(sys, net, t) {
            Ok(()) => return Ok(()),
            Err(Failure::Redirect) => continue,
            Err(Failure::Fatal(err)) => return Err(*err),
            Err(Failure::Transient { why, after }) => {
                attempts += 1;
                quiet = if t.have > before { 1 } else { quiet + 1 };
                if !may_retry(attempts, net.retries) {
                    return Err(BootError::new(
                        Stage::Download,
                        t.url.to_string(),
                        Cause::NetGaveUp {
                            attempts,
                            secs: sys.now().saturating_sub(t.started).as_secs(),
                            last: why,
                        },
                    ));
                }
                let wait = after.map_or(backoff(quiet), |a| a.max(backoff(quiet)));
                let of = match net.retries {
                    0 => String::from("no limit"),
                    n => format!("of {n}"),
                };
                warn!(
                    "livenet: {why}; attempt {attempts} {of} failed, retrying in {}",
                    seconds_text(wait)
                );
                sys.sleep(wait);
            }
        }
    }
}

/// Verifies the complete file (when a digest was given), names it,
/// records it; the digest nobody asked to check is left to finish beside
/// the rest of the boot ([`Pending::complete`]).
fn finish<S: Sys>(
    sys: &S,
    net: &NetImage,
    t: &mut Transfer,
    interface: &str,
) -> Result<(Fetched, Pending), BootError> {
    let subject = t.url.to_string();
    let stall = Duration::from_secs(u64::from(net.stall_secs));
    let verified = match &net.sha256 {
        None => None,
        Some(expected) => {
            let computed =
                record::wait_digest(sys, &mut t.digest, &t.part, &t.name, t.have, stall)?;
            if *expected != computed {
                return Err(BootError::new(
                    Stage::Download,
                    subject,
                    Cause::NetDigest {
                        expected: expected.clone(),
                        computed,
                        bytes: t.have,
                    },
                ));
            }
            Some(computed)
        }
    };
    let head = sys
        .read_head(&t.part, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::Download, t.part.clone(), e))?;
    let content = content::classify(&head);
    if let Content::Other(what) = content {
        return Err(BootError::new(
            Stage::Download,
            subject,
            Cause::NetNotImage {
                what,
                bytes: t.have,
            },
        ));
    }
    let path = t.final_path();
    sys.rename(&t.part, &path)
        .map_err(|e| BootError::sys(Stage::Download, format!("rename {} -> {path}", t.part), e))?;
    let elapsed = sys.now().saturating_sub(t.started);
    let from = t.peer.map(|p| format!(" from {p}")).unwrap_or_default();
    let via = if interface.is_empty() {
        String::new()
    } else {
        format!(" via {interface}")
    };
    info!(
        "livenet: {} {}{from}{via} in {} ({} MiB/s), {} resumes{}",
        t.url,
        size_text(t.have),
        seconds_text(elapsed),
        rate_text(t.have, elapsed.max(Duration::from_millis(1))),
        t.resumes,
        match &verified {
            Some(digest) => format!(", sha256 {digest} (verified)"),
            None => String::new(),
        }
    );
    let pending = Pending {
        info: Info {
            url: net.url.to_string(),
            final_url: t.url.to_string(),
            size: t.have,
            sha256: verified
                .clone()
                .unwrap_or_else(|| String::from(record::PENDING)),
            sha256_verified: verified.is_some(),
            interface: String::from(interface),
            seconds: elapsed.as_secs(),
            resumes: t.resumes,
        },
        digest: core::mem::take(&mut t.digest),
        name: t.name.clone(),
        path: path.clone(),
        stall,
        downloaded: sys.now(),
    };
    pending.write(sys);
    Ok((Fetched { path, content }, pending))
}
