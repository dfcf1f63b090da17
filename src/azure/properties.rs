//! What the service says about a blob: size, time, ETag, stored MD5, content headers,
//! metadata, tier and tags. The same record comes from a listing entry (XML) and from Get
//! Blob Properties / Get Blob (response headers), so the layers above see one shape.

use ureq::http::HeaderMap;

use crate::util::encoding::{base64, base64_decode};
use crate::util::time::Timestamp;

/// The standard content headers a blob stores and serves back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
}

/// A blob's properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobProperties {
    pub size: u64,
    /// One-second resolution, as the service keeps it.
    pub last_modified: Option<Timestamp>,
    /// With its quotes, as the service sends it.
    pub etag: Option<String>,
    /// The stored `Content-MD5`: set by the service on Put Blob, by the client (or not at
    /// all) on Put Block List.
    pub content_md5: Option<[u8; 16]>,
    pub content: ContentHeaders,
    /// `BlockBlob`, `AppendBlob` or `PageBlob`.
    pub blob_type: Option<String>,
    /// `Hot`, `Cool`, `Cold`, `Archive`, or a premium tier (`P10`...).
    pub access_tier: Option<String>,
    /// The tier is the account's default rather than set on the blob.
    pub access_tier_inferred: bool,
    /// Number of index tags (the tags themselves come from Get Blob Tags or a listing with
    /// `include=tags`).
    pub tag_count: Option<u32>,
    /// `x-ms-meta-*`, names as the service returns them.
    pub metadata: Vec<(String, String)>,
    /// Index tags, when the listing included them.
    pub tags: Vec<(String, String)>,
}

impl BlobProperties {
    /// The stored MD5 as base64, as headers carry it.
    pub fn content_md5_base64(&self) -> Option<String> {
        self.content_md5.map(|m| base64(&m))
    }

    /// Sets one property by the name a listing or a header gives it (case-insensitively;
    /// listings say `Content-Length`, headers `content-length`). Unknown names are ignored.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        let text = || Some(value.to_string()).filter(|v| !v.is_empty());
        match name.to_ascii_lowercase().as_str() {
            "content-length" => self.size = value.trim().parse().unwrap_or(self.size),
            "last-modified" => self.last_modified = Timestamp::parse_http_date(value.trim()),
            "etag" => self.etag = text(),
            "content-md5" | "x-ms-blob-content-md5" => self.content_md5 = md5_from_base64(value),
            "content-type" => self.content.content_type = text(),
            "content-encoding" => self.content.content_encoding = text(),
            "content-language" => self.content.content_language = text(),
            "content-disposition" => self.content.content_disposition = text(),
            "cache-control" => self.content.cache_control = text(),
            "blobtype" | "x-ms-blob-type" => self.blob_type = text(),
            "accesstier" | "x-ms-access-tier" => self.access_tier = text(),
            "accesstierinferred" | "x-ms-access-tier-inferred" => {
                self.access_tier_inferred = value.trim().eq_ignore_ascii_case("true")
            }
            "tagcount" | "x-ms-tag-count" => self.tag_count = value.trim().parse().ok(),
            _ => {}
        }
    }

    /// From the headers of Get Blob Properties or Get Blob. A ranged Get Blob's
    /// `Content-Length` is the range's: the caller takes the size from `Content-Range`.
    pub fn from_headers(headers: &HeaderMap) -> BlobProperties {
        let mut props = BlobProperties::default();
        for (name, value) in headers {
            let Ok(value) = value.to_str() else { continue };
            let name = name.as_str();
            if let Some(meta) = name.strip_prefix("x-ms-meta-") {
                props.metadata.push((meta.to_string(), value.to_string()));
            } else {
                props.set(name, value);
            }
        }
        if let Some(total) = headers
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, total)| total.trim().parse().ok())
        {
            props.size = total;
        }
        // On a ranged read, Content-MD5 is the range's (when asked for); the blob's own
        // comes as x-ms-blob-content-md5.
        if let Some(md5) = headers
            .get("x-ms-blob-content-md5")
            .and_then(|v| v.to_str().ok())
            .and_then(md5_from_base64)
        {
            props.content_md5 = Some(md5);
        }
        props
    }
}

/// A base64 MD5 (exactly 16 bytes), or `None`.
pub fn md5_from_base64(text: &str) -> Option<[u8; 16]> {
    base64_decode(text.trim())?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::http::HeaderValue;

    #[test]
    fn properties_from_headers() {
        let mut h = HeaderMap::new();
        let mut put = |k: &'static str, v: &str| {
            h.insert(
                k,
                HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}")),
            );
        };
        put("content-length", "11");
        put("last-modified", "Mon, 06 Jan 2025 10:00:00 GMT");
        put("etag", "\"0x8DD2E3F\"");
        put("content-md5", "XrY7u+Ae7tCTyyK7j1rNww==");
        put("content-type", "text/plain");
        put("cache-control", "no-cache");
        put("x-ms-blob-type", "BlockBlob");
        put("x-ms-access-tier", "Cool");
        put("x-ms-tag-count", "2");
        put("x-ms-meta-origin", "laptop");
        put("x-ms-meta-mtime", "1700000000");
        let p = BlobProperties::from_headers(&h);
        assert_eq!(p.size, 11);
        assert_eq!(p.last_modified.map(|t| t.secs), Some(1_736_157_600));
        assert_eq!(p.etag.as_deref(), Some("\"0x8DD2E3F\""));
        assert_eq!(
            p.content_md5_base64().as_deref(),
            Some("XrY7u+Ae7tCTyyK7j1rNww==")
        );
        assert_eq!(p.content.content_type.as_deref(), Some("text/plain"));
        assert_eq!(p.content.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(p.access_tier.as_deref(), Some("Cool"));
        assert_eq!(p.tag_count, Some(2));
        assert_eq!(p.metadata.len(), 2);
        assert!(p.metadata.contains(&("origin".into(), "laptop".into())));
    }

    #[test]
    fn a_ranged_read_reports_the_whole_size_and_the_blobs_md5() {
        let mut h = HeaderMap::new();
        h.insert("content-length", HeaderValue::from_static("4"));
        h.insert("content-range", HeaderValue::from_static("bytes 2-5/100"));
        h.insert(
            "content-md5",
            HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAA=="),
        );
        h.insert(
            "x-ms-blob-content-md5",
            HeaderValue::from_static("XrY7u+Ae7tCTyyK7j1rNww=="),
        );
        let p = BlobProperties::from_headers(&h);
        assert_eq!(p.size, 100);
        assert_eq!(
            p.content_md5_base64().as_deref(),
            Some("XrY7u+Ae7tCTyyK7j1rNww==")
        );
        assert_eq!(md5_from_base64("Zm9v"), None);
    }
}
