//! SHA-512 (FIPS 180-4), streaming: archiso's `checksum=y` compares the
//! image with `airootfs.sha512` as it is read once.

use alloc::string::String;

use sha2::Digest;

/// A SHA-512 computation fed in pieces of any size: the `sha2` crate's,
/// built for speed (Cargo.toml), as it runs over a whole image.
#[derive(Clone, Default)]
pub struct Sha512(sha2::Sha512);

impl Sha512 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest, as lower-case hex (how `sha512sum` writes it).
    pub fn hex(self) -> String {
        crate::fetch::sha256::hex(&self.0.finalize())
    }
}

/// The hash `name` has in a `sha512sum` listing (`<hex>  <name>` lines;
/// a `*` before the name marks binary mode).
pub fn listed_hash<'a>(listing: &'a str, name: &str) -> Option<&'a str> {
    listing.lines().find_map(|line| {
        let (hash, file) = line.trim().split_once(char::is_whitespace)?;
        let file = file
            .trim_start()
            .trim_start_matches('*')
            .trim_start_matches("./");
        (file == name && hash.len() == 128 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(hash)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn hex(data: &[u8]) -> String {
        let mut h = Sha512::default();
        h.update(data);
        h.hex()
    }

    #[test]
    fn fips_vectors() {
        assert_eq!(
            hex(b""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        assert_eq!(
            hex(b"abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(
            hex(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018\
             501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        );
    }

    #[test]
    fn pieces_of_any_size_give_the_same_digest() {
        let data = vec![0x5au8; 1000];
        let whole = hex(&data);
        for step in [1, 7, 127, 128, 129, 999] {
            let mut h = Sha512::default();
            for piece in data.chunks(step) {
                h.update(piece);
            }
            assert_eq!(h.hex(), whole, "{step}");
        }
    }

    #[test]
    fn listings() {
        let hash = "a".repeat(128);
        let listing = alloc::format!("{hash}  airootfs.sfs\n{hash} *other\n");
        assert_eq!(listed_hash(&listing, "airootfs.sfs"), Some(hash.as_str()));
        assert_eq!(listed_hash(&listing, "other"), Some(hash.as_str()));
        assert_eq!(listed_hash(&listing, "missing"), None);
        assert_eq!(listed_hash("zz  airootfs.sfs", "airootfs.sfs"), None);
    }
}
