//! `cargo xtask initramfs`'s flags and its manual: `--help` prints
//! [`MANUAL`] and `cargo xtask man` renders the same data as
//! `liveinit-initramfs(1)`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use liveinit::manual::{Item, Manual, Section};

use crate::builder_options::{self, BuilderOptions, Include};
use crate::compress::Compression;
use crate::initramfs::{self, PackOptions, DEFAULT_BUSYBOX};
use crate::{host_devices, https, microcode, module_choice};

pub const MANUAL: Manual = Manual {
    name: "liveinit-initramfs",
    section: 1,
    summary: "pack liveinit and the modules a live boot needs into an initramfs",
    synopsis: &["cargo xtask initramfs --modules-dir DIR --output FILE [OPTION...]"],
    sections: &[
        Section {
            title: "DESCRIPTION",
            text: "\
Builds the init (release, static, for --target) and packs it
into a cpio initramfs at FILE with initramfs-skel/, /dev/console, and the
storage, USB and filesystem modules a live boot needs (with their
dependencies) from DIR, a lib/modules/VERSION tree. Modules are stored
decompressed; the init loads them by need from /etc/liveinit/modules.alias
and modules.dep. /etc/liveinit/modules.load lists any to load on every
boot (none by default).

The output is reproducible: the same inputs give the same bytes; file
times come from SOURCE_DATE_EPOCH (default 0).",
            items: &[],
        },
        Section {
            title: "OPTIONS",
            text: "",
            items: &[
                Item {
                    term: "--modules-dir DIR",
                    text: "The lib/modules/VERSION tree (modules.dep optional).",
                },
                Item {
                    term: "--output FILE",
                    text: "Where to write the image.",
                },
                Item {
                    term: "--compress zstd|gzip|xz|none",
                    text: "\
The whole archive's compression: zstd (default, level 19), gzip, xz
(CRC32 check, which the kernel needs) or none.",
                },
                Item {
                    term: "--add-modules A,B",
                    text: "\
Also pack these modules, with their dependencies (repeatable). A device
driver is loaded when its device appears, like the default ones.",
                },
                Item {
                    term: "--omit-modules A,B",
                    text: "\
Leave these modules out (repeatable); an error if a packed module needs
one of them.",
                },
                Item {
                    term: "--host-only[=SYSFS]",
                    text: "\
Pack only the storage drivers whose aliases match a device of this
machine (its /sys), or of the machine whose sysfs (or a copy of its
devices' modalias files) is at SYSFS; filesystems, block layers and
--add-modules stay.",
                },
                Item {
                    term: "--all-nics",
                    text: "\
Also pack the server network drivers (igc, ixgbe, i40e, ice, bnxt_en,
tg3, mlx4_en, mlx5_core; about +2.2 MB). The virtual machines' and common
NICs' drivers (virtio_net, e1000, e1000e, igb, r8169, vmxnet3, ena, gve,
hv_netvsc) and 8021q are always packed.",
                },
                Item {
                    term: "--firmware-dir DIR",
                    text: "\
Pack the firmware files the packed modules declare (modinfo firmware),
from DIR (e.g. /lib/firmware; NAME, NAME.zst and NAME.xz are found and
stored decompressed) into /lib/firmware.",
                },
                Item {
                    term: "--cmdline TEXT",
                    text: "\
Kernel arguments the image carries as defaults, written to
/etc/cmdline.d/50-liveinit-packer.conf; the boot loader's command line
is read after it and overrides it.",
                },
                Item {
                    term: "--include SRC:DEST",
                    text: "\
Add a host file or directory tree at DEST, an absolute path in the image
(repeatable; executable bits kept).",
                },
                Item {
                    term: "--microcode[=DIR]",
                    text: "\
Put an uncompressed early cpio in front of the image with the CPU
microcode of DIR/intel-ucode and DIR/amd-ucode (default /lib/firmware),
for the kernel's early loader.",
                },
                Item {
                    term: "--target TRIPLE",
                    text: "\
The init's target: x86_64-unknown-linux-musl (default) or
aarch64-unknown-linux-musl (linked with the toolchain's rust-lld); the
modules of DIR must be for the same machine.",
                },
                Item {
                    term: "--https",
                    text: "\
Build the init with HTTPS support (rustls with ring, TLS 1.2 and 1.3; about
0.9 MB more) and pack a CA bundle at /etc/ssl/certs/ca-certificates.crt:
the host's file of that name unless --ca-bundle names another. Needs a C
compiler for the target (musl-gcc, installed on demand from Debian's
musl-tools; or CC_<target>). Without it, https:// roots stop with a
message saying so; plain HTTP is always built in.",
                },
                Item {
                    term: "--ca-bundle FILE",
                    text: "\
With --https: the PEM certificates (one or more BEGIN CERTIFICATE blocks)
servers are checked against, e.g. a private fleet CA, instead of the
host's bundle. A file holding no certificate is an error.",
                },
                Item {
                    term: "--busybox[=PATH]",
                    text: "\
Add a static busybox (default /bin/busybox) as /bin/sh and common tools,
for rd.break and rd.shell.",
                },
                Item {
                    term: "-h, --help",
                    text: "This text.",
                },
            ],
        },
        Section {
            title: "ERRORS",
            text: "\
Every option is checked before the init is built: a missing directory,
an unknown module, a module built into the kernel, a module both added
and omitted, an omitted module a packed one needs, or an --include that
would replace /init stops the packer with a message naming the option.",
            items: &[],
        },
        Section {
            title: "SEE ALSO",
            text: "liveinit(8), dracut(8), mkinitcpio(8)",
            items: &[],
        },
    ],
};

/// Everything the command line asked for.
#[derive(Debug)]
pub struct Request {
    pub pack: PackOptions,
    pub extra: BuilderOptions,
}

pub fn cmd(args: &[String]) -> Result<()> {
    match parse(args)? {
        Some(req) => initramfs::pack_image(&req.pack, &req.extra),
        None => {
            print!("{}", MANUAL.help());
            Ok(())
        }
    }
}

/// The request, or None for `--help`.
pub fn parse(args: &[String]) -> Result<Option<Request>> {
    let mut modules_dir = None;
    let mut output = None;
    let mut compression = Compression::Zstd;
    let mut busybox = None;
    let mut extra = BuilderOptions::default();
    let mut https = false;
    let mut ca_bundle = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        // Flags without a value, or with an optional inline one.
        match flag {
            "-h" | "--help" => return Ok(None),
            "--https" if inline.is_none() => {
                https = true;
                continue;
            }
            "--busybox" => {
                busybox = Some(PathBuf::from(
                    inline.unwrap_or_else(|| DEFAULT_BUSYBOX.to_owned()),
                ));
                continue;
            }
            "--all-nics" => {
                extra.modules.add.extend(
                    crate::kmods::NIC_DRIVERS_SERVER
                        .iter()
                        .map(|m| m.to_string()),
                );
                continue;
            }
            "--microcode" => {
                let dir = inline.unwrap_or_else(|| microcode::DEFAULT_DIR.to_owned());
                extra.microcode = Some(existing_dir(flag, &dir)?);
                continue;
            }
            "--host-only" => {
                let sysfs = inline.unwrap_or_else(|| host_devices::SYSFS.to_owned());
                extra.modules.host_only = Some(existing_dir(flag, &sysfs)?);
                continue;
            }
            _ => {}
        }
        const WITH_VALUE: [&str; 10] = [
            "--target",
            "--modules-dir",
            "--output",
            "--compress",
            "--add-modules",
            "--omit-modules",
            "--firmware-dir",
            "--cmdline",
            "--include",
            "--ca-bundle",
        ];
        if !WITH_VALUE.contains(&flag) {
            bail!("unknown option '{arg}' (see --help)");
        }
        let Some(value) = inline.or_else(|| args.next().cloned()) else {
            bail!("option {flag} needs a value (see --help)");
        };
        match flag {
            "--modules-dir" => modules_dir = Some(PathBuf::from(value)),
            "--output" => output = Some(PathBuf::from(value)),
            "--compress" => compression = value.parse().context("option --compress")?,
            "--add-modules" => extra
                .modules
                .add
                .extend(module_choice::parse_list(flag, &value)?),
            "--omit-modules" => extra
                .modules
                .omit
                .extend(module_choice::parse_list(flag, &value)?),
            "--firmware-dir" => extra.firmware_dir = Some(existing_dir(flag, &value)?),
            "--target" => extra.target = value.parse().context("option --target")?,
            "--ca-bundle" => ca_bundle = Some(PathBuf::from(value)),
            "--cmdline" => {
                builder_options::check_cmdline(&value)?;
                extra.cmdline = Some(value);
            }
            _ => extra.includes.push(Include::parse(&value)?),
        }
    }
    let (Some(modules_dir), Some(output)) = (modules_dir, output) else {
        bail!("--modules-dir and --output are required (see --help)");
    };
    extra.https = https::from_flags(https, ca_bundle.as_deref())?;
    Ok(Some(Request {
        pack: PackOptions {
            modules_dir,
            output,
            compression,
            extra_files: Vec::new(),
            busybox,
        },
        extra,
    }))
}

fn existing_dir(flag: &str, dir: &str) -> Result<PathBuf> {
    let path = PathBuf::from(dir);
    if !path.is_dir() {
        bail!("{flag} {dir}: not a directory");
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{put_file, TempDir};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn err(list: &[&str]) -> String {
        format!("{:#}", parse(&args(list)).unwrap_err())
    }

    const BASE: [&str; 4] = ["--modules-dir", "/m", "--output", "/o"];

    fn with_base(more: &[&str]) -> Vec<String> {
        let mut all = args(&BASE);
        all.extend(args(more));
        all
    }

    #[test]
    fn every_builder_flag_lands_in_the_request() {
        let tmp = TempDir::new("cli");
        let dir = tmp.path().display().to_string();
        put_file(&tmp.path().join("hook.sh"), b"#!/bin/sh\n", 0o755);
        let req = parse(&with_base(&[
            "--add-modules",
            "e1000,r8169",
            "--add-modules=virtio_net",
            "--omit-modules",
            "nvme uas",
            "--host-only",
            &format!("--firmware-dir={dir}"),
            "--cmdline",
            "root=live:CDLABEL=X rd.live.overlay.size=64",
            "--include",
            &format!("{dir}/hook.sh:/usr/lib/hook.sh"),
            &format!("--microcode={dir}"),
            "--compress",
            "xz",
            "--target=aarch64-unknown-linux-musl",
        ]))
        .unwrap()
        .unwrap();
        let m = &req.extra.modules;
        assert_eq!(m.add, ["e1000", "r8169", "virtio_net"]);
        assert_eq!(m.omit, ["nvme", "uas"]);
        assert_eq!(m.host_only.as_deref(), Some("/sys".as_ref()));
        assert_eq!(req.extra.firmware_dir.as_deref(), Some(tmp.path()));
        assert_eq!(req.extra.microcode.as_deref(), Some(tmp.path()));
        assert_eq!(
            req.extra.cmdline.as_deref(),
            Some("root=live:CDLABEL=X rd.live.overlay.size=64")
        );
        assert_eq!(req.extra.includes[0].dest, "usr/lib/hook.sh");
        assert_eq!(req.pack.compression, Compression::Xz);
        assert_eq!(req.extra.target, crate::build_init::Target::Aarch64);
        assert_eq!(req.pack.modules_dir, PathBuf::from("/m"));
    }

    #[test]
    fn every_flag_error_names_the_flag() {
        assert!(err(&["--modules", "x"]).contains("'--modules'"));
        assert!(err(&["--output"]).contains("--output needs a value"));
        assert!(err(&["--compress=lz4"]).contains("lz4"));
        assert!(err(&["--output", "x"]).contains("required"));
        let e = |more: &[&str]| format!("{:#}", parse(&with_base(more)).unwrap_err());
        assert!(e(&["--add-modules", ","]).contains("--add-modules: no module names"));
        assert!(e(&["--omit-modules="]).contains("--omit-modules: no module names"));
        assert!(e(&["--firmware-dir", "/nonexistent"])
            .contains("--firmware-dir /nonexistent: not a directory"));
        assert!(
            e(&["--microcode=/nonexistent"]).contains("--microcode /nonexistent: not a directory")
        );
        assert!(
            e(&["--host-only=/nonexistent"]).contains("--host-only /nonexistent: not a directory")
        );
        assert!(e(&["--cmdline", ""]).contains("--cmdline: empty"));
        assert!(e(&["--target", "riscv64"]).contains("unknown target 'riscv64'"));
        assert!(e(&["--include", "/etc/hostname"]).contains("--include"));
        assert!(e(&["--include", "/nonexistent:/x"]).contains("does not exist"));
        assert!(parse(&args(&["--help"])).unwrap().is_none());
    }

    /// The module-tree checks happen when packing, still before the init
    /// is built.
    #[test]
    fn a_missing_modules_dir_is_reported_before_building() {
        let e = cmd(&args(&[
            "--modules-dir=/nonexistent/x",
            "--output",
            "/tmp/y",
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--modules-dir /nonexistent/x: not a directory"),
            "{e}"
        );
    }

    #[test]
    fn https_flags_build_with_tls_and_pack_the_bundle() {
        let tmp = TempDir::new("cli-https");
        let pem = tmp.path().join("fleet-ca.pem");
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        std::fs::write(&pem, cert).unwrap();
        let pem = pem.display().to_string();
        let req = parse(&with_base(&["--https", "--ca-bundle", &pem]))
            .unwrap()
            .unwrap();
        let https = req.extra.https.unwrap();
        assert_eq!(
            (https.certificates, https.pem),
            (1, cert.as_bytes().to_vec())
        );
        let req = parse(&with_base(&[&format!("--ca-bundle={pem}"), "--https"]))
            .unwrap()
            .unwrap();
        assert!(req.extra.https.is_some());
        let req = parse(&with_base(&["--https"])).unwrap().unwrap();
        assert_eq!(
            req.extra.https.unwrap().source,
            PathBuf::from(https::HOST_BUNDLE)
        );
        assert!(parse(&with_base(&[]))
            .unwrap()
            .unwrap()
            .extra
            .https
            .is_none());

        let e = |more: &[&str]| format!("{:#}", parse(&with_base(more)).unwrap_err());
        assert!(e(&["--ca-bundle", &pem]).contains("add --https"));
        assert!(e(&["--https", "--ca-bundle"]).contains("--ca-bundle needs a value"));
        assert!(e(&["--https=yes"]).contains("unknown option '--https=yes'"));
        let e = e(&["--https", "--ca-bundle", "/nonexistent/ca.pem"]);
        assert!(
            e.contains("--ca-bundle /nonexistent/ca.pem: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn help_is_the_manual() {
        let help = MANUAL.help();
        for flag in [
            "--add-modules",
            "--firmware-dir",
            "--microcode",
            "--host-only",
            "--https",
            "--ca-bundle",
        ] {
            assert!(help.contains(&format!("\n  {flag}")), "{flag} undocumented");
        }
    }
}
