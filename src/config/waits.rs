//! How long discovery waits for the medium: `rd.retry` is the hard cap;
//! `rd.liveinit.idle` gives up sooner once nothing new has happened for
//! that long, `rd.liveinit.idle.slow` once slow media (a USB disk, an
//! optical drive) are there, as they take seconds to show what they hold.
//! `rd.liveinit.probe` bounds how long one device's reads may hold the
//! search up: past it the device is named as stalling and the search goes
//! on without it (its answer is still taken if it comes).

use alloc::format;
use core::time::Duration;

use super::lookup::Lookup;
use crate::cmdline::Arg;

pub const IDLE_OPTION: &str = "rd.liveinit.idle";
pub const SLOW_IDLE_OPTION: &str = "rd.liveinit.idle.slow";
const DEFAULT_IDLE: Duration = Duration::from_secs(5);
const DEFAULT_SLOW_IDLE: Duration = Duration::from_secs(15);
pub const PROBE_OPTION: &str = "rd.liveinit.probe";
const DEFAULT_PROBE: Duration = Duration::from_secs(5);

/// The idle bounds (`None`: only `rd.retry` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleWaits {
    pub idle: Option<Duration>,
    /// Never shorter than `idle`.
    pub slow: Option<Duration>,
    /// How long one device's reads may take before it is named as
    /// stalling and no longer waited for.
    pub probe: Duration,
}

impl IdleWaits {
    /// Reads the options; a value that is not a number of seconds is
    /// warned about and the default used (a typo must not stop a boot
    /// that would otherwise find its medium).
    pub(super) fn read(l: &mut Lookup<'_>) -> IdleWaits {
        let idle = seconds(l, IDLE_OPTION, DEFAULT_IDLE);
        let slow = seconds(l, SLOW_IDLE_OPTION, DEFAULT_SLOW_IDLE);
        let idle = (!idle.is_zero()).then_some(idle);
        IdleWaits {
            idle,
            slow: idle.map(|idle| idle.max(slow)),
            probe: seconds(l, PROBE_OPTION, DEFAULT_PROBE),
        }
    }
}

impl Default for IdleWaits {
    fn default() -> Self {
        IdleWaits {
            idle: Some(DEFAULT_IDLE),
            slow: Some(DEFAULT_SLOW_IDLE),
            probe: DEFAULT_PROBE,
        }
    }
}

fn seconds(l: &mut Lookup<'_>, key: &'static str, default: Duration) -> Duration {
    let value = match l.cmdline.get(key) {
        Arg::Absent => return default,
        Arg::Bare => "",
        Arg::Value(v) => v,
    };
    match parse_seconds(value) {
        Some(d) => d,
        None => {
            let millis = default.as_millis();
            l.warn(format!(
                "{key}={value}: expected a number of seconds; using {}.{:03} s",
                millis / 1000,
                millis % 1000
            ));
            default
        }
    }
}

/// `5`, `1.5`, `0.25`: whole seconds with an optional fraction (to the
/// millisecond), at most a day; no signs, exponents or words.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = match text.split_once('.') {
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || whole.len() > 5 {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let mut millis: u64 = 0;
    for (i, b) in fraction.bytes().take(3).enumerate() {
        let place = [100, 10, 1].get(i).copied().unwrap_or(0);
        millis += u64::from(b - b'0') * place;
    }
    (secs <= 86_400).then(|| Duration::from_secs(secs) + Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;

    fn waits(text: &str) -> (IdleWaits, usize) {
        let c = Cmdline::parse(text);
        let mut l = Lookup::new(&c);
        let w = IdleWaits::read(&mut l);
        (w, l.warnings.len())
    }

    #[test]
    fn idle_bounds_come_from_the_command_line() {
        let secs = |s: u64| Some(Duration::from_secs(s));
        assert_eq!(waits(""), (IdleWaits::default(), 0));
        assert_eq!(IdleWaits::default().idle, secs(5));
        assert_eq!(IdleWaits::default().slow, secs(15));
        let (w, _) = waits("rd.liveinit.idle=1.5 rd.liveinit.idle.slow=4");
        assert_eq!(w.idle, Some(Duration::from_millis(1500)));
        assert_eq!(w.slow, secs(4));
        // The slow-media time is never shorter than the plain one.
        assert_eq!(waits("rd.liveinit.idle=30").0.slow, secs(30));
        assert_eq!(
            waits("rd.liveinit.idle=0").0,
            IdleWaits {
                idle: None,
                slow: None,
                probe: Duration::from_secs(5),
            }
        );
        for bad in ["abc", "-1", "", "nan", "1e30", "1.", ".5x", "999999"] {
            let (w, warned) = waits(&format!(
                "rd.liveinit.idle={bad} rd.liveinit.idle.slow={bad}"
            ));
            assert_eq!(w, IdleWaits::default(), "{bad}");
            assert_eq!(warned, 2, "{bad}");
        }
        assert_eq!(waits("rd.liveinit.idle").1, 1, "a bare key is warned about");
        assert_eq!(
            waits("rd.liveinit.probe=2.5").0.probe,
            Duration::from_millis(2500)
        );
        assert_eq!(waits("rd.liveinit.probe=x"), (IdleWaits::default(), 1));
    }

    #[test]
    fn seconds_parse_exactly() {
        assert_eq!(parse_seconds("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_seconds("2.0005"), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_seconds("+1"), None);
        assert_eq!(parse_seconds(""), None);
    }
}
