//! azcopy's hash options through the binary: `--compare-hash=MD5` (transfer what differs
//! in content, whatever the times say), the local hash cache
//! (`--local-hash-storage-mode=HiddenFiles|XAttr`, `--hash-meta-dir`) and `--mirror-mode`,
//! against Azurite (Blob) and s3s-fs (S3). What landed is read back and compared by MD5.

mod common;

use common::files;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use common::azurite::{self, list_all, put, read_all};
use common::azurite::{sync_json as az, url};
use common::{Kind, World, data, md5_hex, run, s, touch, write_file};
use s3sync::azure::Payload;
use s3sync::azure::blocks::BlockId;
use s3sync::azure::ops::WriteOptions;

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// New bytes of the same length, with the file's modification time put back: a change only
/// a content comparison sees.
fn rewrite_keeping_size_and_time(path: &Path, data: &[u8]) {
    let before = std::fs::metadata(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(before.len(), data.len() as u64, "the same size");
    let t = mtime(path);
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{e}"));
    let f = std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{e}"));
    f.set_modified(t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mtime(path), t);
}

fn tmp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(common::unique(tag))
}

#[test]
fn compare_hash_transfers_what_differs_in_content_not_in_time() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = tmp("cmphash");
    let src = dir.join("src");
    write_file(&src.join("same"), b"same bytes");
    write_file(&src.join("edited"), b"version 1");
    write_file(&src.join("touched"), b"touched only");
    az(&[&s(&src), &url(&c, "h/")]).assert_code(0);

    // Same size and time, other bytes; and newer time, same bytes.
    rewrite_keeping_size_and_time(&src.join("edited"), b"version 2");
    touch(&src.join("touched"), 3600);
    // By time (the default) the edit goes unseen and the touch is sent again.
    let by_time = az(&["--dry-run", &s(&src), &url(&c, "h/")]);
    by_time.assert_code(0);
    assert_eq!(
        by_time.summary("transferred_object"),
        1,
        "{}",
        by_time.stdout
    );
    assert!(by_time.stdout.contains("touched"), "{}", by_time.stdout);
    // By hash exactly the edit is.
    let by_hash = az(&["--compare-hash=MD5", &s(&src), &url(&c, "h/")]);
    by_hash.assert_code(0);
    assert_eq!(
        by_hash.summary("transferred_object"),
        1,
        "{}",
        by_hash.stdout
    );
    assert_eq!(read_all(&client, &c, "h/edited", None), b"version 2");
    assert_eq!(read_all(&client, &c, "h/touched", None), b"touched only");
    // Any case, as azcopy takes it; nothing left to do.
    let again = az(&["--compare-hash=md5", &s(&src), &url(&c, "h/")]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0, "{}", again.stdout);

    // A remote source without an MD5 is an error for that object (azcopy's rule).
    let down = dir.join("down");
    az(&[&url(&c, "h/"), &s(&down)]).assert_code(0);
    let id = BlockId::new(0);
    client
        .put_block(&c, "h/same", &id, Payload::Bytes(b"same bytes"), None)
        .unwrap_or_else(|e| panic!("PutBlock: {e}"));
    client
        .put_block_list(&c, "h/same", &[id], &WriteOptions::default())
        .unwrap_or_else(|e| panic!("PutBlockList: {e}"));
    let missing = az(&["--compare-hash=MD5", &url(&c, "h/"), &s(&down)]);
    missing.assert_code(1);
    assert!(
        missing.stderr.contains("no MD5") || missing.stdout.contains("no MD5"),
        "{}",
        missing.stdout
    );
    assert_eq!(missing.summary("error"), 1, "{}", missing.stdout);

    // Refused with another comparison.
    let both = az(&[
        "--compare-hash=MD5",
        "--check-size",
        &s(&src),
        &url(&c, "h/"),
    ]);
    both.assert_code(2);
    assert!(
        both.stderr
            .starts_with("s3sync: error: --compare-hash=MD5 and --check-size")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The hash cache of `mode` on a local → S3 sync: a compared file's record is trusted while
/// its size and time hold (its bytes are not read again), and only then.
fn cache_serves_unchanged_files(mode: &[&str], sidecars_in_tree: bool, meta_dir: Option<&Path>) {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let body = data(300_000, 7);
    write_file(&src.join("a.bin"), &body);
    write_file(&src.join("sub/b.txt"), b"bee");
    w.sync(&[&s(&src), &w.url("c/")]).assert_code(0);
    let mut args: Vec<&str> = vec!["--json-tracing", "--compare-hash=MD5"];
    args.extend_from_slice(mode);
    let src_s = s(&src);
    let target = w.url("c/");
    args.push(&src_s);
    args.push(&target);

    // A first compared run: the same content, nothing sent; the records are written.
    let first = w.sync(&args);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), 0, "{}", first.stdout);
    let tree = files(&src);
    if sidecars_in_tree {
        assert_eq!(
            tree,
            [
                ".a.bin.s3sync-hash",
                "a.bin",
                "sub/.b.txt.s3sync-hash",
                "sub/b.txt"
            ]
        );
    } else {
        assert_eq!(tree, ["a.bin", "sub/b.txt"]);
    }
    if let Some(dir) = meta_dir {
        assert_eq!(files(dir), [".a.bin.s3sync-hash", "sub/.b.txt.s3sync-hash"]);
    }

    // Other bytes behind the same size and time: the record is trusted, the file not read,
    // so nothing is sent (the documented limit of a size-and-time cache).
    let mut other = body.clone();
    other[0] ^= 0xff;
    rewrite_keeping_size_and_time(&src.join("a.bin"), &other);
    let trusted = w.sync(&args);
    trusted.assert_code(0);
    assert_eq!(
        trusted.summary("transferred_object"),
        0,
        "{}",
        trusted.stdout
    );
    assert_eq!(md5_hex(&w.get("c/a.bin")), md5_hex(&body));

    // A new time makes the record stale: the file is read, found different and sent.
    touch(&src.join("a.bin"), 60);
    let stale = w.sync(&args);
    stale.assert_code(0);
    assert_eq!(stale.summary("transferred_object"), 1, "{}", stale.stdout);
    assert_eq!(md5_hex(&w.get("c/a.bin")), md5_hex(&other));

    // The records are never objects: not uploaded, and --delete leaves them alone.
    let mut del = args.clone();
    del.insert(1, "--delete");
    w.sync(&del).assert_code(0);
    assert_eq!(
        w.list("c/").keys().cloned().collect::<Vec<_>>(),
        ["c/a.bin", "c/sub/b.txt"]
    );
    if sidecars_in_tree {
        assert!(src.join(".a.bin.s3sync-hash").exists());
    }
}

#[test]
fn hidden_files_cache_digests_next_to_the_files() {
    cache_serves_unchanged_files(&["--local-hash-storage-mode=HiddenFiles"], true, None);
}

#[test]
fn hash_meta_dir_keeps_the_records_out_of_the_tree() {
    let meta = tmp("hashmeta");
    let arg = format!("--hash-meta-dir={}", s(&meta));
    cache_serves_unchanged_files(
        &["--local-hash-storage-mode=HiddenFiles", &arg],
        false,
        Some(&meta),
    );
    let _ = std::fs::remove_dir_all(&meta);
}

#[test]
fn xattr_cache_keeps_the_records_on_the_files() {
    cache_serves_unchanged_files(&["--local-hash-storage-mode=XAttr"], false, None);
}

#[test]
fn the_cache_serves_a_local_target_too_and_bad_settings_exit_2() {
    let client = azurite::client();
    let c = azurite::container(&client);
    put(&client, &c, "d/x.bin", &data(70_000, 3));
    let dir = tmp("hashdown");
    let down = dir.join("down");
    az(&[&url(&c, "d/"), &s(&down)]).assert_code(0);
    let cached = az(&[
        "--compare-hash=MD5",
        "--local-hash-storage-mode=HiddenFiles",
        &url(&c, "d/"),
        &s(&down),
    ]);
    cached.assert_code(0);
    assert_eq!(cached.summary("transferred_object"), 0, "{}", cached.stdout);
    assert_eq!(files(&down), [".x.bin.s3sync-hash", "x.bin"]);
    // A re-download with the record in place is still a no-op, and the blob's listing
    // never shows the sidecar (it stays local).
    assert_eq!(list_all(&client, &c, "d/", 10).0, ["d/x.bin"]);

    // A cache that cannot be written: one warning, and the run goes on.
    let not_a_dir = write_file(&dir.join("plain-file"), b"x");
    let meta = format!("--hash-meta-dir={}/under", s(&not_a_dir));
    let unwritable = az(&["--compare-hash=MD5", &meta, &url(&c, "d/"), &s(&down)]);
    assert_ne!(unwritable.code, 1, "{}", unwritable.stderr);
    assert_eq!(
        unwritable
            .stdout
            .matches("hash cache cannot be written")
            .count(),
        1,
        "{}",
        unwritable.stdout
    );
    assert_eq!(unwritable.summary("error"), 0);

    for (bad, why) in [
        (
            "--local-hash-storage-mode=Sidecars",
            "--local-hash-storage-mode",
        ),
        ("--local-hash-storage-mode=AlternateDataStreams", "Windows"),
    ] {
        let r = az(&[bad, &url(&c, "d/"), &s(&down)]);
        r.assert_code(2);
        assert!(
            r.stderr.starts_with("s3sync: error: ") && r.stderr.contains(why),
            "{}",
            r.stderr
        );
    }
    let r = az(&[
        "--local-hash-storage-mode=XAttr",
        "--hash-meta-dir=/tmp/x",
        &url(&c, "d/"),
        &s(&down),
    ]);
    r.assert_code(2);
    let other = azurite::container(&client);
    let r = az(&[
        "--local-hash-storage-mode=HiddenFiles",
        &url(&c, "d/"),
        &url(&other, ""),
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("local SOURCE or TARGET"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mirror_mode_overwrites_a_newer_destination() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = tmp("mirror");
    let src = dir.join("src");
    write_file(&src.join("f"), b"from the source");
    touch(&src.join("f"), -7200);
    put(&client, &c, "m/f", b"newer at the target");
    // By time the destination is newer: left alone.
    let by_time = az(&[&s(&src), &url(&c, "m/")]);
    by_time.assert_code(0);
    assert_eq!(read_all(&client, &c, "m/f", None), b"newer at the target");
    // Mirrored: overwritten, and a false value changes nothing.
    az(&["--mirror-mode=false", &s(&src), &url(&c, "m/")]).assert_code(0);
    assert_eq!(read_all(&client, &c, "m/f", None), b"newer at the target");
    let mirrored = az(&["--mirror-mode", &s(&src), &url(&c, "m/")]);
    mirrored.assert_code(0);
    assert_eq!(
        mirrored.summary("transferred_object"),
        1,
        "{}",
        mirrored.stdout
    );
    assert_eq!(read_all(&client, &c, "m/f", None), b"from the source");
    // A mirror compares nothing: a content check with it is a contradiction.
    for other in ["--compare-hash=MD5", "--check-etag", "--head-each-target"] {
        let r = az(&["--mirror-mode", other, &s(&src), &url(&c, "m/")]);
        r.assert_code(2);
        assert!(
            r.stderr
                .starts_with(&format!("s3sync: error: --mirror-mode and {other}")),
            "{}",
            r.stderr
        );
    }
    // azcopy's own sidecars in a tree it synced are never objects.
    write_file(&src.join(".f.azcopysyncmeta"), b"azcopy's record");
    az(&[&s(&src), &url(&c, "n/")]).assert_code(0);
    assert_eq!(list_all(&client, &c, "n/", 10).0, ["n/f"]);
    let _ = std::fs::remove_dir_all(&dir);
}

const MARKER: &[u8] = b"<<flip-after-me>>";

/// `--check-md5` on downloads from S3: `LogOnly` keeps a file whose bytes do not match the
/// ETag (with a warning), the default fails it and leaves no file, `FailIfDifferentOrMissing`
/// also fails an object whose MD5 cannot be checked.
#[test]
fn check_md5_modes_shape_s3_downloads() {
    let w = World::new(Kind::S3sFs);
    let mut body = data(200_000, 71);
    body[50_000..50_000 + MARKER.len()].copy_from_slice(MARKER);
    w.put("p/flipped", &body);
    let dir = tmp("checkmd5");
    let download = |mode: Option<&str>, dest: &Path| {
        let proxy = common::FaultProxy::start(
            common::server(Kind::S3sFs).port(),
            common::Direction::ToClient,
            MARKER,
            100,
        );
        let mut args: Vec<String> = w
            .source_args()
            .into_iter()
            .map(|a| {
                if a == w.endpoint() {
                    proxy.endpoint()
                } else {
                    a
                }
            })
            .collect();
        args.extend([
            "--json-tracing".into(),
            "--aws-max-attempts".into(),
            "2".into(),
        ]);
        if let Some(m) = mode {
            args.push(format!("--check-md5={m}"));
        }
        args.extend([w.url("p/"), s(dest)]);
        let r = run(&args, &[]);
        assert!(proxy.flips() > 0, "the proxy altered nothing");
        r
    };
    // Default (FailIfDifferent): an error, and nothing under the name.
    let strict = dir.join("strict");
    let r = download(None, &strict);
    r.assert_code(1);
    assert!(!strict.join("flipped").exists());
    // LogOnly: the file is kept, with a warning naming it.
    let logged = dir.join("logged");
    let r = download(Some("LogOnly"), &logged);
    r.assert_code(3);
    assert!(
        r.stdout.contains("kept (--check-md5 LogOnly)"),
        "{}",
        r.stdout
    );
    let kept = std::fs::read(logged.join("flipped")).unwrap_or_default();
    assert_eq!(kept.len(), body.len());
    assert_ne!(
        md5_hex(&kept),
        md5_hex(&body),
        "the altered bytes were kept"
    );
    // NoCheck: kept, and not even a warning.
    let unchecked = dir.join("unchecked");
    let r = download(Some("NoCheck"), &unchecked);
    r.assert_code(0);
    assert!(unchecked.join("flipped").exists());

    // FailIfDifferentOrMissing: an SSE-KMS object's ETag is no MD5, so it cannot be
    // checked: failed, no file; a plain one, whose MD5 checks, is written.
    let m = World::new(Kind::Moto);
    let src = m.path("src");
    write_file(&src.join("sealed"), b"sealed with kms");
    write_file(&src.join("plain/open"), b"plain");
    m.sync(&["--sse", "aws:kms", &s(&src.join("sealed")), &m.url("m/")])
        .assert_code(0);
    m.sync(&[&s(&src.join("plain")), &m.url("m/")])
        .assert_code(0);
    let down = dir.join("missing");
    let r = m.sync_from(&[
        "--json-tracing",
        "--check-md5=FailIfDifferentOrMissing",
        &m.url("m/"),
        &s(&down),
    ]);
    r.assert_code(1);
    assert!(r.stdout.contains("no MD5 to check"), "{}", r.stdout);
    assert!(!down.join("sealed").exists());
    assert_eq!(
        std::fs::read(down.join("open")).unwrap_or_default(),
        b"plain"
    );
    // By default the same object is written (its ETag is simply not compared).
    let lenient = dir.join("lenient");
    m.sync_from(&[&m.url("m/"), &s(&lenient)]).assert_code(0);
    assert_eq!(
        std::fs::read(lenient.join("sealed")).unwrap_or_default(),
        b"sealed with kms"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
