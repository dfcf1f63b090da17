//! An S3 answer: its status and headers, and its body streamed through readers that stop
//! when the run is cancelled, announce themselves to the rate limiter, and remember a read
//! failure for the retry decision.

use super::error::S3Error;
use crate::http::body::{Cancellable, MAX_TEXT_BODY};
use crate::util::rate::RateLimiter;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use ureq::http;

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
