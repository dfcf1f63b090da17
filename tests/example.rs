//! The library example (`examples/library_sync.rs`) is compiled into this test and run: it
//! must keep building and doing what it says.

#[path = "../examples/library_sync.rs"]
mod library_sync;

#[test]
fn the_library_example_syncs_with_its_rust_callbacks() {
    library_sync::main().unwrap_or_else(|e| panic!("example: {e}"));

    let dir = std::env::temp_dir().join(format!("s3sync-example-test-{}", std::process::id()));
    let demo = library_sync::sync_demo(&dir).unwrap_or_else(|e| panic!("{e}"));
    let read = |name: &str| std::fs::read(demo.target.join(name)).ok();
    let (today, cat, draft) = (
        read("notes/today.txt"),
        read("photos/cat.jpg"),
        read("draft.tmp"),
    );
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(today.as_deref(), Some(&b"buy milk\n"[..]));
    assert_eq!(cat.as_deref(), Some(&[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3][..]));
    assert_eq!(draft, None, "the filter left it out");
    let stats = demo.report.stats;
    assert_eq!(
        (stats.transferred_objects, stats.skipped, stats.errors),
        (2, 1, 0)
    );
    assert_eq!(
        demo.events.first().map(String::as_str),
        Some("PIPELINE_START")
    );
    assert_eq!(demo.events.last().map(String::as_str), Some("STATS_REPORT"));
    for expected in [
        "SYNC_FILTERED draft.tmp",
        "SYNC_START notes/today.txt",
        "SYNC_COMPLETE notes/today.txt",
        "SYNC_COMPLETE photos/cat.jpg",
    ] {
        assert!(
            demo.events.iter().any(|e| e == expected),
            "{expected}: {:?}",
            demo.events
        );
    }
}
