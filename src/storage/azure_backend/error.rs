//! Blob client errors as storage errors: the kinds the engine decides on, with the
//! service's `x-ms-error-code` and `x-ms-request-id` kept for the message.

use crate::azure::{self, AzureError};
use crate::storage::error::{ErrorKind, ServiceAnswer, StorageError};

/// The storage error of a Blob client error.
pub fn from_azure(e: AzureError) -> StorageError {
    use azure::ErrorKind as K;
    let code = e.code.as_str();
    let kind = match e.kind {
        _ if matches!(code, "Md5Mismatch" | "InvalidMd5" | "Crc64Mismatch") => ErrorKind::Integrity,
        // A copy refused for the size of its source: the engine streams instead.
        _ if code == "CannotVerifyCopySource" && e.message.contains("too large") => {
            ErrorKind::Unsupported
        }
        _ if matches!(
            code,
            "NotImplemented" | "FeatureNotSupported" | "UnsupportedHeader"
        ) || e.status == Some(501) =>
        {
            ErrorKind::Unsupported
        }
        K::NotFound => ErrorKind::NotFound,
        K::Precondition => ErrorKind::PreconditionFailed,
        // `If-None-Match: *` over an existing blob.
        K::Conflict if code == "BlobAlreadyExists" => ErrorKind::PreconditionFailed,
        K::AccessDenied if refused_credentials(&e) => ErrorKind::Unauthenticated,
        K::AccessDenied => ErrorKind::AccessDenied,
        K::Retryable => ErrorKind::Transient,
        _ if e.status == Some(400) => ErrorKind::InvalidRequest,
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

/// Whether the credentials themselves are refused (every request will fail), rather than
/// lacking a permission for this one. AuthorizationFailure counts as refused: Azure sends it
/// for account-wide refusals (network rules, a SAS that does not cover the container) and
/// Azurite for bad signatures, and a HEAD answer carries no message to tell them apart; the
/// per-object refusals have their own codes (AuthorizationPermissionMismatch and the like).
fn refused_credentials(e: &AzureError) -> bool {
    matches!(
        e.code.as_str(),
        "AuthenticationFailed"
            | "AuthorizationFailure"
            | "InvalidAuthenticationInfo"
            | "NoAuthenticationInformation"
            | "AccountIsDisabled"
            | "CredentialsError"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::error::Retry;

    fn answer(status: u16, code: &str, message: &str) -> StorageError {
        from_azure(AzureError::from_response(
            "PutBlob",
            status,
            code.into(),
            message,
            "req-1".into(),
        ))
    }

    #[test]
    fn kinds_follow_what_the_engine_must_do() {
        let cases = [
            (404, "BlobNotFound", ErrorKind::NotFound),
            (412, "ConditionNotMet", ErrorKind::PreconditionFailed),
            (409, "BlobAlreadyExists", ErrorKind::PreconditionFailed),
            (403, "AuthenticationFailed", ErrorKind::Unauthenticated),
            (403, "AuthorizationFailure", ErrorKind::Unauthenticated),
            (
                403,
                "AuthorizationPermissionMismatch",
                ErrorKind::AccessDenied,
            ),
            (503, "ServerBusy", ErrorKind::Transient),
            (400, "Md5Mismatch", ErrorKind::Integrity),
            (400, "InvalidMd5", ErrorKind::Integrity),
            (501, "NotImplemented", ErrorKind::Unsupported),
            (400, "InvalidMetadata", ErrorKind::InvalidRequest),
            (409, "LeaseIdMissing", ErrorKind::Fatal),
        ];
        for (status, code, kind) in cases {
            let e = answer(status, code, "");
            assert_eq!(e.kind, kind, "{status} {code}");
            assert_eq!(e.code.as_deref(), Some(code));
            assert_eq!(e.request_id.as_deref(), Some("req-1"));
        }
        assert_eq!(answer(503, "ServerBusy", "").retry, Retry::Exhausted);
        assert_eq!(answer(404, "BlobNotFound", "").retry, Retry::Never);
        let too_large = answer(
            409,
            "CannotVerifyCopySource",
            "The source request body for copy source is too large and exceeds the limit.",
        );
        assert_eq!(too_large.kind, ErrorKind::Unsupported);
        assert_eq!(
            answer(404, "CannotVerifyCopySource", "not found").kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn messages_are_one_line_without_signatures() {
        let e = answer(
            403,
            "AuthenticationFailed",
            "Signature did not match for https://a/c/b?sv=1&sig=SECRET%3D\nRequestId:x\nTime:y",
        );
        let shown = e.to_string();
        assert!(
            !shown.contains("SECRET") && !shown.contains('\n'),
            "{shown}"
        );
        assert!(
            shown.contains("(AuthenticationFailed, request id req-1)"),
            "{shown}"
        );
    }
}
