//! How big a writable layer kept in RAM may be. The device-mapper COW (and
//! a thin pool's data) is a sparse file in the initramfs: it takes memory
//! only as it is written, so a size larger than the RAM there is lets
//! writes exhaust memory — the OOM killer, or a kernel panic — before the
//! snapshot overflows into its clean read-only state. Capped at half the
//! RAM (what a default tmpfs may take), the store overflows first and the
//! machine stays up with the other half.

/// The share of RAM a RAM-backed store may take: one part in this many.
const RAM_SHARE_DIVISOR: u64 = 2;

/// The size to use for a store asked to be `requested_mib`, on a machine
/// with `ram_mib` (unknown: as asked). `capped` says it was cut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamBound {
    pub mib: u64,
    pub capped: bool,
}

pub fn ram_bound(requested_mib: u64, ram_mib: Option<u64>) -> RamBound {
    let Some(cap) = ram_mib.map(|ram| (ram / RAM_SHARE_DIVISOR).max(1)) else {
        return RamBound {
            mib: requested_mib,
            capped: false,
        };
    };
    RamBound {
        mib: requested_mib.min(cap),
        capped: requested_mib > cap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_capped_at_half_the_ram() {
        // dracut's default 32 GiB on a 1 GiB machine.
        assert_eq!(
            ram_bound(32768, Some(1024)),
            RamBound {
                mib: 512,
                capped: true
            }
        );
        assert_eq!(
            ram_bound(256, Some(1024)),
            RamBound {
                mib: 256,
                capped: false
            }
        );
        assert!(!ram_bound(512, Some(1024)).capped);
        assert_eq!(
            ram_bound(32768, None),
            RamBound {
                mib: 32768,
                capped: false
            }
        );
        assert_eq!(ram_bound(10, Some(1)).mib, 1, "never zero");
    }
}
