//! HTTPS network roots (network-boot-spec §6, item 16): the init built with
//! `cargo xtask initramfs --https` (`LIVEINIT_INITRAMFS_HTTPS`), a
//! throw-away CA made by `openssl` for the run packed at the bundle path,
//! and a TLS front (`socat`) before the image server, both beside QEMU in
//! the boot's private network namespace (loopback only).
//!
//! - the packed CA signed the server's certificate: the image is
//!   downloaded over TLS and boots;
//! - another CA is packed: the boot stops by itself naming the issuer
//!   problem and the bundle with its certificate count;
//! - the same with `rd.noverifyssl`: it boots, and the warning is on the
//!   console.
//!
//! Files under `target/qemu-tests/media-https/`; console logs in
//! `target/qemu-tests/<case>.log`, the servers' in `<case>.server.log`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use qemu_tests::harness::{probe_root, shared, Case, Expect, Initramfs, LiveBase, Medium, Shared};
use qemu_tests::media::{Layout, LiveImages, LiveRoot};
use qemu_tests::netboot::{newc_archive, SERVER_PORT};
use qemu_tests::{out_dir, ENV_INITRAMFS_HTTPS};

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_imageserver");
/// Where the TLS front listens in the namespace, and the guest's view of
/// it through QEMU's user networking.
const TLS_PORT: u16 = 18443;
const TLS_SERVER: &str = "10.0.2.2:18443";
/// The bundle path the init reads (`liveinit::contract::CA_BUNDLE`).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const IMAGE: &str = "/run/initramfs/livenet/live.img";
/// The image lives in RAM and `rd.minmem` (1024 MiB) must stay free.
const NET_RAM_MB: u32 = 1536;

fn media_dir() -> PathBuf {
    out_dir().join("media-https")
}

fn root() -> &'static LiveRoot {
    static C: Shared<LiveRoot> = OnceLock::new();
    probe_root(&C, &media_dir())
}

/// `served/live.img`: the probe root as a flattened SquashFS.
fn served() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "served image", || {
        let images = LiveImages::build(root(), Layout::FlatSquashfs, &media_dir())?;
        let dir = media_dir().join("served");
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(&images.files[0].1, dir.join("live.img"))?;
        Ok(dir)
    })
}

fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Two throw-away CAs (`good.pem`, `other.pem`) and the server's
/// certificate for the address the guest connects to, signed by `good`.
fn pki() -> &'static PathBuf {
    static C: Shared<PathBuf> = OnceLock::new();
    shared(&C, "throw-away CAs", || {
        let dir = media_dir().join("pki");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("ca.cnf"),
            "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n\
             basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        )?;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        for ca in ["good", "other"] {
            let (key, pem, subj) = (
                format!("{ca}.key"),
                format!("{ca}.pem"),
                format!("/CN=liveinit test CA {ca}"),
            );
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subj]);
            args.extend(["-config", "ca.cnf", "-extensions", "ext"]);
            openssl(&dir, &args)?;
        }
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:10.0.2.2\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )?;
        let mut args = vec!["req"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr"]);
        args.extend(["-subj", "/CN=10.0.2.2", "-config", "ca.cnf"]);
        openssl(&dir, &args)?;
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "good.pem",
                "-CAkey",
                "good.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        )?;
        Ok(dir)
    })
}

/// The HTTPS initramfs with `ca` at the bundle path (an appended archive:
/// the kernel unpacks it last, so it replaces the host's bundle).
fn https_initramfs(name: &str, ca: &str) -> Initramfs {
    let pem = pki().join(format!("{ca}.pem"));
    let base = std::fs::read(Initramfs::Env(ENV_INITRAMFS_HTTPS).path())
        .unwrap_or_else(|e| panic!("{ENV_INITRAMFS_HTTPS}: {e}"));
    let mut bytes = base;
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0);
    }
    bytes.extend(newc_archive(&[(CA_BUNDLE, &pem)]).expect("CA archive"));
    let out = out_dir().join(format!("initramfs-https-{name}.img"));
    std::fs::write(&out, bytes).expect("write the HTTPS initramfs");
    Initramfs::Built(Box::leak(Box::new(out)))
}

/// The image server on its usual port and a TLS front before it, both
/// ended when QEMU (the shell's parent) is gone.
fn servers() -> Vec<String> {
    let pki = pki().display().to_string();
    let script = format!(
        "{SERVER_BIN} --dir {dir} --port {SERVER_PORT} --delay 0 & s=$!; \
         socat -d OPENSSL-LISTEN:{TLS_PORT},reuseaddr,fork,cert={pki}/server.pem,\
         key={pki}/server.key,verify=0 TCP:127.0.0.1:{SERVER_PORT} & t=$!; \
         while kill -0 $PPID 2>/dev/null; do sleep 1; done; kill $s $t",
        dir = served().display(),
    );
    vec!["sh".into(), "-c".into(), script]
}

fn https_case(name: &str, ca: &str, extra: &str) -> Case {
    Case::new(
        name,
        vec![],
        &format!("root=live:https://{TLS_SERVER}/f/live.img {extra}"),
    )
    .initramfs(https_initramfs(name, ca))
    .memory(NET_RAM_MB)
    .nic("e1000")
    .server(servers())
}

const NET_FLAT: Expect = Expect::overlay(
    Medium::Released,
    IMAGE,
    LiveBase::Loop("livenet/live.img"),
    "squashfs",
);

#[test]
fn https_with_the_packed_ca_boots() {
    let b = https_case("https_good_ca", "good", "").boot_live(&NET_FLAT);
    b.check(
        b.ended
            .has_line(&["liveinit: livenet: https://", " resumes"])
            && b.ended.has_line(&["liveinit: livenet: sha256 "]),
        "no final livenet line, or no digest, for the https:// download",
    );
    b.check(
        !b.ended.has_line(&["rd.noverifyssl"]),
        "a noverifyssl warning without rd.noverifyssl",
    );
}

#[test]
fn https_with_another_ca_stops_naming_the_issuer_and_the_bundle() {
    let ended = https_case("https_wrong_ca", "other", "").boot_fatal(&[
        "the certificate of 10.0.2.2 was refused: unknown issuer",
        "checked against /etc/ssl/certs/ca-certificates.crt, 1 certificate",
    ]);
    ended.check(
        !ended.has_line(&["retrying in"]),
        "a refused certificate was retried",
    );
}

#[test]
fn noverifyssl_boots_with_another_ca_and_warns() {
    let b = https_case("https_noverifyssl", "other", "rd.noverifyssl").boot_live(&NET_FLAT);
    b.check(
        b.ended.has_line(&["rd.noverifyssl", "NOT checked"]),
        "no rd.noverifyssl warning on the console",
    );
}
