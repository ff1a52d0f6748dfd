//! `--firmware-dir`: the firmware files the packed modules declare
//! (`.modinfo firmware=`), so a NIC or storage controller whose driver
//! asks for firmware at probe time finds it in the initramfs. The kernel
//! loads it straight from `/lib/firmware` (no helper, no udev).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::compress;
use crate::kmods::Modules;

/// Where the kernel's firmware loader looks first.
pub const FIRMWARE_DIR_IN_IMAGE: &str = "lib/firmware";

/// One firmware file, decompressed, at its archive path.
#[derive(Debug, PartialEq, Eq)]
pub struct FirmwareFile {
    pub archive_path: String,
    pub data: Vec<u8>,
}

/// What was found for the packed modules.
#[derive(Debug, Default)]
pub struct Firmware {
    pub files: Vec<FirmwareFile>,
    /// (file, module) declared but not in the directory: drivers list every
    /// revision they know, a machine needs a few, so this is only reported.
    pub missing: Vec<(String, String)>,
}

impl Firmware {
    /// The missing files grouped by module, modules in packing order: a
    /// driver may list dozens of revisions, one warning line each is noise.
    pub fn missing_by_module(&self) -> Vec<(&str, Vec<&str>)> {
        let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
        for (file, module) in &self.missing {
            match grouped.iter_mut().find(|(m, _)| m == module) {
                Some((_, files)) => files.push(file),
                None => grouped.push((module, vec![file])),
            }
        }
        grouped
    }
}

/// The firmware of `modules` from `dir` (a `/lib/firmware` tree), each file
/// once; `NAME`, `NAME.zst` and `NAME.xz` are looked for in that order and
/// stored decompressed (the kernel may not be built to decompress them;
/// the whole image is compressed anyway).
pub fn collect(dir: &Path, modules: &Modules) -> Result<Firmware> {
    if !dir.is_dir() {
        bail!("--firmware-dir {}: not a directory", dir.display());
    }
    let mut found = Firmware::default();
    let mut seen = std::collections::BTreeSet::new();
    for m in &modules.modules {
        for name in &m.firmware {
            if !seen.insert(name.clone()) {
                continue;
            }
            if name.starts_with('/') || name.split('/').any(|part| part == "..") {
                bail!(
                    "module {} declares firmware '{name}' outside the firmware directory",
                    m.name
                );
            }
            match read_firmware(dir, name)? {
                Some(data) => found.files.push(FirmwareFile {
                    archive_path: format!("{FIRMWARE_DIR_IN_IMAGE}/{name}"),
                    data,
                }),
                None => found.missing.push((name.clone(), m.name.clone())),
            }
        }
    }
    Ok(found)
}

/// The file's contents (following symlinks, as linux-firmware uses them
/// for aliases), decompressed; None when no form of it exists.
fn read_firmware(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    type Decode = fn(&[u8]) -> Result<Vec<u8>>;
    let forms: [(&str, Option<Decode>); 3] = [
        ("", None),
        (".zst", Some(compress::zstd_decode)),
        (".xz", Some(compress::xz_decode)),
    ];
    for (suffix, decode) in forms {
        let path = dir.join(format!("{name}{suffix}"));
        if !path.is_file() {
            continue;
        }
        let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        return match decode {
            None => Ok(Some(raw)),
            Some(decode) => decode(&raw)
                .map(Some)
                .with_context(|| format!("decompressing {}", path.display())),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::Compression;
    use crate::kmods::Module;
    use crate::testutil::{put_file, TempDir};

    fn nic(name: &str, firmware: &[&str]) -> Module {
        Module {
            name: name.into(),
            archive_path: format!("lib/modules/t/{name}.ko"),
            data: Vec::new(),
            deps: Vec::new(),
            aliases: Vec::new(),
            firmware: firmware.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn modules(list: Vec<Module>) -> Modules {
        Modules {
            version: "t".into(),
            modules: list,
            omitted: Vec::new(),
        }
    }

    #[test]
    fn plain_zst_and_xz_files_are_packed_decompressed_once() {
        let tmp = TempDir::new("firmware");
        let dir = tmp.path().join("firmware");
        put_file(&dir.join("rtl_nic/a.fw"), b"plain", 0o644);
        let zst = compress::compress(b"from zstd", Compression::Zstd).unwrap();
        put_file(&dir.join("rtl_nic/b.fw.zst"), &zst, 0o644);
        let xz = compress::compress(b"from xz", Compression::Xz).unwrap();
        put_file(&dir.join("bnx2/c.fw.xz"), &xz, 0o644);
        std::os::unix::fs::symlink("a.fw", dir.join("rtl_nic/alias.fw")).unwrap();
        let m = modules(vec![
            nic(
                "r8169",
                &["rtl_nic/a.fw", "rtl_nic/b.fw", "rtl_nic/gone.fw"],
            ),
            nic("bnx2", &["bnx2/c.fw", "rtl_nic/a.fw", "rtl_nic/alias.fw"]),
        ]);
        let fw = collect(&dir, &m).unwrap();
        let got: Vec<(&str, &[u8])> = fw
            .files
            .iter()
            .map(|f| (f.archive_path.as_str(), f.data.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                ("lib/firmware/rtl_nic/a.fw", &b"plain"[..]),
                ("lib/firmware/rtl_nic/b.fw", b"from zstd"),
                ("lib/firmware/bnx2/c.fw", b"from xz"),
                ("lib/firmware/rtl_nic/alias.fw", b"plain"),
            ]
        );
        assert_eq!(fw.missing, [("rtl_nic/gone.fw".into(), "r8169".into())]);
        assert_eq!(fw.missing_by_module(), [("r8169", vec!["rtl_nic/gone.fw"])]);
    }

    #[test]
    fn bad_directory_corrupt_file_and_escaping_names_are_errors() {
        let tmp = TempDir::new("firmware-errors");
        let none = modules(vec![nic("x", &["x.fw"])]);
        let err = collect(&tmp.path().join("nope"), &none).unwrap_err();
        assert!(err.to_string().contains("--firmware-dir"), "{err}");
        assert!(err.to_string().contains("not a directory"), "{err}");
        put_file(&tmp.path().join("x.fw.xz"), b"not xz", 0o644);
        let err = collect(tmp.path(), &none).unwrap_err();
        assert!(format!("{err:#}").contains("decompressing"), "{err:#}");
        let escaping = modules(vec![nic("evil", &["../../etc/shadow"])]);
        let err = collect(tmp.path(), &escaping).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }
}
