//! The README's pipeline examples as `cargo xtask test` runs them: the
//! `cargo xtask initramfs …` command under each `<!-- pipeline-example:
//! NAME -->` marker, split into words like a shell would, with the host
//! paths replaced by the test kernel and fixtures. Reading the commands
//! from the README is what keeps the README from showing a command that
//! does not work.

use std::path::Path;

use anyhow::{bail, Context, Result};

const MARKER: &str = "<!-- pipeline-example: ";
const COMMAND: &str = "cargo xtask initramfs";

/// One example: its name and the arguments after `cargo xtask initramfs`.
#[derive(Debug, PartialEq, Eq)]
pub struct Example {
    pub name: String,
    pub args: Vec<String>,
}

/// Every marked example of `readme`, in order.
pub fn examples(readme: &str) -> Result<Vec<Example>> {
    let mut found = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find(MARKER) {
        let after = &rest[at + MARKER.len()..];
        let (name, body) = after
            .split_once("-->")
            .context("README: unterminated pipeline-example marker")?;
        let name = name.trim().to_owned();
        let block = fenced_block(body).with_context(|| format!("README example {name}"))?;
        let command = joined_command(block)
            .with_context(|| format!("README example {name}: no `{COMMAND}` line"))?;
        let words = shell_words(&command).with_context(|| format!("README example {name}"))?;
        found.push(Example { name, args: words });
        rest = body;
    }
    Ok(found)
}

/// The text of the first fenced code block in `text`.
fn fenced_block(text: &str) -> Result<&str> {
    let start = text.find("```").context("no code block after the marker")?;
    let body = &text[start..];
    let body = &body[body.find('\n').context("unterminated code block")? + 1..];
    let end = body.find("```").context("unterminated code block")?;
    Ok(&body[..end])
}

/// The `cargo xtask initramfs` line with its `\`-continued lines, without
/// the command itself.
fn joined_command(block: &str) -> Option<String> {
    let mut lines = block
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(COMMAND));
    let mut command = String::new();
    for line in lines.by_ref() {
        let (text, continued) = match line.trim_end().strip_suffix('\\') {
            Some(text) => (text, true),
            None => (line, false),
        };
        command.push_str(text);
        command.push(' ');
        if !continued {
            break;
        }
    }
    command
        .trim_start()
        .strip_prefix(COMMAND)
        .map(|args| args.trim().to_owned())
}

/// Shell word splitting for the examples' subset: blanks separate words,
/// double and single quotes group (and are removed). Anything else a shell
/// would expand is refused rather than guessed at.
fn shell_words(text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, '`' | ';' | '|' | '&' | '<' | '>' | '*') => {
                bail!("`{text}`: shell syntax '{c}' is not supported in examples")
            }
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        bail!("`{text}`: unterminated quote");
    }
    words.extend(word);
    Ok(words)
}

/// What stands for the builder's host in the examples, and the test's
/// replacement for each.
pub struct Substitutions<'a> {
    pub modules_dir: &'a Path,
    /// For `/lib/firmware` (firmware and microcode).
    pub firmware_dir: &'a Path,
    /// For `./site/`, the builder's own files.
    pub site_dir: &'a Path,
    /// The sysfs of the machine `--host-only` packs for (the QEMU guest).
    pub guest_sysfs: &'a Path,
    pub output: &'a Path,
}

impl Substitutions<'_> {
    /// `args` with the host paths replaced; an unreplaced `$VARIABLE` is
    /// an error (it would reach the packer as a literal path).
    pub fn apply(&self, args: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let replaced = match arg.as_str() {
                "$MODULES" => self.modules_dir.display().to_string(),
                "--host-only" => format!("--host-only={}", self.guest_sysfs.display()),
                "--output" => {
                    args.next();
                    out.push(arg.clone());
                    self.output.display().to_string()
                }
                other => other
                    .replace("/lib/firmware", &self.firmware_dir.display().to_string())
                    .replace("./site/", &format!("{}/", self.site_dir.display())),
            };
            if replaced.contains('$') {
                bail!("example argument {arg}: unknown shell variable");
            }
            out.push(replaced);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = r#"
intro
<!-- pipeline-example: one -->
```sh
MODULES=/lib/modules/$(uname -r)
cargo xtask initramfs --modules-dir "$MODULES" --output a.img \
    --cmdline "root=live:CDLABEL=X rd.live.overlay.size=256" \
    --firmware-dir /lib/firmware --microcode=/lib/firmware
# trailing comment
```
<!-- pipeline-example: two -->
```sh
cargo xtask initramfs --modules-dir '$MODULES' --output b.img --host-only --include ./site/motd:/etc/motd
```
"#;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_marked_commands_and_splits_them_like_a_shell() {
        let found = examples(README).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "one");
        assert_eq!(
            found[0].args,
            strings(&[
                "--modules-dir",
                "$MODULES",
                "--output",
                "a.img",
                "--cmdline",
                "root=live:CDLABEL=X rd.live.overlay.size=256",
                "--firmware-dir",
                "/lib/firmware",
                "--microcode=/lib/firmware",
            ])
        );
        assert_eq!(found[1].args[4], "--host-only");
    }

    #[test]
    fn substitutions_replace_every_host_path() {
        let found = examples(README).unwrap();
        let subst = Substitutions {
            modules_dir: Path::new("/k/6.1"),
            firmware_dir: Path::new("/fx/fw"),
            site_dir: Path::new("/fx/site"),
            guest_sysfs: Path::new("/fx/sys"),
            output: Path::new("/out/x.img"),
        };
        let one = subst.apply(&found[0].args).unwrap();
        assert_eq!(one[1], "/k/6.1");
        assert_eq!(one[3], "/out/x.img");
        assert_eq!(one[7], "/fx/fw");
        assert_eq!(one[8], "--microcode=/fx/fw");
        let two = subst.apply(&found[1].args).unwrap();
        assert_eq!(two[4], "--host-only=/fx/sys");
        assert_eq!(two[6], "/fx/site/motd:/etc/motd");
        let err = subst.apply(&strings(&["$HOME/x"])).unwrap_err();
        assert!(err.to_string().contains("unknown shell variable"), "{err}");
    }

    #[test]
    fn unsupported_shell_syntax_is_an_error() {
        assert!(shell_words("a | b").is_err());
        assert!(shell_words("\"open").is_err());
        assert_eq!(shell_words("a \"\" b").unwrap(), ["a", "", "b"]);
    }

    /// The real README's examples parse into valid packer requests.
    #[test]
    fn the_readme_examples_are_valid_packer_commands() {
        let readme =
            std::fs::read_to_string(crate::build_init::workspace_root().join("README.md")).unwrap();
        let found = examples(&readme).unwrap();
        let names: Vec<&str> = found.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["fedora-iso", "netboot-pair"]);
        let tmp = crate::testutil::TempDir::new("readme-examples");
        let dir = tmp.path();
        let subst = Substitutions {
            modules_dir: dir,
            firmware_dir: dir,
            site_dir: dir,
            guest_sysfs: dir,
            output: &dir.join("out.img"),
        };
        crate::testutil::put_file(&dir.join("motd"), b"hi\n", 0o644);
        for example in found {
            let args = subst.apply(&example.args).unwrap();
            let request = crate::initramfs_cli::parse(&args)
                .unwrap_or_else(|e| panic!("{}: {e:#}", example.name));
            assert!(request.is_some(), "{}", example.name);
        }
    }
}
