//! A boot that reached the live root: its console and what the probe (the
//! real init) reported.

use crate::qemu;
use crate::report::ProbeReport;

use super::case::Ended;

#[derive(Debug)]
pub struct Probed {
    pub ended: Ended,
    pub report: ProbeReport,
}

impl Probed {
    pub fn name(&self) -> &str {
        &self.ended.name
    }

    /// Fails the test with `what`, the console's tail and the whole report.
    pub fn fail(&self, what: &str) -> ! {
        self.ended
            .fail(&format!("{what}\nreport: {:#?}", self.report))
    }

    /// Fails the test with `what` unless `ok`.
    pub fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    /// The kernel modules loaded by the time the real init started: those
    /// the boot needed are there, and those nothing asked for are not
    /// (loading by need, not by list).
    pub fn check_modules(&self, loaded: &[&str], not_loaded: &[&str]) {
        for name in loaded {
            self.check(
                self.report.has_module(name),
                &format!("kernel module {name} was not loaded"),
            );
        }
        for name in not_loaded {
            self.check(
                !self.report.has_module(name),
                &format!("kernel module {name} was loaded though nothing needed it"),
            );
        }
    }

    /// After a copy to RAM: nothing mounted in the root comes from
    /// `device` any more, the console says it can be removed, and the copy
    /// was summed up (size, time, rate).
    pub fn check_released(&self, device: &str) {
        let held: Vec<&str> = self
            .report
            .mounts
            .iter()
            .filter(|m| m.source == device)
            .map(|m| m.mount_point.as_str())
            .collect();
        self.check(
            held.is_empty(),
            &format!("{device} is still mounted at {held:?}"),
        );
        self.check(
            self.ended.has_line(&[
                "liveinit: ",
                &format!("{device} is released and can be removed"),
            ]),
            "the console does not say the medium can be removed",
        );
        self.check(
            self.ended.has_line(&["liveinit: copying to RAM: done, "]),
            "no copy summary (size, time, rate) on the console",
        );
    }

    /// Says how long the init took, from the kernel starting `/init` to the
    /// probe reading its clock.
    pub(super) fn log_timing(&self) {
        let name = self.name();
        let Some(up) = self.report.uptime_secs else {
            return;
        };
        match qemu::kernel_timestamp_of(&self.ended.out.log, "Run /init as init process") {
            Some(start) => eprintln!(
                "[{name}] guest: /init started at {start:.2}s, probe at {up:.2}s ({:.2}s in liveinit)",
                up - start
            ),
            None => eprintln!("[{name}] guest: probe at {up:.2}s"),
        }
    }
}
