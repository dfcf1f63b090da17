//! S3 → local directory, against real servers.

mod common;

use common::chaos::{ChaosProxy, Fault};
use common::{Kind, World, data, md5_hex, multipart_etag, s, write_file};

const MIB: usize = 1 << 20;

fn mtime_secs(path: &std::path::Path) -> i64 {
    let t = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    s3sync::util::time::Timestamp::from_system(t).secs
}

#[test]
fn downloads_verify_set_mtimes_and_are_incremental() {
    let w = World::new(Kind::S3sFs);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"hello".to_vec()),
        ("dir/b.bin", data(300_000, 11)),
        ("dir/big", data(20 * MIB + 17, 12)),
        ("empty", Vec::new()),
        ("space name/☃", data(3, 13)),
    ];
    for (k, v) in &files {
        write_file(&w.path("up").join(k), v);
    }
    // Uploaded with 5 MiB parts, so the 20 MiB file has a multipart ETag.
    w.sync(&[
        "--multipart-chunksize",
        "5MiB",
        "--multipart-threshold",
        "5MiB",
        &w.path("up").display().to_string(),
        &w.url("p/"),
    ])
    .assert_code(0);
    // And one large object uploaded in a single PUT (plain MD5 ETag above the threshold).
    let single = data(9 * MIB, 14);
    w.put("p/single-9mib", &single);

    let down = w.path("down");
    let args = [
        "--json-tracing",
        "--multipart-chunksize",
        "5MiB",
        "--multipart-threshold",
        "5MiB",
    ];
    let mut first_args: Vec<&str> = args.to_vec();
    let (url, dest) = (w.url("p/"), down.display().to_string());
    first_args.extend([url.as_str(), dest.as_str()]);
    let first = w.sync_from(&first_args);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), files.len() as u64 + 1);
    // Every object with an ETag is verified: the empty one included.
    assert_eq!(first.summary("etag_verified"), files.len() as u64 + 1);
    for (k, v) in &files {
        let got = std::fs::read(down.join(k)).unwrap_or_else(|e| panic!("{k}: {e}"));
        assert_eq!(md5_hex(&got), md5_hex(v), "{k}");
        let head = w.head(&format!("p/{k}"));
        assert_eq!(
            Some(mtime_secs(&down.join(k))),
            head.last_modified.map(|t| t.secs),
            "mtime of {k}"
        );
    }
    assert_eq!(w.etag("p/dir/big"), multipart_etag(&files[2].1, 5 * MIB));
    assert_eq!(
        std::fs::read(down.join("single-9mib"))
            .map(|d| md5_hex(&d))
            .ok(),
        Some(md5_hex(&single))
    );
    let leftovers = std::fs::read_dir(down.join("dir"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 2, "no temporary files left");

    let second = w.sync_from(&first_args);
    second.assert_code(0);
    assert_eq!(second.summary("transferred_object"), 0);

    // --delete removes a local file that is not in the bucket.
    write_file(&down.join("stray"), b"x");
    let mut delete_args = first_args.clone();
    delete_args.insert(0, "--delete");
    let third = w.sync_from(&delete_args);
    third.assert_code(0);
    assert_eq!(third.summary("deleted"), 1);
    assert!(!down.join("stray").exists());
}

/// Ranged GETs seen by `count_ranged_gets`.
static RANGED_GETS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Counts the GETs with a `Range` header; forwards everything.
fn count_ranged_gets(_n: u32, head: &str) -> Option<Fault> {
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("get ") && lower.contains("\r\nrange: bytes=") {
        RANGED_GETS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    None
}

/// A multipart object is fetched as one ranged GET per part even from a store whose
/// listings carry no ETag (s3s-fs), and its ETag is recomputed from what landed: nine
/// parts of one size (hashed side by side, a batch of eight and one more) and a short last
/// part (hashed as it streams in).
#[test]
fn multipart_downloads_fetch_parts_in_parallel_and_verify_each() {
    let w = World::new(Kind::S3sFs);
    let body = data(9 * 5 * MIB + 3, 31);
    write_file(&w.path("up/big"), &body);
    w.sync_in_parts(&[&s(&w.path("up")), &w.url("")])
        .assert_code(0);
    assert_eq!(w.etag("big"), multipart_etag(&body, 5 * MIB));

    let proxy = ChaosProxy::start(common::server(w.kind).port(), count_ranged_gets);
    let run = common::run_with(
        w.source_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
            &w.url(""),
            &s(&w.path("down")),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(RANGED_GETS.load(std::sync::atomic::Ordering::SeqCst), 10);
    assert_eq!(
        std::fs::read(w.path("down/big")).map(|d| md5_hex(&d)).ok(),
        Some(md5_hex(&body))
    );
}

/// s3s-fs does not tell part sizes. A multipart ETag is then recomputed with an assumed part
/// size: the configured one, or a common one that gives the ETag's part count. Right, the
/// object verifies; wrong, a warning, and the bytes are still right.
#[test]
fn unknown_part_sizes_are_assumed_and_a_wrong_guess_warns() {
    let w = World::new(Kind::S3sFs);
    // 12 MiB in 5 MiB parts: three parts, which 8 MiB parts would not give.
    let common = data(12 * MIB, 21);
    write_file(&w.path("up5/common"), &common);
    w.sync_in_parts(&[&s(&w.path("up5")), &w.url("")])
        .assert_code(0);
    // 15 MiB in 7 MiB parts: three parts too, which 5 MiB parts also give, at other edges.
    let odd = data(15 * MIB, 22);
    write_file(&w.path("up7/odd"), &odd);
    w.sync(&[
        "--multipart-chunksize",
        "7MiB",
        "--multipart-threshold",
        "5MiB",
        &s(&w.path("up7")),
        &w.url(""),
    ])
    .assert_code(0);
    assert!(w.etag("common").ends_with("-3") && w.etag("odd").ends_with("-3"));
    // Downloaded at the default 8 MiB part size.
    let run = w.sync_from(&["--json-tracing", &w.url(""), &s(&w.path("down"))]);
    run.assert_code(3);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(run.summary("warning"), 1);
    assert!(
        run.stdout.contains("could not be verified") && run.stdout.contains("odd"),
        "{}",
        run.stdout
    );
    for (key, body) in [("common", &common), ("odd", &odd)] {
        assert_eq!(
            std::fs::read(w.path("down").join(key))
                .map(|d| md5_hex(&d))
                .ok(),
            Some(md5_hex(body)),
            "{key}"
        );
    }
}

#[test]
fn keys_that_escape_the_target_are_refused_and_markers_become_directories() {
    let w = World::new(Kind::Moto);
    w.put("ok", b"fine");
    w.put("a/../../evil", b"bad");
    w.put("./dot", b"bad");
    w.put("marker/", b"");
    w.put("datadir/", b"has data");
    // Would land as "twin" on disk and never match its key again: --delete would remove it.
    w.put("a//twin", b"bad");
    let root = w.path("root");
    let down = root.join("down");
    let run = w.sync_from(&[
        "--json-tracing",
        "--delete",
        &w.url(""),
        &down.display().to_string(),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("warning"), 4);
    assert_eq!(std::fs::read(down.join("ok")).ok(), Some(b"fine".to_vec()));
    assert!(down.join("marker").is_dir());
    assert!(!down.join("datadir").exists());
    assert!(!root.join("evil").exists() && !w.dir.join("evil").exists());
    assert!(!down.join("dot").exists());
    assert!(!down.join("a/twin").exists());
    // A second run has nothing to do: the directory marker is not created again.
    let again = w.sync_from(&["--json-tracing", &w.url(""), &down.display().to_string()]);
    assert_eq!(again.summary("transferred_object"), 0);
    assert_eq!(std::fs::read(down.join("ok")).ok(), Some(b"fine".to_vec()));
}

/// The listing of `src/b/` fails (500, one attempt).
fn fail_listing_of_b(_n: u32, head: &str) -> Option<Fault> {
    let line = head.lines().next().unwrap_or_default();
    (line.contains("list-type=2") && line.contains("prefix=src%2Fb%2F"))
        .then_some(Fault::InternalError)
}

/// `--delete` never runs when part of the source could not be listed: files whose objects
/// were in the failed listing are not taken for deleted, and neither are any others.
#[test]
fn delete_waits_for_a_complete_source_listing() {
    let w = World::new(Kind::S3sFs);
    w.put("src/a/one", b"1");
    w.put("src/b/two", b"2");
    let down = w.path("down");
    for (rel, body) in [
        ("a/one", b"1"),
        ("b/two", b"2"),
        ("a/stale", b"x"),
        ("b/stale", b"y"),
    ] {
        write_file(&down.join(rel), body);
    }
    let proxy = ChaosProxy::start(common::server(w.kind).port(), fail_listing_of_b);
    let run = common::run_with(
        w.source_args_at(&proxy.endpoint()),
        &[
            "--delete",
            "--aws-max-attempts",
            "1",
            &w.url("src/"),
            &s(&down),
        ],
    );
    run.assert_code(1);
    assert!(
        proxy.injected() >= 1,
        "the listing of src/b/ was never asked for"
    );
    assert!(run.stderr.contains("ListObjectsV2"), "{}", run.stderr);
    for rel in ["a/one", "b/two", "a/stale", "b/stale"] {
        assert!(down.join(rel).exists(), "{rel} was deleted");
    }
    // Listed whole, the same run deletes what the source no longer has.
    w.sync_from(&["--delete", &w.url("src/"), &s(&down)])
        .assert_code(0);
    assert!(!down.join("a/stale").exists() && !down.join("b/stale").exists());
    assert_eq!(
        std::fs::read(down.join("b/two")).ok().as_deref(),
        Some(&b"2"[..])
    );
}

/// An object whose key is the source prefix itself (`s3://b/dir1/data1`) has no relative key:
/// it is counted as skipped, as in the reference, while its neighbours under the same plain
/// string prefix are synced.
#[test]
fn the_object_named_by_the_prefix_is_counted_as_skipped() {
    let w = World::new(Kind::S3sFs);
    w.put("dir1/data1", b"the prefix itself");
    w.put("dir1/data1x", b"a sibling");
    let dst = w.path("dst");
    let run = w.sync_from(&["--json-tracing", &w.url("dir1/data1"), &s(&dst)]);
    run.assert_code(0);
    assert_eq!(run.summary("skipped"), 1, "{}", run.stdout);
    assert_eq!(run.summary("transferred_object"), 1, "{}", run.stdout);
    assert_eq!(
        std::fs::read(dst.join("x")).unwrap_or_default(),
        b"a sibling"
    );
}
