//! What `liveinit explain` says about a network root's download: the
//! steps and bounds the init would carry out, in words.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::decide::{MAX_BACKOFF, MAX_REDIRECTS};
use super::url::Scheme;
use super::{NetImage, LIVENET_DIR, LIVENET_INFO};

/// The download plan, one line per step or bound.
pub fn download_lines(net: &NetImage, minmem_mib: u64) -> Vec<String> {
    let name = net.url.file_name();
    let mut lines = Vec::new();
    lines.push(format!("bring the network up, then GET {}", net.url));
    if let Some(proxy) = &net.proxy {
        let how = match net.url.scheme {
            Scheme::Http => "absolute-form requests",
            Scheme::Https => "CONNECT tunnel",
        };
        lines.push(format!("through the proxy {proxy} ({how})"));
    }
    if net.url.scheme == Scheme::Https {
        lines.push(String::from(if net.verify_tls {
            "TLS: the certificate is checked against the CA bundle in the initramfs"
        } else {
            "TLS: the certificate is NOT checked (rd.noverifyssl)"
        }));
    }
    lines.push(format!(
        "refuse the image before its first byte if its announced size leaves less than \
         {minmem_mib} MiB of RAM (rd.minmem)"
    ));
    lines.push(format!(
        "mount tmpfs {LIVENET_DIR} (the announced size + 1 MiB), write {name}.part, \
         rename it to {LIVENET_DIR}/{name} when complete"
    ));
    lines.push(format!(
        "follow at most {MAX_REDIRECTS} redirects, never from https to http; \
         404/410/401/403 and other 4xx stop at once"
    ));
    let retries = match net.retries {
        0 => String::from("forever"),
        n => format!("up to {n} attempts"),
    };
    lines.push(format!(
        "retry refused/reset connections, DNS failures, 5xx/408/429 and stalls {retries} \
         (rd.liveinit.net.retries), pausing 1 s doubling to {} s; resume with Range",
        MAX_BACKOFF.as_secs()
    ));
    lines.push(format!(
        "abandon an attempt after {} s without progress (rd.liveinit.net.stall)",
        net.stall_secs
    ));
    lines.push(match &net.sha256 {
        Some(d) => format!(
            "hash the file beside the download (a child process) and verify SHA-256 {d} before \
             using it (rd.liveinit.net.sha256)"
        ),
        None => String::from(
            "hash the file after its last byte (a child process); the SHA-256 is recorded, not \
             verified, and the boot goes on while it finishes (recorded before the switch)",
        ),
    });
    lines.push(format!(
        "refuse anything that is not a squashfs, EROFS, ext* or ISO 9660 image; \
         record {LIVENET_INFO}"
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;
    use crate::fetch::options::read;

    #[test]
    fn the_plan_names_every_bound() {
        let cmdline = Cmdline::parse("rd.liveinit.net.retries=0 proxy=p:3128");
        let mut warnings = Vec::new();
        let net = read(&cmdline, "http://h/live.img", &mut warnings).unwrap();
        let text = download_lines(&net, 512).join("\n");
        for want in [
            "GET http://h/live.img",
            "through the proxy http://p:3128/ (absolute-form requests)",
            "512 MiB of RAM (rd.minmem)",
            "live.img.part",
            "forever",
            "30 s without progress",
            "not verified",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}
