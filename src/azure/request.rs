//! One Blob REST call as the client takes it ([`Request`], [`Payload`]) and a successful
//! answer as it gives it back ([`Response`], its body streamed by [`BodyReader`]).

use crate::http::body::cancelled;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ureq::http;

use crate::util::rate::RateLimiter;

/// A request body.
pub enum Payload<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes from a source opened again for each attempt.
    Stream {
        len: u64,
        open: &'a (dyn Fn() -> std::io::Result<Box<dyn Read + 'a>> + Sync),
    },
}

impl Payload<'_> {
    pub(super) fn len(&self) -> u64 {
        match self {
            Payload::Empty => 0,
            Payload::Bytes(b) => b.len() as u64,
            Payload::Stream { len, .. } => *len,
        }
    }
}

/// One Blob REST call.
pub struct Request<'a> {
    /// Operation name for errors and logs, e.g. `PutBlob`.
    pub op: &'static str,
    pub method: &'static str,
    pub container: Option<&'a str>,
    pub blob: Option<&'a str>,
    /// Query parameters, not encoded.
    pub query: Vec<(String, String)>,
    /// Extra headers, lower-case names.
    pub headers: Vec<(String, String)>,
    pub payload: Payload<'a>,
}

impl<'a> Request<'a> {
    pub fn new(
        op: &'static str,
        method: &'static str,
        container: Option<&'a str>,
        blob: Option<&'a str>,
    ) -> Request<'a> {
        Request {
            op,
            method,
            container,
            blob,
            query: Vec::new(),
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The header when `value` is set.
    pub fn header_opt(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub fn payload(mut self, payload: Payload<'a>) -> Self {
        self.payload = payload;
        self
    }
}

/// A successful (2xx) answer whose body has not been read yet.
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub(super) body: ureq::Body,
    pub(super) bandwidth: Option<Arc<RateLimiter>>,
    pub(super) cancel: Option<Arc<AtomicBool>>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a stream: paced by the bandwidth limit, failing once the run is stopped.
    pub fn into_reader(self) -> BodyReader {
        BodyReader {
            inner: self.body.into_reader(),
            bandwidth: self.bandwidth,
            cancel: self.cancel,
        }
    }
}

/// The body of a [`Response`].
pub struct BodyReader {
    inner: ureq::BodyReader<'static>,
    bandwidth: Option<Arc<RateLimiter>>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if cancelled(&self.cancel) {
            return Err(std::io::Error::other("the run was stopped"));
        }
        let n = self.inner.read(buf)?;
        if let Some(limiter) = &self.bandwidth {
            limiter.take(n as u64);
        }
        Ok(n)
    }
}

/// An upload body of exactly `left` bytes that fails once the run is stopped, and reads its
/// source once more after the last byte so a source that is itself a response body sees its
/// end and returns its connection to the pool (see [`crate::http::body::Announced`]).
pub(super) struct Outgoing<R> {
    pub(super) inner: R,
    pub(super) left: u64,
    pub(super) cancel: Option<Arc<AtomicBool>>,
}

impl<R: Read> Read for Outgoing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if cancelled(&self.cancel) {
            return Err(std::io::Error::other("the run was stopped"));
        }
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
