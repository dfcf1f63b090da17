//! MD5 of several byte strings of one length at once ("multi-buffer" MD5).
//!
//! One MD5 is a chain of dependent 32-bit steps, so a single stream keeps a core waiting
//! on latency at roughly 650 MB/s. Eight independent strings fill the eight 32-bit slots of
//! an AVX2 register and advance together at a few times that rate in total. The parts of
//! a multipart download are such strings: all but the last have the same size, and each
//! needs its own MD5 for the ETag.
//!
//! Where AVX2 is missing (another CPU, another architecture) each lane falls back to the
//! `md-5` crate, so the results never depend on the machine.

use md5::{Digest, Md5};

/// How many strings one [`Lanes`] hashes side by side.
pub const LANES: usize = 8;

/// The 64 additive constants of RFC 1321: the integer part of |sin(i + 1)| · 2³².
#[cfg(target_arch = "x86_64")]
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// The MD5 state before the first block: A, B, C, D.
#[cfg(target_arch = "x86_64")]
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// The MD5s of `n` (1 to [`LANES`]) byte strings fed in step: every call gives each string
/// its next bytes, the same number for all.
pub struct Lanes {
    n: usize,
    engine: Engine,
}

enum Engine {
    #[cfg(target_arch = "x86_64")]
    Avx2(Box<Vector>),
    Scalar(Vec<Md5>),
}

/// A, B, C and D of each lane, the bytes of a block not yet complete, and the length fed.
#[cfg(target_arch = "x86_64")]
struct Vector {
    state: [[u32; LANES]; 4],
    pending: [[u8; 64]; LANES],
    pending_len: usize,
    total: u64,
}

impl Lanes {
    /// Hashing for `n` strings; `n` is clamped to 1..=[`LANES`].
    pub fn new(n: usize) -> Lanes {
        Lanes::with_vectors(n, true)
    }

    /// Like `new`; with `vectors` false, the portable path even where AVX2 is present.
    fn with_vectors(n: usize, vectors: bool) -> Lanes {
        let n = n.clamp(1, LANES);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = vectors;
        #[cfg(target_arch = "x86_64")]
        if vectors && std::arch::is_x86_feature_detected!("avx2") {
            return Lanes {
                n,
                engine: Engine::Avx2(Box::new(Vector {
                    state: INIT.map(|word| [word; LANES]),
                    pending: [[0; 64]; LANES],
                    pending_len: 0,
                    total: 0,
                })),
            };
        }
        Lanes {
            n,
            engine: Engine::Scalar((0..n).map(|_| Md5::new()).collect()),
        }
    }

    /// Feeds string `i` the bytes `chunks[i]`. Every chunk must have the length of the
    /// first, and there must be one per string; otherwise nothing is fed and `false` comes
    /// back (a caller's bug, which the digests would then show).
    pub fn update(&mut self, chunks: &[&[u8]]) -> bool {
        let Some(first) = chunks.first() else {
            return false;
        };
        if chunks.len() != self.n || chunks.iter().any(|c| c.len() != first.len()) {
            return false;
        }
        match &mut self.engine {
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2(vector) => {
                let Vector {
                    state,
                    pending,
                    pending_len,
                    total,
                } = &mut **vector;
                *total += first.len() as u64;
                let mut at = 0;
                if *pending_len > 0 {
                    let take = (64 - *pending_len).min(first.len());
                    for (lane, chunk) in chunks.iter().enumerate() {
                        pending[lane][*pending_len..*pending_len + take]
                            .copy_from_slice(&chunk[..take]);
                    }
                    *pending_len += take;
                    at = take;
                    if *pending_len < 64 {
                        return true;
                    }
                    let blocks: [&[u8]; LANES] =
                        std::array::from_fn(|lane| &pending[lane.min(self.n - 1)][..]);
                    avx2::compress(state, &blocks, 1);
                    *pending_len = 0;
                }
                let whole = (first.len() - at) / 64;
                if whole > 0 {
                    // Lanes past `n` repeat the last string; their results are dropped.
                    let blocks: [&[u8]; LANES] = std::array::from_fn(|lane| {
                        let chunk = chunks[lane.min(self.n - 1)];
                        &chunk[at..at + whole * 64]
                    });
                    avx2::compress(state, &blocks, whole);
                }
                let rest = at + whole * 64;
                let left = first.len() - rest;
                for (lane, chunk) in chunks.iter().enumerate() {
                    pending[lane][..left].copy_from_slice(&chunk[rest..]);
                }
                *pending_len = left;
                true
            }
            Engine::Scalar(hashers) => {
                for (hasher, chunk) in hashers.iter_mut().zip(chunks) {
                    hasher.update(chunk);
                }
                true
            }
        }
    }

    /// The digest of each string, in the order they were fed.
    pub fn finish(self) -> Vec<[u8; 16]> {
        match self.engine {
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2(vector) => {
                let Vector {
                    mut state,
                    pending,
                    pending_len,
                    total,
                } = *vector;
                // The padding: 0x80, zeros up to 56 bytes into a block, then the length
                // in bits, little-endian. One block, or two when fewer than 9 bytes are free.
                let blocks = if pending_len < 56 { 1 } else { 2 };
                let mut last = [[0u8; 128]; LANES];
                for (lane, buf) in last.iter_mut().enumerate().take(self.n) {
                    buf[..pending_len].copy_from_slice(&pending[lane][..pending_len]);
                    buf[pending_len] = 0x80;
                    buf[blocks * 64 - 8..blocks * 64]
                        .copy_from_slice(&total.wrapping_mul(8).to_le_bytes());
                }
                let view: [&[u8]; LANES] =
                    std::array::from_fn(|lane| &last[lane.min(self.n - 1)][..blocks * 64]);
                avx2::compress(&mut state, &view, blocks);
                (0..self.n)
                    .map(|lane| {
                        let mut out = [0u8; 16];
                        for (word, bytes) in out.chunks_exact_mut(4).enumerate() {
                            bytes.copy_from_slice(&state[word][lane].to_le_bytes());
                        }
                        out
                    })
                    .collect()
            }
            Engine::Scalar(hashers) => hashers.into_iter().map(|h| h.finalize().into()).collect(),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{K, LANES};
    use std::arch::x86_64::*;

    /// Runs `count` blocks of every lane through the state. Each lane must hold at least
    /// `count` × 64 bytes; a shorter one leaves the state as it was.
    pub fn compress(state: &mut [[u32; LANES]; 4], lanes: &[&[u8]; LANES], count: usize) {
        if lanes.iter().any(|lane| lane.len() < count * 64) {
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present (checked just above), and every lane holds `count`
            // whole blocks (checked above), which is all `blocks` reads.
            unsafe { blocks(state, lanes, count) }
        }
    }

    /// Rotates each 32-bit lane left by `S` bits (`R` = 32 − `S`).
    macro_rules! rotl {
        ($x:expr, $s:literal) => {
            _mm256_or_si256(
                _mm256_slli_epi32::<$s>($x),
                _mm256_srli_epi32::<{ 32 - $s }>($x),
            )
        };
    }

    /// One MD5 step: `a = b + ((a + f(b, c, d) + K[i] + M[g]) <<< s)`.
    macro_rules! step {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $i:expr, $s:literal) => {
            let t = _mm256_add_epi32(
                _mm256_add_epi32($a, $f!($b, $c, $d)),
                _mm256_add_epi32($m, _mm256_set1_epi32(K[$i] as i32)),
            );
            $a = _mm256_add_epi32($b, rotl!(t, $s));
        };
    }

    // The four round functions, as macros so that they expand inside the AVX2 function.
    // f: (b & c) | (!b & d), written with one operation fewer.
    macro_rules! f {
        ($b:expr, $c:expr, $d:expr) => {
            _mm256_xor_si256($d, _mm256_and_si256($b, _mm256_xor_si256($c, $d)))
        };
    }
    // g: (b & d) | (c & !d)
    macro_rules! g {
        ($b:expr, $c:expr, $d:expr) => {
            _mm256_xor_si256($c, _mm256_and_si256($d, _mm256_xor_si256($b, $c)))
        };
    }
    macro_rules! h {
        ($b:expr, $c:expr, $d:expr) => {
            _mm256_xor_si256(_mm256_xor_si256($b, $c), $d)
        };
    }
    // i: c ^ (b | !d)
    macro_rules! i {
        ($b:expr, $c:expr, $d:expr) => {
            _mm256_xor_si256(
                $c,
                _mm256_or_si256($b, _mm256_xor_si256($d, _mm256_set1_epi32(-1))),
            )
        };
    }

    /// Turns eight rows of eight 32-bit words (one row per lane, each loaded from `ptrs[l]`)
    /// into eight vectors of one word from every lane.
    macro_rules! transpose {
        ($ptrs:expr) => {{
            let r: [__m256i; 8] = [
                _mm256_loadu_si256($ptrs[0]),
                _mm256_loadu_si256($ptrs[1]),
                _mm256_loadu_si256($ptrs[2]),
                _mm256_loadu_si256($ptrs[3]),
                _mm256_loadu_si256($ptrs[4]),
                _mm256_loadu_si256($ptrs[5]),
                _mm256_loadu_si256($ptrs[6]),
                _mm256_loadu_si256($ptrs[7]),
            ];
            let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
            let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
            let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
            let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
            let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
            let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            [
                _mm256_permute2x128_si256::<0x20>(u0, u4),
                _mm256_permute2x128_si256::<0x20>(u1, u5),
                _mm256_permute2x128_si256::<0x20>(u2, u6),
                _mm256_permute2x128_si256::<0x20>(u3, u7),
                _mm256_permute2x128_si256::<0x31>(u0, u4),
                _mm256_permute2x128_si256::<0x31>(u1, u5),
                _mm256_permute2x128_si256::<0x31>(u2, u6),
                _mm256_permute2x128_si256::<0x31>(u3, u7),
            ]
        }};
    }

    /// SAFETY: needs AVX2, and `count` × 64 readable bytes in every lane.
    #[target_feature(enable = "avx2")]
    unsafe fn blocks(state: &mut [[u32; LANES]; 4], lanes: &[&[u8]; LANES], count: usize) {
        // SAFETY (loads and stores): the state rows are 8 × u32 = 32 bytes each; every
        // lane holds `count` blocks, and block `n` reads bytes 64n..64n + 64 of it.
        unsafe {
            let (mut a, mut b, mut c, mut d) = (
                _mm256_loadu_si256(state[0].as_ptr().cast()),
                _mm256_loadu_si256(state[1].as_ptr().cast()),
                _mm256_loadu_si256(state[2].as_ptr().cast()),
                _mm256_loadu_si256(state[3].as_ptr().cast()),
            );
            for n in 0..count {
                let at = n * 64;
                let low: [*const __m256i; 8] = [
                    lanes[0].as_ptr().add(at).cast(),
                    lanes[1].as_ptr().add(at).cast(),
                    lanes[2].as_ptr().add(at).cast(),
                    lanes[3].as_ptr().add(at).cast(),
                    lanes[4].as_ptr().add(at).cast(),
                    lanes[5].as_ptr().add(at).cast(),
                    lanes[6].as_ptr().add(at).cast(),
                    lanes[7].as_ptr().add(at).cast(),
                ];
                let high: [*const __m256i; 8] = [
                    low[0].add(1),
                    low[1].add(1),
                    low[2].add(1),
                    low[3].add(1),
                    low[4].add(1),
                    low[5].add(1),
                    low[6].add(1),
                    low[7].add(1),
                ];
                let lo: [__m256i; 8] = transpose!(low);
                let hi: [__m256i; 8] = transpose!(high);
                let m = [
                    lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7], hi[0], hi[1], hi[2],
                    hi[3], hi[4], hi[5], hi[6], hi[7],
                ];
                let (a0, b0, c0, d0) = (a, b, c, d);

                step!(f, a, b, c, d, m[0], 0, 7);
                step!(f, d, a, b, c, m[1], 1, 12);
                step!(f, c, d, a, b, m[2], 2, 17);
                step!(f, b, c, d, a, m[3], 3, 22);
                step!(f, a, b, c, d, m[4], 4, 7);
                step!(f, d, a, b, c, m[5], 5, 12);
                step!(f, c, d, a, b, m[6], 6, 17);
                step!(f, b, c, d, a, m[7], 7, 22);
                step!(f, a, b, c, d, m[8], 8, 7);
                step!(f, d, a, b, c, m[9], 9, 12);
                step!(f, c, d, a, b, m[10], 10, 17);
                step!(f, b, c, d, a, m[11], 11, 22);
                step!(f, a, b, c, d, m[12], 12, 7);
                step!(f, d, a, b, c, m[13], 13, 12);
                step!(f, c, d, a, b, m[14], 14, 17);
                step!(f, b, c, d, a, m[15], 15, 22);

                step!(g, a, b, c, d, m[1], 16, 5);
                step!(g, d, a, b, c, m[6], 17, 9);
                step!(g, c, d, a, b, m[11], 18, 14);
                step!(g, b, c, d, a, m[0], 19, 20);
                step!(g, a, b, c, d, m[5], 20, 5);
                step!(g, d, a, b, c, m[10], 21, 9);
                step!(g, c, d, a, b, m[15], 22, 14);
                step!(g, b, c, d, a, m[4], 23, 20);
                step!(g, a, b, c, d, m[9], 24, 5);
                step!(g, d, a, b, c, m[14], 25, 9);
                step!(g, c, d, a, b, m[3], 26, 14);
                step!(g, b, c, d, a, m[8], 27, 20);
                step!(g, a, b, c, d, m[13], 28, 5);
                step!(g, d, a, b, c, m[2], 29, 9);
                step!(g, c, d, a, b, m[7], 30, 14);
                step!(g, b, c, d, a, m[12], 31, 20);

                step!(h, a, b, c, d, m[5], 32, 4);
                step!(h, d, a, b, c, m[8], 33, 11);
                step!(h, c, d, a, b, m[11], 34, 16);
                step!(h, b, c, d, a, m[14], 35, 23);
                step!(h, a, b, c, d, m[1], 36, 4);
                step!(h, d, a, b, c, m[4], 37, 11);
                step!(h, c, d, a, b, m[7], 38, 16);
                step!(h, b, c, d, a, m[10], 39, 23);
                step!(h, a, b, c, d, m[13], 40, 4);
                step!(h, d, a, b, c, m[0], 41, 11);
                step!(h, c, d, a, b, m[3], 42, 16);
                step!(h, b, c, d, a, m[6], 43, 23);
                step!(h, a, b, c, d, m[9], 44, 4);
                step!(h, d, a, b, c, m[12], 45, 11);
                step!(h, c, d, a, b, m[15], 46, 16);
                step!(h, b, c, d, a, m[2], 47, 23);

                step!(i, a, b, c, d, m[0], 48, 6);
                step!(i, d, a, b, c, m[7], 49, 10);
                step!(i, c, d, a, b, m[14], 50, 15);
                step!(i, b, c, d, a, m[5], 51, 21);
                step!(i, a, b, c, d, m[12], 52, 6);
                step!(i, d, a, b, c, m[3], 53, 10);
                step!(i, c, d, a, b, m[10], 54, 15);
                step!(i, b, c, d, a, m[1], 55, 21);
                step!(i, a, b, c, d, m[8], 56, 6);
                step!(i, d, a, b, c, m[15], 57, 10);
                step!(i, c, d, a, b, m[6], 58, 15);
                step!(i, b, c, d, a, m[13], 59, 21);
                step!(i, a, b, c, d, m[4], 60, 6);
                step!(i, d, a, b, c, m[11], 61, 10);
                step!(i, c, d, a, b, m[2], 62, 15);
                step!(i, b, c, d, a, m[9], 63, 21);

                a = _mm256_add_epi32(a, a0);
                b = _mm256_add_epi32(b, b0);
                c = _mm256_add_epi32(c, c0);
                d = _mm256_add_epi32(d, d0);
            }
            for (row, v) in state.iter_mut().zip([a, b, c, d]) {
                _mm256_storeu_si256(row.as_mut_ptr().cast(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes, different for every string and position.
    fn bytes(seed: u32, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn reference(data: &[u8]) -> [u8; 16] {
        Md5::digest(data).into()
    }

    #[test]
    fn matches_md5_for_every_length_around_the_padding_edges() {
        for len in (0..=200).chain([1000, 4096, 65_536 + 37]) {
            for (n, vectors) in [1, 3, LANES]
                .into_iter()
                .flat_map(|n| [(n, true), (n, false)])
            {
                let inputs: Vec<Vec<u8>> =
                    (0..n as u32).map(|s| bytes(s + len as u32, len)).collect();
                let mut lanes = Lanes::with_vectors(n, vectors);
                let views: Vec<&[u8]> = inputs.iter().map(|v| &v[..]).collect();
                assert!(lanes.update(&views));
                let got = lanes.finish();
                let want: Vec<[u8; 16]> = inputs.iter().map(|v| reference(v)).collect();
                assert_eq!(got, want, "length {len}, {n} strings, vectors {vectors}");
            }
        }
    }

    #[test]
    fn matches_md5_when_fed_in_uneven_pieces() {
        let len = 10_000;
        let inputs: Vec<Vec<u8>> = (0..LANES as u32).map(|s| bytes(s, len)).collect();
        let mut lanes = Lanes::new(LANES);
        let mut at = 0;
        for piece in [1usize, 63, 64, 65, 127, 3000, 5].iter().cycle() {
            if at == len {
                break;
            }
            let end = (at + piece).min(len);
            let views: Vec<&[u8]> = inputs.iter().map(|v| &v[at..end]).collect();
            assert!(lanes.update(&views));
            at = end;
        }
        let want: Vec<[u8; 16]> = inputs.iter().map(|v| reference(v)).collect();
        assert_eq!(lanes.finish(), want);
    }

    #[test]
    fn known_answers() {
        // RFC 1321's test suite.
        let cases: [(&[u8], &str); 3] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        let mut lanes = Lanes::new(1);
        for (input, hex) in cases {
            let mut one = Lanes::new(1);
            assert!(one.update(&[input]));
            let got: String = one.finish()[0].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex);
        }
        assert!(!lanes.update(&[b"ab", b"cd"]), "two strings into one lane");
        assert!(!lanes.update(&[]), "no string");
    }

    #[test]
    fn refuses_strings_of_different_lengths() {
        let mut lanes = Lanes::new(2);
        assert!(!lanes.update(&[b"abc", b"ab"]));
        assert!(lanes.update(&[b"abc", b"xyz"]));
        assert_eq!(lanes.finish(), vec![reference(b"abc"), reference(b"xyz")]);
    }
}
