//! Where the bytes of a multipart upload's parts come from: a local file, another object
//! read with ranged GETs, or a server-side copy. Shared by the upload itself
//! ([`super::multipart`]) and the journal that recognises an upload to resume
//! ([`super::resume`]).

use std::fs::File;
use std::sync::Arc;

use crate::storage::s3::S3Store;

/// Where the parts' bytes come from.
#[derive(Clone)]
pub enum PartSource<'a> {
    /// A local file (shown as `name` in messages).
    File { file: Arc<File>, name: Arc<str> },
    /// Another object, read with ranged GETs; every range must come from the version with
    /// `etag` (unquoted), and from version `version_id` when one is named.
    Object {
        store: &'a S3Store,
        key: Arc<str>,
        version_id: Option<Arc<str>>,
        etag: Arc<str>,
    },
    /// Copied by the server from another object (UploadPartCopy), from version `version_id`
    /// when one is named; no bytes pass through here.
    /// The source store's SSE-C key, if it has one, goes with every part.
    ServerCopy {
        source: &'a S3Store,
        key: Arc<str>,
        version_id: Option<Arc<str>>,
        /// `x-amz-copy-source-if-match` for every part.
        if_match: Option<Arc<str>>,
    },
}
