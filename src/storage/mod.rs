//! Where objects live: the local file system, an S3 bucket or an Azure Blob container
//! ([`azure_backend`]). All offer the same listing
//! (relative keys in UTF-8 byte order, streamed) and deletion; the engine pairs them for
//! transfers.

pub mod azure_backend;
pub mod backend;
pub mod caps;
pub mod error;
pub mod hash_cache;
pub mod local;
pub mod local_backend;
pub mod mime;
pub mod props;
pub mod s3;
pub mod s3_backend;
mod temp_file;
pub mod versions;

use std::fmt;

use backend::Backend;

use crate::util::time::Timestamp;

/// One object as a listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Key relative to the source or target root (the prefix or directory removed).
    pub key: String,
    pub size: u64,
    pub last_modified: Timestamp,
    /// ETag as the store reports it (quoted for S3), when the listing carries one.
    pub etag: Option<String>,
    /// The S3 version this entry stands for, when it comes from a versioned listing
    /// (`--point-in-time`, `--enable-versioning`): reads must ask for exactly that version.
    /// `None` for plain listings (the current version) and local files.
    pub version_id: Option<String>,
    /// The additional checksum algorithm an S3 listing reports for the object.
    pub checksum_algorithm: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE`, where the listing reports it.
    pub checksum_type: Option<String>,
}

impl Entry {
    /// An entry known only by key, size and time (no ETag, version or checksum).
    pub fn new(key: impl Into<String>, size: u64, last_modified: Timestamp) -> Entry {
        Entry {
            key: key.into(),
            size,
            last_modified,
            etag: None,
            version_id: None,
            checksum_algorithm: None,
            checksum_type: None,
        }
    }
}

/// Something a listing met that is worth telling the user but does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListWarning {
    pub path: String,
    pub message: String,
    /// Whether objects may be missing from the listing because of this (an unreadable
    /// directory), which makes deleting target objects unsafe.
    pub incomplete: bool,
}

/// One item of a listing stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem {
    Entry(Entry),
    /// A problem with one entry (unreadable directory, broken link, special file): it is skipped.
    Warning(ListWarning),
    /// An object left out for a reason that is no problem, to be counted as skipped when it
    /// is a source's: one whose key equals the prefix has no relative key to sync under.
    Skipped {
        /// The object as the user would name it (`s3://bucket/key`).
        name: String,
        reason: &'static str,
    },
}

/// Why an object whose key equals the listed prefix is skipped.
pub const KEY_IS_PREFIX: &str = "its key equals the prefix, so it has no key relative to it";

/// A failure that makes the listing unusable (the run stops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError(pub String);

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ListError {}

/// One side of a sync. The local and S3 sides keep fast paths of their own in the engine
/// (parallel ranged downloads, server-side copies in the source's part layout, trailing
/// checksums); every other backend is reached only through the [`Backend`] interface, with
/// the engine's one generic transfer path, so a new backend costs one `impl`.
pub enum Store {
    Local(local_backend::LocalBackend),
    S3(s3_backend::S3Backend),
    Generic(Box<dyn Backend>),
}

impl Store {
    /// This side through the storage interface.
    pub fn backend(&self) -> &dyn Backend {
        match self {
            Store::Local(l) => l,
            Store::S3(s) => s,
            Store::Generic(b) => b.as_ref(),
        }
    }

    /// Streams the listing into `emit` in byte order of the relative key. `emit` returns
    /// `false` to stop early (cancellation).
    pub fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), ListError> {
        match self {
            Store::Local(l) => l.store().list(emit),
            Store::S3(s) => s.store().list(emit),
            Store::Generic(b) => b.list(emit).map_err(|e| ListError(e.to_string())),
        }
    }

    /// How the user named this side, for messages: `s3://bucket/prefix` or a path.
    pub fn describe(&self) -> String {
        match self {
            Store::Local(l) => l.root().display().to_string(),
            Store::S3(s) => format!("s3://{}/{}", s.bucket(), s.prefix()),
            Store::Generic(b) => b.name_of(""),
        }
    }
}
