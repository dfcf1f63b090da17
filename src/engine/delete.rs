//! The last stage: removing target objects that have no source counterpart.

use super::stats::Stats;
use crate::s3::ops::DELETE_BATCH;
use crate::storage::Store;

/// Deletes `keys` (relative keys) from `target`, counting successes and failures.
pub fn delete_keys(target: &Store, keys: &[String], dry_run: bool, stats: &Stats) {
    if dry_run {
        for key in keys {
            log::info!(key = key.as_str(); "[dry-run] delete completed.");
            Stats::add(&stats.deleted, 1);
        }
        return;
    }
    match target {
        Store::S3(s3) => {
            for batch in keys.chunks(DELETE_BATCH) {
                let full: Vec<String> = batch.iter().map(|k| s3.full_key(k)).collect();
                match s3.client().delete_objects(s3.bucket(), &full) {
                    Ok(result) => {
                        for (key, code, message) in &result.errors {
                            log::error!(key = key.as_str(), code = code.as_str(); "delete failed: {message}");
                            Stats::add(&stats.errors, 1);
                        }
                        for key in &full {
                            if !result.errors.iter().any(|(k, _, _)| k == key) {
                                log::info!(key = key.as_str(); "delete completed.");
                                Stats::add(&stats.deleted, 1);
                            }
                        }
                    }
                    Err(e) => {
                        log::error!("deleting {} objects failed: {e}", full.len());
                        Stats::add(&stats.errors, full.len() as u64);
                    }
                }
            }
        }
        Store::Local(local) => {
            for key in keys {
                let path = local.path_of(key);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        log::info!(key = key.as_str(); "delete completed.");
                        Stats::add(&stats.deleted, 1);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        log::debug!("{} was already gone", path.display());
                    }
                    Err(e) => {
                        log::error!(key = key.as_str(); "cannot delete {}: {e}", path.display());
                        Stats::add(&stats.errors, 1);
                    }
                }
            }
        }
    }
}
