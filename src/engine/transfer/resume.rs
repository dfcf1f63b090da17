//! Where a multipart upload starts: afresh, or from the upload a killed run left open.
//!
//! Before an upload of a key is created, the journal (`engine::journal`) is asked whether
//! an earlier run recorded one for the same target and key. That upload is **resumed** when
//! the source is a local file that is still the same (size and modification time), cut in
//! parts of the same size, with the same additional checksum: ListParts tells which parts
//! it holds, and each of them is kept only if its ETag equals the MD5 of the local bytes of
//! that part, read again and hashed on the part threads (reading and hashing costs far less
//! than sending); every other part is sent as usual, and the final ETag is verified as for
//! any upload. A store that lists parts without ETags (s3s-fs) leaves only their sizes to
//! go by: such a part is kept when its size is right and the object's ETag will be verified
//! (not with `--disable-etag-verify`, `--disable-multipart-verify` or SSE-KMS/SSE-C), since
//! that ETag is the MD5 of every part's MD5 and so proves the kept parts too; a mismatch
//! then fails verification and the object is uploaded afresh. An upload that cannot be resumed (the source changed, another part size or
//! checksum, a source that is another object) is aborted and a new one started.
//!
//! S3 → S3 uploads are journaled too but never resumed: their parts' MD5s are known only by
//! reading the source object's bytes again, which costs as much as copying them. Their
//! record lets the next run abort what a killed run left, on stores that cannot list
//! uploads in progress.
//!
//! Ctrl-C, SIGTERM and failures still abort their uploads at once (nothing is left to
//! resume); only a run that dies without cleaning up leaves an upload to be resumed.
//!
//! At the end of a run that was not stopped, [`sweep`] aborts the uploads recorded for the
//! run's target bucket and prefix that no process still running owns: those of keys this
//! run did not upload again (deleted or filtered sources, objects already up to date
//! because the killed run completed them just before dying).

use std::collections::HashMap;
use std::time::SystemTime;

use super::part_source::PartSource;
use super::{Ctx, TransferError};
use crate::engine::journal::{Entry, Journal, SourceId, SourceKind};
use crate::integrity::checksum::ChecksumSpec;
use crate::integrity::digest::Parts;
use crate::storage::backend::PartReceipt;
use crate::storage::s3::S3Store;

/// The upload the parts go to.
pub struct Start {
    pub upload_id: String,
    /// The parts a resumed upload already holds, by part number (empty for a new one).
    pub uploaded: HashMap<u32, PartReceipt>,
}

/// Resumes the upload an interrupted run recorded for `full_key`, or creates one (and
/// records it). The uploads left open under the key that are not resumed are aborted.
#[allow(clippy::too_many_arguments)]
pub fn begin(
    ctx: &Ctx<'_, '_>,
    target: &S3Store,
    full_key: &str,
    size: u64,
    plan: &Parts,
    spec: Option<ChecksumSpec>,
    create_headers: &[(String, String)],
    source: &PartSource<'_>,
) -> Result<Start, TransferError> {
    let identity = target.identity();
    let source_id = source_id(source, size);
    let part_size = match plan {
        Parts::Uniform(n) => *n,
        _ => 0,
    };
    let checksum = spec
        .map(|s| format!("{}/{}", s.algorithm.name(), s.type_name()))
        .unwrap_or_default();
    let resumed = ctx.journal.and_then(|journal| {
        let entry = journal.find(&identity, full_key)?;
        take_over(journal, target, entry, &source_id, part_size, &checksum)
    });
    target.abort_orphaned_uploads(full_key, resumed.as_ref().map(|r| r.upload_id.as_str()));
    if let Some(start) = resumed {
        return Ok(start);
    }
    let upload_id = target.create_upload(full_key, create_headers)?;
    if let Some(journal) = ctx.journal {
        journal.record(&journal.entry(
            &identity, full_key, &upload_id, source_id, part_size, checksum,
        ));
    }
    Ok(Start {
        upload_id,
        uploaded: HashMap::new(),
    })
}

/// The upload is finished (completed or aborted): nothing is left to resume.
pub fn finished(ctx: &Ctx<'_, '_>, target: &S3Store, full_key: &str, upload_id: &str) {
    if let Some(journal) = ctx.journal {
        journal.forget(&target.identity(), full_key, upload_id);
    }
}

/// Aborts the recorded uploads under the target's prefix that nothing resumed (see the
/// module docs).
pub fn sweep(journal: &Journal, target: &S3Store) {
    for entry in journal.left_open(&target.identity(), target.prefix()) {
        if abort_recorded(journal, target, &entry) {
            log::info!(
                key = entry.key.as_str(), upload_id = entry.upload_id.as_str();
                "aborted the multipart upload an interrupted run left open (this run did not upload the key again)"
            );
        }
    }
}

/// What `entry` allows: its upload resumed, or (returning `None`) aborted and forgotten, or
/// left to the live process that owns it.
fn take_over(
    journal: &Journal,
    target: &S3Store,
    entry: Entry,
    source: &SourceId,
    part_size: u64,
    checksum: &str,
) -> Option<Start> {
    let key = entry.key.as_str();
    if journal.may_be_running(&entry) {
        log::info!(
            key = key, upload_id = entry.upload_id.as_str();
            "another s3sync (process {} on {}) may still be uploading this key; starting a separate upload",
            entry.pid, entry.host
        );
        return None;
    }
    let same = entry.source.kind == SourceKind::File
        && entry.source == *source
        && part_size > 0
        && entry.part_size == part_size
        && entry.checksum == checksum;
    if !same {
        if abort_recorded(journal, target, &entry) {
            log::info!(
                key = key, upload_id = entry.upload_id.as_str();
                "aborted the multipart upload an interrupted run left open: the source or the part size \
                 changed since (or it cannot be resumed); starting afresh"
            );
        }
        return None;
    }
    match target.list_upload_parts(key, &entry.upload_id) {
        Ok(parts) if parts.is_empty() => {
            // Nothing to keep, and s3s-fs lists an upload it no longer has as empty.
            abort_recorded(journal, target, &entry);
            None
        }
        Ok(parts) => {
            log::info!(
                key = key, upload_id = entry.upload_id.as_str();
                "resuming the multipart upload an interrupted run left open ({} parts already uploaded, \
                 each checked against the local bytes)",
                parts.len()
            );
            Some(Start {
                upload_id: entry.upload_id,
                uploaded: parts.into_iter().map(|p| (p.number, p)).collect(),
            })
        }
        Err(e) if e.is_not_found() => {
            log::info!(
                key = key, upload_id = entry.upload_id.as_str();
                "the multipart upload an interrupted run left is gone; starting afresh"
            );
            journal.forget(&entry.target, key, &entry.upload_id);
            None
        }
        Err(e) => {
            log::warn!(
                key = key, upload_id = entry.upload_id.as_str();
                "cannot list the parts of the multipart upload an interrupted run left ({e}); starting afresh"
            );
            abort_recorded(journal, target, &entry);
            None
        }
    }
}

/// Aborts the upload of `entry` and forgets it; whether it was still open. One that is
/// already gone is just forgotten; one that cannot be aborted stays recorded, for a later
/// run to try again.
fn abort_recorded(journal: &Journal, target: &S3Store, entry: &Entry) -> bool {
    let result = target.abort_upload(&entry.key, &entry.upload_id);
    let open = match result {
        Ok(()) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => {
            log::warn!(
                key = entry.key.as_str(), upload_id = entry.upload_id.as_str();
                "could not abort the multipart upload an interrupted run left open: {e}"
            );
            return false;
        }
    };
    journal.forget(&entry.target, &entry.key, &entry.upload_id);
    open
}

/// What the source is now, to compare with what it was when a recorded upload started.
fn source_id(source: &PartSource<'_>, size: u64) -> SourceId {
    match source {
        PartSource::File { file, .. } => {
            let modified = file.metadata().and_then(|m| m.modified()).ok();
            SourceId {
                kind: SourceKind::File,
                size,
                version: modified.map(nanos_since_epoch).unwrap_or_default(),
            }
        }
        PartSource::Object {
            etag, version_id, ..
        } => SourceId {
            kind: SourceKind::Object,
            size,
            version: format!("{etag} {}", version_id.as_deref().unwrap_or_default()),
        },
        PartSource::ServerCopy {
            version_id,
            if_match,
            ..
        } => SourceId {
            kind: SourceKind::ServerCopy,
            size,
            version: format!(
                "{} {}",
                if_match.as_deref().unwrap_or_default(),
                version_id.as_deref().unwrap_or_default()
            ),
        },
    }
}

/// A time as signed nanoseconds since 1970, in decimal.
fn nanos_since_epoch(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos().to_string(),
        Err(e) => format!("-{}", e.duration().as_nanos()),
    }
}
