//! ELF64 little-endian files built field by field for tests. The layout is
//! written out here from the format, independently of the reader in
//! `elf.rs`, so the two check each other.

/// Builds an x86-64 executable with the given segments, sections and
/// symbols. Layout: header, program headers, segment contents, section
/// contents, section headers last (so cutting the file anywhere breaks it).
pub(crate) struct ElfBuilder {
    machine: u16,
    segments: Vec<(u32, Vec<u8>)>,
    sections: Vec<FakeSection>,
}

/// A symbol for [`ElfBuilder::symbols`].
pub(crate) struct FakeSymbol<'a> {
    pub name: &'a str,
    /// `STT_*`
    pub kind: u8,
    /// The name of the section it is in.
    pub section: &'a str,
    pub address: u64,
    pub size: u64,
}

struct FakeSection {
    name: String,
    kind: u32,
    data: Vec<u8>,
    link: u32,
    entry_size: u64,
}

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const SHDR_SIZE: usize = 64;
const SYM_SIZE: usize = 24;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const STB_GLOBAL: u8 = 1;

impl ElfBuilder {
    pub(crate) fn new() -> Self {
        Self {
            machine: 62, // EM_X86_64
            segments: Vec::new(),
            sections: Vec::new(),
        }
    }

    pub(crate) fn machine(mut self, machine: u16) -> Self {
        self.machine = machine;
        self
    }

    /// A program header of type `kind` covering `data`.
    pub(crate) fn segment(mut self, kind: u32, data: &[u8]) -> Self {
        self.segments.push((kind, data.to_vec()));
        self
    }

    pub(crate) fn section(mut self, name: &str, kind: u32, data: &[u8]) -> Self {
        self.sections.push(FakeSection {
            name: name.to_owned(),
            kind,
            data: data.to_vec(),
            link: 0,
            entry_size: 0,
        });
        self
    }

    /// A `.symtab` (after its `.strtab`) with the null symbol, then
    /// `symbols`, whose sections must have been added already.
    pub(crate) fn symbols(mut self, symbols: &[FakeSymbol]) -> Self {
        let mut strings = vec![0u8];
        let mut table = vec![0u8; SYM_SIZE];
        for symbol in symbols {
            let name_at = u32::try_from(strings.len()).unwrap();
            strings.extend_from_slice(symbol.name.as_bytes());
            strings.push(0);
            // Section indices count the null section first.
            let section = 1 + self
                .sections
                .iter()
                .position(|s| s.name == symbol.section)
                .unwrap_or_else(|| panic!("add section {} first", symbol.section));
            table.extend_from_slice(&name_at.to_le_bytes());
            table.push(STB_GLOBAL << 4 | symbol.kind);
            table.push(0); // st_other
            table.extend_from_slice(&u16::try_from(section).unwrap().to_le_bytes());
            table.extend_from_slice(&symbol.address.to_le_bytes());
            table.extend_from_slice(&symbol.size.to_le_bytes());
        }
        self = self.section(".strtab", SHT_STRTAB, &strings);
        let strtab_index = u32::try_from(self.sections.len()).unwrap();
        self = self.section(".symtab", SHT_SYMTAB, &table);
        let symtab = self.sections.last_mut().unwrap();
        symtab.link = strtab_index;
        symtab.entry_size = u64::try_from(SYM_SIZE).unwrap();
        self
    }

    /// The contents of a `PT_DYNAMIC` segment: `(tag, value)` pairs.
    pub(crate) fn dynamic(entries: &[(u64, u64)]) -> Vec<u8> {
        entries
            .iter()
            .flat_map(|(tag, value)| [tag.to_le_bytes(), value.to_le_bytes()])
            .flatten()
            .collect()
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut section_names = vec![0u8];
        let mut name_of = |name: &str| {
            let at = u32::try_from(section_names.len()).unwrap();
            section_names.extend_from_slice(name.as_bytes());
            section_names.push(0);
            at
        };
        let names: Vec<u32> = self.sections.iter().map(|s| name_of(&s.name)).collect();
        let shstrtab_name = name_of(".shstrtab");

        let phoff = EHDR_SIZE;
        let mut body = Vec::new();
        let mut next = phoff + PHDR_SIZE * self.segments.len();
        let mut place = |data: &[u8]| {
            let at = next;
            body.extend_from_slice(data);
            next += data.len();
            at
        };
        let segment_at: Vec<usize> = self.segments.iter().map(|(_, d)| place(d)).collect();
        let section_at: Vec<usize> = self.sections.iter().map(|s| place(&s.data)).collect();
        let shstrtab_at = place(&section_names);
        let shoff = next;
        let shnum = self.sections.len() + 2; // null, ours, .shstrtab

        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF");
        out.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, SysV ABI
        out.extend_from_slice(&[0; 8]); // ABI version and padding
        push16(&mut out, 2); // e_type: ET_EXEC
        push16(&mut out, self.machine);
        push32(&mut out, 1); // e_version
        push64(&mut out, 0); // e_entry
        push64(&mut out, as_u64(phoff));
        push64(&mut out, as_u64(shoff));
        push32(&mut out, 0); // e_flags
        push16(&mut out, as_u16(EHDR_SIZE));
        push16(&mut out, as_u16(PHDR_SIZE));
        push16(&mut out, as_u16(self.segments.len()));
        push16(&mut out, as_u16(SHDR_SIZE));
        push16(&mut out, as_u16(shnum));
        push16(&mut out, as_u16(shnum - 1)); // e_shstrndx
        assert_eq!(out.len(), EHDR_SIZE);

        for ((kind, data), at) in self.segments.iter().zip(segment_at) {
            push32(&mut out, *kind);
            push32(&mut out, 4); // p_flags: readable
            push64(&mut out, as_u64(at));
            push64(&mut out, 0); // p_vaddr
            push64(&mut out, 0); // p_paddr
            push64(&mut out, as_u64(data.len())); // p_filesz
            push64(&mut out, as_u64(data.len())); // p_memsz
            push64(&mut out, 8); // p_align
        }
        out.extend_from_slice(&body);

        let mut section_header = |name: u32, kind: u32, at: usize, len: usize, link, entsize| {
            push32(&mut out, name);
            push32(&mut out, kind);
            push64(&mut out, 0); // sh_flags
            push64(&mut out, 0); // sh_addr
            push64(&mut out, as_u64(at));
            push64(&mut out, as_u64(len));
            push32(&mut out, link);
            push32(&mut out, 0); // sh_info
            push64(&mut out, 1); // sh_addralign
            push64(&mut out, entsize);
        };
        section_header(0, 0, 0, 0, 0, 0);
        for ((section, name), at) in self.sections.iter().zip(names).zip(section_at) {
            let len = section.data.len();
            section_header(
                name,
                section.kind,
                at,
                len,
                section.link,
                section.entry_size,
            );
        }
        let len = section_names.len();
        section_header(shstrtab_name, SHT_STRTAB, shstrtab_at, len, 0, 0);
        out
    }
}

/// A kernel module as far as xtask cares: an ELF with a `.modinfo`.
pub(crate) fn fake_module(modinfo: &[u8]) -> Vec<u8> {
    const SHT_PROGBITS: u32 = 1;
    ElfBuilder::new()
        .section(".modinfo", SHT_PROGBITS, modinfo)
        .build()
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap()
}

fn as_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap()
}

fn push16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
