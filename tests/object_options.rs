//! Tags, storage class, ACL and encryption of target objects (moto keeps all of these).

mod common;

use common::{Kind, World, data, md5_hex, write_file};
use s3sync::s3::Request;

const SSE_C_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // base64 of 32 ASCII bytes

fn tags(w: &World, key: &str) -> Vec<(String, String)> {
    let mut t = w
        .client
        .get_object_tagging(&w.bucket, key)
        .unwrap_or_else(|e| panic!("tagging {key}: {e}"));
    t.sort();
    t
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn tags_are_carried_replaced_disabled_and_resynced() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with(
        "t/obj",
        b"data",
        &[("x-amz-tagging", "team=blue&note=two%20words")],
    );
    src.put("t/plain", b"no tags");
    // Streamed here (one endpoint would be copied by the server), server-side below.
    src.sync_to(
        &dst,
        &["--client-side-copy", &src.url("t/"), &dst.url("a/")],
    )
    .assert_code(0);
    assert_eq!(
        tags(&dst, "a/obj"),
        vec![pair("note", "two words"), pair("team", "blue")]
    );
    assert!(tags(&dst, "a/plain").is_empty());

    src.sync_to(
        &dst,
        &["--server-side-copy", &src.url("t/"), &dst.url("s/")],
    )
    .assert_code(0);
    assert_eq!(
        tags(&dst, "s/obj"),
        vec![pair("note", "two words"), pair("team", "blue")]
    );

    src.sync_to(&dst, &["--disable-tagging", &src.url("t/"), &dst.url("d/")])
        .assert_code(0);
    assert!(tags(&dst, "d/obj").is_empty());

    src.sync_to(
        &dst,
        &["--tagging", "k=v%20w%2Bx", &src.url("t/"), &dst.url("o/")],
    )
    .assert_code(0);
    assert_eq!(tags(&dst, "o/obj"), vec![pair("k", "v w+x")]);

    // The data is up to date; only the tags changed at the source.
    src.client
        .put_object_tagging(&src.bucket, "t/obj", &[pair("team", "red")])
        .unwrap_or_else(|e| panic!("put tagging: {e}"));
    let run = src.sync_to(
        &dst,
        &[
            "--json-tracing",
            "--sync-latest-tagging",
            &src.url("t/"),
            &dst.url("a/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("transferred_byte"), 0);
    assert_eq!(tags(&dst, "a/obj"), vec![pair("team", "red")]);
}

#[test]
fn storage_class_acl_and_sse_land_on_uploads() {
    let w = World::new(Kind::Moto);
    write_file(&w.path("src/f"), b"content");
    let src = w.path("src").display().to_string();
    w.sync(&[
        "--storage-class",
        "STANDARD_IA",
        "--acl",
        "public-read",
        "--sse",
        "AES256",
        "--tagging",
        "a=1",
        &src,
        &w.url("x/"),
    ])
    .assert_code(0);
    let head = w.head("x/f");
    assert_eq!(head.storage_class.as_deref(), Some("STANDARD_IA"));
    assert_eq!(head.sse.as_deref(), Some("AES256"));
    assert_eq!(tags(&w, "x/f"), vec![pair("a", "1")]);
    let req = Request::new("GetObjectAcl", "GET", &w.bucket, Some("x/f")).query("acl", "");
    let (_, acl) = w
        .client
        .send_text(&req)
        .unwrap_or_else(|e| panic!("GetObjectAcl: {e}"));
    assert!(acl.contains("AllUsers") && acl.contains("READ"), "{acl}");

    // SSE-KMS: the key id goes out, and the ETag (not an MD5 under KMS) is not held against us.
    let run = w.sync(&[
        "--json-tracing",
        "--sse",
        "aws:kms",
        "--sse-kms-key-id",
        "alias/test",
        &src,
        &w.url("k/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 0);
    assert_eq!(w.head("k/f").sse.as_deref(), Some("aws:kms"));

    // S3 → S3 keeps the source's storage class unless told otherwise.
    let other = World::new(Kind::Moto);
    w.sync_to(&other, &[&w.url("x/"), &other.url("y/")])
        .assert_code(0);
    assert_eq!(
        other.head("y/f").storage_class.as_deref(),
        Some("STANDARD_IA")
    );
}

#[test]
fn sse_c_round_trip_never_logs_the_key() {
    let w = World::new(Kind::Moto);
    let content = data(50_000, 71);
    write_file(&w.path("src/secret.bin"), &content);
    // moto accepts SSE-C headers without reporting them back, so check what went out.
    let proxy = common::RecordingProxy::start(common::server(Kind::Moto).port());
    let mut args = w.target_args_at(&proxy.endpoint());
    let src = w.path("src").display().to_string();
    let url = w.url("c/");
    args.extend(
        [
            "-vvv",
            "--target-sse-c",
            "AES256",
            "--target-sse-c-key",
            SSE_C_KEY,
            &src,
            &url,
        ]
        .map(String::from),
    );
    let up = common::run(&args, &[]);
    up.assert_code(0);
    assert!(
        !up.stdout.contains(SSE_C_KEY) && !up.stderr.contains(SSE_C_KEY),
        "the key leaked into the output"
    );
    let sent = proxy.sent().to_ascii_lowercase();
    // Only the PUT request's own header block counts.
    let start = sent
        .find("put /")
        .unwrap_or_else(|| panic!("the upload did not go through the proxy"));
    let end = sent[start..]
        .find("\r\n\r\n")
        .map_or(sent.len(), |e| start + e);
    let put = &sent[start..end];
    assert!(
        put.contains("x-amz-server-side-encryption-customer-algorithm: aes256"),
        "{put}"
    );
    let key_header = format!(
        "x-amz-server-side-encryption-customer-key: {}",
        SSE_C_KEY.to_ascii_lowercase()
    );
    assert!(put.contains(&key_header), "{put}");
    let down = w.sync_from(&[
        "-vvv",
        "--source-sse-c",
        "AES256",
        "--source-sse-c-key",
        SSE_C_KEY,
        &w.url("c/"),
        &w.path("down").display().to_string(),
    ]);
    down.assert_code(0);
    assert!(!down.stdout.contains(SSE_C_KEY) && !down.stderr.contains(SSE_C_KEY));
    assert_eq!(
        std::fs::read(w.path("down/secret.bin"))
            .map(|d| md5_hex(&d))
            .ok(),
        Some(md5_hex(&content))
    );
}

#[test]
fn bad_values_exit_2_without_echoing_keys() {
    let d = std::env::temp_dir().display().to_string();
    let env = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
    let cases: &[(&[&str], &str)] = &[
        (&["--storage-class", "COLD"], "--storage-class"),
        (&["--acl", "everyone"], "--acl"),
        (&["--sse", "rot13"], "--sse"),
        (&["--sse-kms-key-id", "k"], "--sse-kms-key-id"),
        (&["--tagging", "=x"], "--tagging"),
        (
            &[
                "--target-sse-c",
                "AES256",
                "--target-sse-c-key",
                "c2hvcnQta2V5LXNlY3JldA==",
            ],
            "--target-sse-c-key",
        ),
        (&["--target-sse-c", "AES256"], "--target-sse-c"),
        (&["--sync-latest-tagging"], "--sync-latest-tagging"),
    ];
    for (extra, name) in cases {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.push(d.clone());
        a.push("s3://bucket/p".into());
        let r = common::run(&a, &env);
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains(name), "{extra:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("c2hvcnQta2V5LXNlY3JldA=="),
            "a key was echoed: {}",
            r.stderr
        );
    }
}

#[test]
fn request_payer_and_copy_source_keys_are_sent() {
    let w = World::new(Kind::Moto);
    let other = World::new(Kind::Moto);
    write_file(&w.path("src/f"), b"payer");
    let proxy = common::RecordingProxy::start(common::server(Kind::Moto).port());
    let src = w.path("src").display().to_string();
    let url = w.url("rp/");
    let mut args = w.target_args_at(&proxy.endpoint());
    args.extend(["--target-request-payer", src.as_str(), url.as_str()].map(String::from));
    common::run(&args, &[]).assert_code(0);
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(
        sent.contains("x-amz-request-payer: requester"),
        "request payer header missing"
    );
    assert_eq!(w.get("rp/f"), b"payer");

    // A server-side copy of an SSE-C object presents the source key as copy-source headers.
    let up = w.sync(&[
        "--target-sse-c",
        "AES256",
        "--target-sse-c-key",
        SSE_C_KEY,
        &src,
        &w.url("enc/"),
    ]);
    up.assert_code(0);
    let proxy = common::RecordingProxy::start(common::server(Kind::Moto).port());
    let mut args = w.copy_args_at(&other, &proxy.endpoint());
    let (from, to) = (w.url("enc/"), other.url("dec/"));
    args.extend(
        [
            "--server-side-copy",
            "--source-sse-c",
            "AES256",
            "--source-sse-c-key",
            SSE_C_KEY,
            &from,
            &to,
        ]
        .map(String::from),
    );
    common::run(&args, &[]).assert_code(0);
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(
        sent.contains("x-amz-copy-source-server-side-encryption-customer-algorithm: aes256"),
        "{sent}"
    );
    assert_eq!(other.get("dec/f"), b"payer");
}

#[test]
fn expires_is_carried_and_overridden() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with("e/o", b"x", &[("expires", "Wed, 01 Jan 2031 00:00:00 GMT")]);
    src.sync_to(&dst, &[&src.url("e/"), &dst.url("a/")])
        .assert_code(0);
    assert_eq!(
        dst.head("a/o").meta.expires.as_deref(),
        Some("Wed, 01 Jan 2031 00:00:00 GMT")
    );
    src.sync_to(
        &dst,
        &[
            "--expires",
            "2032-02-03T04:05:06Z",
            &src.url("e/"),
            &dst.url("b/"),
        ],
    )
    .assert_code(0);
    assert_eq!(
        dst.head("b/o").meta.expires.as_deref(),
        Some("Tue, 03 Feb 2032 04:05:06 GMT")
    );
}
