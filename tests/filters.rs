//! Filters and the options around them: which source objects a run looks at, which target
//! objects `--delete` may remove, `--head-each-target`, `--warn-as-error` and
//! `--ignore-glacier-warnings`. Checked against what landed, object by object.

mod common;

use common::{Kind, RecordingProxy, World, data, keys, md5_hex, s, touch, write_file};
use s3sync::util::time::Timestamp;

#[test]
fn key_and_size_filters_choose_what_is_uploaded() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let small = data(100, 1);
    write_file(&src.join("keep/a.txt"), &small);
    write_file(&src.join("keep/b.log"), &data(100, 2));
    write_file(&src.join("tmp/c.txt"), &data(100, 3));
    write_file(&src.join("big.txt"), &data(5000, 4));
    // A lookahead needs the backtracking engine; the include pattern does not.
    let run = w.sync(&[
        "--json-tracing",
        "--filter-include-regex",
        r"\.txt$",
        "--filter-exclude-regex",
        "^(?=tmp/)",
        "--filter-smaller-size",
        "2KiB",
        &s(&src),
        &w.url("k/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("skipped"), 3);
    assert_eq!(keys(&w, "k/"), vec!["keep/a.txt"]);
    assert_eq!(md5_hex(&w.get("k/keep/a.txt")), md5_hex(&small));

    let run = w.sync(&[
        "--json-tracing",
        "--filter-larger-size",
        "1KB",
        &s(&src),
        &w.url("l/"),
    ]);
    run.assert_code(0);
    assert_eq!(keys(&w, "l/"), vec!["big.txt"]);
    assert_eq!(w.get("l/big.txt"), data(5000, 4));
}

#[test]
fn time_filters_split_old_and_new_files() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    touch(&write_file(&src.join("old"), b"old"), -7200);
    touch(&write_file(&src.join("new"), b"new"), -60);
    let cut =
        Timestamp::from_system(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .rfc3339_seconds();
    w.sync(&["--filter-mtime-before", &cut, &s(&src), &w.url("b/")])
        .assert_code(0);
    assert_eq!(keys(&w, "b/"), vec!["old"]);
    assert_eq!(w.get("b/old"), b"old");
    w.sync(&["--filter-mtime-after", &cut, &s(&src), &w.url("a/")])
        .assert_code(0);
    assert_eq!(keys(&w, "a/"), vec!["new"]);
    assert_eq!(w.get("a/new"), b"new");
}

#[test]
fn content_type_filters_use_the_guessed_type_of_local_files() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("pic.png"), b"png");
    write_file(&src.join("doc.txt"), b"txt");
    write_file(&src.join("blob.unknownext"), b"bin");
    w.sync(&[
        "--filter-include-content-type-regex",
        "^(image/|application/octet-stream)",
        &s(&src),
        &w.url("i/"),
    ])
    .assert_code(0);
    assert_eq!(keys(&w, "i/"), vec!["blob.unknownext", "pic.png"]);
    assert_eq!(
        w.head("i/pic.png").meta.content_type.as_deref(),
        Some("image/png")
    );
    w.sync(&[
        "--filter-exclude-content-type-regex",
        "^text/",
        &s(&src),
        &w.url("e/"),
    ])
    .assert_code(0);
    assert_eq!(keys(&w, "e/"), vec!["blob.unknownext", "pic.png"]);
    // Without guessing a local file has no type: an include filter passes nothing.
    let run = w.sync(&[
        "--json-tracing",
        "--no-guess-mime-type",
        "--filter-include-content-type-regex",
        ".",
        &s(&src),
        &w.url("n/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("skipped"), 3);
    assert!(keys(&w, "n/").is_empty());
}

/// Files with an unknown or no extension are sent as `application/octet-stream` (moto, like
/// S3, would report `binary/octet-stream` for an object sent without a type), and the
/// content-type filters see that same type.
#[test]
fn files_of_unknown_type_are_sent_as_octet_stream() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    write_file(&src.join("README"), b"no extension");
    write_file(&src.join("blob.unknownext"), b"unknown extension");
    write_file(&src.join("page.html"), b"<p>known</p>");
    let run = w.sync(&[
        "--json-tracing",
        "--filter-include-content-type-regex",
        "^application/octet-stream$",
        &s(&src),
        &w.url("u/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(keys(&w, "u/"), vec!["README", "blob.unknownext"]);
    for key in ["u/README", "u/blob.unknownext"] {
        assert_eq!(
            w.head(key).meta.content_type.as_deref(),
            Some("application/octet-stream"),
            "{key}"
        );
    }
}

#[test]
fn delete_keeps_what_the_key_filters_leave_out_unless_delete_excluded() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    // Newer than the target objects written below, so the update check transfers them.
    touch(&write_file(&src.join("a.txt"), b"a"), 100);
    touch(&write_file(&src.join("tmp/c.txt"), b"c"), 100);
    for key in [
        "d/a.txt",
        "d/gone.txt",
        "d/other.bin",
        "d/tmp/c.txt",
        "d/tmp/x.txt",
    ] {
        w.put(key, b"old");
    }
    let run = w.sync(&[
        "--json-tracing",
        "--delete",
        "--filter-include-regex",
        r"\.txt$",
        "--filter-exclude-regex",
        "^tmp/",
        &s(&src),
        &w.url("d/"),
    ]);
    run.assert_code(0);
    // gone.txt is in scope and has no source: deleted. other.bin and tmp/x.txt are outside
    // the filters; tmp/c.txt's source exists but is excluded: all three stay.
    assert_eq!(run.summary("deleted"), 1);
    assert_eq!(
        keys(&w, "d/"),
        vec!["a.txt", "other.bin", "tmp/c.txt", "tmp/x.txt"]
    );
    assert_eq!(w.get("d/a.txt"), b"a");
    assert_eq!(w.get("d/tmp/c.txt"), b"old");

    let run = w.sync(&[
        "--json-tracing",
        "--delete",
        "--delete-excluded",
        "--filter-include-regex",
        r"\.txt$",
        "--filter-exclude-regex",
        "^tmp/",
        &s(&src),
        &w.url("d/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("deleted"), 2);
    // The counterpart of a listed source object is never a deletion candidate.
    assert_eq!(keys(&w, "d/"), vec!["a.txt", "tmp/c.txt"]);
}

#[test]
fn metadata_and_tag_filters_read_the_source_objects() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with(
        "p/a",
        b"a",
        &[("x-amz-meta-color", "red"), ("x-amz-meta-size", "big one")],
    );
    src.put_with(
        "p/b",
        b"b",
        &[
            ("x-amz-meta-color", "blue"),
            ("x-amz-tagging", "team=x&env=prod"),
        ],
    );
    src.put_with("p/c", b"c", &[("x-amz-tagging", "team=y")]);
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "--filter-include-metadata-regex",
            "^color=red,size=big%20one$",
            &["a"],
        ),
        ("--filter-exclude-metadata-regex", "color=", &["c"]),
        ("--filter-include-tag-regex", "^env=prod&team=x$", &["b"]),
        ("--filter-exclude-tag-regex", "team=", &["a"]),
        ("--filter-include-tag-regex", "team=(x|y)", &["b", "c"]),
    ];
    for (i, (option, pattern, expected)) in cases.iter().enumerate() {
        let prefix = format!("o{i}/");
        let run = src.sync_to(
            &dst,
            &[
                "--json-tracing",
                option,
                pattern,
                &src.url("p/"),
                &dst.url(&prefix),
            ],
        );
        run.assert_code(0);
        assert_eq!(keys(&dst, &prefix), expected.to_vec(), "{option} {pattern}");
        assert_eq!(
            run.summary("skipped") as usize,
            3 - expected.len(),
            "{option} {pattern}"
        );
        for key in expected.iter() {
            assert_eq!(dst.get(&format!("{prefix}{key}")), key.as_bytes());
        }
    }
}

/// The content filters' HEAD and tag request are the copy's too: one HEAD per object, the
/// tags of a copied object fetched once, and they still land on the copy.
#[test]
fn content_filters_read_each_source_object_once() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put("p/a", b"a");
    src.put_with("p/b", b"b", &[("x-amz-tagging", "team=x&env=prod")]);
    src.put_with("p/c", b"c", &[("x-amz-tagging", "team=y")]);
    for (mode, extra) in [
        ("server-side", None),
        ("streamed", Some("--client-side-copy")),
    ] {
        let proxy = RecordingProxy::start(common::server(Kind::Moto).port());
        let prefix = format!("{mode}/");
        let mut args = src.copy_args_at(&dst, &proxy.endpoint());
        args.extend(extra.map(String::from));
        args.extend(
            [
                "--json-tracing",
                "--filter-include-tag-regex",
                "team=x",
                &src.url("p/"),
                &dst.url(&prefix),
            ]
            .map(String::from),
        );
        let run = common::run(&args, &[]);
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 1, "{mode}");
        assert_eq!(run.summary("skipped"), 2, "{mode}");
        let sent = proxy.sent();
        let requests: Vec<&str> = sent.lines().filter(|l| l.ends_with(" HTTP/1.1")).collect();
        let heads = requests.iter().filter(|l| l.starts_with("HEAD ")).count();
        let tag_reads = requests
            .iter()
            .filter(|l| l.starts_with("GET ") && l.contains("tagging"))
            .count();
        assert_eq!(
            heads, 3,
            "{mode}: one HEAD per source object\n{requests:#?}"
        );
        assert_eq!(
            tag_reads, 2,
            "{mode}: the tags of b and c, once each\n{requests:#?}"
        );
        assert_eq!(keys(&dst, &prefix), vec!["b"], "{mode}");
        assert_eq!(dst.get(&format!("{prefix}b")), b"b");
        let mut tags = dst
            .client
            .get_object_tagging(&dst.bucket, &format!("{prefix}b"))
            .unwrap_or_else(|e| panic!("GetObjectTagging: {e}"));
        tags.sort();
        assert_eq!(
            tags,
            vec![
                ("env".to_string(), "prod".to_string()),
                ("team".to_string(), "x".to_string())
            ],
            "{mode}"
        );
    }
}

#[test]
fn head_each_target_asks_the_target_instead_of_listing_it() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    for name in ["a", "b", "c"] {
        write_file(&src.join(name), name.as_bytes());
    }
    w.sync(&[&s(&src), &w.url("h/")]).assert_code(0);
    let proxy = RecordingProxy::start(common::server(w.kind).port());
    let args = w.target_args_at(&proxy.endpoint());
    let via_proxy = |extra: &[&str]| {
        let mut all = args.clone();
        all.extend(extra.iter().map(|e| e.to_string()));
        common::run(&all, &[])
    };
    let run = via_proxy(&[
        "--json-tracing",
        "--head-each-target",
        &s(&src),
        &w.url("h/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("skipped"), 3);
    assert_eq!(run.summary("transferred_object"), 0);
    let sent = proxy.sent();
    assert!(
        !sent.contains("list-type=2"),
        "the target was listed:\n{sent}"
    );
    assert_eq!(sent.matches("HEAD /").count(), 3, "{sent}");

    std::fs::write(src.join("b"), b"b2").expect("rewrite b");
    touch(&src.join("b"), 100);
    let run = via_proxy(&[
        "--json-tracing",
        "--head-each-target",
        &s(&src),
        &w.url("h/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(w.get("h/b"), b"b2");
}

#[test]
fn archived_objects_warn_or_fail_or_pass_quietly() {
    let w = World::new(Kind::Moto);
    w.put_with("g/cold", b"cold", &[("x-amz-storage-class", "GLACIER")]);
    w.put("g/warm", b"warm");
    let down = w.path("down");
    let run = w.sync_from(&["--json-tracing", &w.url("g/"), &s(&down)]);
    run.assert_code(3);
    assert_eq!(run.summary("warning"), 1);
    assert_eq!(std::fs::read(down.join("warm")).expect("warm"), b"warm");
    assert!(!down.join("cold").exists());
    assert!(run.stdout.contains("archived"), "{}", run.stdout);

    let quiet = w.path("quiet");
    let run = w.sync_from(&[
        "--json-tracing",
        "--ignore-glacier-warnings",
        &w.url("g/"),
        &s(&quiet),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("warning"), 0);
    assert_eq!(run.summary("skipped"), 1);
    assert_eq!(std::fs::read(quiet.join("warm")).expect("warm"), b"warm");

    let strict = w.path("strict");
    let run = w.sync_from(&[
        "--json-tracing",
        "--warn-as-error",
        &w.url("g/"),
        &s(&strict),
    ]);
    run.assert_code(1);
    assert_eq!(run.summary("error"), 1);
    assert!(!strict.join("cold").exists());
}
