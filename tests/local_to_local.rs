//! Local directory → local directory: no server needed.

mod common;

use common::{data, run, touch, write_file};

#[test]
fn copies_tree_with_mtimes_then_skips_then_deletes() {
    let dir = std::env::temp_dir().join(common::unique("l2l"));
    let src = dir.join("src");
    let dst = dir.join("dst");
    let files = [
        ("a", data(100, 1)),
        ("d/b", data(300_000, 2)),
        ("d/e/empty", Vec::new()),
        ("☃ x", data(5, 3)),
    ];
    for (k, v) in &files {
        write_file(&src.join(k), v);
    }
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.push(src.display().to_string());
        v.push(dst.display().to_string());
        v
    };
    let first = run(&args(&["--json-tracing"]), &[]);
    first.assert_code(0);
    assert_eq!(first.summary("transferred_object"), files.len() as u64);
    for (k, v) in &files {
        assert_eq!(std::fs::read(dst.join(k)).ok().as_ref(), Some(v), "{k}");
        let m = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        assert_eq!(m(&dst.join(k)), m(&src.join(k)), "mtime of {k}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dst.join("d"))
        .map(|r| {
            r.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|n: &String| n.starts_with(".s3sync-tmp")),
        "{leftovers:?}"
    );

    let second = run(&args(&["--json-tracing"]), &[]);
    second.assert_code(0);
    assert_eq!(second.summary("transferred_object"), 0);
    assert_eq!(second.summary("skipped"), files.len() as u64);

    write_file(&src.join("a"), b"changed");
    touch(&src.join("a"), 5);
    write_file(&dst.join("stray"), b"s");
    let third = run(&args(&["--json-tracing", "--delete"]), &[]);
    third.assert_code(0);
    assert_eq!(third.summary("transferred_object"), 1);
    assert_eq!(third.summary("deleted"), 1);
    assert_eq!(std::fs::read(dst.join("a")).ok(), Some(b"changed".to_vec()));
    assert!(!dst.join("stray").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn target_inside_source_is_refused() {
    let dir = std::env::temp_dir().join(common::unique("inside"));
    write_file(&dir.join("f"), b"x");
    std::fs::create_dir_all(dir.join("sub")).unwrap_or_else(|e| panic!("{e}"));
    write_file(&dir.join("sub/keep"), b"k");
    let cases = [
        (dir.clone(), dir.join("backup/new")),
        (dir.clone(), dir.clone()),
        (dir.clone(), dir.join("backup")),
        (dir.join("sub"), dir.clone()),
    ];
    for (source, target) in cases {
        let r = run(
            &[
                "--delete".to_string(),
                source.display().to_string(),
                target.display().to_string(),
            ],
            &[],
        );
        r.assert_code(2);
        assert!(r.stderr.contains("inside"), "{}", r.stderr);
        assert!(!dir.join("backup").exists(), "nothing may be written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
