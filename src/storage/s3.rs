//! An S3 bucket and prefix as a store.
//!
//! Listing can run in parallel without giving up key order: with a delimiter, one level of
//! the "directory" tree comes back as objects and common prefixes, already in key order, and
//! every key under a common prefix `p/` sorts right where `p/` does. So each level is walked
//! in order while the listings of its next few prefixes run ahead on their own threads, each
//! into a small bounded channel that is drained when its turn comes. Requests in flight are
//! capped by a shared gate (`--max-parallel-listings`); below `--max-parallel-listing-max-depth`
//! a prefix is listed flat.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::{Entry, ListError, ListItem};
use crate::s3::Client;
use crate::s3::ops::ListRequest;
use crate::s3::xml::{ListPage, ListedObject};
use crate::util::time::Timestamp;

/// How listings are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOptions {
    pub max_keys: u32,
    /// Listing requests in flight at once; 1 lists sequentially.
    pub parallel: usize,
    /// Levels of common prefixes listed in parallel (1 = only the first level).
    pub max_depth: usize,
    /// List the objects as they were at this time (`--point-in-time`), each pinned to its
    /// version of then (see [`super::versions`]).
    pub at: Option<Timestamp>,
}

/// Entries queued per prefix listed ahead of its turn (beyond the page its lister holds).
/// A bounded channel allocates all its slots at once: 512 cost 1.3 MiB of peak memory at
/// the default 16 listings, for no speed a no-op sync of 200,000 objects could measure.
const AHEAD_QUEUE: usize = 64;

/// A bucket and key prefix reached through one client.
pub struct S3Store {
    client: Arc<Client>,
    bucket: String,
    prefix: String,
    options: ListOptions,
    /// Set once it was reported that this store ignores HeadObject `partNumber`.
    no_part_numbers_reported: AtomicBool,
    /// Set once the store turned out not to list multipart uploads.
    no_upload_listing: AtomicBool,
}

/// Caps the listing requests in flight across all listing threads.
struct Gate {
    tokens_tx: Sender<()>,
    tokens_rx: Receiver<()>,
}

impl Gate {
    fn new(n: usize) -> Gate {
        let (tokens_tx, tokens_rx) = bounded(n.max(1));
        for _ in 0..n.max(1) {
            let _ = tokens_tx.send(());
        }
        Gate {
            tokens_tx,
            tokens_rx,
        }
    }

    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let _ = self.tokens_rx.recv();
        let out = f();
        let _ = self.tokens_tx.send(());
        out
    }
}

/// Where listed objects go; returns `Ok(false)` to stop.
type Sink<'k> = dyn FnMut(ListedObject) -> Result<bool, ListError> + 'k;

impl S3Store {
    pub fn new(
        client: Arc<Client>,
        bucket: String,
        prefix: String,
        options: ListOptions,
    ) -> S3Store {
        S3Store {
            client,
            bucket,
            prefix,
            options,
            no_part_numbers_reported: AtomicBool::new(false),
            no_upload_listing: AtomicBool::new(false),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn list_options(&self) -> ListOptions {
        self.options
    }

    /// Aborts the multipart uploads left open under exactly `full_key`, before a new upload
    /// of that key starts. A run that was killed (SIGKILL, power loss) leaves its upload
    /// open, and the next run uploads the same key again, so this is where it is found.
    /// An upload another writer has in progress for the same key is aborted too: two writers
    /// of one key cannot both win, and the object itself is not touched. Stores that do not
    /// list uploads are asked once.
    pub fn abort_orphaned_uploads(&self, full_key: &str) {
        if self.no_upload_listing.load(Ordering::Relaxed) {
            return;
        }
        let open = match self.client.list_multipart_uploads(&self.bucket, full_key) {
            Ok(open) => open,
            Err(e) => {
                if !self.no_upload_listing.swap(true, Ordering::Relaxed) {
                    log::debug!(
                        "the target does not list multipart uploads ({e}); open uploads of killed runs are not cleaned up"
                    );
                }
                return;
            }
        };
        for upload in open.iter().filter(|u| u.key == full_key) {
            match self
                .client
                .abort_multipart_upload(&self.bucket, full_key, &upload.upload_id)
            {
                Ok(()) => log::info!(
                    key = full_key, upload_id = upload.upload_id.as_str();
                    "aborted an unfinished multipart upload of this key (left by an interrupted run)"
                ),
                Err(e) => log::warn!(
                    key = full_key, upload_id = upload.upload_id.as_str();
                    "could not abort an unfinished multipart upload of this key: {e}"
                ),
            }
        }
    }

    /// True the first time it is called: for saying once per run that this store does not
    /// tell part sizes.
    pub fn first_report_of_no_part_numbers(&self) -> bool {
        !self.no_part_numbers_reported.swap(true, Ordering::Relaxed)
    }

    /// The full object key of a relative key: the prefix and the key, concatenated as they
    /// are (no `/` is inserted, as in the reference tool).
    pub fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Lists every object under the prefix in UTF-8 byte order of the key. An object whose
    /// key equals the prefix has no relative key and is skipped.
    pub fn list(&self, emit: &mut dyn FnMut(ListItem) -> bool) -> Result<(), ListError> {
        if let Some(at) = self.options.at {
            return self.list_at(at, emit);
        }
        let mut last_key: Option<String> = None;
        let mut sink = |obj: ListedObject| -> Result<bool, ListError> {
            // The merge-join relies on byte order; a store (or a bug) that breaks it must
            // stop the run rather than cause wrong transfers or deletions.
            if last_key.as_ref().is_some_and(|last| *last >= obj.key) {
                return Err(ListError(format!(
                    "s3://{}: the listing is not in key order ('{}' after '{}'); this store is not supported",
                    self.bucket,
                    obj.key,
                    last_key.clone().unwrap_or_default()
                )));
            }
            let Some(relative) = obj.key.strip_prefix(self.prefix.as_str()) else {
                return Ok(true);
            };
            if relative.is_empty() {
                log::debug!(
                    "skipping s3://{}/{}: its key equals the prefix",
                    self.bucket,
                    obj.key
                );
                last_key = Some(obj.key);
                return Ok(true);
            }
            let entry = Entry {
                key: relative.to_string(),
                size: obj.size,
                last_modified: obj.last_modified,
                etag: obj.etag,
                version_id: None,
                checksum_algorithm: obj.checksum_algorithm,
                checksum_type: obj.checksum_type,
            };
            last_key = Some(obj.key);
            Ok(emit(ListItem::Entry(entry)))
        };
        let gate = Gate::new(self.options.parallel);
        if self.options.parallel <= 1 || self.options.max_depth == 0 {
            self.list_flat(&gate, &self.prefix, &mut sink).map(|_| ())
        } else {
            self.list_tree(&gate, &self.prefix, 1, &mut sink)
                .map(|_| ())
        }
    }

    fn page(
        &self,
        gate: &Gate,
        prefix: &str,
        token: Option<&str>,
        delimiter: bool,
    ) -> Result<ListPage, ListError> {
        let args = ListRequest {
            prefix,
            continuation_token: token,
            delimiter: delimiter.then_some("/"),
            max_keys: Some(self.options.max_keys),
            ..ListRequest::default()
        };
        gate.run(|| self.client.list_objects_v2(&self.bucket, &args))
            .map_err(|e| ListError(format!("listing s3://{}/{prefix} failed: {e}", self.bucket)))
    }

    /// Everything under `prefix`, one request at a time.
    fn list_flat(&self, gate: &Gate, prefix: &str, sink: &mut Sink<'_>) -> Result<bool, ListError> {
        let mut token: Option<String> = None;
        loop {
            let page = self.page(gate, prefix, token.as_deref(), false)?;
            for obj in page.objects {
                if !sink(obj)? {
                    return Ok(false);
                }
            }
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return Ok(true),
            }
        }
    }

    /// Everything under `prefix`, its common prefixes listed ahead in parallel.
    fn list_tree(
        &self,
        gate: &Gate,
        prefix: &str,
        depth: usize,
        sink: &mut Sink<'_>,
    ) -> Result<bool, ListError> {
        if depth > self.options.max_depth {
            return self.list_flat(gate, prefix, sink);
        }
        std::thread::scope(|scope| {
            let window = self.options.parallel.max(1);
            let mut token: Option<String> = None;
            loop {
                let page = self.page(gate, prefix, token.as_deref(), true)?;
                let mut ahead: VecDeque<Receiver<Result<ListedObject, ListError>>> =
                    VecDeque::new();
                let mut pending = page.common_prefixes.iter();
                let mut spawn_next = |ahead: &mut VecDeque<_>| {
                    if let Some(child) = pending.next() {
                        let (tx, rx) = bounded(AHEAD_QUEUE);
                        let child = child.clone();
                        scope.spawn(move || {
                            let mut forward = |obj| Ok(tx.send(Ok(obj)).is_ok());
                            if let Err(e) = self.list_tree(gate, &child, depth + 1, &mut forward) {
                                let _ = tx.send(Err(e));
                            }
                        });
                        ahead.push_back(rx);
                    }
                };
                for _ in 0..window {
                    spawn_next(&mut ahead);
                }
                // Objects and prefixes of this page, merged in key order.
                let mut objects = page.objects.into_iter().peekable();
                for common in &page.common_prefixes {
                    while let Some(obj) = objects.next_if(|o| o.key.as_str() < common.as_str()) {
                        if !sink(obj)? {
                            return Ok(false);
                        }
                    }
                    let Some(rx) = ahead.pop_front() else { break };
                    for item in rx {
                        if !sink(item?)? {
                            return Ok(false);
                        }
                    }
                    spawn_next(&mut ahead);
                }
                for obj in objects {
                    if !sink(obj)? {
                        return Ok(false);
                    }
                }
                match page.next_continuation_token {
                    Some(t) if page.is_truncated => token = Some(t),
                    _ => return Ok(true),
                }
            }
        })
    }
}
