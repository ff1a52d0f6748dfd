//! `rd.live.ram=auto`, liveinit's extension: copy the image to RAM when the
//! medium is slow and the image is small against the RAM.
//!
//! The sizes are archiso's `copytoram=auto` (mkinitcpio-archiso ≥ 65): the
//! image under 4 GiB, and the RAM holding the image plus 2 GiB. The medium
//! differs on purpose: archiso leaves optical discs out, liveinit counts
//! them slow with USB, because the case it serves is the BMC's virtual CD
//! or the USB stick an operator wants back while the server runs for
//! months; a disk on a fast bus is read in place. liveinit reads
//! `MemTotal` (as its `rd.minmem` check does) where archiso reads
//! `MemAvailable`, and never leaves less free than `rd.minmem`.

use core::fmt;

/// Images this large or larger are left on the medium.
pub const AUTO_MAX_IMAGE_MIB: u64 = 4096;
/// RAM that must stay free beside the copy (or `rd.minmem`, if larger).
pub const AUTO_SPARE_MIB: u64 = 2048;

const MIB: u64 = 1 << 20;

/// What kind of device the medium is, as far as its speed goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediumKind {
    Optical,
    Usb,
    /// Any other disk (virtio, SATA, NVMe, a loop device…).
    Other,
}

impl MediumKind {
    pub fn is_slow(self) -> bool {
        matches!(self, MediumKind::Optical | MediumKind::Usb)
    }
}

impl fmt::Display for MediumKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediumKind::Optical => "an optical drive",
            MediumKind::Usb => "a USB disk",
            MediumKind::Other => "neither an optical drive nor a USB disk",
        })
    }
}

/// The decision's inputs, read at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoFacts {
    pub image_bytes: u64,
    pub mem_total_mib: u64,
    pub medium: MediumKind,
}

/// Why the image is copied or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoVerdict {
    Copy,
    FastMedium,
    ImageTooBig,
    /// The RAM does not hold the image plus what must stay free.
    RamTooSmall {
        needed_mib: u64,
    },
}

/// The decision with its inputs, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoDecision {
    pub facts: AutoFacts,
    pub spare_mib: u64,
    pub verdict: AutoVerdict,
}

impl AutoDecision {
    pub fn copies(&self) -> bool {
        self.verdict == AutoVerdict::Copy
    }
}

/// The rule, checked in this order: a slow medium, an image under
/// [`AUTO_MAX_IMAGE_MIB`], and RAM for the image plus the larger of
/// [`AUTO_SPARE_MIB`] and `rd.minmem`. Sizes round up to whole MiB.
pub fn decide(facts: AutoFacts, minmem_mib: u64) -> AutoDecision {
    let image_mib = facts.image_bytes.div_ceil(MIB);
    let spare_mib = AUTO_SPARE_MIB.max(minmem_mib);
    let needed_mib = image_mib.saturating_add(spare_mib);
    let verdict = if !facts.medium.is_slow() {
        AutoVerdict::FastMedium
    } else if image_mib >= AUTO_MAX_IMAGE_MIB {
        AutoVerdict::ImageTooBig
    } else if facts.mem_total_mib < needed_mib {
        AutoVerdict::RamTooSmall { needed_mib }
    } else {
        AutoVerdict::Copy
    };
    AutoDecision {
        facts,
        spare_mib,
        verdict,
    }
}

impl fmt::Display for AutoDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AutoFacts {
            image_bytes,
            mem_total_mib,
            medium,
        } = self.facts;
        let image_mib = image_bytes.div_ceil(MIB);
        write!(
            f,
            "medium: {medium}; image: {image_mib} MiB; MemTotal: {mem_total_mib} MiB; "
        )?;
        match self.verdict {
            AutoVerdict::Copy => write!(
                f,
                "copying to RAM: the medium is slow, the image is under {AUTO_MAX_IMAGE_MIB} MiB \
                 and leaves at least {} MiB free",
                self.spare_mib
            ),
            AutoVerdict::FastMedium => f.write_str(
                "running from the medium: only an optical drive or a USB disk is worth copying from",
            ),
            AutoVerdict::ImageTooBig => write!(
                f,
                "running from the medium: the image is not under {AUTO_MAX_IMAGE_MIB} MiB"
            ),
            AutoVerdict::RamTooSmall { needed_mib } => write!(
                f,
                "running from the medium: copying needs {needed_mib} MiB of RAM (the image plus \
                 {} MiB free)",
                self.spare_mib
            ),
        }
    }
}

/// The rule in words, for `liveinit explain` and the manual.
pub fn rule_text(minmem_mib: u64) -> alloc::string::String {
    alloc::format!(
        "decided at boot: copy if the medium is an optical drive or a USB disk, the image is under \
         {AUTO_MAX_IMAGE_MIB} MiB, and MemTotal holds the image plus {} MiB (the larger of \
         {AUTO_SPARE_MIB} and rd.minmem); else run from the medium",
        AUTO_SPARE_MIB.max(minmem_mib)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn facts(image_mib: u64, mem: u64, medium: MediumKind) -> AutoFacts {
        AutoFacts {
            image_bytes: image_mib * MIB,
            mem_total_mib: mem,
            medium,
        }
    }

    #[test]
    fn a_small_image_on_a_slow_medium_is_copied() {
        for medium in [MediumKind::Optical, MediumKind::Usb] {
            let d = decide(facts(700, 4096, medium), 1024);
            assert!(d.copies(), "{d}");
        }
    }

    #[test]
    fn a_fast_medium_is_read_in_place_whatever_the_sizes() {
        let d = decide(facts(1, 65536, MediumKind::Other), 0);
        assert_eq!(d.verdict, AutoVerdict::FastMedium);
        assert!(d
            .to_string()
            .contains("neither an optical drive nor a USB disk"));
    }

    #[test]
    fn four_gib_or_more_stays_on_the_medium() {
        let d = decide(facts(4096, 65536, MediumKind::Usb), 0);
        assert_eq!(d.verdict, AutoVerdict::ImageTooBig);
        assert!(decide(facts(4095, 65536, MediumKind::Usb), 0).copies());
    }

    #[test]
    fn the_ram_must_hold_the_image_plus_two_gib() {
        assert!(decide(facts(500, 2548, MediumKind::Optical), 1024).copies());
        let d = decide(facts(500, 2547, MediumKind::Optical), 1024);
        assert_eq!(d.verdict, AutoVerdict::RamTooSmall { needed_mib: 2548 });
        let text = d.to_string();
        assert!(
            text.contains("image: 500 MiB")
                && text.contains("MemTotal: 2547 MiB")
                && text.contains("needs 2548 MiB"),
            "{text}"
        );
    }

    #[test]
    fn a_larger_rd_minmem_raises_the_margin() {
        let d = decide(facts(500, 4000, MediumKind::Usb), 4096);
        assert_eq!(d.verdict, AutoVerdict::RamTooSmall { needed_mib: 4596 });
        assert!(rule_text(4096).contains("plus 4096 MiB"));
        assert!(rule_text(64).contains("plus 2048 MiB"));
    }

    #[test]
    fn a_part_mib_counts_as_a_whole_one() {
        let mut f = facts(0, 2049, MediumKind::Usb);
        f.image_bytes = 1;
        assert!(decide(f, 0).copies());
        f.image_bytes = MIB + 1;
        assert!(!decide(f, 0).copies());
    }
}
