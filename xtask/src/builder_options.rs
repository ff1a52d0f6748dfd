//! What an image builder adds to the contract form of the initramfs:
//! module choices, firmware, baked kernel arguments, extra files and
//! early microcode. Each value is checked here, with an error naming its
//! flag, before the init is built.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::build_init::Target;
use crate::https::Https;
use crate::module_choice::ModuleChoice;

/// Where `--cmdline` is written. The init reads `/etc/cmdline.d/*.conf` in
/// name order, then `/proc/cmdline`, the last occurrence of an option
/// winning: the boot loader's command line overrides what is baked in.
pub const BAKED_CMDLINE: &str = "etc/cmdline.d/50-liveinit-packer.conf";

#[derive(Debug, Clone, Default)]
pub struct BuilderOptions {
    pub modules: ModuleChoice,
    /// A `/lib/firmware` tree to take the packed modules' firmware from.
    pub firmware_dir: Option<PathBuf>,
    /// Kernel arguments the image carries as its defaults.
    pub cmdline: Option<String>,
    pub includes: Vec<Include>,
    /// A `/lib/firmware`-like tree with `intel-ucode/` and/or `amd-ucode/`.
    pub microcode: Option<PathBuf>,
    /// The machine the init is built for; the modules must match it.
    pub target: Target,
    /// `--https`: the init built with TLS, and the CA bundle it trusts.
    pub https: Option<Https>,
}

/// `--include SRC:DEST`: a host file or directory tree placed at DEST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub source: PathBuf,
    /// Archive path: DEST without its leading `/`.
    pub dest: String,
}

impl Include {
    pub fn parse(spec: &str) -> Result<Include> {
        let Some((source, dest)) = spec.rsplit_once(':') else {
            bail!("--include {spec}: expected SRC:DEST (DEST an absolute path in the image)");
        };
        let Some(rel) = dest.strip_prefix('/') else {
            bail!("--include {spec}: DEST '{dest}' must be an absolute path in the image");
        };
        let rel = rel.trim_end_matches('/');
        if rel.is_empty()
            || rel
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            bail!("--include {spec}: DEST '{dest}' must name a file or directory below /");
        }
        if rel == "init" {
            bail!("--include {spec}: /init is liveinit itself and cannot be replaced");
        }
        let source = Path::new(source);
        if !source.exists() {
            bail!("--include {spec}: {} does not exist", source.display());
        }
        Ok(Include {
            source: source.to_path_buf(),
            dest: rel.to_owned(),
        })
    }
}

/// Checks `--cmdline`'s text: something to write, as one conf file the
/// init's command-line parser reads the same way as `/proc/cmdline`.
pub fn check_cmdline(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        bail!("--cmdline: empty");
    }
    if text.contains('\0') {
        bail!("--cmdline: contains a NUL byte");
    }
    if text.chars().filter(|&c| c == '"').count() % 2 != 0 {
        bail!("--cmdline {text}: unbalanced double quote");
    }
    Ok(())
}

/// The conf file `--cmdline` writes: the text on one line.
pub fn cmdline_conf(text: &str) -> String {
    let one_line: Vec<&str> = text.split_whitespace().collect();
    format!("{}\n", one_line.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn include_specs_need_an_existing_source_and_an_absolute_dest() {
        let tmp = TempDir::new("include");
        let src = tmp.path().join("hook");
        std::fs::write(&src, b"x").unwrap();
        let ok = Include::parse(&format!("{}:/usr/lib/hook/", src.display())).unwrap();
        assert_eq!(ok.dest, "usr/lib/hook");
        assert_eq!(ok.source, src);
        let err = |spec: String| Include::parse(&spec).unwrap_err().to_string();
        assert!(err("nocolon".into()).contains("expected SRC:DEST"));
        assert!(err(format!("{}:etc/x", src.display())).contains("absolute"));
        assert!(err(format!("{}:/", src.display())).contains("below /"));
        assert!(err(format!("{}:/a/../b", src.display())).contains("below /"));
        assert!(err(format!("{}:/init", src.display())).contains("cannot be replaced"));
        let missing = tmp.path().join("missing");
        assert!(err(format!("{}:/x", missing.display())).contains("does not exist"));
    }

    #[test]
    fn cmdline_text_is_checked_and_written_on_one_line() {
        check_cmdline("root=live:CDLABEL=X rd.live.overlay.size=64").unwrap();
        check_cmdline("root=\"live:CDLABEL=My Disk\"").unwrap();
        assert!(check_cmdline("  ")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(check_cmdline("a\0b")
            .unwrap_err()
            .to_string()
            .contains("NUL"));
        assert!(check_cmdline("root=\"live:x")
            .unwrap_err()
            .to_string()
            .contains("quote"));
        assert_eq!(cmdline_conf("a=1\n  b=2 "), "a=1 b=2\n");
    }
}
