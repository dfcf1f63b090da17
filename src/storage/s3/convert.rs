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
/// denial S3 names in its error body (`AccessDenied`, a policy; `InvalidObjectState`, an
/// archived object) is about one object. A bare 403 (the answer to a HEAD has no body; the
/// client calls it `Forbidden`) cannot tell the two apart: as the first request a store
/// sees may be one, it counts as refused credentials here; [`from_s3_object_request`]
/// reads it for requests about one object.
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

/// As [`from_s3`], for the engine's requests about one object (its S3 transfers, update
/// checks and reports), made once a listing of the same store succeeded with the same
/// credentials: any denial but refused credentials is then that object's, and only it is
/// skipped.
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
    // An answer without a body (a HEAD, a proxy's error page) has no message: its status
    // says what happened.
    let message = match (e.message.is_empty(), e.status) {
        (true, Some(status)) => format!("HTTP {status}"),
        _ => e.message.clone(),
    };
    StorageError::from_service(
        kind,
        ServiceAnswer {
            op: e.op,
            retried: e.is_retryable(),
            code: &e.code,
            request_id: &e.request_id,
            message: &message,
        },
    )
}

/// Whether a server-side copy that failed with `e` may be done again by streaming the bytes
/// through this program: the store lacks the copy operation (or one of its forms), or a
/// policy (or credentials valid for plain reads and writes only) refuses it. Not for what a
/// streamed copy would meet as well: a request for another region, an answer that could not
/// be read, a missing object, a failed condition, a transient failure.
pub fn copy_refused(e: &StorageError) -> bool {
    let code = e.code.as_deref().unwrap_or_default();
    matches!(e.op, "CopyObject" | "UploadPartCopy")
        && matches!(
            e.kind,
            ErrorKind::Fatal
                | ErrorKind::Unsupported
                | ErrorKind::AccessDenied
                | ErrorKind::Unauthenticated
        )
        && !WRONG_REGION.contains(&code)
        && code != "BadResponse"
}

/// The codes of a request sent to the wrong region (or signed for one).
const WRONG_REGION: [&str; 3] = [
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
];

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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(op: &'static str, status: u16, code: &str, message: &str) -> S3Error {
        S3Error::from_response(op, status, code.into(), message.into(), "R1".into())
    }

    #[test]
    fn answers_without_a_body_say_their_status() {
        let e = from_s3(answer("HeadObject", 403, "Forbidden", ""));
        assert_eq!(
            e.to_string(),
            "HeadObject failed: HTTP 403 (Forbidden, request id R1)"
        );
        assert_eq!(e.kind, ErrorKind::Unauthenticated);
        // About one object, after a listing worked: that object is skipped.
        let e = from_s3_object_request(answer("HeadObject", 403, "Forbidden", ""));
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        let e = from_s3(answer("PutObject", 502, "", ""));
        assert_eq!(e.to_string(), "PutObject failed: HTTP 502 (request id R1)");
        let e = from_s3(answer(
            "GetObject",
            404,
            "NoSuchKey",
            "The key does not exist",
        ));
        assert_eq!(
            e.to_string(),
            "GetObject failed: The key does not exist (NoSuchKey, request id R1)"
        );
    }

    #[test]
    fn refused_credentials_and_other_regions_stop_the_run_denials_do_not() {
        for code in [
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "ExpiredToken",
        ] {
            let e = from_s3_object_request(answer("GetObject", 403, code, "no"));
            assert_eq!(e.kind, ErrorKind::Unauthenticated, "{code}");
        }
        let e = from_s3(answer("GetObject", 301, "PermanentRedirect", "elsewhere"));
        assert!(e.is_fatal_for_run());
        for code in ["AccessDenied", "InvalidObjectState"] {
            let e = from_s3(answer("GetObject", 403, code, "no"));
            assert_eq!(e.kind, ErrorKind::AccessDenied, "{code}");
        }
    }

    #[test]
    fn only_copies_the_server_refuses_are_streamed_instead() {
        let refused = |op, status, code: &str| {
            copy_refused(&from_s3_object_request(answer(op, status, code, "x")))
        };
        assert!(refused("CopyObject", 403, "AccessDenied"));
        assert!(refused("UploadPartCopy", 501, "NotImplemented"));
        assert!(refused("CopyObject", 400, "InvalidRequest"));
        assert!(!refused("CopyObject", 301, "PermanentRedirect"));
        assert!(!refused("CopyObject", 404, "NoSuchKey"));
        assert!(!refused("CopyObject", 503, "SlowDown"));
        assert!(!refused("PutObject", 403, "AccessDenied"));
        let unreadable = S3Error::bad_response("CopyObject", "no CopyObjectResult");
        assert!(!copy_refused(&from_s3_object_request(unreadable)));
    }
}
