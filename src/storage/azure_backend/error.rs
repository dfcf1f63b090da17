//! Blob client errors as storage errors: the kinds the engine decides on, with the
//! service's `x-ms-error-code` and `x-ms-request-id` kept for the message.

use crate::azure::{self, AzureError};
use crate::storage::error::{ErrorKind, Retry, StorageError};

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
    StorageError {
        kind,
        // The client retried what it could before giving the error back.
        retry: if e.is_retryable() {
            Retry::Exhausted
        } else {
            Retry::Never
        },
        op: e.op,
        name: None,
        code: (!e.code.is_empty()).then(|| e.code.clone()),
        request_id: (!e.request_id.is_empty()).then(|| e.request_id.clone()),
        message: if e.message.is_empty() {
            e.code.clone()
        } else {
            e.message.clone()
        },
    }
}

/// Whether the credentials themselves are refused (every request will fail), rather than
/// lacking a permission for this one.
fn refused_credentials(e: &AzureError) -> bool {
    match e.code.as_str() {
        "AuthenticationFailed"
        | "InvalidAuthenticationInfo"
        | "NoAuthenticationInformation"
        | "AccountIsDisabled"
        | "CredentialsError" => true,
        "AuthorizationFailure" => e.message.to_ascii_lowercase().contains("signature"),
        _ => false,
    }
}
