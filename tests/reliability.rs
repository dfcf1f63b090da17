//! Faults, kills and signals: a sync through injected faults ends complete and verified; a
//! run stopped by Ctrl-C or SIGTERM cleans up and says so with its exit code; a run killed
//! with SIGKILL leaves nothing a re-run does not clean up and complete.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use common::chaos::{ChaosProxy, Fault};
use common::{Kind, World, data, md5_hex, s, spawn, wait_until, write_file};

/// About one request in six fails: every kind of fault, spread out.
fn plan(n: u32, _request: &str) -> Option<Fault> {
    match n % 29 {
        3 => Some(Fault::Reset),
        7 => Some(Fault::SlowDown),
        11 => Some(Fault::Truncate),
        17 => Some(Fault::InternalError),
        23 => Some(Fault::Stall(Duration::from_millis(2500))),
        _ => None,
    }
}

/// The MD5 of every regular file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(rel, md5_hex(&bytes));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn temp_files(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|k| {
            k.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with(".s3sync-tmp-"))
        })
        .collect()
}

#[test]
fn two_thousand_objects_through_injected_faults_arrive_verified() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    for i in 0..2000u64 {
        write_file(
            &src.join(format!("d{}/f{i}", i % 20)),
            &data(500 + (i as usize * 37) % 3000, i),
        );
    }
    let proxy = ChaosProxy::start(common::server(w.kind).port(), plan);
    let args = w.target_args_at(&proxy.endpoint());
    let tuning = [
        "--json-tracing",
        "--initial-backoff-milliseconds",
        "10",
        "--read-timeout-milliseconds",
        "1000",
    ];
    let mut up = args.clone();
    up.extend(tuning.iter().map(|a| a.to_string()));
    up.extend([s(&src), w.url("c/")]);
    let run = common::run(&up, &[]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2000);
    assert_eq!(run.summary("etag_verified"), 2000);
    let (requests, injected) = (proxy.requests(), proxy.injected());
    assert!(
        injected * 10 >= requests && requests >= 2000,
        "{injected} faults in {requests} requests"
    );
    // Everything landed, byte for byte.
    assert_eq!(w.list("c/").len(), 2000);
    let source = tree(&src);
    for (rel, md5) in source.iter().step_by(97) {
        assert_eq!(&md5_hex(&w.get(&format!("c/{rel}"))), md5, "{rel}");
    }

    // And back down through the same faults.
    let down = w.path("down");
    let before = proxy.injected();
    let mut args = w.source_args_at(&proxy.endpoint());
    args.extend(tuning.iter().map(|a| a.to_string()));
    args.extend([w.url("c/"), s(&down)]);
    let run = common::run(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2000);
    assert!(
        proxy.injected() - before >= 200,
        "too few faults on the way down"
    );
    assert_eq!(tree(&down), source);
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal})");
}

fn open_uploads(w: &World, prefix: &str) -> usize {
    w.client
        .list_multipart_uploads(&w.bucket, prefix)
        .unwrap_or_else(|e| panic!("ListMultipartUploads: {e}"))
        .len()
}

/// A source tree with one multipart file and some small ones.
fn source_tree(w: &World) -> PathBuf {
    let src = w.path("src");
    write_file(&src.join("big"), &data(24 << 20, 1));
    for i in 0..20u64 {
        write_file(&src.join(format!("small/{i}")), &data(2000, i + 10));
    }
    src
}

fn upload_args(w: &World, src: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = w.target_args();
    args.extend(
        [
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([s(src), w.url("k/")]);
    args
}

#[test]
fn ctrl_c_aborts_the_upload_in_flight_and_exits_130() {
    let w = World::new(Kind::Moto);
    let src = source_tree(&w);
    let child = spawn(&upload_args(&w, &src, &["--rate-limit-bandwidth", "2MiB"]));
    wait_until(
        "a multipart upload to start",
        Duration::from_secs(60),
        || open_uploads(&w, "k/") > 0,
    );
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");
    assert_eq!(
        open_uploads(&w, "k/"),
        0,
        "the multipart upload was left open"
    );
    assert!(
        !w.list("k/").contains_key("k/big"),
        "a partial object landed"
    );
}

#[test]
fn sigterm_during_a_download_leaves_no_partial_file_and_exits_143() {
    let w = World::new(Kind::Moto);
    w.put("d/big", &data(12 << 20, 2));
    let down = w.path("down");
    let mut args = w.source_args();
    args.extend(["--rate-limit-bandwidth", "1MiB"].map(String::from));
    args.extend([w.url("d/"), s(&down)]);
    let child = spawn(&args);
    wait_until("the download to start", Duration::from_secs(60), || {
        !temp_files(&down).is_empty()
    });
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(temp_files(&down).is_empty(), "temporary file left behind");
    assert!(
        !down.join("big").exists(),
        "a partial file got the final name"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_the_next_run_cleans_up() {
    let w = World::new(Kind::Moto);
    let src = source_tree(&w);
    let child = spawn(&upload_args(&w, &src, &["--rate-limit-bandwidth", "1MiB"]));
    wait_until(
        "a multipart upload to start",
        Duration::from_secs(60),
        || open_uploads(&w, "k/") > 0,
    );
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    // No time for cleanup: the upload is still open (which shows the exit was immediate).
    assert!(open_uploads(&w, "k/") > 0);
    let run = common::run(&upload_args(&w, &src, &["--json-tracing"]), &[]);
    run.assert_code(0);
    assert_eq!(open_uploads(&w, "k/"), 0, "the re-run left an upload open");
    for (rel, md5) in tree(&src) {
        assert_eq!(md5_hex(&w.get(&format!("k/{rel}"))), md5, "{rel}");
    }
}

#[test]
fn sigkill_then_rerun_leaves_targets_complete_and_clean() {
    // Upload killed mid-way.
    let w = World::new(Kind::Moto);
    let src = source_tree(&w);
    let mut child = spawn(&upload_args(&w, &src, &["--rate-limit-bandwidth", "2MiB"]));
    wait_until(
        "a multipart upload to start",
        Duration::from_secs(60),
        || open_uploads(&w, "k/") > 0,
    );
    signal(&child, libc::SIGKILL);
    let _ = child.wait();
    assert!(
        open_uploads(&w, "k/") > 0,
        "the kill came too late to test anything"
    );
    common::run(&upload_args(&w, &src, &[]), &[]).assert_code(0);
    assert_eq!(open_uploads(&w, "k/"), 0, "the re-run left an upload open");
    let landed: BTreeMap<String, u64> = w.list("k/");
    assert_eq!(landed.len(), tree(&src).len());
    for (rel, md5) in tree(&src) {
        assert_eq!(md5_hex(&w.get(&format!("k/{rel}"))), md5, "{rel}");
    }

    // Download killed mid-way.
    let down = w.path("down");
    let mut args = w.source_args();
    args.extend(["--rate-limit-bandwidth", "2MiB"].map(String::from));
    args.extend([w.url("k/"), s(&down)]);
    let mut child = spawn(&args);
    wait_until("a download to start", Duration::from_secs(60), || {
        !temp_files(&down).is_empty()
    });
    signal(&child, libc::SIGKILL);
    let _ = child.wait();
    assert!(
        !temp_files(&down).is_empty(),
        "the kill came too late to test anything"
    );
    let mut args = w.source_args();
    args.extend([w.url("k/"), s(&down)]);
    common::run(&args, &[]).assert_code(0);
    assert!(
        temp_files(&down).is_empty(),
        "temporary files survived the re-run"
    );
    assert_eq!(tree(&down), tree(&src));
}

/// Sends the first two PUTs a 503 (then none): with one attempt per request, only the
/// whole-object retries can get the object through.
fn two_put_failures(_n: u32, request: &str) -> Option<Fault> {
    static PUTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if request.starts_with("PUT ") && PUTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
        Some(Fault::SlowDown)
    } else {
        None
    }
}

#[test]
fn whole_object_retries_follow_the_request_retries() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/obj"), b"retried");
    let proxy = ChaosProxy::start(common::server(w.kind).port(), two_put_failures);
    let mut args = w.target_args_at(&proxy.endpoint());
    let base = args.clone();
    args.extend(
        [
            "--json-tracing",
            "--aws-max-attempts",
            "1",
            "--force-retry-count",
            "2",
            "--force-retry-interval-milliseconds",
            "10",
            &s(&w.path("src")),
            &w.url("r/"),
        ]
        .map(String::from),
    );
    let run = common::run(&args, &[]);
    // Retried twice (a warning each) and then stored.
    run.assert_code(3);
    assert_eq!(run.summary("warning"), 2);
    assert_eq!(run.summary("transferred_object"), 1);
    assert!(
        run.stdout.contains("retrying the whole object (2 of 2)"),
        "{}",
        run.stdout
    );
    assert_eq!(w.get("r/obj"), b"retried");

    // No whole-object retries: the 503 is final (the plan's two failures are used up, so
    // a fresh proxy is needed to fail again).
    let proxy = ChaosProxy::start(common::server(w.kind).port(), |_, r| {
        r.starts_with("PUT ").then_some(Fault::SlowDown)
    });
    let mut args = base;
    args[1] = proxy.endpoint();
    args.extend(
        [
            "--json-tracing",
            "--aws-max-attempts",
            "2",
            "--initial-backoff-milliseconds",
            "1",
            "--force-retry-count",
            "0",
            &s(&w.path("src")),
            &w.url("n/"),
        ]
        .map(String::from),
    );
    let run = common::run(&args, &[]);
    run.assert_code(1);
    assert_eq!(run.summary("error"), 1);
    assert!(run.stdout.contains("SlowDown"), "{}", run.stdout);
    assert!(w.list("n/").is_empty());
}

fn skewed_first_put(_n: u32, request: &str) -> Option<Fault> {
    static SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    (request.starts_with("PUT ") && !SEEN.swap(true, std::sync::atomic::Ordering::SeqCst))
        .then_some(Fault::Skewed(300))
}

#[test]
fn a_skewed_clock_is_corrected_from_the_server_date() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/obj"), b"on time");
    let proxy = ChaosProxy::start(common::server(w.kind).port(), skewed_first_put);
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &["--json-tracing", &s(&w.path("src")), &w.url("c/")],
    );
    run.assert_code(0);
    let by = ["299 s", "300 s", "301 s"];
    assert!(
        by.iter()
            .any(|b| run.stdout.contains(&format!("server's by {b}"))),
        "{}",
        run.stdout
    );
    // The retry was signed with the corrected time, and s3s-fs checked that signature.
    assert_eq!(w.get("c/obj"), b"on time");
}

fn stall_everything(_n: u32, _request: &str) -> Option<Fault> {
    Some(Fault::Stall(Duration::from_secs(3)))
}

fn stall_first(n: u32, _request: &str) -> Option<Fault> {
    (n == 0).then_some(Fault::Stall(Duration::from_secs(3)))
}

#[test]
fn operation_and_attempt_timeouts() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/obj"), b"timely");
    let proxy = ChaosProxy::start(common::server(w.kind).port(), stall_everything);
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &[
            "--operation-timeout-milliseconds",
            "800",
            &s(&w.path("src")),
            &w.url("t/"),
        ],
    );
    run.assert_code(1);
    assert!(run.stderr.contains("ListObjectsV2"), "{}", run.stderr);
    assert!(w.list("t/").is_empty());

    // One stalled attempt is cut short by the attempt timeout and the next one succeeds.
    let proxy = ChaosProxy::start(common::server(w.kind).port(), stall_first);
    let mut args = w.target_args_at(&proxy.endpoint());
    args.extend(
        [
            "--json-tracing",
            "--operation-attempt-timeout-milliseconds",
            "800",
            &s(&w.path("src")),
            &w.url("a/"),
        ]
        .map(String::from),
    );
    let started = std::time::Instant::now();
    let run = common::run(&args, &[]);
    run.assert_code(0);
    assert_eq!(w.get("a/obj"), b"timely");
    // Without the attempt timeout the stalled answer would arrive after 3 s and succeed too.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn rate_limits_hold_back_objects_and_bytes() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    for i in 0..30 {
        write_file(&src.join(format!("o{i}")), b"x");
    }
    let start = std::time::Instant::now();
    w.sync(&["--rate-limit-objects", "10", &s(&src), &w.url("o/")])
        .assert_code(0);
    // A full bucket of 10, then 20 more at 10 a second: never faster than 2 s.
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(w.list("o/").len(), 30);

    let big = w.path("big");
    let content = data(3 << 20, 5);
    write_file(&big.join("f"), &content);
    let start = std::time::Instant::now();
    w.sync(&["--rate-limit-bandwidth", "1MiB", &s(&big), &w.url("b/")])
        .assert_code(0);
    // 1 MiB at once, then 2 MiB at 1 MiB a second.
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(md5_hex(&w.get("b/f")), md5_hex(&content));
}

#[test]
fn an_empty_source_never_empties_the_target() {
    let w = World::new(Kind::S3sFs);
    w.put("t/a", b"a");
    w.put("t/b", b"b");
    let empty = w.path("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let run = w.sync(&["--json-tracing", "--delete", &s(&empty), &w.url("t/")]);
    run.assert_code(3);
    assert_eq!(run.summary("deleted"), 0);
    assert!(
        run.stdout.contains("the source has no objects"),
        "{}",
        run.stdout
    );
    assert_eq!(w.list("t/").len(), 2);
    // An S3 prefix with nothing under it (a typo) is treated the same way.
    let run = w.sync_to(
        &w,
        &[
            "--json-tracing",
            "--delete",
            &w.url("no-such-prefix/"),
            &w.url("t/"),
        ],
    );
    run.assert_code(3);
    assert_eq!(run.summary("deleted"), 0);
    assert_eq!(w.list("t/").len(), 2);
}

#[test]
fn a_file_rewritten_during_its_upload_is_sent_again_never_mixed() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    let first = data(15 << 20, 31);
    let second = data(15 << 20, 32);
    write_file(&src.join("moving"), &first);
    let log = w.path("run.log");
    let mut args = w.target_args();
    args.extend(
        [
            "--json-tracing",
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
            "--rate-limit-bandwidth",
            "4MiB",
            "--force-retry-interval-milliseconds",
            "10",
            &s(&src),
            &w.url("k/"),
        ]
        .map(String::from),
    );
    let out = std::fs::File::create(&log).expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s3sync"))
        .env_clear()
        .args(&args)
        .stdout(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start s3sync");
    wait_until(
        "the multipart upload to start",
        Duration::from_secs(60),
        || open_uploads(&w, "k/") > 0,
    );
    // Same size, other bytes, a later mtime: parts already sent no longer match the file.
    write_file(&src.join("moving"), &second);
    common::touch(&src.join("moving"), 5);
    let status = child.wait().expect("wait");
    let stdout = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(3), "{stdout}");
    // Seen either when a part is read mid-rewrite or by the check before completing.
    assert!(
        stdout.contains("changed while it was being uploaded")
            || stdout.contains("shrank while it was being read"),
        "{stdout}"
    );
    assert!(stdout.contains("retrying the whole object"), "{stdout}");
    assert_eq!(md5_hex(&w.get("k/moving")), md5_hex(&second));
    assert_eq!(open_uploads(&w, "k/"), 0);
}
