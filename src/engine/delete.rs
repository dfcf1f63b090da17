//! The last stage: removing target objects that have no source counterpart.

use super::Run;
use super::stats::Stats;
use crate::callback::{Event, EventKind};
use crate::storage::backend::Backend;
use crate::storage::error::ErrorKind;
use crate::storage::{Entry, Store};

/// Counts and announces the deletion of the target object `entry`.
fn deleted(run: &Run<'_>, entry: &Entry) {
    Stats::add(&run.stats.deleted, 1);
    run.emit(|| Event {
        target_version_id: entry.version_id.clone(),
        target_last_modified: Some(entry.last_modified),
        target_size: Some(entry.size),
        target_etag: entry.etag.clone(),
        ..Event::about(EventKind::SyncDelete, &entry.key)
    });
}

/// Deletes `entries` (as the target listing showed them) from the run's target, counting
/// successes and failures.
pub(crate) fn delete_entries(run: &Run<'_>, entries: &[Entry]) {
    let stats = &run.stats;
    if run.config.dry_run {
        for entry in entries {
            log::info!(key = entry.key.as_str(); "[dry-run] delete completed.");
            deleted(run, entry);
        }
        return;
    }
    match run.target {
        Store::S3(_) | Store::Generic(_) if run.config.conditions.if_match => {
            delete_if_unchanged(run, run.target.backend(), entries)
        }
        Store::Local(local) => {
            for entry in entries {
                let path = local.path_of(&entry.key);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        log::info!(key = entry.key.as_str(); "delete completed.");
                        deleted(run, entry);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        log::debug!("{} was already gone", path.display());
                    }
                    Err(e) => {
                        log::error!(key = entry.key.as_str(); "cannot delete {}: {e}", path.display());
                        Stats::add(&stats.errors, 1);
                    }
                }
            }
        }
        Store::S3(_) | Store::Generic(_) => {
            let b = run.target.backend();
            let batch = b.capabilities().delete_batch.max(1);
            for chunk in entries.chunks(batch) {
                let keys: Vec<String> = chunk.iter().map(|e| e.key.clone()).collect();
                match b.delete_batch(&keys) {
                    Ok(failed) => {
                        for entry in chunk {
                            match failed.iter().find(|(k, _)| *k == entry.key) {
                                Some((_, e)) => {
                                    let key = logged_key(run.target, entry);
                                    log::error!(key = key.as_str(); "delete failed: {e}");
                                    Stats::add(&stats.errors, 1);
                                }
                                None => {
                                    let key = logged_key(run.target, entry);
                                    log::info!(key = key.as_str(); "delete completed.");
                                    deleted(run, entry);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        log::error!("deleting {} objects failed: {e}", keys.len());
                        Stats::add(&stats.errors, keys.len() as u64);
                    }
                }
            }
        }
    }
}

/// `--if-match`: one delete per key, each only if the object still has the content tag the
/// listing showed; one that changed meanwhile is kept, with a warning.
fn delete_if_unchanged(run: &Run<'_>, target: &dyn Backend, entries: &[Entry]) {
    for entry in entries {
        let name = logged_key(run.target, entry);
        match target.delete(&entry.key, None, entry.etag.as_deref()) {
            Ok(()) => {
                log::info!(key = name.as_str(); "delete completed.");
                deleted(run, entry);
            }
            Err(e) if e.kind == ErrorKind::PreconditionFailed => run.object_problem(
                &name,
                "delete precondition (--if-match) failed: the object changed since it was listed; kept",
            ),
            Err(e) => {
                log::error!(key = name.as_str(); "delete failed: {e}");
                Stats::add(&run.stats.errors, 1);
            }
        }
    }
}

/// The key a delete's log line names: the object's full key on S3 (the prefix included, as
/// S3 names it), the listing's key elsewhere.
fn logged_key(store: &Store, entry: &Entry) -> String {
    match store {
        Store::S3(s3) => s3.full_key(&entry.key),
        Store::Local(_) | Store::Generic(_) => entry.key.clone(),
    }
}
