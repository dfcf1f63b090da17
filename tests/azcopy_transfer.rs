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
use common::{Kind, World, run, s, write_file};

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AZURE_STORAGE_ACCOUNT", ACCOUNT),
        ("AZURE_STORAGE_KEY", KEY),
    ]
}

fn url(container: &str, prefix: &str) -> String {
    format!("{}/{container}/{prefix}", azurite::azurite().endpoint)
}

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
