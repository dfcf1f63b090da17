//! Digests of a whole object computed in one pass over its bytes, cut at its part
//! boundaries: the ETag (plain MD5, or multipart) and optionally an additional checksum
//! (plain, composite or full-object). Nothing is held but one running digest per kind and
//! the finished part digests.

use md5::{Digest, Md5};

use super::checksum::{self, ChecksumSpec, Hasher};
use super::etag::{PartLayout, multipart_etag};
use crate::util::encoding::hex;

/// How an object is cut into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parts {
    /// One PutObject: no parts.
    Single,
    /// A multipart upload whose parts all have this size except a shorter last one.
    Uniform(u64),
    /// A multipart upload with exactly these part sizes (learnt from the store).
    Sizes(Vec<u64>),
}

impl Parts {
    /// The parts an upload of `size` bytes gets under `layout`.
    pub fn of(layout: PartLayout, size: u64) -> Parts {
        if layout.is_multipart(size) {
            Parts::Uniform(layout.chunk_size)
        } else {
            Parts::Single
        }
    }

    pub fn is_multipart(&self) -> bool {
        !matches!(self, Parts::Single)
    }

    /// Length of part `index` (0-based) of an object of `size` bytes; past the listed sizes
    /// of [`Parts::Sizes`] the rest of the object is one more part.
    fn part_len(&self, index: usize) -> u64 {
        match self {
            Parts::Single => u64::MAX,
            Parts::Uniform(chunk) => *chunk,
            Parts::Sizes(sizes) => sizes.get(index).copied().unwrap_or(u64::MAX),
        }
    }

    /// Offset and length of each part of an object of `size` bytes (one range for a
    /// single-part object; none for an empty one).
    pub fn ranges(&self, size: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        let mut index = 0usize;
        while offset < size {
            let len = self.part_len(index).min(size - offset).max(1);
            out.push((offset, len));
            offset += len;
            index += 1;
        }
        if out.is_empty() && self.is_multipart() {
            out.push((0, 0));
        }
        out
    }

    /// Whether these parts describe an object of exactly `size` bytes.
    pub fn fits(&self, size: u64) -> bool {
        match self {
            Parts::Sizes(sizes) => sizes.iter().sum::<u64>() == size,
            _ => true,
        }
    }

    /// A short description for messages: "single part", "8388608-byte parts", ...
    pub fn describe(&self) -> String {
        match self {
            Parts::Single => "a single part".into(),
            Parts::Uniform(chunk) => format!("parts of {chunk} bytes"),
            Parts::Sizes(sizes) => format!("{} parts of the source's sizes", sizes.len()),
        }
    }
}

/// The ETag and checksum an object has, as computed from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digests {
    /// Unquoted ETag; empty when the MD5 was not computed (see [`PartHasher::with_md5`]).
    pub etag: String,
    pub checksum: Option<String>,
}

/// The digests of one part, kept to build the object's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartDigest {
    /// `None` when the hasher was told the MD5 is not needed.
    pub md5: Option<[u8; 16]>,
    /// The raw additional checksum of the part, when one is computed.
    pub checksum: Option<Vec<u8>>,
    pub len: u64,
}

/// Combines part digests into the object's.
pub fn combine(multipart: bool, spec: Option<ChecksumSpec>, parts: &[PartDigest]) -> Digests {
    let md5s: Option<Vec<[u8; 16]>> = parts.iter().map(|p| p.md5).collect();
    let etag = match md5s {
        Some(md5s) if multipart => multipart_etag(&md5s),
        Some(md5s) => md5s.first().map(|m| hex(m)).unwrap_or_default(),
        None => String::new(),
    };
    let checksum = spec.and_then(|spec| {
        let sums: Option<Vec<(&[u8], u64)>> = parts
            .iter()
            .map(|p| p.checksum.as_deref().map(|c| (c, p.len)))
            .collect();
        Some(checksum::object_value(spec, multipart, &sums?))
    });
    Digests { etag, checksum }
}

/// The running MD5 (and additional checksum) of one part, or of a whole single-part object.
pub struct PartHasher {
    md5: Option<Md5>,
    sum: Option<Hasher>,
    len: u64,
}

impl PartHasher {
    pub fn new(spec: Option<ChecksumSpec>) -> PartHasher {
        PartHasher::with_md5(true, spec)
    }

    /// Like `new`, skipping the MD5 unless `md5`: for downloads whose ETag will not be
    /// compared. The MD5 is most of the CPU a download costs (about 1.6 s per GiB here).
    pub fn with_md5(md5: bool, spec: Option<ChecksumSpec>) -> PartHasher {
        PartHasher {
            md5: md5.then(Md5::new),
            sum: spec.map(|s| Hasher::new(s.algorithm)),
            len: 0,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        if let Some(s) = &mut self.sum {
            s.update(data);
        }
        self.len += data.len() as u64;
    }

    /// The digests of everything fed so far; the hasher starts over.
    pub fn finish(&mut self) -> PartDigest {
        let len = std::mem::take(&mut self.len);
        PartDigest {
            md5: self.md5.as_mut().map(|m| m.finalize_reset().into()),
            checksum: self.sum.as_mut().map(Hasher::finish_reset),
            len,
        }
    }
}

/// Feeds an object's bytes in order and yields its [`Digests`].
pub struct Digester {
    parts: Parts,
    spec: Option<ChecksumSpec>,
    part: PartHasher,
    done: Vec<PartDigest>,
}

impl Digester {
    pub fn new(parts: Parts, spec: Option<ChecksumSpec>) -> Digester {
        Digester::with_md5(parts, true, spec)
    }

    /// Like `new`, skipping the MD5 unless `md5` (the ETag then comes out empty).
    pub fn with_md5(parts: Parts, md5: bool, spec: Option<ChecksumSpec>) -> Digester {
        Digester {
            parts,
            spec,
            part: PartHasher::with_md5(md5, spec),
            done: Vec::new(),
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = self.parts.part_len(self.done.len()) - self.part.len;
            if room == 0 {
                self.done.push(self.part.finish());
                continue;
            }
            let take = room.min(data.len() as u64) as usize;
            self.part.update(&data[..take]);
            data = &data[take..];
        }
    }

    pub fn finish(mut self) -> Digests {
        if self.part.len > 0 || self.done.is_empty() {
            self.done.push(self.part.finish());
        }
        combine(self.parts.is_multipart(), self.spec, &self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::checksum::Algorithm;

    fn digests_of(data: &[u8], parts: Parts, spec: Option<ChecksumSpec>) -> Digests {
        let mut d = Digester::new(parts, spec);
        d.update(data);
        d.finish()
    }

    const MIB: u64 = 1 << 20;

    #[test]
    fn single_part_digests() {
        let spec = ChecksumSpec::new(Algorithm::Crc32, false);
        let d = digests_of(b"hello", Parts::Single, Some(spec));
        assert_eq!(d.etag, "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(d.checksum, Some(checksum::of(Algorithm::Crc32, b"hello")));
        let empty = digests_of(b"", Parts::Single, None);
        assert_eq!(empty.etag, "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn without_md5_the_etag_is_skipped_not_the_checksum() {
        let data: Vec<u8> = (0..(12 * MIB + 7)).map(|i| (i % 251) as u8).collect();
        let spec = ChecksumSpec::new(Algorithm::Crc32c, false);
        let parts = || Parts::Uniform(5 * MIB);
        let mut only = Digester::with_md5(parts(), false, Some(spec));
        only.update(&data);
        let only = only.finish();
        let full = digests_of(&data, parts(), Some(spec));
        assert_eq!(only.etag, "");
        assert!(full.etag.ends_with("-3"), "{}", full.etag);
        assert_eq!(only.checksum, full.checksum);
        assert!(only.checksum.is_some());
    }

    /// The reference documents this value for a 30 MiB file of zeros with 8 MiB parts.
    #[test]
    fn thirty_mib_of_zeros_matches_the_documented_etag() {
        let data = vec![0u8; (30 * MIB) as usize];
        let d = digests_of(&data, Parts::Uniform(8 * MIB), None);
        assert_eq!(d.etag, "9be3303e9a8d67a0f1e609fb7a29030a-4");
    }

    #[test]
    fn streaming_in_odd_pieces_matches_part_by_part() {
        let data: Vec<u8> = (0..(12 * MIB + 7)).map(|i| (i % 251) as u8).collect();
        for spec in [
            ChecksumSpec::new(Algorithm::Sha256, false),
            ChecksumSpec::new(Algorithm::Crc32c, true),
            ChecksumSpec::new(Algorithm::Crc32c, false),
        ] {
            let mut d = Digester::new(Parts::Uniform(5 * MIB), Some(spec));
            for piece in data.chunks(65_537) {
                d.update(piece);
            }
            let got = d.finish();
            let parts: Vec<PartDigest> = data
                .chunks((5 * MIB) as usize)
                .map(|c| {
                    let mut h = Hasher::new(spec.algorithm);
                    h.update(c);
                    PartDigest {
                        md5: Some(Md5::digest(c).into()),
                        checksum: Some(h.finish_reset()),
                        len: c.len() as u64,
                    }
                })
                .collect();
            assert_eq!(parts.len(), 3);
            assert_eq!(got, combine(true, Some(spec), &parts));
            assert!(got.etag.ends_with("-3"));
            if spec.full_object {
                assert_eq!(
                    got.checksum,
                    Some(checksum::of(spec.algorithm, &data)),
                    "full-object value is the CRC of all bytes"
                );
            } else {
                assert!(got.checksum.as_deref().is_some_and(|c| c.ends_with("-3")));
            }
        }
    }

    #[test]
    fn exact_sizes_cut_where_told() {
        let data = vec![7u8; 100];
        let sizes = Parts::Sizes(vec![10, 60, 30]);
        assert!(sizes.fits(100));
        assert!(!sizes.fits(99));
        assert_eq!(sizes.ranges(100), vec![(0, 10), (10, 60), (70, 30)]);
        let d = digests_of(&data, sizes, None);
        let md5s: Vec<[u8; 16]> = [10usize, 60, 30]
            .iter()
            .scan(0usize, |off, len| {
                let part = &data[*off..*off + len];
                *off += len;
                Some(Md5::digest(part).into())
            })
            .collect();
        assert_eq!(d.etag, multipart_etag(&md5s));
        assert_eq!(Parts::Uniform(40).ranges(100).len(), 3);
        assert_eq!(Parts::Single.ranges(100), vec![(0, 100)]);
    }

    #[test]
    fn threshold_sized_object_is_one_part() {
        let layout = PartLayout {
            threshold: 8 * MIB,
            chunk_size: 8 * MIB,
        };
        let data = vec![0u8; (8 * MIB) as usize];
        let d = digests_of(&data, Parts::of(layout, 8 * MIB), None);
        assert!(d.etag.ends_with("-1"), "{}", d.etag);
        assert_eq!(Parts::of(layout, 8 * MIB - 1), Parts::Single);
    }
}
