//! What the user sees while and after a run: a live line on a terminal, the summary line on
//! stderr, and the summary record in the log; or, with `--output-type=json`, the JSON
//! records of [`super::json_lines`] on stdout.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::Report;
use super::stats::{Stats, per_second, summary_line};
use crate::config::OutputConfig;

pub use crate::logging::SUMMARY_TARGET;

/// The live progress line, redrawn every second on a terminal.
pub struct Progress {
    stop_tx: Sender<()>,
    stop_rx: Receiver<()>,
    /// `progress` records on stdout instead of the line (`--output-type=json`).
    json: bool,
}

impl Progress {
    /// A progress line when stderr is a terminal and nothing else writes to it; with
    /// `--output-type=json`, a `progress` record every second wherever stdout goes.
    pub fn start(output: &OutputConfig) -> Option<Progress> {
        if output.json_lines {
            return output.show_progress.then(|| {
                let (stop_tx, stop_rx) = bounded(1);
                Progress {
                    stop_tx,
                    stop_rx,
                    json: true,
                }
            });
        }
        // Like the reference, the live line gives way to logs from -v on.
        if output.show_progress
            && !output.json
            && output.level <= 2
            && std::io::stderr().is_terminal()
        {
            let (stop_tx, stop_rx) = bounded(1);
            Some(Progress {
                stop_tx,
                stop_rx,
                json: false,
            })
        } else {
            None
        }
    }

    pub fn run(&self, stats: &Stats, started: Instant) {
        while self.stop_rx.recv_timeout(Duration::from_secs(1)).is_err() {
            if self.json {
                super::json_lines::progress(&stats.snapshot(), started.elapsed());
                continue;
            }
            let line = summary_line(&stats.snapshot(), started.elapsed(), false);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{line}\x1b[K");
            let _ = err.flush();
        }
    }

    pub fn stop(&self) {
        let _ = self.stop_tx.try_send(());
    }

    /// A guard that stops the progress line when dropped.
    pub fn stopper(&self) -> Stopper<'_> {
        Stopper(self)
    }
}

/// Stops a [`Progress`] when dropped.
pub struct Stopper<'p>(&'p Progress);

impl Drop for Stopper<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Prints the summary line (stderr) and logs the summary record.
pub fn finish(output: &OutputConfig, report: &Report) {
    let s = &report.stats;
    let elapsed = report.elapsed;
    log::info!(
        target: SUMMARY_TARGET,
        transferred_byte = s.transferred_bytes,
        transferred_byte_per_sec = per_second(s.transferred_bytes, elapsed),
        transferred_object = s.transferred_objects,
        transferred_object_per_sec = per_second(s.transferred_objects, elapsed),
        etag_verified = s.etag_verified,
        checksum_verified = s.checksum_verified,
        deleted = s.deleted,
        skipped = s.skipped,
        error = s.errors,
        warning = s.warnings,
        resumed_object = s.resumed_objects,
        resumed_byte = s.resumed_bytes,
        duration_sec = elapsed.as_secs_f64();
        "sync summary"
    );
    if output.json_lines {
        super::json_lines::summary(report);
    } else if output.show_progress && !output.json {
        let clear = if std::io::stderr().is_terminal() {
            "\r\x1b[K"
        } else {
            ""
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{clear}{}", summary_line(s, elapsed, true));
    }
}
