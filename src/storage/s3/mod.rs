//! An S3 bucket and prefix as a store.
//!
//! Listing can run in parallel without giving up key order: with a delimiter, one level of
//! the "directory" tree comes back as objects and common prefixes, already in key order, and
//! every key under a common prefix `p/` sorts right where `p/` does. So each level is walked
//! in order while the listings of its next few prefixes run ahead on their own threads, each
//! into a small bounded channel that is drained when its turn comes. Requests in flight are
//! capped by a shared gate (`--max-parallel-listings`); below `--max-parallel-listing-max-depth`
//! a prefix is listed flat.
//!
//! A listing that runs ahead holds its current page until its turn comes, so sixteen of
//! them could hold sixteen pages of 1000 entries: memory that grew with the size of the
//! "directories" rather than staying flat. A shared [`Budget`] therefore caps the entries
//! that listings hold between them (`--object-listing-queue-size`, by default 4000: four
//! full pages). Before a request, a listing sets aside the entries its page is expected to
//! hold and waits while that would pass the cap, the one nearest the front first; the
//! listing whose entries are needed next (the front) never waits, so the walk always moves
//! on. Small pages are cheap, so with many small prefixes all sixteen still run at once.
//!
//! The cap trades memory for latency hiding: listings ahead cover the time a request takes
//! only as far as the cap lets them. Against s3s-fs on loopback four pages listed 200,000
//! objects as fast as sixteen did; with 25 ms added to every request, four pages took about
//! 5 s where sixteen took 3.5-3.7 s (the README has the latest numbers). A larger
//! `--object-listing-queue-size` buys that back.

pub mod convert;
pub mod headers;
pub mod names;
mod pace;
mod requests;
pub mod streams;
#[cfg(test)]
use pace::RECENT_PAGES;
use pace::{Budget, Gate, Held, Pace, Turn};
pub use requests::{CopiedPart, CopyFrom, Fetched, PartHead};

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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
    /// Entries the listings may hold between them (see the module docs).
    pub ahead: usize,
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

    /// A store reached with a new client of `config`.
    pub fn connect(
        config: crate::s3::ClientConfig,
        bucket: String,
        prefix: String,
        options: ListOptions,
    ) -> S3Store {
        S3Store::new(Arc::new(Client::new(config)), bucket, prefix, options)
    }

    /// The S3 client: for the storage layer alone (the engine asks through
    /// [`requests`](self::requests)).
    pub(in crate::storage) fn client(&self) -> &Client {
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

    /// Names the endpoint, region and bucket: records of uploads in progress (the engine's
    /// journal) are kept apart by it.
    pub fn identity(&self) -> String {
        let config = self.client.config();
        let endpoint = &config.endpoint;
        let port = endpoint.port.map(|p| format!(":{p}")).unwrap_or_default();
        let scheme = if endpoint.https { "https" } else { "http" };
        format!(
            "{scheme}://{}{port} {} {}",
            endpoint.host, config.region, self.bucket
        )
    }

    /// Aborts the multipart uploads left open under exactly `full_key`, before a new upload
    /// of that key starts, except `keep` (an upload being resumed). A run that was killed
    /// (SIGKILL, power loss) leaves its upload open, and the next run uploads the same key
    /// again, so this is where it is found. An upload another writer has in progress for the
    /// same key is aborted too: two writers of one key cannot both win, and the object itself
    /// is not touched. Stores that do not list uploads are asked once.
    pub fn abort_orphaned_uploads(&self, full_key: &str, keep: Option<&str>) {
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
        for upload in open
            .iter()
            .filter(|u| u.key == full_key && Some(u.upload_id.as_str()) != keep)
        {
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
    /// key equals the prefix has no relative key: it is listed as skipped.
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
                let name = format!("s3://{}/{}", self.bucket, obj.key);
                last_key = Some(obj.key);
                return Ok(emit(ListItem::Skipped {
                    name,
                    reason: super::KEY_IS_PREFIX,
                }));
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
        let pace = Pace {
            gate: Gate::new(self.options.parallel),
            budget: Budget::new(self.options.max_keys as usize, self.options.ahead),
        };
        let front = Turn::first();
        if self.options.parallel <= 1 || self.options.max_depth == 0 {
            self.list_flat(&pace, &front, &self.prefix, &mut sink)
                .map(|_| ())
        } else {
            self.list_tree(&pace, &front, &self.prefix, 1, &mut sink)
                .map(|_| ())
        }
    }

    /// One page of `prefix`, with the share of the budget it holds.
    fn page<'p>(
        &self,
        pace: &'p Pace,
        turn: &Turn,
        prefix: &str,
        token: Option<&str>,
        delimiter: bool,
    ) -> Result<(ListPage, Held<'p>), ListError> {
        let Some(mut held) = pace.budget.reserve(turn, prefix) else {
            // Nobody reads this: the listing above ended with an error of its own.
            return Err(ListError(format!(
                "listing s3://{}/{prefix} was abandoned",
                self.bucket
            )));
        };
        let args = ListRequest {
            prefix,
            continuation_token: token,
            delimiter: delimiter.then_some("/"),
            max_keys: Some(self.options.max_keys),
            ..ListRequest::default()
        };
        let page = pace
            .gate
            .run(|| self.client.list_objects_v2(&self.bucket, &args))
            .map_err(|e| ListError(format!("listing s3://{}/{prefix} failed: {e}", self.bucket)))?;
        held.settle(page.objects.len() + page.common_prefixes.len());
        Ok((page, held))
    }

    /// Everything under `prefix`, one request at a time.
    fn list_flat(
        &self,
        pace: &Pace,
        turn: &Turn,
        prefix: &str,
        sink: &mut Sink<'_>,
    ) -> Result<bool, ListError> {
        let mut token: Option<String> = None;
        loop {
            let (page, held) = self.page(pace, turn, prefix, token.as_deref(), false)?;
            for obj in page.objects {
                if !sink(obj)? {
                    return Ok(false);
                }
            }
            drop(held);
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return Ok(true),
            }
        }
    }

    /// Everything under `prefix`, its common prefixes listed ahead in parallel.
    fn list_tree(
        &self,
        pace: &Pace,
        turn: &Arc<Turn>,
        prefix: &str,
        depth: usize,
        sink: &mut Sink<'_>,
    ) -> Result<bool, ListError> {
        if depth > self.options.max_depth {
            return self.list_flat(pace, turn, prefix, sink);
        }
        std::thread::scope(|scope| {
            let mut walk = || -> Result<bool, ListError> {
                let window = self.options.parallel.max(1);
                let mut token: Option<String> = None;
                loop {
                    let (page, held) = self.page(pace, turn, prefix, token.as_deref(), true)?;
                    type Ahead = (Receiver<Result<ListedObject, ListError>>, Arc<Turn>);
                    let mut ahead: VecDeque<Ahead> = VecDeque::new();
                    let mut pending = page.common_prefixes.iter();
                    let mut spawn_next = |ahead: &mut VecDeque<_>| {
                        if let Some(child) = pending.next() {
                            let (tx, rx) = bounded(AHEAD_QUEUE);
                            let child = child.clone();
                            let child_turn = Turn::after(turn);
                            let their_turn = Arc::clone(&child_turn);
                            scope.spawn(move || {
                                let mut forward = |obj| Ok(tx.send(Ok(obj)).is_ok());
                                if let Err(e) = self.list_tree(
                                    pace,
                                    &their_turn,
                                    &child,
                                    depth + 1,
                                    &mut forward,
                                ) {
                                    let _ = tx.send(Err(e));
                                }
                            });
                            ahead.push_back((rx, child_turn));
                        }
                    };
                    for _ in 0..window {
                        spawn_next(&mut ahead);
                    }
                    // Objects and prefixes of this page, merged in key order.
                    let mut objects = page.objects.into_iter().peekable();
                    for common in &page.common_prefixes {
                        while let Some(obj) = objects.next_if(|o| o.key.as_str() < common.as_str())
                        {
                            if !sink(obj)? {
                                return Ok(false);
                            }
                        }
                        let Some((rx, child_turn)) = ahead.pop_front() else {
                            break;
                        };
                        pace.budget.start(&child_turn);
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
                    drop(held);
                    match page.next_continuation_token {
                        Some(t) if page.is_truncated => token = Some(t),
                        _ => return Ok(true),
                    }
                }
            };
            let walked = walk();
            // After an early end (an error, or the consumer stopping), the listings under
            // this one that still wait for room must give up, or this scope would wait for
            // them for ever. Listings elsewhere go on: the error may not have reached the
            // consumer yet, and the prefixes before it are still wanted.
            if !matches!(walked, Ok(true)) {
                pace.budget.end(turn);
            }
            walked
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Runs `reserve` for `prefix` on a thread; the receiver gets whether it got room.
    fn reserve_on_thread(
        budget: &Arc<Budget>,
        turn: &Arc<Turn>,
        prefix: &'static str,
    ) -> crossbeam_channel::Receiver<bool> {
        let (tx, rx) = bounded(1);
        let (budget, turn) = (Arc::clone(budget), Arc::clone(turn));
        std::thread::spawn(move || {
            let held = budget.reserve(&turn, prefix);
            let got = held.is_some();
            // Keep the room until the test has seen the answer.
            let _ = tx.send(got);
            std::mem::forget(held);
        });
        rx
    }

    /// `n` pages reserved by the front, which never waits.
    fn front_pages<'b>(budget: &'b Budget, front: &Turn, n: usize) -> Vec<Held<'b>> {
        (0..n)
            .map(|_| budget.reserve(front, "").expect("the walk goes on"))
            .collect()
    }

    const BLOCKED: Duration = Duration::from_millis(150);
    const SOON: Duration = Duration::from_secs(10);

    #[test]
    fn the_front_never_waits_and_listings_ahead_wait_for_room() {
        let budget = Arc::new(Budget::new(10, 40));
        let root = Turn::first();
        // The front may hold more than the whole budget.
        let held = front_pages(&budget, &root, 6);
        let ahead = Turn::after(&root);
        let waiting = reserve_on_thread(&budget, &ahead, "a/");
        assert!(
            waiting.recv_timeout(BLOCKED).is_err(),
            "no room, yet it went"
        );
        // Its turn comes: it goes without room.
        budget.start(&ahead);
        assert_eq!(waiting.recv_timeout(SOON), Ok(true));
        drop(held);
    }

    #[test]
    fn room_given_back_goes_to_the_listing_nearest_the_front() {
        let budget = Arc::new(Budget::new(10, 40));
        let root = Turn::first();
        let pages = front_pages(&budget, &root, 4);
        let later = reserve_on_thread(&budget, &Turn::after(&root), "b/");
        assert!(later.recv_timeout(BLOCKED).is_err());
        let sooner = reserve_on_thread(&budget, &Turn::after(&root), "a/");
        assert!(sooner.recv_timeout(BLOCKED).is_err());
        let mut pages = pages.into_iter();
        drop(pages.next());
        assert_eq!(sooner.recv_timeout(SOON), Ok(true));
        assert!(
            later.recv_timeout(BLOCKED).is_err(),
            "one page freed, two went"
        );
        drop(pages.next());
        assert_eq!(later.recv_timeout(SOON), Ok(true));
    }

    #[test]
    fn small_pages_let_more_listings_run_and_an_early_end_frees_the_waiters_below() {
        let budget = Arc::new(Budget::new(100, 400));
        let root = Turn::first();
        // One small page (the top level's, say) does not make full pages look small.
        let mut top = budget.reserve(&root, "").expect("open");
        top.settle(2);
        assert_eq!(budget.lock().expected(), 100);
        drop(top);
        // A run of pages that come back with 10 entries makes room for more requests.
        let mut small = Vec::new();
        for _ in 0..3 * RECENT_PAGES {
            let mut held = budget.reserve(&Turn::after(&root), "x/").expect("open");
            held.settle(10);
            small.push(held);
        }
        assert_eq!(budget.lock().held, 3 * RECENT_PAGES * 10);
        assert_eq!(budget.lock().expected(), 10);
        // Fill the rest, then two wait.
        let mut full = Vec::new();
        while budget.lock().held < budget.limit {
            full.push(budget.reserve(&root, "").expect("open"));
        }
        let level = Turn::after(&root);
        let waiting = reserve_on_thread(&budget, &Turn::after(&level), "y/z/");
        let beside = reserve_on_thread(&budget, &Turn::after(&root), "y0/");
        assert!(waiting.recv_timeout(BLOCKED).is_err());
        // The level above the first ends early: it gives up, the other still waits.
        budget.end(&level);
        assert_eq!(waiting.recv_timeout(SOON), Ok(false));
        assert!(
            beside.recv_timeout(BLOCKED).is_err(),
            "a listing elsewhere gave up"
        );
        drop((small, full));
        assert_eq!(beside.recv_timeout(SOON), Ok(true));
        // The room taken by the thread above is never given back (it forgets its Held).
        assert_eq!(budget.lock().held, 10, "only the page still held counts");
    }

    #[test]
    fn a_listing_is_at_the_front_only_when_every_consumer_above_it_is() {
        let root = Turn::first();
        let child = Turn::after(&root);
        let grandchild = Turn::after(&child);
        grandchild.started.store(true, Ordering::Release);
        assert!(!grandchild.at_front(), "its parent is still ahead");
        child.started.store(true, Ordering::Release);
        assert!(child.at_front() && grandchild.at_front());
    }
}
