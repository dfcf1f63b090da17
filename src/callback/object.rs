//! What the filter and preprocess callbacks are shown and may change.

use crate::integrity::checksum::Algorithm;
use crate::storage::azure_backend::TIERS as ACCESS_TIERS;
use crate::storage::props::ObjectMeta;
use crate::storage::s3::names::{CANNED_ACLS, STORAGE_CLASSES};
use crate::util::time::Timestamp;

/// A source object as the listing shows it, for the filter callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Key relative to SOURCE (the prefix or directory removed).
    pub key: String,
    /// Size in bytes (0 for a delete marker).
    pub size: u64,
    pub last_modified: Timestamp,
    /// ETag as listed, quotes included; `None` for local files and delete markers.
    pub e_tag: Option<String>,
    /// The version, when the object comes from a versioned listing (`--enable-versioning`,
    /// `--point-in-time`).
    pub version_id: Option<String>,
    /// The additional checksum algorithm the listing reports (`CRC64NVME`, `SHA256`, ...).
    pub checksum_algorithm: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE`, when the listing reports it.
    pub checksum_type: Option<String>,
    /// Whether this is the key's current version. Always true outside `--enable-versioning`
    /// (with `--point-in-time`, each object is the version current at that time).
    pub is_latest: bool,
    /// A delete marker (`--enable-versioning` only): it has no size, ETag or content.
    pub is_delete_marker: bool,
}

/// The source of an object about to be written to S3, for the preprocess callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceObject {
    /// The key the object is written under on the target (prefix included).
    pub key: String,
    /// The key relative to SOURCE.
    pub source_key: String,
    pub size: u64,
    pub last_modified: Option<Timestamp>,
    /// The source's ETag (S3 sources only).
    pub e_tag: Option<String>,
    pub version_id: Option<String>,
    /// The source's metadata: an S3 object's headers, or for a local file the Content-Type
    /// guessed from its extension.
    pub meta: ObjectMeta,
    pub storage_class: Option<String>,
    /// How many tags the source object has (S3 sources, when it has some).
    pub tag_count: Option<u32>,
    /// The additional checksum the source reports, when it was asked for.
    pub checksum: Option<(Algorithm, String)>,
    pub checksum_type: Option<String>,
    pub parts_count: Option<u32>,
    pub server_side_encryption: Option<String>,
    pub sse_customer_algorithm: Option<String>,
}

/// What a new target object is given. The preprocess callback may change any of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadMetadata {
    /// Content-Type, -Encoding, -Disposition, -Language, Cache-Control, Expires (an HTTP
    /// date), the website redirect, and the user metadata.
    pub meta: ObjectMeta,
    /// Tags (empty: none).
    pub tags: Vec<(String, String)>,
    /// `None`: the bucket's default (STANDARD).
    pub storage_class: Option<String>,
    /// Canned ACL.
    pub acl: Option<String>,
    /// `requester` to send `x-amz-request-payer` with the write (set from
    /// `--target-request-payer`; a preprocess callback may set it for one object).
    pub request_payer: Option<String>,
}

/// Whether `name` can be the name of an HTTP header (RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` can travel in an HTTP header: no control characters.
fn is_header_value(value: &str) -> bool {
    !value.chars().any(|c| c.is_control())
}

impl UploadMetadata {
    /// Checks that every value can be sent to S3. `Err` names the first that cannot.
    pub fn check(&self) -> Result<(), String> {
        let m = &self.meta;
        let system = [
            ("content_type", &m.content_type),
            ("content_encoding", &m.content_encoding),
            ("cache_control", &m.cache_control),
            ("content_disposition", &m.content_disposition),
            ("content_language", &m.content_language),
            ("expires", &m.expires),
            ("website_redirect_location", &m.website_redirect),
        ];
        for (name, value) in system {
            if let Some(v) = value
                && !is_header_value(v)
            {
                return Err(format!("{name} {v:?} contains a control character"));
            }
        }
        if let Some(expires) = &m.expires
            && Timestamp::parse_http_date(expires).is_none()
        {
            return Err(format!("expires {expires:?} is not a date"));
        }
        for (name, value) in &m.user {
            if !is_token(name) {
                return Err(format!(
                    "metadata name {name:?} cannot be an HTTP header name (use letters, digits, - and _)"
                ));
            }
            if !is_header_value(value) {
                return Err(format!(
                    "metadata {name}: the value {value:?} contains a control character"
                ));
            }
        }
        if self.tags.len() > 10 {
            return Err(format!(
                "{} tags: S3 allows at most 10 per object",
                self.tags.len()
            ));
        }
        if let Some((key, _)) = self.tags.iter().find(|(k, _)| k.is_empty()) {
            return Err(format!("tag key {key:?} is empty"));
        }
        // An S3 storage class or, for a Blob target, an access tier; the target refuses
        // (S3) or drops (Blob) a name of the other kind.
        if let Some(class) = &self.storage_class
            && !STORAGE_CLASSES.contains(&class.as_str())
            && !ACCESS_TIERS.contains(&class.as_str())
        {
            return Err(format!(
                "storage_class {class:?} is not one of: {} (S3), {} (Azure Blob)",
                STORAGE_CLASSES.join(", "),
                ACCESS_TIERS.join(", ")
            ));
        }
        if let Some(payer) = &self.request_payer
            && payer != "requester"
        {
            return Err(format!("request_payer {payer:?} is not one of: requester"));
        }
        if let Some(acl) = &self.acl
            && !CANNED_ACLS.contains(&acl.as_str())
        {
            return Err(format!(
                "acl {acl:?} is not one of: {}",
                CANNED_ACLS.join(", ")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_first_bad_value() {
        let mut upload = UploadMetadata::default();
        assert_eq!(upload.check(), Ok(()));
        upload.meta.user = vec![("bad name".into(), "v".into())];
        assert!(upload.check().unwrap_err().contains("bad name"));
        upload.meta.user = vec![("ok".into(), "line\nbreak".into())];
        assert!(upload.check().unwrap_err().contains("control character"));
        upload.meta.user.clear();
        upload.storage_class = Some("FAST".into());
        assert!(upload.check().unwrap_err().starts_with("storage_class"));
        upload.storage_class = Some("STANDARD_IA".into());
        upload.acl = Some("everyone".into());
        assert!(upload.check().unwrap_err().starts_with("acl"));
        upload.acl = Some("private".into());
        upload.request_payer = Some("owner".into());
        assert!(upload.check().unwrap_err().starts_with("request_payer"));
        upload.request_payer = Some("requester".into());
        upload.meta.expires = Some("soon".into());
        assert!(upload.check().unwrap_err().starts_with("expires"));
        upload.meta.expires = Some("Sat, 15 Jun 2024 01:02:27 GMT".into());
        upload.tags = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(upload.check().unwrap_err().contains("at most 10"));
        upload.tags.truncate(10);
        assert_eq!(upload.check(), Ok(()));
    }
}
