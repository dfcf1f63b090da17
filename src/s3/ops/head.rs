//! What S3 says about an object in the headers of HeadObject and GetObject: its size,
//! ETag, time, content headers and user metadata, parts, tags, class, encryption and
//! checksum.

use super::*;

pub use crate::http::meta::ObjectMeta;

const SYSTEM_HEADERS: [&str; 7] = [
    "content-type",
    "content-encoding",
    "cache-control",
    "content-disposition",
    "content-language",
    "expires",
    "x-amz-website-redirect-location",
];

pub(super) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

impl ObjectMeta {
    /// Reads the metadata of a GET or HEAD answer.
    pub fn from_headers(headers: &HeaderMap) -> ObjectMeta {
        let mut user: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix("x-amz-meta-")?;
                Some((
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ))
            })
            .collect();
        user.sort();
        ObjectMeta {
            content_type: header_text(headers, SYSTEM_HEADERS[0]),
            content_encoding: header_text(headers, SYSTEM_HEADERS[1]),
            cache_control: header_text(headers, SYSTEM_HEADERS[2]),
            content_disposition: header_text(headers, SYSTEM_HEADERS[3]),
            content_language: header_text(headers, SYSTEM_HEADERS[4]),
            expires: header_text(headers, SYSTEM_HEADERS[5]),
            website_redirect: header_text(headers, SYSTEM_HEADERS[6]),
            user,
        }
    }

    /// The request headers that set this metadata on PUT, CreateMultipartUpload or a copy.
    pub fn to_headers(&self) -> Vec<(String, String)> {
        let system = [
            &self.content_type,
            &self.content_encoding,
            &self.cache_control,
            &self.content_disposition,
            &self.content_language,
            &self.expires,
            &self.website_redirect,
        ];
        let mut out: Vec<(String, String)> = SYSTEM_HEADERS
            .iter()
            .zip(system)
            .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_string(), v.clone())))
            .collect();
        out.extend(
            self.user
                .iter()
                .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())),
        );
        out
    }
}

/// What HeadObject (or the headers of GetObject) tell about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<Timestamp>,
    pub meta: ObjectMeta,
    /// `x-amz-mp-parts-count`, when the store reports it.
    pub parts_count: Option<u32>,
    /// `x-amz-tagging-count`, when the object has tags.
    pub tag_count: Option<u32>,
    pub storage_class: Option<String>,
    /// `x-amz-server-side-encryption` (`AES256`, `aws:kms`, `aws:kms:dsse`).
    pub sse: Option<String>,
    pub sse_customer_algorithm: Option<String>,
    /// The additional checksum the store reports (asked for with checksum mode).
    pub checksum: Option<(Algorithm, String)>,
    /// `x-amz-checksum-type`: `COMPOSITE` or `FULL_OBJECT`.
    pub checksum_type: Option<String>,
}

/// The first `x-amz-checksum-<algorithm>` header of an answer.
pub(super) fn checksum_header(headers: &HeaderMap) -> Option<(Algorithm, String)> {
    Algorithm::ALL
        .into_iter()
        .find_map(|a| header_text(headers, a.header()).map(|v| (a, v.trim().to_string())))
}

impl ObjectHead {
    /// Encrypted with SSE-C or SSE-KMS: then the ETag is not the MD5 of the bytes.
    pub fn encrypted(&self) -> bool {
        self.sse_customer_algorithm.is_some()
            || self
                .sse
                .as_deref()
                .is_some_and(|s| s.starts_with("aws:kms"))
    }

    /// Reads a HEAD or GET answer. For a ranged GET the size is the whole object's, taken
    /// from `Content-Range`.
    pub fn from_headers(headers: &HeaderMap) -> ObjectHead {
        let text = |name: &str| header_text(headers, name);
        let number = |name: &str| text(name).and_then(|v| v.trim().parse::<u64>().ok());
        let total_from_range =
            text("content-range").and_then(|r| r.rsplit('/').next().and_then(|t| t.parse().ok()));
        ObjectHead {
            size: total_from_range
                .or_else(|| number("content-length"))
                .unwrap_or(0),
            etag: text("etag"),
            last_modified: text("last-modified").and_then(|v| Timestamp::parse_http_date(&v)),
            meta: ObjectMeta::from_headers(headers),
            parts_count: number("x-amz-mp-parts-count").map(|n| n as u32),
            tag_count: number("x-amz-tagging-count").map(|n| n as u32),
            storage_class: text("x-amz-storage-class"),
            sse: text("x-amz-server-side-encryption"),
            sse_customer_algorithm: text("x-amz-server-side-encryption-customer-algorithm"),
            checksum: checksum_header(headers),
            checksum_type: text("x-amz-checksum-type"),
        }
    }
}
