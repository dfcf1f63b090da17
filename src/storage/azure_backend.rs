//! The Azure Blob side of the storage interface: a container and a name prefix reached
//! through our own [`azure::Client`].
//!
//! How Blob maps onto the interface, and why:
//! - **Keys** are blob names with the prefix removed; the prefix is a plain string prefix, as
//!   on S3 (no `/` is put in). List Blobs returns names in UTF-8 byte order; the listing
//!   checks that it does and fails rather than feed an unsorted stream to the merge-join.
//! - **Content tags**: a Blob ETag says "changed or not" and nothing about the bytes, so it is
//!   always [`ContentTag::Opaque`]. What the bytes are is told by the stored Content-MD5
//!   ([`StoredChecksum`] with [`StoredAlgorithm::Md5`]): the service computes it on Put Blob,
//!   and a blob committed from blocks has one only when the writer set it (`whole_md5`).
//! - **Parts are blocks**: part `n` is block [`BlockId::new`]`(n)`, so ids have one width and
//!   a retried part replaces its block. There is no upload id (the key stands for it), and
//!   nothing to abort: uncommitted blocks expire on their own (a week on Azure).
//! - **Server-side copies** take a URL ([`CopyKind::FromUrl`]): a source offers its blob URL
//!   with a short read-only SAS; a target uses Copy Blob From URL (synchronous, sources up to
//!   256 MiB; larger ones are `Unsupported`, so the engine streams or copies in blocks) and
//!   Put Block From URL.
//! - **Not on Blob**: versions, additional checksums, setting the modification time, the
//!   S3-only headers `Expires` and website redirects (dropped on writes). An access tier that
//!   is not a Blob tier (an S3 storage class carried over) is dropped too, rather than making
//!   every write fail.

use std::io::Read;
use std::sync::Arc;

mod blocks;
mod error;
mod write;

pub use error::from_azure;

use super::backend::{Backend, Body, CopySource, PartWriter, ReadOptions, WriteOptions, Written};
use super::caps::{Capabilities, CopyKind, PartLimits};
use super::error::{ErrorKind, StorageError};
use super::props::{
    ChecksumScope, ContentTag, ObjectMeta, Properties, StoredAlgorithm, StoredChecksum,
};
use super::{Entry, KEY_IS_PREFIX, ListItem};
use crate::azure::blocks::{MAX_BLOCK_SIZE, MAX_BLOCKS, MAX_PUT_BLOB_SIZE};
use crate::azure::ops::{self, ListBlobs};
use crate::azure::properties::BlobProperties;
use crate::azure::sas::ServiceSas;
use crate::azure::xml::ListEntry;
use crate::azure::{self, AzureError, Credentials, Payload};
use crate::util::encoding::{base64, percent_decode};
use crate::util::time::Timestamp;

/// Blob's limits: blocks of up to 4000 MiB, 50,000 of them, Put Blob up to 5000 MiB.
pub const BLOB_PARTS: PartLimits = PartLimits {
    min_part: 1,
    max_part: MAX_BLOCK_SIZE,
    max_parts: MAX_BLOCKS as u32,
    max_single: MAX_PUT_BLOB_SIZE,
};

/// The largest source Copy Blob From URL copies.
pub const COPY_FROM_URL_MAX: u64 = 256 << 20;

/// How long a copy source's SAS is valid, and how far back its start is set (clocks of the
/// two services may differ).
const SAS_LIFETIME_SECS: i64 = 3600;
const SAS_SKEW_SECS: i64 = 15 * 60;

/// The access tiers a block blob can be written with.
pub const TIERS: [&str; 4] = ["Hot", "Cool", "Cold", "Archive"];

const CAPABILITIES: Capabilities = Capabilities {
    list_sorted: true,
    versions: false,
    tags: true,
    metadata: true,
    set_mtime: false,
    conditional_writes: true,
    whole_second_mtime: true,
    list_parts: true,
    local_reads: false,
    parts: BLOB_PARTS,
    delete_batch: 1,
    checksums: &[],
    copy_from: &[CopyKind::FromUrl],
    tiers: &TIERS,
    trailing_dots: false,
};

/// A Blob container and name prefix as a [`Backend`].
pub struct AzureBackend {
    client: Arc<azure::Client>,
    container: String,
    prefix: String,
    /// The one blob a single-blob source lists (its name relative to `prefix`).
    single: Option<String>,
    /// The key that one blob is listed (and read) under, when the target names the object
    /// it becomes ([`AzureBackend::listed_as`]); its own name otherwise.
    alias: Option<String>,
}

impl AzureBackend {
    pub fn new(client: Arc<azure::Client>, container: String, prefix: String) -> AzureBackend {
        AzureBackend {
            client,
            container,
            prefix,
            single: None,
            alias: None,
        }
    }

    /// The container and prefix reached with a new client of `config`. With
    /// `may_be_one_blob`, a prefix without a trailing `/` that names an existing blob is that
    /// one blob ([`AzureBackend::single_blob`]), as azcopy reads a source.
    pub fn connect(
        config: azure::ClientConfig,
        container: String,
        prefix: String,
        may_be_one_blob: bool,
    ) -> AzureBackend {
        let client = Arc::new(azure::Client::new(config));
        let one_blob = may_be_one_blob
            && !prefix.is_empty()
            && !prefix.ends_with('/')
            && matches!(client.blob_properties(&container, &prefix), Ok(Some(_)));
        if one_blob {
            AzureBackend::single_blob(client, container, &prefix)
        } else {
            AzureBackend::new(client, container, prefix)
        }
    }

    /// A source that is one blob, as azcopy reads `.../container/dir/file` when that blob
    /// exists: the side lists only it, under its own name (relative to its directory). The
    /// caller has checked that it exists and that `prefix` names it.
    pub fn single_blob(
        client: Arc<azure::Client>,
        container: String,
        full_name: &str,
    ) -> AzureBackend {
        let (dir, name) = match full_name.rfind('/') {
            Some(i) => (&full_name[..=i], &full_name[i + 1..]),
            None => ("", full_name),
        };
        AzureBackend {
            client,
            container,
            prefix: dir.to_string(),
            single: Some(name.to_string()),
            alias: None,
        }
    }

    /// Whether this side is one blob (a single-blob source).
    pub fn is_single(&self) -> bool {
        self.single.is_some()
    }

    /// A single-blob source listed under `key` instead of its own name: the name the
    /// target gives the one object (`blob → .../container/other-name`). No effect on a
    /// side that is not one blob.
    pub fn listed_as(mut self, key: &str) -> AzureBackend {
        if self.single.is_some() {
            self.alias = Some(key.to_string());
        }
        self
    }

    pub fn client(&self) -> &azure::Client {
        &self.client
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The blob name of `key`.
    /// What the listing asks for: the one blob's full name for a single-blob source.
    fn listed_prefix(&self) -> String {
        match &self.single {
            Some(name) => format!("{}{name}", self.prefix),
            None => self.prefix.clone(),
        }
    }

    pub fn full_key(&self, key: &str) -> String {
        match (&self.single, &self.alias) {
            (Some(name), Some(alias)) if alias == key => format!("{}{name}", self.prefix),
            _ => format!("{}{key}", self.prefix),
        }
    }

    /// The blob's URL, without credentials.
    pub(super) fn name(&self, full_key: &str) -> String {
        self.client.blob_url(&self.container, full_key)
    }

    pub(super) fn err(&self, full_key: &str, e: AzureError) -> StorageError {
        from_azure(e).about(self.name(full_key))
    }

    /// Container and blob name of `url` when it is a blob of this client's account.
    fn own_blob(&self, url: &str) -> Option<(String, String)> {
        let ep = self.client.endpoint();
        let base = ep.url(&ep.path(None, None));
        let rest = url.strip_prefix(base.trim_end_matches('/'))?;
        let path = rest.split('?').next()?.strip_prefix('/')?;
        let (container, blob) = path.split_once('/')?;
        Some((container.to_string(), percent_decode(blob)?))
    }
}

/// The stored Content-MD5, as the interface reports stored hashes.
fn stored_md5(md5: Option<[u8; 16]>) -> Vec<StoredChecksum> {
    md5.map(|m| StoredChecksum {
        algorithm: StoredAlgorithm::Md5,
        scope: ChecksumScope::FullObject,
        value: base64(&m),
    })
    .into_iter()
    .collect()
}

fn tag_of(etag: Option<&str>) -> ContentTag {
    match etag {
        Some(_) => ContentTag::Opaque,
        None => ContentTag::Absent,
    }
}

/// The interface's properties of a blob's.
pub fn properties(p: BlobProperties) -> Properties {
    let mut user = p.metadata;
    user.sort();
    Properties {
        size: p.size,
        modified: p.last_modified,
        tag: tag_of(p.etag.as_deref()),
        raw_tag: p.etag,
        stored: stored_md5(p.content_md5),
        content: ObjectMeta {
            content_type: p.content.content_type,
            content_encoding: p.content.content_encoding,
            cache_control: p.content.cache_control,
            content_disposition: p.content.content_disposition,
            content_language: p.content.content_language,
            user,
            ..ObjectMeta::default()
        },
        tag_count: p.tag_count,
        // A tier inferred from the account's default was never chosen for this blob.
        tier: p.access_tier.filter(|_| !p.access_tier_inferred),
        version: None,
        parts: None,
        ..Properties::default()
    }
}

pub(super) fn written(w: ops::Written, stored: Option<[u8; 16]>) -> Written {
    Written {
        tag: tag_of(w.etag.as_deref()),
        raw_tag: w.etag,
        stored: stored_md5(stored),
        version: None,
    }
}

/// Re-opens `body` for an attempt: its reader, with the lifetime of one request.
pub(super) fn reopen<'r>(body: &'r Body<'_>) -> std::io::Result<Box<dyn Read + 'r>> {
    (body.open)().map(|r| r as Box<dyn Read + 'r>)
}

fn no_versions(op: &'static str, version: Option<&str>) -> Result<(), StorageError> {
    match version {
        Some(_) => Err(StorageError::unsupported(
            op,
            "this Blob backend does not read versions",
        )),
        None => Ok(()),
    }
}

impl Backend for AzureBackend {
    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn name_of(&self, key: &str) -> String {
        self.name(&self.full_key(key))
    }

    fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), StorageError> {
        let mut marker: Option<String> = None;
        let mut last: Option<String> = None;
        loop {
            let page = self
                .client
                .list_blobs(
                    &self.container,
                    &ListBlobs {
                        prefix: &self.listed_prefix(),
                        marker: marker.as_deref(),
                        max_results: Some(ops::MAX_RESULTS),
                        ..ListBlobs::default()
                    },
                )
                .map_err(|e| self.err(&self.prefix, e))?;
            for entry in page.entries {
                let ListEntry::Blob { name, properties } = entry else {
                    continue;
                };
                if last
                    .as_deref()
                    .is_some_and(|l| l.as_bytes() >= name.as_bytes())
                {
                    return Err(StorageError::new(
                        ErrorKind::Fatal,
                        "ListBlobs",
                        format!(
                            "the service listed '{name}' after '{}', out of byte order: \
                             syncing needs a sorted listing",
                            last.unwrap_or_default()
                        ),
                    )
                    .about(self.name(&self.prefix)));
                }
                let Some(key) = name.strip_prefix(&self.prefix) else {
                    return Err(StorageError::new(
                        ErrorKind::Fatal,
                        "ListBlobs",
                        format!("the service listed '{name}', outside the prefix"),
                    ));
                };
                if self.single.as_deref().is_some_and(|only| only != key) {
                    continue;
                }
                let key = self.alias.as_deref().unwrap_or(key);
                let item = if key.is_empty() {
                    ListItem::Skipped {
                        name: self.name(&name),
                        reason: KEY_IS_PREFIX,
                    }
                } else {
                    let Some(modified) = properties.last_modified else {
                        return Err(StorageError::new(
                            ErrorKind::Fatal,
                            "ListBlobs",
                            "a listing entry has no Last-Modified time",
                        )
                        .about(self.name(&name)));
                    };
                    ListItem::Entry(Entry {
                        etag: properties.etag,
                        ..Entry::new(key, properties.size, modified)
                    })
                };
                if !emit(item) {
                    return Ok(());
                }
                last = Some(name);
            }
            match page.next_marker {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => return Ok(()),
            }
        }
    }

    fn head(&self, key: &str, opts: &ReadOptions<'_>) -> Result<Option<Properties>, StorageError> {
        no_versions("GetBlobProperties", opts.version)?;
        let full = self.full_key(key);
        let props = self
            .client
            .blob_properties(&self.container, &full)
            .map_err(|e| self.err(&full, e))?;
        Ok(props.map(properties))
    }

    fn read<'s>(
        &'s self,
        key: &str,
        opts: &ReadOptions<'_>,
    ) -> Result<(Properties, Box<dyn Read + Send + 's>), StorageError> {
        no_versions("GetBlob", opts.version)?;
        let full = self.full_key(key);
        let range = opts.range.map(|(first, last)| (first, Some(last)));
        let download = self
            .client
            .get_blob_if(&self.container, &full, range, opts.if_match)
            .map_err(|e| self.err(&full, e))?;
        if let Some((first, last)) = opts.range
            && download.content_length != last - first + 1
        {
            return Err(StorageError::new(
                ErrorKind::Fatal,
                "GetBlob",
                format!(
                    "asked for bytes {first}-{last}, the answer carries {} bytes",
                    download.content_length
                ),
            )
            .about(self.name(&full)));
        }
        let props = properties(download.properties.clone());
        Ok((props, Box::new(download)))
    }

    fn write(
        &self,
        key: &str,
        body: &Body<'_>,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        let full = self.full_key(key);
        let options = self.write_options("PutBlob", key, opts, body.md5)?;
        let open = || reopen(body);
        let payload = Payload::Stream {
            len: body.len,
            open: &open,
        };
        let w = self
            .client
            .put_blob(&self.container, &full, payload, &options)
            .map_err(|e| self.err(&full, e))?;
        // The MD5 the service computed of what it received (it refused the body if ours
        // differed).
        let md5 = w.content_md5;
        Ok(written(w, md5))
    }

    fn begin_parts<'s>(
        &'s self,
        key: &str,
        _part_size: u64,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        self.resume_parts(key, key, opts)
    }

    fn resume_parts<'s>(
        &'s self,
        key: &str,
        _id: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        let commit = self.write_options("PutBlockList", key, opts, opts.whole_md5)?;
        Ok(Box::new(blocks::BlobBlocks {
            backend: self,
            key: key.to_string(),
            full_key: self.full_key(key),
            commit,
        }))
    }

    fn copy_source(&self, key: &str, version: Option<&str>) -> Option<CopySource> {
        let encrypted = self.client.config().encryption.as_ref();
        if version.is_some() || encrypted.is_some_and(|e| !e.allows_server_copy()) {
            return None;
        }
        let full = self.full_key(key);
        let url = self.client.blob_url(&self.container, &full);
        match &self.client.config().credentials {
            Credentials::SharedKey(account_key) => {
                let now = Timestamp::now().secs;
                let sas = ServiceSas {
                    container: self.container.clone(),
                    blob: Some(full),
                    permissions: "r".into(),
                    start: Some(Timestamp {
                        secs: now - SAS_SKEW_SECS,
                        nanos: 0,
                    }),
                    expiry: Timestamp {
                        secs: now + SAS_LIFETIME_SECS,
                        nanos: 0,
                    },
                    https_only: self.client.endpoint().https,
                    ip: None,
                };
                Some(CopySource::Url(sas.sign(account_key).append_to(&url)))
            }
            Credentials::Sas(token) => Some(CopySource::Url(token.append_to(&url))),
            Credentials::Bearer(_) | Credentials::Anonymous => None,
        }
    }

    fn copy(
        &self,
        key: &str,
        source: &CopySource,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        const OP: &str = "CopyBlobFromURL";
        let CopySource::Url(url) = source else {
            return Err(StorageError::unsupported(
                OP,
                "Blob storage copies on the server only from a URL",
            ));
        };
        let full = self.full_key(key);
        if let Some((container, blob)) = self.own_blob(url) {
            let size = self
                .client
                .blob_properties(&container, &blob)
                .ok()
                .flatten()
                .map(|p| p.size);
            if size.is_some_and(|s| s > COPY_FROM_URL_MAX) {
                return Err(StorageError::unsupported(
                    OP,
                    "the source is larger than the 256 MiB a synchronous copy takes",
                )
                .about(self.name(&full)));
            }
        }
        let options = self.write_options(OP, key, opts, opts.whole_md5)?;
        let w = self
            .client
            .copy_blob_from_url(&self.container, &full, url, &options)
            .map_err(|e| self.err(&full, e))?;
        let md5 = w.content_md5;
        Ok(written(w, md5))
    }

    fn delete(
        &self,
        key: &str,
        version: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<(), StorageError> {
        no_versions("DeleteBlob", version)?;
        let full = self.full_key(key);
        self.client
            .delete_blob_if(&self.container, &full, if_match)
            .map(|_| ())
            .map_err(|e| self.err(&full, e))
    }

    fn delete_batch(&self, keys: &[String]) -> Result<Vec<(String, StorageError)>, StorageError> {
        let mut failed = Vec::new();
        for key in keys {
            match self.delete(key, None, None) {
                Ok(()) => {}
                Err(e) if e.is_fatal_for_run() => return Err(e),
                Err(e) => failed.push((key.clone(), e)),
            }
        }
        Ok(failed)
    }

    fn tags(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<(String, String)>, StorageError> {
        no_versions("GetBlobTags", version)?;
        let full = self.full_key(key);
        self.client
            .get_blob_tags(&self.container, &full)
            .map_err(|e| self.err(&full, e))
    }

    fn set_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StorageError> {
        let full = self.full_key(key);
        self.client
            .set_blob_tags(&self.container, &full, tags)
            .map_err(|e| self.err(&full, e))
    }
}
