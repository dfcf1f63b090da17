//! What a store says about one object, in terms that mean the same on every backend. Above
//! all: what its content tag (S3 ETag, Blob ETag) is evidence of. Only the backend can tell
//! (an S3 ETag is an MD5 only for a plain single-part write; a Blob ETag never is), so the
//! backend classifies it, and verification is decided from the classification, never from
//! the backend's name.

use crate::integrity::checksum::Algorithm;
use crate::util::time::Timestamp;

pub use crate::http::meta::ObjectMeta;

/// What an object's content tag proves about its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContentTag {
    /// The MD5 of the content (an S3 single-part write without SSE-KMS or SSE-C).
    Md5([u8; 16]),
    /// The MD5 of the parts' MD5s of a multipart write (`<hex>-<parts>`): reproducible from
    /// the bytes only with the part size the object was written with.
    Composite {
        digest: [u8; 16],
        parts: u32,
        /// The part size, when the store or our own metadata tells it.
        part_size: Option<u64>,
    },
    /// Says "changed or not" and nothing about the content (Blob ETags, encrypted S3
    /// objects, stores of other habits).
    Opaque,
    /// The store sent none.
    #[default]
    Absent,
}

impl ContentTag {
    /// Classifies an S3-style ETag (quotes allowed): 32 hex digits are an MD5 unless
    /// `encrypted`; 32 hex digits, `-` and a part count are a composite.
    pub fn from_s3_etag(etag: Option<&str>, encrypted: bool) -> ContentTag {
        let Some(etag) = etag else {
            return ContentTag::Absent;
        };
        let text = etag.trim().trim_matches('"');
        if encrypted {
            return ContentTag::Opaque;
        }
        let (hex, parts) = match text.split_once('-') {
            Some((hex, n)) => match n.parse::<u32>() {
                Ok(n) if n > 0 => (hex, Some(n)),
                _ => return ContentTag::Opaque,
            },
            None => (text, None),
        };
        let Some(digest) = md5_from_hex(hex) else {
            return ContentTag::Opaque;
        };
        match parts {
            None => ContentTag::Md5(digest),
            Some(parts) => ContentTag::Composite {
                digest,
                parts,
                part_size: None,
            },
        }
    }

    /// The MD5 of the whole content, when the tag is one.
    pub fn md5(&self) -> Option<[u8; 16]> {
        match self {
            ContentTag::Md5(d) => Some(*d),
            _ => None,
        }
    }
}

/// 32 hex digits as 16 bytes.
pub fn md5_from_hex(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Whether a stored checksum covers the whole object or is built from its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumScope {
    FullObject,
    Composite { parts: u32 },
}

/// A hash the store keeps with the object: an S3 additional checksum, a Blob Content-MD5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChecksum {
    pub algorithm: StoredAlgorithm,
    pub scope: ChecksumScope,
    /// As the store reports it (base64, with `-N` for composites).
    pub value: String,
}

/// The algorithms stores keep: the S3 additional checksums, and MD5 (Blob Content-MD5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredAlgorithm {
    Md5,
    Additional(Algorithm),
}

/// What HEAD (or the headers of a read) says about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    pub size: u64,
    pub modified: Option<Timestamp>,
    /// The content tag exactly as the store sent it (for `If-Match`).
    pub raw_tag: Option<String>,
    pub tag: ContentTag,
    pub stored: Vec<StoredChecksum>,
    /// Content headers and user metadata.
    pub content: ObjectMeta,
    /// How many tags the object has, when the store says.
    pub tag_count: Option<u32>,
    /// Storage class (S3) or access tier (Blob).
    pub tier: Option<String>,
    /// The version this describes, on a store with versions.
    pub version: Option<String>,
    /// Parts of a multipart object, when the store says.
    pub parts: Option<u32>,
    /// Encrypted so that the content tag is no digest of the bytes (S3 SSE-KMS or SSE-C).
    pub encrypted: bool,
    /// The server-side encryption as the store names it (S3 `AES256`, `aws:kms`), when it
    /// says.
    pub encryption: Option<String>,
    /// The algorithm of the customer-provided key the object is encrypted with (S3 SSE-C).
    pub customer_key: Option<String>,
    /// How the store says its additional checksum was computed (S3 `FULL_OBJECT` or
    /// `COMPOSITE`), when it says.
    pub checksum_type: Option<String>,
}

impl Properties {
    /// The additional checksum the store keeps (S3 `x-amz-checksum-*`), as it reports it.
    pub fn checksum(&self) -> Option<(crate::integrity::checksum::Algorithm, &str)> {
        self.stored.iter().find_map(|c| match c.algorithm {
            StoredAlgorithm::Additional(a) => Some((a, c.value.as_str())),
            StoredAlgorithm::Md5 => None,
        })
    }

    /// The MD5 of the whole content, when the store tells it: an MD5 tag, or a stored MD5.
    pub fn content_md5(&self) -> Option<[u8; 16]> {
        self.tag.md5().or_else(|| {
            self.stored
                .iter()
                .find_map(|c| match (c.algorithm, c.scope) {
                    (StoredAlgorithm::Md5, ChecksumScope::FullObject) => {
                        let bytes = crate::util::encoding::base64_decode(&c.value)?;
                        <[u8; 16]>::try_from(bytes.as_slice()).ok()
                    }
                    _ => None,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_etags_are_classified_by_what_they_prove() {
        let md5 = "\"9e107d9d372bb6826bd81d3542a419d6\"";
        assert!(matches!(
            ContentTag::from_s3_etag(Some(md5), false),
            ContentTag::Md5(d) if d[0] == 0x9e && d[15] == 0xd6
        ));
        assert_eq!(
            ContentTag::from_s3_etag(Some(md5), true),
            ContentTag::Opaque
        );
        assert!(matches!(
            ContentTag::from_s3_etag(Some("\"9e107d9d372bb6826bd81d3542a419d6-3\""), false),
            ContentTag::Composite {
                parts: 3,
                part_size: None,
                ..
            }
        ));
        for other in [
            "\"0x8DC1234\"",
            "abc",
            "\"9e107d9d372bb6826bd81d3542a419d6-x\"",
        ] {
            assert_eq!(
                ContentTag::from_s3_etag(Some(other), false),
                ContentTag::Opaque
            );
        }
        assert_eq!(ContentTag::from_s3_etag(None, false), ContentTag::Absent);
    }
}
