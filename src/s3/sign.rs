//! AWS Signature Version 4 for S3, header form.
//!
//! The canonical URI is taken exactly as the caller sends it: S3 wants object keys
//! percent-encoded once (never normalised, never double-encoded), so the client encodes the key
//! with [`crate::util::encoding::uri_encode`] and passes the same string here and on the wire.

use sha2::{Digest, Sha256};

use crate::util::encoding::{hex, uri_encode};
use crate::util::time::Timestamp;

/// SHA-256 of the empty string, the payload hash of every bodiless request.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Payload hash value that tells S3 the body is not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A set of AWS credentials. `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Everything that goes into one signature.
#[derive(Debug, Clone)]
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// The path as sent on the wire, starting with `/`.
    pub canonical_uri: &'a str,
    /// Query parameters, not encoded (the signer encodes them).
    pub query: &'a [(String, String)],
    /// Headers to sign (must include `host`, and `x-amz-date` / `x-amz-content-sha256` as sent).
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub time: Timestamp,
}

pub use crate::http::hmac::hmac_sha256;

/// Query string in canonical form: names and values encoded, sorted by name then value.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Trims a header value and folds runs of spaces into one, as the spec asks.
///
/// Only spaces and tabs are trimmed: they are the whitespace an HTTP parser strips from a field
/// value, so the server signs what is left. `str::trim` would also strip Unicode spaces
/// (U+00A0, U+3000, ...) that the server and the AWS SDKs keep as part of the value.
fn canonical_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut last_space = false;
    for c in value.trim_matches([' ', '\t']).chars() {
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out
}

/// Returns the canonical request and the signed-headers list.
pub fn canonical_request(input: &SigningInput<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), canonical_header_value(v)))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated headers are signed as one comma-joined value.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        match merged.last_mut() {
            Some(last) if last.0 == k => {
                last.1.push(',');
                last.1.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let signed: Vec<&str> = merged.iter().map(|(k, _)| k.as_str()).collect();
    let signed_headers = signed.join(";");
    let mut canonical = String::with_capacity(256);
    canonical.push_str(input.method);
    canonical.push('\n');
    canonical.push_str(input.canonical_uri);
    canonical.push('\n');
    canonical.push_str(&canonical_query(input.query));
    canonical.push('\n');
    for (k, v) in &merged {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    canonical.push_str(input.payload_hash);
    (canonical, signed_headers)
}

fn scope(input: &SigningInput<'_>) -> String {
    let date = &input.time.amz_date()[..8];
    format!("{date}/{}/{}/aws4_request", input.region, input.service)
}

/// The string to sign for a canonical request.
pub fn string_to_sign(input: &SigningInput<'_>, canonical: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        input.time.amz_date(),
        scope(input),
        hex(&Sha256::digest(canonical.as_bytes()))
    )
}

/// The derived signing key for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Hex signature of `input` under `secret`.
pub fn signature(input: &SigningInput<'_>, secret: &str) -> String {
    let (canonical, _) = canonical_request(input);
    let sts = string_to_sign(input, &canonical);
    let key = signing_key(
        secret,
        &input.time.amz_date()[..8],
        input.region,
        input.service,
    );
    hex(&hmac_sha256(&key, sts.as_bytes()))
}

/// The last derived signing key, reused while the day, region, service and secret stay the
/// same: deriving it takes four HMACs, a fifth of a small upload's client CPU (callgrind).
#[derive(Default)]
pub struct KeyCache {
    last: std::sync::Mutex<Option<CachedKey>>,
}

struct CachedKey {
    date: String,
    region: String,
    service: String,
    secret: String,
    key: [u8; 32],
}

impl KeyCache {
    fn key(&self, secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
        if let Ok(last) = self.last.lock()
            && let Some(c) = last.as_ref()
            && c.date == date
            && c.region == region
            && c.service == service
            && c.secret == secret
        {
            return c.key;
        }
        let key = signing_key(secret, date, region, service);
        if let Ok(mut last) = self.last.lock() {
            *last = Some(CachedKey {
                date: date.to_string(),
                region: region.to_string(),
                service: service.to_string(),
                secret: secret.to_string(),
                key,
            });
        }
        key
    }
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCache(<redacted>)")
    }
}

/// The value of the `Authorization` header.
pub fn authorization(input: &SigningInput<'_>, creds: &Credentials) -> String {
    authorization_cached(input, creds, &KeyCache::default())
}

/// [`authorization`], reusing the signing key kept in `cache`.
pub fn authorization_cached(
    input: &SigningInput<'_>,
    creds: &Credentials,
    cache: &KeyCache,
) -> String {
    let (canonical, signed_headers) = canonical_request(input);
    let sts = string_to_sign(input, &canonical);
    let key = cache.key(
        &creds.secret_access_key,
        &input.time.amz_date()[..8],
        input.region,
        input.service,
    );
    let sig = hex(&hmac_sha256(&key, sts.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed_headers}, Signature={sig}",
        creds.access_key_id,
        scope(input)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_hashes_long_keys() {
        // RFC 4231 case 6: 131-byte key.
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// The GET-object example of the S3 SigV4 documentation (examplebucket, test.txt, range).
    #[test]
    fn matches_the_documented_s3_get_example() {
        let time = Timestamp::parse_rfc3339("2013-05-24T00:00:00Z").unwrap_or_default();
        let headers = vec![
            (
                "host".to_string(),
                "examplebucket.s3.amazonaws.com".to_string(),
            ),
            ("range".to_string(), "bytes=0-9".to_string()),
            ("x-amz-content-sha256".to_string(), EMPTY_SHA256.to_string()),
            ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
        ];
        let input = SigningInput {
            method: "GET",
            canonical_uri: "/test.txt",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY_SHA256,
            region: "us-east-1",
            service: "s3",
            time,
        };
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        assert_eq!(
            authorization(&input, &creds),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        // The cached key gives the same signature, and a new secret (refreshed credentials)
        // or another day is never signed with a stale key.
        let cache = KeyCache::default();
        assert_eq!(
            authorization_cached(&input, &creds, &cache),
            authorization(&input, &creds)
        );
        let rotated = Credentials {
            secret_access_key: "another-secret".into(),
            ..creds.clone()
        };
        assert_eq!(
            authorization_cached(&input, &rotated, &cache),
            authorization(&input, &rotated)
        );
        assert_ne!(
            authorization(&input, &rotated),
            authorization(&input, &creds)
        );
        let next_day = SigningInput {
            time: Timestamp {
                secs: time.secs + 86_400,
                nanos: 0,
            },
            ..input
        };
        assert_eq!(
            authorization_cached(&next_day, &rotated, &cache),
            authorization(&next_day, &rotated)
        );
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        let q = vec![
            ("prefix".to_string(), "a b/c".to_string()),
            ("list-type".to_string(), "2".to_string()),
            ("encoding-type".to_string(), "url".to_string()),
            ("uploads".to_string(), String::new()),
        ];
        assert_eq!(
            canonical_query(&q),
            "encoding-type=url&list-type=2&prefix=a%20b%2Fc&uploads="
        );
    }

    #[test]
    fn header_values_trim_only_spaces_and_tabs() {
        assert_eq!(canonical_header_value("  a   b  "), "a b");
        assert_eq!(canonical_header_value(" \ta\t b \t"), "a\t b");
        assert_eq!(canonical_header_value("\u{a0}a\u{3000}"), "\u{a0}a\u{3000}");
        assert_eq!(canonical_header_value("   "), "");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "super-secret".into(),
            session_token: Some("tok-secret".into()),
        };
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("super-secret") && !shown.contains("tok-secret"),
            "{shown}"
        );
    }
}
