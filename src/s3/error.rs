//! The S3 client's error type. Every failure carries the operation and, where S3 answered,
//! its status, error code, message and request id, classified so callers can decide
//! whether to retry, skip or stop without looking at numbers.

use std::fmt;

/// What kind of failure this is, for the caller's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Worth trying again: 500, 503 SlowDown, 429, RequestTimeout, connection reset, truncated body.
    Retryable,
    /// The bucket, key or upload does not exist (404, NoSuchKey, NoSuchBucket, NoSuchUpload).
    NotFound,
    /// Credentials were refused or lack the permission (403, SignatureDoesNotMatch, InvalidAccessKeyId).
    AccessDenied,
    /// An `If-Match` / `If-None-Match` condition failed (412, or 409 ConditionalRequestConflict).
    Precondition,
    /// The request was sent to the wrong region; `region` in the message says which one to use.
    WrongRegion,
    /// The server answered with something we could not understand.
    BadResponse,
    /// Anything else: retrying will not help.
    Fatal,
}

/// A failed S3 operation.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub kind: ErrorKind,
    /// The operation, e.g. `PutObject`.
    pub op: &'static str,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// S3 error code (`NoSuchKey`), or a short description for transport errors.
    pub code: String,
    pub message: String,
    pub request_id: String,
}

impl S3Error {
    /// Builds an error from an HTTP answer, classifying it.
    pub fn from_response(
        op: &'static str,
        status: u16,
        code: String,
        message: String,
        request_id: String,
    ) -> S3Error {
        let kind = classify(status, &code);
        S3Error {
            kind,
            op,
            status: Some(status),
            code,
            message,
            request_id,
        }
    }

    /// A transport failure (connection refused or reset, timeout, truncated body).
    pub fn transport(op: &'static str, message: impl Into<String>, retryable: bool) -> S3Error {
        S3Error {
            kind: if retryable {
                ErrorKind::Retryable
            } else {
                ErrorKind::Fatal
            },
            op,
            status: None,
            code: "TransportError".into(),
            message: message.into(),
            request_id: String::new(),
        }
    }

    /// No credentials could be had from the configured source (a process that failed, STS
    /// refusing a role, no instance metadata): every request of this client would fail.
    pub fn credentials(op: &'static str, e: &super::credentials::CredentialError) -> S3Error {
        S3Error {
            kind: ErrorKind::Fatal,
            op,
            status: None,
            code: "CredentialsError".into(),
            message: format!("cannot get credentials from {e}"),
            request_id: String::new(),
        }
    }

    /// The server's answer could not be parsed.
    pub fn bad_response(op: &'static str, message: impl Into<String>) -> S3Error {
        S3Error {
            kind: ErrorKind::BadResponse,
            op,
            status: None,
            code: "BadResponse".into(),
            message: message.into(),
            request_id: String::new(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }
}

/// Maps an S3 status and error code onto an [`ErrorKind`].
pub fn classify(status: u16, code: &str) -> ErrorKind {
    match code {
        "SlowDown"
        | "RequestTimeout"
        | "InternalError"
        | "ServiceUnavailable"
        | "RequestTimeTooSkewed"
        | "OperationAborted"
        | "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        // The body did not arrive as sent (bytes altered in transit): sending it again helps.
        | "BadDigest"
        | "XAmzContentSHA256Mismatch" => {
            return ErrorKind::Retryable;
        }
        "NoSuchKey" | "NoSuchBucket" | "NoSuchUpload" | "NoSuchVersion" => {
            return ErrorKind::NotFound;
        }
        "AccessDenied"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "ExpiredToken"
        | "InvalidToken"
        | "AllAccessDisabled"
        | "AccountProblem" => return ErrorKind::AccessDenied,
        "PreconditionFailed" | "ConditionalRequestConflict" => return ErrorKind::Precondition,
        // The store lacks the operation or feature: asking again cannot help.
        "NotImplemented" => return ErrorKind::Fatal,
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => {
            return ErrorKind::WrongRegion;
        }
        _ => {}
    }
    match status {
        501 | 505 => ErrorKind::Fatal,
        500..=599 | 429 | 408 => ErrorKind::Retryable,
        404 => ErrorKind::NotFound,
        401 | 403 => ErrorKind::AccessDenied,
        412 => ErrorKind::Precondition,
        301 => ErrorKind::WrongRegion,
        _ => ErrorKind::Fatal,
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.op)?;
        match self.status {
            Some(status) => {
                write!(
                    f,
                    "{} (HTTP {status})",
                    if self.code.is_empty() {
                        "error"
                    } else {
                        &self.code
                    }
                )?;
                if !self.message.is_empty() {
                    write!(f, ": {}", self.message)?;
                }
                if !self.request_id.is_empty() {
                    write!(f, " [request id {}]", self.request_id)?;
                }
                Ok(())
            }
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for S3Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_code_before_status() {
        assert_eq!(classify(503, "SlowDown"), ErrorKind::Retryable);
        assert_eq!(classify(400, "BadDigest"), ErrorKind::Retryable);
        assert_eq!(classify(400, "RequestTimeout"), ErrorKind::Retryable);
        assert_eq!(classify(404, "NoSuchKey"), ErrorKind::NotFound);
        assert_eq!(
            classify(403, "SignatureDoesNotMatch"),
            ErrorKind::AccessDenied
        );
        assert_eq!(classify(412, ""), ErrorKind::Precondition);
        // An operation the store does not have is not retried (it cost 35 s of backoff per
        // multipart upload to s3s-fs, which has no ListMultipartUploads).
        assert_eq!(classify(501, "NotImplemented"), ErrorKind::Fatal);
        assert_eq!(classify(501, ""), ErrorKind::Fatal);
        assert_eq!(classify(503, ""), ErrorKind::Retryable);
        assert_eq!(classify(400, "InvalidArgument"), ErrorKind::Fatal);
        assert_eq!(classify(502, ""), ErrorKind::Retryable);
    }

    #[test]
    fn displays_one_line_with_request_id() {
        let e = S3Error::from_response(
            "PutObject",
            403,
            "AccessDenied".into(),
            "denied".into(),
            "RID1".into(),
        );
        assert_eq!(
            e.to_string(),
            "PutObject failed: AccessDenied (HTTP 403): denied [request id RID1]"
        );
        assert!(!e.to_string().contains('\n'));
    }
}
