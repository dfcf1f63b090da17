//! Retrying a request: the attempt and operation time limits, the stop flag, bounded
//! attempts and the jittered exponential pause between them. Both clients run every request
//! through [`with_retries`]; each decides for itself which of its errors are retryable.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::body::cancelled;
use crate::util::rate::RateLimiter;

/// Stalled-stream protection: an attempt whose body moves no byte for this long fails (and
/// is retried), unless `--disable-stalled-stream-protection` or a read timeout is given.
pub const STALL_WINDOW: Duration = Duration::from_secs(60);

/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// How long requests may take and how fast they may move bytes.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// One request, every attempt and pause included.
    pub operation_timeout: Option<Duration>,
    /// One attempt, its body included.
    pub attempt_timeout: Option<Duration>,
    /// Fail an attempt whose transfer stalls for [`STALL_WINDOW`].
    pub stalled_stream_protection: bool,
    /// Bytes per second over the network, shared by everything using this limiter.
    pub bandwidth: Option<Arc<RateLimiter>>,
    /// Once set, bodies stop moving (uploads and downloads fail at their next read) and
    /// failed requests are not retried; requests without a streamed body (abort, delete)
    /// are still sent, so cleanup can run.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// How a client retries: attempts, first pause, and the time limits and stop flag.
pub struct RetryPolicy<'l> {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub limits: &'l Limits,
}

/// Runs `attempt_fn` until it succeeds, fails for good, or the attempts or the operation
/// time run out; each attempt is given its time budget (`None`: unlimited). Shared by the
/// S3 and Blob clients; `out_of_time` is the error when the operation timeout is spent.
pub fn with_retries<T, E: std::fmt::Display>(
    op: &'static str,
    policy: &RetryPolicy<'_>,
    is_retryable: impl Fn(&E) -> bool,
    mut attempt_fn: impl FnMut(Option<Duration>) -> Result<T, E>,
    out_of_time: impl Fn() -> E,
) -> Result<T, E> {
    let attempts = policy.max_attempts.max(1);
    let limits = policy.limits;
    let deadline = limits.operation_timeout.map(|t| Instant::now() + t);
    let mut attempt = 1;
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let budget = match (left, limits.attempt_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if budget.is_some_and(|b| b.is_zero()) {
            return Err(out_of_time());
        }
        match attempt_fn(budget) {
            Ok(v) => return Ok(v),
            Err(e) if is_retryable(&e) && attempt < attempts && !cancelled(&limits.cancel) => {
                let pause = backoff(policy.initial_backoff, attempt);
                if deadline.is_some_and(|d| Instant::now() + pause >= d) {
                    return Err(e);
                }
                log::debug!(
                    "{op}: attempt {attempt} of {attempts} failed ({e}); retrying in {pause:?}"
                );
                std::thread::sleep(pause);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Exponential backoff with jitter: a random pause between half and all of
/// `initial * 2^(attempt-1)`, capped at `MAX_BACKOFF`.
pub fn backoff(initial: Duration, attempt: u32) -> Duration {
    let base = initial
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(MAX_BACKOFF);
    let random = RandomState::new().build_hasher().finish();
    let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
    base.mul_f64(fraction)
}

/// How long one socket read or write may wait: `--read-timeout-milliseconds` when given,
/// else the stalled-stream window unless that protection is off.
pub fn per_io_timeout(read_timeout: Option<Duration>, stall_protection: bool) -> Option<Duration> {
    read_timeout.or(stall_protection.then_some(STALL_WINDOW))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalled_body_fails_after_sixty_seconds_by_default() {
        assert_eq!(per_io_timeout(None, true), Some(Duration::from_secs(60)));
        assert_eq!(per_io_timeout(None, false), None);
        let given = Some(Duration::from_millis(1500));
        assert_eq!(per_io_timeout(given, true), given);
        assert_eq!(per_io_timeout(given, false), given);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(Duration::from_millis(100), 1);
        assert!(
            first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
            "{first:?}"
        );
        let fourth = backoff(Duration::from_millis(100), 4);
        assert!(
            fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800),
            "{fourth:?}"
        );
        assert!(backoff(Duration::from_millis(100), 30) <= MAX_BACKOFF);
    }
}
