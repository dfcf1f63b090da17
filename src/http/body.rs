//! Readers wrapped around request and response bodies: one that fails once the run is
//! stopped, one that sends exactly the announced length and lets its source see its end,
//! and one that remembers a read failure while a response is parsed.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A request body, as every client takes it.
pub enum Payload<'a> {
    Empty,
    /// Bytes in memory; an S3 client hashes them for the signature unless payload signing
    /// is off.
    Bytes(&'a [u8]),
    /// `len` bytes from a source opened again for each attempt.
    Stream {
        len: u64,
        /// Hex SHA-256 of the body when known (S3 signs with it; `None` sends
        /// `UNSIGNED-PAYLOAD`). Other services ignore it.
        sha256: Option<String>,
        open: &'a (dyn Fn() -> std::io::Result<Box<dyn Read + 'a>> + Sync),
    },
}

impl Payload<'_> {
    /// How many bytes the body holds.
    pub fn len(&self) -> u64 {
        match self {
            Payload::Empty => 0,
            Payload::Bytes(b) => b.len() as u64,
            Payload::Stream { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Largest response body we read into memory (list pages and error documents are far smaller).
pub const MAX_TEXT_BODY: u64 = 64 << 20;

/// Fails reads once the flag is set.
pub struct Cancellable<R> {
    pub inner: R,
    pub cancel: Option<Arc<AtomicBool>>,
}

pub fn cancelled(flag: &Option<Arc<AtomicBool>>) -> bool {
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
pub struct Announced<R> {
    pub inner: R,
    pub left: u64,
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

/// Bytes read from a response at a time while it is parsed.
pub const PARSE_BUFFER: usize = 16 << 10;

/// A body being parsed, remembering a read failure: the parser reports it as its own
/// error, and the failure decides whether the attempt is retried.
pub struct WatchedReader<R> {
    pub inner: R,
    pub failure: Option<std::io::Error>,
}

impl<R: Read> Read for WatchedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failure = Some(std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}
