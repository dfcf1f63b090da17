//! Lua preprocess scripts (what objects written to S3 are given, or whether they are
//! written), and filter scripts on versioned sources, run by the binary against real
//! servers: s3s-fs, and moto for tags, storage classes and versions.

mod common;

use common::{Kind, World, data, keys, md5_hex, s, write_file};
use s3sync::s3::ops::ObjectHead;
use s3sync::s3::ops::versions::VersionListRequest;

const MIB: usize = 1 << 20;

fn script(w: &World, name: &str, text: &str) -> String {
    s(&write_file(
        &w.path(&format!("scripts/{name}")),
        text.as_bytes(),
    ))
}

fn user_meta<'h>(head: &'h ObjectHead, name: &str) -> Option<&'h str> {
    head.meta
        .user
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_preprocess_script_shapes_uploads_and_copies_and_can_skip_them() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("doc.txt"), &data(1000, 1));
    // Multipart: the metadata goes with CreateMultipartUpload.
    let big = data(6 * MIB + 7, 2);
    write_file(&src.join("big.bin"), &big);
    write_file(&src.join("skip/x.txt"), b"never");
    let shaper = script(
        &w,
        "shape.lua",
        r#"
        function preprocess_callback(o, u)
          if o.source_key:find("^skip/") then return false end
          assert(u.metadata.origin == "cli", "the CLI's metadata comes first")
          u.content_type = "application/x-lua-" .. o.key:match("%.(%w+)$")
          u.metadata["target-key"] = o.key
          u.metadata["length"] = o.content_length
          u.cache_control = "max-age=60"
          return true, u
        end"#,
    );
    let run = w.sync(&[
        "--json-tracing",
        "--metadata",
        "origin=cli",
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        "--preprocess-callback-lua-script",
        &shaper,
        &s(&src),
        &w.url("up/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(keys(&w, "up/"), vec!["big.bin", "doc.txt"]);
    assert_eq!(md5_hex(&w.get("up/big.bin")), md5_hex(&big));
    assert_eq!(md5_hex(&w.get("up/doc.txt")), md5_hex(&data(1000, 1)));
    for (key, ext, len) in [
        ("up/doc.txt", "txt", 1000),
        ("up/big.bin", "bin", big.len()),
    ] {
        let head = w.head(key);
        let want = format!("application/x-lua-{ext}");
        assert_eq!(
            head.meta.content_type.as_deref(),
            Some(want.as_str()),
            "{key}"
        );
        assert_eq!(
            head.meta.cache_control.as_deref(),
            Some("max-age=60"),
            "{key}"
        );
        assert_eq!(user_meta(&head, "origin"), Some("cli"), "{key}");
        assert_eq!(user_meta(&head, "target-key"), Some(key), "{key}");
        let len = len.to_string();
        assert_eq!(user_meta(&head, "length"), Some(len.as_str()), "{key}");
    }

    // S3 → S3: the table passed in holds the source's metadata; changed in place and
    // `return true` keeps the changes.
    let in_place = script(
        &w,
        "in_place.lua",
        r#"function preprocess_callback(o, u)
             assert(o.e_tag:sub(1, 1) == '"' and o.content_length > 0)
             u.content_language = "fr"
             u.metadata["origin"] = nil
             return true
           end"#,
    );
    let mut args = w.source_args();
    args.extend(w.target_args());
    args.extend(
        [
            "--filter-include-regex",
            "^doc",
            "--preprocess-callback-lua-script",
            &in_place,
            &w.url("up/"),
            &w.url("cp/"),
        ]
        .map(String::from),
    );
    common::run(&args, &[]).assert_code(0);
    let head = w.head("cp/doc.txt");
    assert_eq!(head.meta.content_language.as_deref(), Some("fr"));
    assert_eq!(
        head.meta.content_type.as_deref(),
        Some("application/x-lua-txt")
    );
    assert_eq!(user_meta(&head, "origin"), None);
    assert_eq!(user_meta(&head, "target-key"), Some("up/doc.txt"));
    assert_eq!(md5_hex(&w.get("cp/doc.txt")), md5_hex(&data(1000, 1)));

    // Never in a dry run.
    let refuse = script(
        &w,
        "refuse.lua",
        "function preprocess_callback() error('called') end",
    );
    let run = w.sync(&[
        "--dry-run",
        "--remove-modified-filter",
        "--preprocess-callback-lua-script",
        &refuse,
        &s(&src),
        &w.url("up/"),
    ]);
    run.assert_code(0);
    // Outside a dry run the same script stops the run, naming itself.
    let run = w.sync(&[
        "--remove-modified-filter",
        "--preprocess-callback-lua-script",
        &refuse,
        &s(&src),
        &w.url("x/"),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("preprocess callback failed: ")
            && run.stderr.contains("refuse.lua: refuse.lua:1: called"),
        "{}",
        run.stderr
    );
    assert!(keys(&w, "x/").is_empty());
}

#[test]
fn a_preprocess_script_sets_tags_and_storage_class_and_bad_values_stop_the_run() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with("p/a", b"tagged", &[("x-amz-tagging", "team=old")]);
    src.put("p/b", b"plain");
    let tagger = script(
        &src,
        "tags.lua",
        r#"function preprocess_callback(o, u)
             if o.source_key == "a" then
               assert(o.tag_count == 1 and u.tagging == "team=old", tostring(u.tagging))
             end
             u.tagging = "team=lua&note=a%20b"
             u.storage_class = "STANDARD_IA"
             return true, u
           end"#,
    );
    src.sync_to(
        &dst,
        &[
            "--preprocess-callback-lua-script",
            &tagger,
            &src.url("p/"),
            &dst.url("q/"),
        ],
    )
    .assert_code(0);
    for key in ["q/a", "q/b"] {
        let mut tags = dst
            .client
            .get_object_tagging(&dst.bucket, key)
            .unwrap_or_else(|e| panic!("tags of {key}: {e}"));
        tags.sort();
        let want = [("note", "a b"), ("team", "lua")].map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(tags, want, "{key}");
        assert_eq!(
            dst.head(key).storage_class.as_deref(),
            Some("STANDARD_IA"),
            "{key}"
        );
    }
    assert_eq!(dst.get("q/a"), b"tagged");

    let bad = script(
        &src,
        "bad.lua",
        "function preprocess_callback(o, u) u.storage_class = 'FAST' return true, u end",
    );
    let run = src.sync_to(
        &dst,
        &[
            "--preprocess-callback-lua-script",
            &bad,
            &src.url("p/"),
            &dst.url("r/"),
        ],
    );
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("bad.lua: upload_metadata: storage_class \"FAST\" is not one of"),
        "{}",
        run.stderr
    );
    assert!(keys(&dst, "r/").is_empty());
}

fn versioned() -> World {
    let w = World::new(Kind::Moto);
    w.client
        .put_bucket_versioning(&w.bucket, true)
        .unwrap_or_else(|e| panic!("PutBucketVersioning {}: {e}", w.bucket));
    w
}

/// (object versions, delete markers, whether the key reads as deleted) of `key`.
fn versions_of(w: &World, key: &str) -> (usize, usize, bool) {
    let page = w
        .client
        .list_object_versions(
            &w.bucket,
            &VersionListRequest {
                prefix: key,
                ..VersionListRequest::default()
            },
        )
        .unwrap_or_else(|e| panic!("ListObjectVersions {key}: {e}"));
    let mine: Vec<_> = page.versions.iter().filter(|v| v.key == key).collect();
    (
        mine.iter().filter(|v| !v.delete_marker).count(),
        mine.iter().filter(|v| v.delete_marker).count(),
        mine.iter().any(|v| v.delete_marker && v.is_latest),
    )
}

#[test]
fn versioned_sources_hand_versions_and_delete_markers_to_the_filter() {
    let src = versioned();
    let dst = versioned();
    src.put("v/a", b"a1");
    src.put("v/a", b"a2");
    src.client
        .delete_object(&src.bucket, "v/a")
        .unwrap_or_else(|e| panic!("DELETE v/a: {e}"));
    src.put("v/b", b"b1");
    let no_markers = script(
        &src,
        "no_markers.lua",
        r#"function filter(o)
             assert(o.version_id ~= nil, "no version id")
             if o.is_delete_marker then
               assert(o.e_tag == nil and o.size == 0 and o.is_latest, "marker fields")
               return false
             end
             assert(o.e_tag ~= nil)
             return true
           end"#,
    );
    let run = src.sync_to(
        &dst,
        &[
            "--json-tracing",
            "--enable-versioning",
            "--filter-callback-lua-script",
            &no_markers,
            &src.url("v/"),
            &dst.url("w/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 3);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(run.summary("deleted"), 0);
    assert_eq!(versions_of(&dst, "w/a"), (2, 0, false));
    assert_eq!(dst.get("w/a"), b"a2", "the delete marker was filtered out");
    assert_eq!(dst.get("w/b"), b"b1");
    // Without the filter the marker follows.
    src.sync_to(
        &dst,
        &["--enable-versioning", &src.url("v/"), &dst.url("w/")],
    )
    .assert_code(0);
    assert_eq!(versions_of(&dst, "w/a"), (2, 1, true));

    // A preprocess script that drops all metadata cannot drop the origin a copied version
    // is recognised by: the next run copies nothing again.
    src.put("v/b", b"b2");
    let wipe = script(
        &src,
        "wipe.lua",
        "function preprocess_callback(o, u) u.metadata = nil return true, u end",
    );
    let versioning = |extra: &[&str]| {
        let mut a = vec!["--json-tracing", "--enable-versioning"];
        a.extend(extra);
        let (from, to) = (src.url("v/"), dst.url("w/"));
        a.extend([from.as_str(), to.as_str()]);
        src.sync_to(&dst, &a)
    };
    let run = versioning(&["--preprocess-callback-lua-script", &wipe]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    let again = versioning(&[]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0);
    assert_eq!(versions_of(&dst, "w/b"), (2, 0, false));

    // --point-in-time: each object is pinned to its version of then.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let now = s3sync::util::time::Timestamp::now().rfc3339_millis();
    let pinned = script(
        &src,
        "pinned.lua",
        "function filter(o) return o.version_id ~= nil and o.is_latest and o.key == 'b' end",
    );
    let down = src.path("down");
    src.sync_from(&[
        "--point-in-time",
        &now,
        "--filter-callback-lua-script",
        &pinned,
        &src.url("v/"),
        &s(&down),
    ])
    .assert_code(0);
    assert_eq!(
        std::fs::read(down.join("b")).ok().as_deref(),
        Some(&b"b2"[..])
    );
    assert!(!down.join("a").exists());
}

/// `request_payer` of the preprocess table: `requester` when `--target-request-payer` is
/// given, and what the script returns is what the write sends (here: set for one object
/// only); any other value fails that object.
#[test]
fn a_preprocess_script_decides_the_request_payer_of_a_write() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    write_file(&src.join("paid.txt"), b"paid");
    write_file(&src.join("free.txt"), b"free");
    let payer = script(
        &w,
        "payer.lua",
        r#"
        function preprocess_callback(o, u)
          assert(u.request_payer == nil, "no --target-request-payer, no payer")
          if o.source_key == "paid.txt" then u.request_payer = "requester" end
          return true, u
        end"#,
    );
    let proxy = common::RecordingProxy::start(common::server(w.kind).port());
    let run = common::run_with(
        w.target_args_at(&proxy.endpoint()),
        &[
            "--json-tracing",
            "--preprocess-callback-lua-script",
            &payer,
            &s(&src),
            &w.url("rp/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(w.get("rp/paid.txt"), b"paid");
    assert_eq!(w.get("rp/free.txt"), b"free");
    let sent = proxy.sent().to_ascii_lowercase();
    let put = |key: &str| -> String {
        sent.split("put /")
            .find(|r| r.starts_with(&format!("{}/rp/{key} ", w.bucket)))
            .unwrap_or_else(|| panic!("no PUT of rp/{key} in:\n{sent}"))
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        put("paid.txt")
            .matches("x-amz-request-payer: requester")
            .count(),
        1
    );
    assert!(
        !put("free.txt").contains("x-amz-request-payer"),
        "{}",
        put("free.txt")
    );

    let wrong = script(
        &w,
        "wrong.lua",
        r#"
        function preprocess_callback(o, u)
          u.request_payer = "owner"
          return true, u
        end"#,
    );
    let run = w.sync(&[
        "--preprocess-callback-lua-script",
        &wrong,
        &s(&src),
        &w.url("bad/"),
    ]);
    run.assert_code(1);
    assert!(run.stderr.contains("request_payer"), "{}", run.stderr);
    assert!(keys(&w, "bad/").is_empty());
}
