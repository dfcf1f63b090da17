//! What the event callback is told.

use std::time::Duration;

use crate::util::time::Timestamp;

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub transferred_bytes: u64,
    pub transferred_objects: u64,
    pub etag_verified: u64,
    pub checksum_verified: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub errors: u64,
    pub warnings: u64,
    pub resumed_objects: u64,
    pub resumed_bytes: u64,
}

/// The kinds of event. The numbers are the reference tool's bit flags, which its Lua scripts
/// compare `event_type` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventKind {
    /// Not an event; the default of [`Event`].
    #[default]
    Undefined,
    /// The run starts (before anything is listed).
    PipelineStart,
    /// The run is over (followed by [`EventKind::StatsReport`]).
    PipelineEnd,
    /// An object's transfer starts.
    SyncStart,
    /// An object was transferred (in a dry run: would have been).
    SyncComplete,
    /// A target object was deleted (`--delete`), or given a delete marker
    /// (`--enable-versioning`).
    SyncDelete,
    /// The ETag of what landed matches the source's.
    SyncEtagVerified,
    /// The additional checksum of what landed matches the source's.
    SyncChecksumVerified,
    /// What landed does not match the source's ETag; the object is transferred again.
    SyncEtagMismatch,
    /// What landed does not match the source's checksum; the object is transferred again.
    SyncChecksumMismatch,
    /// Something worth a warning; `message` says what.
    SyncWarning,
    /// The run stops on an error; `message` says which.
    PipelineError,
    /// The preprocess callback skipped an object.
    SyncCancel,
    /// An object's bytes were written to the target (`byte_written`).
    SyncWrite,
    /// An object was left out by a filter or the update check; `message` says which.
    SyncFiltered,
    /// The run's counters, right after [`EventKind::PipelineEnd`].
    StatsReport,
}

impl EventKind {
    /// The reference's number for this kind.
    pub fn code(self) -> u32 {
        match self {
            EventKind::Undefined => 0,
            EventKind::PipelineStart => 1 << 1,
            EventKind::PipelineEnd => 1 << 2,
            EventKind::SyncStart => 1 << 3,
            EventKind::SyncComplete => 1 << 4,
            EventKind::SyncDelete => 1 << 5,
            EventKind::SyncEtagVerified => 1 << 6,
            EventKind::SyncChecksumVerified => 1 << 7,
            EventKind::SyncEtagMismatch => 1 << 8,
            EventKind::SyncChecksumMismatch => 1 << 9,
            EventKind::SyncWarning => 1 << 10,
            EventKind::PipelineError => 1 << 11,
            EventKind::SyncCancel => 1 << 12,
            EventKind::SyncWrite => 1 << 13,
            EventKind::SyncFiltered => 1 << 14,
            EventKind::StatsReport => 1 << 15,
        }
    }

    /// The reference's name for this kind: `SYNC_COMPLETE`, ...
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Undefined => "UNDEFINED",
            EventKind::PipelineStart => "PIPELINE_START",
            EventKind::PipelineEnd => "PIPELINE_END",
            EventKind::SyncStart => "SYNC_START",
            EventKind::SyncComplete => "SYNC_COMPLETE",
            EventKind::SyncDelete => "SYNC_DELETE",
            EventKind::SyncEtagVerified => "SYNC_ETAG_VERIFIED",
            EventKind::SyncChecksumVerified => "SYNC_CHECKSUM_VERIFIED",
            EventKind::SyncEtagMismatch => "SYNC_ETAG_MISMATCH",
            EventKind::SyncChecksumMismatch => "SYNC_CHECKSUM_MISMATCH",
            EventKind::SyncWarning => "SYNC_WARNING",
            EventKind::PipelineError => "PIPELINE_ERROR",
            EventKind::SyncCancel => "SYNC_CANCEL",
            EventKind::SyncWrite => "SYNC_WRITE",
            EventKind::SyncFiltered => "SYNC_FILTERED",
            EventKind::StatsReport => "STATS_REPORT",
        }
    }
}

/// The counters of a finished run ([`EventKind::StatsReport`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    pub counters: Snapshot,
    pub elapsed: Duration,
}

/// One event. Fields that do not apply to the kind are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub dry_run: bool,
    /// The object's key relative to SOURCE (to TARGET for a deletion).
    pub key: Option<String>,
    pub source_version_id: Option<String>,
    pub target_version_id: Option<String>,
    pub source_last_modified: Option<Timestamp>,
    pub target_last_modified: Option<Timestamp>,
    pub source_size: Option<u64>,
    pub target_size: Option<u64>,
    pub checksum_algorithm: Option<String>,
    pub source_checksum: Option<String>,
    pub target_checksum: Option<String>,
    pub source_etag: Option<String>,
    pub target_etag: Option<String>,
    /// Bytes written ([`EventKind::SyncWrite`]).
    pub byte_written: Option<u64>,
    /// What happened, in words (filters, warnings, errors).
    pub message: Option<String>,
    pub stats: Option<EventStats>,
}

impl Event {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: EventKind) -> Event {
        Event {
            kind,
            ..Event::default()
        }
    }

    /// An event of `kind` about the object `key`.
    pub fn about(kind: EventKind, key: &str) -> Event {
        Event {
            kind,
            key: Some(key.to_string()),
            ..Event::default()
        }
    }

    /// This event with `message`.
    pub fn with_message(mut self, message: impl Into<String>) -> Event {
        self.message = Some(message.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_references_bit_flags() {
        assert_eq!(EventKind::Undefined.code(), 0);
        assert_eq!(EventKind::PipelineStart.code(), 2);
        assert_eq!(EventKind::SyncComplete.code(), 16);
        assert_eq!(EventKind::SyncFiltered.code(), 16384);
        assert_eq!(EventKind::StatsReport.code(), 32768);
        assert_eq!(
            EventKind::SyncChecksumMismatch.name(),
            "SYNC_CHECKSUM_MISMATCH"
        );
    }
}
