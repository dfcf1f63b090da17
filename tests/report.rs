//! `--report-sync-status` and its metadata and tagging variants: one record per object,
//! a summary record, exit 0 only when everything matches, and nothing written.

mod common;

use common::records::{field, report_summary as summary};

use std::collections::BTreeMap;

use common::{Kind, World, data, s, touch, write_file};

/// The records named `name`, as maps of the fields asked for, keyed by `key`.
fn records(stdout: &str, name: &str) -> Vec<BTreeMap<&'static str, String>> {
    const FIELDS: [&str; 12] = [
        "type",
        "status",
        "key",
        "source_e_tag",
        "target_e_tag",
        "checksum_algorithm",
        "source_checksum",
        "target_checksum",
        "metadata_name",
        "source_value",
        "target_value",
        "target_tagging",
    ];
    stdout
        .lines()
        .filter(|l| l.contains(&format!("\"name\":\"{name}\"")))
        .map(|l| {
            FIELDS
                .iter()
                .filter_map(|f| field(l, f).map(|v| (*f, v)))
                .collect()
        })
        .collect()
}

fn statuses(stdout: &str) -> BTreeMap<String, (String, String)> {
    records(stdout, "SYNC_STATUS")
        .into_iter()
        .map(|r| (r["key"].clone(), (r["type"].clone(), r["status"].clone())))
        .collect()
}

fn pair(t: &str, s: &str) -> (String, String) {
    (t.to_string(), s.to_string())
}

#[test]
fn local_to_s3_report_finds_matches_changes_and_missing_objects() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("same"), b"same bytes");
    write_file(&src.join("changed"), b"version 1");
    let big = data(9 << 20, 3);
    write_file(&src.join("big"), &big);
    w.sync(&[&s(&src), &w.url("r/")]).assert_code(0);
    let run = w.sync(&[
        "--json-tracing",
        "--report-sync-status",
        &s(&src),
        &w.url("r/"),
    ]);
    run.assert_code(0);
    assert_eq!(summary(&run.stdout, "etag_matches"), 3);
    assert_eq!(summary(&run.stdout, "number_of_objects"), 3);
    assert!(!run.stdout.contains("sync summary"), "{}", run.stdout);
    let big_record = records(&run.stdout, "SYNC_STATUS")
        .into_iter()
        .find(|r| r["key"] == "big")
        .expect("record for big");
    assert!(big_record["target_e_tag"].ends_with("-2"), "{big_record:?}");
    assert_eq!(big_record["source_e_tag"], big_record["target_e_tag"]);
    // s3s-fs does not tell part sizes: digested in other (assumed) sizes, the multipart
    // ETag differs, which proves nothing: UNKNOWN, not MISMATCH.
    let run = w.sync(&[
        "--json-tracing",
        "--report-sync-status",
        "--multipart-chunksize",
        "5MiB",
        &s(&src),
        &w.url("r/"),
    ]);
    run.assert_code(3);
    assert_eq!(statuses(&run.stdout)["big"], pair("ETAG", "UNKNOWN"));
    assert_eq!(summary(&run.stdout, "etag_unknown"), 1);

    // Same size, other bytes; and a file the target never got.
    std::fs::write(src.join("changed"), b"version 2").expect("rewrite");
    touch(&src.join("changed"), 100);
    write_file(&src.join("new"), b"new");
    let before = w.list("r/");
    let run = w.sync(&[
        "--json-tracing",
        "--report-sync-status",
        &s(&src),
        &w.url("r/"),
    ]);
    run.assert_code(3);
    let got = statuses(&run.stdout);
    assert_eq!(got["same"], pair("ETAG", "MATCHES"));
    assert_eq!(got["big"], pair("ETAG", "MATCHES"));
    assert_eq!(got["changed"], pair("ETAG", "MISMATCH"));
    assert_eq!(got["new"], pair("EXISTENCE", "NOT_FOUND"));
    assert_eq!(summary(&run.stdout, "etag_mismatch"), 1);
    assert_eq!(summary(&run.stdout, "not_found"), 1);
    // Nothing was written.
    assert_eq!(w.list("r/"), before);
    assert_eq!(w.get("r/changed"), b"version 1");
}

#[test]
fn checksum_report_compares_additional_checksums() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("with"), b"has a checksum");
    w.sync(&[
        "--additional-checksum-algorithm",
        "SHA256",
        &s(&src),
        &w.url("c/"),
    ])
    .assert_code(0);
    w.put("c/without", b"no checksum");
    write_file(&src.join("without"), b"no checksum");
    let run = w.sync(&[
        "--json-tracing",
        "--report-sync-status",
        "--check-additional-checksum",
        "SHA256",
        &s(&src),
        &w.url("c/"),
    ]);
    run.assert_code(3);
    let got = statuses(&run.stdout);
    assert_eq!(got["with"], pair("CHECKSUM", "MATCHES"));
    assert_eq!(got["without"], pair("CHECKSUM", "UNKNOWN"));
    let with = records(&run.stdout, "SYNC_STATUS")
        .into_iter()
        .find(|r| r["key"] == "with")
        .expect("record");
    assert_eq!(with["checksum_algorithm"], "SHA256");
    assert_eq!(with["source_checksum"], with["target_checksum"]);
    assert!(!with["source_checksum"].is_empty());
    assert_eq!(summary(&run.stdout, "checksum_matches"), 1);
    assert_eq!(summary(&run.stdout, "checksum_unknown"), 1);
}

#[test]
fn metadata_and_tagging_reports_compare_field_by_field() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with(
        "m/a",
        b"a",
        &[
            ("content-type", "text/plain"),
            ("x-amz-meta-owner", "ops"),
            ("x-amz-tagging", "team=blue"),
        ],
    );
    src.put_with("m/b", b"b", &[("x-amz-tagging", "team=red")]);
    src.sync_to(&dst, &[&src.url("m/"), &dst.url("m/")])
        .assert_code(0);
    let report = |src: &World| {
        src.sync_to(
            &dst,
            &[
                "--json-tracing",
                "--report-sync-status",
                "--report-metadata-sync-status",
                "--report-tagging-sync-status",
                &src.url("m/"),
                &dst.url("m/"),
            ],
        )
    };
    let run = report(&src);
    run.assert_code(0);
    assert_eq!(summary(&run.stdout, "metadata_matches"), 2);
    assert_eq!(summary(&run.stdout, "tagging_matches"), 2);

    // The target's copy of b gets other tags and a Content-Type of its own.
    dst.put_with(
        "m/b",
        b"b",
        &[
            ("content-type", "image/png"),
            ("x-amz-tagging", "team=green"),
        ],
    );
    let run = report(&src);
    run.assert_code(3);
    let meta: Vec<_> = records(&run.stdout, "METADATA_SYNC_STATUS")
        .into_iter()
        .filter(|r| r["key"] == "b" && r["status"] == "MISMATCH")
        .collect();
    assert_eq!(meta.len(), 1, "{meta:?}");
    assert_eq!(meta[0]["metadata_name"], "Content-Type");
    assert_eq!(meta[0]["target_value"], "image/png");
    let tags: BTreeMap<String, String> = records(&run.stdout, "TAGGING_SYNC_STATUS")
        .into_iter()
        .map(|r| (r["key"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(tags["a"], "MATCHES");
    assert_eq!(tags["b"], "MISMATCH");
    assert_eq!(summary(&run.stdout, "metadata_mismatch"), 1);
    assert_eq!(summary(&run.stdout, "tagging_mismatch"), 1);
    assert_eq!(summary(&run.stdout, "etag_matches"), 2);
}

#[test]
fn report_options_are_checked() {
    let dir = std::env::temp_dir().display().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["--report-metadata-sync-status"], "--report-sync-status"),
        (&["--report-sync-status", "--delete"], "--delete"),
        (&["--report-sync-status", "--check-size"], "--check-size"),
        (
            &["--report-sync-status", "--report-tagging-sync-status"],
            "s3://",
        ),
    ];
    for (extra, needle) in cases {
        let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        args.extend([dir.clone(), "s3://bucket/p".to_string()]);
        let run = common::run(
            &args,
            &[
                ("AWS_ACCESS_KEY_ID", "a"),
                ("AWS_SECRET_ACCESS_KEY", "b"),
                ("AWS_REGION", "us-east-1"),
            ],
        );
        run.assert_code(2);
        assert!(run.stderr.contains(needle), "{extra:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
}

/// An SSE-KMS object's ETag is no digest of its bytes (on S3; moto keeps an MD5, but a
/// multipart ETag against a single-part one shows the same blindness): the report never calls
/// such objects a MISMATCH by ETag. Checksums of one algorithm decide where both sides
/// have them; else the status is UNKNOWN. A real difference is still a MISMATCH.
#[test]
fn encrypted_objects_are_judged_by_checksum_or_unknown() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    let same = data(6 << 20, 1);
    let other = {
        let mut d = same.clone();
        d[100] ^= 1;
        d
    };
    write_file(&src.path("a/same"), &same);
    write_file(&src.path("a/other"), &same);
    write_file(&dst.path("b/other"), &other);
    write_file(&dst.path("b/same"), &same);
    let crc = [
        "--additional-checksum-algorithm",
        "CRC32",
        "--full-object-checksum",
    ];
    // Source: single-part; target: multipart and SSE-KMS, with "other" one bit off.
    let up = |w: &World, dir: &str, prefix: &str, extra: &[&str]| {
        let (from, to) = (s(&w.path(dir)), w.url(prefix));
        let run = w.sync(&[extra, &["--json-tracing", &from, &to]].concat());
        assert!(run.code == 0, "{}\n{}", run.stdout, run.stderr);
    };
    up(&src, "a", "k/", &crc);
    up(&src, "a", "n/", &[]);
    let parts = [&common::PARTS_5MIB[..], &["--sse", "aws:kms"]].concat();
    up(&dst, "b", "k/", &[&parts[..], &crc].concat());
    up(&dst, "b", "n/", &parts);
    assert_eq!(
        dst.head("k/same").sse.as_deref(),
        Some("aws:kms"),
        "moto is expected to report the encryption"
    );
    let report = |prefix: &str| {
        let run = src.sync_to(
            &dst,
            &[
                "--json-tracing",
                "--report-sync-status",
                &src.url(prefix),
                &dst.url(prefix),
            ],
        );
        run.assert_code(3);
        statuses(&run.stdout)
    };
    let with_sums = report("k/");
    assert_eq!(with_sums["same"].1, "MATCHES", "{with_sums:?}");
    assert_eq!(with_sums["other"].1, "MISMATCH", "{with_sums:?}");
    let without = report("n/");
    assert_eq!(without["same"].1, "UNKNOWN", "{without:?}");
    assert_eq!(without["other"].1, "UNKNOWN", "{without:?}");
}
