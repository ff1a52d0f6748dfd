//! Packs the README's pipeline examples for `tests/pipeline.rs`: the
//! commands read from README.md, with fixtures standing in for the
//! builder's host (firmware, microcode, site files, the sysfs of the
//! machine the image is for: the QEMU guest).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::compress::{self, Compression};
use crate::readme_examples::{self, Substitutions};
use crate::{build_init, initramfs, initramfs_cli};

/// Firmware the examples' `r8169` declares, one plain and one zstd file.
const FIRMWARE: [(&str, &[u8]); 2] = [
    ("rtl_nic/rtl8168d-1.fw", b"liveinit test firmware, plain\n"),
    ("rtl_nic/rtl8168e-3.fw", b"liveinit test firmware, zstd\n"),
];
/// The QEMU `pc` guest's virtio-blk disk: its PCI function and its virtio
/// device, as `/sys/devices/.../modalias` show them.
const GUEST_MODALIASES: [(&str, &str); 2] = [
    (
        "pci0000:00/0000:00:04.0",
        "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
    ),
    (
        "pci0000:00/0000:00:04.0/virtio1",
        "virtio:d00000002v00001AF4",
    ),
];

/// Packs every README example into `out/initramfs-example-NAME.img`;
/// returns (environment variable for the boot tests, image).
pub fn pack_all(modules_dir: &Path, out: &Path) -> Result<Vec<(String, PathBuf)>> {
    let fixtures = out.join("pipeline-fixtures");
    write_fixtures(&fixtures)?;
    let readme_path = build_init::workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .with_context(|| format!("reading {}", readme_path.display()))?;
    let examples = readme_examples::examples(&readme)?;
    if examples.is_empty() {
        bail!("README.md has no pipeline examples");
    }
    let mut images = Vec::new();
    for example in examples {
        let output = out.join(format!("initramfs-example-{}.img", example.name));
        let subst = Substitutions {
            modules_dir,
            firmware_dir: &fixtures.join("firmware"),
            site_dir: &fixtures.join("site"),
            guest_sysfs: &fixtures.join("guest-sys"),
            output: &output,
        };
        let args = subst.apply(&example.args)?;
        println!(
            "example {}: cargo xtask initramfs {}",
            example.name,
            args.join(" ")
        );
        let request = initramfs_cli::parse(&args)?
            .with_context(|| format!("README example {}: --help", example.name))?;
        initramfs::pack_image(&request.pack, &request.extra)
            .with_context(|| format!("README example {}", example.name))?;
        images.push((qemu_tests::example_initramfs_env(&example.name), output));
    }
    Ok(images)
}

fn write_fixtures(dir: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let firmware = dir.join("firmware");
    let [(plain_name, plain), (zst_name, zst)] = FIRMWARE;
    put(&firmware.join(plain_name), plain)?;
    let packed = compress::compress(zst, Compression::Zstd)?;
    put(&firmware.join(format!("{zst_name}.zst")), &packed)?;
    put(
        &firmware.join("amd-ucode/microcode_amd_fam17h.bin"),
        b"liveinit test microcode (AMD)\n",
    )?;
    put(
        &firmware.join("intel-ucode/06-8e-09"),
        b"liveinit test microcode (Intel)\n",
    )?;
    put(
        &dir.join("site/motd"),
        b"Welcome to the netboot live system\n",
    )?;
    for (device, alias) in GUEST_MODALIASES {
        let file = dir.join("guest-sys/devices").join(device).join("modalias");
        put(&file, format!("{alias}\n").as_bytes())?;
    }
    Ok(())
}

fn put(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
