//! Conditional writes (`--if-match`, `--if-none-match`, `--copy-source-if-match`) against
//! moto, which evaluates the conditions: a failed one skips the object with a warning (an
//! error with `--warn-as-error`) and leaves the target as it was.

mod common;

use common::{Kind, RecordingProxy, World, data, md5_hex, s, touch, write_file};

#[test]
fn if_none_match_never_replaces_an_existing_object() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    w.put("c/exists", b"original");
    w.put("c/big", b"original big");
    // Newer than the target, so the update check alone would overwrite both.
    touch(&write_file(&src.join("exists"), b"replacement"), 100);
    let big = data(6 << 20, 7);
    touch(&write_file(&src.join("big"), &big), 100);
    write_file(&src.join("fresh"), b"fresh");
    let run = w.sync(&[
        "--json-tracing",
        "--if-none-match",
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        &s(&src),
        &w.url("c/"),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("warning"), 2);
    assert!(run.stdout.contains("precondition"), "{}", run.stdout);
    // The single PUT and the multipart upload (refused at completion) both left the
    // originals in place; the new object was written.
    assert_eq!(w.get("c/exists"), b"original");
    assert_eq!(w.get("c/big"), b"original big");
    assert_eq!(w.get("c/fresh"), b"fresh");

    let run = w.sync(&[
        "--json-tracing",
        "--if-none-match",
        "--warn-as-error",
        &s(&src),
        &w.url("c/"),
    ]);
    run.assert_code(1);
    assert_eq!(run.summary("error"), 2);
    assert_eq!(w.get("c/exists"), b"original");
}

#[test]
fn if_match_sends_the_etag_seen_and_guards_new_keys() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    w.put("m/a", b"old a");
    w.put("m/stale", b"target only");
    let listed_etag = format!("\"{}\"", w.etag("m/a"));
    let stale_etag = format!("\"{}\"", w.etag("m/stale"));
    touch(&write_file(&src.join("a"), b"new a"), 100);
    write_file(&src.join("b"), b"new b");
    let proxy = RecordingProxy::start(common::server(w.kind).port());
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--if-match",
            "--delete",
            &s(&src),
            &w.url("m/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("deleted"), 1);
    assert!(!w.list("m/").contains_key("m/stale"));
    assert_eq!(md5_hex(&w.get("m/a")), md5_hex(b"new a"));
    assert_eq!(w.get("m/b"), b"new b");
    let sent = proxy.sent().to_ascii_lowercase();
    let put_a = sent
        .split("put /")
        .find(|r| r.starts_with(&format!("{}/m/a ", w.bucket)))
        .unwrap_or_else(|| panic!("no PUT of m/a in:\n{sent}"));
    assert!(
        put_a.contains(&format!("if-match: {listed_etag}")),
        "PUT m/a without If-Match {listed_etag}:\n{put_a}"
    );
    let put_b = sent
        .split("put /")
        .find(|r| r.starts_with(&format!("{}/m/b ", w.bucket)))
        .unwrap_or_else(|| panic!("no PUT of m/b in:\n{sent}"));
    assert!(put_b.contains("if-none-match: *"), "{put_b}");
    // The deletion is one DeleteObject carrying the ETag the listing showed.
    let delete = sent
        .split("delete /")
        .find(|r| r.starts_with(&format!("{}/m/stale ", w.bucket)))
        .unwrap_or_else(|| panic!("no DELETE of m/stale in:\n{sent}"));
    assert!(
        delete.contains(&format!("if-match: {stale_etag}")),
        "{delete}"
    );
}

#[test]
fn copy_source_if_match_guards_server_side_copies() {
    let w = World::new(Kind::Moto);
    w.put("s/one", b"one");
    let etag = format!("\"{}\"", w.etag("s/one"));
    let proxy = RecordingProxy::start(common::server(w.kind).port());
    let run = common::run_with(
        w.copy_args_at(&w, &proxy.endpoint()),
        &[
            "--json-tracing",
            "--server-side-copy",
            "--copy-source-if-match",
            &w.url("s/"),
            &w.url("t/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(w.get("t/one"), b"one");
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(
        sent.contains(&format!("x-amz-copy-source-if-match: {etag}")),
        "{sent}"
    );
}

/// `--remove-modified-filter --head-each-target`, the pair the reference recommends to save
/// memory: the target is never listed, yet the update check is kept, made with one HEAD per
/// source object, whose ETag also serves `--if-match`.
#[test]
fn head_each_target_without_listing_keeps_the_update_check_and_the_if_match_etag() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    w.put("h/a", b"old a");
    w.put("h/c", b"old c");
    let etag_c = format!("\"{}\"", w.etag("h/c"));
    // Older than its target: skipped, as without --remove-modified-filter.
    touch(&write_file(&src.join("a"), b"new a"), -3600);
    write_file(&src.join("b"), b"new b");
    // Newer than its target: sent, guarded by the ETag its HEAD saw.
    touch(&write_file(&src.join("c"), b"new c"), 3600);
    let proxy = RecordingProxy::start(common::server(w.kind).port());
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--head-each-target",
            "--remove-modified-filter",
            "--if-match",
            &s(&src),
            &w.url("h/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(w.get("h/a"), b"old a");
    assert_eq!(w.get("h/b"), b"new b");
    assert_eq!(w.get("h/c"), b"new c");
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(
        !sent.contains("list-type=2"),
        "the target was listed:\n{sent}"
    );
    assert_eq!(sent.matches("head /").count(), 3, "{sent}");
    let put = |key: &str| -> Option<String> {
        sent.split("put /")
            .find(|r| r.starts_with(&format!("{}/h/{key} ", w.bucket)))
            .map(str::to_string)
    };
    assert!(put("a").is_none(), "a was sent although older");
    let put_c = put("c").unwrap_or_else(|| panic!("no PUT of h/c in:\n{sent}"));
    assert!(put_c.contains(&format!("if-match: {etag_c}")), "{put_c}");
    let put_b = put("b").unwrap_or_else(|| panic!("no PUT of h/b in:\n{sent}"));
    assert!(put_b.contains("if-none-match: *"), "{put_b}");
}

/// `--remove-modified-filter` with a `--check-*` option keeps that comparison too (by HEAD,
/// without listing the target); alone it sends everything.
#[test]
fn remove_modified_filter_with_a_check_option_keeps_the_comparison() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    write_file(&src.join("same"), b"same bytes");
    write_file(&src.join("changed"), b"new bytes");
    w.put("k/same", b"same bytes");
    w.put("k/changed", b"old bytes");
    let proxy = RecordingProxy::start(common::server(w.kind).port());
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--remove-modified-filter",
            "--check-etag",
            &s(&src),
            &w.url("k/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(w.get("k/changed"), b"new bytes");
    let sent = proxy.sent().to_ascii_lowercase();
    assert!(!sent.contains("list-type=2"), "listed:\n{sent}");
    assert!(
        !sent.contains(&format!("put /{}/k/same ", w.bucket)),
        "an equal object was sent again:\n{sent}"
    );
}
