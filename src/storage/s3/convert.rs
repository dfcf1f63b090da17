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

/// The storage error of an S3 client error. Refused or unobtainable credentials (and a
/// request signed for another region) fail every request alike, so they stop the run. A
/// denial S3 names (`AccessDenied`, a policy; `InvalidObjectState`, an archived object) is
/// about one object. A 403 without a code (the answer to a HEAD has no body) cannot tell
/// the two apart: as the first request a store sees may be one, it counts as refused
/// credentials here; [`from_s3_object_request`] reads it for requests about one object.
pub fn from_s3(e: S3Error) -> StorageError {
    use s3client::ErrorKind as K;
    let kind = match e.kind {
        K::NotFound => ErrorKind::NotFound,
        K::Precondition => ErrorKind::PreconditionFailed,
        _ if REFUSED_CREDENTIALS.contains(&e.code.as_str()) => ErrorKind::Unauthenticated,
        K::WrongRegion => ErrorKind::Unauthenticated,
        K::AccessDenied
            if matches!(
                e.code.as_str(),
                "AccessDenied" | "AllAccessDisabled" | "InvalidObjectState"
            ) =>
        {
            ErrorKind::AccessDenied
        }
        K::AccessDenied => ErrorKind::Unauthenticated,
        K::Retryable if e.code == "BadDigest" => ErrorKind::Integrity,
        K::Retryable => ErrorKind::Transient,
        _ if e.code == "NotImplemented" || e.status == Some(501) => ErrorKind::Unsupported,
        _ => ErrorKind::Fatal,
    };
    from_service(kind, e)
}

/// As [`from_s3`], for a request about one object made after a listing of the same store
/// succeeded with the same credentials (the engine's S3 transfers): any denial but refused
/// credentials is then that object's, and only it is skipped.
pub fn from_s3_object_request(e: S3Error) -> StorageError {
    let denied = e.kind == s3client::ErrorKind::AccessDenied
        && !REFUSED_CREDENTIALS.contains(&e.code.as_str());
    let mut out = from_s3(e);
    if denied {
        out.kind = ErrorKind::AccessDenied;
    }
    out
}

fn from_service(kind: ErrorKind, e: S3Error) -> StorageError {
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

/// The codes of credentials S3 refuses (or that could not be had at all).
const REFUSED_CREDENTIALS: [&str; 5] = [
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "InvalidToken",
    "CredentialsError",
];

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
    let encrypted = head.encrypted();
    let tag = ContentTag::from_s3_etag(head.etag.as_deref(), encrypted);
    Properties {
        size: head.size,
        modified: head.last_modified,
        tag,
        stored: stored(head.checksum, head.checksum_type.as_deref()),
        checksum_type: head.checksum_type,
        encrypted,
        encryption: head.sse,
        customer_key: head.sse_customer_algorithm,
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
