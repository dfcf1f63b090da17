//! AWS's SigV4 signing test suite, run against our signer (`s3sync::s3::sign`).
//!
//! The suite ships inside the source of the `aws-sigv4` dev-dependency
//! (`$CARGO_HOME/registry/src/*/aws-sigv4-*/aws-signing-test-suite/v4/<case>/`). Each case has a
//! raw HTTP request (`request.txt`), a `context.json` (credentials, region, service, timestamp
//! and flags) and the expected header-form canonical request, string to sign and signature.
//!
//! S3 signs the path exactly as sent: percent-encoded once, never normalised. Cases that need
//! path normalisation or double encoding (generic-service behaviour) are skipped by name, with
//! the reason, in [`SKIPPED`]. Everything else is checked, and at least [`MIN_CHECKED`] cases
//! must be, so the test fails if discovery or parsing silently breaks.

use std::path::{Path, PathBuf};

use s3sync::s3::sign::{self, Credentials, SigningInput};
use s3sync::util::encoding::{hex, percent_decode, uri_encode};
use s3sync::util::time::Timestamp;
use sha2::{Digest, Sha256};

/// The suite has 40 v4 cases; 8 are skipped below, so 32 are checked today.
const MIN_CHECKED: usize = 30;

const DOUBLE: &str = "double percent-encoding of the path (generic AWS services); S3 encodes once";
const NORMALISED: &str =
    "URI path normalisation ('.', '..', '//' rewritten); S3 signs the path as sent";

/// Cases that do not apply to S3 header signing, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("double-encode-path", DOUBLE),
    ("double-url-encode", DOUBLE),
    ("get-relative-normalized", NORMALISED),
    ("get-relative-relative-normalized", NORMALISED),
    ("get-slash-dot-slash-normalized", NORMALISED),
    ("get-slash-normalized", NORMALISED),
    ("get-slash-pointless-dot-normalized", NORMALISED),
    ("get-slashes-normalized", NORMALISED),
];

// ---------------------------------------------------------------------------------------------
// Locating the suite

fn cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Path::new(&home).join(".cargo"),
        None => panic!("neither CARGO_HOME nor HOME is set: cannot find cargo's registry"),
    }
}

/// `1.3.8` → `[1, 3, 8]`; anything unparsable sorts first.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// The aws-sigv4 version in our Cargo.lock, if it can be read.
fn locked_sigv4_version() -> Option<String> {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"aws-sigv4\"" {
            let version = lines.next()?.trim();
            return Some(
                version
                    .strip_prefix("version = \"")?
                    .strip_suffix('"')?
                    .to_string(),
            );
        }
    }
    None
}

/// `.../aws-sigv4-X/aws-signing-test-suite/v4`: the locked version if its source is there,
/// otherwise the newest unpacked version that ships the suite. Panics if there is none.
fn suite_dir() -> PathBuf {
    let src = cargo_home().join("registry").join("src");
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let registries = std::fs::read_dir(&src).unwrap_or_else(|e| {
        panic!(
            "cannot read cargo's registry sources at {} ({e}); the aws-sigv4 dev-dependency \
             must be fetched (cargo fetch) for the signing test suite",
            src.display()
        )
    });
    for registry in registries.flatten() {
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            let Some(version) = name.strip_prefix("aws-sigv4-") else {
                continue;
            };
            if !version.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let dir = krate.path().join("aws-signing-test-suite").join("v4");
            if dir.is_dir() {
                found.push((version.to_string(), dir));
            }
        }
    }
    if found.is_empty() {
        panic!(
            "no aws-sigv4-*/aws-signing-test-suite/v4 under {}/*/: cannot run the AWS SigV4 test \
             suite (is the aws-sigv4 dev-dependency fetched? is CARGO_HOME right?)",
            src.display()
        );
    }
    let locked = locked_sigv4_version();
    if let Some(pos) = found.iter().position(|(v, _)| Some(v) == locked.as_ref()) {
        return found.swap_remove(pos).1;
    }
    found.sort_by_key(|(v, _)| version_key(v));
    found.pop().map(|(_, dir)| dir).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A small JSON reader for context.json (objects, strings, booleans, numbers, null)

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key) {
            Some(Json::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    fields.push((key, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(fields));
                        }
                        _ => return Err(format!("bad object at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("bad array at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && !matches!(self.s[self.i], b',' | b'}' | b']')
                    && !self.s[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"true" => Ok(Json::Bool(true)),
                    b"false" => Ok(Json::Bool(false)),
                    b"null" => Ok(Json::Null),
                    n if !n.is_empty()
                        && n.iter().all(|b| b.is_ascii_digit() || b"+-.eE".contains(b)) =>
                    {
                        Ok(Json::Num(String::from_utf8_lossy(n).into_owned()))
                    }
                    _ => Err(format!("bad literal at byte {start}")),
                }
            }
            None => Err("unexpected end".to_string()),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(format!("expected a string at byte {}", self.i));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".to_string());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err("unterminated escape".to_string());
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex4 = self
                                .s
                                .get(self.i..self.i + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or("bad \\u escape")?;
                            self.i += 4;
                            char::from_u32(hex4).ok_or("\\u escape is not a scalar value")?
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing a case

struct SuiteRequest {
    method: String,
    /// Request target path, before any decoding (may hold raw spaces or UTF-8).
    path: String,
    /// Raw query string (after `?`), possibly empty.
    query: String,
    /// Headers in file order, names as written, values untrimmed.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_request(raw: &str) -> Result<SuiteRequest, String> {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = match raw.split_once("\n\n") {
        Some((h, b)) => (h.to_string(), b.as_bytes().to_vec()),
        None => (raw.trim_end_matches('\n').to_string(), Vec::new()),
    };
    let mut lines = head.lines();
    let request_line = lines.next().ok_or("empty request")?;
    let (method, rest) = request_line
        .split_once(' ')
        .ok_or("request line without a space")?;
    // The target may contain raw spaces ("GET /example space/ HTTP/1.1"): drop the version.
    let target = match rest.rsplit_once(' ') {
        Some((t, version)) if version.starts_with("HTTP/") => t,
        _ => {
            return Err(format!(
                "request line without an HTTP version: {request_line:?}"
            ));
        }
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // obs-fold: a continuation line joins the previous value with one space.
            let last = headers
                .last_mut()
                .ok_or("continuation line before any header")?;
            last.1.push(' ');
            last.1.push_str(line.trim_start_matches([' ', '\t']));
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line without ':': {line:?}"))?;
        headers.push((name.to_string(), value.to_string()));
    }
    Ok(SuiteRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
    })
}

/// Query pairs, decoded once (`%XX` only; the suite has no `+`), as our signer takes them.
fn decode_query(query: &str) -> Result<Vec<(String, String)>, String> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (percent_decode(k), percent_decode(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(format!("query pair {pair:?} does not decode to UTF-8")),
            }
        })
        .collect()
}

/// Whether RFC 3986 dot-segment removal and `//` collapsing would leave `path` unchanged, i.e.
/// whether a `"normalize": true` case is also an S3 (unnormalised) case.
fn normalisation_is_identity(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .all(|(i, s)| *s != "." && *s != ".." && (!s.is_empty() || i == last))
}

fn read_expected(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file))
        .map(|s| s.replace("\r\n", "\n").trim().to_string())
        .map_err(|e| format!("cannot read {file}: {e}"))
}

/// Checks one case; `Err` describes every mismatch (or why the case could not be run).
fn check_case(dir: &Path, name: &str) -> Result<(), String> {
    let context_text = read_expected(dir, "context.json")
        .map_err(|e| format!("{e} (unclassified case: add it to SKIPPED with a reason?)"))?;
    let ctx = JsonParser::parse(&context_text).map_err(|e| format!("context.json: {e}"))?;
    let creds_json = ctx
        .get("credentials")
        .ok_or("context.json: no credentials")?;
    let creds = Credentials {
        access_key_id: creds_json
            .str("access_key_id")
            .ok_or("no access_key_id")?
            .to_string(),
        secret_access_key: creds_json
            .str("secret_access_key")
            .ok_or("no secret_access_key")?
            .to_string(),
        session_token: creds_json.str("token").map(str::to_string),
    };
    let region = ctx.str("region").ok_or("no region")?;
    let service = ctx.str("service").ok_or("no service")?;
    let timestamp = ctx.str("timestamp").ok_or("no timestamp")?;
    let time = Timestamp::parse_rfc3339(timestamp)
        .ok_or_else(|| format!("unparsable timestamp {timestamp:?}"))?;
    let normalize = ctx.bool("normalize").ok_or("no normalize flag")?;
    // Same defaults as aws-sigv4's own harness: sign_body true, omit_session_token false.
    let sign_body = ctx.bool("sign_body").unwrap_or(true);
    let omit_session_token = ctx.bool("omit_session_token").unwrap_or(false);
    for flag in ["double_encode", "double_url_encode", "double_uri_encode"] {
        if ctx.bool(flag) == Some(true) {
            return Err(format!(
                "context.json sets {flag}: S3 never double-encodes; add the case to SKIPPED"
            ));
        }
    }

    let raw = std::fs::read(dir.join("request.txt")).map_err(|e| format!("request.txt: {e}"))?;
    let raw = String::from_utf8(raw).map_err(|e| format!("request.txt is not UTF-8: {e}"))?;
    let req = parse_request(&raw)?;

    // Our signer takes the path encoded exactly once, as our client builds it from a key.
    let decoded_path =
        percent_decode(&req.path).ok_or_else(|| format!("path {:?} is not UTF-8", req.path))?;
    let canonical_uri = uri_encode(&decoded_path, true);
    if normalize && !normalisation_is_identity(&canonical_uri) {
        return Err(format!(
            "\"normalize\": true and path {:?} changes under normalisation, which S3 never \
             applies: add the case to SKIPPED",
            req.path
        ));
    }
    let query = decode_query(&req.query)?;

    let payload_hash = hex(&Sha256::digest(&req.body));
    let mut headers = req.headers.clone();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("x-amz-date"))
    {
        headers.push(("X-Amz-Date".to_string(), time.amz_date()));
    }
    if let (Some(token), false) = (&creds.session_token, omit_session_token) {
        headers.push(("X-Amz-Security-Token".to_string(), token.clone()));
    }
    if sign_body {
        headers.push(("X-Amz-Content-Sha256".to_string(), payload_hash.clone()));
    }

    let input = SigningInput {
        method: &req.method,
        canonical_uri: &canonical_uri,
        query: &query,
        headers: &headers,
        payload_hash: &payload_hash,
        region,
        service,
        time,
    };

    let mut problems = Vec::new();
    let (canonical, _) = sign::canonical_request(&input);
    let expected = read_expected(dir, "header-canonical-request.txt")?;
    if canonical != expected {
        problems.push(format!(
            "canonical request differs\n--- expected\n{expected}\n--- ours\n{canonical}"
        ));
    }
    let sts = sign::string_to_sign(&input, &canonical);
    let expected = read_expected(dir, "header-string-to-sign.txt")?;
    if sts != expected {
        problems.push(format!(
            "string to sign differs\n--- expected\n{expected}\n--- ours\n{sts}"
        ));
    }
    let signature = sign::signature(&input, &creds.secret_access_key);
    let expected = read_expected(dir, "header-signature.txt")?;
    if signature != expected {
        problems.push(format!(
            "signature differs: expected {expected}, ours {signature}"
        ));
    }
    // The Authorization header of the signed request (credential scope, signed headers).
    let signed = read_expected(dir, "header-signed-request.txt")?;
    let expected_auth = signed
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.trim().to_string())
        })
        .ok_or("header-signed-request.txt has no Authorization line")?;
    let auth = sign::authorization(&input, &creds);
    if auth != expected_auth {
        problems.push(format!(
            "Authorization differs\n--- expected\n{expected_auth}\n--- ours\n{auth}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}:\n{}", problems.join("\n")))
    }
}

#[test]
fn aws_sigv4_test_suite_header_signing_matches() {
    let dir = suite_dir();
    println!("AWS SigV4 test suite: {}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();

    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        if let Some((_, reason)) = SKIPPED.iter().find(|(n, _)| n == name) {
            println!("skip  {name}: {reason}");
            skipped.push(name.clone());
            continue;
        }
        match check_case(&dir.join(name), name) {
            Ok(()) => {
                println!("ok    {name}");
                checked.push(name.clone());
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    for (name, _) in SKIPPED {
        if !names.iter().any(|n| n == name) {
            println!("note: skip-listed case {name} is not in this copy of the suite");
        }
    }
    println!(
        "checked {} cases, skipped {}, failed {}",
        checked.len(),
        skipped.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} suite case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        checked.len() >= MIN_CHECKED,
        "only {} suite cases were checked (at least {MIN_CHECKED} expected) in {}: {checked:?}",
        checked.len(),
        dir.display()
    );
}

#[test]
fn helpers_parse_what_the_suite_contains() {
    let req = parse_request("GET /example space/?a=1&b HTTP/1.1\nHost:h\nX:v1\n  v2\n\nbody")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/example space/");
    assert_eq!(req.query, "a=1&b");
    assert_eq!(
        req.headers,
        vec![
            ("Host".to_string(), "h".to_string()),
            ("X".to_string(), "v1 v2".to_string())
        ]
    );
    assert_eq!(req.body, b"body");
    assert_eq!(
        decode_query("a=1&b&%E1%88%B4=x%20y").unwrap_or_else(|e| panic!("{e}")),
        vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), String::new()),
            ("\u{1234}".to_string(), "x y".to_string())
        ]
    );
    assert!(normalisation_is_identity("/"));
    assert!(normalisation_is_identity("/example%20space/"));
    assert!(!normalisation_is_identity("//"));
    assert!(!normalisation_is_identity("/./example"));
    assert!(!normalisation_is_identity("/example/.."));
    let json =
        JsonParser::parse(r#"{"a": {"b": "x\"\u00e9"}, "n": 3600, "t": true, "l": [1, null]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json.get("a").and_then(|a| a.str("b")), Some("x\"\u{e9}"));
    assert_eq!(json.bool("t"), Some(true));
    assert_eq!(json.get("n"), Some(&Json::Num("3600".to_string())));
    assert_eq!(
        json.get("l"),
        Some(&Json::Arr(vec![Json::Num("1".to_string()), Json::Null]))
    );
    assert!(JsonParser::parse("{\"a\": }").is_err());
    assert!(version_key("1.10.0") > version_key("1.9.3"));
}
