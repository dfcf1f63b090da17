//! Plumbing shared by all workers for large objects: a fixed pool of chunk-sized buffers
//! and `--max-parallel-uploads` part threads that run part tasks (upload a part, copy a
//! part, download a range).
//!
//! A part task takes a buffer from the pool when it needs one and returns it when done.
//! With as many buffers as part threads, a task never waits for a buffer for long, and
//! memory stays at about `max_parallel_uploads × chunk size` whatever the number or the
//! size of the objects.

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

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

/// One unit of work for a part thread. It reports its own result (through a channel it
/// captured), so the queue does not care what it does.
pub type PartTask<'a> = Box<dyn FnOnce() + Send + 'a>;

/// The sending end of the part threads' queue. Dropping it lets the part threads finish
/// what is queued and exit.
pub struct PartQueue<'a> {
    tx: Sender<PartTask<'a>>,
}

impl<'a> PartQueue<'a> {
    /// A queue and the receiver the part threads share.
    pub fn new() -> (PartQueue<'a>, Receiver<PartTask<'a>>) {
        let (tx, rx) = unbounded();
        (PartQueue { tx }, rx)
    }

    /// Queues a task. If every part thread is gone (which only happens while the run is
    /// being torn down) the task runs on the caller's thread instead, so it still reports.
    pub fn submit(&self, task: PartTask<'a>) {
        if let Err(e) = self.tx.send(task) {
            (e.into_inner())();
        }
    }
}

/// Body of one part thread.
pub fn part_thread(tasks: Receiver<PartTask<'_>>) {
    for task in tasks {
        task();
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

    #[test]
    fn queue_runs_tasks_on_part_threads() {
        let (queue, rx) = PartQueue::new();
        let (done_tx, done_rx) = unbounded();
        std::thread::scope(|s| {
            s.spawn(move || part_thread(rx));
            for i in 0..5u32 {
                let tx = done_tx.clone();
                queue.submit(Box::new(move || {
                    let _ = tx.send(i * 2);
                }));
            }
            drop(queue);
        });
        let mut got: Vec<u32> = done_rx.try_iter().collect();
        got.sort();
        assert_eq!(got, vec![0, 2, 4, 6, 8]);
    }
}
