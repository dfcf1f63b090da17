//! S3 client answers in storage terms: errors as [`StorageError`], HEAD answers as
//! [`Properties`], write answers as [`Written`]. Used by the S3 backend and by the
//! engine's S3 fast paths through [`S3Store`](super::S3Store), so no S3 type reaches the
//! engine.

use crate::integrity::checksum::Algorithm;
use crate::s3::ops::{self, ObjectHead};
use crate::s3::{self as s3client, S3Error};
use crate::storage::backend::Written;
use crate::storage::error::{ErrorKind, ServiceAnswer, StorageError};
use crate::storage::props::{
    ChecksumScope, ContentTag, Properties, StoredAlgorithm, StoredChecksum,
};

/// The storage error of an S3 client error.
pub fn from_s3(e: S3Error) -> StorageError {
    use s3client::ErrorKind as K;
    let kind = match e.kind {
        K::NotFound => ErrorKind::NotFound,
        K::Precondition => ErrorKind::PreconditionFailed,
        K::AccessDenied if matches!(e.code.as_str(), "AccessDenied" | "AllAccessDisabled") => {
            ErrorKind::AccessDenied
        }
        K::AccessDenied => ErrorKind::Unauthenticated,
        K::Retryable if e.code == "BadDigest" => ErrorKind::Integrity,
        K::Retryable => ErrorKind::Transient,
        _ if e.code == "NotImplemented" || e.status == Some(501) => ErrorKind::Unsupported,
        K::WrongRegion => ErrorKind::InvalidRequest,
        _ => ErrorKind::Fatal,
    };
    StorageError::from_service(
        kind,
        ServiceAnswer {
            op: e.op,
            retried: e.is_retryable(),
            code: &e.code,
            request_id: &e.request_id,
            message: &e.message,
        },
    )
}

/// A stored checksum as S3 reports it (a `-N` suffix marks a composite).
fn stored(checksum: Option<(Algorithm, String)>, kind: Option<&str>) -> Vec<StoredChecksum> {
    let Some((algorithm, value)) = checksum else {
        return Vec::new();
    };
    let parts = value
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse::<u32>().ok());
    let scope = match (kind, parts) {
        (Some("FULL_OBJECT"), _) | (_, None) => ChecksumScope::FullObject,
        (_, Some(parts)) => ChecksumScope::Composite { parts },
    };
    vec![StoredChecksum {
        algorithm: StoredAlgorithm::Additional(algorithm),
        scope,
        value,
    }]
}

/// The properties of a HeadObject (or GetObject) answer.
pub fn properties(head: ObjectHead, version: Option<&str>) -> Properties {
    let tag = ContentTag::from_s3_etag(head.etag.as_deref(), head.encrypted());
    Properties {
        size: head.size,
        modified: head.last_modified,
        tag,
        stored: stored(head.checksum, head.checksum_type.as_deref()),
        raw_tag: head.etag,
        content: head.meta,
        tag_count: head.tag_count,
        tier: head.storage_class,
        version: version.map(str::to_string),
        parts: head.parts_count,
    }
}

pub fn written(w: ops::Written) -> Written {
    Written {
        tag: ContentTag::from_s3_etag(w.etag.as_deref(), w.encrypted),
        stored: stored(w.checksum, None),
        raw_tag: w.etag,
        version: w.version_id,
    }
}
