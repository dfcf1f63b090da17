//! Every parser of what the Blob service or the user hands the Azure client (List Blobs,
//! block lists, tags and error bodies; locations, SAS tokens and connection strings) must
//! turn any input into a value or an error, never a panic, a hang or unbounded memory.
//! Run with `cargo fuzz run azure_inputs` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3sync::azure::credentials::ConnectionString;
use s3sync::azure::location::{BlobLocation, ServiceEndpoint};
use s3sync::azure::sas::SasToken;
use s3sync::azure::xml;

fuzz_target!(|data: &[u8]| {
    let _ = xml::read_list_blobs(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = xml::parse_error(text);
    let _ = xml::parse_block_list(text);
    let _ = xml::parse_tags(text);
    let _ = BlobLocation::parse(text);
    let _ = ServiceEndpoint::parse(text);
    let _ = SasToken::parse(text);
    let _ = ConnectionString::parse(text);
});
