//! `--https` and `--ca-bundle`: an init built with the `https` feature
//! (rustls + ring, about +0.9 MB) and the certificates it checks servers
//! against, packed at [`CA_BUNDLE`]. Plain HTTP needs neither.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use liveinit::contract::CA_BUNDLE;

use crate::build_init::Target;

/// The host's bundle, packed when no `--ca-bundle` is given (Debian's
/// `ca-certificates` package writes it; most distributions have it or a
/// link to theirs at this path).
pub const HOST_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The cargo feature that builds TLS into the init.
pub const FEATURE: &str = "https";

/// What `--https` packs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Https {
    /// Where the bundle was read from, for messages.
    pub source: PathBuf,
    pub pem: Vec<u8>,
    pub certificates: usize,
}

impl Https {
    /// The bundle's path inside the initramfs (no leading `/`).
    pub fn archive_path() -> &'static str {
        CA_BUNDLE.trim_start_matches('/')
    }
}

/// `--https` with an optional `--ca-bundle FILE`: the bundle read and
/// checked, or `None` without `--https`.
pub fn from_flags(https: bool, ca_bundle: Option<&Path>) -> Result<Option<Https>> {
    match (https, ca_bundle) {
        (false, None) => Ok(None),
        (false, Some(file)) => bail!(
            "--ca-bundle {}: only an HTTPS build uses a CA bundle; add --https",
            file.display()
        ),
        (true, Some(file)) => read_bundle("--ca-bundle", file).map(Some),
        (true, None) => read_bundle("--https", Path::new(HOST_BUNDLE))
            .context(
                "--https packs the host's CA bundle by default (on Debian: apt-get install \
                 ca-certificates); give another with --ca-bundle FILE",
            )
            .map(Some),
    }
}

fn read_bundle(flag: &str, file: &Path) -> Result<Https> {
    let pem =
        std::fs::read(file).with_context(|| format!("{flag} {}: cannot read", file.display()))?;
    let certificates = count_certificates(&pem);
    if certificates == 0 {
        bail!(
            "{flag} {}: no certificate in it (expected PEM blocks from -----BEGIN CERTIFICATE----- \
             to -----END CERTIFICATE-----)",
            file.display()
        );
    }
    Ok(Https {
        source: file.to_path_buf(),
        pem,
        certificates,
    })
}

/// Complete PEM certificate blocks in `pem`: a BEGIN line followed by an
/// END line. The init parses them with rustls and reports its own count;
/// this only catches a wrong file (a key, a DER file, an empty one) early.
pub fn count_certificates(pem: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pem);
    let mut open = false;
    let mut count = 0;
    for line in text.lines().map(str::trim) {
        match line {
            "-----BEGIN CERTIFICATE-----" => open = true,
            "-----END CERTIFICATE-----" if open => {
                open = false;
                count += 1;
            }
            _ => {}
        }
    }
    count
}

/// ring compiles C and assembly for the init's target: cargo needs a C
/// compiler for musl. `musl-gcc` (Debian's `musl-tools`) is installed on
/// demand for x86-64; the variable `CC_<target>` names another.
pub fn c_compiler_env(target: Target) -> Result<Vec<(String, String)>> {
    let var = format!("CC_{}", target.triple().replace('-', "_"));
    if std::env::var_os(&var).is_some() {
        return Ok(Vec::new());
    }
    let compiler = compiler_for(target, &var)?;
    if !on_path(compiler) {
        qemu_tests::host::ensure_packages(&["musl-tools"]).context(
            "an HTTPS init compiles ring's C code with musl-gcc (Debian package musl-tools), \
             or with the compiler named by CC_x86_64_unknown_linux_musl",
        )?;
    }
    Ok(vec![(var, compiler.to_owned())])
}

/// The C compiler for `target` when `var` does not name one.
fn compiler_for(target: Target, var: &str) -> Result<&'static str> {
    match target {
        Target::X86_64 => Ok("musl-gcc"),
        Target::Aarch64 => bail!(
            "--https for {}: ring needs a C compiler for that target; set {var} (e.g. \
             {var}=aarch64-linux-gnu-gcc from Debian's gcc-aarch64-linux-gnu)",
            target.triple()
        ),
    }
}

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn counts_complete_certificate_blocks_only() {
        assert_eq!(count_certificates(CERT.as_bytes()), 1);
        let two = format!("# a comment\n{CERT}\n{CERT}");
        assert_eq!(count_certificates(two.as_bytes()), 2);
        let key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        assert_eq!(count_certificates(key.as_bytes()), 0);
        assert_eq!(count_certificates(b"-----END CERTIFICATE-----\n"), 0);
        assert_eq!(count_certificates(b"-----BEGIN CERTIFICATE-----\nMII"), 0);
        assert_eq!(count_certificates(&[0x30, 0x82, 0x01]), 0);
    }

    #[test]
    fn flags_give_a_checked_bundle_or_name_the_problem() {
        let tmp = TempDir::new("https");
        let good = tmp.path().join("ca.pem");
        std::fs::write(&good, CERT).unwrap();
        let empty = tmp.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();

        assert_eq!(from_flags(false, None).unwrap(), None);
        let https = from_flags(true, Some(&good)).unwrap().unwrap();
        assert_eq!((https.certificates, https.source), (1, good.clone()));
        assert_eq!(Https::archive_path(), "etc/ssl/certs/ca-certificates.crt");

        let err = |https, file: &Path| format!("{:#}", from_flags(https, Some(file)).unwrap_err());
        assert!(err(false, &good).contains("add --https"));
        let e = err(true, &empty);
        assert!(
            e.contains("--ca-bundle") && e.contains("no certificate"),
            "{e}"
        );
        let e = err(true, &tmp.path().join("missing.pem"));
        assert!(e.contains("missing.pem: cannot read"), "{e}");
    }

    /// The host's bundle is the default; this machine's (or CI's) has one
    /// (`ca-certificates` is installed wherever crates.io is reached).
    #[test]
    fn https_alone_packs_the_host_bundle() {
        let https = from_flags(true, None).unwrap().unwrap();
        assert_eq!(https.source, PathBuf::from(HOST_BUNDLE));
        assert!(https.certificates > 10, "{}", https.certificates);
    }

    #[test]
    fn x86_64_uses_musl_gcc_and_arm64_needs_a_named_c_compiler() {
        assert_eq!(compiler_for(Target::X86_64, "CC_x").unwrap(), "musl-gcc");
        let e = compiler_for(Target::Aarch64, "CC_aarch64_unknown_linux_musl")
            .unwrap_err()
            .to_string();
        assert!(e.contains("set CC_aarch64_unknown_linux_musl"), "{e}");
    }
}
