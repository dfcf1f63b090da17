//! Options the README promises, each checked against a real server.

mod common;

use common::{Kind, World, data, md5_hex, write_file};

/// The request head (up to the blank line) of the first request starting with `start`.
fn request_head(sent: &str, start: &str) -> String {
    let sent = sent.to_ascii_lowercase();
    let at = sent
        .find(start)
        .unwrap_or_else(|| panic!("no {start} request was sent"));
    let end = sent[at..].find("\r\n\r\n").map_or(sent.len(), |e| at + e);
    sent[at..end].to_string()
}

fn via_proxy(w: &World, extra: &[&str]) -> (common::Run, String) {
    let proxy = common::RecordingProxy::start(common::server(w.kind).port());
    let mut args = w.target_args_at(&proxy.endpoint());
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = common::run(&args, &[]);
    (run, proxy.sent())
}

#[test]
fn unsigned_payload_and_no_content_md5() {
    let w = World::new(Kind::S3sFs);
    let content = data(3000, 81);
    write_file(&w.path("src/f"), &content);
    let src = w.path("src").display().to_string();
    let (run, sent) = via_proxy(
        &w,
        &[
            "--json-tracing",
            "--disable-payload-signing",
            &src,
            &w.url("u/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    let put = request_head(&sent, "put /");
    assert!(
        put.contains("x-amz-content-sha256: unsigned-payload"),
        "{put}"
    );
    assert!(put.contains("content-md5:"), "{put}");

    let (run, sent) = via_proxy(
        &w,
        &[
            "--json-tracing",
            "--disable-content-md5-header",
            &src,
            &w.url("m/"),
        ],
    );
    run.assert_code(0);
    let put = request_head(&sent, "put /");
    assert!(!put.contains("content-md5:"), "{put}");
    // The ETag is still checked against the MD5 of what was sent.
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(md5_hex(&w.get("m/f")), md5_hex(&content));
}

#[test]
fn remove_modified_filter_sends_everything_again() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/a"), b"a");
    write_file(&w.path("src/b"), b"b");
    let src = w.path("src").display().to_string();
    w.sync(&[&src, &w.url("")]).assert_code(0);
    let run = w.sync(&[
        "--json-tracing",
        "--remove-modified-filter",
        &src,
        &w.url(""),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("skipped"), 0);
}

#[test]
fn multipart_verification_can_be_turned_off() {
    let w = World::new(Kind::S3sFs);
    let big = data(11 << 20, 82);
    write_file(&w.path("up/big"), &big);
    let up = w.path("up").display().to_string();
    w.sync_in_parts(&[&up, &w.url("")]).assert_code(0);
    // Default part size cannot reproduce the 5 MiB-part ETag: a warning, unless turned off.
    let down = w.path("down").display().to_string();
    let run = w.sync_from(&[
        "--json-tracing",
        "--disable-multipart-verify",
        &w.url(""),
        &down,
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("warning"), 0);
    assert_eq!(run.summary("etag_verified"), 0);
    assert_eq!(
        std::fs::read(w.path("down/big")).map(|d| md5_hex(&d)).ok(),
        Some(md5_hex(&big))
    );
    let down2 = w.path("down2").display().to_string();
    let run = w.sync_from(&[
        "--json-tracing",
        "--disable-etag-verify",
        &w.url(""),
        &down2,
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("warning"), 0);
    assert_eq!(run.summary("etag_verified"), 0);
    assert_eq!(
        std::fs::read(w.path("down2/big")).map(|d| md5_hex(&d)).ok(),
        Some(md5_hex(&big))
    );
    // Without the ETag check the download skips the MD5, but still verifies a checksum.
    let small = data(300 << 10, 83);
    write_file(&w.path("up2/small"), &small);
    let up2 = w.path("up2").display().to_string();
    let sum = w.path("sum").display().to_string();
    w.sync(&[
        "--additional-checksum-algorithm",
        "CRC32C",
        &up2,
        &w.url("sum/"),
    ])
    .assert_code(0);
    let run = w.sync_from(&[
        "--json-tracing",
        "--disable-etag-verify",
        "--enable-additional-checksum",
        &w.url("sum/"),
        &sum,
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 0);
    assert_eq!(run.summary("checksum_verified"), 1, "{}", run.stdout);
    assert_eq!(
        std::fs::read(w.path("sum/small")).map(|d| md5_hex(&d)).ok(),
        Some(md5_hex(&small))
    );
}

#[test]
fn logging_destinations_and_levels() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/f"), b"x");
    let src = w.path("src").display().to_string();
    let run = w.sync(&[
        "-v",
        "--tracing-stderr",
        "--show-no-progress",
        &src,
        &w.url("a/"),
    ]);
    run.assert_code(0);
    assert!(run.stdout.is_empty(), "logs went to stdout: {}", run.stdout);
    assert!(run.stderr.contains("sync completed."), "{}", run.stderr);
    assert!(
        !run.stderr.contains("objects/sec"),
        "--show-no-progress still printed the summary line"
    );
    let run = w.sync(&["-qq", &src, &w.url("b/")]);
    run.assert_code(0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = w.sync(&["-v", &src, &w.url("c/")]);
    assert!(
        run.stdout.contains("INFO sync completed."),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("transferred   1 objects"),
        "{}",
        run.stderr
    );
}

#[test]
fn unreachable_endpoint_fails_fast_with_one_attempt() {
    let dir = std::env::temp_dir().join(common::unique("unreach"));
    write_file(&dir.join("f"), b"x");
    let args: Vec<String> = [
        "--target-endpoint-url",
        "http://127.0.0.1:1",
        "--target-access-key",
        "a",
        "--target-secret-access-key",
        "b",
        "--aws-max-attempts",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([dir.display().to_string(), "s3://b/".to_string()])
    .collect();
    let started = std::time::Instant::now();
    let run = common::run(&args, &[]);
    run.assert_code(1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("s3sync: error:"))
        .unwrap_or_default();
    assert!(line.contains("127.0.0.1:1"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn request_tracing_shows_operations_and_never_secrets() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/f"), b"traced");
    let src = w.path("src").display().to_string();
    let run = w.sync(&[
        "-vvv",
        "--aws-sdk-tracing",
        "--span-events-tracing",
        &src,
        &w.url("t/"),
    ]);
    run.assert_code(0);
    let put = run
        .stdout
        .lines()
        .find(|l| l.contains("s3 request.") && l.contains("op=\"PutObject\""))
        .unwrap_or_else(|| panic!("no PutObject request line:\n{}", run.stdout));
    assert!(put.contains("status=200"), "{put}");
    assert!(put.contains("key=\"t/f\""), "{put}");
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !all.contains(common::SECRET_KEY),
        "the secret key was logged"
    );
    assert!(!all.contains("Signature="), "a signature was logged");
    assert_eq!(w.get("t/f"), b"traced");
}

/// The additional checksum S3 keeps for `key` (HeadObject in checksum mode).
fn stored_checksum(
    bucket: &str,
    key: &str,
) -> Option<(s3sync::integrity::checksum::Algorithm, String)> {
    let mut config = common::client(Kind::S3sFs).config().clone();
    config.checksum_mode = true;
    s3sync::s3::Client::new(config)
        .head_object(bucket, key)
        .unwrap_or_else(|e| panic!("HEAD {key}: {e}"))
        .unwrap_or_else(|| panic!("HEAD {key}: not found"))
        .checksum
}

#[test]
fn express_one_zone_targets_get_a_crc64nvme_checksum_by_default() {
    let w = World::new(Kind::S3sFs);
    let bucket = "dir1--use1-az4--x-s3";
    // Several tests may run this; the bucket may exist already.
    let _ = w.client.create_bucket(bucket);
    let content = data(5000, 9);
    write_file(&w.path("src/f"), &content);
    let src = w.path("src").display().to_string();
    let prefix = common::unique("x");
    let url = |p: &str| format!("s3://{bucket}/{prefix}/{p}/");
    w.sync(&["--json-tracing", &src, &url("on")]).assert_code(0);
    let stored = stored_checksum(bucket, &format!("{prefix}/on/f"));
    let expected = s3sync::integrity::checksum::ChecksumSpec::new(
        s3sync::integrity::checksum::Algorithm::Crc64Nvme,
        true,
    );
    let (algorithm, value) = stored.unwrap_or_else(|| panic!("no checksum stored"));
    assert_eq!(algorithm, expected.algorithm);
    assert_eq!(
        value,
        s3sync::integrity::checksum::of(expected.algorithm, &content)
    );
    w.sync(&[
        "--disable-express-one-zone-additional-checksum",
        &src,
        &url("off"),
    ])
    .assert_code(0);
    let stored = stored_checksum(bucket, &format!("{prefix}/off/f"));
    assert_eq!(stored, None);
}
