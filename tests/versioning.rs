//! `--enable-versioning` and `--point-in-time`, against moto (s3s-fs has no versioning).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Kind, World, data, md5_hex, run, write_file};
use s3sync::s3::ops::ObjectHead;
use s3sync::s3::ops::versions::VersionListRequest;
use s3sync::s3::xml::versions::ListedVersion;
use s3sync::util::time::Timestamp;

const MIB: usize = 1 << 20;

/// A moto bucket with versioning enabled.
fn versioned() -> World {
    let w = World::new(Kind::Moto);
    w.client
        .put_bucket_versioning(&w.bucket, true)
        .unwrap_or_else(|e| panic!("PutBucketVersioning {}: {e}", w.bucket));
    w
}

/// What a bucket holds for exactly one key.
struct KeyState {
    /// Object versions, oldest first.
    objects: Vec<ListedVersion>,
    delete_markers: usize,
    /// The newest entry is a delete marker (the key reads as deleted).
    deleted: bool,
}

fn key_state(w: &World, key: &str) -> KeyState {
    let mut all: Vec<ListedVersion> = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = w
            .client
            .list_object_versions(
                &w.bucket,
                &VersionListRequest {
                    prefix: key,
                    key_marker: key_marker.as_deref(),
                    version_id_marker: version_marker.as_deref(),
                    max_keys: None,
                },
            )
            .unwrap_or_else(|e| panic!("ListObjectVersions {key}: {e}"));
        all.extend(page.versions.into_iter().filter(|v| v.key == key));
        if !page.is_truncated {
            break;
        }
        key_marker = page.next_key_marker;
        version_marker = page.next_version_id_marker;
    }
    // Object versions come newest first in the listing.
    let mut objects: Vec<ListedVersion> =
        all.iter().filter(|v| !v.delete_marker).cloned().collect();
    objects.reverse();
    KeyState {
        objects,
        delete_markers: all.iter().filter(|v| v.delete_marker).count(),
        deleted: all.iter().any(|v| v.delete_marker && v.is_latest),
    }
}

fn get_version(w: &World, key: &str, version: &str) -> Vec<u8> {
    let resp = w
        .client
        .get_object_version(&w.bucket, key, Some(version), None)
        .unwrap_or_else(|e| panic!("GET {key}?versionId={version}: {e}"));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body)
        .unwrap_or_else(|e| panic!("GET {key} body: {e}"));
    body
}

fn head_version(w: &World, key: &str, version: &str) -> ObjectHead {
    w.client
        .head_object_version(&w.bucket, key, Some(version))
        .unwrap_or_else(|e| panic!("HEAD {key}?versionId={version}: {e}"))
        .unwrap_or_else(|| panic!("HEAD {key}?versionId={version}: not found"))
}

fn user_meta<'h>(head: &'h ObjectHead, name: &str) -> Option<&'h str> {
    head.meta
        .user
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks that the target's versions of `dst_key` are copies of `contents`, in order, each
/// naming the source version it came from.
fn assert_copies(src: &World, src_key: &str, dst: &World, dst_key: &str, contents: &[Vec<u8>]) {
    let source = key_state(src, src_key);
    let target = key_state(dst, dst_key);
    assert_eq!(
        source.objects.len(),
        contents.len(),
        "source versions of {src_key}"
    );
    assert_eq!(
        target.objects.len(),
        contents.len(),
        "target versions of {dst_key}"
    );
    for (i, (s, t)) in source.objects.iter().zip(&target.objects).enumerate() {
        let got = get_version(dst, dst_key, &t.version_id);
        assert_eq!(
            md5_hex(&got),
            md5_hex(&contents[i]),
            "{dst_key} version {i}"
        );
        let head = head_version(dst, dst_key, &t.version_id);
        assert_eq!(
            user_meta(&head, "s3sync_origin_version_id"),
            Some(s.version_id.as_str()),
            "{dst_key} version {i}: origin"
        );
        let origin_time = user_meta(&head, "s3sync_origin_last_modified").unwrap_or_default();
        assert!(origin_time.ends_with("+00:00"), "{origin_time}");
        assert_eq!(
            Timestamp::parse_rfc3339(origin_time).map(|t| t.secs),
            Some(s.last_modified.secs),
            "{dst_key} version {i}: origin time {origin_time}"
        );
    }
}

#[test]
fn copies_every_version_in_order_then_only_what_is_new() {
    let src = versioned();
    let dst = versioned();
    // Five keys with 1 to 3 versions; one version is large enough to be copied in parts.
    let mut contents: Vec<Vec<Vec<u8>>> = vec![
        vec![b"k0 first".to_vec()],
        vec![data(1000, 1), data(2000, 2)],
        vec![data(10, 3), data(6 * MIB + 5, 4), data(30, 5)],
        vec![b"k3 only".to_vec()],
        vec![data(0, 6), data(77, 7)],
    ];
    for (i, versions) in contents.iter().enumerate() {
        for (n, v) in versions.iter().enumerate() {
            if v.len() < 5 * MIB {
                src.put(&format!("v/k{i}"), v);
                continue;
            }
            // Uploaded in 5 MiB parts: a multipart version, copied part by part.
            let dir = src.path(&format!("up-{i}-{n}"));
            write_file(&dir.join(format!("k{i}")), v);
            src.sync(&[
                "--remove-modified-filter",
                "--multipart-threshold",
                "5MiB",
                "--multipart-chunksize",
                "5MiB",
                &dir.display().to_string(),
                &src.url("v/"),
            ])
            .assert_code(0);
        }
    }
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--json-tracing",
            "--enable-versioning",
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
        a.push(src.url("v/"));
        a.push(dst.url("w/"));
        a
    };
    let sync = |extra: &[&str]| {
        let a = args(extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        src.sync_to(&dst, &refs)
    };

    let dry = sync(&["--dry-run"]);
    dry.assert_code(0);
    assert_eq!(dry.summary("transferred_object"), 9);
    assert!(dst.list("w/").is_empty(), "a dry run writes nothing");

    let first = sync(&[]);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), 9);
    assert_eq!(first.summary("skipped"), 0);
    assert_eq!(first.summary("error"), 0);
    for (i, versions) in contents.iter().enumerate() {
        assert_copies(&src, &format!("v/k{i}"), &dst, &format!("w/k{i}"), versions);
    }
    // The current object is the newest version.
    assert_eq!(md5_hex(&dst.get("w/k2")), md5_hex(&contents[2][2]));

    // Listed two entries a page: a key's versions span pages.
    let second = sync(&["--max-keys", "2"]);
    second.assert_code(0);
    assert_eq!(second.summary("transferred_object"), 0);
    assert_eq!(second.summary("skipped"), 9);
    assert_eq!(
        key_state(&dst, "w/k2").objects.len(),
        3,
        "nothing was rewritten"
    );

    // A new version of one key and a delete marker on another.
    let newest = data(500, 8);
    src.put("v/k0", &newest);
    contents[0].push(newest.clone());
    src.client
        .delete_object(&src.bucket, "v/k3")
        .unwrap_or_else(|e| panic!("DELETE v/k3: {e}"));
    let third = sync(&[]);
    third.assert_code(0);
    assert_eq!(third.summary("transferred_object"), 1);
    assert_eq!(third.summary("deleted"), 1);
    assert_eq!(third.summary("skipped"), 9);
    assert_copies(&src, "v/k0", &dst, "w/k0", &contents[0]);
    assert_eq!(md5_hex(&dst.get("w/k0")), md5_hex(&newest));
    let k3 = key_state(&dst, "w/k3");
    assert!(k3.deleted, "the delete marker is replicated");
    assert_eq!((k3.objects.len(), k3.delete_markers), (1, 1));
    assert!(!dst.list("w/").contains_key("w/k3"));
    assert_eq!(dst.list("w/").len(), 4);

    let fourth = sync(&["--max-keys", "1"]);
    fourth.assert_code(0);
    assert_eq!(fourth.summary("transferred_object"), 0);
    assert_eq!(fourth.summary("deleted"), 0);
    // Ten versions, and the delete marker the target already has.
    assert_eq!(fourth.summary("skipped"), 11);
    assert_eq!(
        key_state(&dst, "w/k3").delete_markers,
        1,
        "no second delete marker"
    );
}

#[test]
fn server_side_copy_reads_each_version() {
    let src = versioned();
    let dst = versioned();
    // The first version of `m` is a multipart object (copied with UploadPartCopy), the
    // second a plain one (CopyObject).
    let big = data(11 * MIB, 21);
    write_file(&src.path("up/m"), &big);
    src.sync(&[
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        &src.path("up").display().to_string(),
        &src.url("s/"),
    ])
    .assert_code(0);
    let small = data(100, 22);
    src.put("s/m", &small);
    let (x1, x2) = (b"x one".to_vec(), b"x two".to_vec());
    src.put("s/x", &x1);
    src.put("s/x", &x2);

    let run = src.sync_to(
        &dst,
        &[
            "--json-tracing",
            "--enable-versioning",
            "--server-side-copy",
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
            &src.url("s/"),
            &dst.url("t/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 4);
    assert_copies(&src, "s/m", &dst, "t/m", &[big, small]);
    assert_copies(&src, "s/x", &dst, "t/x", &[x1, x2]);
}

#[test]
fn buckets_without_versioning_stop_the_run() {
    let src = versioned();
    let plain = World::new(Kind::Moto);
    src.put("a", b"a");

    let to_plain = src.sync_to(
        &plain,
        &["--enable-versioning", &src.url(""), &plain.url("")],
    );
    to_plain.assert_code(1);
    let line = to_plain
        .stderr
        .lines()
        .find(|l| l.starts_with("s3sync: error:"))
        .unwrap_or_else(|| panic!("no error line in {}", to_plain.stderr));
    assert!(
        line.contains("--enable-versioning") && line.contains("target bucket"),
        "{line}"
    );
    assert!(line.contains("never enabled"), "{line}");
    assert!(plain.list("").is_empty(), "nothing may be written");

    let from_plain = plain.sync_to(
        &src,
        &["--enable-versioning", &plain.url(""), &src.url("x/")],
    );
    from_plain.assert_code(1);
    assert!(
        from_plain.stderr.contains("source bucket"),
        "{}",
        from_plain.stderr
    );

    // Suspended is not enabled either.
    src.client
        .put_bucket_versioning(&src.bucket, false)
        .unwrap_or_else(|e| panic!("suspend: {e}"));
    let dir = src.path("down").display().to_string();
    let pit = src.sync_from(&[
        "--point-in-time",
        "2020-01-01T00:00:00Z",
        &src.url(""),
        &dir,
    ]);
    pit.assert_code(1);
    assert!(
        pit.stderr.contains("--point-in-time") && pit.stderr.contains("Suspended"),
        "{}",
        pit.stderr
    );
}

/// Waits until the wall clock is past the next whole second and returns the whole second
/// before it: objects written earlier have a LastModified at or before it, and objects
/// written afterwards one after it, even on a store that keeps whole seconds.
fn mark_time() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("clock: {e}"));
    let mark = now.as_secs();
    std::thread::sleep(Duration::from_secs(mark + 1) - now + Duration::from_millis(150));
    Timestamp {
        secs: mark as i64,
        nanos: 0,
    }
    .rfc3339_millis()
}

#[test]
fn point_in_time_picks_each_keys_version_of_then() {
    let src = versioned();
    src.put("p/a", b"a1");
    src.put("p/b", b"b1");
    src.put("p/c", b"c1");
    // A multipart version, read later in ranges or parts that must all name it.
    let big = data(11 * MIB, 31);
    write_file(&src.path("up/big"), &big);
    src.sync(&[
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        &src.path("up").display().to_string(),
        &src.url("p/"),
    ])
    .assert_code(0);
    let t1 = mark_time();
    src.put("p/a", b"a2");
    src.client
        .delete_object(&src.bucket, "p/b")
        .unwrap_or_else(|e| panic!("DELETE p/b: {e}"));
    src.put("p/e", b"e1");
    let t2 = mark_time();
    src.put("p/a", b"a3");
    src.put("p/b", b"b3");
    src.put("p/c", b"c3");
    src.put("p/big", b"small now");

    // S3 → local at t2: b was deleted then, e existed.
    let down = src.path("down");
    let down_s = down.display().to_string();
    let from = src.url("p/");
    let at_t2 = |extra: &[&str], dest: &str| {
        let mut a = vec!["--json-tracing", "--point-in-time", t2.as_str()];
        a.extend(extra);
        a.extend([from.as_str(), dest]);
        src.sync_from(&a)
    };
    let first = at_t2(&[], &down_s);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), 4);
    assert_eq!(first.summary("etag_verified"), 4);
    let read = |name: &str| std::fs::read(down.join(name)).ok();
    assert_eq!(read("big").map(|b| md5_hex(&b)), Some(md5_hex(&big)));
    assert_eq!(read("a").as_deref(), Some(&b"a2"[..]));
    assert_eq!(read("c").as_deref(), Some(&b"c1"[..]));
    assert_eq!(read("e").as_deref(), Some(&b"e1"[..]));
    assert_eq!(read("b"), None, "deleted at t2");
    // No modification-time check: everything is transferred again (listed one version a
    // page this time) ...
    let again = at_t2(&["--max-keys", "1"], &down_s);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 4);
    // ... unless a content check is asked for.
    let checked = at_t2(&["--check-etag"], &down_s);
    checked.assert_code(0);
    assert_eq!(checked.summary("transferred_object"), 0);
    assert_eq!(checked.summary("skipped"), 4);

    // With --delete a key deleted at t2 goes from the target too.
    let restore = src.path("restore");
    let restore_s = restore.display().to_string();
    let at_t1 = src.sync_from(&["--point-in-time", &t1, &src.url("p/"), &restore_s]);
    at_t1.assert_code(0);
    let restored = |name: &str| std::fs::read(restore.join(name)).ok();
    assert_eq!(restored("b").as_deref(), Some(&b"b1"[..]));
    assert_eq!(restored("a").as_deref(), Some(&b"a1"[..]));
    let later = at_t2(&["--delete"], &restore_s);
    later.assert_code(0);
    assert_eq!(later.summary("deleted"), 1);
    assert_eq!(restored("b"), None);
    assert_eq!(restored("a").as_deref(), Some(&b"a2"[..]));

    // S3 → S3 (streamed and server-side) into a bucket without versioning.
    let dst = World::new(Kind::Moto);
    for (at, prefix, extra) in [(&t1, "t1/", None), (&t2, "t2/", Some("--server-side-copy"))] {
        let mut a = vec!["--json-tracing", "--point-in-time", at.as_str()];
        a.extend(extra);
        let (from, to) = (src.url("p/"), dst.url(prefix));
        a.extend([from.as_str(), to.as_str()]);
        src.sync_to(&dst, &a).assert_code(0);
    }
    let keys: Vec<String> = dst.list("").into_keys().collect();
    assert_eq!(
        keys,
        [
            "t1/a", "t1/b", "t1/big", "t1/c", "t2/a", "t2/big", "t2/c", "t2/e"
        ]
    );
    for key in ["t1/big", "t2/big"] {
        assert_eq!(md5_hex(&dst.get(key)), md5_hex(&big), "{key}");
    }
    for (key, want) in [
        ("t1/a", "a1"),
        ("t1/b", "b1"),
        ("t1/c", "c1"),
        ("t2/a", "a2"),
        ("t2/c", "c1"),
        ("t2/e", "e1"),
    ] {
        assert_eq!(md5_hex(&dst.get(key)), md5_hex(want.as_bytes()), "{key}");
    }

    let future = src.sync_from(&[
        "--point-in-time",
        "2999-01-01T00:00:00Z",
        &src.url("p/"),
        &down_s,
    ]);
    future.assert_code(2);
    assert!(
        future.stderr.contains("later than the current time"),
        "{}",
        future.stderr
    );
}

#[test]
fn conflicting_options_and_local_sides_exit_2() {
    let both = |extra: &[&str], paths: [&str; 2]| {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.extend(paths.iter().map(|s| s.to_string()));
        run(&a, &[])
    };
    let s3 = ["s3://a/x/", "s3://b/y/"];
    for other in [
        vec!["--delete"],
        vec!["--remove-modified-filter"],
        vec!["--check-size"],
        vec!["--check-etag"],
        vec!["--check-mtime-and-etag"],
        vec!["--check-additional-checksum", "SHA256"],
        vec!["--check-mtime-and-additional-checksum", "CRC32"],
        vec!["--point-in-time", "2020-01-01T00:00:00Z"],
        vec!["--sync-latest-tagging"],
    ] {
        let mut args = vec!["--enable-versioning"];
        args.extend(&other);
        let out = both(&args, s3);
        out.assert_code(2);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("--enable-versioning") && out.stderr.contains(other[0]),
            "{other:?}: {}",
            out.stderr
        );
    }
    let dir = std::env::temp_dir().display().to_string();
    for paths in [[dir.as_str(), "s3://b/"], ["s3://a/", dir.as_str()]] {
        let out = both(&["--enable-versioning"], paths);
        out.assert_code(2);
        assert!(out.stderr.contains("s3:// for both"), "{}", out.stderr);
    }
    let out = both(
        &["--point-in-time", "2020-01-01T00:00:00Z"],
        [dir.as_str(), "s3://b/"],
    );
    out.assert_code(2);
    assert!(
        out.stderr.contains("--point-in-time needs an s3:// SOURCE"),
        "{}",
        out.stderr
    );
    let out = both(&["--point-in-time", "last tuesday"], s3);
    out.assert_code(2);
    assert!(out.stderr.contains("RFC 3339"), "{}", out.stderr);
    // The environment works as for every option.
    let out = run(
        &s3.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &[("ENABLE_VERSIONING", "true"), ("DELETE", "true")],
    );
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("--enable-versioning cannot be used with --delete"),
        "{}",
        out.stderr
    );
}

/// A key the backtracking engine gives up on is neither copied nor guessed: a warning, and
/// the key is counted as skipped, in a versioned sync as in a plain one.
#[test]
fn a_pattern_that_gives_up_skips_the_key_in_both_modes() {
    let src = versioned();
    let dst = versioned();
    let hard = "ab".repeat(30);
    src.put(&format!("v/{hard}"), b"hard");
    src.put("v/easy", b"easy");
    for (versioning, prefix) in [(true, "w/"), (false, "p/")] {
        let (from, to) = (src.url("v/"), dst.url(prefix));
        // A backreference needs the backtracking engine; (a|b|ab)* explodes on "abab...".
        let mut args = vec![
            "--json-tracing",
            "--filter-exclude-regex",
            r"((a|b|ab)*)\1c",
        ];
        if versioning {
            args.push("--enable-versioning");
        }
        args.extend([from.as_str(), to.as_str()]);
        let run = src.sync_to(&dst, &args);
        run.assert_code(3);
        assert!(run.stdout.contains("gave up"), "{}", run.stdout);
        assert_eq!(run.summary("warning"), 1, "versioning {versioning}");
        assert_eq!(run.summary("skipped"), 1, "versioning {versioning}");
        assert_eq!(
            run.summary("transferred_object"),
            1,
            "versioning {versioning}"
        );
        assert_eq!(
            dst.list(prefix).keys().cloned().collect::<Vec<_>>(),
            vec![format!("{prefix}easy")]
        );
    }
}

/// Counting: a re-run counts every source version once as skipped, delete markers (old and
/// latest) included; an object whose key equals the source prefix is counted as skipped
/// too, in a versioned run as in a plain one.
#[test]
fn a_re_run_counts_each_version_once_and_the_prefix_object_too() {
    let src = versioned();
    let dst = versioned();
    let delete = |key: &str| {
        src.client
            .delete_object(&src.bucket, key)
            .unwrap_or_else(|e| panic!("DELETE {key}: {e}"))
    };
    // d/a: two versions, then deleted.
    src.put("d/a", b"a1");
    src.put("d/a", b"a2");
    delete("d/a");
    // d/b: a version, deleted, then written again (an older delete marker).
    src.put("d/b", b"b1");
    delete("d/b");
    src.put("d/b", b"b2");
    // The object whose key is the prefix itself: it has no relative key.
    src.put("d", b"the prefix itself");
    let sync = |extra: &[&str]| {
        let mut a = vec!["--json-tracing", "--enable-versioning"];
        a.extend(extra);
        let (from, to) = (src.url("d"), dst.url("e"));
        let mut all: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        all.push(from);
        all.push(to);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        src.sync_to(&dst, &refs)
    };
    let first = sync(&[]);
    first.assert_code(0);
    let copied = first.summary("transferred_object") + first.summary("deleted");
    assert!(copied >= 4, "{}", first.stdout);
    // The prefix object, and d/b's older delete marker (only a newest one is replicated).
    assert_eq!(first.summary("skipped"), 2, "{}", first.stdout);
    let second = sync(&[]);
    second.assert_code(0);
    assert_eq!(second.summary("transferred_object"), 0);
    assert_eq!(second.summary("deleted"), 0);
    // d/a: 2 versions + marker; d/b: 2 versions + older marker; the prefix object: 1.
    assert_eq!(second.summary("skipped"), 7, "{}", second.stdout);
    // Without versioning the prefix object is counted too.
    let plain = src.sync_to(&dst, &["--json-tracing", &src.url("d"), &dst.url("plain")]);
    plain.assert_code(0);
    assert_eq!(plain.summary("skipped"), 1, "{}", plain.stdout);
    assert_eq!(plain.summary("transferred_object"), 1, "{}", plain.stdout);
}
