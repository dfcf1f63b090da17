//! Argument handling: exit codes and messages, without a server.

mod common;

use common::run;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn malformed_values_exit_2_naming_the_option() {
    let dir = std::env::temp_dir();
    let d = dir.display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--worker-size", "abc"], "--worker-size"),
        (&["--worker-size", "0"], "--worker-size"),
        (&["--multipart-chunksize", "1MiB"], "--multipart-chunksize"),
        (&["--multipart-threshold", "8XB"], "--multipart-threshold"),
        (&["--max-keys", "40000"], "--max-keys"),
        (&["--max-delete", "3"], "--max-delete"),
        (&["--check-size", "--check-etag"], "--check-etag"),
        (
            &["--target-endpoint-url", "ftp://x"],
            "--target-endpoint-url",
        ),
        (&["--no-such-option"], "--no-such-option"),
        (&["--dry-run=1"], "--dry-run"),
        (&["--filter-include-regex", "("], "--filter-include-regex"),
        (&["--filter-exclude-regex", "a)"], "--filter-exclude-regex"),
        (&["--filter-larger-size", "5XB"], "--filter-larger-size"),
        (&["--filter-smaller-size", "-1"], "--filter-smaller-size"),
        (
            &["--filter-mtime-before", "yesterday"],
            "--filter-mtime-before",
        ),
        (
            &["--filter-mtime-after", "2024-13-01T00:00:00Z"],
            "--filter-mtime-after",
        ),
        (
            &["--filter-include-metadata-regex", "a=b"],
            "--filter-include-metadata-regex",
        ),
        (
            &["--filter-exclude-tag-regex", "a=b"],
            "--filter-exclude-tag-regex",
        ),
        (&["--delete-excluded"], "--delete-excluded"),
        (&["--copy-source-if-match"], "--copy-source-if-match"),
        (&["--if-match", "--if-none-match"], "--if-none-match"),
    ];
    for (extra, name) in cases {
        let mut a = args(extra);
        a.push(d.clone());
        a.push("s3://bucket/p".into());
        let r = run(
            &a,
            &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
        );
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.trim().lines().count(),
            1,
            "{extra:?}: one line expected: {}",
            r.stderr
        );
        assert!(r.stderr.contains(name), "{extra:?}: {}", r.stderr);
    }
}

#[test]
fn bad_paths_exit_2() {
    let r = run(&args(&["/definitely/not/here", "s3://b/"]), &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("SOURCE"), "{}", r.stderr);
    let r = run(&args(&["."]), &[]);
    r.assert_code(2);
    let r = run(&args(&[".", "gs://bucket/x"]), &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("s3://"), "{}", r.stderr);
    let r = run(&args(&[".", "s3://"]), &[]);
    r.assert_code(2);
}

#[test]
fn help_and_version_exit_0() {
    let r = run(&args(&["--help"]), &[]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("--worker-size") && r.stdout.contains("--delete"),
        "{}",
        r.stdout
    );
    let r = run(&args(&["-V"]), &[]);
    r.assert_code(0);
    assert!(r.stdout.starts_with("s3sync "), "{}", r.stdout);
}

#[test]
fn options_for_a_local_side_are_refused() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(
        &args(&["--source-profile", "x", &d, "s3://b/"]),
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("--source-profile"), "{}", r.stderr);
}

#[test]
fn environment_supplies_option_values() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(&args(&[&d, "s3://b/"]), &[("WORKER_SIZE", "zero")]);
    r.assert_code(2);
    assert!(r.stderr.contains("--worker-size"), "{}", r.stderr);
}

#[test]
fn accelerate_cannot_use_a_custom_endpoint() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(
        &args(&[
            "--target-accelerate",
            "--target-endpoint-url",
            "http://127.0.0.1:1",
            &d,
            "s3://b/",
        ]),
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("--target-accelerate"), "{}", r.stderr);
}
