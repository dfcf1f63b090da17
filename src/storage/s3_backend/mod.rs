//! The S3 side of the storage interface: a bucket and prefix of an [`S3Store`], with the
//! write settings only S3 has (server-side encryption, canned ACL, a storage class given on
//! the command line) held here and rendered into headers by [`crate::storage::s3::headers`],
//! so the engine never spells them.

mod parts;
use parts::S3Parts;

use std::io::Read;

use super::ListItem;
use super::backend::{
    Backend, Body, CopySource, PartReceipt, PartWriter, ReadOptions, WriteOptions, Written,
};
use super::caps::{Capabilities, CopyKind, PartLimits};
use super::error::{ErrorKind, StorageError};
use super::props::Properties;
use super::s3::S3Store;
use super::s3::convert::written;
pub use super::s3::convert::{from_s3, properties};
use crate::integrity::checksum::Algorithm;
use crate::integrity::digest::Parts;
use crate::s3::ops::{self, CompletedPart, ObjectHead};
use crate::s3::{self as s3client, Payload, Request, S3Error};
use crate::util::encoding::base64;

/// S3's limits: parts of 5 MiB to 5 GiB, at most 10,000 of them, single writes to 5 GiB.
pub const S3_PARTS: PartLimits = PartLimits {
    min_part: 5 << 20,
    max_part: 5 << 30,
    max_parts: 10_000,
    max_single: 5 << 30,
};

const CAPABILITIES: Capabilities = Capabilities {
    list_sorted: true,
    versions: true,
    tags: true,
    metadata: true,
    set_mtime: false,
    conditional_writes: true,
    whole_second_mtime: true,
    list_parts: true,
    local_reads: false,
    parts: S3_PARTS,
    delete_batch: ops::DELETE_BATCH,
    checksums: &Algorithm::ALL,
    copy_from: &[CopyKind::SameEndpoint],
    tiers: crate::storage::s3::names::STORAGE_CLASSES,
    trailing_dots: true,
};

pub use crate::storage::s3::headers::S3WriteSettings;

/// An S3 bucket and prefix as a [`Backend`].
pub struct S3Backend {
    store: S3Store,
    settings: S3WriteSettings,
}

/// The engine's S3 fast paths use the store itself.
impl std::ops::Deref for S3Backend {
    type Target = S3Store;
    fn deref(&self) -> &S3Store {
        &self.store
    }
}

impl S3Backend {
    pub fn new(store: S3Store, settings: S3WriteSettings) -> S3Backend {
        S3Backend { store, settings }
    }

    pub fn store(&self) -> &S3Store {
        &self.store
    }

    /// The headers that give a new object `new` on this side (its server-side encryption
    /// from the side's settings): for the engine's S3 fast paths.
    pub fn object_headers(
        &self,
        new: &crate::storage::s3::headers::NewObject<'_>,
    ) -> Vec<(String, String)> {
        crate::storage::s3::headers::object_headers(new, &self.settings)
    }

    fn name(&self, full_key: &str) -> String {
        format!("s3://{}/{full_key}", self.store.bucket())
    }

    fn err(&self, full_key: &str, e: S3Error) -> StorageError {
        from_s3(e).about(self.name(full_key))
    }

    /// The headers of a new object.
    fn write_headers(&self, opts: &WriteOptions<'_>) -> Vec<(String, String)> {
        let mut h = opts.content.map(|m| m.to_headers()).unwrap_or_default();
        let mut push = |name: &str, value: Option<&str>| {
            if let Some(v) = value {
                h.push((name.to_string(), v.to_string()));
            }
        };
        push(
            "x-amz-storage-class",
            self.settings.storage_class.as_deref().or(opts.tier),
        );
        push("x-amz-acl", self.settings.acl.as_deref());
        push("x-amz-server-side-encryption", self.settings.sse.as_deref());
        push(
            "x-amz-server-side-encryption-aws-kms-key-id",
            self.settings.sse_kms_key_id.as_deref(),
        );
        push("if-match", opts.if_match);
        if opts.if_none_match {
            h.push(("if-none-match".into(), "*".into()));
        }
        if !opts.tags.is_empty() {
            h.push(("x-amz-tagging".into(), ops::tagging_header(opts.tags)));
        }
        h
    }
}

/// Which endpoint and region a client talks to: two stores of equal ids can copy between
/// them on the server.
fn endpoint_id(client: &s3client::Client) -> String {
    let c = client.config();
    let e = &c.endpoint;
    format!(
        "{}://{}:{}/{}",
        if e.https { "https" } else { "http" },
        e.host,
        e.port.unwrap_or(0),
        c.region
    )
}

/// The `Content-MD5` header of `body`, when its MD5 is known.
fn md5_header(body: &Body<'_>) -> Vec<(String, String)> {
    body.md5
        .map(|md5| vec![("content-md5".to_string(), base64(&md5))])
        .unwrap_or_default()
}

/// Re-opens `body` for an attempt: its reader, with the lifetime of one request.
fn reopen<'r>(body: &'r Body<'_>) -> std::io::Result<Box<dyn Read + 'r>> {
    (body.open)().map(|r| r as Box<dyn Read + 'r>)
}

impl Backend for S3Backend {
    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn name_of(&self, key: &str) -> String {
        self.name(&self.store.full_key(key))
    }

    fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), StorageError> {
        self.store
            .list(emit)
            .map_err(|e| StorageError::new(ErrorKind::Fatal, "ListObjectsV2", e.0))
    }

    fn head(&self, key: &str, opts: &ReadOptions<'_>) -> Result<Option<Properties>, StorageError> {
        let full = self.store.full_key(key);
        let head = self
            .store
            .client()
            .head_object_version(self.store.bucket(), &full, opts.version)
            .map_err(|e| self.err(&full, e))?;
        Ok(head.map(|h| properties(h, opts.version)))
    }

    fn read<'s>(
        &'s self,
        key: &str,
        opts: &ReadOptions<'_>,
    ) -> Result<(Properties, Box<dyn Read + Send + 's>), StorageError> {
        let full = self.store.full_key(key);
        let client = self.store.client();
        let mut req = Request::new("GetObject", "GET", self.store.bucket(), Some(&full));
        if let Some(v) = opts.version {
            req = req.query("versionId", v);
        }
        if let Some((first, last)) = opts.range {
            req = req.header("range", format!("bytes={first}-{last}"));
        }
        if let Some(tag) = opts.if_match {
            req = req.header("if-match", tag);
        }
        if client.config().checksum_mode {
            req = req.header("x-amz-checksum-mode", "ENABLED");
        }
        req.headers.extend(client.sse_c_headers());
        let resp = client.send(&req).map_err(|e| self.err(&full, e))?;
        if let Some((first, last)) = opts.range {
            let expected = format!("bytes {first}-{last}/");
            let exact = resp.status == 206
                && resp
                    .header("content-range")
                    .is_some_and(|r| r.starts_with(&expected));
            let whole_object = resp.status == 200
                && first == 0
                && resp.header("content-length") == Some(&(last + 1).to_string());
            if !exact && !whole_object {
                return Err(StorageError::new(
                    ErrorKind::Fatal,
                    "GetObject",
                    format!("asked for bytes {first}-{last}, the answer is another range"),
                )
                .about(self.name(&full)));
            }
        }
        let props = properties(ObjectHead::from_headers(&resp.headers), opts.version);
        Ok((props, Box::new(resp.into_reader())))
    }

    fn write(
        &self,
        key: &str,
        body: &Body<'_>,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        let full = self.store.full_key(key);
        let mut headers = md5_header(body);
        headers.extend(self.write_headers(opts));
        let open = || reopen(body);
        let payload = Payload::Stream {
            len: body.len,
            sha256: body.sha256.clone(),
            open: &open,
        };
        let w = self
            .store
            .client()
            .put_object(self.store.bucket(), &full, payload, &headers)
            .map_err(|e| self.err(&full, e))?;
        Ok(written(w))
    }

    fn begin_parts<'s>(
        &'s self,
        key: &str,
        _part_size: u64,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        let full = self.store.full_key(key);
        let mut headers = self.write_headers(opts);
        // Conditions belong to the completing request.
        headers.retain(|(n, _)| n != "if-match" && n != "if-none-match");
        if let Some(a) = opts.checksum {
            headers.push(("x-amz-checksum-algorithm".into(), a.to_string()));
        }
        let id = self
            .store
            .client()
            .create_multipart_upload(self.store.bucket(), &full, &headers)
            .map_err(|e| self.err(&full, e))?;
        self.resume_parts(key, &id, opts)
    }

    fn resume_parts<'s>(
        &'s self,
        key: &str,
        id: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Box<dyn PartWriter + 's>, StorageError> {
        Ok(Box::new(S3Parts {
            backend: self,
            full_key: self.store.full_key(key),
            id: id.to_string(),
            if_match: opts.if_match.map(str::to_string),
            if_none_match: opts.if_none_match,
        }))
    }

    fn part_layout(
        &self,
        key: &str,
        version: Option<&str>,
        size: u64,
        tag: &str,
        exact: bool,
    ) -> Result<Option<Parts>, StorageError> {
        let full = self.store.full_key(key);
        self.store
            .part_layout(&full, version, size, tag, exact)
            .map_err(|e| e.about(self.name(&full)))
    }

    fn copy_source(&self, key: &str, version: Option<&str>) -> Option<CopySource> {
        Some(CopySource::SameEndpoint {
            endpoint: endpoint_id(self.store.client()),
            bucket: self.store.bucket().to_string(),
            key: self.store.full_key(key),
            version: version.map(str::to_string),
        })
    }

    fn copy(
        &self,
        key: &str,
        source: &CopySource,
        opts: &WriteOptions<'_>,
    ) -> Result<Written, StorageError> {
        let full = self.store.full_key(key);
        let (bucket, source_key, version) = self.same_endpoint(source, "CopyObject")?;
        let mut headers = self.write_headers(opts);
        headers.push(("x-amz-metadata-directive".into(), "REPLACE".into()));
        headers.push(("x-amz-tagging-directive".into(), "REPLACE".into()));
        if let Some(a) = opts.checksum {
            headers.push(("x-amz-checksum-algorithm".into(), a.to_string()));
        }
        let src = ops::CopySource {
            bucket,
            key: source_key,
            version_id: version,
            sse_c: None,
            if_match: None,
        };
        let w = self
            .store
            .client()
            .copy_object(self.store.bucket(), &full, src, &headers)
            .map_err(|e| self.err(&full, e))?;
        Ok(written(w))
    }

    fn delete(
        &self,
        key: &str,
        version: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<(), StorageError> {
        let full = self.store.full_key(key);
        let client = self.store.client();
        let result = match version {
            Some(v) => client.delete_object_version(self.store.bucket(), &full, Some(v)),
            None => {
                let headers: Vec<(String, String)> = if_match
                    .map(|t| vec![("if-match".to_string(), t.to_string())])
                    .unwrap_or_default();
                client.delete_object_with(self.store.bucket(), &full, &headers)
            }
        };
        match result.map_err(|e| self.err(&full, e)) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    fn delete_batch(&self, keys: &[String]) -> Result<Vec<(String, StorageError)>, StorageError> {
        let full: Vec<String> = keys.iter().map(|k| self.store.full_key(k)).collect();
        let result = self
            .store
            .client()
            .delete_objects(self.store.bucket(), &full)
            .map_err(from_s3)?;
        let prefix = self.store.prefix();
        Ok(result
            .errors
            .into_iter()
            .map(|(key, code, message)| {
                let e = StorageError {
                    code: Some(code),
                    ..StorageError::new(ErrorKind::Fatal, "DeleteObjects", message)
                }
                .about(self.name(&key));
                (key.strip_prefix(prefix).unwrap_or(&key).to_string(), e)
            })
            .collect())
    }

    fn tags(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let full = self.store.full_key(key);
        self.store
            .client()
            .get_object_tagging_version(self.store.bucket(), &full, version)
            .map_err(|e| self.err(&full, e))
    }

    fn set_tags(&self, key: &str, tags: &[(String, String)]) -> Result<(), StorageError> {
        let full = self.store.full_key(key);
        let client = self.store.client();
        let result = if tags.is_empty() {
            client.delete_object_tagging(self.store.bucket(), &full)
        } else {
            client.put_object_tagging(self.store.bucket(), &full, tags)
        };
        result.map_err(|e| self.err(&full, e))
    }
}

impl S3Backend {
    /// The bucket, key and version of a source this endpoint can copy from.
    fn same_endpoint<'c>(
        &self,
        source: &'c CopySource,
        op: &'static str,
    ) -> Result<(&'c str, &'c str, Option<&'c str>), StorageError> {
        match source {
            CopySource::SameEndpoint {
                endpoint,
                bucket,
                key,
                version,
            } if *endpoint == endpoint_id(self.store.client()) => {
                Ok((bucket, key, version.as_deref()))
            }
            _ => Err(StorageError::unsupported(
                op,
                "S3 copies on the server only from its own endpoint",
            )),
        }
    }
}
