//! When discovery looks again, says it is still waiting, and gives up: the
//! timing rules of the search for the medium as one value on plain
//! durations (times since boot), so they are tested without a clock.
//!
//! - `rd.retry` is the hard cap, counted from the start.
//! - Once nothing new has happened (no uevent, no module finishing) for
//!   the idle time, and no module is still loading, the search gives up:
//!   the slow-media idle time once a USB disk or an optical drive is there
//!   (a stick takes a while to show its partitions, a disc to spin up and
//!   say nothing meanwhile), the plain one otherwise. Either may be off.
//! - A match is acted on once nothing that may bring a second device
//!   with the same identity is under way ([`Timing::hold_match`]): no
//!   device driver's load has not returned (the kernel announces the block
//!   devices a driver adds before its load returns), no USB stick bound to
//!   usb-storage is still without its disk, and no device that
//!   showed up since is still being read. That does not depend on how fast
//!   the host is; a driver stuck in its probe holds the match for the idle
//!   time at most, and `rd.retry` is the cap.
//! - Devices that may still change (an empty drive, an unreadable disk)
//!   are looked at again every [`TICK`]; a line says the search goes on
//!   every [`PROGRESS_EVERY`].

use core::time::Duration;

use crate::config::IdleWaits;

/// How often devices that may still change are looked at again.
pub const TICK: Duration = Duration::from_millis(250);
/// How often to say that the search is still going on.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Why the search stopped without a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// `rd.retry` ran out.
    Retry,
    /// Nothing new for this long.
    Idle(Duration),
}

/// What the search knows that the rules depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    /// A USB mass-storage device or an optical drive is there.
    pub slow_media: bool,
    /// A module is loading or waiting to (it may bring a device).
    pub loading: bool,
    /// Something may change without telling (an empty drive, no uevents).
    pub unsettled: bool,
}

/// What may still bring a second device with the medium's identity
/// once the medium matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unfinished {
    /// A device driver's load has not returned, a USB stick's driver has
    /// not shown its disk yet, or a USB controller's ports may still be
    /// scanned: each may add block devices.
    pub drivers: bool,
    /// A device that showed up since the match is being read.
    pub new_probes: bool,
    /// A device being read already at the match is still being read.
    pub early_probes: bool,
}

/// How long a match waits for devices that were being read already when
/// it matched, no driver loading. Short: such a device was there before
/// the medium answered, and one whose reads stall must not delay the boot
/// by its whole `rd.liveinit.probe` bound.
pub const EARLY_PROBES_GRACE: Duration = Duration::from_millis(250);

/// How long after a USB host controller's driver loaded its ports may
/// still bring a device. The kernel gives no sign that the first port scan
/// is over (power-on delay, debounce, then each device's enumeration), so
/// this one rule is a time: it was 0.35 s on an idle QEMU machine and
/// more under load.
pub const USB_PORT_SCAN: Duration = Duration::from_millis(1500);

/// Whether a USB host controller whose driver loaded at `loaded` may
/// still be scanning its ports at `now`.
pub fn usb_ports_scanning(loaded: Option<Duration>, now: Duration) -> bool {
    loaded.is_some_and(|at| now < later(at, USB_PORT_SCAN))
}

/// The search's clock readings and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    start: Duration,
    retry: Duration,
    idle: IdleWaits,
    last_news: Duration,
    next_tick: Duration,
    next_progress: Duration,
}

impl Timing {
    pub fn new(start: Duration, retry: Duration, idle: IdleWaits) -> Timing {
        Timing {
            start,
            retry,
            idle,
            last_news: start,
            next_tick: later(start, TICK),
            next_progress: later(start, PROGRESS_EVERY),
        }
    }

    /// Something happened at `now`: the idle time starts again.
    pub fn news(&mut self, now: Duration) {
        self.last_news = self.last_news.max(now);
    }

    fn deadline(&self) -> Duration {
        later(self.start, self.retry)
    }

    /// The idle bound that applies now, if any.
    fn idle_bound(&self, state: State) -> Option<Duration> {
        if state.slow_media {
            self.idle.slow
        } else {
            self.idle.idle
        }
    }

    /// When the idle rule would end the search (never while loading).
    fn idle_end(&self, state: State) -> Option<Duration> {
        let idle = self.idle_bound(state).filter(|_| !state.loading)?;
        Some(later(self.last_news, idle))
    }

    /// Whether, and why, the search is over at `now`.
    pub fn gave_up(&self, now: Duration, state: State) -> Option<GaveUp> {
        if now >= self.deadline() {
            return Some(GaveUp::Retry);
        }
        match (self.idle_end(state), self.idle_bound(state)) {
            (Some(end), Some(idle)) if now >= end => Some(GaveUp::Idle(idle)),
            _ => None,
        }
    }

    /// The latest time to wake up for: the deadline, the idle end, the
    /// next progress line, and the next tick when something may change
    /// without telling.
    pub fn next_wake(&self, state: State) -> Duration {
        let mut wake = self.deadline().min(self.next_progress);
        if let Some(end) = self.idle_end(state) {
            wake = wake.min(end);
        }
        if state.unsettled {
            wake = wake.min(self.next_tick);
        }
        wake
    }

    /// Whether a match first seen at `matched` waits on at `now`, and if
    /// so until when at most: while a driver's load has not returned or a
    /// device that showed up since is being read, bounded by the idle time
    /// since the last news and by `rd.retry`; devices being read already
    /// at the match get [`EARLY_PROBES_GRACE`].
    pub fn hold_match(&self, matched: Duration, now: Duration, u: Unfinished) -> Option<Duration> {
        let mut end = self.deadline();
        if let Some(idle) = self.idle.idle {
            end = end.min(later(self.last_news, idle));
        }
        if !u.drivers && !u.new_probes {
            if !u.early_probes {
                return None;
            }
            end = end.min(later(matched, EARLY_PROBES_GRACE));
        }
        (now < end).then_some(end)
    }

    /// True (once per tick) when unsettled devices are due a new look.
    pub fn tick_due(&mut self, now: Duration) -> bool {
        let due = now >= self.next_tick;
        if due {
            self.next_tick = later(now, TICK);
        }
        due
    }

    /// True (once per interval) when a progress line is due.
    pub fn progress_due(&mut self, now: Duration) -> bool {
        let due = now >= self.next_progress;
        if due {
            self.next_progress = later(now, PROGRESS_EVERY);
        }
        due
    }

    /// Time since the search started.
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.start)
    }

    pub fn retry(&self) -> Duration {
        self.retry
    }
}

/// A duration for people: `5 s`, `1.5 s`, `0.25 s` (no float formatting
/// in the init).
pub fn seconds_text(d: Duration) -> alloc::string::String {
    let millis = d.subsec_millis();
    let mut fraction = alloc::format!("{millis:03}");
    while fraction.ends_with('0') {
        fraction.pop();
    }
    match fraction.is_empty() {
        true => alloc::format!("{} s", d.as_secs()),
        false => alloc::format!("{}.{fraction} s", d.as_secs()),
    }
}

/// Which of the devices matching the medium's spec to boot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    None,
    One(&'a str),
    /// Distinct devices carry the same identity: a stick with the CD's
    /// label, a clone of a disk. liveinit does not guess which one the
    /// user meant (nor let a stranger's stick take over the boot).
    Ambiguous,
}

/// Chooses among the matching devices, each given as its name and, for
/// a partition, its disk's. A disk and its own partitions carrying the
/// same filesystem are one medium — an isohybrid ISO written to a stick
/// shows its ISO 9660 both on `sda` and on `sda1` at offset 0 — and the
/// disk stands for them. Any other duplicate is ambiguous.
pub fn choose_medium<'a>(matches: &[(&'a str, Option<&'a str>)]) -> Choice<'a> {
    let matched = |name: &str| matches.iter().any(|(n, _)| *n == name);
    let mut media = matches
        .iter()
        .filter(|(_, parent)| !parent.is_some_and(matched))
        .map(|(name, _)| *name);
    match (media.next(), media.next()) {
        (None, _) => Choice::None,
        (Some(one), None) => Choice::One(one),
        (Some(_), Some(_)) => Choice::Ambiguous,
    }
}

/// `t + d`, saturating: bounds come from the command line.
pub fn later(t: Duration, d: Duration) -> Duration {
    t.checked_add(d).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn usb_ports_count_as_scanning_for_a_while_after_the_controller_loaded() {
        let at = Duration::from_secs(3);
        assert!(!usb_ports_scanning(None, at));
        assert!(usb_ports_scanning(Some(at), at));
        assert!(usb_ports_scanning(
            Some(at),
            at + USB_PORT_SCAN - Duration::from_millis(1)
        ));
        assert!(!usb_ports_scanning(Some(at), at + USB_PORT_SCAN));
    }

    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn timing(idle: Option<u64>, slow: Option<u64>) -> Timing {
        Timing::new(
            s(10),
            s(180),
            IdleWaits {
                idle: idle.map(s),
                slow: slow.map(s),
                probe: s(5),
            },
        )
    }

    const QUIET: State = State {
        slow_media: false,
        loading: false,
        unsettled: false,
    };

    #[test]
    fn the_idle_time_counts_from_the_last_news() {
        let mut t = timing(Some(5), Some(15));
        assert_eq!(t.gave_up(s(14), QUIET), None);
        assert_eq!(t.gave_up(s(15), QUIET), Some(GaveUp::Idle(s(5))));
        t.news(s(13));
        assert_eq!(t.gave_up(s(15), QUIET), None);
        assert_eq!(t.next_wake(QUIET), s(15), "the progress line at 15 s");
        assert!(t.progress_due(s(15)));
        assert!(!t.progress_due(s(16)));
        assert_eq!(t.next_wake(QUIET), s(18), "the idle end");
        assert_eq!(t.gave_up(s(18), QUIET), Some(GaveUp::Idle(s(5))));
        // Older news does not move it back.
        t.news(s(11));
        assert_eq!(t.gave_up(s(18), QUIET), Some(GaveUp::Idle(s(5))));
    }

    #[test]
    fn slow_media_and_loading_modules_wait_longer() {
        let t = timing(Some(5), Some(15));
        let slow = State {
            slow_media: true,
            ..QUIET
        };
        assert_eq!(t.gave_up(s(20), slow), None);
        assert_eq!(t.gave_up(s(25), slow), Some(GaveUp::Idle(s(15))));
        let loading = State {
            loading: true,
            ..QUIET
        };
        assert_eq!(t.gave_up(s(100), loading), None);
        assert_eq!(t.gave_up(s(190), loading), Some(GaveUp::Retry));
    }

    #[test]
    fn without_idle_times_only_the_retry_counts() {
        let t = timing(None, None);
        assert_eq!(t.gave_up(s(189), QUIET), None);
        assert_eq!(t.gave_up(s(190), QUIET), Some(GaveUp::Retry));
        // The retry wins over an idle end at the same moment.
        let t = Timing::new(s(0), s(5), IdleWaits::default());
        assert_eq!(t.gave_up(s(5), QUIET), Some(GaveUp::Retry));
    }

    #[test]
    fn ticks_only_when_something_may_change_unannounced() {
        let mut t = timing(Some(5), Some(15));
        let unsettled = State {
            unsettled: true,
            ..QUIET
        };
        assert_eq!(t.next_wake(unsettled), s(10) + TICK);
        assert_eq!(t.next_wake(QUIET), s(15));
        assert!(!t.tick_due(s(10)));
        assert!(t.tick_due(s(10) + TICK));
        assert!(!t.tick_due(s(10) + TICK));
        assert_eq!(t.next_wake(unsettled), s(10) + TICK + TICK);
    }

    #[test]
    fn a_disk_stands_for_its_partitions_but_two_devices_are_ambiguous() {
        assert_eq!(choose_medium(&[]), Choice::None);
        assert_eq!(choose_medium(&[("sr0", None)]), Choice::One("sr0"));
        // An isohybrid stick: the whole disk and its first partition.
        assert_eq!(
            choose_medium(&[("sda", None), ("sda1", Some("sda"))]),
            Choice::One("sda")
        );
        assert_eq!(choose_medium(&[("sda1", Some("sda"))]), Choice::One("sda1"));
        assert_eq!(
            choose_medium(&[("sr0", None), ("sda", None)]),
            Choice::Ambiguous
        );
        assert_eq!(
            choose_medium(&[("sda1", Some("sda")), ("sdb1", Some("sdb"))]),
            Choice::Ambiguous
        );
    }

    #[test]
    fn a_match_waits_for_drivers_and_new_devices_bounded_by_idle_and_retry() {
        let mut t = timing(Some(5), Some(15));
        let none = Unfinished::default();
        assert_eq!(t.hold_match(s(10), s(10), none), None);
        let drivers = Unfinished {
            drivers: true,
            ..none
        };
        // However long the driver takes, within the idle time since news.
        assert_eq!(t.hold_match(s(10), s(14), drivers), Some(s(15)));
        t.news(s(14));
        assert_eq!(t.hold_match(s(10), s(18), drivers), Some(s(19)));
        assert_eq!(t.hold_match(s(10), s(19), drivers), None, "a hung driver");
        let new = Unfinished {
            new_probes: true,
            ..none
        };
        assert_eq!(t.hold_match(s(10), s(16), new), Some(s(19)));
        let early = Unfinished {
            early_probes: true,
            ..none
        };
        assert_eq!(
            t.hold_match(s(10), s(10), early),
            Some(s(10) + EARLY_PROBES_GRACE)
        );
        assert_eq!(t.hold_match(s(10), s(11), early), None);
        // Without an idle time only rd.retry bounds it.
        let t = timing(None, None);
        assert_eq!(t.hold_match(s(10), s(100), drivers), Some(s(190)));
        assert_eq!(t.hold_match(s(10), s(190), drivers), None);
    }

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(seconds_text(s(5)), "5 s");
        assert_eq!(seconds_text(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds_text(Duration::from_millis(250)), "0.25 s");
    }

    #[test]
    fn huge_bounds_saturate() {
        let t = Timing::new(s(1), Duration::MAX, IdleWaits::default());
        assert_eq!(
            t.gave_up(
                Duration::MAX - s(1),
                State {
                    loading: true,
                    ..QUIET
                }
            ),
            None
        );
        assert_eq!(t.elapsed(s(0)), Duration::ZERO);
    }
}
