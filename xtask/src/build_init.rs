//! Builds the init as a static musl binary and proves it is static: a PID 1
//! in an initramfs has no dynamic loader and no libc to find.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::elf::{self, Elf};

pub const TARGET: &str = "x86_64-unknown-linux-musl";

/// The machines the init is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    #[default]
    X86_64,
    Aarch64,
}

impl Target {
    pub fn triple(self) -> &'static str {
        match self {
            Target::X86_64 => TARGET,
            Target::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The ELF `e_machine` its binaries (and kernel modules) carry.
    pub fn elf_machine(self) -> u16 {
        match self {
            Target::X86_64 => elf::EM_X86_64,
            Target::Aarch64 => elf::EM_AARCH64,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Target::X86_64 => "an x86-64",
            Target::Aarch64 => "an arm64",
        }
    }

    /// What cross builds need: no host C toolchain targets arm64, so link
    /// with the toolchain's own lld and musl's crt objects shipped with the
    /// Rust target. Returns the compiler flags the target needs.
    fn configure(self, cargo: &mut Command) -> Vec<String> {
        if self == Target::Aarch64 {
            cargo.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld");
            return vec!["-C".into(), "link-self-contained=yes".into()];
        }
        Vec::new()
    }
}

impl std::str::FromStr for Target {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Target> {
        Ok(match s {
            "x86_64-unknown-linux-musl" | "x86_64" | "amd64" => Target::X86_64,
            "aarch64-unknown-linux-musl" | "aarch64" | "arm64" => Target::Aarch64,
            other => bail!(
                "unknown target '{other}' (expected x86_64-unknown-linux-musl or \
                 aarch64-unknown-linux-musl)"
            ),
        })
    }
}

/// The workspace root: xtask lives in its `xtask/` folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `cargo build --release` of the `liveinit` binary for musl, stripped as
/// it is shipped; returns its path.
pub fn build() -> Result<PathBuf> {
    build_for(Target::X86_64)
}

/// [`build`] for `target`.
pub fn build_for(target: Target) -> Result<PathBuf> {
    build_release(target, |_| {})
}

/// [`build_for`] with the `https` feature (rustls + ring), in a target
/// directory of its own: both inits stay built side by side, and switching
/// between them rebuilds nothing.
pub fn build_https(target: Target) -> Result<PathBuf> {
    let compiler = crate::https::c_compiler_env(target)?;
    build_release(target, |cargo| {
        cargo
            .args(["--features", crate::https::FEATURE])
            .arg("--target-dir")
            .arg(workspace_root().join("target").join("https"))
            .envs(compiler);
    })
}

/// The same build with its symbol table kept, for `cargo xtask size`. It
/// has a target directory of its own, so it neither replaces the shipped
/// binary nor makes the next `build` start over.
pub fn build_with_symbols() -> Result<PathBuf> {
    build_release(Target::X86_64, |cargo| {
        cargo
            .env("CARGO_PROFILE_RELEASE_STRIP", "false")
            .arg("--target-dir")
            .arg(workspace_root().join("target").join("init-symbols"));
    })
}

/// [`build_with_symbols`] of the HTTPS init.
pub fn build_https_with_symbols() -> Result<PathBuf> {
    let compiler = crate::https::c_compiler_env(Target::X86_64)?;
    build_release(Target::X86_64, |cargo| {
        cargo
            .args(["--features", crate::https::FEATURE])
            .env("CARGO_PROFILE_RELEASE_STRIP", "false")
            .arg("--target-dir")
            .arg(workspace_root().join("target").join("https-symbols"))
            .envs(compiler);
    })
}

fn build_release(target: Target, configure: impl FnOnce(&mut Command)) -> Result<PathBuf> {
    ensure_target(target.triple())?;
    // `cargo run` tells us which cargo it is; use the same toolchain.
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", "liveinit", "--bin", "liveinit"])
        .args([
            "--target",
            target.triple(),
            "--message-format=json-render-diagnostics",
        ])
        .stderr(std::process::Stdio::inherit());
    build_in(&mut cargo, &workspace_root(), target);
    configure(&mut cargo);
    let output = cargo.output().context("running cargo build for the init")?;
    if !output.status.success() {
        bail!("cargo build of the init failed ({})", output.status);
    }
    // Cargo reports where it put the binary; this honours any target-dir
    // configuration instead of guessing `target/`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exe = stdout
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .filter_map(|line| json_string_field(line, "executable"))
        .find(|path| Path::new(path).file_name() == Some("liveinit".as_ref()))
        .context("cargo build did not report the liveinit executable")?;
    let exe = PathBuf::from(exe);
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    check_static(&bytes, target)
        .with_context(|| format!("{} is not usable as /init", exe.display()))?;
    Ok(exe)
}

/// Sets up `cargo` to build the init of the workspace at `root` for
/// `target`: the target's own flags, and every path of this builder mapped
/// to a fixed name, so that `/init` holds no host path (panic locations name
/// source files) and two builders in different directories, with other
/// cargo homes or toolchain directories, get the same bytes. The flags go in
/// `CARGO_ENCODED_RUSTFLAGS` (paths may hold spaces), which takes the place
/// of any `RUSTFLAGS`: the shipped init does not depend on the builder's.
pub fn build_in(cargo: &mut Command, root: &Path, target: Target) {
    let mut flags = target.configure(cargo);
    for (from, to) in builder_paths(root) {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    }
    cargo
        .current_dir(root)
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
}

/// This builder's paths that can end up in a binary, and the fixed names
/// they are given: the workspace, cargo's home (the crates' sources) and
/// the toolchain's sysroot (the standard library's sources, when present).
pub fn builder_paths(root: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut paths = vec![(root.to_path_buf(), "/liveinit")];
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    if let Some(home) = cargo_home {
        // As given (what cargo passes on) and as resolved, if they differ.
        if let Ok(real) = std::fs::canonicalize(&home) {
            if real != home {
                paths.push((real, "/cargo"));
            }
        }
        paths.push((home, "/cargo"));
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() {
        let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !sysroot.is_empty() {
            paths.push((PathBuf::from(sysroot), "/rustc-sysroot"));
        }
    }
    paths
}

fn ensure_target(triple: &str) -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    // Without rustup (a distro toolchain) just try the build.
    let Ok(installed) = installed else {
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|t| t.trim() == triple)
    {
        return Ok(());
    }
    eprintln!("xtask: installing the {triple} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", triple])
        .status()
        .context("running rustup target add")?;
    if !status.success() {
        bail!("rustup target add {triple} failed ({status})");
    }
    Ok(())
}

/// The unescaped value of `"key":"…"` in one line of cargo's JSON output.
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other), // \" \\ \/
            },
            c => value.push(c),
        }
    }
    None
}

/// Static means: no program interpreter, and no shared libraries needed.
/// A static-pie still has a PT_DYNAMIC (for its own relocations), so that
/// segment alone is fine as long as it lists no DT_NEEDED.
/// `target` is the machine it must be for.
pub fn check_static(bytes: &[u8], target: Target) -> Result<()> {
    let elf = Elf::parse(bytes)?;
    if elf.machine() != target.elf_machine() {
        bail!("not {} binary", target.describe());
    }
    for segment in elf.segments()? {
        match segment.kind {
            elf::PT_INTERP => {
                bail!("it has a program interpreter (PT_INTERP): dynamically linked")
            }
            elf::PT_DYNAMIC if elf.dynamic_tags(&segment)?.contains(&elf::DT_NEEDED) => {
                bail!("it needs shared libraries (DT_NEEDED)")
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{DT_NEEDED, DT_NULL, PT_DYNAMIC, PT_INTERP};
    use crate::testutil::ElfBuilder;

    /// An x86-64 executable with segments of the given types, each
    /// covering a dynamic section of `dynamic` (tag, value) pairs.
    fn elf(segment_kinds: &[u32], dynamic: &[(u64, u64)]) -> Vec<u8> {
        let dynamic = ElfBuilder::dynamic(dynamic);
        let mut builder = ElfBuilder::new();
        for &kind in segment_kinds {
            builder = builder.segment(kind, &dynamic);
        }
        builder.build()
    }

    #[test]
    fn static_and_static_pie_pass() {
        check_static(&elf(&[1, 1], &[]), Target::X86_64).unwrap();
        let relocs_only = [(7, 0x100), (8, 0x18), (DT_NULL, 0), (DT_NEEDED, 1)];
        check_static(&elf(&[1, PT_DYNAMIC], &relocs_only), Target::X86_64).unwrap();
    }

    #[test]
    fn other_machines_fail() {
        let arm64 = ElfBuilder::new().machine(183).build();
        let err = check_static(&arm64, Target::X86_64).unwrap_err();
        assert!(err.to_string().contains("x86-64"), "{err}");
    }

    #[test]
    fn arm64_binaries_pass_for_arm64_only() {
        let arm64 = ElfBuilder::new().machine(elf::EM_AARCH64).build();
        check_static(&arm64, Target::Aarch64).unwrap();
        let err = check_static(&elf(&[1], &[]), Target::Aarch64).unwrap_err();
        assert!(err.to_string().contains("arm64"), "{err}");
        assert_eq!("arm64".parse::<Target>().unwrap(), Target::Aarch64);
        assert_eq!(
            "x86_64-unknown-linux-musl".parse::<Target>().unwrap(),
            Target::X86_64
        );
        let err = "riscv64".parse::<Target>().unwrap_err().to_string();
        assert!(err.contains("unknown target 'riscv64'"), "{err}");
    }

    #[test]
    fn dynamic_binaries_fail() {
        assert!(check_static(&elf(&[PT_INTERP], &[]), Target::X86_64).is_err());
        let needs_libc = [(7, 0x100), (DT_NEEDED, 1), (DT_NULL, 0)];
        assert!(check_static(&elf(&[PT_DYNAMIC], &needs_libc), Target::X86_64).is_err());
        assert!(check_static(b"#!/bin/sh\n", Target::X86_64).is_err());
        assert!(check_static(&elf(&[1], &[])[..60], Target::X86_64).is_err());
    }

    #[test]
    fn reads_the_executable_from_cargo_json() {
        let line =
            r#"{"reason":"compiler-artifact","executable":"/w/t/a \"b\"\\liveinit","fresh":true}"#;
        let exe = json_string_field(line, "executable");
        assert_eq!(exe.as_deref(), Some(r#"/w/t/a "b"\liveinit"#));
        assert_eq!(
            json_string_field(r#"{"executable":null}"#, "executable"),
            None
        );
    }
}
