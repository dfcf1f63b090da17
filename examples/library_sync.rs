//! s3sync as a library: a local → local sync built in code, with a filter and an event
//! listener written in Rust. Needs no server:
//!
//! ```text
//! cargo run --example library_sync
//! ```
//!
//! The same `Config` takes `Location::S3 { .. }` sides and any of the three callbacks
//! (filter, preprocess, event); the CLI is a thin layer over exactly this.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use s3sync::Report;
use s3sync::callback::{CallbackError, Event, EventCallback, FilterCallback, ObjectInfo};
use s3sync::config::{Config, Location};

/// Leaves temporary files and editor backups out of the sync.
struct SkipTemporary;

impl FilterCallback for SkipTemporary {
    fn filter(&self, object: &ObjectInfo) -> Result<bool, CallbackError> {
        Ok(!(object.key.ends_with(".tmp") || object.key.ends_with('~')))
    }
}

/// Remembers every event as one line: its name and key. Workers call it from several
/// threads at once, hence the mutex.
#[derive(Default)]
struct EventLog(Mutex<Vec<String>>);

impl EventCallback for EventLog {
    fn on_event(&self, event: &Event) -> Result<(), CallbackError> {
        let line = match &event.key {
            Some(key) => format!("{} {key}", event.kind.name()),
            None => event.kind.name().to_string(),
        };
        self.0
            .lock()
            .map_err(|_| CallbackError::new("the event log is poisoned"))?
            .push(line);
        Ok(())
    }
}

/// What one run of the example did.
pub struct Demo {
    pub report: Report,
    pub events: Vec<String>,
    /// The directory synced into.
    pub target: PathBuf,
}

/// Creates a small source tree under `dir` and syncs it to `dir/target`.
pub fn sync_demo(dir: &Path) -> Result<Demo, String> {
    let source = dir.join("source");
    let target = dir.join("target");
    let files: [(&str, &[u8]); 3] = [
        ("notes/today.txt", b"buy milk\n"),
        ("photos/cat.jpg", &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
        ("draft.tmp", b"not worth keeping"),
    ];
    for (name, bytes) in files {
        let path = source.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }

    let log = Arc::new(EventLog::default());
    let mut config = Config::new(Location::Local(source), Location::Local(target.clone()));
    config.output.show_progress = false;
    config.callbacks.filter = Some(Arc::new(SkipTemporary));
    config.callbacks.event = Some(log.clone());

    let report = s3sync::run(&config);
    let events = log
        .0
        .lock()
        .map_err(|_| "the event log is poisoned".to_string())?
        .clone();
    Ok(Demo {
        report,
        events,
        target,
    })
}

pub fn main() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("s3sync-library-example-{}", std::process::id()));
    let demo = sync_demo(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let demo = demo?;
    for event in &demo.events {
        println!("event: {event}");
    }
    let s = demo.report.stats;
    println!(
        "synced into {}: {} transferred ({} bytes), {} skipped, {} errors, {} warnings in {:?}",
        demo.target.display(),
        s.transferred_objects,
        s.transferred_bytes,
        s.skipped,
        s.errors,
        s.warnings,
        demo.report.elapsed
    );
    if demo.report.has_errors() {
        return Err(format!("the sync failed: {:?}", demo.report.fatal));
    }
    Ok(())
}
