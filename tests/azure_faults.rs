//! Blob syncs through faults, by the binary against Azurite: bytes flipped on the way up
//! (the service refuses the body by its Content-MD5) and on the way down (the file is not
//! renamed into place), busy answers and reset connections. Nothing corrupt lands under its
//! name; a clean attempt repairs.

mod common;

use common::azurite::{self, ACCOUNT, KEY, md5, put, read_all};
use common::chaos::{ChaosProxy, Fault};
use common::{Direction, FaultProxy, data, md5_hex, run, s, write_file};

const MARKER: &[u8] = b"<<flip-after-me>>";
const MIB: usize = 1 << 20;

fn azurite_port() -> u16 {
    let endpoint = &azurite::azurite().endpoint;
    endpoint
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"))
}

fn url_at(port: u16, container: &str, prefix: &str) -> String {
    format!("http://127.0.0.1:{port}/{ACCOUNT}/{container}/{prefix}")
}

fn sync(args: &[String]) -> common::Run {
    let mut all: Vec<String> = [
        "--json-tracing",
        "--worker-size",
        "1",
        "--initial-backoff-milliseconds",
        "10",
        "--force-retry-interval-milliseconds",
        "10",
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
    ]
    .map(String::from)
    .to_vec();
    all.extend(args.iter().cloned());
    run(
        &all,
        &[
            ("AZURE_STORAGE_ACCOUNT", ACCOUNT),
            ("AZURE_STORAGE_KEY", KEY),
        ],
    )
}

/// A body with the proxy's marker in it, so the byte after it is the one flipped.
fn marked(len: usize, seed: u64) -> Vec<u8> {
    let mut d = data(len, seed);
    d[1000..1000 + MARKER.len()].copy_from_slice(MARKER);
    d
}

#[test]
fn bytes_flipped_on_upload_are_refused_and_sent_again() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azflipup"));
    let small = marked(20_000, 1);
    let big = marked(7 * MIB, 2);
    write_file(&dir.join("small"), &small);
    write_file(&dir.join("big"), &big);
    // One flip in each file's body (the big one in its first block).
    let proxy = FaultProxy::start(azurite_port(), Direction::ToServer, MARKER, 2);
    let r = sync(&[
        "--aws-max-attempts".into(),
        "2".into(),
        s(&dir),
        url_at(proxy.port, &container, "u/"),
    ]);
    assert_eq!(proxy.flips(), 2);
    assert!(r.code == 0 || r.code == 3, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.summary("error"), 0, "{}", r.stdout);
    for (name, bytes) in [("u/small", &small), ("u/big", &big)] {
        assert_eq!(
            md5_hex(&read_all(&client, &container, name, None)),
            md5_hex(bytes)
        );
        let props = client
            .blob_properties(&container, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(props.content_md5, Some(md5(bytes)), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bytes_flipped_on_download_never_land_and_a_clean_run_repairs() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let small = marked(30_000, 3);
    let big = marked(6 * MIB + 17, 4);
    put(&client, &container, "d/small", &small);
    put(&client, &container, "d/big", &big);
    let dir = std::env::temp_dir().join(common::unique("azflipdown"));
    // Corrupted once each: found by the blobs' Content-MD5, fetched again.
    let proxy = FaultProxy::start(azurite_port(), Direction::ToClient, MARKER, 2);
    let r = sync(&[
        "--aws-max-attempts".into(),
        "2".into(),
        url_at(proxy.port, &container, "d/"),
        s(&dir.join("once")),
    ]);
    assert!(proxy.flips() >= 1, "nothing was flipped");
    assert!(r.code == 0 || r.code == 3, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read(dir.join("once/small")).unwrap_or_default(),
        small
    );
    assert_eq!(
        md5_hex(&std::fs::read(dir.join("once/big")).unwrap_or_default()),
        md5_hex(&big)
    );
    // Corrupted on every attempt: the run fails, and no file carries the name.
    let proxy = FaultProxy::start(azurite_port(), Direction::ToClient, MARKER, 1000);
    let r = sync(&[
        "--force-retry-count".into(),
        "1".into(),
        url_at(proxy.port, &container, "d/"),
        s(&dir.join("never")),
    ]);
    r.assert_code(1);
    assert!(!dir.join("never/small").exists());
    assert!(!dir.join("never/big").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("never"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A clean run repairs.
    let r = sync(&[
        url_at(azurite_port(), &container, "d/"),
        s(&dir.join("never")),
    ]);
    r.assert_code(0);
    assert_eq!(
        std::fs::read(dir.join("never/small")).unwrap_or_default(),
        small
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One request in three answered 503 or reset: every request is retried and re-signed.
fn busy(n: u32, _head: &str) -> Option<Fault> {
    match n % 3 {
        0 => Some(Fault::SlowDown),
        1 => Some(Fault::Reset),
        _ => None,
    }
}

#[test]
fn busy_answers_and_reset_connections_are_retried() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azbusy"));
    let files: Vec<Vec<u8>> = (0..6).map(|i| data(5000 + i * 100, i as u64)).collect();
    for (i, f) in files.iter().enumerate() {
        write_file(&dir.join(format!("f{i}")), f);
    }
    let proxy = ChaosProxy::start(azurite_port(), busy);
    let r = sync(&[
        "--aws-max-attempts".into(),
        "6".into(),
        s(&dir),
        url_at(proxy.port, &container, "b/"),
    ]);
    r.assert_code(0);
    assert!(proxy.injected() >= 4, "{}", proxy.injected());
    assert_eq!(r.summary("transferred_object"), 6);
    for (i, f) in files.iter().enumerate() {
        assert_eq!(read_all(&client, &container, &format!("b/f{i}"), None), *f);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A large blob downloaded in ranged parts, and many small blobs, reuse their connections:
/// every ranged body is read to its end, which hands the connection back to the pool.
#[test]
fn blob_downloads_reuse_their_connections() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let big = data(40 * MIB, 9);
    put(&client, &container, "r/big", &big);
    for i in 0..30 {
        put(
            &client,
            &container,
            &format!("r/small{i:02}"),
            &data(2000, i),
        );
    }
    let proxy = common::RecordingProxy::start(azurite_port());
    let dir = std::env::temp_dir().join(common::unique("azreuse"));
    let r = sync(&[
        "--max-parallel-uploads".into(),
        "2".into(),
        url_at(proxy.port, &container, "r/"),
        s(&dir),
    ]);
    r.assert_code(0);
    assert_eq!(r.summary("transferred_object"), 31);
    assert_eq!(
        md5_hex(&std::fs::read(dir.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );
    // 8 ranged parts, 31 HEADs and 30 small GETs, a listing: one worker, two part threads.
    let connections = proxy.connections();
    assert!(
        connections <= 6,
        "{connections} TCP connections for about 70 requests"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fails the first read that names the tag the HEAD gave (`If-Match`), once.
fn stale_tag_once(_: u32, head: &str) -> Option<Fault> {
    static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let pinned_read = head.starts_with("GET ") && head.to_ascii_lowercase().contains("if-match:");
    (pinned_read && !FAILED.swap(true, std::sync::atomic::Ordering::SeqCst))
        .then_some(Fault::PreconditionFailed)
}

#[test]
fn a_blob_that_changes_between_its_head_and_its_read_is_read_again() {
    // The generic path reads a source pinned to the tag its HEAD gave. A failed condition
    // there means the blob changed meanwhile: the object is tried again, not skipped as if
    // the user had asked for a condition.
    let client = azurite::client();
    let container = azurite::container(&client);
    let body = data(30_000, 7);
    put(&client, &container, "c/blob", &body);
    let proxy = ChaosProxy::start(azurite_port(), stale_tag_once);
    let dir = std::env::temp_dir().join(common::unique("azstale"));
    let r = sync(&[url_at(proxy.port, &container, "c/"), s(&dir)]);
    // The retry is worth telling (one warning, exit 3), as on the S3 paths.
    r.assert_code(3);
    assert_eq!(proxy.injected(), 1);
    assert_eq!(r.summary("transferred_object"), 1, "{}", r.stdout);
    assert_eq!(r.summary("warning"), 1, "{}", r.stdout);
    assert_eq!(r.summary("skipped"), 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("changed while it was being read"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("precondition"), "{}", r.stdout);
    let got = std::fs::read(dir.join("blob")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(md5_hex(&got), md5_hex(&body));
    let _ = std::fs::remove_dir_all(&dir);
}
