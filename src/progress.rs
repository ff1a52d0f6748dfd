//! Progress of long work (a copy to RAM, a media check): when to say
//! something and what. Pure: the caller passes the clock, so the cadence
//! and the texts are tested on plain numbers.

use alloc::format;
use alloc::string::String;
use core::time::Duration;

/// The console is updated at most this often (a few times a second: a
/// serial console at 115200 baud must not slow the copy down).
pub const CONSOLE_INTERVAL: Duration = Duration::from_millis(250);
/// The kernel log gets a line at every this many percent.
pub const LOG_STEP_PERCENT: u64 = 10;

const MIB: u64 = 1 << 20;

/// What to say after a step of the work.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Said {
    /// An update for the console only (overwrites the previous one).
    pub console: Option<String>,
    /// A line for the kernel log (and the console).
    pub log: Option<String>,
}

/// Tracks one piece of long work of `total` bytes.
#[derive(Debug, Clone)]
pub struct Progress {
    what: String,
    total: u64,
    started: Duration,
    last_console: Option<Duration>,
    next_log_percent: u64,
}

impl Progress {
    /// `what` names the work in every line ("copying /x to RAM").
    pub fn new(what: &str, total: u64, now: Duration) -> Progress {
        Progress {
            what: String::from(what),
            total,
            started: now,
            last_console: None,
            next_log_percent: LOG_STEP_PERCENT,
        }
    }

    /// `done` bytes are done at `now`: what, if anything, to say.
    pub fn update(&mut self, done: u64, now: Duration) -> Said {
        let percent = percent(done, self.total);
        let mut said = Said::default();
        if percent >= self.next_log_percent {
            said.log = Some(self.line(done, now));
            self.next_log_percent = (percent - percent % LOG_STEP_PERCENT) + LOG_STEP_PERCENT;
        }
        let due = match self.last_console {
            None => true,
            Some(last) => now.saturating_sub(last) >= CONSOLE_INTERVAL,
        };
        if due && said.log.is_none() {
            said.console = Some(self.line(done, now));
            self.last_console = Some(now);
        }
        said
    }

    /// The summary once the work is done: size, time and rate.
    pub fn finished(&self, done: u64, now: Duration) -> String {
        let elapsed = now.saturating_sub(self.started);
        format!(
            "{}: done, {} in {} ({} MiB/s)",
            self.what,
            size_text(done),
            seconds_text(elapsed),
            rate_text(done, elapsed)
        )
    }

    /// `copying x: 42% (126 of 300 MiB, 35.0 MiB/s, 5 s left)`.
    fn line(&self, done: u64, now: Duration) -> String {
        let elapsed = now.saturating_sub(self.started);
        let eta = match eta(done, self.total, elapsed) {
            Some(left) if done < self.total => format!(", {} left", seconds_text(left)),
            _ => String::new(),
        };
        format!(
            "{}: {}% ({}, {} MiB/s{eta})",
            self.what,
            percent(done, self.total),
            of_text(done, self.total),
            rate_text(done, elapsed)
        )
    }
}

/// `126 of 300 MiB`; in KiB below a MiB and in bytes below a KiB, so a
/// small image does not read `0 of 0 MiB`. Both numbers in the total's unit.
pub fn of_text(done: u64, total: u64) -> String {
    let (unit, name) = match total {
        t if t >= MIB => (MIB, "MiB"),
        t if t >= 1024 => (1024, "KiB"),
        _ => (1, "bytes"),
    };
    format!("{} of {} {name}", done / unit, total / unit)
}

/// Whole percent done; an empty total is complete.
pub fn percent(done: u64, total: u64) -> u64 {
    if total == 0 {
        return 100;
    }
    u64::try_from(u128::from(done.min(total)) * 100 / u128::from(total)).unwrap_or(100)
}

/// Bytes per second as MiB/s with one decimal, without floats.
pub fn rate_text(bytes: u64, elapsed: Duration) -> String {
    let millis = elapsed.as_millis().max(1);
    let tenths_mib = u128::from(bytes) * 10_000 / (millis * u128::from(MIB));
    format!("{}.{}", tenths_mib / 10, tenths_mib % 10)
}

/// The time left at the rate so far; `None` before anything is done.
pub fn eta(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if done == 0 {
        return None;
    }
    let left = u128::from(total.saturating_sub(done));
    let millis = left * elapsed.as_millis() / u128::from(done);
    Some(Duration::from_millis(
        u64::try_from(millis).unwrap_or(u64::MAX),
    ))
}

/// `508 KiB` below a MiB, `12 MiB` from there.
pub fn size_text(bytes: u64) -> String {
    if bytes < MIB {
        format!("{} KiB", bytes.div_ceil(1024))
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

/// `7 s`, `2 min 5 s`.
pub fn seconds_text(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn rate_and_eta_need_no_floats() {
        assert_eq!(rate_text(35 * MIB, ms(1000)), "35.0");
        assert_eq!(rate_text(3 * MIB, ms(2000)), "1.5");
        assert_eq!(rate_text(0, ms(0)), "0.0");
        assert_eq!(eta(0, 100, ms(5)), None);
        assert_eq!(eta(25, 100, ms(1000)), Some(ms(3000)));
        assert_eq!(seconds_text(ms(125_400)), "2 min 5 s");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 0), 100);
        assert_eq!(percent(u64::MAX, u64::MAX), 100);
    }

    #[test]
    fn the_console_is_updated_a_few_times_a_second_at_most() {
        let mut p = Progress::new("copying", 1000 * MIB, ms(0));
        let updates = (1..=100u64)
            .map(|i| p.update(i * MIB / 10, ms(i * 10)))
            .filter(|s| s.console.is_some())
            .count();
        // 100 steps over one second: 4 or 5 updates, not 100.
        assert!((4..=5).contains(&updates), "{updates}");
    }

    #[test]
    fn the_kernel_log_gets_a_line_every_ten_percent() {
        let mut p = Progress::new("copying x", 100 * MIB, ms(0));
        let logged: alloc::vec::Vec<String> = (1..=100u64)
            .filter_map(|i| p.update(i * MIB, ms(i * 100)).log)
            .collect();
        assert_eq!(logged.len(), 10);
        assert_eq!(
            logged.first().unwrap(),
            "copying x: 10% (10 of 100 MiB, 10.0 MiB/s, 9 s left)"
        );
        assert!(logged
            .last()
            .unwrap()
            .starts_with("copying x: 100% (100 of 100 MiB"));
    }

    #[test]
    fn a_big_jump_logs_once_not_for_every_step_skipped() {
        let mut p = Progress::new("x", 100, ms(0));
        assert!(p.update(55, ms(10)).log.is_some());
        assert!(p.update(59, ms(20)).log.is_none());
        assert!(p.update(60, ms(30)).log.is_some());
    }

    #[test]
    fn the_summary_has_size_time_and_rate() {
        let p = Progress::new("copying x", 64 * MIB, ms(0));
        assert_eq!(
            p.finished(64 * MIB, ms(2000)),
            "copying x: done, 64 MiB in 2 s (32.0 MiB/s)"
        );
        assert_eq!(size_text(508 * 1024 - 3), "508 KiB");
        assert_eq!(size_text(3 * MIB + 5), "3 MiB");
    }

    #[test]
    fn a_small_total_is_shown_in_kib_or_bytes_not_zero_mib() {
        let mut p = Progress::new("downloading x", 300 * 1024, ms(0));
        let line = p.update(150 * 1024, ms(1000)).log.unwrap();
        assert_eq!(
            line,
            "downloading x: 50% (150 of 300 KiB, 0.1 MiB/s, 1 s left)"
        );
        assert_eq!(of_text(500, 900), "500 of 900 bytes");
        assert_eq!(of_text(0, 0), "0 of 0 bytes");
        assert_eq!(of_text(MIB - 1, MIB), "0 of 1 MiB");
        assert_eq!(of_text(2047, 4096), "1 of 4 KiB");
    }
}
