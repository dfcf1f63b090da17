//! Why a transfer failed, classified for the worker's decision: retry the object, skip it
//! with a warning, count an error, or stop the run.

use super::*;

/// Why a transfer failed.
#[derive(Debug)]
pub enum TransferError {
    /// The source vanished between listing and transfer.
    SourceGone(String),
    /// Reading or writing a local file failed.
    Io(String),
    /// A store reached through the storage interface refused or failed.
    Storage(StorageError),
    /// The source changed while it was being read (a different version answered, a file
    /// changed size): worth another attempt; nothing corrupt was stored.
    Mismatch(String),
    /// What landed does not match what was read: the object written is corrupt. Another
    /// attempt may succeed; if none does, the bad object must not stay under its name.
    Corrupt(Corruption, String),
    /// Like `Corrupt`, but the corrupt object was removed from the target already.
    Removed(Corruption, String),
    /// The object cannot be represented on the target (e.g. a key that would escape the
    /// target directory); skipped with a warning.
    Refused(String),
    /// A response body was cut short or reset: worth another attempt.
    Network(String),
    /// The run was cancelled mid-transfer.
    Cancelled,
    /// The preprocess callback failed: the run stops.
    Callback(String),
    /// The preprocess callback chose not to write the object.
    Declined,
}

/// Which comparison showed a written object to be corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    Etag,
    Checksum,
}

impl TransferError {
    /// Whether this failure means every other transfer will fail too (bad credentials,
    /// missing bucket), so the run should stop.
    pub fn is_fatal(&self) -> bool {
        match self {
            TransferError::Callback(_) => true,
            TransferError::Storage(e) => {
                e.is_fatal_for_run()
                    || (e.kind == StorageKind::NotFound
                        && matches!(
                            e.code.as_deref(),
                            Some("ContainerNotFound" | "NoSuchBucket")
                        ))
            }
            _ => false,
        }
    }

    /// Why this object can be skipped with a warning rather than fail the run, as the
    /// reference does: it is archived (Glacier) or this object alone is off limits.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self {
            TransferError::Storage(e) if e.kind == StorageKind::PreconditionFailed => {
                Some("precondition (--if-match, --if-none-match or --copy-source-if-match) failed")
            }
            _ if self.is_archived() => {
                Some("the object is archived (e.g. Glacier) and cannot be read until restored")
            }
            TransferError::Storage(e) if e.kind == StorageKind::AccessDenied => {
                Some("access denied")
            }
            _ => None,
        }
    }
}

impl TransferError {
    /// Whether trying the whole object again later may succeed: the store or the network
    /// failed every attempt of a request, or the source changed while it was read.
    pub fn is_transient(&self) -> bool {
        match self {
            TransferError::Storage(e) => {
                e.retry != Retry::Never || e.kind == StorageKind::Integrity
            }
            TransferError::Network(_) | TransferError::Mismatch(_) => true,
            _ => false,
        }
    }

    /// Whether the object is archived (Glacier, Deep Archive) and must be restored before it
    /// can be read.
    pub fn is_archived(&self) -> bool {
        matches!(self, TransferError::Storage(e) if e.object_archived())
    }
}

impl From<StorageError> for TransferError {
    fn from(e: StorageError) -> Self {
        // Only a missing source object is "gone"; a 404 on a write is a real failure.
        if e.object_vanished() {
            TransferError::SourceGone(e.to_string())
        } else {
            TransferError::Storage(e)
        }
    }
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::SourceGone(m)
            | TransferError::Io(m)
            | TransferError::Mismatch(m)
            | TransferError::Corrupt(_, m)
            | TransferError::Removed(_, m)
            | TransferError::Refused(m)
            | TransferError::Network(m) => f.write_str(m),
            TransferError::Storage(e) => write!(f, "{e}"),
            TransferError::Cancelled => f.write_str("cancelled"),
            TransferError::Callback(m) => write!(f, "preprocess callback failed: {m}"),
            TransferError::Declined => f.write_str("skipped by the preprocess callback"),
        }
    }
}
