//! How the parallel listings of one walk are paced: a gate on the requests in flight, a
//! budget of listed entries held between them, and the turn that decides whose page goes
//! first, so memory stays flat and key order is kept.

use super::*;

/// Caps the listing requests in flight across all listing threads.
pub(super) struct Gate {
    pub(super) tokens_tx: Sender<()>,
    pub(super) tokens_rx: Receiver<()>,
}

impl Gate {
    pub(super) fn new(n: usize) -> Gate {
        let (tokens_tx, tokens_rx) = bounded(n.max(1));
        for _ in 0..n.max(1) {
            let _ = tokens_tx.send(());
        }
        Gate {
            tokens_tx,
            tokens_rx,
        }
    }

    pub(super) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let _ = self.tokens_rx.recv();
        let out = f();
        let _ = self.tokens_tx.send(());
        out
    }
}

/// Caps the listed entries held by the listings of one walk.
pub(super) struct Budget {
    pub(super) state: Mutex<BudgetState>,
    pub(super) changed: Condvar,
    pub(super) limit: usize,
}

/// Pages whose sizes make the estimate of the next one (see [`BudgetState::recent`]).
pub(super) const RECENT_PAGES: usize = 8;

pub(super) struct BudgetState {
    /// Entries held by pages, or set aside for pages requested.
    pub(super) held: usize,
    /// Entries in the most recent pages (full pages at first). The next page is expected
    /// to hold as many as the largest of them: a small first page (the top level's few
    /// prefixes, say) must not let many requests for full pages go at once, while after a
    /// run of small pages many requests may.
    pub(super) recent: [usize; RECENT_PAGES],
    /// Pages settled so far (where the next size goes in `recent`).
    pub(super) settled: usize,
    /// Prefixes of the listings waiting for room. The first in key order is the nearest to
    /// the front and goes first: room given to a listing far ahead would leave the next
    /// prefix unlisted when its turn comes.
    pub(super) waiting: BTreeSet<String>,
}

/// Entries of the budget held by one page; given back when dropped.
pub(super) struct Held<'b> {
    pub(super) budget: &'b Budget,
    pub(super) entries: usize,
}

/// Where a listing stands in the walk: it is at the front when its consumer has started
/// draining it and that consumer is at the front too.
pub(super) struct Turn {
    pub(super) started: AtomicBool,
    /// This listing ended early (an error, or its consumer stopped): the listings under it
    /// are no longer wanted.
    pub(super) ended: AtomicBool,
    pub(super) parent: Option<Arc<Turn>>,
}

impl Turn {
    pub(super) fn first() -> Arc<Turn> {
        Arc::new(Turn {
            started: AtomicBool::new(true),
            ended: AtomicBool::new(false),
            parent: None,
        })
    }

    pub(super) fn after(parent: &Arc<Turn>) -> Arc<Turn> {
        Arc::new(Turn {
            started: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            parent: Some(Arc::clone(parent)),
        })
    }

    pub(super) fn at_front(&self) -> bool {
        self.started.load(Ordering::Acquire) && self.parent.as_ref().is_none_or(|p| p.at_front())
    }

    /// Whether a listing above this one ended early, so that this one is not wanted.
    pub(super) fn abandoned(&self) -> bool {
        self.parent
            .as_ref()
            .is_some_and(|p| p.ended.load(Ordering::Acquire) || p.abandoned())
    }
}

impl Budget {
    /// A budget of `limit` entries for pages of up to `page` entries.
    pub(super) fn new(page: usize, limit: usize) -> Budget {
        Budget {
            state: Mutex::new(BudgetState {
                held: 0,
                recent: [page.max(1); RECENT_PAGES],
                settled: 0,
                waiting: BTreeSet::new(),
            }),
            changed: Condvar::new(),
            limit: limit.max(1),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets aside room for the page that the listing of `prefix` at `turn` is about to
    /// request, waiting while the budget is spent or a listing nearer the front waits too.
    /// `None` when a listing above it ended early: its pages are no longer wanted.
    pub(super) fn reserve(&self, turn: &Turn, prefix: &str) -> Option<Held<'_>> {
        let mut state = self.lock();
        let entries = state.expected();
        let must_wait = |state: &BudgetState| {
            let full = state.held > 0 && state.held + entries > self.limit;
            let behind = state.waiting.first().is_some_and(|first| first != prefix);
            (full || behind) && !turn.at_front() && !turn.abandoned()
        };
        if must_wait(&state) {
            state.waiting.insert(prefix.to_string());
            while must_wait(&state) {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.waiting.remove(prefix);
            // The next in line may go now.
            self.changed.notify_all();
        }
        if turn.abandoned() {
            return None;
        }
        state.held += entries;
        Some(Held {
            budget: self,
            entries,
        })
    }

    /// Marks `turn` as being drained by its consumer: it, and the listings under it that
    /// are drained, stop waiting for room.
    pub(super) fn start(&self, turn: &Turn) {
        turn.started.store(true, Ordering::Release);
        self.wake(|_| {});
    }

    /// Marks `turn` as ended early, so that the listings under it stop waiting for room.
    pub(super) fn end(&self, turn: &Turn) {
        turn.ended.store(true, Ordering::Release);
        self.wake(|_| {});
    }

    /// Changes the state and wakes the listings waiting for room.
    pub(super) fn wake(&self, change: impl FnOnce(&mut BudgetState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }
}

impl BudgetState {
    pub(super) fn expected(&self) -> usize {
        self.recent.iter().copied().max().unwrap_or(1).max(1)
    }
}

impl Held<'_> {
    /// The page arrived with `entries` entries: hold that many instead of the estimate.
    pub(super) fn settle(&mut self, entries: usize) {
        let set_aside = std::mem::replace(&mut self.entries, entries);
        self.budget.wake(|s| {
            s.held = s.held + entries - set_aside;
            s.recent[s.settled % RECENT_PAGES] = entries;
            s.settled += 1;
        });
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let entries = self.entries;
        self.budget.wake(|s| s.held -= entries);
    }
}

/// What the listing threads of one walk share.
pub(super) struct Pace {
    pub(super) gate: Gate,
    pub(super) budget: Budget,
}
