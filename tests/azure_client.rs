//! The Blob client (`s3sync::azure`) through its library API against a real, strict Azurite
//! 3.37.0: every request is SharedKey- or SAS-signed and Azurite checks the signature, the
//! `x-ms-version`, Content-MD5 and the block list.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use s3sync::azure::auth::AccountKey;
use s3sync::azure::blocks::BlockId;
use s3sync::azure::ops::{BlockListType, ListBlobs, WriteOptions};
use s3sync::azure::properties::ContentHeaders;
use s3sync::azure::xml::ListEntry;
use s3sync::azure::{Client, Credentials, ErrorKind, Payload};
use s3sync::util::time::Timestamp;

use common::azurite::{self, list_all, md5, put, read_all, sas_for};

#[test]
fn put_blob_stores_the_content_md5_we_computed() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let data = b"hello, azure blob storage";
    let options = WriteOptions {
        content_md5: Some(md5(data)),
        ..WriteOptions::default()
    };
    let written = client
        .put_blob(&container, "small.txt", Payload::Bytes(data), &options)
        .unwrap_or_else(|e| panic!("PutBlob: {e}"));
    assert!(written.etag.is_some());
    assert_eq!(written.content_md5, Some(md5(data)));
    let props = client
        .blob_properties(&container, "small.txt")
        .unwrap_or_else(|e| panic!("GetBlobProperties: {e}"))
        .unwrap_or_else(|| panic!("small.txt is missing"));
    assert_eq!(props.size, data.len() as u64);
    assert_eq!(props.content_md5, Some(md5(data)));
    assert_eq!(props.blob_type.as_deref(), Some("BlockBlob"));
    assert_eq!(read_all(&client, &container, "small.txt", None), data);

    // A wrong Content-MD5 is refused and nothing is stored.
    let wrong = WriteOptions {
        content_md5: Some(md5(b"something else")),
        ..WriteOptions::default()
    };
    let err = client
        .put_blob(&container, "bad.txt", Payload::Bytes(data), &wrong)
        .err()
        .unwrap_or_else(|| panic!("a wrong Content-MD5 was accepted"));
    assert_eq!(err.code, "Md5Mismatch", "{err}");
    assert!(
        client
            .blob_properties(&container, "bad.txt")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );

    // A streamed body (opened again for each attempt) is the same as bytes.
    let open = || -> std::io::Result<Box<dyn Read>> { Ok(Box::new(&data[..])) };
    client
        .put_blob(
            &container,
            "streamed.txt",
            Payload::Stream {
                len: data.len() as u64,
                open: &open,
            },
            &options,
        )
        .unwrap_or_else(|e| panic!("PutBlob streamed: {e}"));
    assert_eq!(read_all(&client, &container, "streamed.txt", None), data);
}

#[test]
fn blocks_commit_in_order_with_the_whole_blob_md5() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let blocks: Vec<Vec<u8>> = (0u8..3)
        .map(|i| {
            (0..100_000u32)
                .map(|n| (n as u8).wrapping_mul(i + 7))
                .collect()
        })
        .collect();
    let whole: Vec<u8> = blocks.concat();
    let ids: Vec<BlockId> = (0..3).map(BlockId::new).collect();
    // Sent out of order, as parallel uploads would.
    for i in [2usize, 0, 1] {
        client
            .put_block(
                &container,
                "big.bin",
                &ids[i],
                Payload::Bytes(&blocks[i]),
                Some(&md5(&blocks[i])),
            )
            .unwrap_or_else(|e| panic!("PutBlock {i}: {e}"));
    }
    // What a resumed upload would find.
    let pending = client
        .get_block_list(&container, "big.bin", BlockListType::Uncommitted)
        .unwrap_or_else(|e| panic!("GetBlockList: {e}"));
    let mut indexes: Vec<Option<u32>> = pending.uncommitted.iter().map(|b| b.id.index()).collect();
    indexes.sort();
    assert_eq!(indexes, vec![Some(0), Some(1), Some(2)]);
    assert!(pending.uncommitted.iter().all(|b| b.size == 100_000));

    let options = WriteOptions {
        content_md5: Some(md5(&whole)),
        content: ContentHeaders {
            content_type: Some("application/octet-stream".into()),
            ..ContentHeaders::default()
        },
        ..WriteOptions::default()
    };
    client
        .put_block_list(&container, "big.bin", &ids, &options)
        .unwrap_or_else(|e| panic!("PutBlockList: {e}"));
    assert_eq!(read_all(&client, &container, "big.bin", None), whole);
    let props = client
        .blob_properties(&container, "big.bin")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("big.bin is missing"));
    assert_eq!(props.size, whole.len() as u64);
    assert_eq!(props.content_md5, Some(md5(&whole)));
    let committed = client
        .get_block_list(&container, "big.bin", BlockListType::All)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(committed.committed.len(), 3);
    assert!(committed.uncommitted.is_empty());

    // A block with a wrong MD5 is refused (and would be retried: the bytes were altered).
    let err = client
        .put_block(
            &container,
            "other.bin",
            &ids[0],
            Payload::Bytes(b"abc"),
            Some(&md5(b"abd")),
        )
        .err()
        .unwrap_or_else(|| panic!("a wrong block MD5 was accepted"));
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("Md5Mismatch", ErrorKind::Retryable),
        "{err}"
    );
}

#[test]
fn listing_pages_through_markers_in_byte_order() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let names = [
        "k/a b.txt",
        "k/a+b.txt",
        "k/a%b.txt",
        "k/a%2Fb.txt",
        "k/dir/x",
        "k/dir-2/x",
        "k/dir/y",
        "k/ünïcödé",
        "k/☃/snow",
        "k/Z",
        "k/(1)!'*",
        "other",
    ];
    for name in names {
        put(&client, &container, name, name.as_bytes());
    }
    let mut expected: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("k/"))
        .map(|n| n.to_string())
        .collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let (listed, pages) = list_all(&client, &container, "k/", 3);
    assert_eq!(listed, expected);
    assert_eq!(pages, expected.len().div_ceil(3));
    // Every name reads back under itself.
    for name in &expected {
        assert_eq!(read_all(&client, &container, name, None), name.as_bytes());
    }
    // One level, with the directories as prefixes.
    let page = client
        .list_blobs(
            &container,
            &ListBlobs {
                prefix: "k/",
                delimiter: Some("/"),
                ..ListBlobs::default()
            },
        )
        .unwrap_or_else(|e| panic!("ListBlobs: {e}"));
    let prefixes: Vec<&str> = page
        .entries
        .iter()
        .filter_map(|e| match e {
            ListEntry::Prefix(p) => Some(p.as_str()),
            ListEntry::Blob { .. } => None,
        })
        .collect();
    assert_eq!(prefixes, vec!["k/dir-2/", "k/dir/", "k/☃/"]);
    assert!(page.next_marker.is_none());
}

#[test]
fn ranged_reads_stream_part_of_a_blob() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    put(&client, &container, "r.bin", &data);
    assert_eq!(
        read_all(&client, &container, "r.bin", Some((3, Some(7)))),
        &data[3..=7]
    );
    assert_eq!(
        read_all(&client, &container, "r.bin", Some((9_990, None))),
        &data[9_990..]
    );
    let download = client
        .get_blob(&container, "r.bin", Some((100, Some(199))))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(download.content_length, 100);
    assert_eq!(download.properties.size, 10_000);
    assert_eq!(download.properties.content_md5, Some(md5(&data)));
}

#[test]
fn properties_metadata_tags_and_tiers_round_trip() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let data = b"{\"a\":1}";
    let options = WriteOptions {
        content_md5: Some(md5(data)),
        content: ContentHeaders {
            content_type: Some("application/json".into()),
            content_encoding: Some("identity".into()),
            content_language: Some("en-GB".into()),
            content_disposition: Some("attachment; filename=\"a.json\"".into()),
            cache_control: Some("max-age=60".into()),
        },
        metadata: vec![
            ("origin".into(), "laptop".into()),
            ("mtime".into(), "1700000000".into()),
        ],
        tier: Some("Cool".into()),
        tags: vec![
            ("project".into(), "s3 sync".into()),
            ("team".into(), "a+b=c".into()),
        ],
        ..WriteOptions::default()
    };
    client
        .put_blob(&container, "doc.json", Payload::Bytes(data), &options)
        .unwrap_or_else(|e| panic!("PutBlob: {e}"));
    let props = client
        .blob_properties(&container, "doc.json")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("doc.json is missing"));
    assert_eq!(props.content, options.content);
    let mut metadata = props.metadata.clone();
    metadata.sort();
    assert_eq!(
        metadata,
        vec![
            ("mtime".to_string(), "1700000000".to_string()),
            ("origin".to_string(), "laptop".to_string())
        ]
    );
    assert_eq!(props.access_tier.as_deref(), Some("Cool"));
    assert_eq!(props.tag_count, Some(2));
    let now = Timestamp::now().secs;
    assert!(
        props
            .last_modified
            .is_some_and(|t| (t.secs - now).abs() < 300)
    );

    let mut tags = client
        .get_blob_tags(&container, "doc.json")
        .unwrap_or_else(|e| panic!("GetBlobTags: {e}"));
    tags.sort();
    assert_eq!(tags, options.tags);
    // Tag values allow letters, digits, space and + - . / : = _ only.
    let replaced = vec![("only".to_string(), "v1.0 a+b=c_d/e:f-g".to_string())];
    client
        .set_blob_tags(&container, "doc.json", &replaced)
        .unwrap_or_else(|e| panic!("SetBlobTags: {e}"));
    assert_eq!(
        client.get_blob_tags(&container, "doc.json").ok(),
        Some(replaced.clone())
    );

    client
        .set_blob_tier(&container, "doc.json", "Hot")
        .unwrap_or_else(|e| panic!("SetBlobTier: {e}"));
    let props = client
        .blob_properties(&container, "doc.json")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("doc.json is missing"));
    assert_eq!(props.access_tier.as_deref(), Some("Hot"));

    // The listing carries the same, with metadata and tags when asked.
    let page = client
        .list_blobs(
            &container,
            &ListBlobs {
                include_metadata: true,
                include_tags: true,
                ..ListBlobs::default()
            },
        )
        .unwrap_or_else(|e| panic!("ListBlobs: {e}"));
    let Some(ListEntry::Blob { name, properties }) = page.entries.first() else {
        panic!("no blob listed: {page:?}");
    };
    assert_eq!(name, "doc.json");
    assert_eq!(properties.content_md5, Some(md5(data)));
    assert_eq!(
        properties.content.content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(properties.access_tier.as_deref(), Some("Hot"));
    assert_eq!(properties.tags, replaced);
    assert!(
        properties
            .metadata
            .contains(&("origin".into(), "laptop".into()))
    );
}

#[test]
fn delete_removes_a_blob_once() {
    let client = azurite::client();
    let container = azurite::container(&client);
    put(&client, &container, "gone soon", b"x");
    assert_eq!(client.delete_blob(&container, "gone soon").ok(), Some(true));
    assert_eq!(
        client.delete_blob(&container, "gone soon").ok(),
        Some(false)
    );
    assert!(
        client
            .blob_properties(&container, "gone soon")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}

#[test]
fn a_wrong_key_is_an_access_denied_error_with_a_request_id() {
    let good = azurite::client();
    let container = azurite::container(&good);
    let wrong = AccountKey::new(
        azurite::ACCOUNT,
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let client = azurite::client_with(Credentials::SharedKey(Arc::new(wrong)));
    let err = client
        .list_blobs(&container, &ListBlobs::default())
        .err()
        .unwrap_or_else(|| panic!("a wrong key was accepted"));
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err}");
    assert_eq!(err.status, Some(403));
    assert!(!err.request_id.is_empty(), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(&err.request_id) && !shown.contains('\n'),
        "{shown}"
    );
    assert!(!shown.contains(azurite::KEY));
    // A HEAD has no body: the code comes from x-ms-error-code.
    let err = client
        .blob_properties(&container, "x")
        .err()
        .unwrap_or_else(|| panic!("a wrong key was accepted"));
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err}");
}

#[test]
fn missing_blobs_and_containers_are_not_found_with_a_request_id() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let err = client
        .get_blob(&container, "missing", None)
        .err()
        .unwrap_or_else(|| panic!("a missing blob was read"));
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::NotFound, "BlobNotFound"),
        "{err}"
    );
    assert!(!err.request_id.is_empty());
    assert!(
        err.to_string()
            .starts_with("GetBlob failed: BlobNotFound (HTTP 404)"),
        "{err}"
    );
    let err = client
        .list_blobs("no-such-container", &ListBlobs::default())
        .err()
        .unwrap_or_else(|| panic!("a missing container was listed"));
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::NotFound, "ContainerNotFound"),
        "{err}"
    );
    assert_eq!(client.create_container(&container).ok(), Some(false));
}

#[test]
fn service_sas_tokens_authorize_what_they_grant_and_nothing_else() {
    let client = azurite::client();
    let container = azurite::container(&client);
    put(&client, &container, "dir/shared file.txt", b"shared");
    put(&client, &container, "private.txt", b"private");

    let reader = azurite::client_with(sas_for(&container, Some("dir/shared file.txt"), "r"));
    assert_eq!(
        read_all(&reader, &container, "dir/shared file.txt", None),
        b"shared"
    );
    let denied = reader
        .get_blob(&container, "private.txt", None)
        .err()
        .unwrap_or_else(|| panic!("a blob SAS read another blob"));
    assert_eq!(denied.kind, ErrorKind::AccessDenied, "{denied}");
    let denied = reader
        .put_blob(
            &container,
            "dir/shared file.txt",
            Payload::Bytes(b"x"),
            &WriteOptions::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("a read SAS wrote"));
    assert_eq!(denied.kind, ErrorKind::AccessDenied, "{denied}");
    assert!(
        !format!("{denied} {denied:?}").contains("sig="),
        "{denied:?}"
    );

    let lister = azurite::client_with(sas_for(&container, None, "rl"));
    let (names, _) = list_all(&lister, &container, "", 5000);
    assert_eq!(names, vec!["dir/shared file.txt", "private.txt"]);

    // A token signed for another container is refused.
    let other = azurite::client_with(sas_for("another-container", None, "rl"));
    let err = other
        .list_blobs(&container, &ListBlobs::default())
        .err()
        .unwrap_or_else(|| panic!("a SAS for another container listed this one"));
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err}");
}

#[test]
fn server_side_copies_read_a_sas_source_url() {
    let client = azurite::client();
    let container = azurite::container(&client);
    let data: Vec<u8> = (0..50_000u32).map(|n| (n % 251) as u8).collect();
    put(&client, &container, "src.bin", &data);
    let Credentials::Sas(token) = sas_for(&container, Some("src.bin"), "r") else {
        panic!("not a SAS");
    };
    let source = token.append_to(&client.blob_url(&container, "src.bin"));

    // Put Block From URL, in two ranges, then commit.
    let ids = [BlockId::new(0), BlockId::new(1)];
    client
        .put_block_from_url(
            &container,
            "blocks-copy.bin",
            &ids[0],
            &source,
            Some((0, 29_999)),
        )
        .unwrap_or_else(|e| panic!("PutBlockFromURL: {e}"));
    client
        .put_block_from_url(
            &container,
            "blocks-copy.bin",
            &ids[1],
            &source,
            Some((30_000, 49_999)),
        )
        .unwrap_or_else(|e| panic!("PutBlockFromURL: {e}"));
    client
        .put_block_list(
            &container,
            "blocks-copy.bin",
            &ids,
            &WriteOptions::default(),
        )
        .unwrap_or_else(|e| panic!("PutBlockList: {e}"));
    assert_eq!(read_all(&client, &container, "blocks-copy.bin", None), data);

    // Copy Blob From URL, synchronous.
    let options = WriteOptions {
        metadata: vec![("copied".into(), "yes".into())],
        ..WriteOptions::default()
    };
    client
        .copy_blob_from_url(&container, "copy.bin", &source, &options)
        .unwrap_or_else(|e| panic!("CopyBlobFromURL: {e}"));
    assert_eq!(read_all(&client, &container, "copy.bin", None), data);
    let props = client
        .blob_properties(&container, "copy.bin")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("copy.bin is missing"));
    assert!(props.metadata.contains(&("copied".into(), "yes".into())));
}

#[test]
fn a_refused_connection_is_retried_then_reported_as_retryable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        l.local_addr().map(|a| a.port()).unwrap_or(0)
    };
    let endpoint = s3sync::azure::ServiceEndpoint::parse(&format!(
        "http://127.0.0.1:{port}/{}",
        azurite::ACCOUNT
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = s3sync::azure::ClientConfig::new(endpoint, Credentials::Anonymous);
    cfg.max_attempts = 3;
    cfg.initial_backoff = Duration::from_millis(10);
    let client = Client::new(cfg);
    let started = std::time::Instant::now();
    let err = client
        .list_blobs("c01", &ListBlobs::default())
        .err()
        .unwrap_or_else(|| panic!("nothing listens there"));
    assert_eq!(err.kind, ErrorKind::Retryable, "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(10),
        "no backoff between attempts"
    );
}

/// 503 on the first request and a reset connection on the second, then the real server.
fn busy_then_reset(n: u32, _head: &str) -> Option<common::chaos::Fault> {
    match n {
        0 => Some(common::chaos::Fault::SlowDown),
        1 => Some(common::chaos::Fault::Reset),
        _ => None,
    }
}

#[test]
fn a_busy_server_and_a_reset_connection_are_retried_with_fresh_signatures() {
    let direct = azurite::client();
    let container = azurite::container(&direct);
    let port: u16 = azurite::azurite()
        .endpoint
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {}", azurite::azurite().endpoint));
    let proxy = common::chaos::ChaosProxy::start(port, busy_then_reset);
    let endpoint = s3sync::azure::ServiceEndpoint::parse(&format!(
        "{}/{}",
        proxy.endpoint(),
        azurite::ACCOUNT
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let key = Credentials::SharedKey(Arc::new(azurite::account_key()));
    let mut cfg = s3sync::azure::ClientConfig::new(endpoint, key);
    cfg.max_attempts = 3;
    cfg.initial_backoff = Duration::from_millis(10);
    let client = Client::new(cfg);
    let data = b"third time lucky";
    let options = WriteOptions {
        content_md5: Some(md5(data)),
        ..WriteOptions::default()
    };
    client
        .put_blob(&container, "retried.txt", Payload::Bytes(data), &options)
        .unwrap_or_else(|e| panic!("PutBlob through faults: {e}"));
    assert_eq!(proxy.injected(), 2);
    assert_eq!(read_all(&direct, &container, "retried.txt", None), data);
}
