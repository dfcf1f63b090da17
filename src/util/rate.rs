//! Token buckets for `--rate-limit-objects` and `--rate-limit-bandwidth`: one bucket shared by
//! every thread, refilled continuously at the rate, holding at most one second's worth, so
//! short bursts are smoothed and the long-run rate never exceeds the limit.

use std::io::{self, Read};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A shared token bucket. Taking blocks the caller until the tokens are there.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A bucket of `per_second` tokens a second (at least 1), starting full.
    pub fn new(per_second: u64) -> RateLimiter {
        let per_second = per_second.max(1) as f64;
        RateLimiter {
            per_second,
            state: Mutex::new(Bucket {
                tokens: per_second,
                last: Instant::now(),
            }),
        }
    }

    /// Takes `n` tokens, waiting as long as the rate requires. Amounts above one second's
    /// worth are taken in installments, so a large part is paced, not refused.
    pub fn take(&self, n: u64) {
        let mut left = n as f64;
        while left > 0.0 {
            let want = left.min(self.per_second);
            let wait = {
                let Ok(mut b) = self.state.lock() else {
                    return;
                };
                let now = Instant::now();
                let refill = now.duration_since(b.last).as_secs_f64() * self.per_second;
                b.tokens = (b.tokens + refill).min(self.per_second);
                b.last = now;
                // Taking into debt and sleeping it off keeps waiters in arrival order
                // without a queue: each later taker sees the debt and waits longer.
                b.tokens -= want;
                if b.tokens >= 0.0 {
                    Duration::ZERO
                } else {
                    Duration::from_secs_f64(-b.tokens / self.per_second)
                }
            };
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            left -= want;
        }
    }
}

/// A reader whose bytes are paid for from a [`RateLimiter`] as they are read.
pub struct Throttled<'l, R> {
    inner: R,
    limiter: &'l RateLimiter,
}

impl<'l, R: Read> Throttled<'l, R> {
    pub fn new(inner: R, limiter: &'l RateLimiter) -> Self {
        Throttled { inner, limiter }
    }
}

impl<R: Read> Read for Throttled<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.limiter.take(n as u64);
        Ok(n)
    }
}

/// Per-second rate; a run shorter than a second reports its totals, as the reference does.
pub fn per_second(total: u64, elapsed: std::time::Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs < 1.0 {
        total
    } else {
        (total as f64 / secs) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_then_the_rate() {
        let limiter = RateLimiter::new(1000);
        let start = Instant::now();
        limiter.take(1000); // the initial second's worth: no wait
        assert!(start.elapsed() < Duration::from_millis(500));
        limiter.take(500); // half a second of debt
        assert!(start.elapsed() >= Duration::from_millis(450));
    }

    #[test]
    fn large_amounts_are_paced_in_installments() {
        let limiter = RateLimiter::new(4000);
        let start = Instant::now();
        limiter.take(10_000); // 4000 at once, then 6000 more at 4000/s
        assert!(
            start.elapsed() >= Duration::from_millis(1400),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn throttled_reads_pass_bytes_through() {
        let limiter = RateLimiter::new(1 << 20);
        let mut out = Vec::new();
        Throttled::new(&b"hello"[..], &limiter)
            .read_to_end(&mut out)
            .unwrap_or_default();
        assert_eq!(out, b"hello");
    }
}
