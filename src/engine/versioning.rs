//! Versioned sources: the bucket checks of `--enable-versioning` and `--point-in-time`, and
//! the replication of every version (`--enable-versioning`).
//!
//! `--point-in-time` needs nothing here beyond the check: its source store lists each key's
//! version of then (`storage::versions`), pinned by version id, and those entries go
//! through the normal pipeline.
//!
//! `--enable-versioning` has a pipeline of its own, shaped like the normal one:
//!
//! ```text
//! source versions lister ─┐                       ┌─► worker × --worker-size: one key at a time
//!                         ├─► merge-join by key ──┤
//! target versions lister ─┘                       └─ (target-only keys are left alone)
//! ```
//!
//! Both sides are listed with ListObjectVersions, key by key, so each worker gets a key with
//! all its source versions and all its target versions. The target versions are read with
//! HeadObject to learn which source version each one is a copy of (user metadata
//! `s3sync_origin_version_id`, written by earlier runs), until every source version is
//! accounted for; a key with no target versions needs no HEAD at all. Joining the two listings costs one paged listing per side instead of the
//! reference's ListObjectVersions per key, which with a key `a` also lists `ab`, `a/b`, ...
//!
//! The source versions missing from the target are copied oldest first, each write adding a
//! target version carrying its origin (version id and LastModified), by the same streamed or
//! server-side copy as any object, read with its version id. A failed copy stops the key
//! there: a newer version copied after it would be overtaken by the older one on the next
//! run. A version that vanished from the source, or is archived, is skipped with a warning.
//! Last, when the newest source entry is a delete marker, the target gets one too
//! (DeleteObject), unless its current state is already deleted and nothing was copied;
//! intermediate delete markers are not replicated.
//!
//! Counting: every copied version is a transferred object; every source version found on
//! the target, and a delete marker already matched by the target, is skipped; a replicated
//! delete marker is a deletion.

use std::collections::HashSet;

use crossbeam_channel::{Receiver, bounded};

use super::diff::{MergeJoin, Pair};
use super::filter;
use super::parts::{self, PartQueue};
use super::stats::Stats;
use super::transfer::{self, Ctx, ORIGIN_VERSION_ID, TransferError};
use super::{Run, callbacks, worker};
use crate::callback::{Event, EventKind};
use crate::storage::s3::S3Store;
use crate::storage::s3_backend::S3Backend;
use crate::storage::versions::KeyVersions;
use crate::storage::{Entry, ListError, Store};

/// Checks that the buckets the options read versions from (and, with
/// `--enable-versioning`, write versions to) have versioning enabled. On failure the run is
/// stopped with a one-line reason and `false` returned.
pub(crate) fn check_buckets(run: &Run<'_>) -> bool {
    let config = run.config;
    let option = if config.enable_versioning {
        "--enable-versioning"
    } else if config.point_in_time.is_some() {
        "--point-in-time"
    } else {
        return true;
    };
    let mut sides = vec![("source", run.source)];
    if config.enable_versioning {
        sides.push(("target", run.target));
    }
    for (side, store) in sides {
        let Store::S3(s3) = store else {
            run.fail(format!("{option} needs an s3:// {side}"));
            return false;
        };
        let bucket = s3.bucket();
        match s3.versioning_status() {
            Ok(Some(status)) if status == "Enabled" => {}
            Ok(status) => {
                let state = match status {
                    Some(s) => format!("its versioning status is {s}"),
                    None => "versioning was never enabled on it".to_string(),
                };
                run.fail(format!(
                    "{option} needs versioning enabled on the {side} bucket, but {state} (s3://{bucket}); \
                     enable versioning on it or drop {option}"
                ));
                return false;
            }
            Err(e) => {
                run.fail(format!(
                    "{option}: cannot read the versioning status of the {side} bucket s3://{bucket}: {e}"
                ));
                return false;
            }
        }
    }
    true
}

/// All versions of one key on both sides.
struct KeyJob {
    source: KeyVersions,
    target: Option<KeyVersions>,
    /// Source versions (and delete markers) the filter callback left out.
    filtered: HashSet<String>,
}

/// Lists `store`'s versions key by key into a bounded channel, on its own thread.
fn spawn_lister<'s, 'e>(
    scope: &'s std::thread::Scope<'s, 'e>,
    store: &'e S3Store,
    run: &'e Run<'e>,
) -> Receiver<Result<KeyVersions, ListError>> {
    let (tx, rx) = bounded(super::lister_queue(run.config));
    scope.spawn(move || {
        let result =
            store.list_versions(&mut |group| tx.send(Ok(group)).is_ok() && !run.cancelled());
        if let Err(e) = result {
            let _ = tx.send(Err(e));
        }
    });
    rx
}

/// A version listing as a stream of keys; a listing failure stops the run (and the stream).
struct Listed<'r, 'a> {
    rx: Receiver<Result<KeyVersions, ListError>>,
    run: &'r Run<'a>,
    /// The source's name for the object whose key equals its prefix, whose versions are
    /// counted as skipped; `None` for the target, which only drops it.
    prefix_object: Option<String>,
}

impl Iterator for Listed<'_, '_> {
    type Item = KeyVersions;

    fn next(&mut self) -> Option<KeyVersions> {
        loop {
            match self.rx.recv() {
                // The key that equals the prefix has no relative key to sync under.
                Ok(Ok(group)) if group.key.is_empty() => {
                    if let Some(name) = &self.prefix_object {
                        for _ in &group.versions {
                            self.run.filtered(name, crate::storage::KEY_IS_PREFIX);
                        }
                    }
                }
                Ok(Ok(group)) => return Some(group),
                Ok(Err(e)) => {
                    self.run.fail(e.to_string());
                    return None;
                }
                Err(_) => return None,
            }
        }
    }
}

/// The `--enable-versioning` pipeline (see the module docs).
pub(crate) fn replicate<'a>(run: &'a Run<'a>) {
    let (Store::S3(source), Store::S3(target)) = (run.source, run.target) else {
        run.fail("--enable-versioning needs s3:// for both SOURCE and TARGET".into());
        return;
    };
    let config = run.config;
    let (parts, part_rx) = PartQueue::new();
    std::thread::scope(|part_scope| {
        for _ in 0..config.max_parallel_uploads {
            let rx = part_rx.clone();
            part_scope.spawn(move || parts::part_thread(rx));
        }
        drop(part_rx);
        let ctx = Ctx {
            config,
            parts: &parts,
            cancel: &run.cancel,
            conditions: crate::engine::transfer::Conditions::default(),
            known: std::sync::Mutex::new(None),
            journal: run.journal.as_ref(),
        };
        std::thread::scope(|inner| {
            let (job_tx, job_rx) = bounded::<KeyJob>(config.worker_size * 2);
            for _ in 0..config.worker_size {
                let (rx, ctx) = (job_rx.clone(), &ctx);
                inner.spawn(move || {
                    for job in rx {
                        // After a fatal error the queue is drained without work.
                        if !run.cancelled() {
                            replicate_key(run, ctx, source, target, job);
                        }
                    }
                });
            }
            drop(job_rx);
            let sources = Listed {
                rx: spawn_lister(inner, source, run),
                run,
                prefix_object: Some(format!("s3://{}/{}", source.bucket(), source.prefix())),
            };
            let targets = Listed {
                rx: spawn_lister(inner, target, run),
                run,
                prefix_object: None,
            };
            for pair in MergeJoin::new(sources, targets) {
                // A listing that failed ends its stream early: nothing after that may be
                // taken for missing on the other side.
                if run.cancelled() {
                    break;
                }
                let (source, target) = match pair {
                    Pair::SourceOnly(source) => (source, None),
                    Pair::Both(source, target) => (source, Some(target)),
                    Pair::TargetOnly(_) => continue,
                };
                let key = source.key.as_str();
                if !run.passes(key, filter::by_key(&config.filters, key)) {
                    continue;
                }
                let filtered = filter_versions(run, &source);
                if run.cancelled() {
                    break;
                }
                let job = KeyJob {
                    source,
                    target,
                    filtered,
                };
                if job_tx.send(job).is_err() {
                    break;
                }
            }
        });
        drop(parts);
    });
}

/// The versions of `source` (delete markers included) the filter callback leaves out, each
/// counted as skipped. A failing callback stops the run.
fn filter_versions(run: &Run<'_>, source: &KeyVersions) -> HashSet<String> {
    if run.config.callbacks.filter.is_none() {
        return HashSet::new();
    }
    source
        .versions
        .iter()
        .filter(|v| !run.cancelled() && !run.keeps(|| callbacks::version_info(&source.key, v)))
        .map(|v| v.version_id.clone())
        .collect()
}

/// The source version ids the target versions of `job` are copies of. Stops asking once
/// every source version is accounted for.
fn origins(target: &S3Store, job: &KeyJob) -> Result<HashSet<String>, TransferError> {
    let mut found = HashSet::new();
    let Some(versions) = &job.target else {
        return Ok(found);
    };
    let wanted: HashSet<&str> = job
        .source
        .versions
        .iter()
        .filter(|v| !v.delete_marker)
        .map(|v| v.version_id.as_str())
        .collect();
    let full_key = target.full_key(&job.source.key);
    for version in versions.versions.iter().filter(|v| !v.delete_marker) {
        if wanted.iter().all(|w| found.contains(*w)) {
            break;
        }
        let head = target.head_object(&full_key, Some(&version.version_id));
        // A version removed since the listing is simply not there.
        if let Some(head) = head?
            && let Some((_, origin)) = head
                .content
                .user
                .iter()
                .find(|(k, _)| k == ORIGIN_VERSION_ID)
        {
            found.insert(origin.clone());
        }
    }
    Ok(found)
}

/// How the copy of one version went, and so what to do with the rest of its key.
enum Next {
    Copied,
    /// Not copied, but later versions may go on (the version vanished or is archived).
    Skipped,
    /// Failed: later versions must wait, or they would be overtaken by this one.
    Stop,
}

/// Brings the target's versions of one key in line with the source's.
fn replicate_key<'a>(
    run: &'a Run<'a>,
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    target: &'a S3Backend,
    job: KeyJob,
) {
    let key = job.source.key.as_str();
    let synced = match origins(target, &job) {
        Ok(s) => s,
        Err(e) => return worker::handle_error(run, key, e),
    };
    let mut copied = 0u64;
    for version in job.source.versions.iter().filter(|v| !v.delete_marker) {
        if run.cancelled() {
            return;
        }
        if job.filtered.contains(&version.version_id) {
            // Counted when the filter callback left it out.
            continue;
        }
        if synced.contains(&version.version_id) {
            log::debug!(key = key, source_version_id = version.version_id.as_str(); "this version is already on the target");
            run.filtered(key, "this version is already on the target");
            continue;
        }
        let entry = job.source.entry(version);
        match copy_version(run, ctx, source, target, &entry) {
            Next::Copied => copied += 1,
            Next::Skipped => {}
            Next::Stop => return,
        }
    }
    // Only the newest entry's delete marker means anything for the target; older ones are
    // looked at, and counted, once each.
    let newest = job.source.latest().map(|v| v.version_id.as_str());
    for marker in job.source.versions.iter().filter(|v| {
        v.delete_marker
            && Some(v.version_id.as_str()) != newest
            && !job.filtered.contains(&v.version_id)
    }) {
        log::debug!(key = key, source_version_id = marker.version_id.as_str(); "an older delete marker is not replicated");
        run.filtered(key, "an older delete marker is not replicated");
    }
    let Some(latest) = job
        .source
        .latest()
        .filter(|v| v.delete_marker && !job.filtered.contains(&v.version_id))
    else {
        return;
    };
    let target_live = job
        .target
        .as_ref()
        .and_then(KeyVersions::latest)
        .is_some_and(|v| !v.delete_marker);
    if copied == 0 && !target_live {
        run.filtered(key, "the target is already deleted");
        return;
    }
    replicate_delete_marker(run, target, key, &latest.version_id);
}

/// Copies one source version (as `entry`) to the target.
fn copy_version<'a>(
    run: &'a Run<'a>,
    ctx: &Ctx<'_, 'a>,
    source: &'a S3Store,
    target: &'a S3Backend,
    entry: &Entry,
) -> Next {
    let key = entry.key.as_str();
    if run.config.dry_run {
        log::info!(
            key = key, source_version_id = entry.version_id.as_deref().unwrap_or_default(), size = entry.size;
            "[dry-run] sync completed."
        );
        Stats::add(&run.stats.transferred_objects, 1);
        Stats::add(&run.stats.transferred_bytes, entry.size);
        run.emit(|| callbacks::about(EventKind::SyncComplete, entry));
        return Next::Copied;
    }
    let result = worker::retry_corrupt(
        run,
        key,
        || transfer::copy::copy_object(ctx, source, target, entry, run.config.server_side_copy),
        |m| remove_corrupt_version(target, entry, m),
    );
    match result {
        Ok(outcome) => {
            worker::record_transfer(run, entry, &outcome);
            Next::Copied
        }
        Err(e) => {
            let skippable = matches!(e, TransferError::SourceGone(_) | TransferError::Refused(_))
                || (e.skip_reason().is_some() && !e.is_fatal());
            worker::handle_error(run, key, e);
            if skippable { Next::Skipped } else { Next::Stop }
        }
    }
}

/// The event of a replicated delete marker.
fn marker_event(key: &str, marker: &str) -> Event {
    Event {
        source_version_id: Some(marker.to_string()),
        ..Event::about(EventKind::SyncDelete, key)
    }
}

/// Gives the target a delete marker, as the source's newest entry is one.
fn replicate_delete_marker(run: &Run<'_>, target: &S3Store, key: &str, marker: &str) {
    if run.config.dry_run {
        log::info!(key = key, source_version_id = marker; "[dry-run] delete completed.");
        Stats::add(&run.stats.deleted, 1);
        run.emit(|| marker_event(key, marker));
        return;
    }
    let full_key = target.full_key(key);
    match target.delete_object(&full_key, None) {
        Ok(()) => {
            log::info!(key = key, source_version_id = marker, target_key = full_key.as_str(); "delete completed.");
            Stats::add(&run.stats.deleted, 1);
            run.emit(|| marker_event(key, marker));
        }
        Err(e) => worker::handle_error(run, key, TransferError::from(e)),
    }
}

/// A copied version never verified: it must not stay, or the next run would take it for a
/// good copy (it carries the origin version id). The version just written is the key's
/// newest on the target; it is removed by its version id when its origin says it is ours.
fn remove_corrupt_version(target: &S3Store, entry: &Entry, message: String) -> String {
    let full_key = target.full_key(&entry.key);
    let newest = target.newest_version(&full_key);
    let ours = |id: &str| {
        target
            .head_object(&full_key, Some(id))
            .ok()
            .flatten()
            .is_some_and(|h| {
                h.content.user.iter().any(|(k, v)| {
                    k == ORIGIN_VERSION_ID && Some(v.as_str()) == entry.version_id.as_deref()
                })
            })
    };
    let removed = match newest {
        Ok(Some(v)) if ours(&v.version_id) => target
            .delete_object(&full_key, Some(&v.version_id))
            .map_err(|e| e.to_string()),
        Ok(_) => Err("it is no longer the newest version".to_string()),
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => format!(
            "{message}; gave up after {} attempts and removed the corrupt version (run again to retry)",
            transfer::VERIFY_ATTEMPTS
        ),
        Err(e) => format!(
            "{message}; the corrupt version could NOT be removed ({e}): delete it by hand, or the next run \
             takes it for a good copy"
        ),
    }
}
