//! `cargo xtask man`: the manual pages, rendered as roff from the same
//! [`Manual`] data `--help` prints (`liveinit(8)` from the init,
//! `liveinit-initramfs(1)` from the packer), so the two cannot drift.
//! `docs/man/` holds the rendered pages; `cargo xtask test` checks they are
//! current and that groff reads them without a warning.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use liveinit::manual::{Manual, LIVEINIT};

use crate::build_init::workspace_root;
use crate::initramfs_cli;

const HELP: &str = "\
usage: cargo xtask man [--output DIR | --check]

Renders liveinit(8) and liveinit-initramfs(1) from the text their --help
prints, into DIR/man8 and DIR/man1 (default: docs/man; --output
/usr/share/man installs them).

  --check   compare docs/man with a fresh rendering and lint the pages with
            groff -ww; fails if they differ or groff warns
";

/// Every page, with its path below a man directory.
fn pages() -> Vec<(PathBuf, String)> {
    [&LIVEINIT, &initramfs_cli::MANUAL]
        .into_iter()
        .map(|m| {
            let path = PathBuf::from(format!("man{}", m.section))
                .join(format!("{}.{}", m.name, m.section));
            (path, render(m))
        })
        .collect()
}

fn committed_dir() -> PathBuf {
    workspace_root().join("docs").join("man")
}

pub fn cmd(args: &[String]) -> Result<()> {
    match args {
        [] => write(&committed_dir()),
        [flag, dir] if flag == "--output" => write(Path::new(dir)),
        [flag] if flag == "--check" => check(),
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{HELP}");
            Ok(())
        }
        _ => bail!("unexpected arguments {args:?}\n\n{HELP}"),
    }
}

fn write(dir: &Path) -> Result<()> {
    for (rel, text) in pages() {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("man: {}", path.display());
    }
    Ok(())
}

/// The committed pages are the rendering of today's text, and groff reads
/// them without a warning.
pub fn check() -> Result<()> {
    for (rel, text) in pages() {
        let path = committed_dir().join(&rel);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != text {
            bail!(
                "{} is not the rendering of the current --help text; run `cargo xtask man`",
                path.display()
            );
        }
        lint(&path)?;
        println!("man: {} current, groff -ww clean", path.display());
    }
    Ok(())
}

/// `groff -man -ww -z`: every warning enabled, output discarded.
fn lint(page: &Path) -> Result<()> {
    let out = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(page)
        .output()
        .context("running groff (Debian package groff-base)")?;
    let warnings = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !warnings.trim().is_empty() {
        bail!("groff -ww {}:\n{warnings}", page.display());
    }
    Ok(())
}

/// The page in roff with the man macros.
pub fn render(m: &Manual) -> String {
    let mut out = format!(
        ".TH {} {} \"\" \"liveinit {}\" \"{}\"\n",
        m.name.to_uppercase(),
        m.section,
        env!("CARGO_PKG_VERSION"),
        if m.section == 8 {
            "System Administration"
        } else {
            "User Commands"
        }
    );
    out.push_str(&format!(
        ".SH NAME\n{} \\- {}\n.SH SYNOPSIS\n.nf\n",
        escape(m.name),
        escape(m.summary)
    ));
    for line in m.synopsis {
        out.push_str(&escape(line));
        out.push('\n');
    }
    out.push_str(".fi\n");
    for section in m.sections {
        out.push_str(&format!(".SH {}\n", escape(section.title)));
        push_paragraphs(&mut out, section.text, ".PP");
        for item in section.items {
            out.push_str(&format!(".TP\n.B {}\n", escape(item.term)));
            push_paragraphs(&mut out, item.text, ".IP");
        }
    }
    out
}

/// Text lines as roff fills them; a blank line starts a new paragraph.
fn push_paragraphs(out: &mut String, text: &str, paragraph: &str) {
    for (i, para) in text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push_str(paragraph);
            out.push('\n');
        }
        for line in para.lines() {
            out.push_str(&escape(line.trim()));
            out.push('\n');
        }
    }
}

/// Roff's special characters: backslashes, minus signs (a bare `-` is a
/// hyphen), and a `.` or `'` starting a line (a request).
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveinit::manual::{Item, Section};

    const PAGE: Manual = Manual {
        name: "demo-tool",
        section: 1,
        summary: "does things",
        synopsis: &["demo-tool [--flag]"],
        sections: &[Section {
            title: "OPTIONS",
            text: "First paragraph\nwraps.\n\n.Second starts with a dot.",
            items: &[Item {
                term: "--flag",
                text: "A back\\slash.",
            }],
        }],
    };

    #[test]
    fn renders_man_macros_with_escapes() {
        let roff = render(&PAGE);
        assert!(
            roff.starts_with(".TH DEMO-TOOL 1 \"\" \"liveinit "),
            "{roff}"
        );
        assert!(roff.contains(".SH NAME\ndemo\\-tool \\- does things\n"));
        assert!(roff.contains(".SH SYNOPSIS\n.nf\ndemo\\-tool [\\-\\-flag]\n.fi\n"));
        assert!(roff.contains(".SH OPTIONS\nFirst paragraph\nwraps.\n.PP\n\\&.Second"));
        assert!(roff.contains(".TP\n.B \\-\\-flag\nA back\\eslash.\n"));
    }

    #[test]
    fn both_pages_are_rendered_from_the_help_text() {
        let pages = pages();
        let names: Vec<String> = pages.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(names, ["man8/liveinit.8", "man1/liveinit-initramfs.1"]);
        assert!(pages[1].1.contains(".B \\-\\-firmware\\-dir DIR"));
    }

    #[test]
    fn unexpected_arguments_are_errors() {
        let err = cmd(&["--output".into()]).unwrap_err().to_string();
        assert!(err.contains("unexpected arguments"), "{err}");
    }
}
