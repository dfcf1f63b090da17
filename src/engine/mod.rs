//! The sync pipeline.
//!
//! ```text
//! source lister ─┐                     ┌─► worker × --worker-size ─► part threads × --max-parallel-uploads
//!                ├─► merge-join + check ┤
//! target lister ─┘                     └─► deletion candidates ─► delete (after all transfers, if none failed)
//! ```
//!
//! Listers run on their own threads and feed bounded channels; the merge-join runs on the
//! calling thread and feeds a bounded job queue; workers do blocking I/O. Memory therefore
//! does not grow with the number of objects, except for the list of keys to delete, which
//! grows with the number of deletions.
//!
//! Content update checks (ETags, additional checksums) run in the workers (`compare`). Every
//! transfer checks what landed against what was read; one that does not verify is repeated
//! up to [`transfer::VERIFY_ATTEMPTS`] times in all, and a written object that never
//! verifies is deleted before the key is reported as failed.
//!
//! Versioned sources: with `--point-in-time` the source lister emits each key's version of
//! that time and everything else is as above; `--enable-versioning` replaces the pipeline
//! with one that joins all versions key by key (`versioning`).

mod callbacks;
mod compare;
pub mod delete;
pub mod diff;
pub mod filter;
pub mod journal;
pub mod json_lines;
mod open;
pub mod parts;
pub mod path_filter;
pub mod progress;
mod prompt;
mod report;
pub mod stats;
pub mod transfer;
mod versioning;
mod worker;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};

use crate::callback::{Event, EventKind, EventStats};
use crate::config::{Config, DeleteMode, Location, UpdateCheck};
use crate::storage::{Entry, ListError, ListItem, Store};
use crate::util::rate::RateLimiter;
use crate::util::time::Timestamp;
use diff::{MergeJoin, Pair, Verdict};
use open::open_stores;
use parts::PartQueue;
use stats::{Snapshot, Stats};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Report {
    pub stats: Snapshot,
    pub elapsed: Duration,
    /// The error that stopped the run early, if one did.
    pub fatal: Option<String>,
    /// The caller's stop flag ended the run early (Ctrl-C).
    pub interrupted: bool,
}

impl Report {
    /// Whether anything failed (the CLI exits 1).
    pub fn has_errors(&self) -> bool {
        self.fatal.is_some() || self.stats.errors > 0
    }

    /// Whether something was worth a warning (the CLI exits 3 when nothing failed).
    pub fn has_warnings(&self) -> bool {
        self.stats.warnings > 0
    }
}

/// Shared state of one run.
pub(crate) struct Run<'a> {
    pub(crate) config: &'a Config,
    pub(crate) source: &'a Store,
    pub(crate) target: &'a Store,
    pub(crate) stats: Stats,
    /// Set to stop the run; the S3 clients share it, so bodies in flight stop too.
    pub(crate) cancel: Arc<AtomicBool>,
    pub(crate) fatal: Mutex<Option<String>>,
    /// `--report-sync-status` counters.
    pub(crate) report: report::Tally,
    /// `--rate-limit-objects`: a token per object transferred.
    pub(crate) objects: Option<RateLimiter>,
    /// The journal of multipart uploads in flight (S3 targets of runs that write).
    pub(crate) journal: Option<journal::Journal>,
}

impl Run<'_> {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// A single object could not be synced for a reason that concerns it alone (missing,
    /// forbidden, archived, unsafe to write, a failed condition): a warning, or an error
    /// with `--warn-as-error`. The run goes on either way.
    pub(crate) fn object_problem(&self, key: &str, message: &str) {
        if self.config.warn_as_error {
            log::error!(key = key; "{message}");
            Stats::add(&self.stats.errors, 1);
        } else {
            self.warning(Some(key), message);
        }
    }

    /// Records the error that stops the run (the first one wins) and cancels everything.
    pub(crate) fn fail(&self, message: String) {
        let first = match self.fatal.lock() {
            Ok(mut f) if f.is_none() => {
                *f = Some(message.clone());
                true
            }
            _ => false,
        };
        self.cancel.store(true, Ordering::Relaxed);
        if first {
            self.emit(|| Event::new(EventKind::PipelineError).with_message(message));
        }
    }
}

/// Runs one sync as configured and reports how it went.
pub fn run(config: &Config) -> Report {
    run_cancellable(config, &AtomicBool::new(false))
}

/// Like [`run`], stopping cleanly once `stop` becomes true (e.g. set by a signal handler):
/// nothing new starts, multipart uploads in flight are aborted, temporary files removed and
/// no deletion runs.
pub fn run_cancellable(config: &Config, stop: &AtomicBool) -> Report {
    let started = Instant::now();
    if config.server_side_copy_auto {
        log::info!(
            "source and target are one endpoint and one identity: the server copies the objects \
             (--client-side-copy passes them through s3sync instead)"
        );
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let (source, target, sides_fit) = open_stores(config, &cancel);
    let run = Run {
        config,
        source: &source,
        target: &target,
        stats: Stats::default(),
        cancel,
        fatal: Mutex::new(None),
        report: report::Tally::default(),
        objects: config
            .rate_limit_objects
            .map(|n| RateLimiter::new(u64::from(n))),
        journal: match (&config.state_dir, &target) {
            (Some(dir), Store::S3(_)) if !config.dry_run && config.report.is_none() => {
                Some(journal::Journal::new(dir))
            }
            _ => None,
        },
    };
    run.emit(|| Event::new(EventKind::PipelineStart));
    if config.output.json_lines {
        json_lines::start(&source.describe(), &target.describe(), config.dry_run);
    }
    let progress = progress::Progress::start(&config.output);
    let (finished_tx, finished_rx) = bounded::<()>(0);
    std::thread::scope(|scope| {
        if let Some(p) = &progress {
            scope.spawn(|| p.run(&run.stats, started));
        }
        // Stops the progress line however the pipeline ends, a panic included, so the
        // scope can finish and the panic reach main (exit 101) instead of hanging.
        let _stop = progress.as_ref().map(progress::Progress::stopper);
        // Passes the caller's stop flag on to the run, looking every 50 ms. It ends the
        // moment the pipeline does (panics too), when `_finished` drops and disconnects the
        // channel, so a run never waits out a last pause.
        let _finished = finished_tx;
        scope.spawn(|| {
            while finished_rx.recv_timeout(Duration::from_millis(50))
                == Err(RecvTimeoutError::Timeout)
            {
                if stop.load(Ordering::Relaxed) {
                    run.cancel.store(true, Ordering::Relaxed);
                    break;
                }
            }
        });
        if !sides_fit {
            run.fail(format!(
                "TARGET {} is a file, and SOURCE is not one blob but a prefix: name a \
                 directory as TARGET",
                match &config.target {
                    Location::Local(path) => path.display().to_string(),
                    _ => target.backend().name_of(""),
                }
            ));
        } else if !versioning::check_buckets(&run) {
            // The run was stopped with the reason.
        } else if config.enable_versioning {
            versioning::replicate(&run);
        } else {
            pipeline(&run);
        }
    });
    // Uploads killed runs left under this target that nothing resumed: only after a run that
    // went through, as a stopped one may not have reached the keys it would have resumed.
    if let (Some(journal), Store::S3(target)) = (&run.journal, &target)
        && !run.cancelled()
    {
        transfer::resume::sweep(journal, target);
    }
    run.emit(|| Event::new(EventKind::PipelineEnd));
    run.emit(|| Event {
        stats: Some(EventStats {
            counters: run.stats.snapshot(),
            elapsed: started.elapsed(),
        }),
        ..Event::new(EventKind::StatsReport)
    });
    let fatal = run.fatal.lock().ok().and_then(|f| f.clone());
    let report = Report {
        stats: run.stats.snapshot(),
        elapsed: started.elapsed(),
        fatal,
        interrupted: stop.load(Ordering::Relaxed),
    };
    if config.report.is_some() {
        report::summary(&run.report);
    } else {
        progress::finish(&config.output, &report);
    }
    report
}

/// Entries queued between a lister and the comparison: `--object-listing-queue-size`, at
/// most 1000. A bounded channel allocates all its slots at once, and the listings' own
/// budget (the option's whole value) already bounds how far listing runs ahead.
pub(crate) fn lister_queue(config: &Config) -> usize {
    config.object_listing_queue_size.clamp(1, 1000)
}

fn spawn_lister<'s, 'e>(
    scope: &'s std::thread::Scope<'s, 'e>,
    store: &'e Store,
    cancel: &'e AtomicBool,
    queue: usize,
) -> Receiver<Result<ListItem, ListError>> {
    let (tx, rx) = bounded(queue);
    scope.spawn(move || {
        let result =
            store.list(&mut |item| tx.send(Ok(item)).is_ok() && !cancel.load(Ordering::Relaxed));
        if let Err(e) = result {
            let _ = tx.send(Err(e));
        }
    });
    rx
}

/// Turns a listing channel into a stream of entries, reporting warnings and failures.
struct Listed<'r, 'a> {
    rx: Receiver<Result<ListItem, ListError>>,
    run: &'r Run<'a>,
    incomplete: &'r Cell<bool>,
    /// Whether objects the listing skips count as skipped (the source's do).
    counts_skips: bool,
}

impl Iterator for Listed<'_, '_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            match self.rx.recv() {
                Ok(Ok(ListItem::Entry(e))) => return Some(e),
                Ok(Ok(ListItem::Skipped { name, reason })) => {
                    // Only the source's objects are the run's to count.
                    if self.counts_skips {
                        self.run.filtered(&name, reason);
                    }
                }
                Ok(Ok(ListItem::Warning(w))) => {
                    self.run.object_problem(&w.path, &w.message);
                    if w.incomplete {
                        self.incomplete.set(true);
                    }
                }
                Ok(Err(e)) => {
                    self.incomplete.set(true);
                    self.run.fail(e.to_string());
                    return None;
                }
                Err(_) => return None,
            }
        }
    }
}

/// One object to transfer (after the listing-based check).
pub(crate) struct Job {
    pub(crate) source: Entry,
    pub(crate) target: Option<Entry>,
    pub(crate) compare_content: bool,
    /// The data is up to date; only the tags may need syncing (`--sync-latest-tagging`).
    pub(crate) tags_only: bool,
    /// `--head-each-target`: the worker asks the target about the object and runs the
    /// update check itself.
    pub(crate) head_target: bool,
}

impl Job {
    fn transfer(source: Entry, target: Option<Entry>) -> Job {
        Job {
            source,
            target,
            compare_content: false,
            tags_only: false,
            head_target: false,
        }
    }
}

fn pipeline(run: &Run<'_>) {
    let config = run.config;
    let (parts, part_rx) = PartQueue::new();
    let source_incomplete = Cell::new(false);
    let mut source_objects: u64 = 0;
    let mut to_delete: Vec<Entry> = Vec::new();
    std::thread::scope(|part_scope| {
        for _ in 0..config.max_parallel_uploads {
            let rx = part_rx.clone();
            part_scope.spawn(move || parts::part_thread(rx));
        }
        drop(part_rx);
        let ctx = transfer::Ctx {
            config,
            parts: &parts,
            cancel: &run.cancel,
            conditions: transfer::Conditions::default(),
            known: std::sync::Mutex::new(None),
            journal: run.journal.as_ref(),
        };
        std::thread::scope(|inner| {
            let (job_tx, job_rx) = bounded::<Job>(config.worker_size * 2);
            for _ in 0..config.worker_size {
                let rx = job_rx.clone();
                let ctx = &ctx;
                inner.spawn(move || worker::worker(run, rx, ctx));
            }
            drop(job_rx);
            let target_incomplete = Cell::new(false);
            // With --head-each-target the workers ask the target about each object instead.
            let list_target =
                !(always_transfer(config) || config.head_each_target) || config.delete;
            let source_rx = spawn_lister(inner, run.source, &run.cancel, lister_queue(config));
            let target_rx = if list_target {
                Some(spawn_lister(
                    inner,
                    run.target,
                    &run.cancel,
                    lister_queue(config),
                ))
            } else {
                None
            };
            let source_stream = Listed {
                rx: source_rx,
                run,
                incomplete: &source_incomplete,
                counts_skips: true,
            };
            let target_stream = target_rx.map(|rx| Listed {
                rx,
                run,
                incomplete: &target_incomplete,
                counts_skips: false,
            });
            for pair in MergeJoin::new(source_stream, target_stream.into_iter().flatten()) {
                if run.cancelled() {
                    break;
                }
                if !matches!(pair, Pair::TargetOnly(_)) {
                    source_objects += 1;
                }
                if let Some(job) = decide(run, pair, &mut to_delete)
                    && job_tx.send(job).is_err()
                {
                    break;
                }
            }
            // Dropping the job sender lets the workers drain the queue and exit; the scope
            // then waits for them and for the listers.
        });
        drop(parts);
    });
    if config.delete && !to_delete.is_empty() {
        delete_phase(run, &to_delete, source_incomplete.get(), source_objects);
    }
}

/// Whether every source object is transferred without looking at the target: with
/// `--remove-modified-filter`, and with `--point-in-time` unless a check other than the
/// modification time was asked for (the versions of a past time are older than what they
/// replace, so the time says nothing).
fn always_transfer(config: &Config) -> bool {
    config.remove_modified_filter
        || (config.point_in_time.is_some() && config.update_check == UpdateCheck::Mtime)
}

/// Turns one merge-join step into a job, a skip, or a deletion candidate.
fn decide(run: &Run<'_>, pair: Pair, to_delete: &mut Vec<Entry>) -> Option<Job> {
    let config = run.config;
    let (source, target) = match pair {
        Pair::TargetOnly(target) => {
            if config.delete && deletable(run, &target.key) {
                to_delete.push(target);
            }
            return None;
        }
        Pair::SourceOnly(source) => (source, None),
        Pair::Both(source, target) => (source, Some(target)),
    };
    // A filtered object is left alone on both sides: its target counterpart is not deleted.
    if !run.passes(&source.key, filter::by_listing(&config.filters, &source)) {
        return None;
    }
    if !run.keeps(|| callbacks::object_info(&source)) {
        return None;
    }
    if !run.target.backend().capabilities().trailing_dots && ends_a_segment_with_dot(&source.key) {
        // Never renamed: `a.` would land as `a`, over another file's object.
        run.object_problem(
            &source.key,
            &format!(
                "{} cannot be written: a name segment ends in '.', which the target drops \
                 (Blob names); skipped, not renamed",
                run.target.backend().name_of(&source.key)
            ),
        );
        Stats::add(&run.stats.skipped, 1);
        return None;
    }
    if config.report.is_some() {
        // A report looks at every object, whatever its time.
        return Some(Job::transfer(source, target));
    }
    if config.head_each_target {
        return Some(Job {
            head_target: true,
            ..Job::transfer(source, None)
        });
    }
    update_check(run, source, target)
}

/// Whether a segment of `key` ends in `.` (`a.`, `dir./x`; not `.` or `..` alone, which a
/// listing never gives).
fn ends_a_segment_with_dot(key: &str) -> bool {
    key.split('/')
        .any(|s| s.ends_with('.') && s != "." && s != "..")
}

/// Whether `--delete` may remove this target-only object: the key filters must not leave it
/// out (unless `--delete-excluded`).
fn deletable(run: &Run<'_>, key: &str) -> bool {
    match filter::in_key_scope(&run.config.filters, key) {
        Ok(true) => true,
        Ok(false) => {
            log::debug!(key = key; "delete object filtered.");
            false
        }
        Err(message) => {
            run.object_problem(key, &format!("{message}; not deleted"));
            false
        }
    }
}

/// The update check on a source object and what the target has under its key: a job, or a
/// skip (counted).
pub(crate) fn update_check(run: &Run<'_>, source: Entry, target: Option<Entry>) -> Option<Job> {
    let config = run.config;
    let Some(target) = target else {
        return Some(Job::transfer(source, None));
    };
    let verdict = if always_transfer(config) {
        Verdict::Transfer
    } else {
        diff::check(config.update_check, &source, &target)
    };
    match verdict {
        Verdict::Transfer => Some(Job::transfer(source, Some(target))),
        Verdict::CompareContent => Some(Job {
            compare_content: true,
            ..Job::transfer(source, Some(target))
        }),
        Verdict::Skip(_) if config.sync_latest_tagging => Some(Job {
            tags_only: true,
            ..Job::transfer(source, Some(target))
        }),
        Verdict::Skip(reason) => {
            run.filtered(&source.key, reason);
            None
        }
    }
}

/// Deletes the target-only keys, but only after a clean run with a complete source listing.
fn delete_phase(run: &Run<'_>, to_delete: &[Entry], source_incomplete: bool, source_objects: u64) {
    let config = run.config;
    if source_objects == 0 {
        // A mistyped prefix or an unmounted directory looks exactly like this.
        run.warning(
            None,
            &format!(
                "the source has no objects: refusing to delete the {} objects of the target \
                 (to empty a target, delete its objects directly)",
                to_delete.len()
            ),
        );
        return;
    }
    if run.cancelled() || run.stats.snapshot().errors > 0 {
        run.warning(
            None,
            &format!(
                "{} deletions skipped because the run was stopped or had errors",
                to_delete.len()
            ),
        );
        return;
    }
    if source_incomplete {
        run.warning(
            None,
            &format!(
                "{} deletions skipped because parts of the source could not be listed",
                to_delete.len()
            ),
        );
        return;
    }
    let limit = config
        .max_delete
        .map_or(to_delete.len(), |m| m.min(to_delete.len() as u64) as usize);
    if config.delete_mode == DeleteMode::Prompt
        && !config.dry_run
        && !prompt::allowed(run, &to_delete[..limit])
    {
        return;
    }
    delete::delete_entries(run, &to_delete[..limit]);
    if limit < to_delete.len() {
        run.warning(
            None,
            &format!(
                "--max-delete {limit} reached: {} more objects were not deleted",
                to_delete.len() - limit
            ),
        );
    }
}
