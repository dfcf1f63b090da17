//! Readers that let a request body be streamed and re-sent on retry without holding it in
//! memory: a byte range of a local file, and a (ranged) GET that is asked again when a retry
//! needs the bytes once more. Both hash what passes through them.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

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

#[cfg(test)]
mod tests {
    use super::*;

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
