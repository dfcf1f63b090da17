//! azcopy's `--output-type=json`: the run told as JSON objects, one a line, on stdout (logs
//! go to stderr then). Three record types, told apart by `"type"`:
//!
//! - `start`: once, before anything is listed: the two sides (as messages name them, never
//!   a secret) and whether it is a dry run;
//! - `progress`: every second while the run goes on, the counters so far;
//! - `summary`: once, at the end, with the same counters as the `sync summary` log record
//!   and how the run ended (`status`).
//!
//! Written by hand (a handful of flat records does not need a serializer); strings are
//! escaped by [`json_escape`], which leaves nothing a JSON parser refuses.

use std::io::Write;
use std::time::Duration;

use super::Report;
use super::stats::{Snapshot, per_second};
use crate::util::encoding::json_escape;
use crate::util::time::Timestamp;

/// A record under way: `{"type":"...","timestamp":"..."` and the members pushed since.
struct Record(String);

impl Record {
    fn new(kind: &str) -> Record {
        let mut r = Record(String::with_capacity(256));
        r.0.push('{');
        r.string("type", kind);
        r.string("timestamp", &Timestamp::now().rfc3339_micros_z());
        r
    }

    fn key(&mut self, name: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        json_escape(name, &mut self.0);
        self.0.push_str("\":");
    }

    fn string(&mut self, name: &str, value: &str) {
        self.key(name);
        self.0.push('"');
        json_escape(value, &mut self.0);
        self.0.push('"');
    }

    fn number(&mut self, name: &str, value: u64) {
        self.key(name);
        self.0.push_str(&value.to_string());
    }

    fn seconds(&mut self, name: &str, value: Duration) {
        self.key(name);
        self.0.push_str(&format!("{:.3}", value.as_secs_f64()));
    }

    fn boolean(&mut self, name: &str, value: bool) {
        self.key(name);
        self.0.push_str(if value { "true" } else { "false" });
    }

    /// The counters, named as in the `sync summary` log record.
    fn counters(&mut self, s: &Snapshot, elapsed: Duration) {
        self.number("transferred_byte", s.transferred_bytes);
        self.number(
            "transferred_byte_per_sec",
            per_second(s.transferred_bytes, elapsed),
        );
        self.number("transferred_object", s.transferred_objects);
        self.number(
            "transferred_object_per_sec",
            per_second(s.transferred_objects, elapsed),
        );
        self.number("etag_verified", s.etag_verified);
        self.number("checksum_verified", s.checksum_verified);
        self.number("deleted", s.deleted);
        self.number("skipped", s.skipped);
        self.number("error", s.errors);
        self.number("warning", s.warnings);
        self.number("resumed_object", s.resumed_objects);
        self.number("resumed_byte", s.resumed_bytes);
        self.seconds("duration_sec", elapsed);
    }

    /// The finished line.
    fn line(mut self) -> String {
        self.0.push_str("}\n");
        self.0
    }
}

/// Writes one whole line; a closed stdout (`| head`) is not an error.
fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The `start` record.
pub fn start_line(source: &str, target: &str, dry_run: bool) -> String {
    let mut r = Record::new("start");
    r.string("source", source);
    r.string("target", target);
    r.boolean("dry_run", dry_run);
    r.line()
}

pub fn start(source: &str, target: &str, dry_run: bool) {
    emit(&start_line(source, target, dry_run));
}

/// A `progress` record.
pub fn progress(s: &Snapshot, elapsed: Duration) {
    let mut r = Record::new("progress");
    r.counters(s, elapsed);
    emit(&r.line());
}

/// How the run ended: `Completed`, `CompletedWithWarnings`, `CompletedWithErrors`,
/// `Failed` (a fatal error stopped it) or `Cancelled` (a signal did).
fn status(report: &Report) -> &'static str {
    if report.interrupted {
        "Cancelled"
    } else if report.fatal.is_some() {
        "Failed"
    } else if report.stats.errors > 0 {
        "CompletedWithErrors"
    } else if report.stats.warnings > 0 {
        "CompletedWithWarnings"
    } else {
        "Completed"
    }
}

/// The `summary` record.
pub fn summary_line(report: &Report) -> String {
    let mut r = Record::new("summary");
    r.string("status", status(report));
    r.counters(&report.stats, report.elapsed);
    if let Some(fatal) = &report.fatal {
        r.string("error_message", fatal);
    }
    r.line()
}

pub fn summary(report: &Report) {
    emit(&summary_line(report));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_are_escaped() {
        let line = start_line("/tmp/a \"q\" \\ b\n\t\u{1}é☃", "s3://b/p/", false);
        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(line.starts_with("{\"type\":\"start\",\"timestamp\":\""));
        assert!(
            line.contains(
                "\"source\":\"/tmp/a \\\"q\\\" \\\\ b\\n\\t\\u0001é☃\",\"target\":\"s3://b/p/\",\"dry_run\":false}"
            ),
            "{line}"
        );
        let mut r = Record::new("x");
        r.string("k\"ey\u{7}", "v");
        assert!(r.line().contains(",\"k\\\"ey\\u0007\":\"v\"}"));
    }

    #[test]
    fn summary_has_the_counters_and_status() {
        let report = Report {
            stats: Snapshot {
                transferred_bytes: 10,
                transferred_objects: 2,
                errors: 1,
                ..Snapshot::default()
            },
            elapsed: Duration::from_millis(1500),
            fatal: Some("bad \"thing\"".into()),
            interrupted: false,
        };
        let line = summary_line(&report);
        for member in [
            "\"status\":\"Failed\"",
            "\"transferred_byte\":10",
            "\"transferred_object\":2",
            "\"error\":1",
            "\"duration_sec\":1.500",
            "\"error_message\":\"bad \\\"thing\\\"\"",
        ] {
            assert!(line.contains(member), "{member} in {line}");
        }
    }
}
