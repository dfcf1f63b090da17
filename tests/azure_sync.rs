//! Syncs with Azure Blob Storage through the binary, against a strict Azurite 3.37.0:
//! local → Blob, Blob → local, Blob → Blob and S3 ↔ Blob, all on the one generic transfer
//! path of the storage interface. Content is checked end to end (MD5 of what landed, the
//! blob's stored Content-MD5), not only exit codes.

mod common;

use common::azurite::{self, list_all, md5, put, read_all};
use common::azurite::{key_env as env, sync_json as sync, url};
use common::{Kind, World, data, md5_hex, run, s, touch, write_file};

const MIB: usize = 1 << 20;

fn blob_props(
    client: &s3sync::azure::Client,
    container: &str,
    name: &str,
) -> s3sync::azure::properties::BlobProperties {
    client
        .blob_properties(container, name)
        .unwrap_or_else(|e| panic!("GetBlobProperties {name}: {e}"))
        .unwrap_or_else(|| panic!("{name} is not there"))
}

#[test]
fn local_to_blob_and_back_keeps_every_byte_and_stores_md5s() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azsync"));
    let src = dir.join("src");
    let small = data(10_000, 1);
    let big = data(9 * MIB + 123, 2);
    write_file(&src.join("a.txt"), &small);
    write_file(&src.join("dir/big.bin"), &big);
    write_file(&src.join("dir-2/x y.txt"), b"space");
    write_file(&src.join("empty"), b"");
    let up = sync(&[
        "--multipart-chunksize",
        "5MiB",
        &s(&src),
        &url(&container, "up/"),
    ]);
    up.assert_code(0);
    assert_eq!(up.summary("transferred_object"), 4, "{}", up.stdout);
    let (names, _) = list_all(&client, &container, "up/", 5000);
    assert_eq!(
        names,
        vec!["up/a.txt", "up/dir-2/x y.txt", "up/dir/big.bin", "up/empty"]
    );
    for (name, bytes) in [("up/a.txt", &small[..]), ("up/dir/big.bin", &big[..])] {
        assert_eq!(
            md5_hex(&read_all(&client, &container, name, None)),
            md5_hex(bytes)
        );
        // Single blobs and blobs committed from blocks both keep the whole file's MD5.
        assert_eq!(
            blob_props(&client, &container, name).content_md5,
            Some(md5(bytes)),
            "{name}"
        );
    }
    assert_eq!(
        blob_props(&client, &container, "up/a.txt")
            .content
            .content_type
            .as_deref(),
        Some("text/plain")
    );
    // Every object verified: the MD5 the blob stores is the one computed from the file.
    assert_eq!(up.summary("etag_verified"), 4, "{}", up.stdout);

    // Nothing changed: nothing is sent again.
    let again = sync(&[&s(&src), &url(&container, "up/")]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0, "{}", again.stdout);
    assert_eq!(again.summary("skipped"), 4);

    // Blob -> local: files land with the blobs' bytes, verified by their Content-MD5.
    let down = dir.join("down");
    let back = sync(&[
        "--multipart-threshold",
        "5MiB",
        &url(&container, "up/"),
        &s(&down),
    ]);
    back.assert_code(0);
    assert_eq!(back.summary("transferred_object"), 4, "{}", back.stdout);
    assert_eq!(
        md5_hex(&std::fs::read(down.join("dir/big.bin")).unwrap_or_default()),
        md5_hex(&big)
    );
    assert_eq!(std::fs::read(down.join("a.txt")).unwrap_or_default(), small);
    assert_eq!(
        std::fs::read(down.join("dir-2/x y.txt")).unwrap_or_default(),
        b"space"
    );
    assert_eq!(back.summary("etag_verified"), 4, "{}", back.stdout);
    // A re-run is a no-op: the files carry the blobs' times.
    let back_again = sync(&[&url(&container, "up/"), &s(&down)]);
    back_again.assert_code(0);
    assert_eq!(
        back_again.summary("transferred_object"),
        0,
        "{}",
        back_again.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn delete_removes_blobs_missing_from_the_source_and_dry_run_changes_nothing() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azdel"));
    let src = dir.join("src");
    write_file(&src.join("keep"), b"keep");
    put(&client, &container, "t/keep", b"old");
    put(&client, &container, "t/gone", b"stale");
    touch(&src.join("keep"), 3600);
    let dry = sync(&["--dry-run", "--delete", &s(&src), &url(&container, "t/")]);
    dry.assert_code(0);
    assert_eq!(
        list_all(&client, &container, "t/", 100).0,
        vec!["t/gone", "t/keep"]
    );
    assert_eq!(read_all(&client, &container, "t/keep", None), b"old");
    let real = sync(&["--delete", &s(&src), &url(&container, "t/")]);
    real.assert_code(0);
    assert_eq!(real.summary("deleted"), 1);
    assert_eq!(list_all(&client, &container, "t/", 100).0, vec!["t/keep"]);
    assert_eq!(read_all(&client, &container, "t/keep", None), b"keep");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn blob_to_blob_copies_on_the_server_and_verifies() {
    let client = azurite::client();
    let from = azurite::container(&client);
    let to = azurite::container(&client);
    let small = data(3000, 7);
    put(&client, &from, "p/one", &small);
    put(&client, &from, "p/sub/two", b"two");
    let run = sync(&[&url(&from, "p/"), &url(&to, "q/")]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2, "{}", run.stdout);
    assert_eq!(read_all(&client, &to, "q/one", None), small);
    assert_eq!(read_all(&client, &to, "q/sub/two", None), b"two");
    assert_eq!(
        blob_props(&client, &to, "q/one").content_md5,
        Some(md5(&small))
    );
    assert_eq!(run.summary("etag_verified"), 2, "{}", run.stdout);
}

#[test]
fn s3_to_blob_and_blob_to_s3_stream_through_the_generic_path() {
    let w = World::new(Kind::Moto);
    let client = azurite::client();
    let container = azurite::container(&client);
    let big = data(6 * MIB + 5, 3);
    w.put("s/small", b"from s3");
    let dir = std::env::temp_dir().join(common::unique("azs3"));
    write_file(&dir.join("big"), &big);
    w.sync_in_parts(&[&s(&dir), &w.url("s/")]).assert_code(0);
    let mut to_blob = w.source_args();
    to_blob.extend(
        [
            "--json-tracing",
            "--multipart-threshold",
            "5MiB",
            "--multipart-chunksize",
            "5MiB",
        ]
        .map(String::from),
    );
    to_blob.push(w.url("s/"));
    to_blob.push(url(&container, "b/"));
    let r = run(&to_blob, &env());
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 2, "{}", r.stdout);
    assert_eq!(read_all(&client, &container, "b/small", None), b"from s3");
    assert_eq!(
        md5_hex(&read_all(&client, &container, "b/big", None)),
        md5_hex(&big)
    );
    // The multipart source's ETag is proven by the parts' MD5s (same part layout).
    assert_eq!(r.summary("etag_verified"), 2, "{}", r.stdout);

    let mut to_s3 = w.target_args();
    to_s3.push("--json-tracing".into());
    to_s3.push(url(&container, "b/"));
    to_s3.push(w.url("back/"));
    let r = run(&to_s3, &env());
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 2, "{}", r.stdout);
    assert_eq!(w.get("back/small"), b"from s3");
    assert_eq!(md5_hex(&w.get("back/big")), md5_hex(&big));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn blob_locations_and_options_that_cannot_apply_are_refused_in_one_line() {
    let dir = std::env::temp_dir();
    let d = s(&dir);
    let cases: &[(&[&str], &str)] = &[
        (
            &[&d, "https://acct.file.core.windows.net/share/dir"],
            "Azure Files",
        ),
        (
            &[
                "--additional-checksum-algorithm",
                "SHA256",
                &d,
                "https://acct.blob.core.windows.net/ccc/p",
            ],
            "--additional-checksum-algorithm",
        ),
        (
            &[
                "--sse",
                "AES256",
                &d,
                "https://acct.blob.core.windows.net/ccc/p",
            ],
            "--sse",
        ),
        (
            &[
                "--target-endpoint-url",
                "http://127.0.0.1:1",
                &d,
                "https://acct.blob.core.windows.net/ccc/p",
            ],
            "--target-endpoint-url",
        ),
    ];
    for (args, name) in cases {
        let a: Vec<String> = args.iter().map(|x| x.to_string()).collect();
        let r = run(&a, &env());
        r.assert_code(2);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.starts_with("s3sync: error: ") && r.stderr.contains(name),
            "{args:?}: {}",
            r.stderr
        );
    }
    // A SAS signature in the URL never reaches the output.
    let r = run(
        &[
            "-vvv".to_string(),
            "--connect-timeout-milliseconds=200".into(),
            "--aws-max-attempts=1".into(),
            d.clone(),
            "http://127.0.0.1:9/devstoreaccount1/c/p?sv=2025-01-05&sp=rw&sig=SECRETSIGNATURE%3D"
                .into(),
        ],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(
        !r.stdout.contains("SECRETSIGNATURE") && !r.stderr.contains("SECRETSIGNATURE"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}

/// Content headers, user metadata and index tags given on the command line land on the
/// blobs; `--check-etag` compares content MD5s (the file's against the blob's Content-MD5),
/// so an unchanged file is not sent again even when it is newer.
#[test]
fn metadata_tags_and_md5_update_checks_work_on_blob_targets() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azmeta"));
    let src = dir.join("src");
    write_file(&src.join("doc"), b"document");
    write_file(&src.join("other"), b"before");
    let r = sync(&[
        "--content-type",
        "text/x-doc",
        "--cache-control",
        "max-age=60",
        "--metadata",
        "team=storage,level=3",
        "--tagging",
        "project=s3sync&env=test",
        &s(&src),
        &url(&container, "m/"),
    ]);
    r.assert_code(0);
    let props = blob_props(&client, &container, "m/doc");
    assert_eq!(props.content.content_type.as_deref(), Some("text/x-doc"));
    assert_eq!(props.content.cache_control.as_deref(), Some("max-age=60"));
    let mut meta = props.metadata.clone();
    meta.sort();
    assert_eq!(
        meta,
        vec![
            ("level".to_string(), "3".to_string()),
            ("team".to_string(), "storage".to_string())
        ]
    );
    let mut tags = client
        .get_blob_tags(&container, "m/doc")
        .unwrap_or_else(|e| panic!("GetBlobTags: {e}"));
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("env".to_string(), "test".to_string()),
            ("project".to_string(), "s3sync".to_string())
        ]
    );
    // Both files newer than their blobs; only the changed one differs by MD5.
    touch(&src.join("doc"), 7200);
    write_file(&src.join("other"), b"after!");
    touch(&src.join("other"), 7200);
    let r = sync(&["--check-etag", &s(&src), &url(&container, "m/")]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(r.summary("skipped"), 1, "{}", r.stdout);
    assert_eq!(read_all(&client, &container, "m/other", None), b"after!");
    // S3's additional checksums have no Blob meaning.
    let r = sync(&[
        "--check-additional-checksum",
        "SHA256",
        &s(&src),
        &url(&container, "m/"),
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--check-additional-checksum"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One file to a virtual directory, and one blob (named without a trailing `/`) back to a
/// local directory, as in azcopy's examples; a sibling whose name merely starts the same is
/// left alone.
#[test]
fn a_single_file_and_a_single_blob() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azsingle"));
    let file = write_file(&dir.join("report.csv"), b"a,b\n1,2\n");
    let r = sync(&[&s(&file), &url(&container, "inbox/")]);
    r.assert_code(0);
    assert_eq!(
        list_all(&client, &container, "", 100).0,
        vec!["inbox/report.csv"]
    );
    put(&client, &container, "inbox/report.csv.bak", b"not me");
    let down = dir.join("down");
    let r = sync(&[&url(&container, "inbox/report.csv"), &s(&down)]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(
        std::fs::read(down.join("report.csv")).unwrap_or_default(),
        b"a,b\n1,2\n"
    );
    assert!(!down.join("report.csv.bak").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_single_file_or_blob_becomes_the_object_the_target_names() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azrename"));
    let body = data(300_000, 41);
    let file = write_file(&dir.join("local name.bin"), &body);
    // A sibling that must be left alone.
    put(&client, &container, "dir/keep", b"keep");

    // File → blob of another name (no trailing slash): that blob, nothing else.
    let r = sync(&[&s(&file), &url(&container, "dir/other.bin")]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(
        list_all(&client, &container, "", 100).0,
        vec!["dir/keep", "dir/other.bin"]
    );
    assert_eq!(
        md5_hex(&read_all(&client, &container, "dir/other.bin", None)),
        md5_hex(&body)
    );
    let props = blob_props(&client, &container, "dir/other.bin");
    assert_eq!(props.content_md5, Some(md5(&body)));
    // A re-run compares with that blob: nothing to do.
    let again = sync(&[&s(&file), &url(&container, "dir/other.bin")]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0, "{}", again.stdout);
    // A changed file replaces it.
    let changed = data(300_000, 42);
    write_file(&file, &changed);
    touch(&file, 5);
    let third = sync(&[&s(&file), &url(&container, "dir/other.bin")]);
    third.assert_code(0);
    assert_eq!(third.summary("transferred_object"), 1, "{}", third.stdout);
    assert_eq!(
        md5_hex(&read_all(&client, &container, "dir/other.bin", None)),
        md5_hex(&changed)
    );

    // Blob → blob of another name, in another container.
    let other = azurite::container(&client);
    let r = sync(&[
        &url(&container, "dir/other.bin"),
        &url(&other, "copies/renamed"),
    ]);
    r.assert_code(0);
    assert_eq!(list_all(&client, &other, "", 100).0, vec!["copies/renamed"]);
    assert_eq!(
        md5_hex(&read_all(&client, &other, "copies/renamed", None)),
        md5_hex(&changed)
    );

    // Blob → an existing local file of another name: that file is replaced, in place.
    let existing = write_file(&dir.join("down/old.bin"), b"old");
    touch(&existing, -3600);
    let r = sync(&[&url(&container, "dir/other.bin"), &s(&existing)]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(
        md5_hex(&std::fs::read(&existing).unwrap_or_default()),
        md5_hex(&changed)
    );
    assert!(!dir.join("down/other.bin").exists());
    assert!(!dir.join("down/old.bin/other.bin").exists());

    // A Blob prefix (not one blob) cannot go into a file: the run stops, the file is kept.
    let prefix = sync(&[&url(&container, "dir"), &s(&existing)]);
    prefix.assert_code(1);
    assert!(prefix.stderr.contains("is a file"), "{}", prefix.stderr);
    assert_eq!(
        md5_hex(&std::fs::read(&existing).unwrap_or_default()),
        md5_hex(&changed)
    );
    // A local file onto another existing file, as cp would.
    let copy = write_file(&dir.join("copy.bin"), b"stale");
    touch(&copy, -3600);
    sync(&[&s(&file), &s(&copy)]).assert_code(0);
    assert_eq!(std::fs::read(&copy).unwrap_or_default(), changed);

    // With --delete a TARGET is always a directory: a single file is refused as before.
    let refused = sync(&["--delete", &s(&file), &url(&container, "dir/other.bin")]);
    refused.assert_code(2);
    assert_eq!(
        list_all(&client, &container, "", 100).0,
        vec!["dir/keep", "dir/other.bin"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs s3sync (JSON logs) from `prefix` of `w`'s bucket to the Blob location `to`.
fn s3_to_blob(w: &World, prefix: &str, to: &str) -> common::Run {
    let mut args = w.source_args();
    args.extend(["--json-tracing".to_string(), w.url(prefix), to.to_string()]);
    run(&args, &env())
}

#[test]
fn an_archived_s3_object_is_skipped_on_the_way_to_blob_and_the_rest_is_copied() {
    // The generic path reads the source before it writes: moto refuses to GET a GLACIER
    // object (InvalidObjectState), which is that object's problem, never a reason to stop.
    let w = World::new(Kind::Moto);
    let client = azurite::client();
    let container = azurite::container(&client);
    w.put_with("g/cold", b"cold", &[("x-amz-storage-class", "GLACIER")]);
    w.put("g/warm", b"warm");
    let r = s3_to_blob(&w, "g/", &url(&container, "b/"));
    r.assert_code(3);
    assert_eq!(r.summary("warning"), 1, "{}", r.stdout);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert!(r.stdout.contains("archived"), "{}", r.stdout);
    assert_eq!(read_all(&client, &container, "b/warm", None), b"warm");
    let (names, _) = list_all(&client, &container, "b/", 100);
    assert_eq!(names, vec!["b/warm".to_string()]);
}

#[test]
fn a_multipart_s3_object_is_copied_to_blob_in_its_own_parts_and_proven() {
    // Uploaded in 5 MiB parts; s3sync's own part size is 8 MiB. moto tells the layout
    // (HeadObject partNumber), so the blocks are cut like the parts and their MD5s make
    // the source's multipart ETag.
    let w = World::new(Kind::Moto);
    let client = azurite::client();
    let container = azurite::container(&client);
    let big = data(12 * MIB + 99, 8);
    let dir = std::env::temp_dir().join(common::unique("azcut"));
    write_file(&dir.join("big"), &big);
    w.sync_in_parts(&[&s(&dir), &w.url("m/")]).assert_code(0);
    let r = s3_to_blob(&w, "m/", &url(&container, "b/"));
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(r.summary("etag_verified"), 1, "{}", r.stdout);
    assert_eq!(
        md5_hex(&read_all(&client, &container, "b/big", None)),
        md5_hex(&big)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_blob_too_large_for_one_copy_is_copied_by_the_service_block_by_block() {
    // Copy Blob From URL takes at most 256 MiB. Beyond that each block is copied by the
    // service (Put Block From URL): no byte of the blob passes through s3sync. Both sides
    // go through a recording proxy, which keeps every byte s3sync sends: the request heads,
    // and the bodies it would send if it streamed.
    let client = azurite::client();
    let (from, to) = (azurite::container(&client), azurite::container(&client));
    let big = data(257 * MIB + 11, 5);
    put(&client, &from, "big", &big);
    let port: u16 = azurite::azurite()
        .endpoint
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {}", azurite::azurite().endpoint));
    let proxy = common::RecordingProxy::start(port);
    let via = |c: &str| format!("{}/{}/{c}/", proxy.endpoint(), azurite::ACCOUNT);
    let r = sync(&[&via(&from), &via(&to)]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(md5_hex(&read_all(&client, &to, "big", None)), md5_hex(&big));
    let sent = proxy.sent().to_ascii_lowercase();
    let copied_blocks = sent.matches("x-ms-copy-source:").count();
    assert_eq!(copied_blocks, 33, "one Put Block From URL per 8 MiB block");
    assert!(
        sent.len() < 1 << 20,
        "{} bytes went through s3sync",
        sent.len()
    );
}
