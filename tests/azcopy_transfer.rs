//! azcopy's transfer and output flags through the binary, against Azurite (Blob), s3s-fs and
//! moto (S3) and local directories: `--output-type=json`, `--s2s-preserve-access-tier`,
//! `--s2s-preserve-blob-tags`, `--preserve-posix-properties`, `--trailing-dot`,
//! `--force-if-read-only`, `--cpk-by-value` and `--cpk-by-name`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::azurite::{self, ACCOUNT, KEY, list_all, read_all};
use common::azurite::{key_env as env, url};
use common::{Kind, World, run, s, write_file};

fn az(args: &[&str]) -> common::Run {
    let all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run(&all, &env())
}

fn container() -> (s3sync::azure::Client, String) {
    let client = azurite::client();
    let name = azurite::container(&client);
    (client, name)
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(common::unique(tag));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir
}

/// One parsed JSON record: its `type` and its top-level members, each as Python's
/// `json.dumps` writes it (strings quoted).
#[derive(Debug)]
struct Record {
    kind: String,
    members: BTreeMap<String, String>,
}

impl Record {
    fn number(&self, name: &str) -> u64 {
        self.members
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no number {name} in {self:?}"))
    }

    fn text(&self, name: &str) -> String {
        let v = self
            .members
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {self:?}"));
        v.clone()
    }
}

/// Every line of `stdout` parsed by Python's `json` module, the oracle: a line that is not
/// one JSON object fails the test. Strings come back as Python's `json.dumps` with
/// `ensure_ascii` writes them, so any character is compared exactly.
fn records(stdout: &str) -> Vec<Record> {
    const CHECK: &str = r#"
import json, sys
for n, line in enumerate(sys.stdin.read().split("\n")[:-1]):
    o = json.loads(line)
    assert isinstance(o, dict), "line %d is not an object: %r" % (n, line)
    for k, v in o.items():
        assert "\t" not in k and "\n" not in k
        print("%d\t%s\t%s" % (n, k, json.dumps(v) if isinstance(v, str) else json.dumps(v)))
"#;
    assert!(
        stdout.ends_with('\n'),
        "stdout does not end a line: {stdout:?}"
    );
    let mut child = Command::new("python3")
        .args(["-c", CHECK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 (the JSON oracle) cannot start: {e}"));
    child
        .stdin
        .take()
        .map(|mut i| i.write_all(stdout.as_bytes()))
        .transpose()
        .unwrap_or_else(|e| panic!("python3 stdin: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "stdout is not JSON lines: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parsed: Vec<Record> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(3, '\t');
        let (Some(n), Some(k), Some(v)) = (f.next(), f.next(), f.next()) else {
            panic!("oracle line {line}");
        };
        let n: usize = n.parse().unwrap_or_else(|_| panic!("oracle line {line}"));
        while parsed.len() <= n {
            parsed.push(Record {
                kind: String::new(),
                members: BTreeMap::new(),
            });
        }
        if k == "type" {
            parsed[n].kind = v.trim_matches('"').to_string();
        }
        parsed[n].members.insert(k.to_string(), v.to_string());
    }
    parsed
}

/// `text` as Python's `json.dumps` writes it (ASCII, `\uXXXX` escapes).
fn py_dumps(text: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys; print(json.dumps(sys.argv[1]))",
            text,
        ])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn output_type_json_writes_only_json_records_with_the_landed_counts() {
    let (client, c) = container();
    // A source directory whose name needs every kind of escape.
    let parent = scratch("jsonout");
    let dir = parent.join("src \"q\" \\ é\t☃\nx");
    let files = [("a.txt", 3usize), ("sub/b.bin", 1000), ("c", 0)];
    for (name, len) in files {
        write_file(&dir.join(name), &common::data(len, 7));
    }
    let r = az(&[
        &s(&dir),
        &url(&c, "out/"),
        "--output-type=json",
        "--log-level=INFO",
    ]);
    r.assert_code(0);
    let recs = records(&r.stdout);
    assert!(recs.len() >= 2, "{}", r.stdout);
    let (first, last) = (&recs[0], &recs[recs.len() - 1]);
    assert_eq!(first.kind, "start");
    assert_eq!(first.text("source"), py_dumps(&s(&dir)));
    assert_eq!(first.text("dry_run"), "false");
    assert_eq!(last.kind, "summary");
    assert_eq!(last.text("status"), "\"Completed\"");
    assert!(
        recs[1..recs.len() - 1].iter().all(|r| r.kind == "progress"),
        "{recs:?}"
    );
    // The counts are what landed.
    let landed = list_all(&client, &c, "out/", 5000).0;
    assert_eq!(landed.len(), 3, "{landed:?}");
    assert_eq!(last.number("transferred_object"), 3);
    assert_eq!(last.number("transferred_byte"), 1003);
    assert_eq!(last.number("error"), 0);
    assert_eq!(
        read_all(&client, &c, "out/sub/b.bin", None),
        common::data(1000, 7)
    );
    // The INFO logs went to stderr.
    assert!(r.stderr.contains("sync summary"), "{}", r.stderr);
    // A second run transfers nothing and says so.
    let again = az(&[&s(&dir), &url(&c, "out/"), "--output-type", "JSON"]);
    again.assert_code(0);
    let recs = records(&again.stdout);
    let last = &recs[recs.len() - 1];
    assert_eq!(last.number("transferred_object"), 0);
    assert_eq!(last.number("skipped"), 3);
}

#[test]
fn output_type_json_reports_progress_while_a_slow_upload_runs() {
    let w = World::new(Kind::S3sFs);
    let data = common::data(1_500_000, 3);
    write_file(&w.path("src/big"), &data);
    // 4 Mbit/s = 500 kB/s: three seconds.
    let r = common::run_with(
        w.target_args(),
        &[
            &s(&w.path("src")),
            &w.url("p/"),
            "--output-type=json",
            "--cap-mbps=4",
        ],
    );
    r.assert_code(0);
    let recs = records(&r.stdout);
    let progress: Vec<&Record> = recs.iter().filter(|r| r.kind == "progress").collect();
    assert!(!progress.is_empty(), "{}", r.stdout);
    let last = &recs[recs.len() - 1];
    assert_eq!(last.kind, "summary");
    assert_eq!(last.number("transferred_object"), 1);
    assert_eq!(last.number("transferred_byte"), data.len() as u64);
    assert_eq!(w.get("p/big"), data);
    // Counters only grow.
    let bytes: Vec<u64> = progress
        .iter()
        .map(|p| p.number("transferred_byte"))
        .collect();
    assert!(bytes.windows(2).all(|p| p[0] <= p[1]), "{bytes:?}");
}

#[test]
fn output_type_json_summary_says_when_objects_failed() {
    // A local target where a file cannot go: its directory is a file.
    let src = scratch("jsonfail");
    write_file(&src.join("d/x"), b"x");
    write_file(&src.join("ok"), b"ok");
    let dst = scratch("jsonfaildst");
    write_file(&dst.join("d"), b"in the way");
    let r = az(&[&s(&src), &s(&dst), "--output-type=json"]);
    r.assert_code(1);
    let recs = records(&r.stdout);
    let last = &recs[recs.len() - 1];
    assert_eq!(last.text("status"), "\"CompletedWithErrors\"");
    assert_eq!(last.number("error"), 1);
    assert_eq!(last.number("transferred_object"), 1);
    assert_eq!(
        std::fs::read(dst.join("ok")).ok().as_deref(),
        Some(&b"ok"[..])
    );
}

#[test]
fn output_type_json_is_refused_with_report_mode_and_bad_values() {
    let src = scratch("jsonbad");
    let dst = scratch("jsonbaddst");
    let r = az(&[&s(&src), &s(&dst), "--output-type=xml"]);
    r.assert_code(2);
    assert!(
        r.stderr.starts_with("s3sync: error: --output-type"),
        "{}",
        r.stderr
    );
    let r = az(&[
        &s(&src),
        &s(&dst),
        "--output-type=json",
        "--report-sync-status",
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("--output-type"), "{}", r.stderr);
}

/// A blob with `data`, tier and tags.
fn put_with(
    client: &s3sync::azure::Client,
    container: &str,
    name: &str,
    data: &[u8],
    tier: Option<&str>,
    tags: &[(&str, &str)],
) {
    let options = s3sync::azure::ops::WriteOptions {
        tier: tier.map(str::to_string),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    client
        .put_blob(
            container,
            name,
            s3sync::azure::Payload::Bytes(data),
            &options,
        )
        .unwrap_or_else(|e| panic!("PutBlob {name}: {e}"));
}

/// The blob's tier as set on it (`None` when it is the account's default) and its tags,
/// sorted.
fn tier_and_tags(
    client: &s3sync::azure::Client,
    container: &str,
    name: &str,
) -> (Option<String>, Vec<(String, String)>) {
    let p = client
        .blob_properties(container, name)
        .unwrap_or_else(|e| panic!("GetBlobProperties {name}: {e}"))
        .unwrap_or_else(|| panic!("{name} did not land"));
    let tier = p.access_tier.filter(|_| !p.access_tier_inferred);
    let mut tags = client
        .get_blob_tags(container, name)
        .unwrap_or_else(|e| panic!("GetBlobTags {name}: {e}"));
    tags.sort();
    (tier, tags)
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn azurite_port() -> u16 {
    let endpoint = &azurite::azurite().endpoint;
    endpoint
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"))
}

/// `url` with Azurite reached through `proxy` instead.
fn url_via(proxy: &common::RecordingProxy, container: &str, prefix: &str) -> String {
    format!("{}/{ACCOUNT}/{container}/{prefix}", proxy.endpoint())
}

/// The request heads `proxy` saw, lower-cased.
fn heads(proxy: &common::RecordingProxy) -> String {
    proxy.sent().to_ascii_lowercase()
}

#[test]
fn blob_to_blob_keeps_access_tiers_and_tags_unless_told_not_to() {
    let (client, c) = container();
    put_with(
        &client,
        &c,
        "s/cool",
        b"cool",
        Some("Cool"),
        &[("team", "a b"), ("k", "v")],
    );
    put_with(&client, &c, "s/plain", b"plain", None, &[]);
    let (_, d) = container();
    // The target through a recording proxy: what s3sync asks for is seen, not only what
    // Azurite keeps (its Copy Blob From URL keeps the source's tier by itself, where Azure
    // gives the account's default).
    let proxy = common::RecordingProxy::start(azurite_port());
    az(&[&url(&c, "s/"), &url_via(&proxy, &d, "keep/")]).assert_code(0);
    assert_eq!(
        tier_and_tags(&client, &d, "keep/cool"),
        (Some("Cool".into()), pairs(&[("k", "v"), ("team", "a b")]))
    );
    assert_eq!(tier_and_tags(&client, &d, "keep/plain"), (None, vec![]));
    let sent = heads(&proxy);
    assert!(sent.contains("x-ms-access-tier: cool"), "{sent}");
    assert!(sent.contains("x-ms-tags: "), "{sent}");
    // Given explicitly, the defaults do the same.
    az(&[
        &url(&c, "s/"),
        &url(&d, "again/"),
        "--s2s-preserve-access-tier=true",
        "--s2s-preserve-blob-tags=true",
    ])
    .assert_code(0);
    assert_eq!(
        tier_and_tags(&client, &d, "again/cool"),
        (Some("Cool".into()), pairs(&[("k", "v"), ("team", "a b")]))
    );
    // =false: neither is sent (so Azure gives the account's default tier) and no tags land.
    let proxy = common::RecordingProxy::start(azurite_port());
    az(&[
        &url(&c, "s/"),
        &url_via(&proxy, &d, "drop/"),
        "--s2s-preserve-access-tier=false",
        "--s2s-preserve-blob-tags=false",
    ])
    .assert_code(0);
    let sent = heads(&proxy);
    assert!(sent.contains("x-ms-copy-source: "), "{sent}");
    assert!(!sent.contains("x-ms-access-tier"), "{sent}");
    assert!(!sent.contains("x-ms-tags"), "{sent}");
    assert_eq!(tier_and_tags(&client, &d, "drop/cool").1, vec![]);
    assert_eq!(read_all(&client, &d, "drop/cool", None), b"cool");
    // A contradiction is refused.
    let r = az(&[
        &url(&c, "s/"),
        &url(&d, "x/"),
        "--s2s-preserve-blob-tags",
        "--disable-tagging",
    ]);
    r.assert_code(2);
    assert!(
        r.stderr
            .starts_with("s3sync: error: --s2s-preserve-blob-tags"),
        "{}",
        r.stderr
    );
}

#[test]
fn tiers_are_not_carried_between_s3_and_blob_but_tags_are() {
    let w = World::new(Kind::Moto);
    let (client, c) = container();
    put_with(
        &client,
        &c,
        "cool",
        b"cool blob",
        Some("Cool"),
        &[("k", "v")],
    );
    // Blob (Cool) -> S3: the object lands in the default class, with the tags.
    let mut args = w.target_args();
    args.extend([url(&c, ""), w.url("from-blob/")]);
    let r = run(&args, &env());
    r.assert_code(0);
    let head = w.head("from-blob/cool");
    assert_eq!(head.storage_class, None, "{head:?}");
    assert_eq!(w.get("from-blob/cool"), b"cool blob");
    let tags = w
        .client
        .get_object_tagging(&w.bucket, "from-blob/cool")
        .unwrap_or_else(|e| panic!("GetObjectTagging: {e}"));
    assert_eq!(tags, pairs(&[("k", "v")]));
    // S3 (STANDARD_IA) -> Blob: the account's default tier.
    w.put_with(
        "ia/obj",
        b"ia object",
        &[("x-amz-storage-class", "STANDARD_IA")],
    );
    assert_eq!(
        w.head("ia/obj").storage_class.as_deref(),
        Some("STANDARD_IA")
    );
    let (_, d) = container();
    let mut args = w.source_args();
    args.extend([w.url("ia/"), url(&d, "")]);
    run(&args, &env()).assert_code(0);
    assert_eq!(tier_and_tags(&client, &d, "obj"), (None, vec![]));
    assert_eq!(read_all(&client, &d, "obj", None), b"ia object");
}

#[test]
fn s3_to_s3_storage_class_follows_s2s_preserve_access_tier() {
    let src = World::new(Kind::Moto);
    let dst = World::new(Kind::Moto);
    src.put_with(
        "k",
        b"infrequent",
        &[("x-amz-storage-class", "STANDARD_IA")],
    );
    src.sync_to(&dst, &[&src.url(""), &dst.url("keep/")])
        .assert_code(0);
    assert_eq!(
        dst.head("keep/k").storage_class.as_deref(),
        Some("STANDARD_IA")
    );
    src.sync_to(
        &dst,
        &[
            &src.url(""),
            &dst.url("drop/"),
            "--s2s-preserve-access-tier=false",
        ],
    )
    .assert_code(0);
    assert_eq!(dst.head("drop/k").storage_class, None);
    assert_eq!(dst.get("drop/k"), b"infrequent");
}

// --preserve-posix-properties

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, UNIX_EPOCH};

/// A file with `mode`, owner `uid`:`gid` (the test runs as root where it can) and times.
fn posix_file(path: &std::path::Path, data: &[u8], mode: u32, mtime_ns: u64, atime_ns: u64) {
    write_file(path, data);
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open: {e}"));
    let at = |ns: u64| UNIX_EPOCH + Duration::from_nanos(ns);
    f.set_times(
        std::fs::FileTimes::new()
            .set_modified(at(mtime_ns))
            .set_accessed(at(atime_ns)),
    )
    .unwrap_or_else(|e| panic!("set_times: {e}"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
}

/// (mode bits, uid, gid, mtime ns, atime ns) of a file, read without opening it.
fn posix_of(path: &std::path::Path) -> (u32, u32, u32, i128, i128) {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    (
        m.mode() & 0o7777,
        m.uid(),
        m.gid(),
        ns(m.mtime(), m.mtime_nsec()),
        ns(m.atime(), m.atime_nsec()),
    )
}

const MTIME_NS: u64 = 1_600_000_000_123_456_789;
const ATIME_NS: u64 = 1_650_000_000_987_654_321;

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A source tree of two files with their own modes, times and (as root) owners.
fn posix_tree() -> PathBuf {
    let dir = scratch("posix");
    posix_file(
        &dir.join("run.sh"),
        b"#!/bin/sh\n",
        0o750,
        MTIME_NS,
        ATIME_NS,
    );
    posix_file(
        &dir.join("sub/secret"),
        b"s",
        0o600,
        MTIME_NS + 1,
        ATIME_NS + 1,
    );
    if running_as_root() {
        std::os::unix::fs::chown(dir.join("sub/secret"), Some(12345), Some(23456))
            .unwrap_or_else(|e| panic!("chown: {e}"));
    }
    dir
}

/// The round trip's files have the source's properties, and the access time the source had
/// before the upload read it (reading may have moved it since).
fn assert_same_posix(from: &std::path::Path, to: &std::path::Path) {
    for (f, atime) in [("run.sh", ATIME_NS), ("sub/secret", ATIME_NS + 1)] {
        let (mode, uid, gid, mtime, _) = posix_of(&from.join(f));
        assert_eq!(
            posix_of(&to.join(f)),
            (mode, uid, gid, mtime, i128::from(atime)),
            "{f}"
        );
        assert_eq!(
            std::fs::read(to.join(f)).ok(),
            std::fs::read(from.join(f)).ok()
        );
    }
}

fn meta_value(user: &[(String, String)], name: &str) -> String {
    user.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {user:?}"))
}

#[test]
fn posix_properties_round_trip_through_blob() {
    let (client, c) = container();
    let src = posix_tree();
    let want = posix_of(&src.join("sub/secret"));
    az(&[&s(&src), &url(&c, "p/"), "--preserve-posix-properties"]).assert_code(0);
    // azcopy's names and forms.
    let p = client
        .blob_properties(&c, "p/sub/secret")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("p/sub/secret did not land"));
    assert_eq!(
        meta_value(&p.metadata, "permissions"),
        (0o100600u32).to_string()
    );
    assert_eq!(meta_value(&p.metadata, "posix_owner"), want.1.to_string());
    assert_eq!(meta_value(&p.metadata, "posix_group"), want.2.to_string());
    assert_eq!(
        meta_value(&p.metadata, "modtime"),
        (MTIME_NS + 1).to_string()
    );
    assert_eq!(
        meta_value(&p.metadata, "posix_atime"),
        (ATIME_NS + 1).to_string()
    );
    let back = scratch("posixback");
    az(&[
        &url(&c, "p/"),
        &s(&back),
        "--preserve-posix-properties=true",
    ])
    .assert_code(0);
    assert_same_posix(&src, &back);
    if running_as_root() {
        assert_eq!(posix_of(&back.join("sub/secret")).1, 12345);
    }
    // Without the option a download keeps the defaults: the blob's time, not the file's.
    let plain = scratch("posixplain");
    az(&[&url(&c, "p/"), &s(&plain)]).assert_code(0);
    assert_ne!(posix_of(&plain.join("run.sh")).3, i128::from(MTIME_NS));
}

#[test]
fn posix_properties_round_trip_through_s3() {
    for kind in [Kind::S3sFs, Kind::Moto] {
        let w = World::new(kind);
        let src = posix_tree();
        common::run_with(
            w.target_args(),
            &[&s(&src), &w.url("p/"), "--preserve-posix-properties"],
        )
        .assert_code(0);
        let head = w.head("p/run.sh");
        assert_eq!(
            meta_value(&head.meta.user, "permissions"),
            (0o100750u32).to_string()
        );
        assert_eq!(meta_value(&head.meta.user, "modtime"), MTIME_NS.to_string());
        let back = w.path("back");
        w.sync_from(&[&w.url("p/"), &s(&back), "--preserve-posix-properties"])
            .assert_code(0);
        assert_same_posix(&src, &back);
    }
}

#[test]
fn posix_properties_are_kept_local_to_local() {
    let src = posix_tree();
    let dst = scratch("posixcopy");
    az(&[&s(&src), &s(&dst), "--preserve-posix-properties"]).assert_code(0);
    assert_same_posix(&src, &dst);
}

#[test]
fn bad_or_missing_posix_metadata_is_a_warning_never_a_failed_file() {
    let (client, c) = container();
    let options = s3sync::azure::ops::WriteOptions {
        metadata: vec![
            ("permissions".into(), "rwxr-xr-x".into()),
            ("modtime".into(), "1600000000000000000".into()),
            ("posix_atime".into(), "soon".into()),
        ],
        ..Default::default()
    };
    client
        .put_blob(&c, "bad", s3sync::azure::Payload::Bytes(b"bad"), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    azurite::put(&client, &c, "none", b"none");
    let dst = scratch("posixbad");
    let r = az(&[&url(&c, ""), &s(&dst), "--preserve-posix-properties"]);
    r.assert_code(3);
    assert_eq!(
        std::fs::read(dst.join("bad")).ok().as_deref(),
        Some(&b"bad"[..])
    );
    assert_eq!(
        std::fs::read(dst.join("none")).ok().as_deref(),
        Some(&b"none"[..])
    );
    // What could be read was restored.
    assert_eq!(posix_of(&dst.join("bad")).3, 1_600_000_000_000_000_000);
    for word in [
        "permissions 'rwxr-xr-x' unreadable",
        "posix_atime 'soon' unreadable",
        "carries no POSIX properties",
    ] {
        assert!(r.stdout.contains(word), "{word} in {}", r.stdout);
    }
    assert_eq!(r.stdout.matches(" WARN ").count(), 2, "{}", r.stdout);
}

#[test]
fn posix_owner_is_left_alone_for_a_normal_user() {
    assert!(
        running_as_root(),
        "this test runs s3sync as user nobody through setpriv: run the tests as root, as \
         .ci/test.sh does (it installs packages with apt-get)"
    );
    let (client, c) = container();
    let options = s3sync::azure::ops::WriteOptions {
        metadata: vec![
            ("permissions".into(), "33188".into()),
            ("posix_owner".into(), "0".into()),
            ("posix_group".into(), "0".into()),
            ("modtime".into(), "1600000000000000000".into()),
            ("posix_atime".into(), "1600000000000000000".into()),
        ],
        ..Default::default()
    };
    client
        .put_blob(
            &c,
            "root-owned",
            s3sync::azure::Payload::Bytes(b"r"),
            &options,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let dst = scratch("posixuser");
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    let home = scratch("posixhome");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    // As nobody: the file cannot be given to root; no warning, exit 0, the rest restored.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_s3sync"))
        .args([
            url(&c, ""),
            s(&dst),
            "--preserve-posix-properties".into(),
            "-v".into(),
        ])
        .env_clear()
        .env("HOME", &home)
        .env("AZURE_STORAGE_ACCOUNT", ACCOUNT)
        .env("AZURE_STORAGE_KEY", KEY)
        .output()
        .unwrap_or_else(|e| panic!("setpriv: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let (mode, uid, _, mtime, _) = posix_of(&dst.join("root-owned"));
    assert_eq!(
        (mode, uid, mtime),
        (0o644, 65534, 1_600_000_000_000_000_000)
    );
    assert!(stdout.contains("only root can give files away"), "{stdout}");
}

// --trailing-dot

fn dotted_tree() -> PathBuf {
    let dir = scratch("dots");
    for f in ["a.", "dir./x", "ok.txt", ".hidden", "b", "c.../y"] {
        write_file(&dir.join(f), f.as_bytes());
    }
    dir
}

#[test]
fn names_ending_in_a_dot_are_skipped_with_a_warning_on_blob_targets() {
    let (client, c) = container();
    let src = dotted_tree();
    for (prefix, flag) in [
        ("plain/", None),
        ("enable/", Some("--trailing-dot=enable")),
        ("disable/", Some("--trailing-dot=Disable")),
    ] {
        let mut args = vec![s(&src), url(&c, prefix)];
        args.extend(flag.map(str::to_string));
        let r = run(&args, &env());
        r.assert_code(3);
        let mut names = list_all(&client, &c, prefix, 5000).0;
        names.sort();
        let want: Vec<String> = [".hidden", "b", "ok.txt"]
            .iter()
            .map(|n| format!("{prefix}{n}"))
            .collect();
        assert_eq!(names, want, "{flag:?}");
        for skipped in ["a.", "dir./x", "c.../y"] {
            assert!(
                r.stdout
                    .contains(&format!("{prefix}{skipped} cannot be written")),
                "{skipped}: {}",
                r.stdout
            );
        }
        assert_eq!(r.stdout.matches(" WARN ").count(), 3, "{}", r.stdout);
    }
    let r = az(&[&s(&src), &url(&c, "x/"), "--trailing-dot=Maybe"]);
    r.assert_code(2);
    assert!(
        r.stderr
            .starts_with("s3sync: error: --trailing-dot 'Maybe'"),
        "{}",
        r.stderr
    );
}

#[test]
fn names_ending_in_a_dot_are_kept_on_s3_and_local_targets() {
    let src = dotted_tree();
    let w = World::new(Kind::S3sFs);
    common::run_with(
        w.target_args(),
        &[&s(&src), &w.url("d/"), "--trailing-dot=Enable"],
    )
    .assert_code(0);
    assert_eq!(w.get("d/a."), b"a.");
    assert_eq!(w.get("d/dir./x"), b"dir./x");
    let dst = scratch("dotscopy");
    az(&[&s(&src), &s(&dst), "--trailing-dot=Disable"]).assert_code(0);
    assert_eq!(
        std::fs::read(dst.join("c.../y")).ok().as_deref(),
        Some(&b"c.../y"[..])
    );
    assert_eq!(
        std::fs::read(dst.join("a.")).ok().as_deref(),
        Some(&b"a."[..])
    );
    // S3 -> Blob: the S3 key with the dot is skipped, the others land.
    let (client, c) = container();
    let mut args = w.source_args();
    args.extend([w.url("d/"), url(&c, "")]);
    run(&args, &env()).assert_code(3);
    let mut names = list_all(&client, &c, "", 5000).0;
    names.sort();
    assert_eq!(names, [".hidden", "b", "ok.txt"]);
}

// --force-if-read-only

#[test]
fn read_only_files_are_replaced_and_deleted_with_or_without_force_if_read_only() {
    assert!(
        running_as_root(),
        "this test runs s3sync as user nobody through setpriv: run the tests as root, as \
         .ci/test.sh does (it installs packages with apt-get)"
    );
    for flag in [
        None,
        Some("--force-if-read-only"),
        Some("--force-if-read-only=false"),
    ] {
        let src = scratch("rosrc");
        write_file(&src.join("f"), b"new content");
        let dst = scratch("rodst");
        write_file(&dst.join("f"), b"old");
        write_file(&dst.join("extra"), b"extra");
        for f in ["f", "extra"] {
            let p = dst.join(f);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444))
                .unwrap_or_else(|e| panic!("chmod: {e}"));
            // Older than the source, so the sync replaces it.
            let old = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{e}"));
            old.set_modified(UNIX_EPOCH + Duration::from_secs(1_000_000_000))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        // As a normal user who owns the directory: the files' own mode does not stop it.
        for p in [dst.clone(), dst.join("f"), dst.join("extra")] {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534))
                .unwrap_or_else(|e| panic!("chown: {e}"));
        }
        let home = scratch("rohome");
        std::os::unix::fs::chown(&home, Some(65534), Some(65534))
            .unwrap_or_else(|e| panic!("chown: {e}"));
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_s3sync"))
            .args([s(&src), s(&dst), "--delete-destination=true".into()])
            .args(flag)
            .env_clear()
            .env("HOME", &home);
        let out = cmd.output().unwrap_or_else(|e| panic!("setpriv: {e}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{flag:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(dst.join("f")).ok().as_deref(),
            Some(&b"new content"[..])
        );
        assert!(!dst.join("extra").exists(), "{flag:?}");
    }
}

// --cpk-by-value and --cpk-by-name

/// The request heads in what a proxy recorded: (request line, lower-cased header block).
fn request_heads(sent: &str) -> Vec<(String, String)> {
    let mut heads = Vec::new();
    let mut lines = sent.split("\r\n");
    while let Some(line) = lines.next() {
        // On a kept-alive connection a request line follows the previous body directly.
        let start = ["GET /", "PUT /", "HEAD /", "DELETE /", "POST /"]
            .iter()
            .filter_map(|m| line.rfind(m))
            .max();
        let Some(start) = start.filter(|_| line.ends_with(" HTTP/1.1")) else {
            continue;
        };
        let mut block = String::new();
        for h in lines.by_ref() {
            if h.is_empty() {
                break;
            }
            block.push_str(&h.to_ascii_lowercase());
            block.push('\n');
        }
        heads.push((line[start..].to_string(), block));
    }
    heads
}

/// The operation of a request line, roughly as the Blob API names it.
fn op_of(line: &str, head: &str) -> &'static str {
    let (method, rest) = line.split_once(' ').unwrap_or((line, ""));
    match method {
        "GET" if rest.contains("comp=list") => "ListBlobs",
        "GET" if rest.contains("comp=tags") => "GetBlobTags",
        "GET" if rest.contains("comp=blocklist") => "GetBlockList",
        "GET" => "GetBlob",
        "HEAD" => "GetBlobProperties",
        "PUT" if rest.contains("comp=blocklist") => "PutBlockList",
        "PUT" if rest.contains("comp=block") => "PutBlock",
        "PUT" if head.contains("x-ms-copy-source:") => "CopyBlobFromURL",
        "PUT" if rest.contains("restype=container") => "CreateContainer",
        "PUT" => "PutBlob",
        _ => "Other",
    }
}

fn loose_client() -> s3sync::azure::Client {
    let endpoint =
        s3sync::azure::location::ServiceEndpoint::parse(&azurite::azurite_loose().endpoint)
            .unwrap_or_else(|e| panic!("endpoint: {e}"));
    s3sync::azure::Client::new(s3sync::azure::ClientConfig::new(
        endpoint,
        s3sync::azure::Credentials::SharedKey(std::sync::Arc::new(azurite::account_key())),
    ))
}

fn loose_port() -> u16 {
    let endpoint = &azurite::azurite_loose().endpoint;
    endpoint
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"))
}

/// A test key (never a real one) and its SHA-256, both base64.
fn test_key() -> (String, String) {
    use sha2::Digest as _;
    let key: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(7).wrapping_add(3))
        .collect();
    let sha = sha2::Sha256::digest(&key);
    (
        s3sync::util::encoding::base64(&key),
        s3sync::util::encoding::base64(&sha),
    )
}

#[test]
fn cpk_by_value_sends_the_key_on_every_read_and_write_and_never_logs_it() {
    let client = loose_client();
    let c = azurite::container(&client);
    let src = scratch("cpk");
    let big = common::data(6 << 20, 5);
    write_file(&src.join("big"), &big);
    write_file(&src.join("small"), b"small");
    let (key, sha) = test_key();
    let mut env = env();
    env.push(("CPK_ENCRYPTION_KEY", &key));
    env.push(("CPK_ENCRYPTION_KEY_SHA256", &sha));
    let proxy = common::RecordingProxy::start(loose_port());
    let up = run(
        &[
            s(&src),
            url_via(&proxy, &c, "e/"),
            "--cpk-by-value".into(),
            "--put-blob-size-mb=5".into(),
            "--block-size-mb=5".into(),
            "-vvv".into(),
        ],
        &env,
    );
    up.assert_code(0);
    assert!(
        !up.stdout.contains(&key) && !up.stderr.contains(&key),
        "the key was logged"
    );
    let back = scratch("cpkback");
    let down = run(
        &[
            url_via(&proxy, &c, "e/"),
            s(&back),
            "--cpk-by-value".into(),
            "-vvv".into(),
        ],
        &env,
    );
    down.assert_code(0);
    assert!(
        !down.stdout.contains(&key) && !down.stderr.contains(&key),
        "the key was logged"
    );
    assert_eq!(std::fs::read(back.join("big")).ok(), Some(big));
    // Blob -> Blob: streamed (the service cannot read the source without the key).
    let d = azurite::container(&client);
    run(
        &[
            url_via(&proxy, &c, "e/"),
            url_via(&proxy, &d, ""),
            "--cpk-by-value".into(),
        ],
        &env,
    )
    .assert_code(0);
    let heads = request_heads(&proxy.sent());
    let mut seen = std::collections::BTreeSet::new();
    for (line, head) in &heads {
        let op = op_of(line, head);
        let has_key = head.contains(&format!(
            "x-ms-encryption-key: {}",
            key.to_ascii_lowercase()
        )) && head.contains(&format!(
            "x-ms-encryption-key-sha256: {}",
            sha.to_ascii_lowercase()
        )) && head.contains("x-ms-encryption-algorithm: aes256");
        let wants_key = matches!(
            op,
            "GetBlob" | "GetBlobProperties" | "PutBlob" | "PutBlock" | "PutBlockList"
        );
        assert_eq!(has_key, wants_key, "{op}: {line}\n{head}");
        assert_ne!(op, "CopyBlobFromURL", "{line}");
        seen.insert(op);
    }
    for op in [
        "GetBlob",
        "GetBlobProperties",
        "PutBlob",
        "PutBlock",
        "PutBlockList",
        "ListBlobs",
    ] {
        assert!(seen.contains(op), "no {op} among {seen:?}");
    }
}

#[test]
fn cpk_by_name_names_the_scope_on_writes() {
    let client = loose_client();
    let c = azurite::container(&client);
    let src = scratch("scope");
    write_file(&src.join("f"), b"scoped");
    let proxy = common::RecordingProxy::start(loose_port());
    az(&[
        &s(&src),
        &url_via(&proxy, &c, ""),
        "--cpk-by-name",
        "myscope",
    ])
    .assert_code(0);
    let back = scratch("scopeback");
    az(&[&url_via(&proxy, &c, ""), &s(&back), "--cpk-by-name=myscope"]).assert_code(0);
    assert_eq!(
        std::fs::read(back.join("f")).ok().as_deref(),
        Some(&b"scoped"[..])
    );
    for (line, head) in request_heads(&proxy.sent()) {
        let op = op_of(&line, &head);
        assert_eq!(
            head.contains("x-ms-encryption-scope: myscope"),
            op == "PutBlob",
            "{op}: {line}\n{head}"
        );
        assert!(!head.contains("x-ms-encryption-key"), "{head}");
    }
}

#[test]
fn cpk_options_are_refused_where_they_cannot_apply() {
    let (key, sha) = test_key();
    let src = scratch("cpkbad");
    let dst = scratch("cpkbaddst");
    let with = |extra: &[(&'static str, &str)], args: &[&str]| {
        let mut env = env();
        env.extend_from_slice(extra);
        let all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run(&all, &env)
    };
    let checks: Vec<(common::Run, &str)> = vec![
        (
            with(
                &[("CPK_ENCRYPTION_KEY", &key)],
                &[&s(&src), &s(&dst), "--cpk-by-value"],
            ),
            "--cpk-by-value applies to Azure Blob sides",
        ),
        (
            with(&[], &[&s(&src), &s(&dst), "--cpk-by-name=x"]),
            "--cpk-by-name applies to Azure Blob sides",
        ),
        (
            with(&[], &[&s(&src), &url("cpkc", ""), "--cpk-by-value"]),
            "--cpk-by-value needs the key in CPK_ENCRYPTION_KEY",
        ),
        (
            with(
                &[
                    ("CPK_ENCRYPTION_KEY", &key),
                    ("CPK_ENCRYPTION_KEY_SHA256", "bm9wZQ=="),
                ],
                &[&s(&src), &url("cpkc", ""), "--cpk-by-value"],
            ),
            "CPK_ENCRYPTION_KEY_SHA256 does not match",
        ),
        (
            with(
                &[("CPK_ENCRYPTION_KEY", "c2hvcnQ=")],
                &[&s(&src), &url("cpkc", ""), "--cpk-by-value"],
            ),
            "CPK_ENCRYPTION_KEY decodes to 5 bytes",
        ),
        (
            with(
                &[
                    ("CPK_ENCRYPTION_KEY", &key),
                    ("CPK_ENCRYPTION_KEY_SHA256", &sha),
                ],
                &[
                    &s(&src),
                    &url("cpkc", ""),
                    "--cpk-by-value",
                    "--cpk-by-name=x",
                ],
            ),
            "give one",
        ),
    ];
    for (r, want) in checks {
        r.assert_code(2);
        assert!(r.stderr.starts_with("s3sync: error: "), "{}", r.stderr);
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(!r.stderr.contains(&key), "the key was shown: {}", r.stderr);
    }
}
