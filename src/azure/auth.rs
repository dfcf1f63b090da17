//! SharedKey authorization: an HMAC-SHA256, keyed with the decoded account key, over a
//! string built from the request (the REST reference's "Authorize with Shared Key"):
//!
//! ```text
//! VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
//! Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n
//! If-Unmodified-Since \n Range \n CanonicalizedHeaders CanonicalizedResource
//! ```
//!
//! - Content-Length is empty when it is zero (the rule since version 2015-02-21).
//! - Date is empty: we always send `x-ms-date`, which is signed among the headers instead.
//! - CanonicalizedHeaders: every `x-ms-*` header, name lower-cased, sorted by name, as
//!   `name:value\n` with the value trimmed of surrounding spaces (as the SDKs do).
//! - CanonicalizedResource: `/ACCOUNT` followed by the path exactly as sent (percent-encoded;
//!   on a path-style emulator endpoint it starts with the account again), then for each query
//!   parameter, names lower-cased and sorted, `\nname:value` with the decoded value (several
//!   values of one name sorted and joined with commas).
//!
//! The signature is computed at send time on every attempt, since `x-ms-date` changes.

use crate::http::hmac::hmac_sha256;
use crate::util::encoding::{base64, base64_decode};

/// A storage account name and its key (decoded). `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountKey {
    account: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountKey")
            .field("account", &self.account)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AccountKey {
    /// `key` is the base64 key the portal shows. The error never repeats it.
    pub fn new(account: &str, key: &str) -> Result<AccountKey, String> {
        let decoded = base64_decode(key.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                format!(
                    "the account key for '{account}' is not base64 (its value is not shown); \
                     copy key1 or key2 from the storage account's Access keys"
                )
            })?;
        Ok(AccountKey {
            account: account.to_string(),
            key: decoded,
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Base64 of the HMAC-SHA256 of `text` under this key.
    pub fn sign(&self, text: &str) -> String {
        base64(&hmac_sha256(&self.key, text.as_bytes()))
    }
}

/// What of a request goes into its SharedKey signature.
#[derive(Debug, Clone, Copy)]
pub struct Signable<'a> {
    pub method: &'a str,
    /// The path as sent, percent-encoded, starting with `/`.
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(String, String)],
    /// Every header sent (names in any case).
    pub headers: &'a [(String, String)],
}

impl Signable<'_> {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The standard headers of the string to sign, in its order.
const STANDARD_HEADERS: [&str; 11] = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// The string that `account`'s key signs for `req`.
pub fn string_to_sign(account: &str, req: &Signable<'_>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(&req.method.to_ascii_uppercase());
    out.push('\n');
    for name in STANDARD_HEADERS {
        let value = req.header(name);
        if !(name == "content-length" && value == "0") {
            out.push_str(value);
        }
        out.push('\n');
    }
    let mut ms: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim_matches([' ', '\t'])))
        .filter(|(n, _)| n.starts_with("x-ms-"))
        .collect();
    ms.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in ms {
        out.push_str(&name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('/');
    out.push_str(account);
    out.push_str(req.path);
    let mut params: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, value) in req.query {
        let name = name.to_ascii_lowercase();
        match params.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => params.push((name, vec![value])),
        }
    }
    params.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut values) in params {
        values.sort_unstable();
        out.push('\n');
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
    }
    out
}

/// The `Authorization` header value: `SharedKey ACCOUNT:SIGNATURE`.
pub fn authorization(key: &AccountKey, req: &Signable<'_>) -> String {
    let signature = key.sign(&string_to_sign(&key.account, req));
    format!("SharedKey {}:{signature}", key.account)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A Put Block List of a blob named `dir/a b+c.txt`, hand-worked. The string below was
    /// written out line by line from the rules in the module documentation (not produced by
    /// this code): method; Content-Encoding and -Language empty; Content-Length 120;
    /// Content-MD5 as sent; Content-Type; Date empty (x-ms-date is used); If-* empty; Range
    /// empty; the four x-ms-* headers sorted (note `x-ms-blob-content-md5` < `x-ms-date` <
    /// `x-ms-meta-Origin` lower-cased < `x-ms-version`, and the padded meta value trimmed);
    /// `/myaccount` + the encoded path; the query names sorted (`blockid` is absent; `comp`).
    /// The key is base64 of the 32 bytes 0x00..0x1f. The signature was computed outside Rust:
    /// `printf '%s' "$STRING" | openssl dgst -sha256 -mac HMAC -macopt
    /// hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -binary | base64`.
    #[test]
    fn shared_key_string_to_sign_matches_a_hand_worked_vector() {
        let headers = pairs(&[
            ("Content-Length", "120"),
            ("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="),
            ("Content-Type", "application/xml"),
            ("x-ms-version", "2025-01-05"),
            ("x-ms-date", "Mon, 06 Jan 2025 10:00:00 GMT"),
            ("x-ms-meta-Origin", "  laptop "),
            ("x-ms-blob-content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("host", "myaccount.blob.core.windows.net"),
        ]);
        let query = pairs(&[("comp", "blocklist")]);
        let req = Signable {
            method: "PUT",
            path: "/photos/dir/a%20b%2Bc.txt",
            query: &query,
            headers: &headers,
        };
        let expected = "PUT\n\n\n120\nQ2hlY2sgSW50ZWdyaXR5IQ==\napplication/xml\n\n\n\n\n\n\n\
                        x-ms-blob-content-md5:1B2M2Y8AsgTpgAmY7PhCfg==\n\
                        x-ms-date:Mon, 06 Jan 2025 10:00:00 GMT\n\
                        x-ms-meta-origin:laptop\n\
                        x-ms-version:2025-01-05\n\
                        /myaccount/photos/dir/a%20b%2Bc.txt\ncomp:blocklist";
        assert_eq!(string_to_sign("myaccount", &req), expected);
        let key_bytes: Vec<u8> = (0u8..32).collect();
        let key =
            AccountKey::new("myaccount", &base64(&key_bytes)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            authorization(&key, &req),
            "SharedKey myaccount:4xI+FCu2SjzPiXiLaC/Nz4NAX3z0/eN5Ik5tlj4mhls="
        );
    }

    #[test]
    fn zero_content_length_is_empty_and_query_values_are_grouped() {
        let headers = pairs(&[("content-length", "0"), ("x-ms-version", "2025-01-05")]);
        let query = pairs(&[
            ("restype", "container"),
            ("comp", "list"),
            ("include", "tags"),
            ("include", "metadata"),
            ("marker", "2!100!a b"),
        ]);
        let req = Signable {
            method: "get",
            path: "/devstoreaccount1/c",
            query: &query,
            headers: &headers,
        };
        let sts = string_to_sign("devstoreaccount1", &req);
        assert!(sts.starts_with("GET\n\n\n\n"), "{sts:?}");
        assert!(
            sts.ends_with(
                "x-ms-version:2025-01-05\n/devstoreaccount1/devstoreaccount1/c\ncomp:list\n\
                 include:metadata,tags\nmarker:2!100!a b\nrestype:container"
            ),
            "{sts:?}"
        );
    }

    #[test]
    fn keys_are_never_shown() {
        let key =
            AccountKey::new("acct", "c2VjcmV0LWtleS1ieXRlcw==").unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{key:?}").contains("c2VjcmV0"));
        let err = AccountKey::new("acct", "not*base64!")
            .err()
            .unwrap_or_default();
        assert!(err.contains("acct") && !err.contains("not*base64"), "{err}");
    }
}
