//! Keeping credentials fresh: a thread-safe cache in front of one [`Provider`].
//!
//! Credentials are *fresh* until [`REFRESH_WINDOW`] before they expire and *usable* until
//! [`EXPIRY_MARGIN`] before. Fresh ones are returned as they are. Once they are only usable,
//! one thread fetches new ones while every other thread goes on with the current ones; if
//! that fetch fails, the current ones are kept (with a warning) and the next try waits
//! [`RETRY_PAUSE`]. Without usable credentials, callers wait for one fetch; its failure is
//! remembered for [`FAILURE_HOLD`] so a pool of workers does not queue up behind a source
//! that is down.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::static_keys::StaticKeys;
use super::{CredentialError, Credentials, Expiring, Provider};

/// Refresh credentials that expire within this time.
pub const REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Never sign with credentials that expire within this time.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(15);
/// Pause after a refresh that failed or brought credentials that are not fresh either.
pub const RETRY_PAUSE: Duration = Duration::from_secs(10);
/// How long a failed fetch (without usable credentials) is reported without trying again.
pub const FAILURE_HOLD: Duration = Duration::from_secs(2);

/// The time source; tests inject their own.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

#[derive(Default)]
struct State {
    current: Option<Expiring>,
    /// No refresh of usable credentials before this time.
    next_try: Option<SystemTime>,
    /// The last failed fetch made without usable credentials, and when.
    failure: Option<(SystemTime, CredentialError)>,
}

/// Caches one provider's credentials and refreshes them before they expire. Share it with
/// `Arc`; every clone of a `ClientConfig` shares the same cache.
pub struct CredentialsCache {
    provider: Box<dyn Provider>,
    clock: Clock,
    state: RwLock<State>,
    /// Held by the one thread that is fetching.
    fetching: Mutex<()>,
}

impl std::fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsCache")
            .field("source", &self.provider.name())
            .finish()
    }
}

fn fresh(c: &Expiring, now: SystemTime) -> bool {
    c.expiry.is_none_or(|e| e > now + REFRESH_WINDOW)
}

fn usable(c: &Expiring, now: SystemTime) -> bool {
    c.expiry.is_none_or(|e| e > now + EXPIRY_MARGIN)
}

fn seconds_left(c: &Expiring, now: SystemTime) -> u64 {
    c.expiry
        .and_then(|e| e.duration_since(now).ok())
        .map_or(0, |d| d.as_secs())
}

impl CredentialsCache {
    pub fn new(provider: Box<dyn Provider>) -> CredentialsCache {
        CredentialsCache::with_clock(provider, Arc::new(SystemTime::now))
    }

    pub fn with_clock(provider: Box<dyn Provider>, clock: Clock) -> CredentialsCache {
        CredentialsCache {
            provider,
            clock,
            state: RwLock::new(State::default()),
            fetching: Mutex::new(()),
        }
    }

    /// Fixed credentials that never expire.
    pub fn fixed(credentials: Credentials) -> CredentialsCache {
        CredentialsCache::new(Box::new(StaticKeys::new("fixed credentials", credentials)))
    }

    /// The source's name, for messages.
    pub fn source(&self) -> String {
        self.provider.name()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Credentials to sign a request with now.
    pub fn get(&self) -> Result<Arc<Credentials>, CredentialError> {
        let now = (self.clock)();
        let current = {
            let state = self.read();
            match &state.current {
                Some(c) if fresh(c, now) => return Ok(Arc::clone(&c.credentials)),
                Some(c) if usable(c, now) => {
                    if state.next_try.is_some_and(|t| now < t) {
                        return Ok(Arc::clone(&c.credentials));
                    }
                    Some(c.clone())
                }
                _ => None,
            }
        };
        if let Some(current) = current {
            // Only one thread refreshes; the others sign with what is still valid.
            let Ok(_fetching) = self.fetching.try_lock() else {
                return Ok(current.credentials);
            };
            return Ok(self.refresh(current, now));
        }
        let _fetching = self.fetching.lock().unwrap_or_else(|p| p.into_inner());
        let now = (self.clock)();
        {
            // Another thread may have fetched while this one waited.
            let state = self.read();
            if let Some(c) = state.current.as_ref().filter(|c| usable(c, now)) {
                return Ok(Arc::clone(&c.credentials));
            }
            if let Some((at, e)) = &state.failure
                && now < *at + FAILURE_HOLD
            {
                return Err(e.clone());
            }
        }
        match self.provider.fetch() {
            Ok(fetched) if usable(&fetched, now) => {
                log::debug!(
                    "credentials from {}{}",
                    self.provider.name(),
                    match fetched.expiry {
                        Some(_) => format!(", valid for {} s", seconds_left(&fetched, now)),
                        None => String::new(),
                    }
                );
                let credentials = Arc::clone(&fetched.credentials);
                let mut state = self.write();
                state.current = Some(fetched);
                state.next_try = None;
                state.failure = None;
                Ok(credentials)
            }
            Ok(_) => {
                let e = CredentialError::new(
                    self.provider.name(),
                    "the credentials it gave have expired (or expire within seconds); \
                     check the source and the system clock",
                );
                self.write().failure = Some((now, e.clone()));
                Err(e)
            }
            Err(e) => {
                self.write().failure = Some((now, e.clone()));
                Err(e)
            }
        }
    }

    /// Fetches new credentials while `current` is still usable; keeps `current` on failure.
    fn refresh(&self, current: Expiring, now: SystemTime) -> Arc<Credentials> {
        match self.provider.fetch() {
            Ok(fetched) if usable(&fetched, now) => {
                log::debug!(
                    "credentials from {} refreshed, valid for {} s",
                    self.provider.name(),
                    seconds_left(&fetched, now)
                );
                let credentials = Arc::clone(&fetched.credentials);
                let mut state = self.write();
                state.next_try = (!fresh(&fetched, now)).then(|| now + RETRY_PAUSE);
                state.current = Some(fetched);
                credentials
            }
            outcome => {
                let why = match outcome {
                    Err(e) => e.message,
                    Ok(_) => "it gave credentials that have already expired".to_string(),
                };
                log::warn!(
                    "cannot refresh the credentials from {} ({why}); the current ones stay in \
                     use for {} s more",
                    self.provider.name(),
                    seconds_left(&current, now)
                );
                self.write().next_try = Some(now + RETRY_PAUSE);
                current.credentials
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Barrier, mpsc};

    fn creds(id: &str) -> Credentials {
        Credentials {
            access_key_id: id.into(),
            secret_access_key: format!("{id}-secret"),
            session_token: Some(format!("{id}-token")),
        }
    }

    /// A provider that answers from a script, counting calls.
    struct Scripted {
        answers: Mutex<Vec<Result<Expiring, CredentialError>>>,
        calls: Arc<AtomicU64>,
    }

    impl Provider for Scripted {
        fn name(&self) -> String {
            "scripted".into()
        }
        fn fetch(&self) -> Result<Expiring, CredentialError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
            if answers.is_empty() {
                return Err(CredentialError::new("scripted", "no more answers"));
            }
            answers.remove(0)
        }
    }

    /// A cache over `answers` with a clock the test moves (seconds after `t0`).
    fn cache(
        answers: Vec<Result<Expiring, CredentialError>>,
    ) -> (CredentialsCache, Arc<AtomicU64>, Arc<AtomicU64>, SystemTime) {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let offset = Arc::new(AtomicU64::new(0));
        let calls = Arc::new(AtomicU64::new(0));
        let o = Arc::clone(&offset);
        let clock: Clock = Arc::new(move || t0 + Duration::from_secs(o.load(Ordering::SeqCst)));
        let provider = Scripted {
            answers: Mutex::new(answers),
            calls: Arc::clone(&calls),
        };
        (
            CredentialsCache::with_clock(Box::new(provider), clock),
            offset,
            calls,
            t0,
        )
    }

    fn at(t0: SystemTime, secs: u64, id: &str) -> Result<Expiring, CredentialError> {
        Ok(Expiring::new(
            creds(id),
            Some(t0 + Duration::from_secs(secs)),
        ))
    }

    fn key(c: &CredentialsCache) -> String {
        c.get()
            .map(|c| c.access_key_id.clone())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn refreshes_inside_the_window_and_keeps_valid_ones_on_failure() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (c, clock, calls, _) = cache(vec![
            at(t0, 3600, "one"),
            Err(CredentialError::new("scripted", "down")),
            at(t0, 7200, "two"),
        ]);
        assert_eq!(key(&c), "one");
        clock.store(3000, Ordering::SeqCst);
        assert_eq!(key(&c), "one", "still fresh: no fetch");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Inside the window: the refresh fails, the valid credentials stay in use.
        clock.store(3400, Ordering::SeqCst);
        assert_eq!(key(&c), "one");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // No new attempt during the pause.
        clock.store(3405, Ordering::SeqCst);
        assert_eq!(key(&c), "one");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // After it, the refresh succeeds and the new credentials are used.
        clock.store(3411, Ordering::SeqCst);
        assert_eq!(key(&c), "two");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        clock.store(3500, Ordering::SeqCst);
        assert_eq!(key(&c), "two");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn short_lived_credentials_are_replaced_at_once() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (c, _clock, calls, _) = cache(vec![at(t0, 120, "short"), at(t0, 3600, "long")]);
        assert_eq!(key(&c), "short");
        assert_eq!(key(&c), "long");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn expired_credentials_are_never_used() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (c, clock, calls, _) = cache(vec![
            at(t0, 600, "one"),
            Err(CredentialError::new("scripted", "down")),
            at(t0, 9000, "two"),
        ]);
        assert_eq!(key(&c), "one");
        clock.store(590, Ordering::SeqCst);
        assert_eq!(key(&c), "error: scripted: down");
        // The failure is remembered briefly, then the source is asked again.
        assert_eq!(key(&c), "error: scripted: down");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        clock.store(593, Ordering::SeqCst);
        assert_eq!(key(&c), "two");
        // Credentials that are already expired when fetched are refused.
        let (c, _, _, _) = cache(vec![at(t0, 5, "stale")]);
        assert!(key(&c).contains("expired"), "{}", key(&c));
    }

    #[test]
    fn one_thread_refreshes_while_the_others_sign() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let entered = Arc::new(Barrier::new(2));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        struct Slow {
            entered: Arc<Barrier>,
            release: Mutex<mpsc::Receiver<()>>,
            t0: SystemTime,
            calls: AtomicU64,
        }
        impl Provider for Slow {
            fn name(&self) -> String {
                "slow".into()
            }
            fn fetch(&self) -> Result<Expiring, CredentialError> {
                if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Ok(Expiring::new(
                        creds("old"),
                        Some(self.t0 + Duration::from_secs(200)),
                    ));
                }
                self.entered.wait();
                let _ = self
                    .release
                    .lock()
                    .map(|r| r.recv_timeout(Duration::from_secs(10)));
                Ok(Expiring::new(
                    creds("new"),
                    Some(self.t0 + Duration::from_secs(3600)),
                ))
            }
        }
        let slow = Slow {
            entered: Arc::clone(&entered),
            release: Mutex::new(release_rx),
            t0,
            calls: AtomicU64::new(0),
        };
        let c = Arc::new(CredentialsCache::with_clock(
            Box::new(slow),
            Arc::new(move || t0),
        ));
        // The first fetch has nothing to fall back on.
        assert_eq!(key(&c), "old");
        let refresher = {
            let c = Arc::clone(&c);
            std::thread::spawn(move || key(&c))
        };
        // While the refresher is inside the provider, other callers get the old ones at once.
        entered.wait();
        assert_eq!(key(&c), "old");
        assert_eq!(key(&c), "old");
        let _ = release_tx.send(());
        assert_eq!(refresher.join().unwrap_or_default(), "new");
        assert_eq!(key(&c), "new");
    }

    #[test]
    fn debug_shows_the_source_only() {
        let c = CredentialsCache::fixed(creds("AKIDSHOWN"));
        assert_eq!(key(&c), "AKIDSHOWN");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("token"),
            "{shown}"
        );
    }
}
