//! The S3 requests of the engine's S3 fast paths (uploads and downloads with parallel
//! ranged GETs, copies in the source's part layout, trailing checksums, resumable
//! multipart uploads), in storage terms: keys are full keys of this store's bucket,
//! answers are [`Properties`] and [`Written`], failures are [`StorageError`]s. A store's
//! client stays behind this file and [`S3Store`] ([`S3Store::client`] is visible to
//! `storage` alone, so the compiler refuses it in the engine), and what the S3 paths may
//! ask is listed here, in one place.
//!
//! Request headers arrive as name/value pairs, rendered by the S3 backend
//! ([`super::headers`]: metadata, tags, class, ACL, SSE, digests, copy directives) plus the
//! engine's conditions (`If-Match`, `If-None-Match`); the client signs whatever it is given.

use std::io::Read;
use std::time::Duration;

use super::{S3Store, convert};

use crate::http::body::Payload;
use crate::integrity::checksum::Algorithm;
use crate::integrity::digest::Parts;
use crate::integrity::etag::declared_parts;
use crate::s3::Response;
use crate::s3::ops::{CompletedPart, CopySource};
use crate::storage::backend::{PartReceipt, Written};
use crate::storage::error::{ErrorKind, StorageError};
use crate::storage::props::Properties;

/// A GET whose headers have arrived and whose body has not been read yet.
pub struct Fetched(pub(super) Response);

impl Fetched {
    /// The body, as a stream (paced by the bandwidth limit, stopped with the run).
    pub fn into_reader(self) -> impl Read + Send {
        self.0.into_reader()
    }
}

/// An object of an S3 store, named as the source of a server-side copy (CopyObject,
/// UploadPartCopy). The source store's SSE-C key, when it has one, goes with it.
#[derive(Clone, Copy)]
pub struct CopyFrom<'a> {
    pub store: &'a S3Store,
    /// The full key.
    pub key: &'a str,
    pub version: Option<&'a str>,
    /// Copy only while the source has this ETag (`x-amz-copy-source-if-match`).
    pub if_match: Option<&'a str>,
}

impl CopyFrom<'_> {
    fn source(&self) -> CopySource<'_> {
        CopySource {
            bucket: self.store.bucket(),
            key: self.key,
            version_id: self.version,
            sse_c: self.store.client.config().sse_c.as_ref(),
            if_match: self.if_match,
        }
    }
}

/// One part of a multipart object, as HeadObject `partNumber=N` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartHead {
    pub len: u64,
    /// How many parts the object has; `None` when the store ignored `partNumber`.
    pub parts: Option<u32>,
}

/// What UploadPartCopy made: the part's ETag and the additional checksum the store
/// computed for it, when the upload has an algorithm and the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedPart {
    pub etag: String,
    pub checksum: Option<(Algorithm, String)>,
}

impl S3Store {
    /// Whether request bodies are signed with their SHA-256 (not `UNSIGNED-PAYLOAD`): a
    /// streamed body then needs its SHA-256 before it is sent.
    pub fn signs_payload(&self) -> bool {
        !self.client.config().unsigned_payload
    }

    /// How often a request is tried in all, and the first pause between tries.
    pub fn retry_policy(&self) -> (u32, Duration) {
        let config = self.client.config();
        (config.max_attempts.max(1), config.initial_backoff)
    }

    /// Whether the run was stopped (requests then fail at once).
    pub fn stopped(&self) -> bool {
        self.client.stopped()
    }

    /// HeadObject of `full` (that version, if named). `Ok(None)` when it does not exist.
    pub fn head_object(
        &self,
        full: &str,
        version: Option<&str>,
    ) -> Result<Option<Properties>, StorageError> {
        self.client
            .head_object_version(&self.bucket, full, version)
            .map(|h| h.map(|h| convert::properties(h, version)))
            .map_err(convert::from_s3_object_request)
    }

    /// The properties of `full_key` (that version, if given), its stored checksum included
    /// (HeadObject in checksum mode). `Ok(None)` when it does not exist.
    pub fn head_checksums(
        &self,
        full: &str,
        version: Option<&str>,
    ) -> Result<Option<Properties>, StorageError> {
        self.client
            .head_object_checksum(&self.bucket, full, version)
            .map(|h| h.map(|h| convert::properties(h, version)))
            .map_err(|e| {
                convert::from_s3_object_request(e).about(format!("s3://{}/{full}", self.bucket))
            })
    }

    /// HeadObject `partNumber=number`: the size of that part and the object's part count.
    pub fn head_part(
        &self,
        full: &str,
        version: Option<&str>,
        number: u32,
    ) -> Result<Option<PartHead>, StorageError> {
        self.client
            .head_object_part(&self.bucket, full, version, number)
            .map(|p| {
                p.map(|p| PartHead {
                    len: p.len,
                    parts: p.parts_count,
                })
            })
            .map_err(convert::from_s3_object_request)
    }

    /// How the multipart object `full` (that version, if named; `size` bytes, whose
    /// multipart ETag or composite checksum is `value`) was cut: HeadObject `partNumber=1`
    /// gives the first part's size and the part count, and when `exact` (or the parts cannot
    /// all be that size) every other part is asked for too. `Ok(None)` when the store does
    /// not answer `partNumber` requests, or what it says does not add up to the object.
    pub fn part_layout(
        &self,
        full: &str,
        version: Option<&str>,
        size: u64,
        value: &str,
        exact: bool,
    ) -> Result<Option<Parts>, StorageError> {
        let vanished = || {
            StorageError::new(
                ErrorKind::NotFound,
                "HeadObject",
                format!("{full} disappeared before it was read"),
            )
        };
        let Some(first) = self.head_part(full, version, 1)? else {
            return Err(vanished());
        };
        let count = match first.parts {
            Some(n) if first.len > 0 && !(n > 1 && first.len >= size) => u64::from(n),
            _ => {
                // The store ignored partNumber and described the whole object.
                if exact && self.first_report_of_no_part_numbers() {
                    log::warn!(
                        "--auto-chunksize: this store does not answer HeadObject with partNumber, so part \
                         sizes cannot be learnt; multipart ETags it cannot vouch for are reported as unverified"
                    );
                }
                return Ok(None);
            }
        };
        // The part count in the ETag (or composite checksum) must agree with the store's.
        if declared_parts(value).is_some_and(|n| n != count) {
            return Ok(None);
        }
        let uniform = (count - 1) * first.len < size && size <= count * first.len;
        if uniform && !exact {
            return Ok(Some(Parts::Uniform(first.len)));
        }
        let mut sizes = vec![first.len];
        for n in 2..=count {
            let part = self
                .head_part(full, version, n as u32)?
                .ok_or_else(vanished)?;
            sizes.push(part.len);
        }
        let parts = Parts::Sizes(sizes);
        Ok(parts.fits(size).then_some(parts))
    }

    /// GetObject of `full` (that version, if named; that inclusive byte range, if given).
    /// For a ranged GET the properties' size is the whole object's.
    pub fn get_object(
        &self,
        full: &str,
        version: Option<&str>,
        range: Option<(u64, u64)>,
    ) -> Result<(Properties, Fetched), StorageError> {
        let resp = self
            .client
            .get_object_version(&self.bucket, full, version, range)
            .map_err(convert::from_s3_object_request)?;
        let head = crate::s3::ops::ObjectHead::from_headers(&resp.headers);
        Ok((convert::properties(head, version), Fetched(resp)))
    }

    /// PutObject with `headers` (all signed).
    pub fn put_object<'a>(
        &'a self,
        full: &'a str,
        body: Payload<'a>,
        headers: &[(String, String)],
    ) -> Result<Written, StorageError> {
        self.client
            .put_object(&self.bucket, full, body, headers)
            .map(convert::written)
            .map_err(convert::from_s3_object_request)
    }

    /// CopyObject from `from` to `full`; `headers` carry the directives and the new
    /// object's metadata.
    pub fn copy_object(
        &self,
        full: &str,
        from: &CopyFrom<'_>,
        headers: &[(String, String)],
    ) -> Result<Written, StorageError> {
        self.client
            .copy_object(&self.bucket, full, from.source(), headers)
            .map(convert::written)
            .map_err(convert::from_s3_object_request)
    }

    /// CreateMultipartUpload; returns the upload id.
    pub fn create_upload(
        &self,
        full: &str,
        headers: &[(String, String)],
    ) -> Result<String, StorageError> {
        self.client
            .create_multipart_upload(&self.bucket, full, headers)
            .map_err(convert::from_s3_object_request)
    }

    /// UploadPart `number` of upload `id`.
    pub fn upload_part<'a>(
        &'a self,
        full: &'a str,
        id: &str,
        number: u32,
        body: Payload<'a>,
        headers: &[(String, String)],
    ) -> Result<Written, StorageError> {
        self.client
            .upload_part(&self.bucket, full, id, number, body, headers)
            .map(convert::written)
            .map_err(convert::from_s3_object_request)
    }

    /// UploadPartCopy: part `number` of upload `id` copied by the server from the inclusive
    /// byte `range` of `from`.
    pub fn upload_part_copy(
        &self,
        full: &str,
        id: &str,
        number: u32,
        from: &CopyFrom<'_>,
        range: (u64, u64),
    ) -> Result<CopiedPart, StorageError> {
        self.client
            .upload_part_copy(&self.bucket, full, id, number, from.source(), range)
            .map(|c| CopiedPart {
                etag: c.etag,
                checksum: c.checksum,
            })
            .map_err(convert::from_s3_object_request)
    }

    /// CompleteMultipartUpload of `parts` (in number order); a part's checksum is of
    /// `algorithm`, the upload's.
    pub fn complete_upload(
        &self,
        full: &str,
        id: &str,
        parts: &[PartReceipt],
        algorithm: Option<Algorithm>,
        headers: &[(String, String)],
    ) -> Result<Written, StorageError> {
        let list: Vec<CompletedPart> = parts
            .iter()
            .map(|p| CompletedPart {
                number: p.number,
                etag: p.tag.clone(),
                checksum: algorithm.zip(p.checksum.clone()),
            })
            .collect();
        self.client
            .complete_multipart_upload(&self.bucket, full, id, &list, headers)
            .map(convert::written)
            .map_err(convert::from_s3_object_request)
    }

    /// ListParts of upload `id`, in number order (ETags unquoted; empty where the store
    /// lists none).
    pub fn list_upload_parts(
        &self,
        full: &str,
        id: &str,
    ) -> Result<Vec<PartReceipt>, StorageError> {
        self.client
            .list_parts(&self.bucket, full, id)
            .map(|parts| {
                parts
                    .into_iter()
                    .map(|p| PartReceipt {
                        number: p.number,
                        tag: p.etag,
                        size: p.size,
                        checksum: None,
                    })
                    .collect()
            })
            .map_err(convert::from_s3_object_request)
    }

    /// AbortMultipartUpload of upload `id`.
    pub fn abort_upload(&self, full: &str, id: &str) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload(&self.bucket, full, id)
            .map_err(convert::from_s3_object_request)
    }

    /// DeleteObject of `full` (that version, if named).
    pub fn delete_object(&self, full: &str, version: Option<&str>) -> Result<(), StorageError> {
        match version {
            Some(v) => self
                .client
                .delete_object_version(&self.bucket, full, Some(v)),
            None => self.client.delete_object(&self.bucket, full),
        }
        .map_err(convert::from_s3_object_request)
    }

    /// GetObjectTagging of `full` (that version, if named), in the order S3 returns them.
    pub fn object_tags(
        &self,
        full: &str,
        version: Option<&str>,
    ) -> Result<Vec<(String, String)>, StorageError> {
        match version {
            Some(_) => self
                .client
                .get_object_tagging_version(&self.bucket, full, version),
            None => self.client.get_object_tagging(&self.bucket, full),
        }
        .map_err(convert::from_s3_object_request)
    }

    /// PutObjectTagging of `full`: its tags become `tags`.
    pub fn put_object_tags(
        &self,
        full: &str,
        tags: &[(String, String)],
    ) -> Result<(), StorageError> {
        self.client
            .put_object_tagging(&self.bucket, full, tags)
            .map_err(convert::from_s3_object_request)
    }

    /// DeleteObjectTagging of `full`.
    pub fn delete_object_tags(&self, full: &str) -> Result<(), StorageError> {
        self.client
            .delete_object_tagging(&self.bucket, full)
            .map_err(convert::from_s3_object_request)
    }

    /// The bucket's versioning status (`Enabled`, `Suspended`), `None` when it was never
    /// enabled.
    pub fn versioning_status(&self) -> Result<Option<String>, StorageError> {
        self.client
            .get_bucket_versioning(&self.bucket)
            .map_err(convert::from_s3_object_request)
    }
}
