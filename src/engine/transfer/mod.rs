//! Moving one object, for each pair of sides: local → S3 ([`upload`]), S3 → local
//! ([`download`]), S3 → S3 ([`copy`]) and local → local ([`local`]). Every path hashes the
//! bytes as they pass and checks what landed against what was read; none reads a whole
//! object into memory or re-reads a file to verify it. Every pair with another backend
//! (Azure Blob today) goes through [`generic`], over the storage interface alone.
//!
//! What a write stored is checked on the storage interface's [`Written`] (its content tag
//! and what the tag proves, stored checksums, the version made), whichever path wrote it;
//! what a source is, on its [`Properties`]. The S3 fast paths ask [`S3Store`] for their
//! requests in storage terms (`storage/s3/requests.rs`: properties, writes, parts and
//! storage errors); the S3 client is out of the engine's reach, and no S3 client type is
//! named here. Their S3 request bodies built from another object (re-GET on retry,
//! `aws-chunked` trailers) live with the S3 backend ([`crate::storage::s3::streams`]).

pub mod copy;
mod copy_plan;
pub mod download;
mod error;
pub mod generic;
mod headers;
pub mod local;
pub mod multipart;
pub mod part_source;
pub mod posix;
pub mod resume;
mod server_copy;
mod source_read;
pub mod streams;
pub mod upload;

pub use error::{Corruption, TransferError};
pub use headers::{
    ORIGIN_LAST_MODIFIED, ORIGIN_VERSION_ID, local_upload_metadata, mark_origin, preprocess,
    s3_object_headers, target_meta, upload_metadata,
};

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::parts::PartQueue;
use crate::config::Config;
use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::integrity::digest::{PartDigest, Parts};
use crate::storage::backend::Written;
use crate::storage::error::{ErrorKind as StorageKind, Retry, StorageError};
use crate::storage::props::{Properties, StoredAlgorithm};
use crate::storage::s3::S3Store;
use crate::storage::s3::headers as s3_headers;

pub(crate) const STREAM_BUFFER: usize = 256 << 10;

/// A buffer for streaming `size` bytes: `STREAM_BUFFER` at most, and no larger than the
/// data (4 KiB at least). A 256 KiB buffer per 10 KiB object is an mmap, a zeroing and an
/// munmap (with its TLB shootdown) per object under musl's allocator.
pub(crate) fn stream_buffer(size: u64) -> Vec<u8> {
    let len = usize::try_from(size).unwrap_or(STREAM_BUFFER);
    vec![0u8; len.clamp(4 << 10, STREAM_BUFFER)]
}

/// What every transfer needs from the run. `'o` borrows the part queue, `'a` everything part
/// tasks may use (they can outlive the worker's stack frame, never the run).
pub struct Ctx<'o, 'a> {
    pub config: &'a Config,
    pub parts: &'o PartQueue<'a>,
    pub cancel: &'a AtomicBool,
    /// The conditions of the object being transferred (`--if-match` and friends).
    pub conditions: Conditions,
    /// What the content filters already read of the source object, for the transfer's
    /// first attempt to use instead of asking again ([`Ctx::take_known`]).
    pub known: Mutex<Option<Known>>,
    /// The journal of multipart uploads in flight, when the run keeps one ([`resume`]).
    pub journal: Option<&'a crate::engine::journal::Journal>,
}

impl Ctx<'_, '_> {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// What was already read of the current (unversioned) source object, once: a retry
    /// asks the store again, as the object may have changed since.
    pub fn take_known(&self) -> Option<Known> {
        self.known.lock().ok()?.take()
    }
}

/// The source object as the content filters read it just before its transfer: its HEAD and,
/// when they fetched them, its tags.
#[derive(Debug, Clone)]
pub struct Known {
    pub head: Properties,
    pub tags: Option<Vec<(String, String)>>,
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
    /// Bytes a resumed multipart upload already held, not sent by this run; `Some` only
    /// when some were kept.
    pub resumed_bytes: Option<u64>,
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
        self.resumed_bytes = self.resumed_bytes.or(other.resumed_bytes);
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

/// Compares the additional checksum (`spec`) the target keeps for a write with the one
/// computed from the bytes sent. Nothing to compare when no checksum was asked for or
/// verification is off. A target that keeps none although one was sent (some stores keep no
/// checksums of multipart objects, or ignore the header) is a warning naming the key: the
/// object is there, but without the checksum the user asked for.
pub fn verify_checksum_write(
    config: &Config,
    target: &S3Store,
    spec: Option<ChecksumSpec>,
    expected: Option<&str>,
    written: &Written,
    full_key: &str,
) -> Result<Outcome, TransferError> {
    let (Some(spec), Some(expected)) = (spec, expected) else {
        return Ok(Outcome::unverified());
    };
    if !checks_checksum(config, expected) {
        return Ok(Outcome::unverified());
    };
    let alg = spec.algorithm;
    let answered = written.checksum(alg).is_some();
    let stored = match stored_checksum(target, alg, written, full_key) {
        Ok(Some(stored)) => stored,
        Ok(None) => return Ok(Outcome::warn(no_checksum_stored(full_key, alg))),
        Err(e) => {
            return Ok(Outcome::warn(format!(
                "{}: cannot read back the stored checksum ({e})",
                no_checksum_stored(full_key, alg)
            )));
        }
    };
    if !checksum::is_well_formed(alg, &stored) {
        return Ok(Outcome::warn(format!(
            "the target reports a malformed {alg} checksum for {full_key} ({stored}); not compared"
        )));
    }
    if stored != expected && !answered {
        // Read back later rather than answered by the write: a value the store computed
        // itself afterwards (moto computes some algorithms wrongly). The ETag vouches for
        // the bytes; the checksum kept is not the one asked for.
        return Ok(Outcome::warn(format!(
            "{full_key}: the target keeps {alg} checksum {stored}, not {expected} as computed from the bytes sent"
        )));
    }
    if stored != expected {
        return Err(TransferError::Corrupt(
            Corruption::Checksum,
            format!(
                "{alg} checksum mismatch writing {full_key}: sent {expected}, S3 stored {stored}"
            ),
        ));
    }
    Ok(Outcome {
        checksum_verified: Some((alg, expected.to_string(), stored)),
        ..Outcome::default()
    })
}

/// The warning for a target that keeps no `algorithm` checksum of `full_key`.
pub fn no_checksum_stored(full_key: &str, algorithm: Algorithm) -> String {
    format!("{full_key}: the target stored no {algorithm} checksum although one was asked for")
}

/// The `algorithm` checksum the target keeps for what was just written to `full_key`: from
/// the write's answer, else from a HeadObject in checksum mode of the version written (some
/// stores answer CompleteMultipartUpload or CopyObject without it). `None` when it keeps none.
pub fn stored_checksum(
    target: &S3Store,
    algorithm: Algorithm,
    written: &Written,
    full_key: &str,
) -> Result<Option<String>, StorageError> {
    if let Some(v) = written.checksum(algorithm) {
        return Ok(Some(v.to_string()));
    }
    let head = target.head_checksums(full_key, written.version.as_deref())?;
    Ok(head.and_then(|h| {
        h.stored.into_iter().find_map(|c| {
            (c.algorithm == StoredAlgorithm::Additional(algorithm)).then_some(c.value)
        })
    }))
}

/// Runs the checks of what a write to `full_key` stored (`written`); when they find it
/// corrupt, the object is removed at once (the version the write made, by its id, on a
/// versioned bucket), so a corrupt object never stays under its name, not even between
/// attempts.
pub fn checked_write(
    target: &S3Store,
    full_key: &str,
    written: &Written,
    checks: impl FnOnce() -> Result<Outcome, TransferError>,
) -> Result<Outcome, TransferError> {
    match checks() {
        Err(TransferError::Corrupt(kind, m)) => Err(discard(target, full_key, written, kind, m)),
        other => other,
    }
}

/// Removes the corrupt object a write made and says so in the error.
fn discard(
    target: &S3Store,
    full_key: &str,
    written: &Written,
    kind: Corruption,
    message: String,
) -> TransferError {
    let removed = target.delete_object(full_key, written.version.as_deref());
    match removed {
        Ok(()) => TransferError::Removed(kind, format!("{message}; removed the corrupt object")),
        Err(e) => TransferError::Corrupt(
            kind,
            format!("{message}; removing the corrupt object failed: {e}"),
        ),
    }
}

/// The integrity headers of a body whose digests are known before it is sent: Content-MD5
/// (unless disabled) and the additional checksum of a single-part object or one part.
pub fn digest_headers(
    part: &PartDigest,
    content_md5: bool,
    spec: Option<ChecksumSpec>,
) -> Vec<(String, String)> {
    s3_headers::digest_headers(
        part.md5.as_ref().filter(|_| content_md5),
        spec.zip(part.checksum.as_deref())
            .map(|(s, raw)| (s.algorithm, raw)),
    )
}

/// How many times an object whose written copy failed verification is transferred in all
/// before the run gives up on it.
pub const VERIFY_ATTEMPTS: u32 = 3;

/// How the multipart object `key` of `store` (its version `version_id` when named; `size`
/// bytes, whose multipart ETag or composite checksum is `value`) was cut: learnt from the
/// store (`true`), or, where the store does not tell, assumed ([`assumed_chunk`]; `false`:
/// then a multipart value computed with them proves nothing when it differs).
pub fn parts_of(
    config: &Config,
    store: &S3Store,
    key: &str,
    version_id: Option<&str>,
    size: u64,
    value: &str,
) -> Result<(Parts, bool), TransferError> {
    Ok(
        match store.part_layout(key, version_id, size, value, config.auto_chunksize)? {
            Some(parts) => (parts, true),
            None => (
                Parts::Uniform(assumed_chunk(config.layout.chunk_size, size, value)),
                false,
            ),
        },
    )
}

/// The part size to assume for a `size`-byte multipart object (multipart value `value`)
/// whose store does not tell its part sizes: the configured one when it gives the part
/// count the value declares, else the first size common among S3 clients that does (5, 8,
/// 16, 32, 50, 64, 100, 128, 256 or 512 MiB, then the size over the count rounded up to a
/// MiB). A wrong guess costs nothing: the value is then reported as unverified, as it
/// would be without the guess.
fn assumed_chunk(configured: u64, size: u64, value: &str) -> u64 {
    const MIB: u64 = 1 << 20;
    let Some(count) = crate::integrity::etag::declared_parts(value).filter(|&n| n > 0) else {
        return configured;
    };
    std::iter::once(configured)
        .chain([5, 8, 16, 32, 50, 64, 100, 128, 256, 512].map(|m| m * MIB))
        .chain(std::iter::once(size.div_ceil(count).next_multiple_of(MIB)))
        .find(|&chunk| chunk > 0 && size.div_ceil(chunk) == count)
        .unwrap_or(configured)
}

/// Runs `attempt` again (up to `attempts` times in all, with the client's backoff) while it
/// fails because a response body was cut short; S3-level retries happen inside the client.
pub fn retry_body<T>(
    store: &S3Store,
    mut attempt: impl FnMut() -> Result<T, TransferError>,
) -> Result<T, TransferError> {
    let (attempts, initial_backoff) = store.retry_policy();
    let mut n = 1;
    loop {
        match attempt() {
            Err(_) if store.stopped() => return Err(TransferError::Cancelled),
            Err(TransferError::Network(m)) if n < attempts => {
                let pause = crate::http::retry::backoff(initial_backoff, n);
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
    written: &Written,
    full_key: &str,
) -> Result<Outcome, TransferError> {
    let enabled = config.verify_etag && (!multipart || config.verify_multipart);
    let stored = written.tag_text();
    let (Some(expected), Some(stored), true, false) =
        (expected, stored, enabled, written.tag_is_opaque())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_part_sizes_match_the_declared_count() {
        const MIB: u64 = 1 << 20;
        // The configured size when it fits.
        assert_eq!(assumed_chunk(8 * MIB, 256 * MIB, "\"abc-32\""), 8 * MIB);
        // Else a common client size: 12 MiB in three parts is 5 MiB parts.
        assert_eq!(assumed_chunk(8 * MIB, 12 * MIB, "abc-3"), 5 * MIB);
        assert_eq!(assumed_chunk(8 * MIB, 1000 * MIB, "abc-20"), 50 * MIB);
        // Else the size over the count, rounded up to a MiB: 3 GiB in 10 parts.
        assert_eq!(assumed_chunk(8 * MIB, 3072 * MIB, "x-10"), 308 * MIB);
        // No count, or one nothing fits: the configured size.
        assert_eq!(assumed_chunk(8 * MIB, 12 * MIB, "abc"), 8 * MIB);
        assert_eq!(assumed_chunk(8 * MIB, 12 * MIB, "abc-0"), 8 * MIB);
        assert_eq!(assumed_chunk(8 * MIB, 3, "abc-9"), 8 * MIB);
    }

    #[test]
    fn md5_etags_are_recognised() {
        assert!(is_md5_etag("\"9b2cf535f27731c974343645a3985328\""));
        assert!(!is_md5_etag("\"9b2cf535f27731c974343645a3985328-2\""));
        assert!(!is_md5_etag("abc"));
    }
}
