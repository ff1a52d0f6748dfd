//! SHA-256 (FIPS 180-4), to verify a downloaded image while it streams (no
//! second pass over RAM).

use sha2::Digest;

/// A running SHA-256: the `sha2` crate's, built at opt-level 3 (Cargo.toml)
/// while the rest of the init is optimised for size, since it runs over
/// every byte of a multi-GiB image. (A hand-written one at opt-level "z"
/// hashed at a third of the network's speed in the download benchmark.)
#[derive(Debug, Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }

    /// The digest so far as 64 lower-case hex digits (the hash goes on).
    pub fn hex(&self) -> alloc::string::String {
        hex(&self.clone().finish())
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> alloc::string::String {
    use core::fmt::Write;
    let mut s = alloc::string::String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(data: &[u8]) -> alloc::string::String {
        let mut h = Sha256::new();
        h.update(data);
        hex(&h.finish())
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn pieces_of_any_size_give_the_same_digest() {
        let data: alloc::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = digest(&data);
        for step in [1, 3, 63, 64, 65, 500] {
            let mut h = Sha256::new();
            for part in data.chunks(step) {
                h.update(part);
            }
            assert_eq!(hex(&h.finish()), whole, "{step}");
        }
        let mut h = Sha256::new();
        h.update(&data);
        assert_eq!(h.hex(), whole);
    }
}
