//! Module names as the kernel knows them.

use alloc::string::String;

/// A module's name as the kernel knows it (`-` and `_` alike, written `_`),
/// from a bare name or a path such as `/lib/modules/v/kernel/fs/fat/vfat.ko`.
pub fn module_name(name_or_path: &str) -> String {
    let base = name_or_path.rsplit('/').next().unwrap_or(name_or_path);
    let base = [".xz", ".zst", ".gz"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))
        .unwrap_or(base);
    base.strip_suffix(".ko").unwrap_or(base).replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            module_name("/lib/modules/v/kernel/a/usb-storage.ko"),
            "usb_storage"
        );
        assert_eq!(module_name("dm-mod"), "dm_mod");
        assert_eq!(module_name("x.ko.zst"), "x");
    }
}
