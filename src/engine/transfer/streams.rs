//! Reading local files for a transfer: a byte range of a file that can be re-read for each
//! attempt of a request, and the MD5s of many ranges computed side by side. (The S3 request
//! bodies built from another object, re-GET on retry and framed with a trailing checksum,
//! are the S3 backend's: [`crate::storage::s3::streams`].)

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use crate::integrity::md5x;

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
