//! Content update checks: whether an object that exists on both sides holds the same bytes,
//! judged by ETag (`--check-etag`, `--check-mtime-and-etag`) or by an additional checksum
//! (`--check-additional-checksum`, `--check-mtime-and-additional-checksum`).
//!
//! A local file is digested in the form the S3 side's value has: a plain MD5 against a
//! single-part ETag, the object's own part sizes (learnt from the store) against a multipart
//! ETag or a composite checksum, the CRC of all bytes against a full-object checksum. So a
//! file uploaded with another chunk size or by another tool is still recognised.

use super::Job;
use super::Run;
use super::transfer::{self, TransferError};
use crate::config::UpdateCheck;
use crate::integrity::checksum::{self, Algorithm, ChecksumSpec};
use crate::integrity::digest::Parts;
use crate::integrity::etag::{is_multipart_etag, strip_quotes};
use crate::storage::local::LocalStore;
use crate::storage::s3::S3Store;
use crate::storage::{Entry, Store};

/// The verdict of a content check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Same {
    Yes,
    No,
    /// Cannot be decided (a side has no such checksum): skipped with this warning, as the
    /// reference does.
    Unknown(String),
}

/// A content check and the values it compared (ETags without quotes, or checksums).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub same: Same,
    pub source: Option<String>,
    pub target: Option<String>,
    /// Whether a multipart value was recomputed in part sizes learnt from the store; when
    /// they had to be assumed, a difference proves nothing (the update check then transfers
    /// to be safe, a report says UNKNOWN).
    pub exact: bool,
}

impl Comparison {
    fn of(same: Same) -> Comparison {
        Comparison {
            same,
            source: None,
            target: None,
            exact: true,
        }
    }
}

/// Compares the contents of the job's source and target.
pub fn contents(run: &Run<'_>, job: &Job) -> Result<Same, TransferError> {
    let Some(target) = &job.target else {
        return Ok(Same::No);
    };
    compare(run, &job.source, target).map(|c| c.same)
}

/// Compares `source` and `target` by the run's content check: the additional checksum of
/// `--check-(mtime-and-)additional-checksum`, else the ETag.
pub fn compare(run: &Run<'_>, source: &Entry, target: &Entry) -> Result<Comparison, TransferError> {
    match run.config.update_check {
        UpdateCheck::Checksum(a) | UpdateCheck::MtimeAndChecksum(a) => {
            checksums(run, source, target, a)
        }
        _ => etags(run, source, target),
    }
}

/// An S3 object's ETag, from the listing or else a HEAD (some stores list none).
fn s3_etag(store: &S3Store, entry: &Entry) -> Result<Option<String>, TransferError> {
    if let Some(e) = &entry.etag {
        return Ok(Some(strip_quotes(e).to_string()));
    }
    let head = store.head_object(&store.full_key(&entry.key), entry.version_id.as_deref())?;
    Ok(head
        .and_then(|h| h.raw_tag)
        .map(|e| strip_quotes(&e).to_string()))
}

/// The MD5 of the content of `entry` (hex), when the side can tell it: computed for a local
/// file, the ETag of a single-part S3 object, the stored MD5 of any other store.
fn content_md5(store: &Store, entry: &Entry) -> Result<Option<String>, TransferError> {
    let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match store {
        Store::Local(l) => transfer::local::cached_digests(l, &entry.key, Parts::Single, None)
            .map(|d| Some(strip_quotes(&d.etag).to_string())),
        Store::S3(s) => Ok(s3_etag(s, entry)?.filter(|e| !is_multipart_etag(e))),
        Store::Generic(b) => {
            let opts = crate::storage::backend::ReadOptions {
                version: entry.version_id.as_deref(),
                ..Default::default()
            };
            let props = b.head(&entry.key, &opts)?;
            Ok(props.and_then(|p| p.content_md5()).map(hex))
        }
    }
}

/// How the object of `entry` in `store`, with multipart value `value`, is cut.
fn parts_of(
    run: &Run<'_>,
    store: &S3Store,
    entry: &Entry,
    value: &str,
    exact: &mut bool,
) -> Result<Parts, TransferError> {
    let key = store.full_key(&entry.key);
    let version = entry.version_id.as_deref();
    let (parts, learnt) = transfer::parts_of(run.config, store, &key, version, entry.size, value)?;
    *exact &= learnt;
    Ok(parts)
}

fn etags(run: &Run<'_>, source: &Entry, target: &Entry) -> Result<Comparison, TransferError> {
    let key = source.key.as_str();
    let mut exact = true;
    let (source_etag, target_etag) = match (run.source, run.target) {
        (Store::S3(s), Store::S3(t)) => (s3_etag(s, source)?, s3_etag(t, target)?),
        (Store::Local(l), Store::S3(t)) => {
            let t_etag = s3_etag(t, target)?;
            (
                local_etag(run, l, source, t, target, t_etag.as_deref(), &mut exact)?,
                t_etag,
            )
        }
        (Store::S3(s), Store::Local(l)) => {
            let s_etag = s3_etag(s, source)?;
            let l_etag = local_etag(run, l, target, s, source, s_etag.as_deref(), &mut exact)?;
            (s_etag, l_etag)
        }
        (Store::Local(a), Store::Local(b)) => {
            let parts = |size| Parts::of(run.config.layout, size);
            let digest = |l: &LocalStore, e: &Entry| {
                transfer::local::cached_digests(l, &e.key, parts(e.size), None)
                    .map(|d| Some(d.etag))
            };
            (digest(a, source)?, digest(b, target)?)
        }
        // A store reached through the storage interface: its content MD5 (a Blob's
        // Content-MD5, an S3 single-part ETag) against the other side's.
        (s, t) => (content_md5(s, source)?, content_md5(t, target)?),
    };
    if run.config.require_source_hash
        && source_etag.is_none()
        && !matches!(run.source, Store::Local(_))
    {
        // azcopy's rule for --compare-hash: a remote source must say its hash.
        return Err(TransferError::Io(format!(
            "--compare-hash=MD5: the source object {} has no MD5 to compare (a blob without \
             Content-MD5, or a multipart S3 object compared with a store that keeps no \
             multipart ETag): compare by time without --compare-hash, or store its MD5",
            run.source.backend().name_of(key)
        )));
    }
    let equal = source_etag.is_some() && source_etag == target_etag;
    if equal {
        log::debug!(
            key = key, source_e_tag = source_etag.as_deref().unwrap_or_default(),
            target_e_tag = target_etag.as_deref().unwrap_or_default();
            "object filtered: ETags are the same."
        );
    }
    Ok(Comparison {
        same: if equal { Same::Yes } else { Same::No },
        source: source_etag,
        target: target_etag,
        exact,
    })
}

/// The ETag the local file of `local_entry` would have in the form of `s3_etag` (the S3
/// object of `s3_entry`); `None` when the sizes differ (no need to read the file).
fn local_etag(
    run: &Run<'_>,
    local: &LocalStore,
    local_entry: &Entry,
    s3: &S3Store,
    s3_entry: &Entry,
    s3_etag: Option<&str>,
    exact: &mut bool,
) -> Result<Option<String>, TransferError> {
    let Some(etag) = s3_etag else {
        return Ok(None);
    };
    if local_entry.size != s3_entry.size {
        return Ok(None);
    }
    let parts = if is_multipart_etag(etag) {
        parts_of(run, s3, s3_entry, etag, exact)?
    } else {
        Parts::Single
    };
    Ok(Some(
        transfer::local::cached_digests(local, &local_entry.key, parts, None)?.etag,
    ))
}

/// An S3 object's additional checksum of `algorithm` (HeadObject in checksum mode).
fn s3_checksum(
    store: &S3Store,
    entry: &Entry,
    algorithm: Algorithm,
) -> Result<Option<String>, TransferError> {
    let head = store.head_checksums(&store.full_key(&entry.key), entry.version_id.as_deref())?;
    Ok(head
        .as_ref()
        .and_then(|h| h.checksum())
        .and_then(|(a, v)| (a == algorithm).then(|| v.to_string())))
}

/// The checksum of a local file in the form of `value` (an S3 object's checksum), and
/// whether the S3 object's part sizes were learnt rather than assumed.
fn local_checksum(
    run: &Run<'_>,
    local: &LocalStore,
    local_entry: &Entry,
    s3: &S3Store,
    s3_entry: &Entry,
    algorithm: Algorithm,
    value: &str,
) -> Result<(String, bool), TransferError> {
    let mut exact = true;
    let (parts, spec) = if checksum::composite_parts(value).is_some() {
        let parts = parts_of(run, s3, s3_entry, value, &mut exact)?;
        (parts, ChecksumSpec::new(algorithm, false))
    } else {
        // Single-part and full-object values are both the digest of all the bytes.
        (Parts::Single, ChecksumSpec::new(algorithm, true))
    };
    let digests = transfer::local::cached_digests(local, &local_entry.key, parts, Some(spec))?;
    Ok((digests.checksum.unwrap_or_default(), exact))
}

/// Compares `source` and `target` by their `algorithm` checksums (computed for a local side
/// in the form of the S3 side's value).
pub(crate) fn checksums(
    run: &Run<'_>,
    source: &Entry,
    target: &Entry,
    algorithm: Algorithm,
) -> Result<Comparison, TransferError> {
    let key = source.key.as_str();
    let missing = |side: &str| {
        Comparison::of(Same::Unknown(format!(
            "object filtered: the {side} has no {algorithm} checksum"
        )))
    };
    // `exact`: whether a composite value was recomputed in part sizes learnt from the store.
    let (source_sum, target_sum, exact) = match (run.source, run.target) {
        (Store::S3(s), Store::S3(t)) => {
            let Some(a) = s3_checksum(s, source, algorithm)? else {
                return Ok(missing("source"));
            };
            let Some(b) = s3_checksum(t, target, algorithm)? else {
                return Ok(missing("target"));
            };
            (a, b, true)
        }
        (Store::Local(l), Store::S3(t)) => {
            let Some(b) = s3_checksum(t, target, algorithm)? else {
                return Ok(missing("target"));
            };
            let (a, exact) = local_checksum(run, l, source, t, target, algorithm, &b)?;
            (a, b, exact)
        }
        (Store::S3(s), Store::Local(l)) => {
            let Some(a) = s3_checksum(s, source, algorithm)? else {
                return Ok(missing("source"));
            };
            let (b, exact) = local_checksum(run, l, target, s, source, algorithm, &a)?;
            (a, b, exact)
        }
        (Store::Local(a), Store::Local(b)) => {
            let spec = Some(ChecksumSpec::new(algorithm, true));
            let sum = |l: &LocalStore, e: &Entry| {
                transfer::local::cached_digests(l, &e.key, Parts::Single, spec)
                    .map(|d| d.checksum.unwrap_or_default())
            };
            (sum(a, source)?, sum(b, target)?, true)
        }
        // The S3 additional checksums exist on S3 only (the CLI refuses them elsewhere).
        (Store::Generic(_), _) => return Ok(missing("source")),
        (_, Store::Generic(_)) => return Ok(missing("target")),
    };
    let compared = |same: Same| Comparison {
        same,
        source: Some(source_sum.clone()),
        target: Some(target_sum.clone()),
        exact,
    };
    if source_sum != target_sum {
        return Ok(compared(Same::No));
    }
    if source.size != target.size {
        return Ok(compared(Same::Unknown(format!(
            "object filtered: {algorithm} checksums are the same ({source_sum}) but the sizes differ \
             ({} and {} bytes)",
            source.size, target.size
        ))));
    }
    log::debug!(
        key = key, checksum_algorithm = algorithm.name(), source_checksum = source_sum.as_str(),
        target_checksum = target_sum.as_str();
        "object filtered: checksums are the same."
    );
    Ok(compared(Same::Yes))
}
