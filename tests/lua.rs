//! Lua filter and event scripts, their sandbox and limits, run by the binary against real
//! servers (the preprocess script and versioned sources are in `lua_preprocess.rs`).

mod common;

use std::time::{Duration, Instant};

use common::{Kind, World, data, keys, md5_hex, s, touch, write_file};

/// Writes a script into the world's directory and returns its path.
fn script(w: &World, name: &str, text: &str) -> String {
    s(&write_file(
        &w.path(&format!("scripts/{name}")),
        text.as_bytes(),
    ))
}

/// A source directory with `keep/a.txt`, `keep/b.bin`, `drop/c.txt` and `top.txt`.
fn tree(w: &World) -> std::path::PathBuf {
    let src = w.path("src");
    write_file(&src.join("keep/a.txt"), &data(100, 1));
    write_file(&src.join("keep/b.bin"), &data(2000, 2));
    write_file(&src.join("drop/c.txt"), &data(300, 3));
    write_file(&src.join("top.txt"), &data(400, 4));
    src
}

#[test]
fn a_filter_script_chooses_what_is_uploaded_and_downloaded() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    let upload_filter = script(
        &w,
        "up.lua",
        r#"
        function filter(o)
          assert(o.last_modified:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d"), o.last_modified)
          assert(o.e_tag == nil and o.version_id == nil and o.is_latest and not o.is_delete_marker)
          if o.key == "keep/b.bin" then assert(o.size == 2000, "size " .. o.size) end
          return string.find(o.key, "^keep/")
        end"#,
    );
    let run = w.sync(&[
        "--json-tracing",
        "--filter-callback-lua-script",
        &upload_filter,
        &s(&src),
        &w.url("up/"),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("skipped"), 2);
    assert_eq!(keys(&w, "up/"), vec!["keep/a.txt", "keep/b.bin"]);
    assert_eq!(md5_hex(&w.get("up/keep/a.txt")), md5_hex(&data(100, 1)));
    assert_eq!(md5_hex(&w.get("up/keep/b.bin")), md5_hex(&data(2000, 2)));

    // S3 → local. s3s-fs lists no ETags; where a listing has one, it arrives quoted.
    w.sync(&[&s(&src), &w.url("all/")]).assert_code(0);
    let download_filter = script(
        &w,
        "down.lua",
        r#"function filter(o)
             assert(o.e_tag == nil or o.e_tag:match('^"%x+"$'), o.e_tag)
             return o.key:find("%.txt$") ~= nil
           end"#,
    );
    let down = w.path("down");
    let run = w.sync_from(&[
        "--json-tracing",
        "--filter-callback-lua-script",
        &download_filter,
        &w.url("all/"),
        &s(&down),
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 3);
    assert_eq!(run.summary("skipped"), 1);
    assert!(!down.join("keep/b.bin").exists());
    for (name, seed, len) in [
        ("keep/a.txt", 1, 100),
        ("drop/c.txt", 3, 300),
        ("top.txt", 4, 400),
    ] {
        let got = std::fs::read(down.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(md5_hex(&got), md5_hex(&data(len, seed)), "{name}");
    }
}

#[test]
fn the_filter_runs_after_the_key_patterns_and_before_the_update_check() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    for name in ["a.txt", "b.txt", "skip.txt"] {
        touch(&write_file(&src.join(name), name.as_bytes()), -600);
    }
    w.sync(&[&s(&src), &w.url("o/")]).assert_code(0);
    write_file(&src.join("c.txt"), b"new");
    let seen = w.path("seen.txt");
    let recorder = script(
        &w,
        "record.lua",
        &format!(
            r#"function filter(o)
                 local f = assert(io.open([[{}]], "a"))
                 f:write(o.key, "\n")
                 f:close()
                 return true
               end"#,
            s(&seen)
        ),
    );
    let run = w.sync(&[
        "--json-tracing",
        "--allow-lua-os-library",
        "--filter-exclude-regex",
        "^skip",
        "--filter-callback-lua-script",
        &recorder,
        &s(&src),
        &w.url("o/"),
    ]);
    run.assert_code(0);
    // skip.txt never reached the script; a.txt and b.txt did, although the update check
    // then found them up to date.
    let seen = std::fs::read_to_string(&seen).unwrap_or_else(|e| panic!("seen.txt: {e}"));
    assert_eq!(seen, "a.txt\nb.txt\nc.txt\n");
    assert_eq!(run.summary("transferred_object"), 1);
    assert_eq!(run.summary("skipped"), 3);
    assert_eq!(w.get("o/c.txt"), b"new");
}

#[test]
fn without_the_os_library_io_and_os_are_nil() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    let probe = script(
        &w,
        "probe.lua",
        "function filter(o) assert(io == nil and os == nil, 'io/os present') return true end",
    );
    w.sync(&[
        "--filter-callback-lua-script",
        &probe,
        &s(&src),
        &w.url("p/"),
    ])
    .assert_code(0);
    assert_eq!(keys(&w, "p/").len(), 4);

    let out = w.path("written.txt");
    let writer = script(
        &w,
        "writer.lua",
        &format!(
            r#"function filter(o)
                 local f = io.open([[{}]], "a") f:write(o.key) f:close()
                 return true
               end"#,
            s(&out)
        ),
    );
    let run = w.sync(&[
        "--filter-callback-lua-script",
        &writer,
        &s(&src),
        &w.url("w/"),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("writer.lua: writer.lua:2: attempt to index a nil value (global 'io')"),
        "{}",
        run.stderr
    );
    assert!(
        keys(&w, "w/").is_empty(),
        "a failed filter transfers nothing"
    );
    assert!(!out.exists());
    // The same script with the library: every key written, every object uploaded.
    w.sync(&[
        "--allow-lua-os-library",
        "--filter-callback-lua-script",
        &writer,
        &s(&src),
        &w.url("w/"),
    ])
    .assert_code(0);
    assert_eq!(keys(&w, "w/").len(), 4);
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(written, "drop/c.txtkeep/a.txtkeep/b.bintop.txt");
}

#[test]
fn the_memory_limit_stops_a_hungry_script() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    let hungry = script(
        &w,
        "hungry.lua",
        "function filter(o) local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end end",
    );
    let run = w.sync(&[
        "--lua-vm-memory-limit",
        "4MiB",
        "--filter-callback-lua-script",
        &hungry,
        &s(&src),
        &w.url("m/"),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("hungry.lua: the Lua VM ran out of memory: its limit is 4.00 MiB"),
        "{}",
        run.stderr
    );
    assert!(keys(&w, "m/").is_empty());
    // One 100 MiB string: over the default 64 MiB, fine without a limit.
    let big = script(
        &w,
        "big.lua",
        "function filter(o) return #(('x'):rep(100 * 1024 * 1024)) > 0 end",
    );
    let run = w.sync(&["--filter-callback-lua-script", &big, &s(&src), &w.url("m/")]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("its limit is 64.00 MiB"),
        "{}",
        run.stderr
    );
    w.sync(&[
        "--lua-vm-memory-limit",
        "0",
        "--filter-callback-lua-script",
        &big,
        &s(&src),
        &w.url("m/"),
    ])
    .assert_code(0);
    assert_eq!(keys(&w, "m/").len(), 4);
}

#[test]
fn the_time_limit_stops_an_endless_filter() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    for (name, body) in [
        ("loop.lua", "function filter(o) while true do end end"),
        (
            "stubborn.lua",
            "function filter(o) while true do pcall(function() while true do end end) end end",
        ),
    ] {
        let endless = script(&w, name, body);
        let started = Instant::now();
        let run = w.sync(&[
            "--lua-callback-timeout-milliseconds",
            "500",
            "--filter-callback-lua-script",
            &endless,
            &s(&src),
            &w.url("t/"),
        ]);
        run.assert_code(1);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{name}: {:?}",
            started.elapsed()
        );
        assert!(
            run.stderr.contains(&format!(
                "{name}: filter() ran longer than the 500 ms time limit"
            )),
            "{}",
            run.stderr
        );
    }
    // The top level runs under the limit too, when the script is loaded.
    let top = script(
        &w,
        "top.lua",
        "while true do end function filter() return true end",
    );
    let run = w.sync(&[
        "--lua-callback-timeout-milliseconds",
        "300",
        "--filter-callback-lua-script",
        &top,
        &s(&src),
        &w.url("t/"),
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("time limit"), "{}", run.stderr);
    assert!(keys(&w, "t/").is_empty());
}

#[test]
fn scripts_that_do_not_load_stop_the_run_with_one_line() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    let cases = [
        (
            "syntax.lua",
            "function filter(o",
            2,
            "syntax.lua: syntax error: syntax.lua:1:",
        ),
        (
            "empty.lua",
            "x = 1",
            2,
            "empty.lua: the script defines no function filter()",
        ),
        (
            "fails.lua",
            "error('not today')",
            2,
            "fails.lua: fails.lua:1: not today",
        ),
    ];
    for (name, text, code, message) in cases {
        let path = script(&w, name, text);
        let run = w.sync(&[
            "--filter-callback-lua-script",
            &path,
            &s(&src),
            &w.url("l/"),
        ]);
        run.assert_code(code);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr
                .starts_with("s3sync: error: --filter-callback-lua-script: ")
                && run.stderr.contains(message),
            "{}",
            run.stderr
        );
    }
    // An unreadable path is a bad option value.
    let missing = s(&w.path("scripts/missing.lua"));
    let run = w.sync(&[
        "--event-callback-lua-script",
        &missing,
        &s(&src),
        &w.url("l/"),
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    assert!(keys(&w, "l/").is_empty());
}

#[test]
fn an_event_script_hears_the_whole_run() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    write_file(&src.join("a.txt"), b"aaa");
    write_file(&src.join("b.txt"), b"bb");
    write_file(&src.join("old/x.txt"), b"x");
    w.put("e/gone.txt", b"stale");
    let log = w.path("events.txt");
    let listener = script(
        &w,
        "events.lua",
        &format!(
            r#"
            function on_event(e)
              local f = assert(io.open([[{}]], "a"))
              if e.event_type == 32768 then
                f:write("STATS_REPORT transferred=", e.stats_transferred_object,
                        " deleted=", e.stats_deleted, "\n")
              else
                f:write(e.event_name, " ", tostring(e.key), " ", tostring(e.dry_run),
                        " ", tostring(e.byte_written or e.message or e.source_etag), "\n")
              end
              f:close()
            end"#,
            s(&log)
        ),
    );
    let run = w.sync(&[
        "--json-tracing",
        "--allow-lua-os-library",
        "--delete",
        "--filter-exclude-regex",
        "^old/",
        "--event-callback-lua-script",
        &listener,
        &s(&src),
        &w.url("e/"),
    ]);
    run.assert_code(0);
    assert_eq!(keys(&w, "e/"), vec!["a.txt", "b.txt"]);
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("events: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("PIPELINE_START nil false nil"));
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "PIPELINE_END nil false nil",
            "STATS_REPORT transferred=2 deleted=1"
        ]
    );
    let md5_a = format!("\"{}\"", md5_hex(b"aaa"));
    for expected in [
        "SYNC_START a.txt false nil".to_string(),
        "SYNC_WRITE a.txt false 3".to_string(),
        "SYNC_COMPLETE a.txt false nil".to_string(),
        format!("SYNC_ETAG_VERIFIED a.txt false {}", md5_a.trim_matches('"')),
        "SYNC_COMPLETE b.txt false nil".to_string(),
        "SYNC_FILTERED old/x.txt false filtered by --filter-exclude-regex".to_string(),
        "SYNC_DELETE gone.txt false nil".to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "{expected} not in:\n{text}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("SYNC_COMPLETE"))
            .count(),
        2
    );

    // A dry run says so in every event.
    write_file(&src.join("c.txt"), b"c");
    std::fs::remove_file(&log).unwrap_or_else(|e| panic!("rm events: {e}"));
    w.sync(&[
        "--dry-run",
        "--allow-lua-os-library",
        "--event-callback-lua-script",
        &listener,
        &s(&src),
        &w.url("e/"),
    ])
    .assert_code(0);
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("events: {e}"));
    assert!(text.contains("SYNC_COMPLETE c.txt true nil\n"), "{text}");
    assert!(!text.contains(" false "), "{text}");
    assert!(!keys(&w, "e/").contains(&"c.txt".to_string()));
}

#[test]
fn event_script_errors_only_warn() {
    let w = World::new(Kind::S3sFs);
    let src = tree(&w);
    let failing = script(
        &w,
        "failing.lua",
        "function on_event(e) error('listener down: ' .. e.event_name) end",
    );
    let run = w.sync(&[
        "--json-tracing",
        "--event-callback-lua-script",
        &failing,
        &s(&src),
        &w.url("f/"),
    ]);
    run.assert_code(3);
    assert_eq!(run.summary("transferred_object"), 4);
    assert_eq!(run.summary("error"), 0);
    assert!(run.summary("warning") >= 4, "{}", run.stdout);
    assert!(
        run.stdout.contains("event callback failed: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("failing.lua:1: listener down: SYNC_COMPLETE"),
        "{}",
        run.stdout
    );
    assert_eq!(keys(&w, "f/").len(), 4);
    for (name, seed, len) in [("keep/a.txt", 1, 100), ("top.txt", 4, 400)] {
        assert_eq!(
            md5_hex(&w.get(&format!("f/{name}"))),
            md5_hex(&data(len, seed))
        );
    }
}
