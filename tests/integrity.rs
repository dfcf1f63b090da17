//! Integrity end to end: multipart ETags, additional checksums, part sizes learnt from the
//! store, and corruption in transit caught and repaired (or refused), against real servers.

mod common;

use common::{
    Direction, FaultProxy, Kind, PARTS_5MIB, World, client, data, md5_hex, multipart_etag, server,
    write_file,
};
use md5::Digest;
use s3sync::s3::Payload;
use s3sync::s3::ops::CompletedPart;
use s3sync::util::encoding::base64;

const MIB: usize = 1 << 20;
const MARKER: &[u8] = b"<<flip-after-me>>";

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// HeadObject asking for the additional checksum.
fn checksum_head(w: &World, key: &str) -> s3sync::s3::ops::ObjectHead {
    let mut config = client(w.kind).config().clone();
    config.checksum_mode = true;
    s3sync::s3::Client::new(config)
        .head_object(&w.bucket, key)
        .unwrap_or_else(|e| panic!("HEAD {key}: {e}"))
        .unwrap_or_else(|| panic!("HEAD {key}: not found"))
}

/// The additional checksum of `bytes`, computed here with the digest crates directly.
fn expected_checksum(algorithm: &str, bytes: &[u8]) -> String {
    let crc = |alg, width: usize| {
        let v = crc_fast::checksum(alg, bytes).to_be_bytes();
        base64(&v[8 - width..])
    };
    match algorithm {
        "CRC32" => crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, 4),
        "CRC32C" => crc(crc_fast::CrcAlgorithm::Crc32Iscsi, 4),
        "CRC64NVME" => crc(crc_fast::CrcAlgorithm::Crc64Nvme, 8),
        "SHA1" => base64(&sha1::Sha1::digest(bytes)),
        "SHA256" => base64(&sha2::Sha256::digest(bytes)),
        other => panic!("unknown algorithm {other}"),
    }
}

/// `args` (a world's endpoint options) pointed at `endpoint` (a proxy) instead of the server.
fn via(args: Vec<String>, w: &World, endpoint: &str) -> Vec<String> {
    args.into_iter()
        .map(|a| {
            if a == w.endpoint() {
                endpoint.to_string()
            } else {
                a
            }
        })
        .collect()
}

/// A world whose `p/big` holds `size` bytes (seed `seed`) uploaded from `src/big` in 5 MiB
/// parts with `extra` options; returns it and the bytes.
fn uploaded_in_parts(kind: Kind, size: usize, seed: u64, extra: &[&str]) -> (World, Vec<u8>) {
    let w = World::new(kind);
    let big = data(size, seed);
    write_file(&w.path("src/big"), &big);
    let (src, url) = (s(&w.path("src")), w.url("p/"));
    let run = w.sync(&[&PARTS_5MIB[..], extra, &[src.as_str(), url.as_str()]].concat());
    // 3: a store that keeps another checksum than the one asked for (moto's quirks) warns.
    assert!(
        run.code == 0 || run.code == 3,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(md5_hex(&w.get("p/big")), md5_hex(&big));
    (w, big)
}

fn with_marker(mut bytes: Vec<u8>, at: usize) -> Vec<u8> {
    bytes[at..at + MARKER.len()].copy_from_slice(MARKER);
    bytes
}

/// The exact ETag of every size of the matrix under both part sizes, and the value the
/// reference documents for 30 MiB of zeros in 8 MiB parts.
#[test]
fn multipart_etag_matrix() {
    let w = World::new(Kind::S3sFs);
    let sizes = [5, 8, 10, 16, 30];
    for (i, size) in sizes.iter().enumerate() {
        write_file(
            &w.path(&format!("m/f{size}")),
            &data(size * MIB, i as u64 + 1),
        );
    }
    write_file(&w.path("m/zeros30"), &vec![0u8; 30 * MIB]);
    for chunk in [5, 8] {
        let prefix = format!("c{chunk}/");
        let chunk_arg = format!("{chunk}MiB");
        let run = w.sync(&[
            "--json-tracing",
            "--multipart-threshold",
            &chunk_arg,
            "--multipart-chunksize",
            &chunk_arg,
            &s(&w.path("m")),
            &w.url(&prefix),
        ]);
        run.assert_code(0);
        assert_eq!(run.summary("etag_verified"), sizes.len() as u64 + 1);
        for (i, size) in sizes.iter().enumerate() {
            let bytes = data(size * MIB, i as u64 + 1);
            let expected = if *size >= chunk {
                multipart_etag(&bytes, chunk * MIB)
            } else {
                md5_hex(&bytes)
            };
            assert_eq!(
                w.etag(&format!("{prefix}f{size}")),
                expected,
                "{size} MiB in {chunk} MiB parts"
            );
        }
        if chunk == 8 {
            assert_eq!(
                w.etag(&format!("{prefix}zeros30")),
                "9be3303e9a8d67a0f1e609fb7a29030a-4"
            );
        }
    }
    // 8 MiB in 8 MiB parts is one part of a multipart upload, 5 MiB in 8 MiB parts a PUT.
    assert!(w.etag("c8/f8").ends_with("-1"));
    assert!(!w.etag("c8/f5").contains('-'));
}

/// Every algorithm, single-part and multipart, against s3s-fs, which refuses a wrong
/// checksum header: the stored single-part value is the digest of the bytes, and we report
/// it verified at -vv with both values.
#[test]
fn every_algorithm_uploads_single_and_multipart() {
    let w = World::new(Kind::S3sFs);
    let small = data(100_000, 21);
    let big = data(12 * MIB + 3, 22);
    write_file(&w.path("src/small"), &small);
    write_file(&w.path("src/big"), &big);
    for (algorithm, full) in [
        ("SHA256", false),
        ("SHA1", false),
        ("CRC32", false),
        ("CRC32", true),
        ("CRC32C", true),
        ("CRC64NVME", false),
    ] {
        let prefix = format!("{algorithm}-{full}/");
        let mut args = vec!["--json-tracing", "-vv"];
        args.extend(PARTS_5MIB);
        args.extend(["--additional-checksum-algorithm", algorithm]);
        if full {
            args.push("--full-object-checksum");
        }
        let (src, url) = (s(&w.path("src")), w.url(&prefix));
        args.extend([src.as_str(), url.as_str()]);
        let run = w.sync(&args);
        // s3s-fs keeps no checksum of multipart objects: a warning naming the key, and
        // only the PUT is compared.
        run.assert_code(3);
        assert_eq!(run.summary("warning"), 1, "{algorithm}");
        assert!(
            run.stdout.contains(&format!(
                "{prefix}big: the target stored no {algorithm} checksum"
            )),
            "{}",
            run.stdout
        );
        assert_eq!(run.summary("transferred_object"), 2);
        assert_eq!(run.summary("etag_verified"), 2);
        assert_eq!(run.summary("checksum_verified"), 1, "{algorithm}");
        let want = expected_checksum(algorithm, &small);
        let head = checksum_head(&w, &format!("{prefix}small"));
        assert_eq!(
            head.checksum.as_ref().map(|(a, v)| (a.name(), v.as_str())),
            Some((algorithm, want.as_str()))
        );
        let evidence = run
            .stdout
            .lines()
            .find(|l| l.contains("additional checksum verified"))
            .unwrap_or_else(|| panic!("no evidence line:\n{}", run.stdout));
        assert!(
            evidence.contains(&format!("\"source_checksum\":\"{want}\""))
                && evidence.contains(&format!("\"target_checksum\":\"{want}\"")),
            "{evidence}"
        );
        assert_eq!(md5_hex(&w.get(&format!("{prefix}big"))), md5_hex(&big));
    }
}

#[test]
fn bad_checksum_options_are_usage_errors() {
    let w = World::new(Kind::S3sFs);
    write_file(&w.path("x/a"), b"a");
    for (args, needle) in [
        (
            vec!["--additional-checksum-algorithm", "MD5"],
            "--additional-checksum-algorithm",
        ),
        (
            vec![
                "--additional-checksum-algorithm",
                "SHA256",
                "--full-object-checksum",
            ],
            "--full-object-checksum",
        ),
        (vec!["--full-object-checksum"], "--full-object-checksum"),
        (
            vec!["--disable-additional-checksum-verify"],
            "--disable-additional-checksum-verify",
        ),
    ] {
        let (src, url) = (s(&w.path("x")), w.url("x/"));
        let mut all = args.clone();
        all.extend([src.as_str(), url.as_str()]);
        let run = w.sync(&all);
        run.assert_code(2);
        assert!(
            run.stderr.contains(needle) && run.stderr.lines().count() == 1,
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(w.list("x/").is_empty(), "nothing may be written");
}

/// moto computes the full-object CRC32 of a multipart upload itself: it equals the CRC of
/// all the bytes, which is what we combined from the part CRCs and sent part by part.
#[test]
fn full_object_crc32_multipart_on_moto_and_verified_download() {
    let (w, big) = uploaded_in_parts(
        Kind::Moto,
        12 * MIB + 5,
        31,
        &[
            "--additional-checksum-algorithm",
            "CRC32",
            "--full-object-checksum",
        ],
    );
    let head = checksum_head(&w, "p/big");
    assert_eq!(
        head.checksum.as_ref().map(|(a, v)| (a.name(), v.clone())),
        Some(("CRC32", expected_checksum("CRC32", &big)))
    );
    assert_eq!(head.checksum_type.as_deref(), Some("FULL_OBJECT"));

    // Downloaded with the default 8 MiB part size: the 5 MiB layout is learnt from the
    // store, so the ETag verifies exactly, and so does the checksum.
    let down = w.path("down");
    let run = w.sync_from(&[
        "--json-tracing",
        "-vv",
        "--enable-additional-checksum",
        &w.url("p/"),
        &s(&down),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(run.summary("checksum_verified"), 1);
    assert_eq!(run.summary("warning"), 0);
    assert_eq!(
        md5_hex(&std::fs::read(down.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );
}

/// An object uploaded in parts of uneven sizes (6, 5 and 1 MiB): its layout is learnt part
/// by part, so a download and an S3 to S3 copy both verify exactly.
#[test]
fn uneven_parts_are_learnt_exactly() {
    let w = World::new(Kind::Moto);
    let body = data(12 * MIB, 41);
    let key = "uneven/obj";
    let c = &w.client;
    let id = c
        .create_multipart_upload(&w.bucket, key, &[])
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut parts = Vec::new();
    for (n, (from, to)) in [(0, 6 * MIB), (6 * MIB, 11 * MIB), (11 * MIB, 12 * MIB)]
        .into_iter()
        .enumerate()
    {
        let written = c
            .upload_part(
                &w.bucket,
                key,
                &id,
                n as u32 + 1,
                Payload::Bytes(&body[from..to]),
                &[],
            )
            .unwrap_or_else(|e| panic!("part: {e}"));
        parts.push(CompletedPart {
            number: n as u32 + 1,
            etag: written.etag.unwrap_or_default(),
            checksum: None,
        });
    }
    c.complete_multipart_upload(&w.bucket, key, &id, &parts, &[])
        .unwrap_or_else(|e| panic!("complete: {e}"));
    let source_etag = w.etag(key);
    assert!(source_etag.ends_with("-3"));

    let down = w.path("down");
    let run = w.sync_from(&["--json-tracing", &w.url("uneven/"), &s(&down)]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(run.summary("warning"), 0);
    assert_eq!(
        md5_hex(&std::fs::read(down.join("obj")).unwrap_or_default()),
        md5_hex(&body)
    );

    let t = World::new(Kind::Moto);
    let run = w.sync_to(&t, &["--json-tracing", &w.url("uneven/"), &t.url("copy/")]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(
        t.etag("copy/obj"),
        source_etag,
        "the copy is cut like the source"
    );
    assert_eq!(md5_hex(&t.get("copy/obj")), md5_hex(&body));
}

/// Upload options pointing the target at `endpoint` (a proxy) instead of the server.
fn upload_via(w: &World, endpoint: &str, extra: &[&str], src: &str, url: &str) -> common::Run {
    let mut args = via(w.target_args(), w, endpoint);
    args.extend([
        "--json-tracing".to_string(),
        "--aws-max-attempts".into(),
        "2".into(),
    ]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([src.to_string(), url.to_string()]);
    common::run(&args, &[])
}

/// Bytes flipped on the way to the server, with no Content-MD5 and an unsigned payload, so
/// the server stores them: the ETag check catches it and the object is sent again.
#[test]
fn upload_corrupted_in_transit_is_sent_again() {
    let w = World::new(Kind::S3sFs);
    let small = with_marker(data(200_000, 51), 150_000);
    let big = with_marker(data(12 * MIB, 52), 7 * MIB);
    write_file(&w.path("src/small"), &small);
    write_file(&w.path("src/big"), &big);
    let proxy = FaultProxy::start(server(Kind::S3sFs).port(), Direction::ToServer, MARKER, 2);
    let run = upload_via(
        &w,
        &proxy.endpoint(),
        &[
            &["--disable-content-md5-header", "--disable-payload-signing"][..],
            &PARTS_5MIB,
        ]
        .concat(),
        &s(&w.path("src")),
        &w.url("p/"),
    );
    assert_eq!(proxy.flips(), 2, "both objects were hit once");
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    assert_eq!(run.summary("warning"), 2, "one re-transfer each");
    assert!(run.stdout.contains("ETag mismatch"), "{}", run.stdout);
    assert_eq!(md5_hex(&w.get("p/small")), md5_hex(&small));
    assert_eq!(md5_hex(&w.get("p/big")), md5_hex(&big));
}

/// With Content-MD5 (the default) the server refuses altered bytes (BadDigest); the request
/// is sent again and the run is clean.
#[test]
fn upload_refused_for_bad_digest_is_retried() {
    let w = World::new(Kind::S3sFs);
    let small = with_marker(data(50_000, 53), 1_000);
    write_file(&w.path("src/small"), &small);
    let proxy = FaultProxy::start(server(Kind::S3sFs).port(), Direction::ToServer, MARKER, 1);
    let run = upload_via(&w, &proxy.endpoint(), &[], &s(&w.path("src")), &w.url("p/"));
    assert_eq!(proxy.flips(), 1);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(md5_hex(&w.get("p/small")), md5_hex(&small));
}

/// Bytes altered on every attempt: the run fails naming the key and leaves no corrupt object.
#[test]
fn upload_that_never_verifies_leaves_nothing() {
    let w = World::new(Kind::S3sFs);
    let small = with_marker(data(80_000, 54), 40_000);
    write_file(&w.path("src/doomed"), &small);
    write_file(&w.path("src/fine"), &data(1000, 55));
    let proxy = FaultProxy::start(server(Kind::S3sFs).port(), Direction::ToServer, MARKER, 100);
    let run = upload_via(
        &w,
        &proxy.endpoint(),
        &["--disable-content-md5-header", "--disable-payload-signing"],
        &s(&w.path("src")),
        &w.url("p/"),
    );
    run.assert_code(1);
    assert_eq!(proxy.flips(), 3, "three attempts");
    assert_eq!(run.summary("error"), 1);
    assert!(
        run.stdout.contains("doomed") && run.stdout.contains("removed the corrupt object"),
        "{}",
        run.stdout
    );
    let listed = w.list("p/");
    assert!(listed.contains_key("p/fine"));
    assert!(!listed.contains_key("p/doomed"), "{listed:?}");
}

/// Bytes flipped on the way from the server: the download is repeated; if it never
/// verifies, no file (and no temporary file) is left.
#[test]
fn download_corrupted_in_transit_is_repeated_or_dropped() {
    let w = World::new(Kind::S3sFs);
    let small = with_marker(data(300_000, 61), 100_000);
    let big = with_marker(data(12 * MIB, 62), 9 * MIB);
    w.put("p/small", &small);
    w.put("p/big", &big);
    let download = |budget: u32, dest: &std::path::Path| {
        let proxy = FaultProxy::start(
            server(Kind::S3sFs).port(),
            Direction::ToClient,
            MARKER,
            budget,
        );
        let mut args = via(w.source_args(), &w, &proxy.endpoint());
        args.extend(["--json-tracing".into(), w.url("p/"), s(dest)]);
        (common::run(&args, &[]), proxy.flips())
    };
    let once = w.path("once");
    let (run, flips) = download(2, &once);
    assert_eq!(flips, 2);
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    assert_eq!(
        md5_hex(&std::fs::read(once.join("small")).unwrap_or_default()),
        md5_hex(&small)
    );
    assert_eq!(
        md5_hex(&std::fs::read(once.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );

    let never = w.path("never");
    let (run, flips) = download(100, &never);
    assert_eq!(flips, 6, "three attempts for each object");
    run.assert_code(1);
    assert_eq!(run.summary("error"), 2);
    assert!(run.stdout.contains("ETag mismatch"), "{}", run.stdout);
    let left: Vec<String> = std::fs::read_dir(&never)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing may be left: {left:?}");
}

/// `--check-etag` and `--check-mtime-and-etag` recognise a file uploaded in other part sizes
/// (learnt from the store) and transfer only what differs.
#[test]
fn etag_update_checks_learn_the_targets_part_sizes() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    write_file(&src.join("big"), &data(12 * MIB, 71));
    write_file(&src.join("small"), &data(10_000, 72));
    let (src_arg, url) = (s(&src), w.url("p/"));
    w.sync(&[&PARTS_5MIB[..], &[src_arg.as_str(), url.as_str()]].concat())
        .assert_code(0);
    assert!(w.etag("p/big").ends_with("-3"));
    // Default 8 MiB settings: the 5 MiB parts are learnt, nothing is sent.
    let run = w.sync(&["--json-tracing", "--check-etag", &s(&src), &w.url("p/")]);
    run.assert_code(0);
    assert_eq!(run.summary("skipped"), 2);
    assert_eq!(run.summary("transferred_object"), 0);
    // Same size, other bytes: sent again, whatever the times say.
    let changed = data(12 * MIB, 73);
    write_file(&src.join("big"), &changed);
    common::touch(&src.join("big"), -3600);
    let run = w.sync(&["--json-tracing", "--check-etag", &s(&src), &w.url("p/")]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(md5_hex(&w.get("p/big")), md5_hex(&changed));
    // --check-mtime-and-etag: an older file is not even read; a newer one with the same
    // bytes is read and found equal.
    write_file(&src.join("small"), &data(10_000, 74));
    common::touch(&src.join("small"), -3600);
    common::touch(&src.join("big"), 3600);
    let run = w.sync(&[
        "--json-tracing",
        "--check-mtime-and-etag",
        &s(&src),
        &w.url("p/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("skipped"), 2);
    assert_eq!(md5_hex(&w.get("p/small")), md5_hex(&data(10_000, 72)));
    let run = w.sync(&["--check-etag", "--check-size", &s(&src), &w.url("p/")]);
    run.assert_code(2);
}

/// `--check-additional-checksum` in each direction: equal checksums skip, a missing one is
/// a warning and a skip (as in the reference), a different one transfers.
#[test]
fn checksum_update_checks_every_direction() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let small = data(50_000, 81);
    write_file(&src.join("small"), &small);
    write_file(&src.join("big"), &data(9 * MIB, 82));
    // 3: big is multipart, and s3s-fs keeps no checksum for it.
    w.sync(&[
        "--additional-checksum-algorithm",
        "SHA256",
        &s(&src),
        &w.url("p/"),
    ])
    .assert_code(3);
    // Local → S3: small is equal; big is multipart and s3s-fs keeps no checksum for it.
    let run = w.sync(&[
        "--json-tracing",
        "--check-additional-checksum",
        "SHA256",
        &s(&src),
        &w.url("p/"),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("skipped"), 2);
    assert_eq!(run.summary("warning"), 1);
    assert!(
        run.stdout.contains("has no SHA256 checksum"),
        "{}",
        run.stdout
    );
    // A changed file with the same size and an older time is found by its checksum.
    let changed = data(50_000, 83);
    write_file(&src.join("small"), &changed);
    common::touch(&src.join("small"), -3600);
    let run = w.sync(&[
        "--json-tracing",
        "--additional-checksum-algorithm",
        "SHA256",
        "--check-additional-checksum",
        "SHA256",
        &s(&src),
        &w.url("p/"),
    ]);
    assert_eq!(run.summary("transferred_object"), 1, "{}", run.stdout);
    assert_eq!(md5_hex(&w.get("p/small")), md5_hex(&changed));
    // --check-mtime-and-additional-checksum: a newer file (which the time rule alone would
    // send) with equal bytes is read, found equal, and skipped.
    common::touch(&src.join("small"), 3600);
    let run = w.sync(&[
        "--json-tracing",
        "-vv",
        "--check-mtime-and-additional-checksum",
        "SHA256",
        &s(&src),
        &w.url("p/"),
    ]);
    assert_eq!(run.summary("transferred_object"), 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("checksums are the same"),
        "{}",
        run.stdout
    );
    // S3 → local, against the downloaded copy.
    let down = w.path("down");
    w.sync_from(&[&w.url("p/"), &s(&down)]).assert_code(0);
    let run = w.sync_from(&[
        "--json-tracing",
        "--check-additional-checksum",
        "SHA256",
        &w.url("p/"),
        &s(&down),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("skipped"), 2);
    // S3 → S3: the copies carry the checksum, so both sides compare equal.
    let t = World::new(Kind::S3sFs);
    w.sync_to(
        &t,
        &["--enable-additional-checksum", &w.url("p/"), &t.url("c/")],
    )
    .assert_code(0);
    // With --enable-additional-checksum alone a copy carries the source's algorithm.
    assert_eq!(
        checksum_head(&t, "c/small")
            .checksum
            .map(|(a, v)| (a.name(), v)),
        Some(("SHA256", expected_checksum("SHA256", &changed)))
    );
    let run = w.sync_to(
        &t,
        &[
            "--json-tracing",
            "--check-additional-checksum",
            "SHA256",
            &w.url("p/"),
            &t.url("c/"),
        ],
    );
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("skipped"), 2);
}

/// S3 → S3 streaming copies get an additional checksum too: it is computed as the bytes pass
/// and sent as an aws-chunked trailer, which s3s-fs checks; with
/// `--enable-additional-checksum` the source's own value must match it.
#[test]
fn s3_to_s3_copies_carry_and_verify_checksums() {
    let w = World::new(Kind::S3sFs);
    let t = World::new(Kind::S3sFs);
    let small = data(70_000, 91);
    // Below the threshold: copied in one PUT, so its ETag verifies too.
    let big = data(7 * MIB, 92);
    w.put("p/small", &small);
    w.put("p/big", &big);
    let run = w.sync_to(
        &t,
        &[
            "--json-tracing",
            "--additional-checksum-algorithm",
            "CRC32C",
            &w.url("p/"),
            &t.url("c/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("checksum_verified"), 2);
    assert_eq!(run.summary("etag_verified"), 2);
    let head = checksum_head(&t, "c/small");
    assert_eq!(
        head.checksum.map(|(a, v)| (a.name(), v)),
        Some(("CRC32C", expected_checksum("CRC32C", &small)))
    );
    assert_eq!(md5_hex(&t.get("c/big")), md5_hex(&big));

    // moto keeps full-object CRCs of multipart uploads: the copy's value is checked against
    // the source's.
    let (m, big) = uploaded_in_parts(
        Kind::Moto,
        11 * MIB,
        93,
        &[
            "--additional-checksum-algorithm",
            "CRC32",
            "--full-object-checksum",
        ],
    );
    let n = World::new(Kind::Moto);
    let run = m.sync_to(
        &n,
        &[
            "--json-tracing",
            "-vv",
            "--enable-additional-checksum",
            &m.url("p/"),
            &n.url("c/"),
        ],
    );
    run.assert_code(0);
    assert_eq!(run.summary("checksum_verified"), 1);
    assert_eq!(run.summary("etag_verified"), 1);
    let want = expected_checksum("CRC32", &big);
    assert!(
        run.stdout
            .contains(&format!("\"source_checksum\":\"{want}\"")),
        "{}",
        run.stdout
    );
    assert_eq!(n.etag("c/big"), m.etag("p/big"));

    let run = w.sync_to(
        &t,
        &[
            "--json-tracing",
            "--server-side-copy",
            "--enable-additional-checksum",
            &w.url("p/"),
            &t.url("d/"),
        ],
    );
    // Allowed now; these sources keep no checksum, so the server copies them as they are.
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(md5_hex(&t.get("d/big")), md5_hex(&w.get("p/big")));
}

/// moto answers a CRC64NVME multipart upload with a 4-byte value (see the test-servers
/// notes). A store that reports a malformed checksum gets a warning, never a "corrupt"
/// verdict that would delete a good copy.
#[test]
fn malformed_checksums_from_the_store_are_not_trusted() {
    let (m, big) = uploaded_in_parts(
        Kind::Moto,
        11 * MIB,
        95,
        &["--additional-checksum-algorithm", "CRC64NVME"],
    );
    let stored = checksum_head(&m, "p/big").checksum;
    assert!(
        stored
            .as_ref()
            .is_some_and(|(a, v)| a.name() == "CRC64NVME" && v.len() != 12),
        "moto's value is expected to be malformed: {stored:?}"
    );
    let down = m.path("down");
    let run = m.sync_from(&[
        "--json-tracing",
        "--enable-additional-checksum",
        &m.url("p/"),
        &s(&down),
    ]);
    run.assert_code(3);
    assert!(run.stdout.contains("malformed"), "{}", run.stdout);
    assert_eq!(
        md5_hex(&std::fs::read(down.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );
    let n = World::new(Kind::Moto);
    let run = m.sync_to(
        &n,
        &[
            "--json-tracing",
            "--enable-additional-checksum",
            &m.url("p/"),
            &n.url("c/"),
        ],
    );
    run.assert_code(3);
    assert_eq!(md5_hex(&n.get("c/big")), md5_hex(&big));
}

/// moto checks no checksum but must still store every algorithm's uploads intact; its
/// single-part checksums verify.
#[test]
fn every_algorithm_uploads_to_moto() {
    let w = World::new(Kind::Moto);
    let small = data(30_000, 101);
    let big = data(11 * MIB, 102);
    write_file(&w.path("src/small"), &small);
    write_file(&w.path("src/big"), &big);
    for algorithm in ["SHA256", "SHA1", "CRC32", "CRC32C", "CRC64NVME"] {
        let prefix = format!("{algorithm}/");
        let (src, url) = (s(&w.path("src")), w.url(&prefix));
        let mut args = vec!["--json-tracing"];
        args.extend(PARTS_5MIB);
        args.extend(["--additional-checksum-algorithm", algorithm, &src, &url]);
        let run = w.sync(&args);
        // moto keeps a multipart checksum other than S3's (a composite without its part
        // count, CRC32 for CRC32C, 4 bytes for CRC64NVME): one warning naming the key.
        run.assert_code(3);
        assert_eq!(run.summary("warning"), 1, "{algorithm}");
        assert!(
            run.stdout.contains(&format!("{prefix}big")),
            "{}",
            run.stdout
        );
        assert_eq!(run.summary("checksum_verified"), 1, "{algorithm}");
        assert_eq!(run.summary("etag_verified"), 2, "{algorithm}");
        assert_eq!(md5_hex(&w.get(&format!("{prefix}small"))), md5_hex(&small));
        assert_eq!(md5_hex(&w.get(&format!("{prefix}big"))), md5_hex(&big));
    }
}

/// `--disable-additional-checksum-verify`: the checksum is stored, not compared.
#[test]
fn checksum_stored_but_not_compared_when_verification_is_off() {
    let w = World::new(Kind::S3sFs);
    let small = data(20_000, 111);
    write_file(&w.path("src/small"), &small);
    let run = w.sync(&[
        "--json-tracing",
        "--additional-checksum-algorithm",
        "CRC32",
        "--disable-additional-checksum-verify",
        &s(&w.path("src")),
        &w.url("p/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("checksum_verified"), 0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(
        checksum_head(&w, "p/small").checksum.map(|(_, v)| v),
        Some(expected_checksum("CRC32", &small))
    );
}

/// `--auto-chunksize` asks for every part (one HeadObject each) where the store answers, and
/// says once that it cannot where the store does not.
#[test]
fn auto_chunksize_learns_every_part_or_says_it_cannot() {
    let (m, big) = uploaded_in_parts(Kind::Moto, 12 * MIB, 121, &[]);
    let proxy = common::RecordingProxy::start(server(Kind::Moto).port());
    let mut cli = via(m.source_args(), &m, &proxy.endpoint());
    let down = m.path("down");
    cli.extend([
        "--json-tracing".into(),
        "--auto-chunksize".into(),
        m.url("p/"),
        s(&down),
    ]);
    let run = common::run(&cli, &[]);
    run.assert_code(0);
    assert_eq!(run.summary("etag_verified"), 1);
    assert_eq!(
        proxy.sent().matches("partNumber=").count(),
        3,
        "one HEAD per part"
    );
    assert_eq!(
        md5_hex(&std::fs::read(down.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );

    // s3s-fs does not tell part sizes. Uploaded in 7 MiB parts (15 MiB: three parts, which
    // the common 5 MiB size would give too, at other edges), the ETag cannot be verified.
    let f = World::new(Kind::S3sFs);
    let big = data(15 * MIB, 122);
    write_file(&f.path("src/big"), &big);
    f.sync(&[
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "7MiB",
        &s(&f.path("src")),
        &f.url("p/"),
    ])
    .assert_code(0);
    let down = f.path("down");
    let run = f.sync_from(&[
        "--json-tracing",
        "--auto-chunksize",
        &f.url("p/"),
        &s(&down),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("etag_verified"), 0);
    assert_eq!(run.summary("warning"), 1);
    assert_eq!(
        run.stdout
            .matches("does not answer HeadObject with partNumber")
            .count(),
        1
    );
    assert_eq!(
        md5_hex(&std::fs::read(down.join("big")).unwrap_or_default()),
        md5_hex(&big)
    );
}

/// Local → local content checks: a file with other bytes is copied whatever the times say;
/// an equal one is not.
#[test]
fn local_to_local_content_checks() {
    let dir = std::env::temp_dir().join(common::unique("s3sync-l2l-sum"));
    let (a, b) = (dir.join("a"), dir.join("b"));
    write_file(&a.join("same"), &data(5000, 131));
    write_file(&b.join("same"), &data(5000, 131));
    write_file(&a.join("other"), &data(5000, 132));
    write_file(&b.join("other"), &data(5000, 133));
    common::touch(&a.join("same"), -7200);
    common::touch(&a.join("other"), -7200);
    for check in [
        vec!["--check-additional-checksum", "CRC64NVME"],
        vec!["--check-etag"],
    ] {
        write_file(&b.join("other"), &data(5000, 133));
        let mut args: Vec<String> = check.iter().map(|s| s.to_string()).collect();
        args.extend(["--json-tracing".into(), s(&a), s(&b)]);
        let run = common::run(&args, &[]);
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 1, "{check:?}");
        assert_eq!(run.summary("skipped"), 1, "{check:?}");
        assert_eq!(
            std::fs::read(b.join("other")).unwrap_or_default(),
            data(5000, 132)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
