//! Every parser of S3 XML responses must turn any input into a value or an error, never a
//! panic, a hang or unbounded memory. Run with `cargo fuzz run xml_responses` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3sync::s3::xml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = xml::parse_tree(text);
    let _ = xml::parse_error(text);
    let _ = xml::parse_list_objects_v2(text);
    let _ = xml::parse_initiate_multipart(text);
    let _ = xml::parse_complete_multipart(text);
    let _ = xml::parse_delete_result(text);
});
