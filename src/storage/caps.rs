//! What a backend can do, as plain data fixed when the store is built. The engine plans from
//! it (part sizes, which fast paths exist, which checks are possible) before the first
//! request, and never asks which backend it has. A capability the engine emulates (a copy
//! through the client when the server cannot copy) is the engine's code, not a flag here.

use crate::integrity::checksum::Algorithm;

/// Limits of writes in parts (S3 multipart uploads, Blob blocks, a local temp file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLimits {
    /// The smallest part but the last.
    pub min_part: u64,
    pub max_part: u64,
    pub max_parts: u32,
    /// The largest object one single write may carry.
    pub max_single: u64,
}

impl PartLimits {
    /// The part size for an object of `size` bytes: `wanted` where it fits, else grown (to a
    /// whole MiB) until `max_parts` parts cover the object. `None` when no part size within
    /// the limits can.
    pub fn part_size(&self, size: u64, wanted: u64) -> Option<u64> {
        const MIB: u64 = 1 << 20;
        let mut part = wanted.clamp(self.min_part, self.max_part);
        if size.div_ceil(part) > u64::from(self.max_parts) {
            part = size.div_ceil(u64::from(self.max_parts)).div_ceil(MIB) * MIB;
        }
        (part <= self.max_part && size.div_ceil(part.max(1)) <= u64::from(self.max_parts))
            .then_some(part)
    }
}

/// How a server-side copy can name its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// An object of the same service endpoint, named by bucket and key (S3 CopyObject and
    /// UploadPartCopy).
    SameEndpoint,
    /// Any object the service can fetch by URL (Blob Copy From URL / Put Block From URL).
    FromUrl,
}

/// Everything a backend declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Listings come in UTF-8 byte order of the key (the merge-join needs it).
    pub list_sorted: bool,
    /// Objects have versions that can be listed and read.
    pub versions: bool,
    /// Objects carry tags (S3 tags, Blob index tags).
    pub tags: bool,
    /// Objects carry user metadata and content headers.
    pub metadata: bool,
    /// A write can set the object's modification time (local files); elsewhere the time is
    /// the store's.
    pub set_mtime: bool,
    /// Writes honour `If-None-Match: *` / `If-Match`.
    pub conditional_writes: bool,
    /// Modification times are kept to whole seconds (S3, Blob) rather than finer.
    pub whole_second_mtime: bool,
    /// Parts of an unfinished write can be listed (resume).
    pub list_parts: bool,
    /// Reading costs no network (local files): the engine may read an object once more to
    /// hash it before sending, so every write carries its MD5.
    pub local_reads: bool,
    pub parts: PartLimits,
    /// Keys one batched delete may carry (1: no batching).
    pub delete_batch: usize,
    /// The additional checksums a write can ask the store to keep.
    pub checksums: &'static [Algorithm],
    /// How this backend, as a target, accepts server-side copy sources.
    pub copy_from: &'static [CopyKind],
    /// The storage classes (S3) or access tiers (Blob) a write can be given, compared
    /// case-insensitively: a source's tier outside them is not carried over (S3 classes and
    /// Blob tiers do not map onto each other).
    pub tiers: &'static [&'static str],
    /// A segment of a key may end in `.` (`a.`, `dir./x`). Blob names may not: the service
    /// drops such dots, so `a.` would land as `a` and could overwrite it.
    pub trailing_dots: bool,
}

impl Capabilities {
    /// `tier` as this store names it, when it is one of [`Capabilities::tiers`].
    pub fn tier(&self, tier: &str) -> Option<&'static str> {
        self.tiers
            .iter()
            .find(|t| t.eq_ignore_ascii_case(tier))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S3: PartLimits = PartLimits {
        min_part: 5 << 20,
        max_part: 5 << 30,
        max_parts: 10_000,
        max_single: 5 << 30,
    };

    #[test]
    fn part_sizes_grow_to_fit_the_part_count() {
        assert_eq!(S3.part_size(100 << 20, 8 << 20), Some(8 << 20));
        assert_eq!(S3.part_size(100 << 20, 1 << 20), Some(5 << 20));
        // 100,000 MiB in at most 10,000 parts: 10 MiB.
        assert_eq!(S3.part_size(100_000 << 20, 8 << 20), Some(10 << 20));
        assert_eq!(S3.part_size(u64::MAX, 8 << 20), None);
    }
}
