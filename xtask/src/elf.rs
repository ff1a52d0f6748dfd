//! A small reader for the little-endian ELF64 files xtask looks into: the
//! init and busybox (is it static?), kernel modules (their `.modinfo`) and
//! the unstripped init (its symbol sizes).
//!
//! Input may be anything (a truncated download, a shell script passed as
//! busybox), so every read is bounds-checked, every offset is computed with
//! checked arithmetic and every table is checked to lie inside the file
//! before it is walked: malformed input gives an error, never a panic.

use anyhow::{bail, Context, Result};

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const DT_NULL: u64 = 0;
pub const DT_NEEDED: u64 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_NOBITS: u32 = 8;
pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;

/// Sizes of the ELF64 structures; a file may declare larger entries (the
/// format allows growth), never smaller ones.
const PHDR_SIZE: u64 = 56;
const SHDR_SIZE: u64 = 64;
const SYM_SIZE: u64 = 24;
const DYN_SIZE: u64 = 16;
/// `e_shstrndx` when the real index lives in section 0 (more than 0xff00
/// sections); no file xtask reads needs that.
const SHN_XINDEX: u16 = 0xffff;

/// A parsed ELF header over the file's bytes.
#[derive(Debug)]
pub struct Elf<'a> {
    bytes: &'a [u8],
    machine: u16,
    program_headers: Table,
    section_headers: Table,
    section_names_index: u16,
}

/// Where an array of fixed-size entries sits in the file.
#[derive(Debug, Clone, Copy)]
struct Table {
    offset: u64,
    entry_size: u64,
    count: u64,
}

/// A program header (segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub kind: u32,
    pub offset: u64,
    pub file_size: u64,
}

/// A section header with its name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section<'a> {
    pub name: &'a [u8],
    pub kind: u32,
    pub offset: u64,
    pub size: u64,
    /// For a symbol table: the index of its string table.
    pub link: u32,
    pub entry_size: u64,
}

/// A symbol table entry with its name resolved (still mangled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: &'a [u8],
    /// `STT_*`: function, object, …
    pub kind: u8,
    /// Index of the section it is in; 0 and 0xff00 and above are special
    /// (undefined, absolute, common…).
    pub section: u16,
    pub address: u64,
    pub size: u64,
}

impl<'a> Elf<'a> {
    /// Reads the ELF header; the tables it points at are checked when read.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.get(..4) != Some(b"\x7fELF") {
            bail!("not an ELF file");
        }
        // EI_CLASS 2 = 64-bit, EI_DATA 1 = little-endian.
        if bytes.get(4..6) != Some(&[2, 1]) {
            bail!("not a little-endian 64-bit ELF file");
        }
        let section_names_index = u16_at(bytes, 0x3e)?;
        if section_names_index == SHN_XINDEX {
            bail!("ELF extended section numbering is not supported");
        }
        Ok(Self {
            bytes,
            machine: u16_at(bytes, 0x12)?,
            program_headers: Table {
                offset: u64_at(bytes, 0x20)?,
                entry_size: u16_at(bytes, 0x36)?.into(),
                count: u16_at(bytes, 0x38)?.into(),
            },
            section_headers: Table {
                offset: u64_at(bytes, 0x28)?,
                entry_size: u16_at(bytes, 0x3a)?.into(),
                count: u16_at(bytes, 0x3c)?.into(),
            },
            section_names_index,
        })
    }

    /// `e_machine`, e.g. [`EM_X86_64`].
    pub fn machine(&self) -> u16 {
        self.machine
    }

    pub fn segments(&self) -> Result<Vec<Segment>> {
        self.entries(self.program_headers, PHDR_SIZE, "program header table")?
            .map(|at| {
                Ok(Segment {
                    kind: u32_at(self.bytes, at)?,
                    offset: u64_at(self.bytes, at + 8)?,
                    file_size: u64_at(self.bytes, at + 32)?,
                })
            })
            .collect()
    }

    /// The tags of a `PT_DYNAMIC` segment's entries, up to `DT_NULL`.
    pub fn dynamic_tags(&self, dynamic: &Segment) -> Result<Vec<u64>> {
        let table = Table {
            offset: dynamic.offset,
            entry_size: DYN_SIZE,
            count: dynamic.file_size / DYN_SIZE,
        };
        let mut tags = Vec::new();
        for at in self.entries(table, DYN_SIZE, "dynamic segment")? {
            match u64_at(self.bytes, at)? {
                DT_NULL => break,
                tag => tags.push(tag),
            }
        }
        Ok(tags)
    }

    pub fn sections(&self) -> Result<Vec<Section<'a>>> {
        let headers = self.entries(self.section_headers, SHDR_SIZE, "section header table")?;
        let mut sections = Vec::new();
        let mut name_offsets = Vec::new();
        for at in headers {
            name_offsets.push(u32_at(self.bytes, at)?);
            sections.push(Section {
                name: &[],
                kind: u32_at(self.bytes, at + 4)?,
                offset: u64_at(self.bytes, at + 24)?,
                size: u64_at(self.bytes, at + 32)?,
                link: u32_at(self.bytes, at + 40)?,
                entry_size: u64_at(self.bytes, at + 56)?,
            });
        }
        if sections.is_empty() {
            return Ok(sections);
        }
        // Index 0 (SHN_UNDEF) means the file has no section names.
        if self.section_names_index == 0 {
            return Ok(sections);
        }
        let names = sections
            .get(usize::from(self.section_names_index))
            .context("the section name table index is out of range")?;
        let names = self.data(names)?;
        for (section, name_at) in sections.iter_mut().zip(name_offsets) {
            section.name = string_at(names, name_at).context("section name")?;
        }
        Ok(sections)
    }

    /// The contents of the first section called `name`, if there is one.
    pub fn section_data(&self, name: &str) -> Result<Option<&'a [u8]>> {
        let sections = self.sections()?;
        match sections.iter().find(|s| s.name == name.as_bytes()) {
            Some(section) => self.data(section).map(Some),
            None => Ok(None),
        }
    }

    /// The entries of the symbol table (`.symtab`); empty when the file is
    /// stripped.
    pub fn symbols(&self) -> Result<Vec<Symbol<'a>>> {
        let sections = self.sections()?;
        let Some(symtab) = sections.iter().find(|s| s.kind == SHT_SYMTAB) else {
            return Ok(Vec::new());
        };
        let strings = usize::try_from(symtab.link)
            .ok()
            .and_then(|i| sections.get(i))
            .context("the symbol table's string table index is out of range")?;
        let strings = self.data(strings)?;
        let table = Table {
            offset: symtab.offset,
            entry_size: symtab.entry_size,
            // An entry size of 0 makes a count that `entries` then rejects.
            count: symtab.size / symtab.entry_size.max(1),
        };
        self.entries(table, SYM_SIZE, "symbol table")?
            .map(|at| {
                Ok(Symbol {
                    name: string_at(strings, u32_at(self.bytes, at)?).context("symbol name")?,
                    kind: u8_at(self.bytes, at + 4)? & 0xf,
                    section: u16_at(self.bytes, at + 6)?,
                    address: u64_at(self.bytes, at + 8)?,
                    size: u64_at(self.bytes, at + 16)?,
                })
            })
            .collect()
    }

    /// A section's bytes in the file (none for `SHT_NOBITS`, e.g. `.bss`).
    fn data(&self, section: &Section) -> Result<&'a [u8]> {
        if section.kind == SHT_NOBITS {
            return Ok(&[]);
        }
        slice(self.bytes, section.offset, section.size)
    }

    /// The file offsets of a table's entries, after checking that the whole
    /// table lies inside the file, so walking it cannot run off the end.
    fn entries(
        &self,
        table: Table,
        min_entry_size: u64,
        what: &str,
    ) -> Result<impl Iterator<Item = u64>> {
        let Table {
            offset,
            entry_size,
            count,
        } = table;
        // An empty table may leave its offset and entry size at zero.
        if count > 0 {
            if entry_size < min_entry_size {
                bail!("ELF {what}: entries of {entry_size} bytes, less than {min_entry_size}");
            }
            count
                .checked_mul(entry_size)
                .and_then(|len| slice(self.bytes, offset, len).ok())
                .with_context(|| {
                    format!("ELF truncated: {what} of {count} entries at {offset:#x}")
                })?;
        }
        // The whole table is in bounds, so no offset below can overflow.
        Ok((0..count).map(move |i| offset + i * entry_size))
    }
}

/// `len` bytes at `offset`, or an error if any of them is outside `bytes`.
fn slice(bytes: &[u8], offset: u64, len: u64) -> Result<&[u8]> {
    usize::try_from(offset)
        .ok()
        .zip(usize::try_from(len).ok())
        .and_then(|(start, len)| bytes.get(start..start.checked_add(len)?))
        .with_context(|| format!("ELF truncated: {len} bytes at {offset:#x}"))
}

fn array_at<const N: usize>(bytes: &[u8], offset: u64) -> Result<[u8; N]> {
    // N is a small literal width (1, 2, 4, 8).
    let field = slice(bytes, offset, N as u64)?;
    Ok(field.try_into()?)
}

fn u8_at(bytes: &[u8], offset: u64) -> Result<u8> {
    array_at(bytes, offset).map(u8::from_le_bytes)
}

fn u16_at(bytes: &[u8], offset: u64) -> Result<u16> {
    array_at(bytes, offset).map(u16::from_le_bytes)
}

fn u32_at(bytes: &[u8], offset: u64) -> Result<u32> {
    array_at(bytes, offset).map(u32::from_le_bytes)
}

fn u64_at(bytes: &[u8], offset: u64) -> Result<u64> {
    array_at(bytes, offset).map(u64::from_le_bytes)
}

/// The NUL-terminated string at `offset` of a string table.
fn string_at(table: &[u8], offset: u32) -> Result<&[u8]> {
    let rest = usize::try_from(offset)
        .ok()
        .and_then(|start| table.get(start..))
        .with_context(|| format!("offset {offset} is outside its string table"))?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .with_context(|| format!("the string at offset {offset} has no terminating NUL"))?;
    Ok(rest.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{fake_module, ElfBuilder, FakeSymbol};

    #[test]
    fn reads_segments_and_dynamic_tags() {
        let dynamic = ElfBuilder::dynamic(&[(7, 0x100), (DT_NEEDED, 1), (DT_NULL, 0), (9, 9)]);
        let bytes = ElfBuilder::new()
            .segment(1, b"")
            .segment(PT_DYNAMIC, &dynamic)
            .build();
        let elf = Elf::parse(&bytes).unwrap();
        assert_eq!(elf.machine(), EM_X86_64);
        let segments = elf.segments().unwrap();
        let kinds: Vec<u32> = segments.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [1, PT_DYNAMIC]);
        // Entries after DT_NULL are not part of the table.
        assert_eq!(elf.dynamic_tags(&segments[1]).unwrap(), [7, DT_NEEDED]);
    }

    #[test]
    fn finds_sections_by_name() {
        let bytes = ElfBuilder::new()
            .section(".text", 1, b"\x90\x90")
            .section(".modinfo", 1, b"license=GPL\0")
            .section(".bss", SHT_NOBITS, b"")
            .build();
        let elf = Elf::parse(&bytes).unwrap();
        let names: Vec<&[u8]> = elf.sections().unwrap().iter().map(|s| s.name).collect();
        let want: [&[u8]; 5] = [b"", b".text", b".modinfo", b".bss", b".shstrtab"];
        assert_eq!(names, want);
        let modinfo = elf.section_data(".modinfo").unwrap();
        assert_eq!(modinfo, Some(&b"license=GPL\0"[..]));
        assert_eq!(elf.section_data(".bss").unwrap(), Some(&b""[..]));
        assert_eq!(elf.section_data(".absent").unwrap(), None);
    }

    #[test]
    fn reads_symbols_with_their_names_sections_addresses_and_sizes() {
        let symbol = |name, kind, section, address, size| FakeSymbol {
            name,
            kind,
            section,
            address,
            size,
        };
        let bytes = ElfBuilder::new()
            .section(".text", 1, &[0; 8])
            .section(".data", 1, &[0; 8])
            .symbols(&[
                symbol("main", STT_FUNC, ".text", 0x1000, 120),
                symbol("TABLE", STT_OBJECT, ".data", 0x2000, 64),
            ])
            .build();
        let symbols = Elf::parse(&bytes).unwrap().symbols().unwrap();
        let got: Vec<(&[u8], u8, u16, u64, u64)> = symbols
            .iter()
            .map(|s| (s.name, s.kind, s.section, s.address, s.size))
            .collect();
        let want: [(&[u8], u8, u16, u64, u64); 3] = [
            (b"", 0, 0, 0, 0), // the null symbol every table starts with
            (b"main", STT_FUNC, 1, 0x1000, 120),
            (b"TABLE", STT_OBJECT, 2, 0x2000, 64),
        ];
        assert_eq!(got, want);
        let stripped = ElfBuilder::new().section(".text", 1, b"").build();
        assert!(Elf::parse(&stripped).unwrap().symbols().unwrap().is_empty());
    }

    /// Runs every reader on `bytes`; only errors are acceptable failures.
    fn read_everything(bytes: &[u8]) -> Result<()> {
        let elf = Elf::parse(bytes)?;
        for segment in elf.segments()? {
            elf.dynamic_tags(&segment)?;
        }
        elf.sections()?;
        elf.section_data(".modinfo")?;
        elf.symbols()?;
        Ok(())
    }

    fn full_file() -> Vec<u8> {
        ElfBuilder::new()
            .segment(PT_DYNAMIC, &ElfBuilder::dynamic(&[(DT_NEEDED, 1)]))
            .section(".modinfo", 1, b"alias=x\0")
            .symbols(&[FakeSymbol {
                name: "f",
                kind: STT_FUNC,
                section: ".modinfo",
                address: 0,
                size: 8,
            }])
            .build()
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = full_file();
        read_everything(&bytes).unwrap();
        // The section headers are at the end, so every cut loses some.
        for len in 0..bytes.len() {
            assert!(read_everything(&bytes[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_everything(b"").is_err());
        assert!(read_everything(b"#!/bin/sh\necho hi\n").is_err());
        assert!(read_everything(b"\x7fELF\x01\x01").is_err(), "32-bit");
        assert!(read_everything(b"\x7fELF\x02\x02").is_err(), "big-endian");
        // Every header field set to all ones: huge offsets, counts and
        // sizes that would overflow unchecked arithmetic.
        let mut huge = vec![0xff; 64];
        huge[..6].copy_from_slice(b"\x7fELF\x02\x01");
        huge[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        assert!(read_everything(&huge).is_err());
        // A deterministic spray of random bytes over a valid file: must
        // never panic, whatever it hits.
        let base = full_file();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut bytes = base.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let [b0, b1, b2, b3, value, ..] = state.to_le_bytes();
                let at = usize::from(u16::from_le_bytes([b0, b1])) % bytes.len();
                // Keep the magic so the spray reaches the tables.
                if at >= 6 {
                    bytes[at] = if b2 & 1 == 0 { value } else { b3 };
                }
            }
            let _ = read_everything(&bytes);
        }
    }

    #[test]
    fn tables_must_fit_and_have_full_size_entries() {
        let mut bytes = full_file();
        // e_shentsize below the size of a section header.
        bytes[0x3a..0x3c].copy_from_slice(&8u16.to_le_bytes());
        let err = Elf::parse(&bytes).unwrap().sections().unwrap_err();
        assert!(err.to_string().contains("less than 64"), "{err}");
        // More sections than the file holds: the error names the table.
        let mut bytes = full_file();
        bytes[0x3c..0x3e].copy_from_slice(&200u16.to_le_bytes());
        let err = Elf::parse(&bytes).unwrap().sections().unwrap_err();
        assert!(
            err.to_string().contains("section header table of 200"),
            "{err}"
        );
        // A section index past the table.
        let mut bytes = fake_module(b"");
        bytes[0x3e..0x40].copy_from_slice(&40u16.to_le_bytes());
        assert!(Elf::parse(&bytes).unwrap().sections().is_err());
        // The same with the extended numbering marker.
        bytes[0x3e..0x40].copy_from_slice(&SHN_XINDEX.to_le_bytes());
        assert!(Elf::parse(&bytes).is_err());
    }

    #[test]
    fn strings_need_their_nul() {
        assert_eq!(string_at(b"\0ab\0", 1).unwrap(), b"ab");
        assert_eq!(string_at(b"\0ab\0", 3).unwrap(), b"");
        assert!(string_at(b"\0ab", 1).is_err());
        assert!(string_at(b"\0ab\0", 5).is_err());
    }

    /// Every reader over every prefix of real ELF files (this test binary,
    /// a fake module) and over single-byte corruptions of them: an error or
    /// an answer, never a panic (slicing, overflow or allocation).
    #[test]
    fn readers_never_panic_on_truncated_or_corrupted_input() {
        fn every_reader(bytes: &[u8]) {
            let Ok(elf) = Elf::parse(bytes) else { return };
            let _ = elf.machine();
            if let Ok(segments) = elf.segments() {
                for segment in &segments {
                    let _ = elf.dynamic_tags(segment);
                }
            }
            let _ = elf.sections();
            let _ = elf.section_data(".modinfo");
            let _ = elf.symbols();
        }
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let head = &this[..this.len().min(1 << 16)];
        let module = fake_module(b"license=GPL\0alias=pci:v*\0");
        for bytes in [&module[..], head, &full_file()[..]] {
            for len in 0..=bytes.len().min(4096) {
                every_reader(&bytes[..len]);
            }
            for len in (4096..bytes.len()).step_by(97) {
                every_reader(&bytes[..len]);
            }
        }
        // The whole binary (its section table is at the end), cut and
        // corrupted around the headers and tables.
        for len in (0..this.len()).step_by(this.len() / 48 + 1) {
            every_reader(&this[..len]);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for bytes in [&module, &full_file()] {
            for _ in 0..4000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut copy = bytes.clone();
                let at = usize::try_from(seed % copy.len() as u64).unwrap();
                copy[at] = seed.to_le_bytes()[4];
                every_reader(&copy);
            }
        }
    }
}
