//! What a finished boot's console must show, judged on the text alone: one
//! definition for both boot-test files, unit-tested here against logs that
//! must pass and logs that must not.
//!
//! - every boot: [`check_ended_cleanly`] (no kernel panic, stopped within
//!   [`GUEST_TIME_LIMIT_SECS`] of guest uptime);
//! - a boot that reached the live root: [`check_reached_probe`];
//! - a boot that must fail: [`Fatal::check`].

use std::time::Duration;

use crate::qemu::last_kernel_timestamp;
use crate::report::BEGIN;

/// Guest uptime by which every boot, good or failing, has stopped. The
/// kernel's boot, the init's work (or its 5 s pause before the emergency
/// action) and the probe take 10-25 s of guest time; an init that waits
/// for nothing would run into this before QEMU's own timeout. Under TCG on
/// a loaded host the guest clock can run ahead of the wall clock (80 s of
/// uptime in 23 s of QEMU was seen), so the bound leaves room for that.
pub const GUEST_TIME_LIMIT_SECS: f64 = 90.0;

/// Wall time by which a failing boot has ended. Twice the guest limit: TCG
/// with two boots in parallel runs the guest at about half speed.
pub const FATAL_WALL_LIMIT: Duration = Duration::from_secs(90);

/// The prefix of the init's one fatal error line.
pub const FATAL_MARK: &str = "liveinit: FATAL:";

/// What the kernel prints when PID 1 dies or it gives up: never acceptable,
/// whatever the boot.
const KERNEL_DEATHS: [&str; 2] = ["Kernel panic", "Attempted to kill init"];

/// What the kernel prints when the probe (or the init) powers off.
const POWER_DOWN: &str = "reboot: Power down";

/// How a fatal boot ends (`rd.emergency=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    PowerOff,
    Reboot,
}

impl Ending {
    /// The action's name in the init's messages and on the command line.
    pub fn action(self) -> &'static str {
        match self {
            Ending::PowerOff => "poweroff",
            Ending::Reboot => "reboot",
        }
    }

    /// What the kernel prints last when it carries the action out.
    pub fn kernel_line(self) -> &'static str {
        match self {
            Ending::PowerOff => POWER_DOWN,
            Ending::Reboot => "reboot: Restarting system",
        }
    }
}

/// The console lines without the serial console's `\r`.
pub fn lines(log: &str) -> Vec<&str> {
    log.lines().map(|l| l.trim_end_matches('\r')).collect()
}

/// The index of the first line at or after `from` containing all of `needles`.
pub fn find_line(lines: &[&str], from: usize, needles: &[&str]) -> Option<usize> {
    lines
        .iter()
        .skip(from)
        .position(|l| needles.iter().all(|n| l.contains(n)))
        .map(|i| i + from)
}

/// Every boot: the kernel neither panicked nor lost PID 1, and the guest
/// stopped within [`GUEST_TIME_LIMIT_SECS`]. Returns the guest uptime at
/// the last kernel line.
pub fn check_ended_cleanly(log: &str) -> Result<f64, String> {
    if let Some(death) = KERNEL_DEATHS.iter().find(|d| log.contains(*d)) {
        return Err(format!("the log contains `{death}`"));
    }
    let Some(guest) = last_kernel_timestamp(log) else {
        return Err("the console has no kernel line with a timestamp".into());
    };
    if guest > GUEST_TIME_LIMIT_SECS {
        return Err(format!(
            "the guest ran for {guest:.0}s (limit {GUEST_TIME_LIMIT_SECS}s): does the init \
             wait for nothing, or ignore rd.retry?"
        ));
    }
    Ok(guest)
}

/// A boot that must reach the live root: no fatal error, the probe
/// reported, and it powered the machine off.
pub fn check_reached_probe(log: &str) -> Result<(), String> {
    if log.contains(FATAL_MARK) {
        return Err("the init reported a FATAL error".into());
    }
    if !log.contains(BEGIN) {
        return Err("the probe never reported (the real init did not run)".into());
    }
    if !log.contains(POWER_DOWN) {
        return Err("the probe did not power the machine off".into());
    }
    Ok(())
}

/// A boot that must fail. It ended by itself within [`FATAL_WALL_LIMIT`];
/// the init printed exactly one [`FATAL_MARK`] line, containing all of
/// `needles`; then the summary (`liveinit: block devices: …`), then the
/// action (`liveinit: poweroff in 5 s (rd.emergency=poweroff)`), and the
/// kernel carried the action out; the probe never ran. (With
/// [`check_ended_cleanly`]: no kernel panic, within the guest limit.)
#[derive(Debug, Clone, Copy)]
pub struct Fatal<'a> {
    pub needles: &'a [&'a str],
    pub ending: Ending,
}

impl<'a> Fatal<'a> {
    /// Fatal, then the default `rd.emergency=poweroff`.
    pub fn power_off(needles: &'a [&'a str]) -> Self {
        Fatal {
            needles,
            ending: Ending::PowerOff,
        }
    }

    /// Checks the log of a boot that took `elapsed`; returns the index of
    /// the FATAL line among [`lines`].
    pub fn check(&self, log: &str, elapsed: Duration) -> Result<usize, String> {
        if elapsed > FATAL_WALL_LIMIT {
            return Err(format!(
                "the failing boot took {:.0}s of wall time (limit {}s)",
                elapsed.as_secs_f64(),
                FATAL_WALL_LIMIT.as_secs()
            ));
        }
        let lines = lines(log);
        let fatal: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].contains(FATAL_MARK))
            .collect();
        let [at] = fatal.as_slice() else {
            return Err(format!(
                "expected one `{FATAL_MARK}` line, found {}",
                fatal.len()
            ));
        };
        let at = *at;
        if !self.needles.iter().all(|n| lines[at].contains(n)) {
            return Err(format!(
                "the FATAL line does not contain all of {:?}:\n{}",
                self.needles, lines[at]
            ));
        }
        let Some(summary) = find_line(&lines, at, &["liveinit: block devices: "]) else {
            return Err("no `liveinit: block devices:` line after the FATAL line".into());
        };
        let action = format!(
            "liveinit: {0} in 5 s (rd.emergency={0})",
            self.ending.action()
        );
        let Some(act) = find_line(&lines, summary, &[&action]) else {
            return Err(format!("no `{action}` line after the summary"));
        };
        let kernel_line = self.ending.kernel_line();
        if find_line(&lines, act, &[kernel_line]).is_none() {
            return Err(format!(
                "the kernel did not say `{kernel_line}` after the action"
            ));
        }
        if log.contains(BEGIN) {
            return Err("the probe ran although the boot should have failed".into());
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_secs(30);

    fn fatal_log(fatal_lines: &str, kernel_end: &str) -> String {
        format!(
            "[    1.000000] Run /init as init process\r\n\
             {fatal_lines}\
             [    9.100000] liveinit: block devices: sr0 (iso9660 LIVE)\r\n\
             [    9.200000] liveinit: poweroff in 5 s (rd.emergency=poweroff)\r\n\
             [   14.300000] {kernel_end}\r\n"
        )
    }

    const ONE_FATAL: &str = "[    9.000000] liveinit: FATAL: find medium: CDLABEL=X not found\r\n";

    #[test]
    fn a_clean_fatal_boot_passes() {
        let log = fatal_log(ONE_FATAL, "reboot: Power down");
        assert_eq!(check_ended_cleanly(&log), Ok(14.3));
        assert_eq!(
            Fatal::power_off(&["CDLABEL=X", "not found"]).check(&log, FAST),
            Ok(1)
        );
    }

    #[test]
    fn a_fatal_boot_needs_exactly_one_fatal_line_with_every_needle() {
        let log = fatal_log(ONE_FATAL, "reboot: Power down");
        let err = Fatal::power_off(&["CDLABEL=Y"]).check(&log, FAST);
        assert!(err.unwrap_err().contains("does not contain all of"));
        let twice = fatal_log(&format!("{ONE_FATAL}{ONE_FATAL}"), "reboot: Power down");
        let err = Fatal::power_off(&["CDLABEL=X"]).check(&twice, FAST);
        assert!(err.unwrap_err().contains("found 2"));
        let none = fatal_log("", "reboot: Power down");
        let err = Fatal::power_off(&[]).check(&none, FAST);
        assert!(err.unwrap_err().contains("found 0"));
    }

    #[test]
    fn a_fatal_boot_must_end_with_the_announced_action() {
        let rebooted = fatal_log(ONE_FATAL, "reboot: Restarting system");
        let err = Fatal::power_off(&[]).check(&rebooted, FAST);
        assert!(err.unwrap_err().contains("reboot: Power down"));
        let reboot = Fatal {
            needles: &[],
            ending: Ending::Reboot,
        };
        let err = reboot.check(&rebooted, FAST).unwrap_err();
        assert!(err.contains("rd.emergency=reboot"), "{err}");
        let no_summary = fatal_log(ONE_FATAL, "reboot: Power down")
            .replace("liveinit: block devices:", "liveinit: devices:");
        let err = Fatal::power_off(&[]).check(&no_summary, FAST);
        assert!(err.unwrap_err().contains("block devices"));
    }

    #[test]
    fn a_fatal_boot_must_not_run_the_probe_or_take_too_long() {
        let probed = fatal_log(ONE_FATAL, "reboot: Power down") + "PROBE-BEGIN\r\n";
        let err = Fatal::power_off(&[]).check(&probed, FAST);
        assert!(err.unwrap_err().contains("probe ran"));
        let log = fatal_log(ONE_FATAL, "reboot: Power down");
        let slow = FATAL_WALL_LIMIT + Duration::from_secs(1);
        let err = Fatal::power_off(&[]).check(&log, slow);
        assert!(err.unwrap_err().contains("wall time"));
    }

    #[test]
    fn every_boot_must_end_without_panic_and_in_time() {
        let panic = "[    3.000000] Kernel panic - not syncing: Attempted to kill init!\r\n";
        assert!(check_ended_cleanly(panic)
            .unwrap_err()
            .contains("Kernel panic"));
        let late = format!(
            "[ {:>11.6}] reboot: Power down\r\n",
            GUEST_TIME_LIMIT_SECS + 0.5
        );
        assert!(check_ended_cleanly(&late)
            .unwrap_err()
            .contains("the guest ran for"));
        assert!(check_ended_cleanly("no kernel here").is_err());
    }

    #[test]
    fn a_live_boot_reaches_the_probe_and_powers_off() {
        let good = "[ 5.0] Run /init\r\nPROBE-BEGIN\r\npid=1\r\nPROBE-END\r\n[ 9.0] reboot: Power down\r\n";
        assert_eq!(check_reached_probe(good), Ok(()));
        let fatal = format!("{ONE_FATAL}{good}");
        assert!(check_reached_probe(&fatal).unwrap_err().contains("FATAL"));
        let no_probe = "[ 9.0] reboot: Power down\r\n";
        assert!(check_reached_probe(no_probe)
            .unwrap_err()
            .contains("never reported"));
        let hung = "PROBE-BEGIN\r\nPROBE-END\r\n";
        assert!(check_reached_probe(hung).unwrap_err().contains("power"));
    }
}
