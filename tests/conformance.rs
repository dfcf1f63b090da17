//! The storage interface's conformance suite: the same cases, through `&dyn Backend`, against
//! every backend — a local directory, S3 on s3s-fs, S3 on moto and Azure Blob on a strict
//! Azurite. A new backend proves
//! itself by passing it. What a case expects is derived from the backend's declared
//! capabilities, never from its name: a declared capability must work, an undeclared one
//! must answer `Unsupported`. Where a test server lacks a behaviour of the real service
//! (`../shared/reference/test-servers.md`), the case says so by name.

mod common;

use std::io::Read;
use std::sync::Arc;

use common::{Kind, World, azurite, data, md5_hex};
use md5::{Digest, Md5};
use s3sync::integrity::digest::Parts;
use s3sync::storage::azure_backend::AzureBackend;
use s3sync::storage::backend::{Backend, Body, CopySource, ReadOptions, WriteOptions};
use s3sync::storage::caps::CopyKind;
use s3sync::storage::error::ErrorKind;
use s3sync::storage::local::LocalStore;
use s3sync::storage::local_backend::LocalBackend;
use s3sync::storage::props::{ContentTag, ObjectMeta, Properties, StoredAlgorithm};
use s3sync::storage::s3::{ListOptions, S3Store};
use s3sync::storage::s3_backend::{S3Backend, S3WriteSettings};
use s3sync::storage::{ListItem, ListWarning};
use s3sync::util::encoding::base64;

const MIB: usize = 1 << 20;

/// Test servers' known gaps (see `shared/reference/test-servers.md`).
#[derive(Clone, Copy)]
struct Gaps {
    /// No tagging (s3s-fs).
    tags: bool,
    /// Conditional writes are ignored (s3s-fs).
    conditions: bool,
    /// HeadObject ignores `partNumber` (s3s-fs).
    part_numbers: bool,
}

struct Subject {
    name: &'static str,
    backend: Box<dyn Backend>,
    gaps: Gaps,
    /// Keeps the bucket or directory alive.
    _world: Option<World>,
    _dir: Option<std::path::PathBuf>,
}

fn s3_subject(kind: Kind, name: &'static str, gaps: Gaps) -> Subject {
    let w = World::new(kind);
    let store = S3Store::new(
        Arc::clone(&w.client),
        w.bucket.clone(),
        "conf/".into(),
        ListOptions {
            max_keys: 3,
            parallel: 4,
            max_depth: 2,
            ahead: 1000,
            at: None,
        },
    );
    Subject {
        name,
        backend: Box::new(S3Backend::new(store, S3WriteSettings::default())),
        gaps,
        _world: Some(w),
        _dir: None,
    }
}

/// A fresh container on Azurite, names under `conf/`.
fn azurite_subject() -> Subject {
    let client = azurite::client();
    let container = azurite::container(&client);
    Subject {
        name: "azurite",
        backend: Box::new(AzureBackend::new(
            Arc::new(client),
            container,
            "conf/".into(),
        )),
        gaps: Gaps {
            tags: false,
            conditions: false,
            part_numbers: false,
        },
        _world: None,
        _dir: None,
    }
}

fn subjects() -> Vec<Subject> {
    let dir = std::env::temp_dir().join(common::unique("conformance"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let none = Gaps {
        tags: false,
        conditions: false,
        part_numbers: false,
    };
    vec![
        Subject {
            name: "local",
            backend: Box::new(LocalBackend::new(LocalStore::new(&dir, true))),
            gaps: none,
            _world: None,
            _dir: Some(dir),
        },
        s3_subject(
            Kind::S3sFs,
            "s3s-fs",
            Gaps {
                tags: true,
                conditions: true,
                part_numbers: true,
            },
        ),
        // moto checks no signatures: the credentials case runs on s3s-fs.
        s3_subject(Kind::Moto, "moto", none),
        azurite_subject(),
    ]
}

fn body<'a>(
    bytes: &'a [u8],
    open: &'a (dyn Fn() -> std::io::Result<Box<dyn Read + 'a>> + Sync),
) -> Body<'a> {
    Body {
        len: bytes.len() as u64,
        md5: Some(Md5::digest(bytes).into()),
        sha256: None,
        open,
    }
}

/// Writes `bytes` under `key` in one request.
fn put(b: &dyn Backend, key: &str, bytes: &[u8], opts: &WriteOptions<'_>) {
    let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(bytes)) };
    b.write(key, &body(bytes, &open), opts)
        .unwrap_or_else(|e| panic!("write {key}: {e}"));
}

fn read_all(b: &dyn Backend, key: &str, opts: &ReadOptions<'_>) -> Vec<u8> {
    let (_, mut reader) = b
        .read(key, opts)
        .unwrap_or_else(|e| panic!("read {key}: {e}"));
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("read {key}: {e}"));
    out
}

fn keys(b: &dyn Backend) -> Vec<String> {
    let mut out = Vec::new();
    let mut warnings: Vec<ListWarning> = Vec::new();
    b.list(&mut |item| {
        match item {
            ListItem::Entry(e) => out.push(e.key),
            ListItem::Warning(w) => warnings.push(w),
            ListItem::Skipped { .. } => {}
        }
        true
    })
    .unwrap_or_else(|e| panic!("list: {e}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    out
}

/// The MD5 a store keeps with the object (Blob Content-MD5), base64.
fn stored_md5(p: &Properties) -> Option<String> {
    p.stored
        .iter()
        .find(|c| c.algorithm == StoredAlgorithm::Md5)
        .map(|c| c.value.clone())
}

/// Whatever a store says about the MD5 of an object (its tag, its stored MD5) is true of
/// `bytes`; saying nothing is allowed.
fn assert_md5_evidence(name: &str, p: &Properties, bytes: &[u8]) {
    let md5: [u8; 16] = Md5::digest(bytes).into();
    if let ContentTag::Md5(d) = &p.tag {
        assert_eq!(*d, md5, "{name}: the tag is another content's MD5");
    }
    if let Some(stored) = stored_md5(p) {
        assert_eq!(
            stored,
            base64(&md5),
            "{name}: the stored MD5 is another content's"
        );
    }
}

fn for_each(case: &str, f: impl Fn(&Subject)) {
    for s in subjects() {
        eprintln!("{case}: {}", s.name);
        f(&s);
    }
}

#[test]
fn listings_come_in_byte_order_of_the_key() {
    for_each("list order", |s| {
        let b = s.backend.as_ref();
        // Keys whose byte order differs from a naive directory walk (`dir-2/x` < `dir/x`),
        // with spaces, unicode and several levels; more than one page (max_keys 3 on S3).
        let mut wanted = vec![
            "a", "a b", "a-b", "a0", "b/c/d", "c/x", "dir-2/x", "dir/x", "z", "é/1", "日本",
        ];
        for k in &wanted {
            put(b, k, k.as_bytes(), &WriteOptions::default());
        }
        wanted.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
        assert_eq!(keys(b), wanted, "{}", s.name);
        assert!(b.capabilities().list_sorted, "{}", s.name);
    });
}

#[test]
fn head_and_reads_whole_and_ranged() {
    for_each("head and read", |s| {
        let b = s.backend.as_ref();
        assert_eq!(
            b.head("missing", &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", s.name)),
            None
        );
        let e = b
            .read("missing", &ReadOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{}: a missing object was read", s.name));
        assert_eq!(e.kind, ErrorKind::NotFound, "{}: {e}", s.name);
        let bytes = data(100_000, 3);
        let meta = ObjectMeta {
            content_type: Some("text/x-conformance".into()),
            user: vec![("origin".into(), "suite".into())],
            ..ObjectMeta::default()
        };
        put(
            b,
            "obj",
            &bytes,
            &WriteOptions {
                content: Some(&meta),
                ..WriteOptions::default()
            },
        );
        let props = b
            .head("obj", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", s.name))
            .unwrap_or_else(|| panic!("{}: written object not found", s.name));
        assert_eq!(props.size, bytes.len() as u64, "{}", s.name);
        assert!(props.modified.is_some(), "{}", s.name);
        if b.capabilities().metadata {
            assert_eq!(props.content.content_type, meta.content_type, "{}", s.name);
            assert_eq!(props.content.user, meta.user, "{}", s.name);
            // A plain single write: its tag is the content's MD5 (S3 unencrypted), or the tag
            // is opaque and the store keeps the content's MD5 (Blob Content-MD5).
            let expected: [u8; 16] = Md5::digest(&bytes).into();
            match &props.tag {
                ContentTag::Md5(d) => assert_eq!(*d, expected, "{}", s.name),
                ContentTag::Opaque => assert_eq!(
                    stored_md5(&props),
                    Some(base64(&expected)),
                    "{}: an opaque tag without the stored MD5",
                    s.name
                ),
                other => panic!("{}: a single write's tag is {other:?}", s.name),
            }
            assert_md5_evidence(s.name, &props, &bytes);
        } else {
            assert_eq!(props.tag, ContentTag::Absent, "{}", s.name);
        }
        let (read_props, _) = b
            .read("obj", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(
            (read_props.size, &read_props.tag, &read_props.stored),
            (props.size, &props.tag, &props.stored),
            "{}: a read says otherwise than HEAD",
            s.name
        );
        assert_eq!(
            read_all(b, "obj", &ReadOptions::default()),
            bytes,
            "{}",
            s.name
        );
        let ranged = read_all(
            b,
            "obj",
            &ReadOptions {
                range: Some((1000, 65_535)),
                ..ReadOptions::default()
            },
        );
        assert_eq!(ranged, &bytes[1000..=65_535], "{}", s.name);
    });
}

#[test]
fn writes_in_parts_out_of_order_with_a_retried_part() {
    for_each("parts", |s| {
        let b = s.backend.as_ref();
        let caps = b.capabilities();
        let part = caps
            .parts
            .part_size(11 * MIB as u64, 5 * MIB as u64)
            .unwrap_or_else(|| panic!("{}: no part size for 11 MiB", s.name));
        let bytes = data(2 * part as usize + 1234, 9);
        let chunks: Vec<&[u8]> = bytes.chunks(part as usize).collect();
        assert_eq!(chunks.len(), 3);
        let whole: [u8; 16] = Md5::digest(&bytes).into();
        let writer = b
            .begin_parts(
                "big",
                part,
                &WriteOptions {
                    whole_md5: Some(whole),
                    ..WriteOptions::default()
                },
            )
            .unwrap_or_else(|e| panic!("{}: begin: {e}", s.name));
        let mut receipts = Vec::new();
        let wrong = vec![0u8; chunks[1].len()];
        for (n, bytes) in [
            (3u32, chunks[2]),
            (2, &wrong[..]),
            (1, chunks[0]),
            (2, chunks[1]),
        ] {
            let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(bytes)) };
            let r = writer
                .put(n, &body(bytes, &open))
                .unwrap_or_else(|e| panic!("{}: part {n}: {e}", s.name));
            receipts.retain(|p: &s3sync::storage::backend::PartReceipt| p.number != n);
            receipts.push(r);
        }
        receipts.sort_by_key(|p| p.number);
        let done = writer
            .complete(&receipts)
            .unwrap_or_else(|e| panic!("{}: complete: {e}", s.name));
        assert_eq!(
            md5_hex(&read_all(b, "big", &ReadOptions::default())),
            md5_hex(&bytes)
        );
        let head = b
            .head("big", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", s.name))
            .unwrap_or_else(|| panic!("{}: the completed object is missing", s.name));
        assert_eq!(head.size, bytes.len() as u64, "{}", s.name);
        assert_md5_evidence(s.name, &head, &bytes);
        if caps.metadata {
            if let ContentTag::Composite { .. } = done.tag {
                // The S3 composite: the MD5 of the parts' MD5s, and the part count.
                let mut all = Md5::new();
                for c in &chunks {
                    all.update(Md5::digest(c));
                }
                let digest: [u8; 16] = all.finalize().into();
                assert_eq!(
                    done.tag,
                    ContentTag::Composite {
                        digest,
                        parts: 3,
                        part_size: None
                    },
                    "{}",
                    s.name
                );
            } else {
                // No composite tag: the store keeps the whole MD5 it was given (Blob
                // Content-MD5 set by Put Block List), and says so.
                assert_eq!(done.tag, ContentTag::Opaque, "{}", s.name);
                assert_eq!(stored_md5(&head), Some(base64(&whole)), "{}", s.name);
                assert_eq!(
                    done.stored.first().map(|c| c.value.clone()),
                    Some(base64(&whole)),
                    "{}",
                    s.name
                );
            }
        }
        // An aborted write leaves nothing behind.
        let writer = b
            .begin_parts("dropped", part, &WriteOptions::default())
            .unwrap_or_else(|e| panic!("{}: begin: {e}", s.name));
        let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(chunks[0])) };
        writer
            .put(1, &body(chunks[0], &open))
            .unwrap_or_else(|e| panic!("{}: part: {e}", s.name));
        writer
            .abort()
            .unwrap_or_else(|e| panic!("{}: abort: {e}", s.name));
        assert_eq!(keys(b), vec!["big"], "{}", s.name);
    });
}

#[test]
fn multipart_objects_tell_how_they_were_cut_where_the_store_can() {
    for_each("part layout", |s| {
        let b = s.backend.as_ref();
        let part = b
            .capabilities()
            .parts
            .part_size(11 * MIB as u64, 5 * MIB as u64)
            .unwrap_or_else(|| panic!("{}: no part size for 11 MiB", s.name));
        let bytes = data(2 * part as usize + 777, 4);
        let writer = b
            .begin_parts("cut", part, &WriteOptions::default())
            .unwrap_or_else(|e| panic!("{}: begin: {e}", s.name));
        let mut receipts = Vec::new();
        for (i, chunk) in bytes.chunks(part as usize).enumerate() {
            let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(chunk)) };
            let n = i as u32 + 1;
            receipts.push(
                writer
                    .put(n, &body(chunk, &open))
                    .unwrap_or_else(|e| panic!("{}: part {n}: {e}", s.name)),
            );
        }
        writer
            .complete(&receipts)
            .unwrap_or_else(|e| panic!("{}: complete: {e}", s.name));
        let head = b
            .head("cut", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", s.name))
            .unwrap_or_else(|| panic!("{}: the object is missing", s.name));
        let tag = head.raw_tag.clone().unwrap_or_default();
        let size = bytes.len() as u64;
        for exact in [false, true] {
            let layout = b
                .part_layout("cut", None, size, &tag, exact)
                .unwrap_or_else(|e| panic!("{}: part layout: {e}", s.name));
            match (&head.tag, s.gaps.part_numbers) {
                (ContentTag::Composite { .. }, false) => {
                    let want = if exact {
                        Parts::Sizes(vec![part, part, 777])
                    } else {
                        Parts::Uniform(part)
                    };
                    assert_eq!(layout, Some(want), "{} (exact: {exact})", s.name);
                }
                // No composite tag to prove, or a server that does not tell (s3s-fs).
                _ => assert_eq!(layout, None, "{} (exact: {exact})", s.name),
            }
        }
        // A key that is not there is not found, where the store tells layouts at all.
        if matches!(head.tag, ContentTag::Composite { .. }) && !s.gaps.part_numbers {
            let e = b
                .part_layout("gone", None, size, &tag, false)
                .err()
                .unwrap_or_else(|| panic!("{}: a missing key has a layout", s.name));
            assert_eq!(e.kind, ErrorKind::NotFound, "{}: {e}", s.name);
        }
    });
}

#[test]
fn server_side_copy_where_offered_and_unsupported_elsewhere() {
    for_each("copy", |s| {
        let b = s.backend.as_ref();
        let bytes = data(70_000, 5);
        put(b, "orig", &bytes, &WriteOptions::default());
        let kinds = b.capabilities().copy_from;
        let accepted = |src: &CopySource| match src {
            CopySource::SameEndpoint { .. } => kinds.contains(&CopyKind::SameEndpoint),
            CopySource::Url(_) => kinds.contains(&CopyKind::FromUrl),
        };
        let source = b.copy_source("orig", None).filter(|src| accepted(src));
        match (kinds.is_empty(), source) {
            (false, Some(src)) => {
                let done = b
                    .copy("copied", &src, &WriteOptions::default())
                    .unwrap_or_else(|e| panic!("{}: copy: {e}", s.name));
                let copied = read_all(b, "copied", &ReadOptions::default());
                assert_eq!(md5_hex(&copied), md5_hex(&bytes), "{}", s.name);
                let head = b
                    .head("copied", &ReadOptions::default())
                    .unwrap_or_else(|e| panic!("{}: {e}", s.name))
                    .unwrap_or_else(|| panic!("{}: the copy is missing", s.name));
                assert_md5_evidence(s.name, &head, &bytes);
                assert_eq!(done.raw_tag, head.raw_tag, "{}", s.name);
            }
            (true, _) => {
                let fake = CopySource::Url("https://example.invalid/x".into());
                let e = b
                    .copy("copied", &fake, &WriteOptions::default())
                    .err()
                    .unwrap_or_else(|| panic!("{}: copied without the capability", s.name));
                assert_eq!(e.kind, ErrorKind::Unsupported, "{}: {e}", s.name);
            }
            (false, None) => panic!("{}: accepts copies but offers no source it accepts", s.name),
        }
        // A source of a kind the backend does not accept is refused, not misread.
        let foreign = if kinds.contains(&CopyKind::FromUrl) {
            CopySource::SameEndpoint {
                endpoint: "https://example.invalid".into(),
                bucket: "b".into(),
                key: "y".into(),
                version: None,
            }
        } else {
            CopySource::Url("https://example.invalid/y".into())
        };
        let e = b
            .copy("other", &foreign, &WriteOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{}: copied from a foreign source", s.name));
        assert_eq!(e.kind, ErrorKind::Unsupported, "{}: {e}", s.name);
    });
}

#[test]
fn deletes_single_and_batched_and_of_missing_keys() {
    for_each("delete", |s| {
        let b = s.backend.as_ref();
        for k in ["d1", "d2", "d3", "d4"] {
            put(b, k, k.as_bytes(), &WriteOptions::default());
        }
        b.delete("d1", None, None)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        b.delete("never-there", None, None)
            .unwrap_or_else(|e| panic!("{}: deleting a missing key: {e}", s.name));
        let batch: Vec<String> = ["d2", "d3", "nope"].map(String::from).to_vec();
        assert!(batch.len() <= b.capabilities().delete_batch.max(3));
        let failed = b
            .delete_batch(&batch)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(failed.is_empty(), "{}: {failed:?}", s.name);
        assert_eq!(keys(b), vec!["d4"], "{}", s.name);
    });
}

#[test]
fn tags_round_trip_where_declared() {
    for_each("tags", |s| {
        let b = s.backend.as_ref();
        put(b, "tagged", b"t", &WriteOptions::default());
        let tags = vec![
            ("colour".to_string(), "blue green".to_string()),
            ("n".to_string(), "1".to_string()),
        ];
        let set = b.set_tags("tagged", &tags);
        if !b.capabilities().tags || s.gaps.tags {
            let e = set
                .err()
                .unwrap_or_else(|| panic!("{}: tags set without the capability", s.name));
            assert_eq!(e.kind, ErrorKind::Unsupported, "{}: {e}", s.name);
            return;
        }
        set.unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let mut got = b
            .tags("tagged", None)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        got.sort();
        assert_eq!(got, tags, "{}", s.name);
    });
}

#[test]
fn failed_conditions_and_refused_credentials_have_their_kinds() {
    for_each("error kinds", |s| {
        let b = s.backend.as_ref();
        put(b, "cond", b"first", &WriteOptions::default());
        if b.capabilities().conditional_writes && !s.gaps.conditions {
            let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(&b"second"[..])) };
            let e = b
                .write(
                    "cond",
                    &body(b"second", &open),
                    &WriteOptions {
                        if_none_match: true,
                        ..WriteOptions::default()
                    },
                )
                .err()
                .unwrap_or_else(|| panic!("{}: overwrote despite If-None-Match", s.name));
            assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{}: {e}", s.name);
            assert_eq!(read_all(b, "cond", &ReadOptions::default()), b"first");
        }
    });
    // Where the store checks signatures, a wrong secret is Unauthenticated (the whole run
    // must stop), not a per-object AccessDenied.
    let w = World::new(Kind::S3sFs);
    let mut cfg = w.client.config().clone();
    cfg.credentials = Some(Arc::new(s3sync::s3::credentials::CredentialsCache::fixed(
        s3sync::s3::credentials::Credentials {
            access_key_id: common::ACCESS_KEY.into(),
            secret_access_key: "not-the-secret".into(),
            session_token: None,
        },
    )));
    cfg.max_attempts = 1;
    let store = S3Store::new(
        Arc::new(s3sync::s3::Client::new(cfg)),
        w.bucket.clone(),
        String::new(),
        ListOptions {
            max_keys: 1000,
            parallel: 1,
            max_depth: 1,
            ahead: 1000,
            at: None,
        },
    );
    let b = S3Backend::new(store, S3WriteSettings::default());
    let e = b
        .head("x", &ReadOptions::default())
        .err()
        .unwrap_or_else(|| panic!("a wrong secret was accepted"));
    assert_eq!(e.kind, ErrorKind::Unauthenticated, "{e}");
    assert!(e.is_fatal_for_run());
    assert!(!e.to_string().contains("not-the-secret"), "{e}");

    // The same on Blob: a wrong account key (Azurite checks SharedKey signatures).
    let good = azurite::client();
    let container = azurite::container(&good);
    let wrong_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let wrong = s3sync::azure::auth::AccountKey::new(azurite::ACCOUNT, wrong_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let client = azurite::client_with(s3sync::azure::Credentials::SharedKey(Arc::new(wrong)));
    let b = AzureBackend::new(Arc::new(client), container, String::new());
    let head = b
        .head("x", &ReadOptions::default())
        .err()
        .unwrap_or_else(|| panic!("a wrong key was accepted (HEAD)"));
    let list = b
        .list(&mut |_| true)
        .err()
        .unwrap_or_else(|| panic!("a wrong key was accepted (list)"));
    for e in [head, list] {
        assert_eq!(e.kind, ErrorKind::Unauthenticated, "{e}");
        assert!(e.is_fatal_for_run());
        assert!(e.request_id.is_some(), "{e:?}");
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains(wrong_key) && !shown.contains(azurite::KEY) && !shown.contains('\n'),
            "{shown}"
        );
    }
}

// Blob-only cases: behaviour the interface allows but only Blob shows on our test servers.

fn put_err(
    b: &dyn Backend,
    key: &str,
    bytes: &[u8],
    md5: [u8; 16],
    opts: &WriteOptions<'_>,
) -> s3sync::storage::error::StorageError {
    let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(bytes)) };
    let body = Body {
        md5: Some(md5),
        ..body(bytes, &open)
    };
    b.write(key, &body, opts)
        .err()
        .unwrap_or_else(|| panic!("write {key} succeeded"))
}

#[test]
fn blob_blocks_are_listed_for_resume_and_copied_from_a_url() {
    let s = azurite_subject();
    let b = s.backend.as_ref();
    let bytes = data(3 * MIB + 77, 11);
    let chunks: Vec<&[u8]> = bytes.chunks(MIB).collect();
    let writer = b
        .begin_parts("resumed", MIB as u64, &WriteOptions::default())
        .unwrap_or_else(|e| panic!("begin: {e}"));
    for n in [1u32, 3] {
        let c = chunks[n as usize - 1];
        let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(c)) };
        writer
            .put(n, &body(c, &open))
            .unwrap_or_else(|e| panic!("part {n}: {e}"));
    }
    let id = writer.id().to_string();
    drop(writer);
    // A later run takes the upload up by its id and finds the blocks it staged.
    let whole: [u8; 16] = Md5::digest(&bytes).into();
    let writer = b
        .resume_parts(
            "resumed",
            &id,
            &WriteOptions {
                whole_md5: Some(whole),
                ..WriteOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("resume: {e}"));
    let listed = writer.list().unwrap_or_else(|e| panic!("list: {e}"));
    let numbers: Vec<(u32, u64)> = listed.iter().map(|p| (p.number, p.size)).collect();
    assert_eq!(numbers, vec![(1, MIB as u64), (3, MIB as u64)]);
    let mut parts = listed;
    for n in [2u32, 4] {
        let c = chunks[n as usize - 1];
        let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(c)) };
        parts.push(
            writer
                .put(n, &body(c, &open))
                .unwrap_or_else(|e| panic!("part {n}: {e}")),
        );
    }
    parts.sort_by_key(|p| p.number);
    writer
        .complete(&parts)
        .unwrap_or_else(|e| panic!("complete: {e}"));
    assert_eq!(
        md5_hex(&read_all(b, "resumed", &ReadOptions::default())),
        md5_hex(&bytes)
    );
    // Committed: nothing is left to resume.
    assert_eq!(writer.list().unwrap_or_else(|e| panic!("{e}")), vec![]);

    // Blocks copied by the service from the source's SAS URL, in two ranges.
    let src = b
        .copy_source("resumed", None)
        .unwrap_or_else(|| panic!("no copy source with an account key"));
    let CopySource::Url(url) = &src else {
        panic!("not a URL: {src:?}");
    };
    assert!(
        url.contains("sp=r") && url.contains("st="),
        "read-only, with a start time"
    );
    assert!(!b.name_of("resumed").contains("sig="));
    let copier = b
        .begin_parts("block-copy", 2 * MIB as u64, &WriteOptions::default())
        .unwrap_or_else(|e| panic!("begin: {e}"));
    let last = bytes.len() as u64 - 1;
    let parts = vec![
        copier
            .put_copy(1, &src, (0, 2 * MIB as u64 - 1))
            .unwrap_or_else(|e| panic!("put_copy 1: {e}")),
        copier
            .put_copy(2, &src, (2 * MIB as u64, last))
            .unwrap_or_else(|e| panic!("put_copy 2: {e}")),
    ];
    assert_eq!(parts[1].size, bytes.len() as u64 - 2 * MIB as u64);
    copier
        .complete(&parts)
        .unwrap_or_else(|e| panic!("complete: {e}"));
    assert_eq!(
        md5_hex(&read_all(b, "block-copy", &ReadOptions::default())),
        md5_hex(&bytes)
    );
    // Parts out of order are refused before anything is committed.
    let mut reversed = parts.clone();
    reversed.reverse();
    let e = copier
        .complete(&reversed)
        .err()
        .unwrap_or_else(|| panic!("committed parts out of order"));
    assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e}");
}

#[test]
fn blob_writes_refuse_corrupted_bodies_and_honour_conditions() {
    let s = azurite_subject();
    let b = s.backend.as_ref();
    // The service checks Content-MD5: a body that is not what was hashed is refused.
    let e = put_err(
        b,
        "bad",
        b"the bytes",
        Md5::digest(b"other bytes").into(),
        &WriteOptions::default(),
    );
    assert_eq!(e.kind, ErrorKind::Integrity, "{e}");
    assert_eq!(
        b.head("bad", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{e}")),
        None
    );
    let writer = b
        .begin_parts("bad-block", MIB as u64, &WriteOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(&b"block"[..])) };
    let e = writer
        .put(
            1,
            &Body {
                md5: Some(Md5::digest(b"kcolb").into()),
                ..body(b"block", &open)
            },
        )
        .err()
        .unwrap_or_else(|| panic!("a corrupted block was accepted"));
    assert_eq!(e.kind, ErrorKind::Integrity, "{e}");

    // If-Match on writes and reads, against the tag as the store sent it.
    put(b, "cond", b"one", &WriteOptions::default());
    let first = b
        .head("cond", &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("cond is missing"));
    let tag = first.raw_tag.clone().unwrap_or_else(|| panic!("no ETag"));
    put(
        b,
        "cond",
        b"two",
        &WriteOptions {
            if_match: Some(&tag),
            ..WriteOptions::default()
        },
    );
    let e = put_err(
        b,
        "cond",
        b"three",
        Md5::digest(b"three").into(),
        &WriteOptions {
            if_match: Some(&tag),
            ..WriteOptions::default()
        },
    );
    assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{e}");
    let e = b
        .read(
            "cond",
            &ReadOptions {
                if_match: Some(&tag),
                ..ReadOptions::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("read a changed blob despite If-Match"));
    assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{e}");
    assert_eq!(read_all(b, "cond", &ReadOptions::default()), b"two");
    // A block list is committed only where nothing is, when asked.
    let writer = b
        .begin_parts(
            "cond",
            MIB as u64,
            &WriteOptions {
                if_none_match: true,
                ..WriteOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(&b"four"[..])) };
    let part = writer
        .put(1, &body(b"four", &open))
        .unwrap_or_else(|e| panic!("{e}"));
    let e = writer
        .complete(&[part])
        .err()
        .unwrap_or_else(|| panic!("committed over a blob despite If-None-Match"));
    assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{e}");
    assert_eq!(read_all(b, "cond", &ReadOptions::default()), b"two");

    // A blob named as the prefix itself has no key: it is skipped, not listed as "".
    let client = azurite::client();
    let container = azurite::container(&client);
    azurite::put(&client, &container, "conf/", b"marker");
    azurite::put(&client, &container, "conf/x", b"x");
    let b = AzureBackend::new(Arc::new(client), container, "conf/".into());
    let mut items = Vec::new();
    b.list(&mut |item| {
        items.push(item);
        true
    })
    .unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        matches!(&items[0], ListItem::Skipped { name, reason } if name.ends_with("/conf/") && *reason == s3sync::storage::KEY_IS_PREFIX),
        "{items:?}"
    );
    assert!(
        matches!(&items[1], ListItem::Entry(e) if e.key == "x" && e.size == 1 && e.etag.is_some()),
        "{items:?}"
    );
}

/// Where a backend declares `list_parts`, an unfinished write taken up again by its id lists
/// the parts it holds, and completes once the missing ones are sent; elsewhere resuming is
/// `Unsupported`.
#[test]
fn unfinished_writes_list_their_parts_where_declared() {
    for_each("resume", |s| {
        let b = s.backend.as_ref();
        let caps = b.capabilities();
        let part = caps
            .parts
            .part_size(11 * MIB as u64, 5 * MIB as u64)
            .unwrap_or_else(|| panic!("{}: no part size", s.name));
        let bytes = data(2 * part as usize + 99, 21);
        let chunks: Vec<&[u8]> = bytes.chunks(part as usize).collect();
        let writer = b
            .begin_parts("resumable", part, &WriteOptions::default())
            .unwrap_or_else(|e| panic!("{}: begin: {e}", s.name));
        for n in [1u32, 3] {
            let c = chunks[n as usize - 1];
            let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(c)) };
            writer
                .put(n, &body(c, &open))
                .unwrap_or_else(|e| panic!("{}: part {n}: {e}", s.name));
        }
        let id = writer.id().to_string();
        let resumed = b.resume_parts("resumable", &id, &WriteOptions::default());
        if !caps.list_parts {
            let e = resumed
                .err()
                .unwrap_or_else(|| panic!("{}: resumed without list_parts", s.name));
            assert_eq!(e.kind, ErrorKind::Unsupported, "{}: {e}", s.name);
            let _ = writer.abort();
            return;
        }
        drop(writer);
        let writer = resumed.unwrap_or_else(|e| panic!("{}: resume: {e}", s.name));
        let listed = writer
            .list()
            .unwrap_or_else(|e| panic!("{}: list: {e}", s.name));
        let held: Vec<(u32, u64)> = listed.iter().map(|p| (p.number, p.size)).collect();
        assert_eq!(
            held,
            vec![(1, chunks[0].len() as u64), (3, chunks[2].len() as u64)],
            "{}",
            s.name
        );
        let c = chunks[1];
        let open = || -> std::io::Result<Box<dyn Read + '_>> { Ok(Box::new(c)) };
        let second = writer
            .put(2, &body(c, &open))
            .unwrap_or_else(|e| panic!("{}: part 2: {e}", s.name));
        let mut all = listed;
        all.push(second);
        all.sort_by_key(|p| p.number);
        // A store that lists parts without their tags (s3s-fs) is completed with the tags
        // the writes returned.
        if all.iter().any(|p| p.tag.is_empty()) {
            eprintln!(
                "{}: parts listed without tags; not completed from the listing",
                s.name
            );
            let _ = writer.abort();
            return;
        }
        writer
            .complete(&all)
            .unwrap_or_else(|e| panic!("{}: complete: {e}", s.name));
        assert_eq!(
            md5_hex(&read_all(b, "resumable", &ReadOptions::default())),
            md5_hex(&bytes),
            "{}",
            s.name
        );
    });
}
