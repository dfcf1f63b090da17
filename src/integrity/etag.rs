//! S3 ETags. A single-part object's ETag is the hex MD5 of its bytes; a multipart object's is
//! the hex MD5 of the concatenated binary MD5s of its parts, then `-` and the part count.

use md5::{Digest, Md5};

use crate::util::encoding::hex;

/// How an object is (or would be) cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLayout {
    /// Objects of at least this size are uploaded in parts.
    pub threshold: u64,
    pub chunk_size: u64,
}

impl PartLayout {
    /// Whether an object of `size` bytes is uploaded in parts (size == threshold is multipart).
    pub fn is_multipart(&self, size: u64) -> bool {
        size >= self.threshold
    }

    /// Number of parts of a multipart object of `size` bytes (at least one).
    pub fn part_count(&self, size: u64) -> u64 {
        size.div_ceil(self.chunk_size).max(1)
    }

    /// Offset and length of part `index` (0-based).
    pub fn part_range(&self, size: u64, index: u64) -> (u64, u64) {
        let offset = index * self.chunk_size;
        (offset, self.chunk_size.min(size.saturating_sub(offset)))
    }
}

/// Removes the quotes S3 puts around ETags.
pub fn strip_quotes(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// Whether an ETag is a multipart one (`...-N`).
pub fn is_multipart_etag(etag: &str) -> bool {
    strip_quotes(etag).contains('-')
}

/// Builds a multipart ETag from the binary MD5 digests of the parts, in order.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut h = Md5::new();
    for d in part_md5s {
        h.update(d);
    }
    format!("{}-{}", hex(&h.finalize()), part_md5s.len())
}

/// Streams bytes in and produces the ETag for a given layout, without holding the data.
pub struct EtagBuilder {
    layout: PartLayout,
    multipart: bool,
    whole: Md5,
    part: Md5,
    part_filled: u64,
    parts: Vec<[u8; 16]>,
}

impl EtagBuilder {
    /// A builder for an object of `size` bytes uploaded with `layout`.
    pub fn new(layout: PartLayout, size: u64) -> EtagBuilder {
        EtagBuilder::with_parts(layout, layout.is_multipart(size))
    }

    /// A builder that computes a multipart ETag in parts of `layout.chunk_size` when
    /// `multipart`, else a plain MD5, whatever the size.
    pub fn with_parts(layout: PartLayout, multipart: bool) -> EtagBuilder {
        EtagBuilder {
            layout,
            multipart,
            whole: Md5::new(),
            part: Md5::new(),
            part_filled: 0,
            parts: Vec::new(),
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        if !self.multipart {
            self.whole.update(data);
            return;
        }
        while !data.is_empty() {
            let room = (self.layout.chunk_size - self.part_filled) as usize;
            let take = room.min(data.len());
            self.part.update(&data[..take]);
            self.part_filled += take as u64;
            data = &data[take..];
            if self.part_filled == self.layout.chunk_size {
                self.parts.push(self.part.finalize_reset().into());
                self.part_filled = 0;
            }
        }
    }

    /// The ETag, unquoted.
    pub fn finish(mut self) -> String {
        if !self.multipart {
            return hex(&self.whole.finalize());
        }
        if self.part_filled > 0 || self.parts.is_empty() {
            self.parts.push(self.part.finalize().into());
        }
        multipart_etag(&self.parts)
    }
}

/// ETag of an in-memory buffer under `layout` (test and small-object helper).
pub fn etag_of(data: &[u8], layout: PartLayout) -> String {
    let mut b = EtagBuilder::new(layout, data.len() as u64);
    b.update(data);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const DEFAULT: PartLayout = PartLayout {
        threshold: 8 * MIB,
        chunk_size: 8 * MIB,
    };

    #[test]
    fn single_part_etag_is_md5() {
        assert_eq!(etag_of(b"", DEFAULT), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            etag_of(b"hello", DEFAULT),
            "5d41402abc4b2a76b9719d911017c592"
        );
    }

    #[test]
    fn threshold_sized_object_is_one_part() {
        let data = vec![0u8; (8 * MIB) as usize];
        let etag = etag_of(&data, DEFAULT);
        assert!(etag.ends_with("-1"), "{etag}");
        let whole: [u8; 16] = Md5::digest(&data).into();
        assert_eq!(etag, multipart_etag(&[whole]));
    }

    /// The reference documents this value for a 30 MiB file of zeros with 8 MiB parts.
    #[test]
    fn thirty_mib_of_zeros_matches_the_documented_etag() {
        let data = vec![0u8; (30 * MIB) as usize];
        assert_eq!(
            etag_of(&data, DEFAULT),
            "9be3303e9a8d67a0f1e609fb7a29030a-4"
        );
    }

    #[test]
    fn streaming_in_odd_pieces_matches_one_shot() {
        let layout = PartLayout {
            threshold: 5 * MIB,
            chunk_size: 5 * MIB,
        };
        let data: Vec<u8> = (0..(12 * MIB + 7)).map(|i| (i % 251) as u8).collect();
        let mut b = EtagBuilder::new(layout, data.len() as u64);
        for piece in data.chunks(65_537) {
            b.update(piece);
        }
        let parts: Vec<[u8; 16]> = data
            .chunks((5 * MIB) as usize)
            .map(|c| Md5::digest(c).into())
            .collect();
        assert_eq!(b.finish(), multipart_etag(&parts));
        assert_eq!(layout.part_count(data.len() as u64), 3);
        assert_eq!(
            layout.part_range(data.len() as u64, 2),
            (10 * MIB, 2 * MIB + 7)
        );
    }

    #[test]
    fn quotes_and_multipart_detection() {
        assert_eq!(strip_quotes("\"abc-2\""), "abc-2");
        assert!(is_multipart_etag("\"abc-2\""));
        assert!(!is_multipart_etag("\"abc\""));
    }
}
