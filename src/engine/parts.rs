//! Multipart plumbing shared by all workers: a fixed pool of chunk-sized buffers and a pool
//! of `--max-parallel-uploads` threads that send parts.
//!
//! A worker reads a part into a buffer taken from the pool (blocking when all are in use,
//! which bounds memory to about `max_parallel_uploads × chunk size` whatever the number or
//! size of objects) and hands it to the part threads; the buffer comes back to the pool as
//! soon as its part is sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use md5::{Digest, Md5};

use crate::s3::{Client, S3Error};
use crate::util::encoding::base64;

/// Fixed-size buffers, created on first use up to a limit, then recycled.
pub struct BufferPool {
    free_tx: Sender<Vec<u8>>,
    free_rx: Receiver<Vec<u8>>,
    created: AtomicUsize,
    max: usize,
    size: usize,
}

impl BufferPool {
    pub fn new(max: usize, size: usize) -> BufferPool {
        let (free_tx, free_rx) = bounded(max.max(1));
        BufferPool {
            free_tx,
            free_rx,
            created: AtomicUsize::new(0),
            max: max.max(1),
            size,
        }
    }

    /// Takes a buffer of the pool's size, waiting for one to be returned if all are in use.
    pub fn take(&self) -> Vec<u8> {
        if let Ok(buf) = self.free_rx.try_recv() {
            return buf;
        }
        let claimed = self
            .created
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                if n < self.max { Some(n + 1) } else { None }
            })
            .is_ok();
        if claimed {
            return vec![0u8; self.size];
        }
        // Every buffer exists and is in use; one comes back when a part finishes. The
        // channel cannot close while `self` holds its sender.
        self.free_rx.recv().unwrap_or_else(|_| vec![0u8; self.size])
    }

    pub fn give(&self, buf: Vec<u8>) {
        let _ = self.free_tx.try_send(buf);
    }

    pub fn buffer_size(&self) -> usize {
        self.size
    }
}

/// One part to send.
pub struct PartJob<'a> {
    pub client: &'a Client,
    pub bucket: &'a str,
    pub key: Arc<str>,
    pub upload_id: Arc<str>,
    pub part_number: u32,
    pub buf: Vec<u8>,
    pub len: usize,
    pub content_md5: bool,
    pub done: Sender<PartResult>,
}

/// What became of a part.
pub struct PartResult {
    pub part_number: u32,
    pub md5: [u8; 16],
    pub etag: Result<String, S3Error>,
}

/// The sending end of the part threads' queue. Dropping it lets the part threads finish
/// what is queued and exit.
pub struct PartQueue<'a> {
    tx: Sender<PartJob<'a>>,
}

impl<'a> PartQueue<'a> {
    /// A queue and the receiver the part threads share.
    pub fn new() -> (PartQueue<'a>, Receiver<PartJob<'a>>) {
        let (tx, rx) = unbounded();
        (PartQueue { tx }, rx)
    }

    pub fn submit(&self, job: PartJob<'a>) {
        // A send fails only when every part thread is gone; report it as a failed part.
        if let Err(e) = self.tx.send(job) {
            let job = e.into_inner();
            let _ = job.done.send(PartResult {
                part_number: job.part_number,
                md5: [0; 16],
                etag: Err(S3Error::transport("UploadPart", "part queue closed", false)),
            });
        }
    }
}

/// Body of one part thread: hash, send, return the buffer, report.
pub fn part_thread(jobs: Receiver<PartJob<'_>>, pool: &BufferPool) {
    for job in jobs {
        let data = &job.buf[..job.len];
        let md5: [u8; 16] = Md5::digest(data).into();
        let headers = if job.content_md5 {
            vec![("content-md5".to_string(), base64(&md5))]
        } else {
            Vec::new()
        };
        let etag = job.client.upload_part(
            job.bucket,
            &job.key,
            &job.upload_id,
            job.part_number,
            data,
            &headers,
        );
        let part_number = job.part_number;
        let done = job.done;
        pool.give(job.buf);
        let _ = done.send(PartResult {
            part_number,
            md5,
            etag,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_never_creates_more_than_its_limit() {
        let pool = BufferPool::new(2, 16);
        let a = pool.take();
        let b = pool.take();
        assert_eq!((a.len(), b.len()), (16, 16));
        assert_eq!(pool.created.load(Ordering::Relaxed), 2);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| pool.take().len());
            std::thread::sleep(std::time::Duration::from_millis(50));
            pool.give(a);
            assert_eq!(waiter.join().ok(), Some(16));
        });
        assert_eq!(pool.created.load(Ordering::Relaxed), 2);
        pool.give(b);
    }
}
