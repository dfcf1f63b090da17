//! The part threads shared by all workers for large objects: `--max-parallel-uploads`
//! threads that run part tasks (upload a part, copy a part, download a range).
//!
//! Part tasks stream their bytes (see `transfer::multipart`) instead of holding a part in a
//! buffer, so memory does not depend on the part size: an earlier design kept every part in
//! a fixed pool of chunk-sized buffers, `max_parallel_uploads × chunk size` (128 MiB by
//! default) at peak.

use crossbeam_channel::{Receiver, Sender, unbounded};

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
