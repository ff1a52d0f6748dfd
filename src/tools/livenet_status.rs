//! The network image's part of `liveinit status`: what was downloaded
//! (from `/run/initramfs/livenet.info`) and the room left in its tmpfs.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write as _;

use crate::fetch::info::parse;
use crate::fetch::{LIVENET_DIR, LIVENET_INFO};
use crate::progress::size_text;
use crate::sys::Sys;

/// Lines for the report, or nothing when the root was not downloaded.
pub fn report(sys: &impl Sys, out: &mut String) {
    let Ok(bytes) = sys.read_file(LIVENET_INFO) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    let pairs = parse(&text);
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("?", |(_, v)| *v)
    };
    let size = get("SIZE")
        .parse::<u64>()
        .map_or_else(|_| String::from("?"), size_text);
    let verified = if get("SHA256_VERIFIED") == "yes" {
        "verified"
    } else {
        "not verified"
    };
    let _ = writeln!(out, "network image:  {} ({size})", get("FINAL_URL"));
    let _ = writeln!(out, "  sha256:       {} ({verified})", get("SHA256"));
    let _ = writeln!(
        out,
        "  fetched:      via {} in {} s, {} resumes",
        get("INTERFACE"),
        get("SECONDS"),
        get("RESUMES")
    );
    if let Ok((used, total)) = sys.fs_usage(LIVENET_DIR) {
        let _ = writeln!(
            out,
            "  {LIVENET_DIR}: {} free of {}",
            size_text(total.saturating_sub(used)),
            size_text(total)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::FakeSys;

    #[test]
    fn reports_the_download_and_its_room() {
        let sys = FakeSys::new();
        let mut out = String::new();
        report(&sys, &mut out);
        assert!(out.is_empty());
        sys.file(
            LIVENET_INFO,
            b"URL=http://h/x.img\nFINAL_URL=http://h/f/x.img\nSIZE=3145728\nSHA256=ab\n\
              SHA256_VERIFIED=yes\nINTERFACE=eth0\nSECONDS=4\nRESUMES=1\n",
        );
        report(&sys, &mut out);
        assert!(
            out.contains("network image:  http://h/f/x.img (3 MiB)"),
            "{out}"
        );
        assert!(out.contains("sha256:       ab (verified)"), "{out}");
        assert!(out.contains("via eth0 in 4 s, 1 resumes"), "{out}");
        assert!(
            out.contains("/run/initramfs/livenet: 4 MiB free of 100 MiB"),
            "{out}"
        );
    }
}
