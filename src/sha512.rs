//! SHA-512 (FIPS 180-4), streaming: archiso's `checksum=y` compares the
//! image with `airootfs.sha512` as it is read once.

use alloc::string::String;
use core::fmt::Write;

const K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];

const INIT: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// A SHA-512 computation fed in pieces of any size.
#[derive(Clone)]
pub struct Sha512 {
    state: [u64; 8],
    block: [u8; 128],
    filled: usize,
    length: u128,
}

impl Default for Sha512 {
    fn default() -> Self {
        Sha512 {
            state: INIT,
            block: [0; 128],
            filled: 0,
            length: 0,
        }
    }
}

impl Sha512 {
    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u128);
        while !data.is_empty() {
            let take = (128 - self.filled).min(data.len());
            let (now, rest) = data.split_at(take);
            if let Some(dst) = self.block.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(now);
            }
            self.filled += take;
            data = rest;
            if self.filled == 128 {
                let block = self.block;
                compress(&mut self.state, &block);
                self.filled = 0;
            }
        }
    }

    /// The digest, as lower-case hex (how `sha512sum` writes it).
    pub fn hex(mut self) -> String {
        let bits = self.length.wrapping_mul(8);
        self.update_padding(bits);
        let mut out = String::with_capacity(128);
        for word in self.state {
            let _ = write!(out, "{word:016x}");
        }
        out
    }

    fn update_padding(&mut self, bits: u128) {
        let length = self.length;
        let zeros = (128 + 112 - 1 - (self.filled % 128)) % 128;
        let mut pad = [0u8; 128 + 16];
        if let Some(first) = pad.first_mut() {
            *first = 0x80;
        }
        let end = 1 + zeros;
        if let Some(len) = pad.get_mut(end..end + 16) {
            len.copy_from_slice(&bits.to_be_bytes());
        }
        self.update(pad.get(..end + 16).unwrap_or_default());
        self.length = length;
    }
}

fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
    // The message schedule as a ring of its last 16 words.
    let mut w = [0u64; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        *word = u64::from_be_bytes(b);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (t, k) in K.iter().enumerate() {
        // w[t - back], from the ring.
        let at = |back: usize| w.get((t + 16 - back) % 16).copied().unwrap_or(0);
        let wt = if t < 16 {
            at(16)
        } else {
            let (w15, w2) = (at(15), at(2));
            let s0 = w15.rotate_right(1) ^ w15.rotate_right(8) ^ (w15 >> 7);
            let s1 = w2.rotate_right(19) ^ w2.rotate_right(61) ^ (w2 >> 6);
            let next = at(16).wrapping_add(s0).wrapping_add(at(7)).wrapping_add(s1);
            if let Some(slot) = w.get_mut(t % 16) {
                *slot = next;
            }
            next
        };
        let s1 = e.rotate_right(14) ^ e.rotate_right(18) ^ e.rotate_right(41);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(wt);
        let s0 = a.rotate_right(28) ^ a.rotate_right(34) ^ a.rotate_right(39);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
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
