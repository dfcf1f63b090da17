//! An S3 answer: its status and headers, and its body streamed through readers that stop
//! when the run is cancelled, announce themselves to the rate limiter, and remember a read
//! failure for the retry decision.

use super::error::S3Error;
use crate::util::rate::RateLimiter;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use ureq::http;

/// Largest response body we read into memory (list pages and error documents are far smaller).
pub(crate) const MAX_TEXT_BODY: u64 = 64 << 20;

/// Fails reads once the flag is set.
pub(crate) struct Cancellable<R> {
    pub(crate) inner: R,
    pub(crate) cancel: Option<Arc<AtomicBool>>,
}

pub(crate) fn cancelled(flag: &Option<Arc<AtomicBool>>) -> bool {
    flag.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if cancelled(&self.cancel) {
            return Err(std::io::Error::other("the run was stopped"));
        }
        self.inner.read(buf)
    }
}

/// A request body of `left` bytes that reads its source once more after the last byte. The
/// HTTP layer stops at Content-Length; without that last read a source that is itself a
/// response body (an S3 → S3 copy streams a GET into a PUT) never sees its end, and its
/// connection is dropped instead of going back to the pool: one new TCP connection (and
/// its buffers) per object copied. Bytes beyond `left` are not sent.
pub(crate) struct Announced<R> {
    pub(crate) inner: R,
    pub(crate) left: u64,
}

impl<R: Read> Read for Announced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        if self.left == 0 && n > 0 {
            let _ = self.inner.read(&mut [0u8; 1]);
        }
        Ok(n)
    }
}

/// A successful (2xx) answer whose body has not been read yet.
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub(crate) body: ureq::Body,
    pub(crate) bandwidth: Option<Arc<RateLimiter>>,
    pub(crate) cancel: Option<Arc<AtomicBool>>,
}

/// The body of a [`Response`] as a stream, paced by the bandwidth limit if there is one.
pub struct BodyReader {
    pub(crate) inner: Cancellable<ureq::BodyReader<'static>>,
    pub(crate) bandwidth: Option<Arc<RateLimiter>>,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(limiter) = &self.bandwidth {
            limiter.take(n as u64);
        }
        Ok(n)
    }
}

impl Response {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a stream.
    pub fn into_reader(self) -> BodyReader {
        BodyReader {
            inner: Cancellable {
                inner: self.body.into_reader(),
                cancel: self.cancel,
            },
            bandwidth: self.bandwidth,
        }
    }

    pub(crate) fn text(mut self, op: &'static str) -> Result<String, S3Error> {
        self.body
            .with_config()
            .limit(MAX_TEXT_BODY)
            .read_to_string()
            .map_err(|e| S3Error::transport(op, format!("reading the response failed: {e}"), true))
    }
}

/// Bytes read from a response at a time while it is parsed.
pub(crate) const PARSE_BUFFER: usize = 16 << 10;

/// A body being parsed, remembering a read failure: the parser reports it as its own
/// error, and the failure decides whether the attempt is retried.
pub(crate) struct WatchedReader<R> {
    pub(crate) inner: R,
    pub(crate) failure: Option<std::io::Error>,
}

impl<R: Read> Read for WatchedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failure = Some(std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

/// Status and headers of a response whose body was read separately.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: http::HeaderMap,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) fn status_code_name(status: u16) -> &'static str {
    match status {
        301 => "PermanentRedirect",
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        412 => "PreconditionFailed",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        _ => "",
    }
}

pub(crate) fn transport_error(op: &'static str, authority: &str, e: ureq::Error) -> S3Error {
    let text = e.to_string();
    // rustls reports certificate failures through an I/O error; no retry can fix those.
    if text.contains("invalid peer certificate") {
        return S3Error::transport(
            op,
            format!(
                "{text} ({authority}): the server's TLS certificate is not trusted; if it comes \
                 from a private certificate authority, point AWS_CA_BUNDLE at that CA's PEM file"
            ),
            false,
        );
    }
    let retryable = matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    );
    S3Error::transport(op, format!("{text} ({authority})"), retryable)
}
