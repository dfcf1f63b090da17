//! Parallel listing keeps S3's key order: checked end to end, since the merge-join (and so
//! every skip and every deletion) depends on it.

mod common;

use common::{Kind, World, write_file};

const KEYS: &[&str] = &[
    "a-b",
    "a.b/c",
    "a/x",
    "a/y/z",
    "a/y/z0",
    "a/y-/q",
    "a/yy",
    "a0",
    "b/c/d/e/f",
    "b/c/d/e0",
    "b/c0",
    "dir-2/x",
    "dir.txt",
    "dir/sub/deeper/k",
    "dir/sub/k",
    "dir/x",
    "dir0",
    "z",
    "☃/snow",
    "☃0",
];

fn check(kind: Kind) {
    let w = World::new(kind);
    for k in KEYS {
        w.put(&format!("p/{k}"), k.as_bytes());
    }
    let down = w.path("down").display().to_string();
    for parallel in ["1", "4", "16"] {
        let dir = format!("{down}-{parallel}");
        let args = [
            "--json-tracing",
            "--max-parallel-listings",
            parallel,
            "--max-keys",
            "2",
        ];
        let mut first: Vec<&str> = args.to_vec();
        let url = w.url("p/");
        first.extend([url.as_str(), dir.as_str()]);
        let run = w.sync_from(&first);
        run.assert_code(0);
        assert_eq!(
            run.summary("transferred_object"),
            KEYS.len() as u64,
            "parallel {parallel}"
        );
        for k in KEYS {
            assert_eq!(
                std::fs::read(std::path::Path::new(&dir).join(k))
                    .ok()
                    .as_deref(),
                Some(k.as_bytes())
            );
        }
        // A second run, with --delete, must pair every key with its file.
        let mut again: Vec<&str> = vec!["--delete"];
        again.extend(first.iter().copied());
        let run = w.sync_from(&again);
        run.assert_code(0);
        assert_eq!(run.summary("transferred_object"), 0, "parallel {parallel}");
        assert_eq!(run.summary("deleted"), 0, "parallel {parallel}");
        assert_eq!(
            run.summary("skipped"),
            KEYS.len() as u64,
            "parallel {parallel}"
        );
    }
    // And the other way round: local → S3 lists the bucket as the target.
    let src = w.path("src");
    for k in KEYS {
        write_file(&src.join(k), k.as_bytes());
    }
    let url = w.url("p/");
    let s = src.display().to_string();
    let run = w.sync(&[
        "--json-tracing",
        "--max-parallel-listings",
        "8",
        "--max-keys",
        "3",
        "--delete",
        "--check-size",
        &s,
        &url,
    ]);
    run.assert_code(0);
    assert_eq!(run.summary("transferred_object"), 0);
    assert_eq!(run.summary("deleted"), 0);
}

#[test]
fn parallel_listing_keeps_key_order_on_s3s_fs() {
    check(Kind::S3sFs);
}

#[test]
fn parallel_listing_keeps_key_order_on_moto() {
    check(Kind::Moto);
}
