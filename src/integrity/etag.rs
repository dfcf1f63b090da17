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
}

/// Removes the quotes S3 puts around ETags.
pub fn strip_quotes(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// The part count a multipart ETag or composite checksum declares (`...-N`).
pub fn declared_parts(value: &str) -> Option<u64> {
    strip_quotes(value)
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse::<u64>().ok())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_etag_of_known_parts() {
        let parts: [[u8; 16]; 2] = [Md5::digest(b"a").into(), Md5::digest(b"b").into()];
        let mut both = Vec::new();
        both.extend_from_slice(&parts[0]);
        both.extend_from_slice(&parts[1]);
        assert_eq!(
            multipart_etag(&parts),
            format!("{}-2", hex(&Md5::digest(&both)))
        );
    }

    #[test]
    fn quotes_and_multipart_detection() {
        assert_eq!(strip_quotes("\"abc-2\""), "abc-2");
        assert!(is_multipart_etag("\"abc-2\""));
        assert!(!is_multipart_etag("\"abc\""));
    }
}
