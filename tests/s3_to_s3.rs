//! S3 → S3, streamed (across servers) and server-side, with metadata.

mod common;

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

#[test]
fn metadata_is_carried_and_overridden() {
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
    src.sync_to(&dst, &[&src.url("m/"), &dst.url("a/")])
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
    let small = data(1000, 41);
    let big = data(11 * MIB, 42);
    w.put_with(
        "src/small",
        &small,
        &[("content-type", "application/x-test")],
    );
    write_file(&w.path("up/big"), &big);
    w.sync(&[
        "--multipart-chunksize",
        "5MiB",
        "--multipart-threshold",
        "5MiB",
        &w.path("up").display().to_string(),
        &w.url("src/"),
    ])
    .assert_code(0);
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
