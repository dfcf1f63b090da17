//! s3sync features that have a Blob meaning, on Blob sides through the binary against a
//! strict Azurite: the Lua filter and event callbacks, and `--report-sync-status` (records,
//! summary, exit codes, nothing written).

mod common;

use common::records::{field, report_summary as summary};

use common::azurite::{self, list_all, put, read_all};
use common::azurite::{sync_json as sync, url};
use common::{md5_hex, run, s, touch, write_file};

/// (key → (type, status)) of every SYNC_STATUS record.
fn statuses(stdout: &str) -> std::collections::BTreeMap<String, (String, String)> {
    stdout
        .lines()
        .filter(|l| l.contains("\"name\":\"SYNC_STATUS\""))
        .filter_map(|l| Some((field(l, "key")?, (field(l, "type")?, field(l, "status")?))))
        .collect()
}

fn pair(t: &str, s: &str) -> (String, String) {
    (t.to_string(), s.to_string())
}

#[test]
fn report_sync_status_compares_files_and_blobs_by_md5_both_ways() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azreport"));
    let src = dir.join("src");
    write_file(&src.join("same"), b"same bytes");
    write_file(&src.join("changed"), b"version 1");
    write_file(&src.join("big"), &common::data(9 << 20, 3));
    sync(&["--multipart-chunksize", "5MiB", &s(&src), &url(&c, "r/")]).assert_code(0);

    // Up to date: every object MATCHES, exit 0.
    let report = sync(&["--report-sync-status", &s(&src), &url(&c, "r/")]);
    report.assert_code(0);
    let got = statuses(&report.stdout);
    assert_eq!(got.len(), 3, "{}", report.stdout);
    for key in ["same", "changed", "big"] {
        assert_eq!(
            got[key],
            pair("ETAG", "MATCHES"),
            "{key}: {}",
            report.stdout
        );
    }
    assert_eq!(summary(&report.stdout, "number_of_objects"), 3);
    assert_eq!(summary(&report.stdout, "etag_matches"), 3);

    // Same size, other bytes; a file the container never got; a blob without Content-MD5.
    std::fs::write(src.join("changed"), b"version 2").unwrap_or_else(|e| panic!("{e}"));
    touch(&src.join("changed"), 100);
    write_file(&src.join("new"), b"new");
    let before = list_all(&client, &c, "r/", 100).0;
    let report = sync(&["--report-sync-status", &s(&src), &url(&c, "r/")]);
    report.assert_code(3);
    let got = statuses(&report.stdout);
    assert_eq!(got["same"], pair("ETAG", "MATCHES"));
    assert_eq!(got["changed"], pair("ETAG", "MISMATCH"));
    assert_eq!(got["new"], pair("EXISTENCE", "NOT_FOUND"));
    assert_eq!(summary(&report.stdout, "etag_mismatch"), 1);
    assert_eq!(summary(&report.stdout, "not_found"), 1);
    // Nothing was written.
    assert_eq!(list_all(&client, &c, "r/", 100).0, before);
    assert_eq!(read_all(&client, &c, "r/changed", None), b"version 1");

    // Blob → local, the other way round.
    let down = dir.join("down");
    sync(&[&url(&c, "r/"), &s(&down)]).assert_code(0);
    std::fs::write(down.join("same"), b"SAME BYTES").unwrap_or_else(|e| panic!("{e}"));
    let report = sync(&["--report-sync-status", &url(&c, "r/"), &s(&down)]);
    report.assert_code(3);
    let got = statuses(&report.stdout);
    assert_eq!(got["same"], pair("ETAG", "MISMATCH"), "{}", report.stdout);
    assert_eq!(got["changed"], pair("ETAG", "MATCHES"));
    assert_eq!(got["big"], pair("ETAG", "MATCHES"));
    assert_eq!(
        std::fs::read(down.join("same")).unwrap_or_default(),
        b"SAME BYTES"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lua_filter_and_event_scripts_see_blob_objects() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azlua"));
    let src = dir.join("src");
    write_file(&src.join("keep.txt"), b"keep");
    write_file(&src.join("skip.log"), b"skip");
    write_file(&src.join("sub/also.txt"), b"also");
    put(&client, &c, "l/gone.txt", b"stale");
    let filter = write_file(
        &dir.join("filter.lua"),
        br#"
        function filter(object)
          return not string.find(object.key, "%.log$")
        end"#,
    );
    let log = dir.join("events.txt");
    let listener = write_file(
        &dir.join("events.lua"),
        format!(
            r#"
            function on_event(e)
              local f = assert(io.open([[{}]], "a"))
              if e.event_type == 32768 then
                f:write("STATS_REPORT transferred=", e.stats_transferred_object,
                        " deleted=", e.stats_deleted, "\n")
              else
                f:write(e.event_name, " ", tostring(e.key), "\n")
              end
              f:close()
            end"#,
            s(&log)
        )
        .as_bytes(),
    );
    let up = sync(&[
        "--delete",
        "--allow-lua-os-library",
        "--filter-callback-lua-script",
        &s(&filter),
        "--event-callback-lua-script",
        &s(&listener),
        &s(&src),
        &url(&c, "l/"),
    ]);
    up.assert_code(0);
    assert_eq!(
        list_all(&client, &c, "l/", 100).0,
        vec!["l/keep.txt", "l/sub/also.txt"]
    );
    assert_eq!(
        md5_hex(&read_all(&client, &c, "l/keep.txt", None)),
        md5_hex(b"keep")
    );
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("events: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("PIPELINE_START nil"), "{text}");
    for expected in [
        "SYNC_COMPLETE keep.txt",
        "SYNC_COMPLETE sub/also.txt",
        "SYNC_FILTERED skip.log",
        "SYNC_DELETE gone.txt",
        "STATS_REPORT transferred=2 deleted=1",
    ] {
        assert!(lines.contains(&expected), "{expected} not in:\n{text}");
    }

    // Down again through the same filter: the script sees the blobs' keys.
    put(&client, &c, "l/remote.log", b"remote log");
    let down = dir.join("down");
    sync(&[
        "--filter-callback-lua-script",
        &s(&filter),
        &url(&c, "l/"),
        &s(&down),
    ])
    .assert_code(0);
    assert!(down.join("keep.txt").exists() && down.join("sub/also.txt").exists());
    assert!(!down.join("remote.log").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn storage_class_is_the_access_tier_on_blob_targets() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("aztier"));
    let src = dir.join("src");
    write_file(&src.join("small"), b"small");
    write_file(&src.join("big"), &common::data(6 << 20, 9));
    let tier_of = |name: &str| {
        client
            .blob_properties(&c, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name} is missing"))
            .access_tier
    };
    // Put Blob and Put Block List both carry the tier (any case accepted).
    sync(&[
        "--storage-class",
        "cool",
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        &s(&src),
        &url(&c, "t/"),
    ])
    .assert_code(0);
    assert_eq!(tier_of("t/small").as_deref(), Some("Cool"));
    assert_eq!(tier_of("t/big").as_deref(), Some("Cool"));
    // Blob → Blob with another tier.
    sync(&["--storage-class", "Cold", &url(&c, "t/"), &url(&c, "u/")]).assert_code(0);
    assert_eq!(tier_of("u/small").as_deref(), Some("Cold"));
    assert_eq!(tier_of("u/big").as_deref(), Some("Cold"));
    assert_eq!(read_all(&client, &c, "u/small", None), b"small");
    // An S3 storage class is no Blob tier: refused, naming the tiers.
    let bad = sync(&["--storage-class", "STANDARD_IA", &s(&src), &url(&c, "v/")]);
    bad.assert_code(2);
    assert!(
        bad.stderr.starts_with("s3sync: error: --storage-class") && bad.stderr.contains("Cool"),
        "{}",
        bad.stderr
    );
    assert!(list_all(&client, &c, "v/", 10).0.is_empty());
    // A local target has no tier.
    let local = sync(&[
        "--storage-class",
        "Cool",
        &url(&c, "t/"),
        &s(&dir.join("down")),
    ]);
    local.assert_code(2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_preprocess_script_shapes_what_is_written_to_blob() {
    let client = azurite::client();
    let c = azurite::container(&client);
    let dir = std::env::temp_dir().join(common::unique("azpre"));
    let src = dir.join("src");
    write_file(&src.join("doc.txt"), b"a document");
    write_file(&src.join("big.bin"), &common::data(6 << 20, 5));
    write_file(&src.join("skip/x.txt"), b"never");
    let shaper = write_file(
        &dir.join("shape.lua"),
        br#"
        function preprocess_callback(o, u)
          if o.source_key:find("^skip/") then return false end
          u.content_type = "application/x-shaped-" .. o.key:match("%.(%w+)$")
          u.metadata["target_key"] = o.key
          u.metadata["not-a-blob-name"] = "dropped"
          u.cache_control = "max-age=60"
          u.storage_class = "Cool"
          return true, u
        end"#,
    );
    let up = sync(&[
        "--multipart-threshold",
        "5MiB",
        "--multipart-chunksize",
        "5MiB",
        "--preprocess-callback-lua-script",
        &s(&shaper),
        &s(&src),
        &url(&c, "p/"),
    ]);
    up.assert_code(0);
    assert_eq!(
        list_all(&client, &c, "p/", 10).0,
        vec!["p/big.bin", "p/doc.txt"]
    );
    for (name, ext) in [("p/doc.txt", "txt"), ("p/big.bin", "bin")] {
        let p = client
            .blob_properties(&c, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name} is missing"));
        assert_eq!(
            p.content.content_type.as_deref(),
            Some(format!("application/x-shaped-{ext}").as_str()),
            "{name}"
        );
        assert_eq!(p.content.cache_control.as_deref(), Some("max-age=60"));
        let key = &name[2..];
        assert!(
            p.metadata
                .iter()
                .any(|(k, v)| k == "target_key" && v == key),
            "{name}: {:?}",
            p.metadata
        );
        assert_eq!(p.access_tier.as_deref(), Some("Cool"));
        // A name Blob cannot hold is left out, with a warning naming it.
        assert!(
            !p.metadata.iter().any(|(k, _)| k.contains("blob")),
            "{:?}",
            p.metadata
        );
    }
    assert!(up.stdout.contains("not-a-blob-name"), "{}", up.stdout);
    // Given on the command line, such a name is refused before anything is sent.
    let bad = sync(&["--metadata", "a-b=1", &s(&src), &url(&c, "q/")]);
    bad.assert_code(2);
    assert!(
        bad.stderr.starts_with("s3sync: error: --metadata: 'a-b'"),
        "{}",
        bad.stderr
    );
    assert!(list_all(&client, &c, "q/", 10).0.is_empty());
    // Still refused with a local TARGET.
    let local = sync(&[
        "--preprocess-callback-lua-script",
        &s(&shaper),
        &s(&src),
        &s(&dir.join("out")),
    ]);
    local.assert_code(2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_public_container_is_read_without_credentials() {
    let client = azurite::client();
    let public = common::unique("azpub").to_ascii_lowercase();
    let created = client
        .create_container_with_access(&public, Some("container"))
        .unwrap_or_else(|e| panic!("CreateContainer {public}: {e}"));
    assert!(created);
    let body = common::data(50_000, 12);
    put(&client, &public, "open/a.bin", &body);
    put(&client, &public, "open/b/c.txt", b"public text");
    let dir = std::env::temp_dir().join(common::unique("azanon"));
    // No credentials of any kind in the environment: anonymous requests.
    let down = run(&[url(&public, "open/"), s(&dir.join("down"))], &[]);
    down.assert_code(0);
    assert_eq!(
        md5_hex(&std::fs::read(dir.join("down/a.bin")).unwrap_or_default()),
        md5_hex(&body)
    );
    assert_eq!(
        std::fs::read(dir.join("down/b/c.txt")).unwrap_or_default(),
        b"public text"
    );
    // A private container refuses anonymous requests: one error line, exit 1.
    let private = azurite::container(&client);
    put(&client, &private, "x", b"x");
    let refused = run(&[url(&private, ""), s(&dir.join("private"))], &[]);
    refused.assert_code(1);
    let line = refused
        .stderr
        .lines()
        .find(|l| l.starts_with("s3sync: error: "))
        .unwrap_or_else(|| panic!("no error line: {}", refused.stderr));
    assert!(
        line.contains("without credentials") && line.contains("AZURE_STORAGE_KEY"),
        "{line}"
    );
    assert!(!dir.join("private/x").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
