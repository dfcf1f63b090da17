//! `--report-sync-status`: instead of syncing, say for every source object whether the target
//! holds the same thing. Nothing is written.
//!
//! One `SYNC_STATUS` record per object (`type` ETAG, CHECKSUM or EXISTENCE; `status`
//! MATCHES, MISMATCH, NOT_FOUND or UNKNOWN), optionally `METADATA_SYNC_STATUS` records per
//! metadata field and a `TAGGING_SYNC_STATUS` record, then one `REPORT_SUMMARY`. Anything
//! but MATCHES counts as a warning, so the exit code is 0 only when everything matches.
//! The comparison is the same one the update checks use ([`compare`]): a local file is
//! digested in the form of the S3 object's ETag or checksum.

use std::sync::atomic::AtomicU64;

use super::compare::{self, Same};
use super::filter;
use super::stats::Stats;
use super::transfer::TransferError;
use super::{Job, Run};
use crate::config::{ReportOptions, UpdateCheck};
use crate::integrity::checksum::Algorithm;
use crate::storage::backend::{Backend, ReadOptions};
use crate::storage::error::StorageError;
use crate::storage::props::{ContentTag, ObjectMeta, Properties, StoredAlgorithm};
use crate::storage::{Entry, Store};

/// The report's counters.
#[derive(Debug, Default)]
pub struct Tally {
    pub objects: AtomicU64,
    pub etag_matches: AtomicU64,
    pub checksum_matches: AtomicU64,
    pub metadata_matches: AtomicU64,
    pub tagging_matches: AtomicU64,
    pub not_found: AtomicU64,
    pub etag_mismatch: AtomicU64,
    pub checksum_mismatch: AtomicU64,
    pub metadata_mismatch: AtomicU64,
    pub tagging_mismatch: AtomicU64,
    pub etag_unknown: AtomicU64,
    pub checksum_unknown: AtomicU64,
}

const MATCHES: &str = "MATCHES";
const MISMATCH: &str = "MISMATCH";
const NOT_FOUND: &str = "NOT_FOUND";
const UNKNOWN: &str = "UNKNOWN";

/// Anything but a match is worth a warning (exit 3).
fn count(run: &Run<'_>, status: &str, matched: &AtomicU64, mismatched: &AtomicU64) {
    if status == MATCHES {
        Stats::add(matched, 1);
    } else {
        Stats::add(mismatched, 1);
        Stats::add(&run.stats.warnings, 1);
    }
}

/// Reports one source object (and its target counterpart, if any).
pub(crate) fn object(run: &Run<'_>, job: &Job, options: ReportOptions) {
    let tally = &run.report;
    let source = &job.source;
    let key = source.key.as_str();
    Stats::add(&tally.objects, 1);
    let source_last_modified = source.last_modified.rfc3339_millis();
    let source_etag = source.etag.as_deref().unwrap_or_default().trim_matches('"');
    let Some(target) = &job.target else {
        log::info!(
            "name" = "SYNC_STATUS", "type" = "EXISTENCE", "status" = NOT_FOUND, key = key,
            source_version_id = "", source_e_tag = source_etag,
            source_last_modified = source_last_modified.as_str(), source_size = source.size;
            ""
        );
        Stats::add(&tally.not_found, 1);
        Stats::add(&run.stats.warnings, 1);
        return;
    };
    let target_last_modified = target.last_modified.rfc3339_millis();
    let comparison = match compare::compare(run, source, target) {
        Ok(c) => c,
        Err(e) => {
            log::error!(key = key; "cannot compare: {e}");
            Stats::add(&run.stats.errors, 1);
            return;
        }
    };
    let status = match &comparison.same {
        Same::Yes => MATCHES,
        Same::Unknown(_) => UNKNOWN,
        // Without a value on both sides (an encrypted or missing ETag) nothing was compared,
        // unless the sizes alone tell the objects apart.
        Same::No
            if source.size == target.size
                && (!comparison.exact
                    || comparison.source.is_none()
                    || comparison.target.is_none()) =>
        {
            UNKNOWN
        }
        Same::No => MISMATCH,
    };
    let etag_check = !matches!(run.config.update_check, UpdateCheck::Checksum(_));
    let status = if status == MISMATCH && etag_check {
        match encrypted_verdict(run, source, target) {
            Ok(Some(verdict)) => verdict,
            Ok(None) => status,
            Err(e) => {
                log::error!(key = key; "cannot compare: {e}");
                Stats::add(&run.stats.errors, 1);
                return;
            }
        }
    } else {
        status
    };
    let source_value = comparison.source.as_deref().unwrap_or_default();
    let target_value = comparison.target.as_deref().unwrap_or_default();
    if let UpdateCheck::Checksum(algorithm) = run.config.update_check {
        log::info!(
            "name" = "SYNC_STATUS", "type" = "CHECKSUM", "status" = status, key = key,
            source_version_id = "", target_version_id = "",
            checksum_algorithm = algorithm.name(), source_checksum = source_value,
            target_checksum = target_value, source_last_modified = source_last_modified.as_str(),
            target_last_modified = target_last_modified.as_str(), source_size = source.size,
            target_size = target.size;
            ""
        );
        let unmatched = if status == UNKNOWN {
            &tally.checksum_unknown
        } else {
            &tally.checksum_mismatch
        };
        count(run, status, &tally.checksum_matches, unmatched);
    } else {
        log::info!(
            "name" = "SYNC_STATUS", "type" = "ETAG", "status" = status, key = key,
            source_version_id = "", target_version_id = "", source_e_tag = source_value,
            target_e_tag = target_value, source_last_modified = source_last_modified.as_str(),
            target_last_modified = target_last_modified.as_str(), source_size = source.size,
            target_size = target.size;
            ""
        );
        let unmatched = if status == UNKNOWN {
            &tally.etag_unknown
        } else {
            &tally.etag_mismatch
        };
        count(run, status, &tally.etag_matches, unmatched);
    }
    if options.metadata {
        metadata(run, key);
    }
    if options.tagging {
        tagging(run, key);
    }
}

/// Whether content tags say anything about the contents of the objects `heads` describes
/// (the S3 sides'): not when one is opaque (an S3 object encrypted with SSE-KMS, DSSE or
/// SSE-C: its ETag is then no digest of the bytes).
pub(crate) fn etags_comparable(heads: &[Option<&Properties>]) -> bool {
    !heads.iter().flatten().any(|h| h.tag == ContentTag::Opaque)
}

/// The algorithm both sides' checksums (`None` for a local side, which can compute any)
/// share, so they can stand in for an ETag that cannot tell; `None` when they share none.
pub(crate) fn shared_algorithm(sides: &[Option<&Properties>]) -> Option<Algorithm> {
    let mut algorithms = sides.iter().flatten().map(|h| {
        h.stored.iter().find_map(|c| match c.algorithm {
            StoredAlgorithm::Additional(a) => Some(a),
            StoredAlgorithm::Md5 => None,
        })
    });
    let first = algorithms.next()??;
    algorithms.all(|a| a == Some(first)).then_some(first)
}

/// Where the ETags of `source` and `target` differ: the status their encryption leaves, when
/// one is encrypted (as the sync does, by checksum when both sides have one of one
/// algorithm, else UNKNOWN: never a MISMATCH from an ETag that is no digest). `None` when
/// the ETags are digests and their difference stands.
fn encrypted_verdict(
    run: &Run<'_>,
    source: &Entry,
    target: &Entry,
) -> Result<Option<&'static str>, TransferError> {
    let head = |store: &Store, entry: &Entry| match store {
        Store::S3(s) => s
            .head_checksums(&s.full_key(&entry.key), entry.version_id.as_deref())
            .map(|h| Some(h.unwrap_or_default())),
        Store::Local(_) | Store::Generic(_) => Ok(None),
    };
    let (a, b) = (head(run.source, source)?, head(run.target, target)?);
    let sides = [a.as_ref(), b.as_ref()];
    if etags_comparable(&sides) {
        return Ok(None);
    }
    let Some(algorithm) = shared_algorithm(&sides) else {
        log::debug!(key = source.key.as_str(); "an encrypted object's ETag is no digest and no checksum can stand in");
        return Ok(Some(UNKNOWN));
    };
    Ok(Some(
        match compare::checksums(run, source, target, algorithm)?.same {
            Same::Yes => MATCHES,
            Same::No => MISMATCH,
            Same::Unknown(_) => UNKNOWN,
        },
    ))
}

/// The fields `--report-metadata-sync-status` compares, by name.
fn fields(meta: &ObjectMeta) -> [(&'static str, Option<String>); 8] {
    // s3sync's own origin metadata differs by design between the two sides.
    let user: Vec<(String, String)> = meta
        .user
        .iter()
        .filter(|(k, _)| !k.starts_with("s3sync_origin_"))
        .cloned()
        .collect();
    [
        ("Content-Disposition", meta.content_disposition.clone()),
        ("Content-Encoding", meta.content_encoding.clone()),
        ("Content-Language", meta.content_language.clone()),
        ("Content-Type", meta.content_type.clone()),
        ("Cache-Control", meta.cache_control.clone()),
        ("Expires", meta.expires.clone()),
        (
            "x-amz-website-redirect-location",
            meta.website_redirect.clone(),
        ),
        ("x-amz-meta-", filter::metadata_text(&user)),
    ]
}

fn metadata(run: &Run<'_>, key: &str) {
    let (Store::S3(src), Store::S3(dst)) = (run.source, run.target) else {
        return;
    };
    let current = ReadOptions::default();
    let heads = src
        .head(key, &current)
        .and_then(|s| Ok((s, dst.head(key, &current)?)));
    let (source, target) = match heads {
        // Either side gone since the listing: nothing to compare.
        Ok((Some(s), Some(t))) => (s, t),
        Ok(_) => return,
        Err(e) => {
            log::error!(key = key; "cannot compare metadata: {e}");
            Stats::add(&run.stats.errors, 1);
            return;
        }
    };
    let mut all_match = true;
    for ((name, source_value), (_, target_value)) in fields(&source.content)
        .into_iter()
        .zip(fields(&target.content))
    {
        let status = if source_value == target_value {
            MATCHES
        } else {
            all_match = false;
            MISMATCH
        };
        log::info!(
            "name" = "METADATA_SYNC_STATUS", "type" = "METADATA", "status" = status, key = key,
            metadata_name = name, source_value = source_value.as_deref().unwrap_or_default(),
            target_value = target_value.as_deref().unwrap_or_default();
            ""
        );
    }
    let status = if all_match { MATCHES } else { MISMATCH };
    count(
        run,
        status,
        &run.report.metadata_matches,
        &run.report.metadata_mismatch,
    );
}

fn tagging(run: &Run<'_>, key: &str) {
    let (Store::S3(src), Store::S3(dst)) = (run.source, run.target) else {
        return;
    };
    let tags = |store: &dyn Backend| match store.tags(key, None) {
        Ok(t) => Ok(Some(filter::tags_text(&t).unwrap_or_default())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err::<_, StorageError>(e),
    };
    let (source, target) = match tags(src).and_then(|s| Ok((s, tags(dst)?))) {
        Ok((Some(s), Some(t))) => (s, t),
        Ok(_) => return,
        Err(e) => {
            log::error!(key = key; "cannot compare tags: {e}");
            Stats::add(&run.stats.errors, 1);
            return;
        }
    };
    let status = if source == target { MATCHES } else { MISMATCH };
    log::info!(
        "name" = "TAGGING_SYNC_STATUS", "type" = "TAGGING", "status" = status, key = key,
        source_tagging = source.as_str(), target_tagging = target.as_str();
        ""
    );
    count(
        run,
        status,
        &run.report.tagging_matches,
        &run.report.tagging_mismatch,
    );
}

/// The closing `REPORT_SUMMARY` record.
pub(crate) fn summary(tally: &Tally) {
    let get = |c: &AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    log::info!(
        "name" = "REPORT_SUMMARY", number_of_objects = get(&tally.objects),
        etag_matches = get(&tally.etag_matches), checksum_matches = get(&tally.checksum_matches),
        metadata_matches = get(&tally.metadata_matches),
        tagging_matches = get(&tally.tagging_matches), not_found = get(&tally.not_found),
        etag_mismatch = get(&tally.etag_mismatch),
        checksum_mismatch = get(&tally.checksum_mismatch),
        metadata_mismatch = get(&tally.metadata_mismatch),
        tagging_mismatch = get(&tally.tagging_mismatch),
        etag_unknown = get(&tally.etag_unknown), checksum_unknown = get(&tally.checksum_unknown);
        ""
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An S3 object's properties: `sse` as S3 reports it (SSE-KMS, DSSE and SSE-C make the
    /// ETag opaque: `ContentTag::from_s3_etag` is tested with the S3 classification).
    fn head(sse: Option<&str>, checksum: Option<(Algorithm, &str)>) -> Properties {
        let encrypted = sse.is_some_and(|s| s.starts_with("aws:kms") || s == "SSE-C");
        Properties {
            tag: ContentTag::from_s3_etag(Some("\"9e107d9d372bb6826bd81d3542a419d6\""), encrypted),
            stored: checksum
                .map(|(a, v)| crate::storage::props::StoredChecksum {
                    algorithm: StoredAlgorithm::Additional(a),
                    scope: crate::storage::props::ChecksumScope::FullObject,
                    value: v.to_string(),
                })
                .into_iter()
                .collect(),
            ..Properties::default()
        }
    }

    #[test]
    fn kms_etags_are_not_compared() {
        let plain = head(Some("AES256"), None);
        let kms = head(Some("aws:kms"), None);
        let dsse = head(Some("aws:kms:dsse"), None);
        let customer = head(Some("SSE-C"), None);
        assert!(etags_comparable(&[Some(&plain), Some(&plain)]));
        assert!(etags_comparable(&[None, Some(&plain)]));
        assert!(!etags_comparable(&[Some(&plain), Some(&kms)]));
        assert!(!etags_comparable(&[None, Some(&dsse)]));
        assert!(!etags_comparable(&[Some(&customer), None]));
    }

    #[test]
    fn a_shared_checksum_stands_in() {
        let crc = head(Some("aws:kms"), Some((Algorithm::Crc32, "AAAAAA==")));
        let sha = head(None, Some((Algorithm::Sha256, "x")));
        let none = head(None, None);
        assert_eq!(
            shared_algorithm(&[Some(&crc), Some(&crc)]),
            Some(Algorithm::Crc32)
        );
        assert_eq!(
            shared_algorithm(&[None, Some(&crc)]),
            Some(Algorithm::Crc32)
        );
        assert_eq!(shared_algorithm(&[Some(&crc), Some(&sha)]), None);
        assert_eq!(shared_algorithm(&[Some(&none), Some(&crc)]), None);
        assert_eq!(shared_algorithm(&[None, None]), None);
    }
}
