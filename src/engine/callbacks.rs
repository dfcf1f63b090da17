//! Where the run meets the user's callbacks (`Config::callbacks`): the filter callback
//! (step 7 of the filter order), events, and the bookkeeping that goes with them. The
//! preprocess callback is applied where write headers are built
//! ([`transfer::preprocess`](super::transfer::preprocess)).

use super::Run;
use super::filter::FilteredBy;
use super::stats::Stats;
use crate::callback::{Event, EventKind, ObjectInfo};
use crate::storage::Entry;
use crate::storage::versions::Version;

impl Run<'_> {
    /// Tells the event callback about the event `make` builds (built only when there is a
    /// callback). A failing callback is a warning, never an event of its own.
    pub(crate) fn emit(&self, make: impl FnOnce() -> Event) {
        let Some(callback) = &self.config.callbacks.event else {
            return;
        };
        let mut event = make();
        event.dry_run = self.config.dry_run;
        if let Err(e) = callback.on_event(&event) {
            log::warn!(event = event.kind.name(); "event callback failed: {e}");
            Stats::add(&self.stats.warnings, 1);
        }
    }

    /// Acts on a filter's verdict on the source object `key`: `true` when it passes. One
    /// left out is [`filtered`](Self::filtered); one a pattern gave up on is a warning and
    /// is skipped too, never guessed either way.
    pub(crate) fn passes(&self, key: &str, verdict: Result<Option<FilteredBy>, String>) -> bool {
        match verdict {
            Ok(None) => true,
            Ok(Some(option)) => {
                self.filtered(key, &format!("filtered by {option}"));
                false
            }
            Err(message) => {
                self.object_problem(key, &format!("{message}; skipped"));
                Stats::add(&self.stats.skipped, 1);
                false
            }
        }
    }

    /// A source object left out by a filter or the update check: logged, counted as skipped,
    /// announced (`SYNC_FILTERED`).
    pub(crate) fn filtered(&self, key: &str, reason: &str) {
        log::debug!(key = key; "object filtered: {reason}.");
        Stats::add(&self.stats.skipped, 1);
        self.emit(|| Event::about(EventKind::SyncFiltered, key).with_message(reason));
    }

    /// Something worth a warning: logged, counted, announced (`SYNC_WARNING`).
    pub(crate) fn warning(&self, key: Option<&str>, message: &str) {
        match key {
            Some(key) => log::warn!(key = key; "{message}"),
            None => log::warn!("{message}"),
        }
        Stats::add(&self.stats.warnings, 1);
        self.emit(|| Event {
            key: key.map(str::to_string),
            ..Event::new(EventKind::SyncWarning).with_message(message)
        });
    }

    /// Filter step 7: whether the filter callback (if any) keeps `object`. A filtered object
    /// is counted and announced; a failing callback stops the run (and keeps nothing).
    pub(crate) fn keeps(&self, object: impl FnOnce() -> ObjectInfo) -> bool {
        let Some(callback) = &self.config.callbacks.filter else {
            return true;
        };
        let object = object();
        match callback.filter(&object) {
            Ok(true) => true,
            Ok(false) => {
                self.filtered(&object.key, "filtered by the filter callback");
                false
            }
            Err(e) => {
                Stats::add(&self.stats.errors, 1);
                self.fail(format!("{}: filter callback failed: {e}", object.key));
                false
            }
        }
    }
}

/// What the filter callback is shown of a listed object: with `--point-in-time` the version
/// current at that time (so `is_latest`).
pub(crate) fn object_info(entry: &Entry) -> ObjectInfo {
    ObjectInfo {
        key: entry.key.clone(),
        size: entry.size,
        last_modified: entry.last_modified,
        e_tag: entry.etag.clone(),
        version_id: entry.version_id.clone(),
        checksum_algorithm: entry.checksum_algorithm.clone(),
        checksum_type: entry.checksum_type.clone(),
        is_latest: true,
        is_delete_marker: false,
    }
}

/// What the filter callback is shown of one version (or delete marker) of `key`
/// (`--enable-versioning`).
pub(crate) fn version_info(key: &str, version: &Version) -> ObjectInfo {
    ObjectInfo {
        key: key.to_string(),
        size: version.size,
        last_modified: version.last_modified,
        e_tag: version.etag.clone(),
        version_id: Some(version.version_id.clone()),
        checksum_algorithm: None,
        checksum_type: None,
        is_latest: version.is_latest,
        is_delete_marker: version.delete_marker,
    }
}

/// A transfer event about `source`.
pub(crate) fn about(kind: EventKind, source: &Entry) -> Event {
    Event {
        source_version_id: source.version_id.clone(),
        source_last_modified: Some(source.last_modified),
        source_size: Some(source.size),
        source_etag: source.etag.clone(),
        ..Event::about(kind, &source.key)
    }
}
