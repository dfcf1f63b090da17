//! Every parser of what a credential source sends back (credential_process output, container
//! and instance metadata JSON, STS XML) and of the settings we read (INI profiles, NO_PROXY)
//! must turn any input into a value or an error, never a panic, a hang or unbounded memory.
//! Run with `cargo fuzz run credential_documents` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3sync::s3::credentials::{container, files, json, process, sts};
use s3sync::s3::network::NoProxy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = json::parse(text);
    let _ = process::parse_output(text);
    let _ = container::parse_document(text);
    let _ = sts::parse_credentials(text, "AssumeRole");
    let _ = sts::parse_credentials(text, "AssumeRoleWithWebIdentity");
    let _ = files::parse_ini(text);
    let _ = NoProxy::parse(text).matches(text, 443);
});
