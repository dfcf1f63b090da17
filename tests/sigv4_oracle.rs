//! Our SigV4 signer against the AWS SDK's (`aws-sigv4`, S3 settings) on S3-shaped requests.
//!
//! Each request is built the way `Client::send_once` builds it: the path from
//! `s3::endpoint::address` (`/bucket/` + `uri_encode(key, true)` in path style), the query
//! string on the URL from `sign::canonical_query`, and the signed headers `host`, `x-amz-date`,
//! `x-amz-content-sha256`, `x-amz-security-token` (with a session token) plus the request's own.
//! `aws-sigv4` gets the same URL and the request's own headers and adds date, payload hash and
//! token itself, with S3's settings: single percent-encoding, no path normalisation, the
//! `x-amz-content-sha256` header. The whole `Authorization` header must be equal, and so must
//! the values of the headers both sides add.
//!
//! The object-key encoding is also checked against the SDK's own S3 key encoder
//! (`aws_smithy_http::label::fmt_string` with the greedy strategy), since both signers take
//! the path as given and could not disagree about it.
//!
//! One deliberate difference: we trim tabs as well as spaces from the edges of header values
//! (an HTTP parser strips both before the server signs), aws-sigv4 only spaces; see
//! `edge_tabs_are_trimmed_as_http_parsers_do`.

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign as aws_sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_http::label::{EncodingStrategy, fmt_string as sdk_label_encode};
use s3sync::s3::endpoint::{Address, Endpoint, address};
use s3sync::s3::sign::{self, Credentials, EMPTY_SHA256, SigningInput, UNSIGNED_PAYLOAD};
use s3sync::util::encoding::{hex, uri_encode};
use s3sync::util::time::Timestamp;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
enum Body {
    /// No body: the empty-string hash.
    Empty,
    /// A body we hash (`SignableBody::Bytes` on the oracle side).
    Bytes(Vec<u8>),
    /// A streamed body whose hash is known up front (`SignableBody::Precomputed`).
    Precomputed(Vec<u8>),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
}

#[derive(Debug, Clone)]
struct Case {
    label: String,
    method: &'static str,
    endpoint: &'static str,
    path_style: bool,
    bucket: String,
    key: Option<String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Body,
    session_token: Option<String>,
    region: &'static str,
    time: Timestamp,
}

impl Case {
    fn new(label: &str, key: Option<&str>) -> Case {
        Case {
            label: label.to_string(),
            method: "GET",
            endpoint: "http://127.0.0.1:9000",
            path_style: true,
            bucket: "my-bucket".to_string(),
            key: key.map(str::to_string),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            session_token: None,
            region: "us-east-1",
            time: at("2024-06-15T01:02:27.123Z"),
        }
    }
    fn method(mut self, m: &'static str) -> Case {
        self.method = m;
        self
    }
    fn query(mut self, k: &str, v: &str) -> Case {
        self.query.push((k.to_string(), v.to_string()));
        self
    }
    fn header(mut self, k: &str, v: &str) -> Case {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    fn body(mut self, b: Body) -> Case {
        self.body = b;
        self
    }
    fn token(mut self, t: &str) -> Case {
        self.session_token = Some(t.to_string());
        self
    }
    fn virtual_host(mut self, endpoint: &'static str) -> Case {
        self.endpoint = endpoint;
        self.path_style = false;
        self
    }
    fn path_style(mut self, endpoint: &'static str) -> Case {
        self.endpoint = endpoint;
        self.path_style = true;
        self
    }
    fn bucket(mut self, b: &str) -> Case {
        self.bucket = b.to_string();
        self
    }
    fn region(mut self, r: &'static str) -> Case {
        self.region = r;
        self
    }
    fn time(mut self, t: &str) -> Case {
        self.time = at(t);
        self
    }
}

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap_or_else(|| panic!("bad test time {rfc3339}"))
}

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// What a signer produced for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signed {
    authorization: String,
    signature: String,
    /// `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` as sent (absent: `None`).
    amz_headers: [Option<String>; 3],
}

fn payload_hash(body: &Body) -> String {
    match body {
        Body::Empty => EMPTY_SHA256.to_string(),
        Body::Bytes(b) | Body::Precomputed(b) => hex(&Sha256::digest(b)),
        Body::Unsigned => UNSIGNED_PAYLOAD.to_string(),
    }
}

fn case_address(case: &Case) -> Address {
    let endpoint = Endpoint::parse(case.endpoint)
        .unwrap_or_else(|e| panic!("{}: bad endpoint: {e}", case.label));
    address(
        &endpoint,
        &case.bucket,
        case.key.as_deref(),
        case.path_style,
    )
}

/// The URL our client sends: address plus `canonical_query` (so `+` is `%2B`, space `%20`).
fn case_url(case: &Case) -> String {
    let addr = case_address(case);
    let query = sign::canonical_query(&case.query);
    if query.is_empty() {
        addr.url()
    } else {
        format!("{}?{query}", addr.url())
    }
}

/// Our signer, given what `Client::send_once` gives it.
fn sign_ours(case: &Case) -> Signed {
    let addr = case_address(case);
    let payload_hash = payload_hash(&case.body);
    let amz_date = case.time.amz_date();
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_string(), addr.authority.clone()),
        ("x-amz-date".to_string(), amz_date.clone()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
    ];
    if let Some(token) = &case.session_token {
        headers.push(("x-amz-security-token".to_string(), token.clone()));
    }
    headers.extend(case.headers.iter().cloned());
    let input = SigningInput {
        method: case.method,
        canonical_uri: &addr.path,
        query: &case.query,
        headers: &headers,
        payload_hash: &payload_hash,
        region: case.region,
        service: "s3",
        time: case.time,
    };
    let creds = Credentials {
        access_key_id: AKID.to_string(),
        secret_access_key: SECRET.to_string(),
        session_token: case.session_token.clone(),
    };
    Signed {
        authorization: sign::authorization(&input, &creds),
        signature: sign::signature(&input, SECRET),
        amz_headers: [
            Some(amz_date),
            Some(payload_hash),
            case.session_token.clone(),
        ],
    }
}

/// aws-sigv4 with S3's settings, on the URL our client sends and the request's own headers.
fn sign_oracle(case: &Case) -> Signed {
    let url = case_url(case);
    let payload_hash = payload_hash(&case.body);
    let body = match &case.body {
        Body::Empty => SignableBody::Bytes(&[]),
        Body::Bytes(b) => SignableBody::Bytes(b),
        Body::Precomputed(_) => SignableBody::Precomputed(payload_hash),
        Body::Unsigned => SignableBody::UnsignedPayload,
    };
    let request = SignableRequest::new(
        case.method,
        url.as_str(),
        case.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body,
    )
    .unwrap_or_else(|e| panic!("{}: aws-sigv4 refused the URL {url:?}: {e}", case.label));
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.session_token_mode = SessionTokenMode::Include;
    settings.signature_location = SignatureLocation::Headers;
    let identity = AwsCredentials::new(
        AKID,
        SECRET,
        case.session_token.clone(),
        None,
        "sigv4-oracle",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(case.region)
        .name("s3")
        .time(case.time.to_system())
        .settings(settings)
        .build()
        .unwrap_or_else(|e| panic!("{}: aws-sigv4 signing params: {e}", case.label))
        .into();
    let (instructions, signature) = aws_sign(request, &params)
        .unwrap_or_else(|e| panic!("{}: aws-sigv4 failed to sign: {e}", case.label))
        .into_parts();
    let header = |name: &str| {
        instructions
            .headers()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
    };
    Signed {
        authorization: header("authorization").unwrap_or_default(),
        signature,
        amz_headers: [
            header("x-amz-date"),
            header("x-amz-content-sha256"),
            header("x-amz-security-token"),
        ],
    }
}

/// Signs `case` with both signers and checks the key encoding; returns our signature, or
/// every difference found.
fn compare(case: &Case) -> Result<String, String> {
    let mut problems = Vec::new();
    // Both signers take the path as given, so check its encoding against the AWS SDK's.
    if let Some(key) = &case.key {
        let ours_key = uri_encode(key, true);
        let sdk_key = sdk_label_encode(key, EncodingStrategy::Greedy);
        if ours_key != sdk_key {
            problems.push(format!(
                "key encoding: ours {ours_key:?}, AWS SDK {sdk_key:?}"
            ));
        }
        let addr = case_address(case);
        let virtual_host = addr.authority.starts_with(&format!("{}.", case.bucket));
        if case.path_style && virtual_host {
            problems.push(format!(
                "path style asked, address() gave host {}",
                addr.authority
            ));
        }
        // Path style: `/bucket/` + uri_encode(key, true), as the client sends it.
        let in_path = if virtual_host {
            format!("/{ours_key}")
        } else {
            format!("/{}/{ours_key}", case.bucket)
        };
        if addr.path != in_path {
            problems.push(format!(
                "path: address() gave {:?}, expected {in_path:?}",
                addr.path
            ));
        }
    }
    let ours = sign_ours(case);
    let oracle = sign_oracle(case);
    if ours.authorization != oracle.authorization {
        problems.push(format!(
            "Authorization\n  ours:   {}\n  oracle: {}",
            ours.authorization, oracle.authorization
        ));
    }
    if ours.signature != oracle.signature {
        problems.push(format!(
            "signature: ours {}, oracle {}",
            ours.signature, oracle.signature
        ));
    }
    if ours.amz_headers != oracle.amz_headers {
        problems.push(format!(
            "x-amz-date / x-amz-content-sha256 / x-amz-security-token: we send {:?}, \
             oracle wants {:?}",
            ours.amz_headers, oracle.amz_headers
        ));
    }
    if problems.is_empty() {
        Ok(ours.signature)
    } else {
        Err(format!(
            "{} ({} {}):\n  {}",
            case.label,
            case.method,
            case_url(case),
            problems.join("\n  ")
        ))
    }
}

/// Runs every case, then fails listing all mismatches. Returns the signatures.
fn assert_all_match(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut signatures = Vec::new();
    for case in cases {
        match compare(case) {
            Ok(sig) => signatures.push(sig),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests signed differently from aws-sigv4:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    signatures
}

// ---------------------------------------------------------------------------------------------

const TRICKY_KEYS: &[(&str, &str)] = &[
    ("plain", "photos/2024/summer.jpg"),
    ("space", "my photos/a b  c.jpg"),
    ("leading and trailing space", " padded "),
    ("plus", "a+b/c++.txt"),
    ("percent", "100%/50%25off/%2F/%"),
    ("sub-delims", "()!'*.txt"),
    ("tilde", "~user/file~name~"),
    ("equals and ampersand", "a=b&c=d/x&y=z"),
    ("slash runs", "a//b///c"),
    ("leading slash", "/leading"),
    ("trailing slash", "dir/sub/"),
    ("dot segments", "a/./b/../c/.."),
    ("only dots", ".."),
    ("question and hash", "what?/#hash"),
    ("gen-delims", "[x]{y}@host:port;a,b"),
    ("quotes and slashes", "say \"hi\"/back\\slash"),
    ("angle caret backtick pipe", "<a>^b`c|d"),
    ("dollar", "$HOME/$PATH"),
    ("nfc e-acute", "caf\u{e9}.txt"),
    ("nfd e + combining acute", "cafe\u{301}.txt"),
    ("cjk", "日本語/ファイル名.txt"),
    ("emoji", "😀/🚀 launch 🎉.txt"),
    ("rtl and nbsp", "שלום\u{a0}עולם"),
    ("control chars", "tab\there/newline\nhere"),
    (
        "unreserved only",
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    ),
];

#[test]
fn tricky_object_keys_match_the_oracle() {
    let mut cases = Vec::new();
    for (label, key) in TRICKY_KEYS {
        cases.push(Case::new(&format!("GET {label}"), Some(key)));
        cases.push(
            Case::new(&format!("PUT {label}"), Some(key))
                .method("PUT")
                .body(Body::Bytes(format!("content of {key}").into_bytes()))
                .header("content-type", "application/octet-stream"),
        );
        cases.push(
            Case::new(&format!("HEAD {label}, virtual host"), Some(key))
                .method("HEAD")
                .virtual_host("https://s3.eu-west-1.amazonaws.com"),
        );
    }
    let long_key = "k/".repeat(300) + "é" + &"x".repeat(400);
    cases.push(Case::new("1 KiB key", Some(&long_key)));
    let n = assert_all_match(&cases).len();
    println!("{n} tricky-key requests match aws-sigv4");
}

#[test]
fn nfc_and_nfd_keys_sign_differently_and_each_matches() {
    let nfc = "r\u{e9}sum\u{e9}.pdf";
    let nfd = "re\u{301}sume\u{301}.pdf";
    assert_ne!(nfc, nfd);
    assert_eq!(uri_encode(nfc, true), "r%C3%A9sum%C3%A9.pdf");
    assert_eq!(uri_encode(nfd, true), "re%CC%81sume%CC%81.pdf");
    let sigs = assert_all_match(&[Case::new("nfc", Some(nfc)), Case::new("nfd", Some(nfd))]);
    assert_eq!(sigs.len(), 2);
    assert_ne!(sigs[0], sigs[1], "NFC and NFD keys are different objects");
}

#[test]
fn s3_operations_with_queries_headers_and_payloads_match_the_oracle() {
    let md5_empty = "1B2M2Y8AsgTpgAEAjHD4tg==";
    let body = b"<Delete><Object><Key>a b</Key></Object></Delete>".to_vec();
    let big = vec![0x5au8; 64 * 1024];
    let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def==";
    let cases = vec![
        Case::new("ListObjectsV2 with special prefix and token", None)
            .query("list-type", "2")
            .query("prefix", "photos/ a+b%/caf\u{e9}/")
            .query("delimiter", "/")
            .query("encoding-type", "url")
            .query(
                "continuation-token",
                "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+&%",
            )
            .query("start-after", "a&b=c d")
            .query("max-keys", "1000")
            .query("fetch-owner", "true"),
        Case::new("ListObjectsV2 virtual host", None)
            .virtual_host("https://s3.us-west-2.amazonaws.com")
            .query("list-type", "2")
            .query("prefix", "日本/😀"),
        Case::new("CreateMultipartUpload (uploads=)", Some("big file.bin"))
            .method("POST")
            .query("uploads", "")
            .header("content-type", "application/octet-stream"),
        Case::new("UploadPart", Some("big file.bin"))
            .method("PUT")
            .query("partNumber", "3")
            .query(
                "uploadId",
                "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--~a.b_c+d/e=",
            )
            .body(Body::Precomputed(big.clone())),
        Case::new("UploadPart unsigned payload", Some("big file.bin"))
            .method("PUT")
            .query("partNumber", "10000")
            .query("uploadId", "abc")
            .body(Body::Unsigned),
        Case::new("CompleteMultipartUpload", Some("big file.bin"))
            .method("POST")
            .query("uploadId", "abc def")
            .body(Body::Bytes(b"<CompleteMultipartUpload/>".to_vec())),
        Case::new("ListParts", Some("k"))
            .query("uploadId", "u")
            .query("part-number-marker", "2")
            .query("max-parts", "100"),
        Case::new("DeleteObjects with content-md5", None)
            .method("POST")
            .query("delete", "")
            .header("content-md5", "kQpFVvE1LQnIuvO7ZUuUhQ==")
            .header("content-type", "application/xml")
            .body(Body::Bytes(body)),
        Case::new("GetObject range", Some("video.mp4")).header("range", "bytes=0-1048575"),
        Case::new("GetObject versionId", Some("v"))
            .query(
                "versionId",
                "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
            )
            .header("if-none-match", "\"0123456789abcdef\""),
        Case::new("PUT empty body", Some("empty"))
            .method("PUT")
            .header("content-md5", md5_empty),
        Case::new("PUT real body", Some("a/b.txt"))
            .method("PUT")
            .body(Body::Bytes(b"hello world\n".to_vec()))
            .header("content-type", "text/plain; charset=utf-8"),
        Case::new("PUT unsigned payload", Some("a/b.txt"))
            .method("PUT")
            .body(Body::Unsigned),
        Case::new("session token", Some("secret/file"))
            .token(token)
            .header("range", "bytes=5-"),
        Case::new("session token, virtual host, PUT", Some("secret/file"))
            .virtual_host("https://s3.amazonaws.com")
            .method("PUT")
            .token(token)
            .body(Body::Bytes(vec![1, 2, 3])),
        Case::new("header value space runs", Some("k"))
            .method("PUT")
            .header("x-amz-meta-note", "  several   spaces    inside  ")
            .header("content-type", "text/plain;   charset=utf-8 ")
            .header("x-amz-meta-only-spaces", "    "),
        Case::new("unicode spaces at the edges and tabs inside", Some("k"))
            .method("PUT")
            .header("x-amz-meta-nbsp", "\u{a0}value\u{a0}")
            .header("x-amz-meta-ideographic", "\u{3000}值\u{3000}")
            .header("x-amz-meta-tabs", "a\tb \t c"),
        Case::new("repeated header", Some("k"))
            .header("x-amz-meta-multi", "b")
            .header("x-amz-meta-multi", " a ")
            .header("x-amz-meta-multi", "c  c"),
        Case::new("mixed-case header names", Some("k"))
            .header("Content-Type", "text/html")
            .header("X-Amz-Meta-Camel", "Value"),
        Case::new("request payer and copy source", Some("dst key"))
            .method("PUT")
            .header("x-amz-request-payer", "requester")
            .header(
                "x-amz-copy-source",
                &format!("/src-bucket/{}", uri_encode("src key+é", true)),
            )
            .header("x-amz-metadata-directive", "COPY"),
        Case::new("query keys whose order changes when encoded", None)
            .query("a", "1")
            .query("A", "2")
            .query("a-b", "3")
            .query("a_b", "4")
            .query("a.b", "5")
            .query("a~b", "6")
            .query("a b", "7")
            .query("a+b", "8")
            .query("a%b", "9")
            .query("é", "10")
            .query("a", "0"),
        Case::new("empty query names and values", None)
            .query("", "x")
            .query("tagging", "")
            .query("acl", ""),
        Case::new("bucket with dots over https (path style)", Some("k"))
            .virtual_host("https://s3.example.com")
            .bucket("my.dotted.bucket"),
        Case::new("explicit path style on AWS", Some("k/é"))
            .path_style("https://s3.us-east-1.amazonaws.com"),
        Case::new("other region, port, date", Some("k"))
            .virtual_host("https://minio.example.com:8443")
            .region("ap-southeast-2")
            .time("2031-12-31T23:59:59Z"),
        Case::new("leap day, IPv6 endpoint", Some("k"))
            .path_style("http://[::1]:9000")
            .time("2024-02-29T12:00:00Z"),
    ];
    let n = assert_all_match(&cases).len();
    println!("{n} S3-operation requests match aws-sigv4");
}

// ---------------------------------------------------------------------------------------------
// Generated requests

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Pieces of keys and query values: reserved and unreserved ASCII, percent signs that look
/// like escapes, slash runs, dot segments, NFC/NFD pairs, other scripts, emoji, controls.
const ALPHABET: &[&str] = &[
    "a",
    "Z",
    "0",
    "9",
    "-",
    "_",
    ".",
    "~",
    " ",
    "  ",
    "+",
    "%",
    "%20",
    "%2F",
    "%zz",
    "/",
    "//",
    "///",
    "./",
    "../",
    "=",
    "&",
    "?",
    "#",
    "(",
    ")",
    "!",
    "'",
    "*",
    ",",
    ";",
    ":",
    "@",
    "$",
    "[",
    "]",
    "{",
    "}",
    "|",
    "\\",
    "^",
    "`",
    "\"",
    "<",
    ">",
    "\t",
    "\u{7f}",
    "é",
    "e\u{301}",
    "ß",
    "ø",
    "Å",
    "A\u{30a}",
    "日",
    "本",
    "ﬁ",
    "\u{a0}",
    "\u{200b}",
    "\u{feff}",
    "😀",
    "🚀",
    "👩\u{200d}💻",
    "🇫🇷",
    "\u{10ffff}",
];

/// Header-value pieces: visible ASCII and spaces (runs, leading, trailing) and a little UTF-8.
const VALUE_ALPHABET: &[&str] = &[
    "a", "B", "7", " ", "  ", "   ", "-", "=", ";", ",", "\"", "/", ":", "é", "\u{a0}", "\u{3000}",
];

fn word(rng: &mut Rng, alphabet: &[&str], max_pieces: usize) -> String {
    let n = 1 + rng.below(max_pieces);
    (0..n).map(|_| *rng.pick(alphabet)).collect()
}

fn generated_case(rng: &mut Rng, i: usize) -> Case {
    let key = word(rng, ALPHABET, 12);
    let mut case = Case::new(&format!("generated #{i}"), Some(&key));
    case.method = *rng.pick(&["GET", "PUT", "HEAD", "DELETE", "POST"]);
    case.bucket = rng
        .pick(&[
            "my-bucket",
            "bucket.with.dots",
            "b1",
            "a-very-long-bucket-name-0123456789",
        ])
        .to_string();
    case.endpoint = *rng.pick(&[
        "http://127.0.0.1:9000",
        "http://localhost:4566",
        "https://s3.us-east-1.amazonaws.com",
        "https://storage.example.com:8443",
        "http://[::1]:9000",
    ]);
    case.path_style = rng.chance(50);
    case.region = *rng.pick(&["us-east-1", "eu-central-1", "auto", "garage"]);
    // Any second from 1970 to 2100.
    case.time = Timestamp {
        secs: (rng.next() % 4_102_444_800) as i64,
        nanos: (rng.next() % 1_000_000_000) as u32,
    };
    for _ in 0..rng.below(4) {
        let name = if rng.chance(60) {
            rng.pick(&[
                "list-type",
                "prefix",
                "continuation-token",
                "uploads",
                "uploadId",
                "partNumber",
                "versionId",
            ])
            .to_string()
        } else {
            word(rng, ALPHABET, 4)
        };
        let value = if rng.chance(20) {
            String::new()
        } else {
            word(rng, ALPHABET, 8)
        };
        case.query.push((name, value));
    }
    for _ in 0..rng.below(4) {
        let name = rng
            .pick(&[
                "content-type",
                "content-md5",
                "range",
                "x-amz-meta-a",
                "x-amz-meta-b",
                "X-Amz-Meta-Mixed",
                "if-match",
            ])
            .to_string();
        let mut value = word(rng, VALUE_ALPHABET, 10);
        // Tabs at the trimmed edges are the one known, deliberate difference (see
        // `edge_tabs_are_trimmed_as_http_parsers_do`): keep them inside the value here.
        let core = value.trim_matches(' ');
        if core.starts_with('\t') || core.ends_with('\t') {
            value = format!("<{value}>");
        }
        case.headers.push((name, value));
    }
    case.body = match rng.below(4) {
        0 => Body::Empty,
        1 => Body::Bytes(word(rng, ALPHABET, 40).into_bytes()),
        2 => Body::Precomputed(word(rng, ALPHABET, 40).into_bytes()),
        _ => Body::Unsigned,
    };
    if rng.chance(25) {
        case.session_token = Some(format!("FwoGZXIvYXdzE{}/+=", rng.next()));
    }
    case
}

const GENERATED: usize = 400;

#[test]
fn generated_requests_match_the_oracle() {
    let mut rng = Rng(0x5333_5359_4e43_0001);
    let cases: Vec<Case> = (0..GENERATED)
        .map(|i| generated_case(&mut rng, i))
        .collect();
    let distinct_keys: std::collections::BTreeSet<&str> =
        cases.iter().filter_map(|c| c.key.as_deref()).collect();
    assert!(
        distinct_keys.len() > GENERATED * 9 / 10,
        "the generator repeats itself: {} distinct keys of {GENERATED}",
        distinct_keys.len()
    );
    let n = assert_all_match(&cases).len();
    assert_eq!(n, GENERATED);
    println!("{n} generated requests match aws-sigv4");
}

/// The one place we knowingly differ from aws-sigv4: it trims only spaces from header values,
/// we trim spaces and tabs, the optional whitespace an HTTP parser removes from a field value
/// before the server builds its canonical request. So ours for `"\t v \t"` must equal the
/// oracle for `"v"`, the value the server sees.
#[test]
fn edge_tabs_are_trimmed_as_http_parsers_do() {
    let sent = Case::new("tabs", Some("k")).header("content-type", "\t text/plain \t");
    let seen = Case::new("tabs", Some("k")).header("content-type", "text/plain");
    assert_eq!(sign_ours(&sent), sign_oracle(&seen));
    assert_eq!(sign_ours(&sent), sign_ours(&seen));
    assert_ne!(
        sign_oracle(&sent).authorization,
        sign_oracle(&seen).authorization,
        "aws-sigv4 now trims tabs too: the generator's tab workaround can go"
    );
}

/// The comparison must be able to fail: our signature of a request and the oracle's of a
/// slightly different one (one byte of key, query, header, token, time, region, body) differ.
#[test]
fn the_comparison_sees_one_byte_changes() {
    let base = Case::new("base", Some("a b"))
        .method("PUT")
        .query("partNumber", "1")
        .header("content-type", "text/plain")
        .body(Body::Bytes(b"x".to_vec()));
    let ours = sign_ours(&base);
    assert_eq!(ours, sign_oracle(&base), "the base request must match");
    let variants = [
        Case {
            key: Some("a+b".to_string()),
            ..base.clone()
        },
        base.clone().query("partNumber", "1"),
        Case {
            query: vec![("partNumber".to_string(), "2".to_string())],
            ..base.clone()
        },
        Case {
            headers: vec![("content-type".to_string(), "text/plaiN".to_string())],
            ..base.clone()
        },
        base.clone().token("t"),
        base.clone().time("2024-06-15T01:02:28Z"),
        base.clone().region("us-east-2"),
        base.clone().body(Body::Bytes(b"y".to_vec())),
        base.clone().body(Body::Unsigned),
        base.clone().method("POST"),
        base.clone().bucket("my-bucket2"),
    ];
    for v in &variants {
        assert_ne!(
            ours.authorization,
            sign_oracle(v).authorization,
            "a change went unnoticed: {v:?}"
        );
    }
}
