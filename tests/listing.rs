//! Parallel listing keeps S3's key order: checked end to end, since the merge-join (and so
//! every skip and every deletion) depends on it.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::chaos::{ChaosProxy, Fault};
use common::{Kind, World, write_file};

const KEYS: &[&str] = &[
    "a-b",
    "a.b/c",
    "a/x",
    "a/y/z",
    "a/y/z0",
    "a/y-/q",
    "a/yy",
    "a0",
    "b/c/d/e/f",
    "b/c/d/e0",
    "b/c0",
    "dir-2/x",
    "dir.txt",
    "dir/sub/deeper/k",
    "dir/sub/k",
    "dir/x",
    "dir0",
    "z",
    "☃/snow",
    "☃0",
];

fn check(kind: Kind) {
    let w = World::new(kind);
    for k in KEYS {
        w.put(&format!("p/{k}"), k.as_bytes());
    }
    let down = w.path("down").display().to_string();
    for parallel in ["1", "4", "16"] {
        let dir = format!("{down}-{parallel}");
        // Room for four pages of two between all listings: most wait their turn.
        let args = [
            "--json-tracing",
            "--max-parallel-listings",
            parallel,
            "--max-keys",
            "2",
            "--object-listing-queue-size",
            "8",
        ];
        let mut first: Vec<&str> = args.to_vec();
        let url = w.url("p/");
        first.extend([url.as_str(), dir.as_str()]);
        let run = w.sync_from(&first);
        run.assert_code(0);
        assert_eq!(
            run.summary("transferred_object"),
            KEYS.len() as u64,
            "parallel {parallel}"
        );
        for k in KEYS {
            assert_eq!(
                std::fs::read(std::path::Path::new(&dir).join(k))
                    .ok()
                    .as_deref(),
                Some(k.as_bytes())
            );
        }
        // A second run, with --delete, must pair every key with its file.
        let mut again: Vec<&str> = vec!["--delete"];
        again.extend(first.iter().copied());
        let run = w.sync_from(&again);
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 0, "parallel {parallel}");
        assert_eq!(run.summary("deleted"), 0, "parallel {parallel}");
        assert_eq!(
            run.summary("skipped"),
            KEYS.len() as u64,
            "parallel {parallel}"
        );
    }
    // And the other way round: local → S3 lists the bucket as the target.
    let src = w.path("src");
    for k in KEYS {
        write_file(&src.join(k), k.as_bytes());
    }
    let url = w.url("p/");
    let s = src.display().to_string();
    let run = w.sync(&[
        "--json-tracing",
        "--max-parallel-listings",
        "8",
        "--max-keys",
        "3",
        "--delete",
        "--check-size",
        &s,
        &url,
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("deleted"), 0);
}

#[test]
fn parallel_listing_keeps_key_order_on_s3s_fs() {
    check(Kind::S3sFs);
}

#[test]
fn parallel_listing_keeps_key_order_on_moto() {
    check(Kind::Moto);
}

/// A listing request of `p/d03/s1/` fails for good (501).
fn fail_one_prefix(_: u32, head: &str) -> Option<Fault> {
    (head.contains("list-type=2") && head.contains("prefix=p%2Fd03%2Fs1%2F"))
        .then_some(Fault::NotImplemented)
}

/// With five keys a page, listings hold at most twenty entries between them, so most of the
/// prefixes listed ahead wait for room. When one prefix's listing fails, the run must end
/// with that error: no listing is left waiting for ever (neither those under the failed
/// prefix's parent nor those beside it), the prefixes before it are listed as usual, and
/// nothing is deleted, since the listing to compare with is incomplete.
#[test]
fn a_failed_prefix_ends_the_run_while_other_listings_wait_for_room() {
    let w = World::new(Kind::S3sFs);
    for d in 0..8 {
        for sub in 0..5 {
            // The prefixes under p/d04/ hold more than their queues take, so their
            // listings fill the budget and block while p/d03/ is drained.
            let keys = if d == 4 { 80 } else { 3 };
            for i in 0..keys {
                w.put(
                    &format!("p/d{d:02}/s{sub}/k{i}"),
                    format!("{d}/{sub}/{i}").as_bytes(),
                );
            }
        }
    }
    let down = w.path("down");
    let stray = down.join("d07/stray");
    write_file(&stray, b"kept");
    let proxy = ChaosProxy::start(common::server(w.kind).port(), fail_one_prefix);
    let mut args = w.source_args_at(&proxy.endpoint());
    let url = w.url("p/");
    let target = common::s(&down);
    args.extend(
        [
            "--max-keys",
            "5",
            "--object-listing-queue-size",
            "20",
            "--max-parallel-listing-max-depth",
            "3",
            "--delete",
            url.as_str(),
            target.as_str(),
        ]
        .map(str::to_string),
    );
    let mut child = common::spawn(&args);
    common::wait_until("the run to end", Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for s3sync: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(stderr.contains("p/d03/s1/"), "stderr:\n{stderr}");
    assert_eq!(std::fs::read(&stray).ok().as_deref(), Some(&b"kept"[..]));
    assert!(proxy.injected() >= 1, "the failure was never injected");
}

/// Every listing request is answered 150 ms late, so listings in flight overlap.
fn slow_lists(_: u32, head: &str) -> Option<Fault> {
    head.contains("list-type=2")
        .then_some(Fault::Stall(Duration::from_millis(150)))
}

/// `--object-listing-queue-size` bounds the listings that run ahead: with room for two
/// pages of ten, at most three list requests are answered at once (the front's, one ahead,
/// and the top level's); with room for forty pages, the ten prefixes of a top-level page
/// are all listed at once.
#[test]
fn the_listing_queue_size_bounds_the_listings_running_ahead() {
    let w = World::new(Kind::S3sFs);
    for d in 0..16 {
        for i in 0..10 {
            w.put(&format!("p/d{d:02}/k{i}"), format!("{d}/{i}").as_bytes());
        }
    }
    let url = w.url("p/");
    let mut peaks = Vec::new();
    for queue in ["20", "400"] {
        let proxy = ChaosProxy::start(common::server(w.kind).port(), slow_lists);
        let down = w.path(&format!("down-{queue}"));
        let target = common::s(&down);
        let run = common::run_with(
            w.source_args_at(&proxy.endpoint()),
            &[
                "--json-tracing",
                "--max-keys",
                "10",
                "--object-listing-queue-size",
                queue,
                &url,
                &target,
            ],
        );
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 160, "queue {queue}");
        assert_eq!(
            std::fs::read(down.join("d15/k9")).ok().as_deref(),
            Some(&b"15/9"[..])
        );
        peaks.push(proxy.lists_peak());
    }
    assert!(
        (1..=3).contains(&peaks[0]),
        "list requests at once with room for two pages: {}",
        peaks[0]
    );
    assert!(
        peaks[1] >= 6,
        "list requests at once with room for forty pages: {}",
        peaks[1]
    );
}

/// List requests cut short so far by `cut_two_lists`.
static LISTS_CUT: AtomicU32 = AtomicU32::new(0);

/// The first two ListObjectsV2 answers are cut off part way through their body.
fn cut_two_lists(_: u32, head: &str) -> Option<Fault> {
    let cut = head.contains("list-type=2")
        && LISTS_CUT
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < 2).then_some(n + 1)
            })
            .is_ok();
    cut.then_some(Fault::Truncate)
}

/// List pages are parsed as they stream in; a page cut short is retried as a whole, and the
/// sync lists every key once.
#[test]
fn a_list_page_cut_short_is_asked_for_again() {
    let w = World::new(Kind::S3sFs);
    for i in 0..30 {
        w.put(&format!("p/k{i:02}"), format!("v{i}").as_bytes());
    }
    let proxy = ChaosProxy::start(common::server(w.kind).port(), cut_two_lists);
    let down = w.path("down");
    let target = common::s(&down);
    let url = w.url("p/");
    let run = common::run_with(
        w.source_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--initial-backoff-milliseconds",
            "10",
            "--max-keys",
            "10",
            &url,
            &target,
        ],
    );
    run.assert_code(0);
    assert_eq!(proxy.injected(), 2, "two list answers were cut");
    assert_eq!(run.summary("transferred_object"), 30);
    for i in 0..30 {
        assert_eq!(
            std::fs::read(down.join(format!("k{i:02}"))).ok(),
            Some(format!("v{i}").into_bytes())
        );
    }
}
