//! The storage interface: what the engine may ask of any side of a sync, whatever holds it
//! (a local directory, an S3 bucket, an Azure Blob container).
//!
//! Shape, and why:
//! - **An object-safe trait, used as `&dyn Backend`.** Adding a backend is one new `impl`;
//!   the engine holds the two sides as trait objects and never matches on their kind (an
//!   enum would make every new backend an edit of every `match`). The dynamic call costs
//!   nothing next to the network request behind it; readers and part writers are boxed once
//!   per object, not per buffer.
//! - **Capabilities as data** ([`Capabilities`]), fixed when the store is built: the engine
//!   plans part sizes, fast paths and checks before the first request, rclone's habit
//!   without its function pointers.
//! - **Properties say what tags mean** ([`Properties`], [`ContentTag`]): the backend
//!   classifies its tag; verification is decided from that, never from the backend's name.
//! - **Writes in parts are one session type** ([`PartWriter`]) for S3 multipart uploads and
//!   Blob blocks: explicit part numbers from 1 (parts may go in parallel, out of order, and
//!   a retried part replaces itself), list (resume), complete, abort.
//! - **Server-side copy is offered, not assumed**: a source names itself as a
//!   [`CopySource`] the target may accept ([`Capabilities::copy_from`]); otherwise the
//!   engine streams.
//! - **One error type** ([`StorageError`]) with the kinds the engine decides on.
//!
//! Keys are relative to the side's root (prefix or directory), as listings give them.
//! Backend-specific write settings (SSE and its KMS key, SSE-C and CPK keys, and for this
//! interface's writes the ACL and a storage class given on the command line) are part of
//! the backend itself, built from `config` when the store is opened. What one object gets
//! (metadata, tags, tier, and on the S3 paths its ACL and requester-pays, which the
//! preprocess callback may change per object) is the engine's decision, in neutral terms;
//! the backend spells it for its service.

use std::io::Read;

use super::ListItem;
use super::caps::Capabilities;
use super::error::StorageError;
use super::props::{ContentTag, ObjectMeta, Properties, StoredAlgorithm, StoredChecksum};
use crate::integrity::checksum::Algorithm;
use crate::integrity::digest::Parts;
use crate::util::time::Timestamp;

/// Which bytes of which object to read, and on what condition.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// First and last byte, inclusive.
    pub range: Option<(u64, u64)>,
    pub version: Option<&'a str>,
    /// Read only while the object still has this content tag (as the store sent it).
    pub if_match: Option<&'a str>,
}

/// A request body that can be opened again for each attempt.
pub struct Body<'a> {
    pub len: u64,
    /// The MD5 of the body, when the caller computed it: sent for the store to check.
    pub md5: Option<[u8; 16]>,
    /// The hex SHA-256 of the body, when the caller computed it (S3 signs with it).
    pub sha256: Option<String>,
    pub open: &'a (dyn Fn() -> std::io::Result<Box<dyn Read + 'a>> + Sync),
}

/// What a new object is given, and on what condition it is written.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions<'a> {
    /// Content headers and user metadata.
    pub content: Option<&'a ObjectMeta>,
    pub tags: &'a [(String, String)],
    /// Storage class or access tier, when the source's is carried over.
    pub tier: Option<&'a str>,
    /// An additional checksum the store is asked to keep (and check).
    pub checksum: Option<Algorithm>,
    /// The whole content's MD5, stored with the object where the store keeps one (Blob
    /// Content-MD5 on a block list).
    pub whole_md5: Option<[u8; 16]>,
    /// Write only over this content tag.
    pub if_match: Option<&'a str>,
    /// Write only if nothing is there.
    pub if_none_match: bool,
    /// The modification time to give the object, on a store that can set it.
    pub mtime: Option<Timestamp>,
}

/// What a completed write reports about the new object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// As the store sent it.
    pub raw_tag: Option<String>,
    pub tag: ContentTag,
    pub stored: Vec<StoredChecksum>,
    pub version: Option<String>,
}

impl Written {
    /// The content tag without its quotes, as the store sent it.
    pub fn tag_text(&self) -> Option<&str> {
        self.raw_tag
            .as_deref()
            .map(crate::integrity::etag::strip_quotes)
    }

    /// Whether the tag says nothing about the bytes (an S3 object encrypted with SSE-KMS or
    /// SSE-C, a Blob ETag): it then cannot verify them.
    pub fn tag_is_opaque(&self) -> bool {
        self.tag == ContentTag::Opaque
    }

    /// The additional checksum of `algorithm` the store reported with the write.
    pub fn checksum(&self, algorithm: Algorithm) -> Option<&str> {
        self.stored.iter().find_map(|c| {
            (c.algorithm == StoredAlgorithm::Additional(algorithm)).then_some(c.value.as_str())
        })
    }
}

/// One part (or block) written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReceipt {
    pub number: u32,
    /// The part's ETag (S3) or block id (Blob), as completing needs it.
    pub tag: String,
    pub size: u64,
    /// The part's additional checksum, when one was asked for.
    pub checksum: Option<String>,
}

/// An object a target may copy from on the server side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// Named by bucket and full key on the same endpoint (S3).
    SameEndpoint {
        endpoint: String,
        bucket: String,
        key: String,
        version: Option<String>,
    },
    /// A URL the target service can fetch (a presigned S3 GET, a Blob SAS URL). Secret: never
    /// displayed.
    Url(String),
}

/// A write in numbered parts: S3 multipart upload, Blob blocks, a local temporary file.
pub trait PartWriter: Send + Sync {
    /// The upload id (S3), or what stands for it.
    fn id(&self) -> &str;
    /// Writes part `number` (from 1). Sending a number again replaces that part.
    fn put(&self, number: u32, body: &Body<'_>) -> Result<PartReceipt, StorageError>;
    /// Part `number` copied by the server from `range` of `source`.
    fn put_copy(
        &self,
        number: u32,
        source: &CopySource,
        range: (u64, u64),
    ) -> Result<PartReceipt, StorageError>;
    /// The parts written so far (for resuming), in number order.
    fn list(&self) -> Result<Vec<PartReceipt>, StorageError>;
    /// Makes the object of `parts`, in number order.
    fn complete(&self, parts: &[PartReceipt]) -> Result<Written, StorageError>;
    /// Drops the parts; nothing is left behind.
    fn abort(&self) -> Result<(), StorageError>;
}

/// One side of a sync. See the module docs.
pub trait Backend: Send + Sync {
    fn capabilities(&self) -> &Capabilities;

    /// How the user would name `key`: `s3://bucket/prefix/key`, a path. Never a secret.
    fn name_of(&self, key: &str) -> String;

    /// Streams the listing in the order [`Capabilities::list_sorted`] promises. `emit`
    /// returns `false` to stop early.
    fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), StorageError>;

    /// `Ok(None)` when the object does not exist.
    fn head(&self, key: &str, opts: &ReadOptions<'_>) -> Result<Option<Properties>, StorageError>;

    /// The object's properties and a reader of its bytes (of the range, if one is given).
    fn read<'s>(
        &'s self,
        key: &str,
        opts: &ReadOptions<'_>,
    ) -> Result<(Properties, Box<dyn Read + Send + 's>), StorageError>;

    /// One write of the whole object, up to [`PartLimits::max_single`] bytes.
    ///
    /// [`PartLimits::max_single`]: super::caps::PartLimits::max_single
    fn write(
        &self,
        key: &str,
        body: &Body<'_>,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError>;

    /// Starts a write in parts of `part_size` bytes (the last may be shorter), planned with
    /// [`PartLimits::part_size`].
    ///
    /// [`PartLimits::part_size`]: super::caps::PartLimits::part_size
    fn begin_parts<'s>(
        &'s self,
        key: &str,
        part_size: u64,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError>;

    /// Takes up a write in parts begun earlier (a crashed run's), by its id.
    fn resume_parts<'s>(
        &'s self,
        key: &str,
        id: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError>;

    /// How the multipart object `key` (that version, if named; `size` bytes, whose composite
    /// content tag is `tag`) was cut, on a store that tells (S3: HeadObject `partNumber`);
    /// with `exact`, every part is asked for, not just the first. A copy cut the same way
    /// can prove the tag exactly. `Ok(None)` where the store does not tell (the default).
    fn part_layout(
        &self,
        _key: &str,
        _version: Option<&str>,
        _size: u64,
        _tag: &str,
        _exact: bool,
    ) -> Result<Option<Parts>, StorageError> {
        Ok(None)
    }

    /// How a target could copy `key` on the server side, if this store can be a source.
    fn copy_source(&self, key: &str, version: Option<&str>) -> Option<CopySource>;

    /// A server-side copy of the whole of `source` to `key`.
    fn copy(
        &self,
        key: &str,
        source: &CopySource,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError>;

    /// Deletes `key` (that version, if given; only while it has that tag, if given). A key
    /// that is already gone is not an error.
    fn delete(
        &self,
        key: &str,
        version: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<(), StorageError>;

    /// Deletes up to [`Capabilities::delete_batch`] keys; returns those that failed.
    fn delete_batch(&self, keys: &[String]) -> Result<Vec<(String, StorageError)>, StorageError>;

    fn tags(&self, key: &str, version: Option<&str>)
    -> Result<Vec<(String, String)>, StorageError>;

    fn set_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StorageError>;

    /// The file `key` is, on a store of local files (where the file's own properties, such
    /// as its POSIX mode and owner, can be read and set); `None` elsewhere.
    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
}
