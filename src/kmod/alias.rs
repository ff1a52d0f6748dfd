//! The alias table: `alias <pattern> <module>` lines (the kernel's
//! `modules.alias` format), asked which modules serve a `MODALIAS`.

use alloc::string::String;
use alloc::vec::Vec;

use super::fnmatch::fnmatch;
use super::name::module_name;

/// `alias <pattern> <module>` lines, as in the kernel's `modules.alias`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasTable {
    entries: Vec<Alias>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Alias {
    pattern: String,
    module: String,
    /// Length of the pattern's literal start (before any `*?[\\`): most
    /// aliases are ruled out by comparing it, without matching.
    literal: usize,
}

impl AliasTable {
    /// Reads `alias` lines; anything else (comments, blank lines, other
    /// keywords) is skipped. Module names are normalised.
    pub fn parse(text: &str) -> AliasTable {
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                if words.next() != Some("alias") {
                    return None;
                }
                let pattern = words.next()?;
                let module = words.next()?;
                let literal = pattern.find(['*', '?', '[', '\\']).unwrap_or(pattern.len());
                Some(Alias {
                    pattern: String::from(pattern),
                    module: module_name(module),
                    literal,
                })
            })
            .collect();
        AliasTable { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every module with an alias matching `modalias`, each once, in table
    /// order (modprobe loads them all).
    pub fn modules_for(&self, modalias: &str) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for alias in &self.entries {
            let start = alias.pattern.as_bytes().get(..alias.literal);
            if start.is_some_and(|start| modalias.as_bytes().starts_with(start))
                && !found.contains(&alias.module.as_str())
                && fnmatch(&alias.pattern, modalias)
            {
                found.push(&alias.module);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALIASES: &str = "\
# comment
alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v*d*sv*sd*bc01sc01i* ata_generic
alias scsi:t-0x05* sr_mod
alias scsi:t-0x04* sr_mod
alias scsi:t-0x05* sr-mod
softdep x pre: y
alias fs-iso9660 isofs
alias broken
";

    #[test]
    fn alias_table_answers_every_matching_module_once() {
        let t = AliasTable::parse(ALIASES);
        assert_eq!(t.len(), 6);
        assert_eq!(
            t.modules_for("pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"),
            ["ata_piix", "ata_generic"]
        );
        assert_eq!(t.modules_for("scsi:t-0x05"), ["sr_mod"]);
        assert_eq!(t.modules_for("fs-iso9660"), ["isofs"]);
        assert!(t.modules_for("fs-iso966").is_empty());
        assert!(t.modules_for("fs-iso96601").is_empty());
        let exact = AliasTable::parse("alias [ab]x m1\nalias \\?y m2\n");
        assert_eq!(exact.modules_for("bx"), ["m1"]);
        assert_eq!(exact.modules_for("?y"), ["m2"]);
        assert!(t.modules_for("acpi:PNP0A03:").is_empty());
        assert!(AliasTable::parse("").is_empty());
    }
}
