//! The S3 request headers of a write: what a new object is given (metadata, tags, storage
//! class, canned ACL, requester pays, server-side encryption), the integrity headers of a
//! body (Content-MD5, an additional checksum), and the directives of a server-side copy.
//! The engine decides what an object gets, in neutral terms ([`NewObject`]); how S3 is told
//! is decided here, with the S3 side's own write settings ([`S3WriteSettings`], built by
//! `cli`/`config`), so no `x-amz-*` name is spelt in the engine.

use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::storage::props::ObjectMeta;
use crate::util::encoding::{base64, tag_query};

/// Write settings of the S3 side that have no meaning elsewhere.
#[derive(Debug, Clone, Default)]
pub struct S3WriteSettings {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub acl: Option<String>,
    /// Wins over the source's class.
    pub storage_class: Option<String>,
}

/// What a new object is given, as the engine (and the preprocess callback) decided it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewObject<'a> {
    pub meta: Option<&'a ObjectMeta>,
    pub tags: &'a [(String, String)],
    pub storage_class: Option<&'a str>,
    /// A canned ACL.
    pub acl: Option<&'a str>,
    /// `requester`, to accept the charges of a requester-pays bucket.
    pub request_payer: Option<&'a str>,
}

/// The headers that give a new object `new`, encrypted as `settings` say.
pub fn object_headers(new: &NewObject<'_>, settings: &S3WriteSettings) -> Vec<(String, String)> {
    let mut out = new.meta.map(ObjectMeta::to_headers).unwrap_or_default();
    let mut push = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push((name.to_string(), v.to_string()));
        }
    };
    push("x-amz-storage-class", new.storage_class);
    push("x-amz-acl", new.acl);
    push("x-amz-request-payer", new.request_payer);
    push("x-amz-server-side-encryption", settings.sse.as_deref());
    push(
        "x-amz-server-side-encryption-aws-kms-key-id",
        settings.sse_kms_key_id.as_deref(),
    );
    if !new.tags.is_empty() {
        out.push(("x-amz-tagging".into(), tag_query(new.tags)));
    }
    out
}

/// `Content-MD5` of a body whose MD5 is `md5`.
pub fn content_md5(md5: &[u8]) -> (String, String) {
    ("content-md5".into(), base64(md5))
}

/// The integrity headers of a body whose digests are known before it is sent: Content-MD5
/// (when given) and an additional checksum (`algorithm`, raw value) of a single-part object
/// or one part.
pub fn digest_headers(
    md5: Option<&[u8; 16]>,
    checksum: Option<(Algorithm, &[u8])>,
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(3);
    if let Some(md5) = md5 {
        headers.push(content_md5(md5));
    }
    if let Some((algorithm, raw)) = checksum {
        headers.push((algorithm.header().into(), checksum::encode(raw)));
        // As the AWS SDKs do: some stores keep the checksum only when told its algorithm.
        headers.push((
            "x-amz-sdk-checksum-algorithm".into(),
            algorithm.name().into(),
        ));
    }
    headers
}

/// The headers of a CreateMultipartUpload whose object gets the checksum `spec`.
pub fn upload_checksum(spec: ChecksumSpec) -> [(String, String); 2] {
    [
        (
            "x-amz-checksum-algorithm".into(),
            spec.algorithm.name().into(),
        ),
        ("x-amz-checksum-type".into(), spec.type_name().into()),
    ]
}

/// The directives of a CopyObject that gives the copy the metadata and tags sent with it
/// (not the source's), and, with `algorithm`, has the store compute that checksum.
pub fn copy_directives(algorithm: Option<Algorithm>) -> Vec<(String, String)> {
    let mut out = vec![
        ("x-amz-metadata-directive".into(), "REPLACE".into()),
        ("x-amz-tagging-directive".into(), "REPLACE".into()),
    ];
    if let Some(a) = algorithm {
        out.push(("x-amz-checksum-algorithm".into(), a.name().into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_object_is_told_to_s3_in_its_headers() {
        let tags = vec![("a b".to_string(), "c&d".to_string())];
        let new = NewObject {
            tags: &tags,
            storage_class: Some("GLACIER"),
            acl: Some("private"),
            request_payer: Some("requester"),
            ..NewObject::default()
        };
        let settings = S3WriteSettings {
            sse: Some("aws:kms".into()),
            sse_kms_key_id: Some("key-1".into()),
            ..S3WriteSettings::default()
        };
        let h = object_headers(&new, &settings);
        for (name, value) in [
            ("x-amz-storage-class", "GLACIER"),
            ("x-amz-acl", "private"),
            ("x-amz-request-payer", "requester"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "key-1"),
            ("x-amz-tagging", "a%20b=c%26d"),
        ] {
            assert!(h.contains(&(name.into(), value.into())), "{name} in {h:?}");
        }
        let bare = object_headers(&NewObject::default(), &S3WriteSettings::default());
        assert!(bare.is_empty(), "{bare:?}");
    }
}
