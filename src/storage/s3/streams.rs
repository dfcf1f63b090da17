//! S3 request bodies streamed from another object, for the S3 → S3 copy that passes the
//! bytes through: a (ranged) GET that is asked again when a retry needs the bytes once
//! more, hashing what passes; and the `aws-chunked` framing that sends an additional
//! checksum, computed as the bytes pass, as a trailer.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use super::{Fetched, S3Store};
use crate::http::body::Payload;
use crate::integrity::checksum::{Algorithm, Hasher};
use crate::s3::{Client, Response};

/// Feeds what passes through a reader to a shared MD5.
pub struct Hashing<R> {
    inner: R,
    md5: Arc<Mutex<Md5>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.md5.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The body of a GET to be streamed into a PUT: the first attempt reads the response already
/// received, a retry asks the source again. The MD5 restarts with every attempt, so after the
/// PUT it is the digest of exactly the bytes that were sent.
pub struct ReGet<'c> {
    client: &'c Client,
    bucket: &'c str,
    key: &'c str,
    /// The version read, when one is named (every retry reads the same one).
    version_id: Option<&'c str>,
    range: Option<(u64, u64)>,
    first: Mutex<Option<Response>>,
    md5: Arc<Mutex<Md5>>,
}

impl<'c> ReGet<'c> {
    /// `first` is the answer to the GET of `key` (full key) already received from `store`.
    pub fn new(
        store: &'c S3Store,
        key: &'c str,
        version_id: Option<&'c str>,
        range: Option<(u64, u64)>,
        first: Fetched,
    ) -> Self {
        ReGet {
            client: store.client(),
            bucket: store.bucket(),
            key,
            version_id,
            range,
            first: Mutex::new(Some(first.0)),
            md5: Arc::new(Mutex::new(Md5::new())),
        }
    }

    /// A reader over the object's bytes, for one attempt.
    pub fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        let resp = match self.first.lock().ok().and_then(|mut f| f.take()) {
            Some(r) => r,
            None => self
                .client
                .get_object_version(self.bucket, self.key, self.version_id, self.range)
                .map_err(io::Error::other)?,
        };
        if let Ok(mut h) = self.md5.lock() {
            *h = Md5::new();
        }
        Ok(Box::new(Hashing {
            inner: resp.into_reader(),
            md5: Arc::clone(&self.md5),
        }))
    }

    /// MD5 of the bytes the last attempt read.
    pub fn md5(&self) -> Option<[u8; 16]> {
        self.md5.lock().ok().map(|h| h.clone().finalize().into())
    }
}

/// The `x-amz-content-sha256` of a body sent with a [`Trailer`].
pub const STREAMING_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Data bytes per aws-chunked frame.
const FRAME: u64 = 64 << 10;

/// An additional checksum for a streamed body whose bytes are not known in advance (a
/// stream from another object): the body goes out in the `aws-chunked` encoding and the
/// checksum, computed as the bytes pass, follows it as a trailer.
pub struct Trailer {
    algorithm: Algorithm,
    len: u64,
    /// The raw checksum of the last complete pass over the body.
    result: Arc<Mutex<Option<Vec<u8>>>>,
}

impl Trailer {
    /// A trailer of `algorithm` for a body of `len` bytes.
    pub fn new(algorithm: Algorithm, len: u64) -> Trailer {
        Trailer {
            algorithm,
            len,
            result: Arc::new(Mutex::new(None)),
        }
    }

    /// The body of one attempt, framed; without a trailer, the body as it is.
    pub fn wrap<'r>(trailer: Option<&Trailer>, inner: Box<dyn Read + 'r>) -> Box<dyn Read + 'r> {
        match trailer {
            Some(t) => Box::new(AwsChunked {
                inner,
                algorithm: t.algorithm,
                hasher: Hasher::new(t.algorithm),
                left: t.len,
                pending: Vec::new(),
                at: 0,
                finished: false,
                result: Arc::clone(&t.result),
            }),
            None => inner,
        }
    }

    /// The request body of `len` bytes read through `open`: framed, with the trailer's
    /// length and payload hash, when there is a trailer.
    pub fn payload<'a>(
        trailer: Option<&Trailer>,
        len: u64,
        open: &'a (dyn Fn() -> io::Result<Box<dyn Read + 'a>> + Sync),
    ) -> Payload<'a> {
        Payload::Stream {
            len: trailer.map_or(len, Trailer::wire_len),
            sha256: trailer.map(|_| STREAMING_TRAILER.to_string()),
            open,
        }
    }

    /// Bytes on the wire: the Content-Length of the request.
    fn wire_len(&self) -> u64 {
        let frame = |n: u64| format!("{n:x}").len() as u64 + 2 + n + 2;
        let mut total = (self.len / FRAME) * frame(FRAME);
        if !self.len.is_multiple_of(FRAME) {
            total += frame(self.len % FRAME);
        }
        let value_len = (self.algorithm.width() as u64).div_ceil(3) * 4;
        total + 3 + self.algorithm.header().len() as u64 + 1 + value_len + 2 + 2
    }

    /// The headers announcing the framed body; the object's own `Content-Encoding`, if it
    /// has one, stays after `aws-chunked`.
    pub fn headers(&self, content_encoding: Option<&str>) -> Vec<(String, String)> {
        let encoding = match content_encoding {
            Some(e) => format!("aws-chunked,{e}"),
            None => "aws-chunked".to_string(),
        };
        vec![
            ("content-encoding".into(), encoding),
            ("x-amz-decoded-content-length".into(), self.len.to_string()),
            ("x-amz-trailer".into(), self.algorithm.header().into()),
            (
                "x-amz-sdk-checksum-algorithm".into(),
                self.algorithm.name().into(),
            ),
        ]
    }

    /// The raw checksum of the bytes of the last complete pass, once one finished.
    pub fn raw(&self) -> Option<Vec<u8>> {
        self.result.lock().ok().and_then(|r| r.clone())
    }
}

/// The framing reader behind [`Trailer::wrap`].
struct AwsChunked<R> {
    inner: R,
    algorithm: Algorithm,
    hasher: Hasher,
    left: u64,
    /// The current frame, encoded, and how far it was handed out (reused frame to frame).
    pending: Vec<u8>,
    at: usize,
    finished: bool,
    result: Arc<Mutex<Option<Vec<u8>>>>,
}

impl<R: Read> AwsChunked<R> {
    fn refill(&mut self) -> io::Result<()> {
        self.pending.clear();
        self.at = 0;
        if self.left == 0 {
            let raw = self.hasher.finish_reset();
            let value = crate::integrity::checksum::encode(&raw);
            if let Ok(mut slot) = self.result.lock() {
                *slot = Some(raw);
            }
            self.pending.extend_from_slice(
                format!("0\r\n{}:{value}\r\n\r\n", self.algorithm.header()).as_bytes(),
            );
            self.finished = true;
            return Ok(());
        }
        let want = self.left.min(FRAME) as usize;
        self.pending
            .extend_from_slice(format!("{want:x}\r\n").as_bytes());
        let start = self.pending.len();
        self.pending.resize(start + want, 0);
        let mut filled = start;
        while filled < start + want {
            match self.inner.read(&mut self.pending[filled..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the source ended before its announced length",
                    ));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.hasher.update(&self.pending[start..]);
        self.left -= want as u64;
        self.pending.extend_from_slice(b"\r\n");
        Ok(())
    }
}

impl<R: Read> Read for AwsChunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.pending.len() {
            if self.finished {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_frames_and_trails() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
        for len in [0usize, 5, 65_536, 150_000] {
            let trailer = Trailer::new(Algorithm::Crc32, len as u64);
            let mut out = Vec::new();
            let _ = Trailer::wrap(Some(&trailer), Box::new(&data[..len])).read_to_end(&mut out);
            assert_eq!(out.len() as u64, trailer.wire_len());
            let text = String::from_utf8_lossy(&out);
            let sum = crate::integrity::checksum::of(Algorithm::Crc32, &data[..len]);
            assert!(
                text.ends_with(&format!("0\r\nx-amz-checksum-crc32:{sum}\r\n\r\n")),
                "{len}"
            );
            let raw = trailer.raw().unwrap_or_default();
            assert_eq!(crate::integrity::checksum::encode(&raw), sum);
        }
        let short = Trailer::new(Algorithm::Sha256, 20);
        let mut reader = Trailer::wrap(Some(&short), Box::new(&data[..10]));
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
        assert_eq!(
            short.headers(Some("gzip"))[0],
            (
                "content-encoding".to_string(),
                "aws-chunked,gzip".to_string()
            )
        );
    }
}
