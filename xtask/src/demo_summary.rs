//! The few lines `cargo xtask demo` ends with, for a person rather than a
//! test: what the root is, which layer takes the writes, what the medium
//! was, and how long the boot spent in the initramfs, read from the
//! probe's report and the kernel's timestamps in the console log.

use qemu_tests::qemu::kernel_timestamp_of;
use qemu_tests::report::ProbeReport;

/// The summary, or why there is none (the boot did not reach the probe).
pub fn summary(log: &str) -> String {
    let report = match ProbeReport::parse_log(log) {
        Ok(r) => r,
        Err(e) => return format!("demo: no summary: the live system did not report ({e:#})\n"),
    };
    let mut out = String::from("\ndemo summary\n");
    let mut line = |label: &str, text: String| out.push_str(&format!("  {label:<18}{text}\n"));
    line("root", root(&report));
    line("writable layer", writable_layer(&report));
    line("medium", medium(&report));
    let start = kernel_timestamp_of(log, "Run /init as init process");
    line(
        "in the initramfs",
        match (start, report.uptime_secs) {
            (Some(start), Some(up)) => format!(
                "{:.2} s (kernel ran /init at {start:.2} s, the real init started at {up:.2} s; \
                 TCG, so several times a real machine's)",
                up - start
            ),
            _ => "unknown (no kernel timestamps)".into(),
        },
    );
    out
}

fn root(r: &ProbeReport) -> String {
    match r.root_mount() {
        Some(m) if m.fstype == "overlay" => format!(
            "overlayfs {} over the read-only image at {}",
            m.source,
            m.super_option("lowerdir").unwrap_or("?")
        ),
        Some(m) => format!("{} on {}", m.fstype, m.source),
        None => "not in the mount table".into(),
    }
}

fn writable_layer(r: &ProbeReport) -> String {
    if let Some(m) = r.root_mount().filter(|m| m.fstype == "overlay") {
        return match m.super_option("upperdir") {
            Some(upper) => format!("{upper} (overlay upper directory, in RAM)"),
            None => "none: the overlay has no upper directory".into(),
        };
    }
    match r.dm_device("live-rw") {
        Some(_) => "device-mapper snapshot live-rw, its copy-on-write store in RAM".into(),
        None => "the root itself".into(),
    }
}

fn medium(r: &ProbeReport) -> String {
    match r.mount_at("/run/initramfs/live") {
        Some(m) => format!("{} ({}) at /run/initramfs/live", m.source, m.fstype),
        None => "the device itself (nothing at /run/initramfs/live)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A console log as the demo shows it: kernel lines, the probe's report.
    const LOG: &str = "\
[    4.10] Run /init as init process\r
PROBE-BEGIN\r
pid=1\r
uptime=6.35\r
mount=60 1 0:30 / / rw,relatime - overlay LiveOS_rootfs rw,lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork\r
mount=61 60 11:0 / /run/initramfs/live ro - iso9660 /dev/sr0 ro\r
PROBE-END\r
";

    #[test]
    fn says_what_the_root_is_what_takes_writes_and_how_long_it_took() {
        let text = summary(LOG);
        assert!(
            text.contains("overlayfs LiveOS_rootfs over the read-only image at /run/rootfsbase"),
            "{text}"
        );
        assert!(
            text.contains("/run/overlayfs (overlay upper directory, in RAM)"),
            "{text}"
        );
        assert!(
            text.contains("/dev/sr0 (iso9660) at /run/initramfs/live"),
            "{text}"
        );
        assert!(
            text.contains("2.25 s (kernel ran /init at 4.10 s"),
            "{text}"
        );
    }

    #[test]
    fn a_boot_without_a_report_says_so() {
        assert!(summary("Kernel panic").contains("no summary"));
    }
}
