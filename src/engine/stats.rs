//! Run counters, shared by all threads, and the summary line built from them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::util::size::{human_bytes, human_count};
use crate::util::time::human_duration;

/// Live counters; every field only grows.
#[derive(Debug, Default)]
pub struct Stats {
    pub transferred_bytes: AtomicU64,
    pub transferred_objects: AtomicU64,
    pub etag_verified: AtomicU64,
    pub checksum_verified: AtomicU64,
    pub deleted: AtomicU64,
    pub skipped: AtomicU64,
    pub errors: AtomicU64,
    pub warnings: AtomicU64,
    /// Objects whose upload resumed one an interrupted run left, and the bytes it already
    /// held (not sent again, so not in `transferred_bytes`).
    pub resumed_objects: AtomicU64,
    pub resumed_bytes: AtomicU64,
}

/// A copy of the counters at one moment; defined beside the events that carry it, so the
/// callback layer needs nothing of the engine.
pub use crate::callback::Snapshot;

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            transferred_bytes: get(&self.transferred_bytes),
            transferred_objects: get(&self.transferred_objects),
            etag_verified: get(&self.etag_verified),
            checksum_verified: get(&self.checksum_verified),
            deleted: get(&self.deleted),
            skipped: get(&self.skipped),
            errors: get(&self.errors),
            warnings: get(&self.warnings),
            resumed_objects: get(&self.resumed_objects),
            resumed_bytes: get(&self.resumed_bytes),
        }
    }
}

pub use crate::util::rate::per_second;

/// The summary (or progress) line: sizes in binary units, counts with separators.
pub fn summary_line(s: &Snapshot, elapsed: Duration, with_duration: bool) -> String {
    let mut line = format!(
        "{} | {}/sec,  transferred {:>3} objects | {} objects/sec,  etag verified {} objects,  \
         checksum verified {} objects,  deleted {} objects,  skipped {} objects,  error {} objects, \
         warning {} objects",
        human_bytes(s.transferred_bytes),
        human_bytes(per_second(s.transferred_bytes, elapsed)),
        human_count(s.transferred_objects),
        human_count(per_second(s.transferred_objects, elapsed)),
        human_count(s.etag_verified),
        human_count(s.checksum_verified),
        human_count(s.deleted),
        human_count(s.skipped),
        human_count(s.errors),
        human_count(s.warnings),
    );
    if with_duration {
        line.push_str(&format!(",  duration {}", human_duration(elapsed)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_has_the_reference_shape() {
        let s = Snapshot {
            transferred_bytes: 31_457_280,
            transferred_objects: 1,
            etag_verified: 1,
            ..Snapshot::default()
        };
        assert_eq!(
            summary_line(&s, Duration::from_millis(1400), true),
            "30.00 MiB | 21.43 MiB/sec,  transferred   1 objects | 0 objects/sec,  etag verified 1 objects,  \
             checksum verified 0 objects,  deleted 0 objects,  skipped 0 objects,  error 0 objects, \
             warning 0 objects,  duration 1 second"
        );
    }

    #[test]
    fn short_runs_report_totals_as_rates() {
        assert_eq!(per_second(10, Duration::from_millis(200)), 10);
        assert_eq!(per_second(10, Duration::from_secs(5)), 2);
    }
}
