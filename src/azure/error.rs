//! The Blob client's error type. Every failure carries the operation and, where the service
//! answered, its status, `x-ms-error-code`, first message line and `x-ms-request-id`,
//! classified so callers decide to retry, skip or stop without looking at numbers. Nothing
//! in it can hold a secret: messages taken from outside pass through [`redact`].

use std::fmt;

/// What kind of failure this is, for the caller's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Worth trying again: 500, 503 ServerBusy, OperationTimedOut, 408, 429, connection faults,
    /// a body cut short, Md5Mismatch (bytes altered on the way).
    Retryable,
    /// The container, blob or block list does not exist (404, BlobNotFound, ContainerNotFound).
    NotFound,
    /// Credentials were refused or lack the permission (401, 403, AuthenticationFailed,
    /// AuthorizationFailure, AuthorizationPermissionMismatch).
    AccessDenied,
    /// A condition (`If-Match`, `If-None-Match`, ...) failed (412, ConditionNotMet).
    Precondition,
    /// The resource exists or is leased (409: ContainerAlreadyExists, BlobAlreadyExists, ...).
    Conflict,
    /// The service answered with something we could not understand.
    BadResponse,
    /// Anything else: retrying will not help.
    Fatal,
}

/// A failed Blob operation.
#[derive(Debug, Clone)]
pub struct AzureError {
    pub kind: ErrorKind,
    /// The operation, e.g. `PutBlob`.
    pub op: &'static str,
    /// HTTP status, when the service answered.
    pub status: Option<u16>,
    /// `x-ms-error-code` (`BlobNotFound`), or a short description for local failures.
    pub code: String,
    /// One line, without secrets.
    pub message: String,
    /// `x-ms-request-id`, for support requests.
    pub request_id: String,
}

impl AzureError {
    /// An error answer of the service, classified.
    pub fn from_response(
        op: &'static str,
        status: u16,
        code: String,
        message: &str,
        request_id: String,
    ) -> AzureError {
        AzureError {
            kind: classify(status, &code),
            op,
            status: Some(status),
            code,
            message: first_line(&redact(message)),
            request_id,
        }
    }

    /// A transport failure (connection refused or reset, timeout, truncated body).
    pub fn transport(op: &'static str, message: &str, retryable: bool) -> AzureError {
        AzureError::local(
            op,
            if retryable {
                ErrorKind::Retryable
            } else {
                ErrorKind::Fatal
            },
            "TransportError",
            message,
        )
    }

    /// A failure on our side of the wire: bad input, no credentials, an unreadable source.
    pub fn local(op: &'static str, kind: ErrorKind, code: &str, message: &str) -> AzureError {
        AzureError {
            kind,
            op,
            status: None,
            code: code.into(),
            message: first_line(&redact(message)),
            request_id: String::new(),
        }
    }

    /// The service's answer could not be parsed.
    pub fn bad_response(op: &'static str, message: &str) -> AzureError {
        AzureError::local(op, ErrorKind::BadResponse, "BadResponse", message)
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Maps a status and `x-ms-error-code` onto an [`ErrorKind`]: the code first, as it is more
/// precise (a 500 OperationTimedOut and a 503 ServerBusy are both worth a retry, a 400
/// Md5Mismatch too), then the status.
pub fn classify(status: u16, code: &str) -> ErrorKind {
    match code {
        "ServerBusy" | "OperationTimedOut" | "InternalError" | "Md5Mismatch" => {
            return ErrorKind::Retryable;
        }
        // CannotVerifyCopySource is left to its status: 403 or 404 from the copy's source.
        "BlobNotFound" | "ContainerNotFound" | "ResourceNotFound" => return ErrorKind::NotFound,
        "AuthenticationFailed"
        | "AuthorizationFailure"
        | "AuthorizationPermissionMismatch"
        | "AuthorizationProtocolMismatch"
        | "AuthorizationSourceIPMismatch"
        | "AuthorizationResourceTypeMismatch"
        | "AuthorizationServiceMismatch"
        | "InsufficientAccountPermissions"
        | "InvalidAuthenticationInfo"
        | "NoAuthenticationInformation"
        | "AccountIsDisabled" => return ErrorKind::AccessDenied,
        "ConditionNotMet" | "SourceConditionNotMet" | "TargetConditionNotMet" => {
            return ErrorKind::Precondition;
        }
        _ => {}
    }
    match status {
        501 | 505 => ErrorKind::Fatal,
        500..=599 | 429 | 408 => ErrorKind::Retryable,
        404 => ErrorKind::NotFound,
        401 | 403 => ErrorKind::AccessDenied,
        409 => ErrorKind::Conflict,
        412 => ErrorKind::Precondition,
        _ => ErrorKind::Fatal,
    }
}

/// The first line of a service message: Azure appends `RequestId:...` and `Time:...` lines.
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Replaces the value of every SAS signature (`sig=`) in `text`, so a URL echoed by a
/// server, a proxy or an HTTP library never carries one into a message or a log.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_sig(rest) {
        let (head, tail) = rest.split_at(i + 4);
        out.push_str(head);
        let end = tail
            .find(['&', ' ', '"', '\'', '<', '\n', '\r'])
            .unwrap_or(tail.len());
        out.push_str("REDACTED");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where `sig=` starts as a query parameter (case-insensitively, after `?`, `&` or the start).
fn find_sig(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("sig=") {
        let at = from + i;
        if at == 0 || matches!(lower.as_bytes()[at - 1], b'?' | b'&' | b' ' | b'"') {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

impl fmt::Display for AzureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.op)?;
        match self.status {
            Some(status) => {
                let code = if self.code.is_empty() {
                    "error"
                } else {
                    &self.code
                };
                write!(f, "{code} (HTTP {status})")?;
                if !self.message.is_empty() {
                    write!(f, ": {}", self.message)?;
                }
            }
            None => write!(f, "{}", self.message)?,
        }
        if !self.request_id.is_empty() {
            write!(f, " [request id {}]", self.request_id)?;
        }
        Ok(())
    }
}

impl std::error::Error for AzureError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_code_before_status() {
        assert_eq!(classify(503, "ServerBusy"), ErrorKind::Retryable);
        assert_eq!(classify(500, "OperationTimedOut"), ErrorKind::Retryable);
        assert_eq!(classify(400, "Md5Mismatch"), ErrorKind::Retryable);
        assert_eq!(classify(408, ""), ErrorKind::Retryable);
        assert_eq!(classify(404, "BlobNotFound"), ErrorKind::NotFound);
        assert_eq!(classify(404, "ContainerNotFound"), ErrorKind::NotFound);
        assert_eq!(
            classify(403, "AuthenticationFailed"),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(403, "AuthorizationPermissionMismatch"),
            ErrorKind::AccessDenied
        );
        assert_eq!(classify(412, "ConditionNotMet"), ErrorKind::Precondition);
        assert_eq!(classify(409, "ContainerAlreadyExists"), ErrorKind::Conflict);
        assert_eq!(classify(400, "InvalidHeaderValue"), ErrorKind::Fatal);
        assert_eq!(classify(501, "NotImplemented"), ErrorKind::Fatal);
        // A copy whose source cannot be read is about the source, not a missing target.
        assert_eq!(
            classify(403, "CannotVerifyCopySource"),
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn displays_one_line_with_code_status_and_request_id() {
        let e = AzureError::from_response(
            "GetBlob",
            404,
            "BlobNotFound".into(),
            "The specified blob does not exist.\nRequestId:abc\nTime:2025-01-01T00:00:00Z",
            "abc".into(),
        );
        assert_eq!(
            e.to_string(),
            "GetBlob failed: BlobNotFound (HTTP 404): The specified blob does not exist. \
             [request id abc]"
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
    }

    #[test]
    fn signatures_never_reach_a_message() {
        let text =
            "GET https://a.blob.core.windows.net/c/b?sv=2025-01-05&sig=abc%2Fdef%3D&se=x failed";
        let shown = redact(text);
        assert!(!shown.contains("abc%2Fdef"), "{shown}");
        assert!(shown.contains("sig=REDACTED&se=x"), "{shown}");
        assert_eq!(redact("?SIG=secret"), "?SIG=REDACTED");
        // Words that merely end in "sig=" are left alone.
        assert_eq!(redact("configsig=1"), "configsig=1");
        let e = AzureError::transport("PutBlob", "reset: https://h/c?sig=SECRET", true);
        assert!(!e.to_string().contains("SECRET"));
    }
}
