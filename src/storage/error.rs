//! The one error type of the storage interface. Each backend turns its client's errors into
//! it at the boundary, so the engine decides on kinds (skip this object, try it again, stop
//! the run) without knowing which backend answered; the backend's own code and request id
//! travel along for the message.

use std::fmt;

/// What happened, as far as the engine's decision goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object, container or upload does not exist.
    NotFound,
    /// A condition of the request (`If-Match`, `If-None-Match`) does not hold.
    PreconditionFailed,
    /// The credentials work but may not do this (a per-object matter: skip the object).
    AccessDenied,
    /// Every request will fail alike (refused credentials, a request signed for another
    /// region): stop the run.
    Unauthenticated,
    /// This backend, or this pair of backends, cannot do what was asked (a server-side copy
    /// it does not offer, tags on a store without them).
    Unsupported,
    /// The bytes did not arrive intact (BadDigest, a checksum refused): worth another try.
    Integrity,
    /// Failed in a way another attempt may cure (5xx, throttling, a reset connection); the
    /// client has already retried as configured, see [`Retry`].
    Transient,
    /// The request itself is wrong (a bad name, a value the store refuses).
    InvalidRequest,
    /// Anything else: another attempt will not help.
    Fatal,
}

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Never,
    /// Worth another attempt.
    Retryable,
    /// Retryable in kind, but the client's attempts are used up.
    Exhausted,
}

/// A failed storage operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    pub kind: ErrorKind,
    pub retry: Retry,
    /// The operation as the backend names it (`PutObject`, `Put Block`, `write`).
    pub op: &'static str,
    /// The object (`s3://bucket/key`, a path), when the failure is about one.
    pub name: Option<String>,
    /// The backend's own error code (`NoSuchKey`, `BlobNotFound`, an errno name).
    pub code: Option<String>,
    /// The store's request id, for a support ticket.
    pub request_id: Option<String>,
    /// One line, without secrets.
    pub message: String,
}

/// The operations that read a source object (S3's names; the Blob backend reports a missing
/// source through [`Backend::head`](super::backend::Backend::head) instead).
const SOURCE_READS: [&str; 3] = ["GetObject", "HeadObject", "GetObjectTagging"];

/// What a service's error answer says, as a client reports it.
pub struct ServiceAnswer<'a> {
    pub op: &'static str,
    /// Whether the client already retried it as far as it would.
    pub retried: bool,
    /// The service's error code; empty when it gave none.
    pub code: &'a str,
    pub request_id: &'a str,
    /// One line; empty to show the code instead.
    pub message: &'a str,
}

impl StorageError {
    /// The error of a service's answer, classified as `kind` by its backend.
    pub fn from_service(kind: ErrorKind, answer: ServiceAnswer<'_>) -> StorageError {
        let some = |t: &str| (!t.is_empty()).then(|| t.to_string());
        StorageError {
            kind,
            // The client retried what it could before giving the error back.
            retry: if answer.retried {
                Retry::Exhausted
            } else {
                Retry::Never
            },
            op: answer.op,
            name: None,
            code: some(answer.code),
            request_id: some(answer.request_id),
            message: if answer.message.is_empty() {
                answer.code.to_string()
            } else {
                answer.message.to_string()
            },
        }
    }

    pub fn new(kind: ErrorKind, op: &'static str, message: impl Into<String>) -> StorageError {
        StorageError {
            kind,
            retry: Retry::Never,
            op,
            name: None,
            code: None,
            request_id: None,
            message: message.into(),
        }
    }

    /// What the backend cannot do.
    pub fn unsupported(op: &'static str, what: impl Into<String>) -> StorageError {
        StorageError::new(ErrorKind::Unsupported, op, what)
    }

    /// The same error, about `name`.
    pub fn about(mut self, name: impl Into<String>) -> StorageError {
        self.name = Some(name.into());
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether the whole run must stop: refused credentials.
    pub fn is_fatal_for_run(&self) -> bool {
        self.kind == ErrorKind::Unauthenticated
    }

    /// Whether this is a read of an object that is not there (not of a missing bucket or
    /// container, nor a write): a source object that vanished since it was listed.
    pub fn object_vanished(&self) -> bool {
        self.kind == ErrorKind::NotFound
            && SOURCE_READS.contains(&self.op)
            && !matches!(
                self.code.as_deref(),
                Some("NoSuchBucket" | "ContainerNotFound")
            )
    }

    /// Whether the object is archived (S3 Glacier, Deep Archive) and must be restored before
    /// it can be read.
    pub fn object_archived(&self) -> bool {
        self.code.as_deref() == Some("InvalidObjectState")
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op)?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        write!(f, " failed: {}", self.message)?;
        let id = self.request_id.as_deref().filter(|id| !id.is_empty());
        match (self.code.as_deref().filter(|c| *c != self.message), id) {
            (Some(code), Some(id)) => write!(f, " ({code}, request id {id})")?,
            (Some(code), None) => write!(f, " ({code})")?,
            (None, Some(id)) => write!(f, " (request id {id})")?,
            (None, None) => {}
        }
        Ok(())
    }
}

impl std::error::Error for StorageError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_the_backend_code_and_request_id() {
        let mut e =
            StorageError::new(ErrorKind::NotFound, "GetObject", "no such key").about("s3://b/k");
        e.code = Some("NoSuchKey".into());
        e.request_id = Some("R1".into());
        assert_eq!(
            e.to_string(),
            "GetObject s3://b/k failed: no such key (NoSuchKey, request id R1)"
        );
        assert!(e.is_not_found() && !e.is_fatal_for_run());
        let plain = StorageError::unsupported("copy", "no server-side copy between these stores");
        assert_eq!(
            plain.to_string(),
            "copy failed: no server-side copy between these stores"
        );
    }
}
