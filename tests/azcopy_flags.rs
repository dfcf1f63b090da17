//! azcopy's `sync` flags through the binary: an azcopy command line runs unchanged against
//! local directories, Azurite (Blob) and s3s-fs (S3). Every example of azcopy's sync
//! documentation runs as written, only the URL adapted to the emulator.

mod common;

use common::files;

use std::path::{Path, PathBuf};

use common::azurite::{self, ACCOUNT, KEY, list_all, put, read_all};
use common::azurite::{sync_json as az, url};
use common::{Kind, World, s, write_file};
use s3sync::azure::Payload;
use s3sync::azure::blocks::BlockId;
use s3sync::azure::ops::WriteOptions;

/// A new container and its client.
fn container() -> (s3sync::azure::Client, String) {
    let client = azurite::client();
    let name = azurite::container(&client);
    (client, name)
}

/// The blob names under `prefix`, without it.
fn names(client: &s3sync::azure::Client, container: &str, prefix: &str) -> Vec<String> {
    list_all(client, container, prefix, 5000)
        .0
        .into_iter()
        .map(|n| n[prefix.len()..].to_string())
        .collect()
}

/// A directory holding `files`, each containing its own name.
fn tree(files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(common::unique("azflags"));
    for f in files {
        write_file(&dir.join(f), f.as_bytes());
    }
    dir
}

const FILES: &[&str] = &[
    "a.jpg",
    "b.pdf",
    "exactName",
    "foo.txt",
    "crowbar",
    "note.txt",
    "sub/c.jpg",
    "sub/deep/d.pdf",
    "subX/e.jpg",
];

#[test]
fn seed_examples_local_to_blob_run_as_written() {
    let (client, c) = container();
    let dir = tree(FILES);
    let file = dir.join("note.txt");
    // Sync a single file, then with --put-md5: the target names the blob.
    az(&[&s(&file), &url(&c, "path/to/blob")]).assert_code(0);
    let again = az(&[&s(&file), &url(&c, "path/to/blob"), "--put-md5"]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0, "{}", again.stdout);
    assert_eq!(names(&client, &c, "path/to/"), ["blob"]);
    assert_eq!(
        read_all(&client, &c, "path/to/blob", None),
        b"note.txt".to_vec()
    );
    // With a trailing slash the target is a virtual directory and the file keeps its name.
    az(&[&s(&file), &url(&c, "path/to/dir/")]).assert_code(0);
    assert_eq!(
        read_all(&client, &c, "path/to/dir/note.txt", None),
        b"note.txt".to_vec()
    );
    // A whole directory, recursive by default; again with --put-md5 (nothing to do).
    az(&[&s(&dir), &url(&c, "all/")]).assert_code(0);
    let again = az(&[&s(&dir), &url(&c, "all/"), "--put-md5"]);
    again.assert_code(0);
    assert_eq!(again.summary("transferred_object"), 0);
    let mut all: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    all.sort();
    assert_eq!(names(&client, &c, "all/"), all);
    // The top level only.
    az(&[&s(&dir), &url(&c, "top/"), "--recursive=false"]).assert_code(0);
    assert_eq!(
        names(&client, &c, "top/"),
        [
            "a.jpg",
            "b.pdf",
            "crowbar",
            "exactName",
            "foo.txt",
            "note.txt"
        ]
    );
    // Only jpg and pdf files and the file named exactName, at any depth.
    az(&[
        &s(&dir),
        &url(&c, "some/"),
        "--include-pattern=*.jpg;*.pdf;exactName",
    ])
    .assert_code(0);
    assert_eq!(
        names(&client, &c, "some/"),
        [
            "a.jpg",
            "b.pdf",
            "exactName",
            "sub/c.jpg",
            "sub/deep/d.pdf",
            "subX/e.jpg"
        ]
    );
    // Everything but names starting with foo or ending with bar.
    az(&[&s(&dir), &url(&c, "most/"), "--exclude-pattern=foo*;*bar"]).assert_code(0);
    let most = names(&client, &c, "most/");
    assert!(!most.iter().any(|n| n == "foo.txt" || n == "crowbar"));
    assert_eq!(most.len(), FILES.len() - 2, "{most:?}");
}

/// A read-and-list SAS for `container`, as the query azcopy's examples append.
fn sas(container: &str) -> String {
    match azurite::sas_for(container, None, "rl") {
        s3sync::azure::Credentials::Sas(t) => t.as_query().to_string(),
        _ => panic!("sas_for gave no SAS"),
    }
}

#[test]
fn seed_examples_blob_to_blob_run_as_written() {
    let (client, c) = container();
    put(&client, &c, "path/to/blob", b"one blob");
    put(&client, &c, "path/to/virtual/dir/x", b"x");
    put(&client, &c, "path/to/virtual/dir/y/z", b"z");
    // A blob with the name of the virtual directory beside it.
    put(&client, &c, "path/to/virtual/dir", b"shadow");
    let (_, d) = container();
    let q = sas(&c);
    // Sync a single blob, as written: the target names the blob.
    az(&[
        &format!("{}?{q}", url(&c, "path/to/blob")),
        &url(&d, "path/to/blob"),
    ])
    .assert_code(0);
    assert_eq!(read_all(&client, &d, "path/to/blob", None), b"one blob");
    let (_, d) = container();
    // The same by its directory narrowed to its name.
    az(&[
        &format!("{}?{q}", url(&c, "path/to/")),
        &url(&d, "path/to/"),
        "--recursive=false",
        "--include-pattern=blob",
    ])
    .assert_code(0);
    assert_eq!(read_all(&client, &d, "path/to/blob", None), b"one blob");
    // Without a slash, `.../virtual/dir` is the blob of that name where one exists (as
    // azcopy reads it): that one blob is synced, under its own name.
    az(&[
        &format!("{}?{q}", url(&c, "path/to/virtual/dir")),
        &url(&d, "one/"),
        "--recursive=true",
    ])
    .assert_code(0);
    assert_eq!(names(&client, &d, "one/"), ["dir"]);
    assert_eq!(read_all(&client, &d, "one/dir", None), b"shadow");
    // The trailing slash disambiguates, as azcopy documents.
    az(&[
        &format!("{}?{q}", url(&c, "path/to/virtual/dir/")),
        &url(&d, "copy/dir/"),
        "--recursive=true",
    ])
    .assert_code(0);
    assert_eq!(names(&client, &d, "copy/dir/"), ["x", "y/z"]);
    // Azure Files is not reached: refused in one line.
    let files = az(&[
        "https://acct.file.core.windows.net/share/dir?sv=1&sig=x",
        &url(&d, "f/"),
        "--recursive=true",
    ]);
    files.assert_code(2);
    assert_eq!(files.stderr.trim().lines().count(), 1, "{}", files.stderr);
}

#[test]
fn delete_destination_true_false_and_their_contradiction() {
    let (client, c) = container();
    let dir = tree(&["keep", "sub/keep2"]);
    put(&client, &c, "d/extra", b"e");
    put(&client, &c, "d/sub/extra2", b"e");
    let target = url(&c, "d/");
    az(&[&s(&dir), &target, "--delete-destination=false"]).assert_code(0);
    assert_eq!(names(&client, &c, "d/").len(), 4);
    for bad in [
        &["--delete", "--delete-destination=false"][..],
        &["--delete-destination", "maybe"],
        &["--delete-destination=false", "--max-delete", "1"],
    ] {
        let mut args = bad.to_vec();
        let source = s(&dir);
        args.extend([source.as_str(), target.as_str()]);
        let r = az(&args);
        r.assert_code(2);
        assert!(
            r.stderr.starts_with("s3sync: error: --") && r.stderr.trim().lines().count() == 1,
            "{bad:?}: {}",
            r.stderr
        );
    }
    // --max-delete holds for the azcopy spelling.
    let limited = az(&[
        &s(&dir),
        &target,
        "--delete-destination=TRUE",
        "--max-delete",
        "1",
    ]);
    limited.assert_code(3);
    assert_eq!(names(&client, &c, "d/").len(), 3);
    az(&[&s(&dir), &target, "--delete-destination", "true"]).assert_code(0);
    assert_eq!(names(&client, &c, "d/"), ["keep", "sub/keep2"]);
    // An empty source never wipes the target.
    let empty = std::env::temp_dir().join(common::unique("azempty"));
    let _ = std::fs::create_dir_all(&empty);
    az(&[&s(&empty), &target, "--delete-destination=true"]).assert_code(3);
    assert_eq!(names(&client, &c, "d/").len(), 2);
}

#[test]
fn delete_destination_prompt_deletes_nothing_without_an_answer() {
    let (client, c) = container();
    let dir = tree(&["keep"]);
    put(&client, &c, "p/extra", b"e");
    let r = az(&[&s(&dir), &url(&c, "p/"), "--delete-destination=prompt"]);
    r.assert_code(3);
    assert!(
        r.stdout
            .contains("standard input is not a terminal, so none of the 1 objects was deleted"),
        "{}",
        r.stdout
    );
    assert_eq!(names(&client, &c, "p/"), ["extra", "keep"]);
}

/// The question on a terminal (through `script`, which gives the run a pseudo-terminal):
/// `y` deletes, an empty line or `n` does not.
#[test]
fn delete_destination_prompt_asks_once_on_a_terminal() {
    assert!(
        Path::new("/usr/bin/script").exists(),
        "/usr/bin/script (util-linux's bsdutils) is needed to give s3sync a terminal: \
         apt-get install bsdutils"
    );
    let (client, c) = container();
    let dir = tree(&["keep"]);
    for i in 0..7 {
        put(&client, &c, &format!("t/extra{i}"), b"e");
    }
    let ask = |answer: &str| -> (i32, String) {
        let cmd = format!(
            "{} --json-tracing --show-no-progress --delete-destination=prompt {} {}",
            env!("CARGO_BIN_EXE_s3sync"),
            s(&dir),
            url(&c, "t/")
        );
        let mut child = std::process::Command::new("/usr/bin/script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("AZURE_STORAGE_ACCOUNT", ACCOUNT)
            .env("AZURE_STORAGE_KEY", KEY)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("script: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all(answer.as_bytes());
            // Keep the terminal open until the run has read its line.
            std::thread::sleep(std::time::Duration::from_secs(3));
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, shown) = ask("n\n");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("delete 7 object(s)") && shown.contains("and 2 more"),
        "{shown}"
    );
    assert_eq!(names(&client, &c, "t/").len(), 8);
    let (code, shown) = ask("\n");
    assert_eq!(code, 3, "{shown}");
    assert_eq!(names(&client, &c, "t/").len(), 8);
    let (code, shown) = ask("y\n");
    assert_eq!(code, 0, "{shown}");
    assert_eq!(names(&client, &c, "t/"), ["keep"]);
}

#[test]
fn recursive_false_syncs_and_deletes_only_the_top_level_on_s3_and_local() {
    let w = World::new(Kind::S3sFs);
    let dir = tree(&["top.txt", "sub/deep.txt"]);
    w.put("t/old.txt", b"o");
    w.put("t/sub/old.txt", b"o");
    w.sync(&[
        "--recursive=false",
        "--delete-destination=true",
        &s(&dir),
        &w.url("t/"),
    ])
    .assert_code(0);
    let keys: Vec<String> = w.list("t/").into_keys().collect();
    assert_eq!(keys, ["t/sub/old.txt", "t/top.txt"]);
    // Local to local, and the explicit default.
    let down = std::env::temp_dir().join(common::unique("azlocal"));
    az(&[
        &s(&dir),
        &s(&down),
        "--recursive=false",
        "--from-to=LocalLocal",
    ])
    .assert_code(0);
    assert_eq!(files(&down), ["top.txt"]);
    az(&[&s(&dir), &s(&down), "--recursive"]).assert_code(0);
    assert_eq!(files(&down), ["sub/deep.txt", "top.txt"]);
}

#[test]
fn path_and_regex_filters_select_and_protect_from_delete() {
    let (client, c) = container();
    let dir = tree(FILES);
    // Objects only on the target that the filters leave out are kept.
    put(&client, &c, "f/sub/stale.jpg", b"s");
    put(&client, &c, "f/stale.txt", b"s");
    put(&client, &c, "f/gone.jpg", b"s");
    az(&[
        &s(&dir),
        &url(&c, "f/"),
        "--include-pattern",
        "*.jpg;*.pdf",
        "--exclude-path=sub",
        "--delete-destination=true",
    ])
    .assert_code(0);
    assert_eq!(
        names(&client, &c, "f/"),
        ["a.jpg", "b.pdf", "stale.txt", "sub/stale.jpg", "subX/e.jpg"]
    );
    // Regexes on the relative path: include one of them, exclude any.
    az(&[
        &s(&dir),
        &url(&c, "r/"),
        "--include-regex=^sub/;\\.txt$",
        "--exclude-regex",
        "deep",
    ])
    .assert_code(0);
    assert_eq!(
        names(&client, &c, "r/"),
        ["foo.txt", "note.txt", "sub/c.jpg"]
    );
    for bad in [
        "--include-pattern=[abc",
        "--exclude-regex=(",
        "--exclude-path=*.jpg",
    ] {
        let r = az(&[bad, &s(&dir), &url(&c, "x/")]);
        r.assert_code(2);
        let flag = bad.split('=').next().unwrap_or(bad);
        assert!(r.stderr.contains(flag), "{bad}: {}", r.stderr);
    }
}

#[test]
fn from_to_is_checked_against_source_and_target() {
    let (_, c) = container();
    let dir = tree(&["a"]);
    az(&[&s(&dir), &url(&c, "ft/"), "--from-to=localblob"]).assert_code(0);
    let r = az(&[&s(&dir), &url(&c, "ft/"), "--from-to", "BlobLocal"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--from-to BlobLocal")
            && r.stderr.contains("SOURCE (local)")
            && r.stderr.contains("TARGET (Azure Blob)"),
        "{}",
        r.stderr
    );
    let r = az(&[&s(&dir), &url(&c, "ft/"), "--from-to=LocalFile"]);
    r.assert_code(2);
    assert!(r.stderr.contains("is not one of"), "{}", r.stderr);
}

/// A blob committed from blocks by another tool: no Content-MD5.
fn put_without_md5(client: &s3sync::azure::Client, c: &str, name: &str, data: &[u8]) {
    let id = BlockId::new(0);
    client
        .put_block(c, name, &id, Payload::Bytes(data), None)
        .unwrap_or_else(|e| panic!("PutBlock: {e}"));
    client
        .put_block_list(c, name, &[id], &WriteOptions::default())
        .unwrap_or_else(|e| panic!("PutBlockList: {e}"));
}

#[test]
fn check_md5_modes_on_blob_downloads() {
    let (client, c) = container();
    put(&client, &c, "m/with", b"has an md5");
    put_without_md5(&client, &c, "m/without", b"has none");
    let down = |mode: Option<&str>| {
        let dir = std::env::temp_dir().join(common::unique("azmd5"));
        let mut args = vec![url(&c, "m/"), s(&dir)];
        if let Some(m) = mode {
            args.push(format!("--check-md5={m}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        (az(&refs), dir)
    };
    let (r, dir) = down(None);
    r.assert_code(0);
    assert_eq!(r.summary("etag_verified"), 1);
    assert_eq!(files(&dir), ["with", "without"]);
    let (r, dir) = down(Some("nocheck"));
    r.assert_code(0);
    assert_eq!(r.summary("etag_verified"), 0);
    assert_eq!(files(&dir), ["with", "without"]);
    let (r, dir) = down(Some("FailIfDifferentOrMissing"));
    r.assert_code(1);
    assert!(r.stdout.contains("has no MD5"), "{}", r.stdout);
    assert_eq!(files(&dir), ["with"]);
    let (r, _) = down(Some("LogOnly"));
    r.assert_code(0);
    // A blob whose Content-MD5 is wrong: removed by default, kept with a warning by LogOnly.
    let (_, e) = container();
    let id = BlockId::new(0);
    client
        .put_block(&e, "bad", &id, Payload::Bytes(b"content"), None)
        .unwrap_or_else(|e| panic!("PutBlock: {e}"));
    let wrong = WriteOptions {
        content_md5: Some(azurite::md5(b"other content")),
        ..WriteOptions::default()
    };
    client
        .put_block_list(&e, "bad", &[id], &wrong)
        .unwrap_or_else(|e| panic!("PutBlockList: {e}"));
    for (mode, code, kept) in [
        ("FailIfDifferent", 1, false),
        ("LogOnly", 3, true),
        ("NoCheck", 0, true),
    ] {
        let dir = std::env::temp_dir().join(common::unique("azbad"));
        let check = format!("--check-md5={mode}");
        let r = az(&[&url(&e, ""), &s(&dir), &check]);
        r.assert_code(code);
        assert_eq!(dir.join("bad").exists(), kept, "{mode}: {}", r.stdout);
    }
    // Uploads have nothing to check: refused, as is an unknown mode.
    let src = tree(&["a"]);
    for mode in ["--check-md5=NoCheck", "--check-md5=Sometimes"] {
        let r = az(&[mode, &s(&src), &url(&c, "u/")]);
        r.assert_code(2);
        assert!(r.stderr.contains("--check-md5"), "{}", r.stderr);
    }
}

#[test]
fn sizes_bandwidth_and_output_options() {
    let (client, c) = container();
    let dir = std::env::temp_dir().join(common::unique("azsize"));
    let big = common::data(11 << 20, 3);
    write_file(&dir.join("big"), &big);
    let r = az(&[
        "--block-size-mb=5.5",
        "--put-blob-size-mb",
        "6",
        "--cap-mbps=800",
        "--log-level=info",
        "--output-type=text",
        &s(&dir),
        &url(&c, "s/"),
    ]);
    r.assert_code(0);
    assert!(r.stdout.contains("\"level\":\"INFO\""), "{}", r.stdout);
    let blocks = client
        .get_block_list(&c, "s/big", s3sync::azure::ops::BlockListType::Committed)
        .unwrap_or_else(|e| panic!("GetBlockList: {e}"));
    assert_eq!(blocks.committed.len(), 2, "11 MiB in blocks of 5.5 MiB");
    for (bad, says) in [
        (&["--block-size-mb=0.1"][..], "whole number of bytes"),
        (
            &["--block-size-mb=6", "--multipart-chunksize=8MiB"],
            "contradict",
        ),
        (&["--cap-mbps=1", "--rate-limit-bandwidth=1MiB"], "give one"),
        (&["--log-level=DEBUG"], "is not one of"),
        (&["--log-level=NONE", "-v"], "give one"),
        (&["--output-type=yaml"], "is not one of"),
    ] {
        let mut args = bad.to_vec();
        let (a, b) = (s(&dir), url(&c, "s/"));
        args.extend([a.as_str(), b.as_str()]);
        let r = az(&args);
        r.assert_code(2);
        assert!(r.stderr.contains(says), "{bad:?}: {}", r.stderr);
    }
    let quiet = az(&["--log-level=NONE", &s(&dir), &url(&c, "s/")]);
    quiet.assert_code(0);
    assert!(quiet.stdout.is_empty(), "{}", quiet.stdout);
}

#[test]
fn flags_we_cannot_honour_are_refused_in_one_line() {
    let (_, c) = container();
    let dir = tree(&["a"]);
    for flag in [
        "--preserve-smb-info",
        "--preserve-permissions=true",
        "--include-attributes=A;S",
        "--exclude-attributes=R",
        "--backup",
    ] {
        let r = az(&[flag, &s(&dir), &url(&c, "z/")]);
        r.assert_code(2);
        let name = flag.split('=').next().unwrap_or(flag);
        assert!(
            r.stderr
                .starts_with(&format!("s3sync: error: {name} is not supported: "))
                && r.stderr.trim().lines().count() == 1,
            "{flag}: {}",
            r.stderr
        );
    }
    // What we do anyway is accepted.
    for flag in [
        "--preserve-smb-info=false",
        "--compare-hash=None",
        "--mirror-mode=false",
        // Trusting a host with Entra ID tokens changes nothing for an account key.
        "--trusted-microsoft-suffixes=x.net",
    ] {
        az(&[flag, &s(&dir), &url(&c, "z/")]).assert_code(0);
    }
}
