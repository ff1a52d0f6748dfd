//! `rd.live.ram`: where the RAM copy goes and whether it fits
//! (docs/dracut-live.md §2.4, §3.7).

use core::fmt;

use super::image::ImageSource;

/// The RAM copy of a compressed image, as dracut names it.
pub const SQUASHED_COPY: &str = "/run/initramfs/squashed.img";
/// The RAM copy of an uncompressed `rootfs.img`, as dracut names it.
pub const ROOTFS_COPY: &str = "/run/initramfs/rootfs.img";
/// Where both copies live: the tmpfs dracut may grow for them.
pub const RUN: &str = "/run";

const MIB: u64 = 1 << 20;

/// Where the RAM copy of an image goes; `None` for a device, which is not
/// copied (its size is not a file's).
pub fn copy_target(source: &ImageSource) -> Option<&'static str> {
    match source {
        ImageSource::SquashedFile(_) => Some(SQUASHED_COPY),
        ImageSource::FsImage(_) => Some(ROOTFS_COPY),
        ImageSource::SquashedDevice(_) => None,
    }
}

/// What the memory check looks at, in bytes (RAM in MiB, as `/proc/meminfo`
/// rounds it anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryFacts {
    pub image_bytes: u64,
    pub mem_total_mib: u64,
    pub run_size_bytes: u64,
    pub run_used_bytes: u64,
}

/// The verdict of the memory check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamFit {
    /// Copy as things are.
    Fits,
    /// The image fits in RAM but not in `/run`: remount `/run` with this
    /// size first (dracut ≥ 100).
    GrowRun { size_mib: u64 },
    /// The image and `rd.minmem` together exceed the RAM.
    TooBig(TooBig),
}

/// The sizes that did not fit, for the failure message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig {
    pub image_mib: u64,
    pub mem_total_mib: u64,
    pub minmem_mib: u64,
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the image ({} MiB) does not fit in RAM: {} MiB total, {} MiB of which must stay \
             free (rd.minmem); boot from the medium without rd.live.ram, or lower rd.minmem",
            self.image_mib, self.mem_total_mib, self.minmem_mib
        )
    }
}

/// The first half of [`check_memory`], for a copy into a tmpfs of its
/// own: RAM minus `bytes` (whole MiB, rounded up) must leave `rd.minmem`.
pub fn fits_in_ram(bytes: u64, mem_total_mib: u64, minmem_mib: u64) -> Result<(), TooBig> {
    let image_mib = bytes.div_ceil(MIB);
    if mem_total_mib.saturating_sub(image_mib) < minmem_mib || mem_total_mib < image_mib {
        return Err(TooBig {
            image_mib,
            mem_total_mib,
            minmem_mib,
        });
    }
    Ok(())
}

/// dracut's `check_live_ram`, checked before a byte is copied: RAM minus
/// the image must leave `rd.minmem`; `/run` must then have room for the
/// image plus `rd.minmem`, else it is grown to what it holds plus both.
/// Sizes round up to whole MiB, so a part-MiB image is never waved through.
pub fn check_memory(facts: MemoryFacts, minmem_mib: u64) -> RamFit {
    let image_mib = facts.image_bytes.div_ceil(MIB);
    if let Err(too_big) = fits_in_ram(facts.image_bytes, facts.mem_total_mib, minmem_mib) {
        return RamFit::TooBig(too_big);
    }
    let run_avail_mib = facts.run_size_bytes.saturating_sub(facts.run_used_bytes) / MIB;
    if run_avail_mib.saturating_sub(image_mib) < minmem_mib || run_avail_mib < image_mib {
        let used_mib = facts.run_used_bytes.div_ceil(MIB);
        RamFit::GrowRun {
            size_mib: used_mib
                .saturating_add(image_mib)
                .saturating_add(minmem_mib),
        }
    } else {
        RamFit::Fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};

    fn facts(image_mib: u64, mem: u64, run_size: u64, run_used: u64) -> MemoryFacts {
        MemoryFacts {
            image_bytes: image_mib * MIB,
            mem_total_mib: mem,
            run_size_bytes: run_size * MIB,
            run_used_bytes: run_used * MIB,
        }
    }

    #[test]
    fn an_image_that_leaves_minmem_free_fits() {
        assert_eq!(check_memory(facts(500, 4096, 2048, 10), 1024), RamFit::Fits);
    }

    #[test]
    fn ram_minus_image_below_minmem_is_refused_with_the_sizes() {
        let fit = check_memory(facts(500, 1500, 750, 0), 1024);
        let RamFit::TooBig(too_big) = fit else {
            panic!("{fit:?}")
        };
        assert_eq!(
            too_big,
            TooBig {
                image_mib: 500,
                mem_total_mib: 1500,
                minmem_mib: 1024
            }
        );
        let text = too_big.to_string();
        assert!(text.contains("500 MiB") && text.contains("1500 MiB") && text.contains("1024"));
    }

    #[test]
    fn an_image_larger_than_ram_is_refused_even_with_no_minmem() {
        assert!(matches!(
            check_memory(facts(5000, 4096, 2048, 0), 0),
            RamFit::TooBig(_)
        ));
    }

    #[test]
    fn a_part_mib_counts_as_a_whole_one() {
        let mut f = facts(0, 1025, 4096, 0);
        f.image_bytes = 1;
        assert_eq!(check_memory(f, 1024), RamFit::Fits);
        f.image_bytes = MIB + 1;
        assert!(matches!(check_memory(f, 1024), RamFit::TooBig(_)));
    }

    #[test]
    fn run_too_small_is_grown_to_its_contents_plus_image_plus_minmem() {
        assert_eq!(
            check_memory(facts(600, 8192, 1024, 100), 1024),
            RamFit::GrowRun {
                size_mib: 100 + 600 + 1024
            }
        );
    }

    #[test]
    fn only_files_are_copied() {
        let name = |s: &str| String::from(s);
        assert_eq!(
            copy_target(&ImageSource::SquashedFile(name("/m/x"))),
            Some(SQUASHED_COPY)
        );
        assert_eq!(
            copy_target(&ImageSource::FsImage(name("/m/r"))),
            Some(ROOTFS_COPY)
        );
        assert_eq!(
            copy_target(&ImageSource::SquashedDevice(name("/dev/vdb"))),
            None
        );
    }
}
