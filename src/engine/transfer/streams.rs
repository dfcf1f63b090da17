//! Readers that let a request body be streamed and re-sent on retry without holding it in
//! memory: a byte range of a local file, and a (ranged) GET that is asked again when a retry
//! needs the bytes once more. Both hash what passes through them.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use crate::integrity::checksum::{Algorithm, Hasher};
use crate::integrity::md5x;
use crate::s3::{Client, Payload, Response};

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

/// Bytes read from each range per round by [`md5_side_by_side`].
const SIDE_BY_SIDE_CHUNK: usize = 64 * 1024;

/// Which of a multipart object's parts get their MD5s side by side: those of the first
/// part's length, when there are at least two (the short last part is hashed on its own).
pub fn side_by_side_parts(ranges: &[(u64, u64)]) -> Vec<usize> {
    let Some(&(_, len)) = ranges.first() else {
        return Vec::new();
    };
    let same: Vec<usize> = (0..ranges.len()).filter(|&i| ranges[i].1 == len).collect();
    if same.len() < 2 { Vec::new() } else { same }
}

/// The MD5s of byte ranges (offset, length) of `file`, all of one length, computed
/// [`md5x::LANES`] at a time: several times cheaper than one MD5 per range. `buffers` is
/// scratch space kept between calls.
pub fn md5_side_by_side(
    file: &Arc<File>,
    ranges: &[(u64, u64)],
    buffers: &mut Vec<Vec<u8>>,
) -> io::Result<Vec<[u8; 16]>> {
    let Some(&(_, len)) = ranges.first() else {
        return Ok(Vec::new());
    };
    if ranges.iter().any(|r| r.1 != len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ranges of unequal length cannot be hashed side by side (a bug)",
        ));
    }
    let mut out = Vec::with_capacity(ranges.len());
    for group in ranges.chunks(md5x::LANES) {
        if buffers.len() < group.len() {
            buffers.resize_with(group.len(), || vec![0; SIDE_BY_SIDE_CHUNK]);
        }
        let mut readers: Vec<RangeReader> = group
            .iter()
            .map(|&(offset, len)| RangeReader::new(Arc::clone(file), offset, len))
            .collect();
        let mut lanes = md5x::Lanes::new(group.len());
        let mut left = len;
        while left > 0 {
            let step = left.min(SIDE_BY_SIDE_CHUNK as u64) as usize;
            for (buffer, reader) in buffers.iter_mut().zip(&mut readers) {
                reader.read_exact(&mut buffer[..step])?;
            }
            let views: Vec<&[u8]> = buffers[..group.len()].iter().map(|b| &b[..step]).collect();
            if !lanes.update(&views) {
                return Err(io::Error::other(
                    "side-by-side MD5 refused its input (a bug)",
                ));
            }
            left -= step as u64;
        }
        out.extend(lanes.finish());
    }
    Ok(out)
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
    /// The version read, when one is named (every retry reads the same one).
    version_id: Option<&'c str>,
    range: Option<(u64, u64)>,
    first: Mutex<Option<Response>>,
    md5: Arc<Mutex<Md5>>,
}

impl<'c> ReGet<'c> {
    pub fn new(
        client: &'c Client,
        bucket: &'c str,
        key: &'c str,
        version_id: Option<&'c str>,
        range: Option<(u64, u64)>,
        first: Response,
    ) -> Self {
        ReGet {
            client,
            bucket,
            key,
            version_id,
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
