//! Readers that let a request body be streamed and re-sent on retry without holding it in
//! memory: a byte range of a local file, and a (ranged) GET that is asked again when a retry
//! needs the bytes once more. Both hash what passes through them.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use crate::integrity::checksum::{Algorithm, Hasher};
use crate::s3::{Client, Response};

/// Reads `len` bytes of a file from `offset`, without moving any shared file position.
pub struct RangeReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl RangeReader {
    pub fn new(file: Arc<File>, offset: u64, len: u64) -> RangeReader {
        RangeReader {
            file,
            pos: offset,
            end: offset + len,
        }
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.file, &mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being read",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(offset))?;
        f.read(buf)
    }
}

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
    range: Option<(u64, u64)>,
    first: Mutex<Option<Response>>,
    md5: Arc<Mutex<Md5>>,
}

impl<'c> ReGet<'c> {
    pub fn new(
        client: &'c Client,
        bucket: &'c str,
        key: &'c str,
        range: Option<(u64, u64)>,
        first: Response,
    ) -> Self {
        ReGet {
            client,
            bucket,
            key,
            range,
            first: Mutex::new(Some(first)),
            md5: Arc::new(Mutex::new(Md5::new())),
        }
    }

    /// A reader over the object's bytes, for one attempt.
    pub fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        let resp = match self.first.lock().ok().and_then(|mut f| f.take()) {
            Some(r) => r,
            None => self
                .client
                .get_object(self.bucket, self.key, self.range)
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

/// The `x-amz-content-sha256` of a body sent as [`AwsChunked`].
pub const STREAMING_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Data bytes per aws-chunked frame.
const FRAME: u64 = 64 << 10;

/// Frames a body of a known length in the `aws-chunked` encoding and appends its additional
/// checksum as a trailer, computed while the bytes pass: how a body whose checksum is not
/// known in advance (a stream from another object) is sent with one. The raw checksum of the
/// last complete pass is left in the shared slot.
pub struct AwsChunked<R> {
    inner: R,
    algorithm: Algorithm,
    hasher: Hasher,
    left: u64,
    /// Encoded bytes ready to hand out, and how far they were handed out.
    pending: Vec<u8>,
    at: usize,
    finished: bool,
    result: Arc<Mutex<Option<Vec<u8>>>>,
}

impl<R: Read> AwsChunked<R> {
    pub fn new(
        inner: R,
        len: u64,
        algorithm: Algorithm,
        result: Arc<Mutex<Option<Vec<u8>>>>,
    ) -> Self {
        AwsChunked {
            inner,
            algorithm,
            hasher: Hasher::new(algorithm),
            left: len,
            pending: Vec::new(),
            at: 0,
            finished: false,
            result,
        }
    }

    /// The encoded length of a body of `len` bytes (the request's Content-Length).
    pub fn encoded_len(len: u64, algorithm: Algorithm) -> u64 {
        let frame = |n: u64| format!("{n:x}").len() as u64 + 2 + n + 2;
        let full = len / FRAME;
        let rest = len % FRAME;
        let mut total = full * frame(FRAME);
        if rest > 0 {
            total += frame(rest);
        }
        let value_len = (algorithm.width() as u64).div_ceil(3) * 4;
        total + 3 + algorithm.header().len() as u64 + 1 + value_len + 2 + 2
    }

    /// The headers that announce such a body of `len` decoded bytes.
    pub fn headers(len: u64, algorithm: Algorithm) -> Vec<(String, String)> {
        vec![
            ("content-encoding".into(), "aws-chunked".into()),
            ("x-amz-decoded-content-length".into(), len.to_string()),
            ("x-amz-trailer".into(), algorithm.header().into()),
            (
                "x-amz-sdk-checksum-algorithm".into(),
                algorithm.name().into(),
            ),
        ]
    }

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
        let mut data = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self.inner.read(&mut data[filled..]) {
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
        self.hasher.update(&data);
        self.left -= want as u64;
        self.pending
            .extend_from_slice(format!("{want:x}\r\n").as_bytes());
        self.pending.extend_from_slice(&data);
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
            let slot = Arc::new(Mutex::new(None));
            let mut out = Vec::new();
            let mut r = AwsChunked::new(
                &data[..len],
                len as u64,
                Algorithm::Crc32,
                Arc::clone(&slot),
            );
            let _ = r.read_to_end(&mut out);
            assert_eq!(
                out.len() as u64,
                AwsChunked::<&[u8]>::encoded_len(len as u64, Algorithm::Crc32)
            );
            let text = String::from_utf8_lossy(&out);
            let sum = crate::integrity::checksum::of(Algorithm::Crc32, &data[..len]);
            assert!(
                text.ends_with(&format!("0\r\nx-amz-checksum-crc32:{sum}\r\n\r\n")),
                "{len}"
            );
            let raw = slot.lock().ok().and_then(|s| s.clone()).unwrap_or_default();
            assert_eq!(crate::integrity::checksum::encode(&raw), sum);
        }
        let mut short = AwsChunked::new(
            &data[..10],
            20,
            Algorithm::Sha256,
            Arc::new(Mutex::new(None)),
        );
        assert!(short.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn range_reader_reads_exactly_its_range() {
        let path = std::env::temp_dir().join(format!("s3sync-range-{}", std::process::id()));
        let _ = std::fs::write(&path, b"0123456789");
        let file = Arc::new(File::open(&path).unwrap_or_else(|e| panic!("{e}")));
        let mut out = String::new();
        let _ = RangeReader::new(Arc::clone(&file), 3, 4).read_to_string(&mut out);
        assert_eq!(out, "3456");
        let mut past_end = Vec::new();
        let err = RangeReader::new(file, 8, 5).read_to_end(&mut past_end);
        assert!(
            err.is_err(),
            "reading past the end must fail, not return short"
        );
        let _ = std::fs::remove_file(&path);
    }
}
