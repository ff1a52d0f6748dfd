//! `rd.live.ram`: never, always, or `auto` (liveinit's extension, decided
//! at boot by [`crate::plan::ram_auto`]).

use crate::cmdline::Arg;

use super::lookup::{legacy, Lookup};

/// Whether the image is copied to RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamCopy {
    /// Run from the medium (dracut's default).
    Off,
    /// `rd.live.ram` (or `=1`): always copy, after the memory check.
    Always,
    /// `rd.live.ram=auto`: copy when the medium is slow and the image is
    /// small against the RAM.
    Auto,
}

impl RamCopy {
    /// `rd.live.ram=auto`, else dracut's switch (with its legacy
    /// `live_ram`, presence-only).
    pub fn read(l: &mut Lookup<'_>) -> RamCopy {
        if l.cmdline.get("rd.live.ram") == Arg::Value("auto") {
            return RamCopy::Auto;
        }
        if l.bool("rd.live.ram", &[legacy("live_ram")], false) {
            RamCopy::Always
        } else {
            RamCopy::Off
        }
    }

    /// Any copy at all may happen.
    pub fn may_copy(self) -> bool {
        self != RamCopy::Off
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;

    fn read(text: &str) -> RamCopy {
        let c = Cmdline::parse(text);
        RamCopy::read(&mut Lookup::new(&c))
    }

    #[test]
    fn auto_off_and_on_are_told_apart() {
        assert_eq!(read("rd.live.ram=auto"), RamCopy::Auto);
        assert_eq!(read("rd.live.ram"), RamCopy::Always);
        assert_eq!(read("rd.live.ram=1"), RamCopy::Always);
        assert_eq!(read("live_ram"), RamCopy::Always);
        assert_eq!(read("rd.live.ram=0"), RamCopy::Off);
        assert_eq!(read(""), RamCopy::Off);
        // The last word wins, as for every option.
        assert_eq!(read("rd.live.ram=auto rd.live.ram=0"), RamCopy::Off);
        assert_eq!(read("rd.live.ram=0 rd.live.ram=auto"), RamCopy::Auto);
    }
}
