//! Moving one object, for each pair of sides: local → S3 ([`upload`]), S3 → local
//! ([`download`]), S3 → S3 ([`copy`]) and local → local ([`local`]). Every path hashes the
//! bytes as they pass and checks what landed against what was read; none reads a whole
//! object into memory or re-reads a file to verify it.

pub mod copy;
pub mod download;
pub mod local;
pub mod multipart;
pub mod streams;
pub mod upload;

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::parts::PartQueue;
use crate::callback::{SourceObject, UploadMetadata};
use crate::config::{Config, MetadataOptions};
use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::integrity::digest::{PartDigest, Parts};
use crate::s3::ops::ObjectMeta;
use crate::s3::{ErrorKind, S3Error};
use crate::storage::s3::S3Store;
use crate::util::encoding::base64;
use crate::util::time::Timestamp;

pub(crate) const STREAM_BUFFER: usize = 256 << 10;

/// Why a transfer failed.
#[derive(Debug)]
pub enum TransferError {
    /// The source vanished between listing and transfer.
    SourceGone(String),
    /// Reading or writing a local file failed.
    Io(String),
    /// S3 refused or failed.
    S3(S3Error),
    /// The source changed while it was being read (a different version answered, a file
    /// changed size): worth another attempt; nothing corrupt was stored.
    Mismatch(String),
    /// What landed does not match what was read: the object written is corrupt. Another
    /// attempt may succeed; if none does, the bad object must not stay under its name.
    Corrupt(Corruption, String),
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
            TransferError::S3(e) => {
                e.kind == ErrorKind::WrongRegion
                    || matches!(
                        e.code.as_str(),
                        "NoSuchBucket"
                            | "SignatureDoesNotMatch"
                            | "InvalidAccessKeyId"
                            | "ExpiredToken"
                            | "InvalidToken"
                    )
            }
            _ => false,
        }
    }

    /// Why this object can be skipped with a warning rather than fail the run, as the
    /// reference does: it is archived (Glacier) or this object alone is off limits.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self {
            TransferError::S3(e) if e.kind == ErrorKind::Precondition => {
                Some("precondition (--if-match, --if-none-match or --copy-source-if-match) failed")
            }
            TransferError::S3(e) if e.code == "InvalidObjectState" => {
                Some("the object is archived (e.g. Glacier) and cannot be read until restored")
            }
            TransferError::S3(e) if e.kind == ErrorKind::AccessDenied && !self.is_fatal() => {
                Some("access denied")
            }
            _ => None,
        }
    }
}

impl TransferError {
    /// Whether the object is archived (Glacier, Deep Archive) and must be restored before it
    /// can be read.
    pub fn is_archived(&self) -> bool {
        matches!(self, TransferError::S3(e) if e.code == "InvalidObjectState")
    }
}

impl From<S3Error> for TransferError {
    fn from(e: S3Error) -> Self {
        // Only a missing source object is "gone"; a 404 on a write is a real failure.
        let source_read = matches!(e.op, "GetObject" | "HeadObject" | "GetObjectTagging");
        if source_read && e.kind == ErrorKind::NotFound && e.code != "NoSuchBucket" {
            TransferError::SourceGone(e.to_string())
        } else {
            TransferError::S3(e)
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
            | TransferError::Refused(m)
            | TransferError::Network(m) => f.write_str(m),
            TransferError::S3(e) => write!(f, "{e}"),
            TransferError::Cancelled => f.write_str("cancelled"),
            TransferError::Callback(m) => write!(f, "preprocess callback failed: {m}"),
            TransferError::Declined => f.write_str("skipped by the preprocess callback"),
        }
    }
}

/// What every transfer needs from the run. `'o` borrows the part queue, `'a` everything part
/// tasks may use (they can outlive the worker's stack frame, never the run).
pub struct Ctx<'o, 'a> {
    pub config: &'a Config,
    pub parts: &'o PartQueue<'a>,
    pub cancel: &'a AtomicBool,
    /// The conditions of the object being transferred (`--if-match` and friends).
    pub conditions: Conditions,
}

impl Ctx<'_, '_> {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The conditional headers of one object's writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match` / `If-None-Match`, sent with the request that makes the object visible:
    /// PutObject, CopyObject or CompleteMultipartUpload (never with the parts).
    pub write: Vec<(String, String)>,
    /// The source ETag for `x-amz-copy-source-if-match` on CopyObject and UploadPartCopy.
    pub copy_source_etag: Option<String>,
}

/// What a finished transfer proved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// (ETag of what was read, ETag of what landed) when they were compared and matched.
    pub etag_verified: Option<(String, String)>,
    /// (algorithm, checksum of what was read, checksum of what landed) when they were
    /// compared and matched.
    pub checksum_verified: Option<(Algorithm, String, String)>,
    /// Something to tell the user (counted as a warning), e.g. an unverifiable ETag.
    pub warning: Option<String>,
}

impl Outcome {
    pub fn verified(source: impl Into<String>, target: impl Into<String>) -> Outcome {
        Outcome {
            etag_verified: Some((source.into(), target.into())),
            ..Outcome::default()
        }
    }

    pub fn unverified() -> Outcome {
        Outcome::default()
    }

    pub fn warn(message: String) -> Outcome {
        Outcome {
            warning: Some(message),
            ..Outcome::default()
        }
    }

    /// This outcome plus what a checksum comparison proved.
    pub fn and(mut self, other: Outcome) -> Outcome {
        if other.etag_verified.is_some() {
            self.etag_verified = other.etag_verified;
        }
        if other.checksum_verified.is_some() {
            self.checksum_verified = other.checksum_verified;
        }
        self.warning = match (self.warning.take(), other.warning) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        self
    }
}

/// Whether a checksum value is to be compared at all: not with
/// `--disable-additional-checksum-verify`, and not a composite (multipart) one with
/// `--disable-multipart-verify`.
pub fn checks_checksum(config: &Config, value: &str) -> bool {
    config.verify_checksum
        && (config.verify_multipart || checksum::composite_parts(value).is_none())
}

/// Compares the additional checksum (`spec`) S3 reports for a write with the one computed
/// from the bytes sent. Nothing to compare when no checksum was asked for, verification is
/// off, or the store reports none (some S3-compatible stores keep no checksums of multipart
/// objects).
pub fn verify_checksum_write(
    config: &Config,
    spec: Option<ChecksumSpec>,
    expected: Option<&str>,
    written: &crate::s3::ops::Written,
    full_key: &str,
) -> Result<Outcome, TransferError> {
    let (Some(spec), Some(expected)) = (spec, expected) else {
        return Ok(Outcome::unverified());
    };
    if !checks_checksum(config, expected) {
        return Ok(Outcome::unverified());
    };
    match &written.checksum {
        Some((alg, stored)) if *alg == spec.algorithm => {
            if stored != expected {
                return Err(TransferError::Corrupt(
                    Corruption::Checksum,
                    format!(
                        "{alg} checksum mismatch writing {full_key}: sent {expected}, S3 stored {stored}"
                    ),
                ));
            }
            Ok(Outcome {
                checksum_verified: Some((*alg, expected.to_string(), stored.clone())),
                ..Outcome::default()
            })
        }
        _ => {
            log::debug!(key = full_key, algorithm = spec.algorithm.name(); "the store reported no checksum for the write; nothing to compare");
            Ok(Outcome::unverified())
        }
    }
}

/// The integrity headers of a body whose digests are known before it is sent: Content-MD5
/// (unless disabled) and the additional checksum of a single-part object or one part.
pub fn digest_headers(
    part: &PartDigest,
    content_md5: bool,
    spec: Option<ChecksumSpec>,
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(2);
    if content_md5 {
        headers.push(("content-md5".into(), base64(&part.md5)));
    }
    if let (Some(spec), Some(raw)) = (spec, &part.checksum) {
        headers.push((spec.algorithm.header().into(), checksum::encode(raw)));
    }
    headers
}

/// How many times an object whose written copy failed verification is transferred in all
/// before the run gives up on it.
pub const VERIFY_ATTEMPTS: u32 = 3;

/// How the multipart object `key` of `store` (its version `version_id` when named; `size`
/// bytes, whose multipart ETag or composite checksum is `value`) was cut: learnt from the
/// store (`true`), or, where the store does not tell, assumed to be in parts of the
/// configured size (`false`: then a multipart value computed with them proves nothing when
/// it differs).
pub fn parts_of(
    config: &Config,
    store: &S3Store,
    key: &str,
    version_id: Option<&str>,
    size: u64,
    value: &str,
) -> Result<(Parts, bool), TransferError> {
    Ok(
        match learn_parts(store, key, version_id, size, value, config.auto_chunksize)? {
            Some(parts) => (parts, true),
            None => (Parts::Uniform(config.layout.chunk_size), false),
        },
    )
}

/// Learns how the multipart object `key` (with multipart ETag `etag`, `size` bytes) was cut:
/// HeadObject `partNumber=1` gives the first part's size, and when `exact` (or the parts
/// cannot all be that size) every other part is asked for too. `None` when the store does not
/// answer `partNumber` requests.
fn learn_parts(
    store: &S3Store,
    key: &str,
    version_id: Option<&str>,
    size: u64,
    etag: &str,
    exact: bool,
) -> Result<Option<Parts>, TransferError> {
    let (client, bucket) = (store.client(), store.bucket());
    let Some(first) = client.head_object_part(bucket, key, version_id, 1)? else {
        return Err(TransferError::SourceGone(format!(
            "{key} disappeared before it was read"
        )));
    };
    let count = match first.parts_count {
        Some(n) if first.len > 0 && !(n > 1 && first.len >= size) => u64::from(n),
        _ => {
            // The store ignored partNumber and described the whole object.
            if exact && store.first_report_of_no_part_numbers() {
                log::warn!(
                    "--auto-chunksize: this store does not answer HeadObject with partNumber, so part sizes \
                     cannot be learnt; multipart ETags it cannot vouch for are reported as unverified"
                );
            }
            return Ok(None);
        }
    };
    // The part count in the ETag (or composite checksum) must agree with the store's.
    let declared = crate::integrity::etag::strip_quotes(etag)
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse::<u64>().ok());
    if declared.is_some_and(|n| n != count) {
        return Ok(None);
    }
    let uniform = (count - 1) * first.len < size && size <= count * first.len;
    if uniform && !exact {
        return Ok(Some(Parts::Uniform(first.len)));
    }
    let mut sizes = vec![first.len];
    for n in 2..=count {
        let part = client
            .head_object_part(bucket, key, version_id, n as u32)?
            .ok_or_else(|| {
                TransferError::SourceGone(format!("{key} disappeared before it was read"))
            })?;
        sizes.push(part.len);
    }
    let parts = Parts::Sizes(sizes);
    if !parts.fits(size) {
        return Ok(None);
    }
    Ok(Some(parts))
}

/// Runs `attempt` again (up to `attempts` times in all, with the client's backoff) while it
/// fails because a response body was cut short; S3-level retries happen inside the client.
pub fn retry_body<T>(
    client: &crate::s3::Client,
    mut attempt: impl FnMut() -> Result<T, TransferError>,
) -> Result<T, TransferError> {
    let attempts = client.config().max_attempts.max(1);
    let mut n = 1;
    loop {
        match attempt() {
            Err(TransferError::Network(m)) if n < attempts => {
                let pause = crate::s3::client::backoff(client.config().initial_backoff, n);
                log::debug!("{m}; attempt {n} of {attempts}, retrying in {pause:?}");
                std::thread::sleep(pause);
                n += 1;
            }
            other => return other,
        }
    }
}

/// Checks what a write stored against what was sent: `expected` is the ETag computed from
/// the bytes sent. Skipped when disabled, when the store gave no ETag, or when the object is
/// encrypted with SSE-KMS or SSE-C (its ETag is then not a digest of the content).
pub fn verify_write(
    config: &Config,
    multipart: bool,
    expected: Option<&str>,
    written: &crate::s3::ops::Written,
    full_key: &str,
) -> Result<Outcome, TransferError> {
    let enabled = config.verify_etag && (!multipart || config.verify_multipart);
    let stored = written
        .etag
        .as_deref()
        .map(crate::integrity::etag::strip_quotes);
    let (Some(expected), Some(stored), true, false) =
        (expected, stored, enabled, written.encrypted)
    else {
        return Ok(Outcome::unverified());
    };
    if expected != stored {
        return Err(TransferError::Corrupt(
            Corruption::Etag,
            format!(
                "ETag mismatch writing {full_key}: sent {expected}, S3 stored {stored}; the object may be corrupt"
            ),
        ));
    }
    Ok(Outcome::verified(expected, stored))
}

pub(crate) fn open_source(path: &Path) -> Result<File, TransferError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            TransferError::SourceGone(format!("{} disappeared before it was read", path.display()))
        }
        _ => TransferError::Io(format!("cannot open {}: {e}", path.display())),
    })
}

pub(crate) fn io_err(what: &str, path: &Path, e: io::Error) -> TransferError {
    TransferError::Io(format!("{what} {}: {e}", path.display()))
}

/// Whether an ETag is a plain MD5 (single-part upload, no KMS or SSE-C encryption).
pub fn is_md5_etag(etag: &str) -> bool {
    let e = crate::integrity::etag::strip_quotes(etag);
    e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit())
}

/// User metadata key recording the source's LastModified (`--put-last-modified-metadata`).
pub const ORIGIN_LAST_MODIFIED: &str = "s3sync_origin_last_modified";

/// User metadata key recording the source version a target version was copied from
/// (`--enable-versioning`); later runs recognise copied versions by it.
pub const ORIGIN_VERSION_ID: &str = "s3sync_origin_version_id";

/// Marks `meta` as the copy of source version `version_id`, last modified at
/// `last_modified`: both origin keys are set, replacing any the source carried (a source
/// that is itself a copy names its own origin, not ours).
pub fn mark_origin(meta: &mut ObjectMeta, version_id: &str, last_modified: Timestamp) {
    meta.user
        .retain(|(k, _)| k != ORIGIN_VERSION_ID && k != ORIGIN_LAST_MODIFIED);
    meta.user
        .push((ORIGIN_VERSION_ID.into(), version_id.to_string()));
    meta.user
        .push((ORIGIN_LAST_MODIFIED.into(), last_modified.rfc3339_seconds()));
    meta.user.sort();
}

/// The metadata to give the target object: the source's, minus what the user said not to
/// sync, plus the user's overrides. `last_modified` is the source object's.
pub fn target_meta(
    options: &MetadataOptions,
    source: &ObjectMeta,
    last_modified: Timestamp,
) -> ObjectMeta {
    let mut meta = source.clone();
    if options.no_sync_system {
        meta = ObjectMeta {
            user: std::mem::take(&mut meta.user),
            ..ObjectMeta::default()
        };
    }
    if options.no_sync_user {
        meta.user.clear();
    }
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    set(&mut meta.content_type, &options.content_type);
    set(&mut meta.content_encoding, &options.content_encoding);
    set(&mut meta.cache_control, &options.cache_control);
    set(&mut meta.content_disposition, &options.content_disposition);
    set(&mut meta.content_language, &options.content_language);
    set(&mut meta.expires, &options.expires);
    set(&mut meta.website_redirect, &options.website_redirect);
    if let Some(user) = &options.metadata {
        meta.user = user.clone();
    }
    if options.put_last_modified {
        meta.user.retain(|(k, _)| k != ORIGIN_LAST_MODIFIED);
        meta.user
            .push((ORIGIN_LAST_MODIFIED.into(), last_modified.rfc3339_seconds()));
        meta.user.sort();
    }
    meta
}

/// What a new target object is given, before the preprocess callback: `meta` (from
/// [`target_meta`]), the tags (the user's, or the source's unless tagging is disabled), the
/// storage class (the user's, or the source's when it has one) and the ACL.
pub fn upload_metadata(
    options: &MetadataOptions,
    meta: ObjectMeta,
    source_tags: Option<&[(String, String)]>,
    source_storage_class: Option<&str>,
) -> UploadMetadata {
    let tags = match (&options.tagging, options.disable_tagging) {
        (Some(t), _) => Some(t.as_slice()),
        (None, false) => source_tags,
        (None, true) => None,
    };
    UploadMetadata {
        meta,
        tags: tags.map(<[_]>::to_vec).unwrap_or_default(),
        storage_class: options
            .storage_class
            .as_deref()
            .or(source_storage_class)
            .map(str::to_string),
        acl: options.acl.clone(),
    }
}

/// The headers that give a new target object `upload`, and the encryption of `options`.
pub fn upload_headers(options: &MetadataOptions, upload: &UploadMetadata) -> Vec<(String, String)> {
    let mut out = upload.meta.to_headers();
    let mut push = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push((name.to_string(), v.to_string()));
        }
    };
    push("x-amz-storage-class", upload.storage_class.as_deref());
    push("x-amz-acl", upload.acl.as_deref());
    push("x-amz-server-side-encryption", options.sse.as_deref());
    push(
        "x-amz-server-side-encryption-aws-kms-key-id",
        options.sse_kms_key_id.as_deref(),
    );
    if !upload.tags.is_empty() {
        out.push((
            "x-amz-tagging".into(),
            crate::s3::ops::tagging_header(&upload.tags),
        ));
    }
    out
}

/// All headers that shape a new target object (see [`upload_metadata`]), without the
/// preprocess callback.
pub fn write_headers(
    options: &MetadataOptions,
    meta: &ObjectMeta,
    source_tags: Option<&[(String, String)]>,
    source_storage_class: Option<&str>,
) -> Vec<(String, String)> {
    let upload = upload_metadata(options, meta.clone(), source_tags, source_storage_class);
    upload_headers(options, &upload)
}

/// The headers of a write of `upload`, after the preprocess callback (when there is one) has
/// seen it with the source `source()` describes. `Declined` when the callback skips the
/// object, `Callback` when it fails or returns something that cannot be sent.
pub fn preprocessed_headers(
    config: &Config,
    source: impl FnOnce() -> SourceObject,
    mut upload: UploadMetadata,
) -> Result<Vec<(String, String)>, TransferError> {
    if let Some(callback) = &config.callbacks.preprocess {
        let object = source();
        match callback.preprocess(&object, &mut upload) {
            Ok(true) => {}
            Ok(false) => return Err(TransferError::Declined),
            Err(e) => return Err(TransferError::Callback(e.to_string())),
        }
        upload
            .check()
            .map_err(|e| TransferError::Callback(format!("it returned {e}")))?;
    }
    Ok(upload_headers(&config.metadata, &upload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_headers_prefer_the_users_values() {
        let tags = vec![("src".to_string(), "1".to_string())];
        let opts = MetadataOptions {
            acl: Some("private".into()),
            ..Default::default()
        };
        let h = write_headers(&opts, &ObjectMeta::default(), Some(&tags), Some("GLACIER"));
        assert!(h.contains(&("x-amz-storage-class".into(), "GLACIER".into())));
        assert!(h.contains(&("x-amz-acl".into(), "private".into())));
        assert!(h.contains(&("x-amz-tagging".into(), "src=1".into())));
        let opts = MetadataOptions {
            storage_class: Some("STANDARD_IA".into()),
            tagging: Some(vec![("a b".into(), "c&d".into())]),
            ..Default::default()
        };
        let h = write_headers(&opts, &ObjectMeta::default(), Some(&tags), Some("GLACIER"));
        assert!(h.contains(&("x-amz-storage-class".into(), "STANDARD_IA".into())));
        assert!(h.contains(&("x-amz-tagging".into(), "a%20b=c%26d".into())));
        let opts = MetadataOptions {
            disable_tagging: true,
            ..Default::default()
        };
        let h = write_headers(&opts, &ObjectMeta::default(), Some(&tags), None);
        assert!(!h.iter().any(|(k, _)| k == "x-amz-tagging"));
    }

    #[test]
    fn md5_etags_are_recognised() {
        assert!(is_md5_etag("\"9b2cf535f27731c974343645a3985328\""));
        assert!(!is_md5_etag("\"9b2cf535f27731c974343645a3985328-2\""));
        assert!(!is_md5_etag("abc"));
    }

    #[test]
    fn overrides_and_exclusions_apply_in_order() {
        let source = ObjectMeta {
            content_type: Some("text/plain".into()),
            cache_control: Some("max-age=1".into()),
            user: vec![("a".into(), "1".into())],
            ..ObjectMeta::default()
        };
        let opts = MetadataOptions {
            no_sync_system: true,
            content_language: Some("en".into()),
            ..Default::default()
        };
        let m = target_meta(&opts, &source, Timestamp::default());
        assert_eq!(m.content_type, None);
        assert_eq!(m.cache_control, None);
        assert_eq!(m.content_language.as_deref(), Some("en"));
        assert_eq!(m.user, vec![("a".to_string(), "1".to_string())]);
        let opts = MetadataOptions {
            no_sync_user: true,
            content_type: Some("image/png".into()),
            ..Default::default()
        };
        let m = target_meta(&opts, &source, Timestamp::default());
        assert!(m.user.is_empty());
        assert_eq!(m.content_type.as_deref(), Some("image/png"));
        assert_eq!(m.cache_control.as_deref(), Some("max-age=1"));
        let opts = MetadataOptions {
            metadata: Some(vec![("k".into(), "v".into())]),
            ..Default::default()
        };
        assert_eq!(
            target_meta(&opts, &source, Timestamp::default()).user,
            vec![("k".to_string(), "v".to_string())]
        );
        let opts = MetadataOptions {
            put_last_modified: true,
            ..Default::default()
        };
        let m = target_meta(
            &opts,
            &source,
            Timestamp {
                secs: 1_735_689_600,
                nanos: 7,
            },
        );
        assert!(m.user.contains(&(
            ORIGIN_LAST_MODIFIED.to_string(),
            "2025-01-01T00:00:00+00:00".to_string()
        )));
    }
}
