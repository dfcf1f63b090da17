//! S3 → S3 between two endpoints with bytes altered on the way from the source (a fault
//! proxy in front of it flips bytes in GET bodies): a corrupt copy never stays under its
//! name, another attempt repairs it, and a clean run repairs what never verified.

mod common;

use common::{Direction, FaultProxy, Kind, World, data, md5_hex, server, write_file};

const MIB: usize = 1 << 20;
const MARKER: &[u8] = b"<<flip-after-me>>";

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

fn with_marker(mut bytes: Vec<u8>, at: usize) -> Vec<u8> {
    bytes[at..at + MARKER.len()].copy_from_slice(MARKER);
    bytes
}

/// Runs an S3 → S3 sync from `src` (reached through a proxy flipping up to `budget` bytes
/// of its answers) to `dst`; returns the run and the flips made.
fn copy_through_faults(
    src: &World,
    dst: &World,
    budget: u32,
    from: &str,
    to: &str,
    extra: &[&str],
) -> (common::Run, u32) {
    let proxy = FaultProxy::start(server(src.kind).port(), Direction::ToClient, MARKER, budget);
    let mut args = src.source_args_at(&proxy.endpoint());
    args.extend(dst.target_args());
    args.extend(
        [
            "--json-tracing",
            "--worker-size",
            "1",
            "--aws-max-attempts",
            "2",
            "--initial-backoff-milliseconds",
            "10",
            "--force-retry-count",
            "0",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([src.url(from), dst.url(to)]);
    let run = common::run(&args, &[]);
    (run, proxy.flips())
}

/// Source on moto (it reports part sizes), target on s3s-fs: a single-part object goes out
/// with its source MD5 as Content-MD5, so the target refuses altered bytes; a multipart one
/// is compared with the source's ETag before it is completed. Altered once: both land
/// intact. Altered on every attempt: neither lands. A clean run then repairs them.
#[test]
fn altered_source_reads_are_retried_and_never_land() {
    let src = World::new(Kind::Moto);
    let small = with_marker(data(300_000, 1), 100_000);
    let big = with_marker(data(12 * MIB, 2), 7 * MIB);
    write_file(&src.path("up/small"), &small);
    write_file(&src.path("up/big"), &big);
    src.sync_in_parts(&[&s(&src.path("up")), &src.url("p/")])
        .assert_code(0);
    let parts = [
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
    ];
    let dst = World::new(Kind::S3sFs);

    let (run, flips) = copy_through_faults(&src, &dst, 2, "p/", "once/", &parts);
    assert_eq!(flips, 2);
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("error"), 0);
    assert_eq!(md5_hex(&dst.get("once/small")), md5_hex(&small));
    assert_eq!(md5_hex(&dst.get("once/big")), md5_hex(&big));
    assert_eq!(dst.etag("once/big"), src.etag("p/big"));

    let (run, _) = copy_through_faults(&src, &dst, 1000, "p/", "never/", &parts);
    run.assert_code(1);
    assert_eq!(run.summary("error"), 2);
    assert!(
        dst.list("never/").is_empty(),
        "{:?}\n{}",
        dst.list("never/"),
        run.stdout
    );

    let run = src.sync_to(
        &dst,
        &["--json-tracing", &src.url("p/"), &dst.url("never/")],
    );
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(md5_hex(&dst.get("never/small")), md5_hex(&small));
    assert_eq!(md5_hex(&dst.get("never/big")), md5_hex(&big));
}

/// Source on s3s-fs, target a versioned moto bucket (moto checks no Content-MD5, so the
/// altered copy is stored): it is found out after the write and its version removed by id
/// at once, so the key's previous version stays current and no corrupt version is left.
#[test]
fn altered_copy_stored_by_the_target_is_removed_by_version() {
    let src = World::new(Kind::S3sFs);
    let doc = with_marker(data(200_000, 3), 50_000);
    src.put("p/doc", &doc);
    let dst = World::new(Kind::Moto);
    dst.client
        .put_bucket_versioning(&dst.bucket, true)
        .unwrap_or_else(|e| panic!("versioning: {e}"));
    let old = data(1000, 4);
    dst.put("c/doc", &old);
    // The target is older than the source: the copy is due.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    src.put("p/doc", &doc);

    let (run, flips) = copy_through_faults(&src, &dst, 1000, "p/", "c/", &[]);
    assert_eq!(flips, 3, "three attempts");
    run.assert_code(1);
    assert_eq!(run.summary("error"), 1);
    assert!(
        run.stdout.contains("removed the corrupt object"),
        "{}",
        run.stdout
    );
    assert_eq!(md5_hex(&dst.get("c/doc")), md5_hex(&old));
    let versions = dst
        .client
        .list_object_versions(
            &dst.bucket,
            &s3sync::s3::ops::versions::VersionListRequest {
                prefix: "c/doc",
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("versions: {e}"));
    assert_eq!(versions.versions.len(), 1, "{:?}", versions.versions);

    let (run, flips) = copy_through_faults(&src, &dst, 1, "p/", "c/", &[]);
    assert_eq!(flips, 1);
    run.assert_code(3);
    assert_eq!(md5_hex(&dst.get("c/doc")), md5_hex(&doc));
}
