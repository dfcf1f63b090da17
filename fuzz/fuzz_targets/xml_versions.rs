//! The versioning parsers (ListObjectVersions pages, GetBucketVersioning answers) must turn
//! any input into a value or an error, never a panic, a hang or unbounded memory. Run with
//! `cargo fuzz run xml_versions` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3sync::s3::xml::versions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(page) = versions::parse_list_object_versions(text) {
        // A truncated page always says where the next one starts.
        assert!(!page.is_truncated || page.next_key_marker.is_some());
        for v in &page.versions {
            assert!(!v.version_id.is_empty());
            assert!(!v.delete_marker || v.etag.is_none());
        }
    }
    let _ = versions::parse_bucket_versioning(text);
});
