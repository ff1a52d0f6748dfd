//! MD5 (RFC 1321), small and `no_std`: the media check needs nothing else
//! from a crypto crate. Not for security, only to compare against the sum
//! `implantisomd5` wrote.

/// Per-round left rotations.
const SHIFTS: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// `floor(abs(sin(i + 1)) * 2^32)`.
const SINES: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// A running MD5; `Clone` it to read a sum part-way (fragment sums).
#[derive(Debug, Clone)]
pub struct Md5 {
    state: [u32; 4],
    /// Bytes hashed so far.
    length: u64,
    /// A partial 64-byte block.
    pending: [u8; 64],
    pending_len: usize,
}

impl Default for Md5 {
    fn default() -> Self {
        Md5::new()
    }
}

impl Md5 {
    pub fn new() -> Md5 {
        Md5 {
            state: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476],
            length: 0,
            pending: [0; 64],
            pending_len: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(slot) = self
                .pending
                .get_mut(self.pending_len..self.pending_len + take)
            {
                slot.copy_from_slice(head);
            }
            self.pending_len += take;
            data = rest;
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            self.compress(&block);
            self.pending_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            let mut b = [0u8; 64];
            b.copy_from_slice(block);
            self.compress(&b);
        }
        let rest = blocks.remainder();
        if let Some(slot) = self.pending.get_mut(..rest.len()) {
            slot.copy_from_slice(rest);
        }
        self.pending_len = rest.len();
    }

    /// The digest of everything so far.
    pub fn finish(mut self) -> [u8; 16] {
        let bits = self.length.wrapping_mul(8);
        self.update(&[0x80]);
        while self.pending_len != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_le_bytes());
        let mut out = [0u8; 16];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut m = [0u32; 16];
        for (word, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_le_bytes(bytes.try_into().unwrap_or([0; 4]));
        }
        let [mut a, mut b, mut c, mut d] = self.state;
        for (i, (sine, shift)) in SINES.iter().zip(SHIFTS).enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let word = m.get(g).copied().unwrap_or(0);
            let sum = a.wrapping_add(f).wrapping_add(*sine).wrapping_add(word);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(sum.rotate_left(shift));
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        let hi = DIGITS.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
        let lo = DIGITS.get(usize::from(byte & 15)).copied().unwrap_or(b'0');
        pair.copy_from_slice(&[hi, lo]);
    }
    out
}

#[cfg(test)]
// Test data sizes are small; truncating casts cannot bite here.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn sum(data: &[u8]) -> [u8; 32] {
        let mut md5 = Md5::new();
        md5.update(data);
        hex(&md5.finish())
    }

    #[test]
    fn rfc_1321_test_suite() {
        let cases: [(&[u8], &[u8; 32]); 7] = [
            (b"", b"d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", b"0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", b"900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", b"f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                b"c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                b"d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                b"57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (data, want) in cases {
            assert_eq!(&sum(data), want, "{:?}", core::str::from_utf8(data));
        }
    }

    #[test]
    fn feeding_in_pieces_gives_the_same_sum() {
        let data: alloc::vec::Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = sum(&data);
        for piece in [1, 3, 63, 64, 65, 4096] {
            let mut md5 = Md5::new();
            data.chunks(piece).for_each(|c| md5.update(c));
            assert_eq!(hex(&md5.finish()), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn a_clone_reads_the_sum_part_way() {
        let mut md5 = Md5::new();
        md5.update(b"abc");
        let part = md5.clone().finish();
        md5.update(b"def");
        assert_eq!(&hex(&part), b"900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(&hex(&md5.finish()), b"e80b5017098950fc58aad83c8c14978e");
    }
}
