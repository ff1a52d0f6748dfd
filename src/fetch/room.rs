//! Room in RAM for the downloaded image (network-boot-spec §3.1): it always
//! lives in RAM, so `rd.minmem` applies to every network image, and the
//! check is made from the announced length before the first body byte.

const MIB: u64 = 1 << 20;

/// Whether an image of `bytes` leaves `rd.minmem` of the RAM free.
pub fn fits(bytes: u64, mem_total_mib: u64, minmem_mib: u64) -> bool {
    let image_mib = bytes.div_ceil(MIB);
    mem_total_mib >= image_mib && mem_total_mib - image_mib >= minmem_mib
}

/// The size of the image's own tmpfs: the length rounded up to a MiB plus
/// one, or, with no length announced, the RAM `rd.minmem` leaves (so an
/// oversized image ends in ENOSPC, not in an out-of-memory machine).
pub fn tmpfs_bytes(length: Option<u64>, mem_total_mib: u64, minmem_mib: u64) -> u64 {
    match length {
        Some(bytes) => (bytes.div_ceil(MIB) + 1) * MIB,
        None => mem_total_mib.saturating_sub(minmem_mib).max(1) * MIB,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rd_minmem_must_stay_free() {
        assert!(fits(100 * MIB, 1124, 1024));
        assert!(!fits(100 * MIB + 1, 1124, 1024));
        assert!(!fits(u64::MAX, 4096, 0));
        assert_eq!(tmpfs_bytes(Some(1), 0, 0), 2 * MIB);
        assert_eq!(tmpfs_bytes(Some(3 * MIB), 0, 0), 4 * MIB);
        assert_eq!(tmpfs_bytes(None, 2048, 1024), 1024 * MIB);
        assert_eq!(tmpfs_bytes(None, 512, 1024), MIB);
    }
}
