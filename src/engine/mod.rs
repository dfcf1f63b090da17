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

pub mod delete;
pub mod diff;
pub mod parts;
pub mod progress;
pub mod stats;
pub mod transfer;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};

use crate::config::{Config, Location, UpdateCheck};
use crate::s3::Client;
use crate::storage::local::LocalStore;
use crate::storage::s3::S3Store;
use crate::storage::{Entry, ListError, ListItem, Store};
use diff::{MergeJoin, Pair, Verdict};
use parts::{BufferPool, PartQueue};
use stats::{Snapshot, Stats};
use transfer::{TransferError, UploadOptions};

const LIST_QUEUE: usize = 1000;

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Report {
    pub stats: Snapshot,
    pub elapsed: Duration,
    /// The error that stopped the run early, if one did.
    pub fatal: Option<String>,
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
struct Run<'a> {
    config: &'a Config,
    source: &'a Store,
    target: &'a Store,
    stats: Stats,
    cancel: AtomicBool,
    fatal: Mutex<Option<String>>,
}

impl Run<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records the error that stops the run (the first one wins) and cancels everything.
    fn fail(&self, message: String) {
        if let Ok(mut f) = self.fatal.lock()
            && f.is_none()
        {
            *f = Some(message);
        }
        self.cancel.store(true, Ordering::Relaxed);
    }
}

fn open_store(location: &Location, config: &Config) -> Store {
    match location {
        Location::Local(path) => Store::Local(LocalStore::new(path, config.follow_symlinks)),
        Location::S3 {
            bucket,
            prefix,
            client,
        } => {
            let mut client = (**client).clone();
            // Every worker, part thread and lister may hold a connection at once.
            client.max_connections = config.worker_size + config.max_parallel_uploads + 4;
            Store::S3(S3Store::new(
                Arc::new(Client::new(client)),
                bucket.clone(),
                prefix.clone(),
                config.max_keys,
            ))
        }
    }
}

/// Runs one sync as configured and reports how it went.
pub fn run(config: &Config) -> Report {
    let started = Instant::now();
    let source = open_store(&config.source, config);
    let target = open_store(&config.target, config);
    let run = Run {
        config,
        source: &source,
        target: &target,
        stats: Stats::default(),
        cancel: AtomicBool::new(false),
        fatal: Mutex::new(None),
    };
    let progress = progress::Progress::start(&config.output);
    std::thread::scope(|scope| {
        if let Some(p) = &progress {
            scope.spawn(|| p.run(&run.stats, started));
        }
        pipeline(&run);
        if let Some(p) = &progress {
            p.stop();
        }
    });
    let fatal = run.fatal.lock().ok().and_then(|f| f.clone());
    let report = Report {
        stats: run.stats.snapshot(),
        elapsed: started.elapsed(),
        fatal,
    };
    progress::finish(&config.output, &report);
    report
}

fn spawn_lister<'s, 'e>(
    scope: &'s std::thread::Scope<'s, 'e>,
    store: &'e Store,
    cancel: &'e AtomicBool,
) -> Receiver<Result<ListItem, ListError>> {
    let (tx, rx) = bounded(LIST_QUEUE);
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
}

impl Iterator for Listed<'_, '_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            match self.rx.recv() {
                Ok(Ok(ListItem::Entry(e))) => return Some(e),
                Ok(Ok(ListItem::Warning(w))) => {
                    log::warn!(path = w.path.as_str(); "{}", w.message);
                    Stats::add(&self.run.stats.warnings, 1);
                    self.incomplete.set(true);
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
struct Job {
    source: Entry,
    target: Option<Entry>,
    compare_etags: bool,
}

fn pipeline(run: &Run<'_>) {
    let config = run.config;
    let pool = BufferPool::new(
        config.max_parallel_uploads,
        config.layout.chunk_size as usize,
    );
    let (parts, part_rx) = PartQueue::new();
    let source_incomplete = Cell::new(false);
    let mut to_delete: Vec<String> = Vec::new();
    std::thread::scope(|part_scope| {
        for _ in 0..config.max_parallel_uploads {
            let rx = part_rx.clone();
            let pool = &pool;
            part_scope.spawn(move || parts::part_thread(rx, pool));
        }
        drop(part_rx);
        let cancelled = || run.cancelled();
        let upload = UploadOptions {
            layout: config.layout,
            content_md5: config.content_md5,
            verify_etag: config.verify_etag,
            verify_multipart: config.verify_multipart,
            pool: &pool,
            parts: &parts,
            cancelled: &cancelled,
        };
        std::thread::scope(|inner| {
            let (job_tx, job_rx) = bounded::<Job>(config.worker_size * 2);
            for _ in 0..config.worker_size {
                let rx = job_rx.clone();
                let upload = &upload;
                inner.spawn(move || worker(run, rx, upload));
            }
            drop(job_rx);
            let target_incomplete = Cell::new(false);
            let list_target = !config.remove_modified_filter || config.delete;
            let source_rx = spawn_lister(inner, run.source, &run.cancel);
            let target_rx = if list_target {
                Some(spawn_lister(inner, run.target, &run.cancel))
            } else {
                None
            };
            let source_stream = Listed {
                rx: source_rx,
                run,
                incomplete: &source_incomplete,
            };
            let target_stream = target_rx.map(|rx| Listed {
                rx,
                run,
                incomplete: &target_incomplete,
            });
            for pair in MergeJoin::new(source_stream, target_stream.into_iter().flatten()) {
                if run.cancelled() {
                    break;
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
        delete_phase(run, &to_delete, source_incomplete.get());
    }
}

/// Turns one merge-join step into a job, a skip, or a deletion candidate.
fn decide(run: &Run<'_>, pair: Pair, to_delete: &mut Vec<String>) -> Option<Job> {
    let config = run.config;
    match pair {
        Pair::SourceOnly(source) => Some(Job {
            source,
            target: None,
            compare_etags: false,
        }),
        Pair::TargetOnly(target) => {
            if config.delete {
                to_delete.push(target.key);
            }
            None
        }
        Pair::Both(source, target) => {
            let verdict = if config.remove_modified_filter {
                Verdict::Transfer
            } else {
                diff::check(config.update_check, &source, &target)
            };
            match verdict {
                Verdict::Transfer => Some(Job {
                    source,
                    target: Some(target),
                    compare_etags: false,
                }),
                Verdict::CompareEtags => Some(Job {
                    source,
                    target: Some(target),
                    compare_etags: true,
                }),
                Verdict::Skip(reason) => {
                    log::debug!(key = source.key.as_str(); "object filtered: {reason}.");
                    Stats::add(&run.stats.skipped, 1);
                    None
                }
            }
        }
    }
}

/// Deletes the target-only keys, but only after a clean run with a complete source listing.
fn delete_phase(run: &Run<'_>, to_delete: &[String], source_incomplete: bool) {
    let config = run.config;
    if run.cancelled() || run.stats.snapshot().errors > 0 {
        log::warn!(
            "{} deletions skipped because the run had errors",
            to_delete.len()
        );
        Stats::add(&run.stats.warnings, 1);
        return;
    }
    if source_incomplete {
        log::warn!(
            "{} deletions skipped because parts of the source could not be listed",
            to_delete.len()
        );
        Stats::add(&run.stats.warnings, 1);
        return;
    }
    let limit = config
        .max_delete
        .map_or(to_delete.len(), |m| m.min(to_delete.len() as u64) as usize);
    delete::delete_keys(run.target, &to_delete[..limit], config.dry_run, &run.stats);
    if limit < to_delete.len() {
        log::warn!(
            "--max-delete {limit} reached: {} more objects were not deleted",
            to_delete.len() - limit
        );
        Stats::add(&run.stats.warnings, 1);
    }
}

fn worker<'a>(run: &'a Run<'a>, jobs: Receiver<Job>, upload: &UploadOptions<'_, 'a>) {
    let mut buf = Vec::new();
    for job in jobs {
        if run.cancelled() {
            continue;
        }
        process(run, job, upload, &mut buf);
    }
}

/// Where a key lives on a local side.
fn local_path(store: &Store, key: &str) -> Option<std::path::PathBuf> {
    match store {
        Store::Local(l) => Some(l.path_of(key)),
        Store::S3(_) => None,
    }
}

/// ETag of the target object, from its listing or a HEAD request when the listing lacks it.
fn target_etag(run: &Run<'_>, target: &Entry) -> Result<Option<String>, TransferError> {
    match run.target {
        Store::S3(s3) => match &target.etag {
            Some(e) => Ok(Some(crate::integrity::etag::strip_quotes(e).to_string())),
            None => {
                let head = s3
                    .client()
                    .head_object(s3.bucket(), &s3.full_key(&target.key))
                    .map_err(TransferError::S3)?;
                Ok(head
                    .and_then(|h| h.etag)
                    .map(|e| crate::integrity::etag::strip_quotes(&e).to_string()))
            }
        },
        Store::Local(l) => {
            transfer::local_etag(&l.path_of(&target.key), run.config.layout).map(Some)
        }
    }
}

fn etags_equal(run: &Run<'_>, job: &Job) -> Result<bool, TransferError> {
    let Some(target) = &job.target else {
        return Ok(false);
    };
    let Some(path) = local_path(run.source, &job.source.key) else {
        return Err(TransferError::Io(
            "ETag comparison with an S3 source is not supported yet".into(),
        ));
    };
    let source_etag = transfer::local_etag(&path, run.config.layout)?;
    let target_etag = target_etag(run, target)?;
    let equal = target_etag.as_deref() == Some(source_etag.as_str());
    if equal {
        log::debug!(
            key = job.source.key.as_str(), source_e_tag = source_etag.as_str(),
            target_e_tag = target_etag.as_deref().unwrap_or_default();
            "object filtered: ETags are the same."
        );
    }
    Ok(equal)
}

fn process<'a>(run: &'a Run<'a>, job: Job, upload: &UploadOptions<'_, 'a>, buf: &mut Vec<u8>) {
    let key = job.source.key.as_str();
    let stats = &run.stats;
    if job.compare_etags {
        match etags_equal(run, &job) {
            Ok(true) => {
                Stats::add(&stats.skipped, 1);
                return;
            }
            Ok(false) => {}
            Err(e) => return handle_error(run, key, e),
        }
    }
    let source_last_modified = job.source.last_modified.rfc3339_millis();
    if run.config.dry_run {
        log::info!(
            key = key, source_last_modified = source_last_modified.as_str(), size = job.source.size;
            "[dry-run] sync completed."
        );
        Stats::add(&stats.transferred_objects, 1);
        Stats::add(&stats.transferred_bytes, job.source.size);
        return;
    }
    let result = match (run.source, run.target) {
        (Store::Local(src), Store::S3(dst)) => {
            transfer::upload_file(dst, &src.path_of(key), key, job.source.size, upload, buf).map(|u| {
                if u.verified {
                    Stats::add(&stats.etag_verified, 1);
                    log::debug!(
                        key = key, source_e_tag = u.expected_etag.as_str(), target_e_tag = u.etag.as_str();
                        "e_tag verified."
                    );
                }
                let target_key = dst.full_key(key);
                log::info!(
                    key = key, source_version_id = "", source_last_modified = source_last_modified.as_str(),
                    target_key = target_key.as_str(), size = job.source.size;
                    "sync completed."
                );
            })
        }
        (Store::Local(src), Store::Local(dst)) => {
            let to = dst.path_of(key);
            transfer::copy_local(&src.path_of(key), &to, job.source.size, job.source.last_modified, buf).map(|_| {
                let real_path = to.display().to_string();
                log::info!(key = key, real_path = real_path.as_str(), size = job.source.size; "sync completed.");
            })
        }
        _ => Err(TransferError::Io("this direction is not supported yet".into())),
    };
    match result {
        Ok(()) => {
            Stats::add(&stats.transferred_objects, 1);
            Stats::add(&stats.transferred_bytes, job.source.size);
        }
        Err(e) => handle_error(run, key, e),
    }
}

fn handle_error(run: &Run<'_>, key: &str, e: TransferError) {
    match e {
        TransferError::Cancelled => {}
        TransferError::SourceGone(m) => {
            log::warn!(key = key; "object not found, skipped: {m}");
            Stats::add(&run.stats.warnings, 1);
        }
        e if e.is_fatal() => {
            Stats::add(&run.stats.errors, 1);
            run.fail(format!("{key}: {e}"));
        }
        e => {
            log::error!(key = key; "sync failed: {e}");
            Stats::add(&run.stats.errors, 1);
        }
    }
}

/// Whether `UpdateCheck::Etag` comparisons are possible for this pair of locations.
pub fn etag_check_supported(config: &Config) -> bool {
    config.update_check != UpdateCheck::Etag || matches!(config.source, Location::Local(_))
}
