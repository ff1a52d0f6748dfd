//! The `log` backend: every record goes to `/dev/kmsg` (so it is in `dmesg`
//! and the journal after boot) with the `liveinit:` prefix, and to the
//! console when the kernel would not print it there itself.
//!
//! A record is formatted into a fixed stack buffer and written with one
//! `write()`: the kernel takes each write to `/dev/kmsg` as one record and
//! rejects records over about 1 KiB, so long lines are truncated. Before
//! `/dev` is mounted, records go to the console (fd 2) only.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU8, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Room for one record; the kernel's limit is a little over 1 KiB.
const RECORD_MAX: usize = 976;
const PREFIX: &str = "liveinit: ";

use crate::sys::kmsg;

static LOGGER: KmsgLogger = KmsgLogger {
    console_level: AtomicU8::new(DEFAULT_CONSOLE_LEVEL),
};

/// The kernel's default console log level: records of priority below it are
/// printed on the console by the kernel.
const DEFAULT_CONSOLE_LEVEL: u8 = 7;

struct KmsgLogger {
    console_level: AtomicU8,
}

/// Installs the logger; records go to the console until [`attach_kmsg`].
pub fn init() {
    // Only fails if a logger is already set, which is then the one to use.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Info);
}

/// Starts writing to `/dev/kmsg` (once devtmpfs is mounted) and learns the
/// console log level from `/proc/sys/kernel/printk`.
pub fn attach_kmsg() {
    // With `printk.devkmsg=off` the kernel accepts every write and keeps
    // none: the console is then the only place a record is seen.
    let dropped = crate::sys::read_file("/proc/sys/kernel/printk_devkmsg")
        .is_ok_and(|b| b.trim_ascii() == b"off");
    if !dropped {
        kmsg::open();
    }
    if let Ok(bytes) = crate::sys::read_file("/proc/sys/kernel/printk") {
        let text = String::from_utf8_lossy(&bytes);
        if let Some(level) = text.split_whitespace().next().and_then(|l| l.parse().ok()) {
            LOGGER.console_level.store(level, Ordering::Relaxed);
        }
    }
}

/// Enables `debug!` records (`rd.debug` / `rd.live.debug`).
pub fn set_verbose(verbose: bool) {
    log::set_max_level(if verbose {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    });
}

/// syslog priority of a level.
fn priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

impl Log for KmsgLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let prio = priority(record.level());
        let mut line = Line::new();
        let _ = write!(line, "<{prio}>{PREFIX}{}", record.args());
        line.finish();
        let in_kmsg = kmsg::write_kmsg(line.as_bytes());
        // Only records the kernel took and will print itself are left out:
        // with `printk.devkmsg=off` it drops them, and they must still be seen.
        let kernel_prints_it = in_kmsg && prio < self.console_level.load(Ordering::Relaxed);
        if !kernel_prints_it {
            kmsg::write_console(line.without_priority());
        }
    }

    fn flush(&self) {}
}

/// Ends a record that did not fit, so a reader knows there was more.
const CUT_MARK: &[u8] = b" [...]";

/// A fixed-size, truncating line buffer: no allocation per record.
pub(crate) struct Line {
    buf: [u8; RECORD_MAX],
    len: usize,
    /// Some of what was written did not fit.
    cut: bool,
}

impl Line {
    pub(crate) fn new() -> Line {
        Line {
            buf: [0; RECORD_MAX],
            len: 0,
            cut: false,
        }
    }

    /// Ends the record with a newline; one that did not fit ends with
    /// [`CUT_MARK`] instead of half a character.
    pub(crate) fn finish(&mut self) {
        if self.cut || self.len == RECORD_MAX {
            let mut keep = RECORD_MAX - 1 - CUT_MARK.len();
            // Back off to the start of a UTF-8 character.
            while keep > 0 && self.buf.get(keep).is_some_and(|b| b & 0xC0 == 0x80) {
                keep -= 1;
            }
            self.len = keep;
            for &byte in CUT_MARK {
                if let Some(slot) = self.buf.get_mut(self.len) {
                    *slot = byte;
                    self.len += 1;
                }
            }
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b'\n';
            self.len += 1;
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The record without its `<N>` priority, for the console.
    fn without_priority(&self) -> &[u8] {
        let bytes = self.as_bytes();
        match bytes.iter().position(|&b| b == b'>') {
            Some(end) if bytes.first() == Some(&b'<') => bytes.get(end + 1..).unwrap_or(bytes),
            _ => bytes,
        }
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for byte in s.bytes() {
            let Some(slot) = self.buf.get_mut(self.len) else {
                self.cut = true;
                break;
            };
            // A record is one line: the kernel would split it otherwise.
            *slot = if byte == b'\n' { b' ' } else { byte };
            self.len += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_records_are_truncated_and_end_with_a_newline() {
        let mut line = Line::new();
        let long = "x".repeat(5000);
        write!(line, "<6>{PREFIX}{long}").unwrap();
        line.finish();
        assert_eq!(line.as_bytes().len(), RECORD_MAX);
        assert!(line.as_bytes().ends_with(b"x [...]\n"));

        // Never half a character before the mark.
        let mut line = Line::new();
        write!(line, "<6>{}", "é".repeat(RECORD_MAX)).unwrap();
        line.finish();
        let text = std::str::from_utf8(line.as_bytes()).expect("valid UTF-8");
        assert!(text.ends_with("é [...]\n"), "{text}");

        // A record that fits exactly has no mark.
        let mut line = Line::new();
        write!(line, "{}", "y".repeat(RECORD_MAX - 1)).unwrap();
        line.finish();
        assert_eq!(line.as_bytes().len(), RECORD_MAX);
        assert!(line.as_bytes().ends_with(b"y\n"));
    }

    #[test]
    fn newlines_inside_a_record_become_spaces() {
        let mut line = Line::new();
        write!(line, "<3>{PREFIX}a\nb").unwrap();
        line.finish();
        assert_eq!(line.as_bytes(), b"<3>liveinit: a b\n");
        assert_eq!(line.without_priority(), b"liveinit: a b\n");
    }
}
