//! S3 → S3, streamed (across servers) and server-side, with metadata.

mod common;

use common::chaos::{ChaosProxy, Fault};
use common::{Kind, World, data, md5_hex, multipart_etag, write_file};

const MIB: usize = 1 << 20;

#[test]
fn streams_across_servers_and_verifies() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::S3sFs);
    let small = data(100_000, 31);
    let big = data(18 * MIB, 32);
    src.put("s/small", &small);
    src.put("s/empty", b"");
    write_file(&src.path("big/big"), &big);
    src.sync(&[&src.path("big").display().to_string(), &src.url("s/")])
        .assert_code(0);

    let run = src.sync_to(&dst, &["--json-tracing", &src.url("s/"), &dst.url("t/")]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 3);
    assert_eq!(run.summary("etag_verified"), 3);
    assert_eq!(md5_hex(&dst.get("t/small")), md5_hex(&small));
    assert_eq!(dst.get("t/empty"), b"");
    assert_eq!(md5_hex(&dst.get("t/big")), md5_hex(&big));
    assert_eq!(dst.etag("t/big"), multipart_etag(&big, 8 * MIB));

    let again = src.sync_to(&dst, &["--json-tracing", &src.url("s/"), &dst.url("t/")]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0);
}

/// Metadata on the same server: copied by the server (the default there) and streamed.
#[test]
fn metadata_is_carried_and_overridden() {
    // --json-tracing only changes the log format: it stands for "no option" here.
    metadata_case("--json-tracing");
    metadata_case("--client-side-copy");
}

fn metadata_case(mode: &str) {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with(
        "m/doc",
        b"<p>hi</p>",
        &[
            ("content-type", "text/html"),
            ("cache-control", "max-age=60"),
            ("content-disposition", "inline"),
            ("content-language", "en"),
            ("content-encoding", "identity"),
            ("x-amz-meta-owner", "alice"),
            ("x-amz-website-redirect-location", "/other"),
        ],
    );
    src.sync_to(&dst, &[mode, &src.url("m/"), &dst.url("a/")])
        .assert_code(0);
    let head = dst.head("a/doc");
    assert_eq!(head.meta.content_type.as_deref(), Some("text/html"));
    assert_eq!(head.meta.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(head.meta.content_disposition.as_deref(), Some("inline"));
    assert_eq!(head.meta.content_language.as_deref(), Some("en"));
    assert_eq!(head.meta.content_encoding.as_deref(), Some("identity"));
    assert_eq!(head.meta.website_redirect.as_deref(), Some("/other"));
    assert_eq!(
        head.meta.user,
        vec![("owner".to_string(), "alice".to_string())]
    );

    src.sync_to(
        &dst,
        &[
            mode,
            "--content-type",
            "text/plain",
            "--metadata",
            "team=blue,tier=1",
            "--put-last-modified-metadata",
            &src.url("m/"),
            &dst.url("b/"),
        ],
    )
    .assert_code(0);
    let head = dst.head("b/doc");
    assert_eq!(head.meta.content_type.as_deref(), Some("text/plain"));
    assert_eq!(head.meta.cache_control.as_deref(), Some("max-age=60"));
    let names: Vec<&str> = head.meta.user.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, vec!["s3sync_origin_last_modified", "team", "tier"]);

    src.sync_to(
        &dst,
        &[
            mode,
            "--no-sync-user-defined-metadata",
            "--no-sync-system-metadata",
            &src.url("m/"),
            &dst.url("c/"),
        ],
    )
    .assert_code(0);
    let head = dst.head("c/doc");
    assert!(head.meta.user.is_empty(), "{:?}", head.meta.user);
    assert_eq!(head.meta.cache_control, None);
}

#[test]
fn server_side_copy_small_and_multipart() {
    let w = World::new(Kind::Moto);
    let other = World::new(Kind::Moto);
    let (small, big) = copy_sources(&w);
    let run = w.sync_to(
        &other,
        &[
            "--json-tracing",
            "--server-side-copy",
            "--multipart-chunksize",
            "5MiB",
            "--multipart-threshold",
            "5MiB",
            &w.url("src/"),
            &other.url("dst/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    assert_eq!(other.etag("dst/big"), w.etag("src/big"));
    assert_eq!(md5_hex(&other.get("dst/big")), md5_hex(&big));
    assert_eq!(other.get("dst/small"), small);
    assert_eq!(
        other.head("dst/small").meta.content_type.as_deref(),
        Some("application/x-test")
    );
}

#[test]
fn server_side_copy_needs_one_endpoint() {
    let a = World::new(Kind::Moto);
    let b = World::new(Kind::S3sFs);
    let run = a.sync_to(&b, &["--server-side-copy", &a.url(""), &b.url("")]);
    run.assert_code(2);
    assert!(run.stderr.contains("--server-side-copy"), "{}", run.stderr);
}

#[test]
fn local_uploads_guess_content_type() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("src/img.png"), b"png");
    write_file(&w.path("src/page.html"), b"<p>");
    w.sync(&[&w.path("src").display().to_string(), &w.url("g/")])
        .assert_code(0);
    assert_eq!(
        w.head("g/img.png").meta.content_type.as_deref(),
        Some("image/png")
    );
    assert_eq!(
        w.head("g/page.html").meta.content_type.as_deref(),
        Some("text/html")
    );
    w.sync(&[
        "--no-guess-mime-type",
        "--cache-control",
        "no-cache",
        &w.path("src").display().to_string(),
        &w.url("n/"),
    ])
    .assert_code(0);
    let head = w.head("n/img.png");
    assert_ne!(head.meta.content_type.as_deref(), Some("image/png"));
    assert_eq!(head.meta.cache_control.as_deref(), Some("no-cache"));
}

/// Runs an S3 → S3 sync between two buckets of `src`'s server, both sides through one
/// recording proxy; returns the run and every request sent.
fn one_endpoint(src: &World, dst: &World, extra: &[&str]) -> (common::Run, String) {
    one_endpoint_as(src, dst, None, extra)
}

/// Like `one_endpoint`, the target side signing with `target_key` when given.
fn one_endpoint_as(
    src: &World,
    dst: &World,
    target_key: Option<&str>,
    extra: &[&str],
) -> (common::Run, String) {
    let proxy = common::RecordingProxy::start(common::server(src.kind).port());
    let mut args = src.copy_args_at(dst, &proxy.endpoint());
    if let Some(key) = target_key
        && let Some(at) = args.iter().position(|a| a == "--target-access-key")
    {
        args[at + 1] = key.to_string();
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = common::run(&args, &[]);
    (run, proxy.sent().to_ascii_lowercase())
}

/// The objects of `src/` on `w`: a small one with a Content-Type and an 11 MiB one uploaded
/// in 5 MiB parts.
fn copy_sources(w: &World) -> (Vec<u8>, Vec<u8>) {
    let small = data(1000, 43);
    let big = data(11 * MIB, 44);
    w.put_with(
        "src/small",
        &small,
        &[
            ("content-type", "application/x-test"),
            ("x-amz-meta-k", "v"),
        ],
    );
    write_file(&w.path("up/big"), &big);
    w.sync_in_parts(&[&w.path("up").display().to_string(), &w.url("src/")])
        .assert_code(0);
    (small, big)
}

/// One endpoint and one identity: the server copies by default (as aws-cli, rclone and s5cmd
/// do), keeping part sizes, so the ETags still verify; no object body crosses the wire.
#[test]
fn one_endpoint_is_copied_by_the_server_by_default() {
    let w = World::new(Kind::Moto);
    let other = World::new(Kind::Moto);
    let (small, big) = copy_sources(&w);
    let (run, sent) = one_endpoint(
        &w,
        &other,
        &["--json-tracing", &w.url("src/"), &other.url("dst/")],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    assert!(
        sent.contains("x-amz-copy-source:"),
        "no server-side copy was asked for"
    );
    let body_get = format!("get /{}/src/", w.bucket);
    assert!(
        !sent.contains(&body_get),
        "an object was read through s3sync"
    );
    assert_eq!(other.etag("dst/big"), w.etag("src/big"));
    assert_eq!(md5_hex(&other.get("dst/big")), md5_hex(&big));
    assert_eq!(other.get("dst/small"), small);
    let head = other.head("dst/small");
    assert_eq!(
        head.meta.content_type.as_deref(),
        Some("application/x-test")
    );
    assert_eq!(head.meta.user, vec![("k".to_string(), "v".to_string())]);
    // Up to date now: nothing is copied again.
    let (again, _) = one_endpoint(
        &w,
        &other,
        &["--json-tracing", &w.url("src/"), &other.url("dst/")],
    );
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0);
}

/// `--client-side-copy`, a checksum option or other credentials keep the bytes streaming
/// through s3sync.
#[test]
fn streaming_is_kept_where_asked_for_or_needed() {
    let w = World::new(Kind::Moto);
    let (small, big) = copy_sources(&w);
    // moto does not check keys: another access key is another identity to s3sync.
    let cases: &[(Option<&str>, &[&str])] = &[
        (None, &["--client-side-copy"]),
        (None, &["--enable-additional-checksum"]),
        (Some("someone-else"), &[]),
    ];
    for (key, extra) in cases {
        let other = World::new(Kind::Moto);
        let mut args = vec!["--json-tracing"];
        args.extend_from_slice(extra);
        let (src, dst) = (w.url("src/"), other.url("dst/"));
        args.extend([src.as_str(), dst.as_str()]);
        let (run, sent) = one_endpoint_as(&w, &other, *key, &args);
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 2, "{extra:?}");
        assert_eq!(run.summary("etag_verified"), 2, "{extra:?}");
        assert!(
            !sent.contains("x-amz-copy-source:"),
            "{extra:?}: copied by the server"
        );
        assert_eq!(md5_hex(&other.get("dst/big")), md5_hex(&big), "{extra:?}");
        assert_eq!(other.get("dst/small"), small, "{extra:?}");
    }
    let other = World::new(Kind::Moto);
    let run = w.sync_to(
        &other,
        &[
            "--client-side-copy",
            "--server-side-copy",
            &w.url("src/"),
            &other.url("dst/"),
        ],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("--client-side-copy"), "{}", run.stderr);
}

/// A store without UploadPartCopy (the proxy answers 501 NotImplemented to it): the
/// multipart object is streamed instead, the small one still copied by the server, and both
/// verify.
#[test]
fn an_object_the_server_will_not_copy_is_streamed() {
    let w = World::new(Kind::Moto);
    let other = World::new(Kind::Moto);
    let (small, big) = copy_sources(&w);
    fn no_part_copy(_n: u32, head: &str) -> Option<Fault> {
        let head = head.to_ascii_lowercase();
        (head.contains("partnumber=") && head.contains("x-amz-copy-source:"))
            .then_some(Fault::NotImplemented)
    }
    let chaos = ChaosProxy::start(common::server(w.kind).port(), no_part_copy);
    let proxy = common::RecordingProxy::start(chaos.port);
    let run = common::run_with(
        w.copy_args_at(&other, &proxy.endpoint()),
        &["--json-tracing", "-v", &w.url("src/"), &other.url("dst/")],
    );
    run.assert_code(0);
    let sent = proxy.sent().to_ascii_lowercase();
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    assert_eq!(run.summary("warning"), 0);
    assert!(chaos.injected() >= 1, "no UploadPartCopy was tried");
    assert!(
        run.stdout.contains("passes through s3sync instead"),
        "{}",
        run.stdout
    );
    assert!(
        sent.contains(&format!("get /{}/src/big", w.bucket)),
        "the big object was not streamed"
    );
    assert!(
        !sent.contains(&format!("get /{}/src/small", w.bucket)),
        "the small object was streamed"
    );
    assert_eq!(md5_hex(&other.get("dst/big")), md5_hex(&big));
    assert_eq!(other.etag("dst/big"), w.etag("src/big"));
    assert_eq!(other.get("dst/small"), small);
    // The refused multipart copy was aborted, not left open.
    let open = other
        .client
        .list_multipart_uploads(&other.bucket, "dst/")
        .unwrap_or_else(|e| panic!("ListMultipartUploads: {e}"));
    assert!(open.is_empty(), "{open:?}");
}

/// A streamed copy reads each source body to its end, so the GET's connection goes back to
/// the pool: 200 copies (400 requests) on a handful of connections, not one per object.
#[test]
fn streamed_copies_reuse_connections() {
    let w = World::new(Kind::S3sFs);
    let other = World::new(Kind::S3sFs);
    let src = w.path("src");
    for i in 0..200 {
        write_file(&src.join(format!("f{i:03}")), &data(100, i));
    }
    w.sync(&[&src.display().to_string(), &w.url("s/")])
        .assert_code(0);
    let proxy = common::RecordingProxy::start(common::server(Kind::S3sFs).port());
    let mut args = w.copy_args_at(&other, &proxy.endpoint());
    let (s, t) = (w.url("s/"), other.url("t/"));
    args.extend(
        [
            "--json-tracing",
            "--client-side-copy",
            "--worker-size",
            "4",
            &s,
            &t,
        ]
        .map(String::from),
    );
    let run = common::run(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 200);
    assert_eq!(run.summary("etag_verified"), 200);
    assert_eq!(other.get("t/f007"), data(100, 7));
    // Per side: one connection per worker, the listers and some slack; before the fix, 200+.
    let connections = proxy.connections();
    assert!(
        connections <= 2 * (4 + 16 + 2),
        "{connections} TCP connections for 400 copies' requests"
    );
}
