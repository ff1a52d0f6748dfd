//! The state a download keeps across attempts: where it is (URL after
//! redirects), how much is on disk, the running digest, the tmpfs.

#[allow(unused_imports)]
use crate::prelude::*;

use core::net::SocketAddr;
use core::time::Duration;

use super::digest::Digest;
use crate::fetch::{NetImage, Url, LIVENET_DIR};

pub struct Transfer {
    /// The URL now asked for (after redirects).
    pub url: Url,
    /// Every URL asked for, for a redirect failure.
    pub chain: Vec<String>,
    pub name: String,
    /// `<name>.part` in the tmpfs.
    pub part: String,
    /// Bytes on disk (and hashed).
    pub have: u64,
    /// The full size, when the server said.
    pub total: Option<u64>,
    /// `ETag`/`Last-Modified` of what is on disk, for `If-Range`.
    pub validator: Option<String>,
    pub digest: Digest,
    /// `rd.liveinit.net.sha256=` asks for the digest to be checked.
    pub verify: bool,
    /// The tmpfs's size once mounted.
    pub room: Option<u64>,
    pub mem_total_mib: u64,
    pub minmem_mib: u64,
    pub resumes: u32,
    /// A 416 already made us start over once.
    pub started_over: bool,
    /// The server the body came from.
    pub peer: Option<SocketAddr>,
    pub started: Duration,
}

impl Transfer {
    pub fn new(net: &NetImage, mem_total_mib: u64, minmem_mib: u64, now: Duration) -> Transfer {
        let name = net.url.file_name();
        Transfer {
            url: net.url.clone(),
            chain: vec![net.url.to_string()],
            part: format!("{LIVENET_DIR}/{name}.part"),
            name,
            have: 0,
            total: None,
            validator: None,
            digest: Digest::default(),
            verify: net.sha256.is_some(),
            room: None,
            mem_total_mib,
            minmem_mib,
            resumes: 0,
            started_over: false,
            peer: None,
            started: now,
        }
    }

    pub fn final_path(&self) -> String {
        format!("{LIVENET_DIR}/{}", self.name)
    }

    /// Forgets what is on disk (the caller empties the file).
    pub fn restart(&mut self) {
        self.have = 0;
        self.digest.forget();
        self.validator = None;
    }
}
