//! ELF files built byte by byte for tests.

/// A relocatable ELF64 with just a section-name table and a .modinfo.
pub(crate) fn fake_module(modinfo: &[u8]) -> Vec<u8> {
    let names = b"\0.shstrtab\0.modinfo\0";
    let mut b = vec![0u8; 64];
    b[..6].copy_from_slice(b"\x7fELF\x02\x01");
    let names_at = 64u64;
    let info_at = names_at + names.len() as u64;
    let shoff = info_at + modinfo.len() as u64;
    b.extend_from_slice(names);
    b.extend_from_slice(modinfo);
    b[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
    b[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
    b[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
    b[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
    for (name, at, size) in [
        (0u32, 0, 0),
        (1, names_at, names.len() as u64),
        (11, info_at, modinfo.len() as u64),
    ] {
        let mut sh = [0u8; 64];
        sh[..4].copy_from_slice(&name.to_le_bytes());
        sh[24..32].copy_from_slice(&at.to_le_bytes());
        sh[32..40].copy_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&sh);
    }
    b
}
