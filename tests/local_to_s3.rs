//! Local directory → S3, against real servers: what lands, what is skipped, what is deleted.

mod common;

use common::chaos::{ChaosProxy, Fault};
use common::{Kind, PARTS_5MIB, World, data, md5_hex, multipart_etag, s, touch, write_file};

const MIB: usize = 1 << 20;

/// Every local file under `dir` matches its object byte for byte, and its ETag is the MD5.
fn assert_bucket_matches(
    w: &World,
    dir: &std::path::Path,
    prefix: &str,
    files: &[(&str, Vec<u8>)],
) {
    let listed = w.list(prefix);
    let expected: Vec<String> = files.iter().map(|(k, _)| format!("{prefix}{k}")).collect();
    let got: Vec<String> = listed.keys().cloned().collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(got, expected_sorted, "keys in the bucket");
    for (key, content) in files {
        let full = format!("{prefix}{key}");
        assert_eq!(
            std::fs::read(dir.join(key)).ok().as_deref(),
            Some(&content[..]),
            "local {key}"
        );
        let body = w.get(&full);
        assert_eq!(md5_hex(&body), md5_hex(content), "content of {full}");
        assert_eq!(w.etag(&full), md5_hex(content), "ETag of {full}");
    }
}

#[test]
fn first_sync_uploads_everything_then_nothing_then_only_what_changed() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"hello".to_vec()),
        ("dir/b.bin", data(70_000, 1)),
        ("dir/sub/c.bin", data(2 * MIB + 3, 2)),
        ("dir-2/d", data(10, 3)),
        ("empty", Vec::new()),
        ("with space/file name.txt", b"spaces".to_vec()),
        ("☃☃👪", b"unicode".to_vec()),
    ];
    for (k, v) in &files {
        write_file(&src.join(k), v);
    }
    let src_arg = src.display().to_string();
    let target = w.url("p/");
    let first = w.sync(&["--json-tracing", &src_arg, &target]);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), files.len() as u64);
    assert_eq!(first.summary("etag_verified"), files.len() as u64);
    let bytes: usize = files.iter().map(|(_, v)| v.len()).sum();
    assert_eq!(first.summary("transferred_byte"), bytes as u64);
    assert_bucket_matches(&w, &src, "p/", &files);

    let second = w.sync(&["--json-tracing", &src_arg, &target]);
    second.assert_code(0);
    assert_eq!(second.summary("transferred_object"), 0);
    assert_eq!(second.summary("skipped"), files.len() as u64);

    // A file modified later than its upload is sent again, and only it.
    let changed = data(70_000, 99);
    write_file(&src.join("dir/b.bin"), &changed);
    touch(&src.join("dir/b.bin"), 10);
    let third = w.sync(&["--json-tracing", "-v", &src_arg, &target]);
    third.assert_code(0);
    assert_eq!(third.summary("transferred_object"), 1);
    assert!(
        third.stdout.contains("\"key\":\"dir/b.bin\""),
        "{}",
        third.stdout
    );
    assert_eq!(md5_hex(&w.get("p/dir/b.bin")), md5_hex(&changed));
}

#[test]
fn prefix_without_slash_is_concatenated() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/foo"), b"x");
    w.sync(&[&w.path("src").display().to_string(), &w.url("prefix")])
        .assert_code(0);
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["prefixfoo".to_string()]
    );
}

#[test]
fn single_file_source_uses_its_name() {
    let w = World::new(Kind::S3sFs);
    let file = write_file(&w.path("src/one.txt"), b"just me");
    write_file(&w.path("src/other.txt"), b"not me");
    w.sync(&[&file.display().to_string(), &w.url("x/")])
        .assert_code(0);
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["x/one.txt".to_string()]
    );
}

#[test]
fn multipart_threshold_and_chunk_sizes_give_s3_etags() {
    let w = World::new(Kind::S3sFs);
    let at_threshold = data(8 * MIB, 5);
    let twenty = data(20 * MIB, 6);
    write_file(&w.path("a/eight"), &at_threshold);
    write_file(&w.path("b/twenty"), &twenty);
    let run = w.sync(&[
        "--json-tracing",
        &w.path("a").display().to_string(),
        &w.url("a/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    let etag = w.etag("a/eight");
    assert_eq!(etag, multipart_etag(&at_threshold, 8 * MIB));
    assert!(etag.ends_with("-1"), "{etag}");

    let run = w.sync(&[
        "--json-tracing",
        "--multipart-chunksize",
        "5MiB",
        "--multipart-threshold=5MiB",
        &w.path("b").display().to_string(),
        &w.url("b/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(w.etag("b/twenty"), multipart_etag(&twenty, 5 * MIB));
    assert!(w.etag("b/twenty").ends_with("-4"));
    assert_eq!(md5_hex(&w.get("b/twenty")), md5_hex(&twenty));

    // Nine parts of one size (their MD5s computed side by side: a batch of eight, then one)
    // and a short last part; s3s-fs checks every part's Content-MD5.
    let ten_parts = data(9 * 5 * MIB + 3, 7);
    write_file(&w.path("c/ten"), &ten_parts);
    let run = w.sync_in_parts(&["--json-tracing", &s(&w.path("c")), &w.url("c/")]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(w.etag("c/ten"), multipart_etag(&ten_parts, 5 * MIB));
    assert!(w.etag("c/ten").ends_with("-10"));
    assert_eq!(md5_hex(&w.get("c/ten")), md5_hex(&ten_parts));
}

#[test]
fn check_size_and_check_etag_decide_by_content() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("f"), b"aaaa");
    let src_arg = src.display().to_string();
    let target = w.url("");
    w.sync(&[&src_arg, &target]).assert_code(0);

    // Same size, newer, different content: --check-size sees nothing to do.
    write_file(&src.join("f"), b"bbbb");
    touch(&src.join("f"), 20);
    let run = w.sync(&["--json-tracing", "--check-size", &src_arg, &target]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(w.get("f"), b"aaaa");

    // --check-etag sees the different content.
    let run = w.sync(&["--json-tracing", "--check-etag", &src_arg, &target]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(w.get("f"), b"bbbb");

    // Unchanged content, newer mtime: --check-etag skips it.
    touch(&src.join("f"), 40);
    let run = w.sync(&["--json-tracing", "--check-etag", &src_arg, &target]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("skipped"), 1);

    // Different size: --check-size transfers.
    write_file(&src.join("f"), b"ccccc");
    let run = w.sync(&["--json-tracing", "--check-size", &src_arg, &target]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(w.get("f"), b"ccccc");
}

#[test]
fn awkward_keys_round_trip_on_moto() {
    // s3s-fs decodes '+' as a space and '%' twice, so these keys are checked on moto.
    let w = World::new(Kind::Moto);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a b", b"1".to_vec()),
        ("plus+sign", b"2".to_vec()),
        ("per%cent", b"3".to_vec()),
        ("data++1", b"4".to_vec()),
        ("☃☃👪", b"5".to_vec()),
        ("()!'*~,;=&$@", b"6".to_vec()),
        ("dir/x", b"7".to_vec()),
    ];
    for (k, v) in &files {
        write_file(&w.path("src").join(k), v);
    }
    let run = w.sync(&[
        "--json-tracing",
        &w.path("src").display().to_string(),
        &w.url("k/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), files.len() as u64);
    assert_bucket_matches(&w, &w.path("src"), "k/", &files);
    // The listing of such keys is read back correctly: nothing is sent twice.
    let again = w.sync(&[
        "--json-tracing",
        &w.path("src").display().to_string(),
        &w.url("k/"),
    ]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0);
}

#[test]
fn delete_removes_only_target_only_objects_and_max_delete_caps_it() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("keep"), b"k");
    for k in ["p/stale1", "p/stale2", "p/stale3", "other/untouched"] {
        w.put(k, b"old");
    }
    let src_arg = src.display().to_string();
    let target = w.url("p/");

    // Without --delete nothing goes.
    w.sync(&[&src_arg, &target]).assert_code(0);
    assert_eq!(w.list("p/").len(), 4);

    // --max-delete 2 deletes exactly two and warns (exit 3).
    let run = w.sync(&[
        "--json-tracing",
        "--delete",
        "--max-delete",
        "2",
        &src_arg,
        &target,
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("deleted"), 2);
    assert_eq!(w.list("p/").len(), 2);

    let run = w.sync(&["--json-tracing", "--delete", &src_arg, &target]);
    run.assert_code(0);
    assert_eq!(run.summary("deleted"), 1);
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["other/untouched", "p/keep"]
    );
}

#[test]
fn dry_run_changes_nothing() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/new"), b"n");
    w.put("stale", b"s");
    let run = w.sync(&[
        "--json-tracing",
        "--dry-run",
        "--delete",
        &w.path("src").display().to_string(),
        &w.url(""),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("deleted"), 1);
    assert!(
        run.stdout.contains("[dry-run] sync completed."),
        "{}",
        run.stdout
    );
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["stale".to_string()]
    );
}

#[test]
fn wrong_secret_key_fails_with_one_line() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/f"), b"x");
    let args: Vec<String> = vec![
        "--target-endpoint-url".into(),
        w.endpoint().into(),
        "--target-access-key".into(),
        common::ACCESS_KEY.into(),
        "--target-secret-access-key".into(),
        "not-the-secret".into(),
        w.path("src").display().to_string(),
        w.url(""),
    ];
    let run = common::run(&args, &[]);
    run.assert_code(1);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("s3sync: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("SignatureDoesNotMatch") || errors[0].contains("AccessDenied"),
        "{}",
        errors[0]
    );
    assert!(!run.stderr.contains("not-the-secret") && !run.stdout.contains("not-the-secret"));
    assert!(w.list("").is_empty());
}

#[test]
fn credentials_and_endpoint_come_from_the_environment() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/f"), b"env");
    let src = w.path("src").display().to_string();
    let target = w.url("e/");
    let run = common::run(
        &[],
        &[
            ("SOURCE", src.as_str()),
            ("TARGET", target.as_str()),
            ("TARGET_ENDPOINT_URL", w.endpoint()),
            ("TARGET_FORCE_PATH_STYLE", "true"),
            ("AWS_ACCESS_KEY_ID", common::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", common::SECRET_KEY),
            ("JSON_TRACING", "true"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(w.get("e/f"), b"env");
}

#[test]
fn profile_from_the_shared_files() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/f"), b"prof");
    let creds = write_file(
        &w.path("aws/credentials"),
        format!(
            "[test]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            common::ACCESS_KEY,
            common::SECRET_KEY
        )
        .as_bytes(),
    );
    let config = write_file(
        &w.path("aws/config"),
        b"[profile test]\nregion = us-east-1\n",
    );
    let args: Vec<String> = vec![
        "--target-profile".into(),
        "test".into(),
        "--aws-shared-credentials-file".into(),
        creds.display().to_string(),
        "--target-endpoint-url".into(),
        w.endpoint().into(),
        w.path("src").display().to_string(),
        w.url(""),
    ];
    common::run(&args, &[("AWS_CONFIG_FILE", &config.display().to_string())]).assert_code(0);
    assert_eq!(w.get("f"), b"prof");
}

#[cfg(unix)]
#[test]
fn special_files_are_skipped_with_a_warning() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("real"), b"r");
    let fifo = src.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(made, "mkfifo failed");
    w.put("stale", b"s");
    let run = w.sync(&[
        "--json-tracing",
        "--delete",
        &src.display().to_string(),
        &w.url(""),
    ]);
    // A warning (exit 3): the FIFO is skipped and the real file lands. A FIFO is no object,
    // so it does not hold back --delete.
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("deleted"), 1);
    assert!(
        run.stdout.contains("pipe"),
        "the warning names the file: {}",
        run.stdout
    );
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["real".to_string()]
    );
}

#[test]
fn ignore_symlinks_skips_links() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("file"), b"f");
    #[cfg(unix)]
    {
        let _ = std::os::unix::fs::symlink(src.join("file"), src.join("link"));
    }
    let src_arg = src.display().to_string();
    w.sync(&["--ignore-symlinks", &src_arg, &w.url("a/")])
        .assert_code(0);
    assert_eq!(
        w.list("a/").keys().cloned().collect::<Vec<_>>(),
        vec!["a/file".to_string()]
    );
    w.sync(&[&src_arg, &w.url("b/")]).assert_code(0);
    assert_eq!(
        w.list("b/").keys().cloned().collect::<Vec<_>>(),
        vec!["b/file".to_string(), "b/link".to_string()]
    );
    assert_eq!(w.get("b/link"), b"f");
}

#[test]
fn connections_are_reused_across_requests() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    for i in 0..200 {
        write_file(&src.join(format!("f{i:03}")), &data(100, i));
    }
    let proxy = common::RecordingProxy::start(common::server(Kind::S3sFs).port());
    let mut args = w.target_args_at(&proxy.endpoint());
    let (s, t) = (src.display().to_string(), w.url("c/"));
    args.extend(["--json-tracing", "--worker-size", "4", &s, &t].map(String::from));
    let run = common::run(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 200);
    // 200 PUTs and a listing: one connection per worker and one for the lister, reused.
    let connections = proxy.connections();
    assert!(
        connections <= 4 + 16 + 2,
        "{connections} TCP connections for 201 requests"
    );
}

#[test]
fn pagination_and_large_delete_batches() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("keep"), b"k");
    // 1001 stale objects need two DeleteObjects batches; --max-keys 7 makes the listing
    // page many times.
    for i in 0..1001 {
        w.put(&format!("stale/{i:04}"), b"");
    }
    let run = w.sync(&[
        "--json-tracing",
        "--max-keys",
        "7",
        "--delete",
        &src.display().to_string(),
        &w.url(""),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("deleted"), 1001);
    assert_eq!(
        w.list("").keys().cloned().collect::<Vec<_>>(),
        vec!["keep".to_string()]
    );
    // The JSON stream ends with the summary record.
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.contains("\"message\":\"sync summary\""), "{last}");
}

#[test]
fn closed_stdout_is_not_an_error() {
    let w = World::new(Kind::S3sFs);
    for i in 0..50 {
        write_file(&w.path("src").join(format!("f{i}")), b"x");
    }
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3sync"));
    cmd.env_clear()
        .args(w.target_args())
        .args(["-vv", "--json-tracing"]);
    cmd.arg(w.path("src")).arg(w.url(""));
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    drop(child.stdout.take());
    let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    assert_eq!(status.code(), Some(0));
    assert_eq!(w.list("").len(), 50);
}

/// Part uploads held back a little, so that parts allowed to overlap do.
fn stall_parts(_n: u32, head: &str) -> Option<Fault> {
    head.lines()
        .next()
        .is_some_and(|l| l.starts_with("PUT ") && l.contains("partNumber="))
        .then_some(Fault::Stall(std::time::Duration::from_millis(400)))
}

/// `--max-parallel-uploads` caps the parts in flight across all files: a proxy sees at most
/// that many part uploads at once, and what lands is whole.
#[test]
fn max_parallel_uploads_caps_the_parts_in_flight() {
    let w = World::new(Kind::S3sFs);
    let files = [("a", data(15 * MIB + 1, 61)), ("b", data(15 * MIB + 2, 62))];
    for (name, body) in &files {
        write_file(&w.path("src").join(name), body);
    }
    for (limit, prefix) in [("1", "one/"), ("3", "three/")] {
        let proxy = ChaosProxy::start(common::server(w.kind).port(), stall_parts);
        let mut args = w.target_args_at(&proxy.endpoint());
        args.extend(PARTS_5MIB.map(String::from));
        args.extend(
            [
                "--json-tracing",
                "--max-parallel-uploads",
                limit,
                &s(&w.path("src")),
                &w.url(prefix),
            ]
            .map(String::from),
        );
        let run = common::run(&args, &[]);
        run.assert_code(0);
        assert_eq!(run.summary("etag_verified"), 2, "limit {limit}");
        for (name, body) in &files {
            let key = format!("{prefix}{name}");
            assert_eq!(w.etag(&key), multipart_etag(body, 5 * MIB), "{key}");
        }
        let peak = proxy.parts_peak();
        if limit == "1" {
            assert_eq!(peak, 1, "parts overlapped with --max-parallel-uploads 1");
        } else {
            assert!(
                (2..=3).contains(&peak),
                "{peak} parts at once with a limit of 3"
            );
        }
    }
}
