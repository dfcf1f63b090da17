//! Where a Blob location is: the account's endpoint, the container and a path (a blob name
//! or a prefix), with the SAS token that came in its query kept apart.
//!
//! Accepted forms:
//! - `https://ACCOUNT.blob.core.windows.net/CONTAINER[/PATH][?SAS]`, and the same with the
//!   sovereign suffixes `.blob.core.chinacloudapi.cn` and `.blob.core.usgovcloudapi.net`, or a
//!   DNS-zone endpoint `ACCOUNT.zNN.blob.storage.azure.net`;
//! - the Data Lake (`dfs`) endpoint of any of those, mapped to its blob endpoint (the Blob API
//!   serves hierarchical-namespace accounts too);
//! - path style, for emulators and custom endpoints: `http(s)://HOST[:PORT]/ACCOUNT/CONTAINER
//!   [/PATH][?SAS]`, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1/...`.
//!
//! Azure Files, Queue, Table and static-website hosts are refused with a message naming what is
//! supported. The path is percent-decoded (`+` stays `+`); a trailing `/` is kept, since it
//! says "a directory". [`BlobLocation`]'s `Display` and `describe` never include the query.

use std::fmt;

use super::sas::SasToken;
use crate::util::encoding::{percent_decode, uri_encode};

/// The Blob service endpoint of one storage account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    pub https: bool,
    /// `host[:port]`, host lower-cased (IPv6 in brackets).
    pub authority: String,
    pub account: String,
    /// The account is the first path segment (emulators, custom endpoints).
    pub path_style: bool,
}

/// A Blob location as parsed from a URL.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobLocation {
    pub endpoint: ServiceEndpoint,
    pub container: String,
    /// Blob name or prefix, decoded; empty for the whole container.
    pub path: String,
    sas: Option<SasToken>,
}

/// Host suffixes of the Blob endpoints of the public and sovereign clouds.
const BLOB_SUFFIXES: [&str; 4] = [
    ".blob.core.windows.net",
    ".blob.core.chinacloudapi.cn",
    ".blob.core.usgovcloudapi.net",
    ".blob.storage.azure.net",
];

/// Services on the same accounts that this client does not speak.
const REFUSED: [(&str, &str); 4] = [
    (".file.", "Azure Files"),
    (".queue.", "Queue Storage"),
    (".table.", "Table Storage"),
    (".web.", "static website endpoints"),
];

const SUPPORTED: &str = "supported: https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH (also \
    .blob.core.chinacloudapi.cn, .blob.core.usgovcloudapi.net and the .dfs. endpoints), or \
    http(s)://HOST:PORT/ACCOUNT/CONTAINER/PATH for emulators such as Azurite";

impl ServiceEndpoint {
    /// Parses an account endpoint as a connection string's `BlobEndpoint` gives it:
    /// `https://ACCOUNT.blob.core.windows.net[/]` or `http://HOST:PORT/ACCOUNT[/]`.
    pub fn parse(text: &str) -> Result<ServiceEndpoint, String> {
        let (endpoint, rest, query) = split_endpoint(text)?;
        if !query.is_empty() || !rest.trim_matches('/').is_empty() {
            return Err(format!(
                "{}: an endpoint is the account's URL alone, without container or query",
                safe(text)
            ));
        }
        Ok(endpoint)
    }

    /// The path of the account, a container or a blob as sent: percent-encoded, `/` kept.
    pub fn path(&self, container: Option<&str>, blob: Option<&str>) -> String {
        let mut out = String::new();
        if self.path_style {
            out.push('/');
            out.push_str(&self.account);
        }
        if let Some(c) = container {
            out.push('/');
            out.push_str(c);
            if let Some(b) = blob {
                out.push('/');
                out.push_str(&uri_encode(b, true));
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// `scheme://authority` + `path`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.authority)
    }
}

impl BlobLocation {
    /// Parses a location URL (see the module documentation). Errors name what is wrong and
    /// never repeat the query, which may hold a signature.
    pub fn parse(text: &str) -> Result<BlobLocation, String> {
        let (endpoint, rest, query) = split_endpoint(text)?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
        if container.is_empty() {
            return Err(format!(
                "{}: no container in the URL ({SUPPORTED})",
                safe(text)
            ));
        }
        check_container(container)?;
        let path = percent_decode(path)
            .ok_or_else(|| format!("{}: the path is not UTF-8 once decoded", safe(text)))?;
        let sas = if query.is_empty() {
            None
        } else {
            Some(SasToken::parse(query).map_err(|e| format!("{}: {e}", safe(text)))?)
        };
        Ok(BlobLocation {
            endpoint,
            container: container.to_string(),
            path,
            sas,
        })
    }

    /// The SAS token of the URL's query, if it had one.
    pub fn sas(&self) -> Option<&SasToken> {
        self.sas.as_ref()
    }

    /// The URL without its query: safe to show.
    pub fn describe(&self) -> String {
        let blob = (!self.path.is_empty()).then_some(self.path.as_str());
        self.endpoint
            .url(&self.endpoint.path(Some(&self.container), blob))
    }
}

impl fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Debug for BlobLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobLocation")
            .field("endpoint", &self.endpoint)
            .field("container", &self.container)
            .field("path", &self.path)
            .field("sas", &self.sas)
            .finish()
    }
}

/// A URL for messages: everything before the query.
fn safe(text: &str) -> &str {
    text.split(['?', '#']).next().unwrap_or("")
}

/// Splits `text` into the account endpoint, the path after the account (raw) and the query.
fn split_endpoint(text: &str) -> Result<(ServiceEndpoint, &str, &str), String> {
    let text = text.trim();
    let (https, rest) = if let Some(r) = strip_prefix_ignore_case(text, "https://") {
        (true, r)
    } else if let Some(r) = strip_prefix_ignore_case(text, "http://") {
        (false, r)
    } else {
        return Err(format!("{}: not an http(s) URL ({SUPPORTED})", safe(text)));
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    if rest.contains('#') {
        return Err(format!(
            "{}: '#' must be written %23 in a blob URL",
            safe(text)
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains(['@', ' ']) {
        return Err(format!(
            "{}: expected http(s)://host[:port]/..., without user info",
            safe(text)
        ));
    }
    let authority = authority.to_ascii_lowercase();
    let host = crate::http::network::split_authority(&authority, 0)
        .0
        .to_string();
    for (marker, service) in REFUSED {
        let zone_host = format!("{marker}storage.azure.net");
        if (host.contains(marker) && host.contains(".core.")) || host.ends_with(&zone_host) {
            return Err(format!(
                "{}: {service} is not supported, only Azure Blob Storage ({SUPPORTED})",
                safe(text)
            ));
        }
    }
    let dfs_as_blob = host.replacen(".dfs.", ".blob.", 1);
    if let Some(suffix) = BLOB_SUFFIXES.iter().find(|s| dfs_as_blob.ends_with(*s)) {
        let account = dfs_as_blob
            .strip_suffix(suffix)
            .and_then(|a| a.split('.').next())
            .unwrap_or("");
        check_account(account)?;
        let endpoint = ServiceEndpoint {
            https,
            authority: authority.replacen(".dfs.", ".blob.", 1),
            account: account.to_string(),
            path_style: false,
        };
        return Ok((endpoint, path, query));
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (account, rest) = match path.find('/') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    if account.is_empty() {
        return Err(format!(
            "{}: no account in the URL; a path-style endpoint is http(s)://HOST:PORT/ACCOUNT/CONTAINER",
            safe(text)
        ));
    }
    check_account(account)?;
    let endpoint = ServiceEndpoint {
        https,
        authority,
        account: account.to_string(),
        path_style: true,
    };
    Ok((endpoint, rest, query))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Storage account names: 3 to 24 lower-case letters and digits.
fn check_account(name: &str) -> Result<(), String> {
    let ok = (3..=24).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a storage account name (3-24 lower-case letters and digits)"
        ))
    }
}

/// Container names: 3 to 63 lower-case letters, digits and single hyphens, starting and
/// ending with a letter or digit; or one of the special `$root`, `$web`, `$logs`.
fn check_container(name: &str) -> Result<(), String> {
    if matches!(name, "$root" | "$web" | "$logs") {
        return Ok(());
    }
    let bytes = name.as_bytes();
    let ok = (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a container name (3-63 lower-case letters, digits and single \
             hyphens, starting and ending with a letter or digit)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> BlobLocation {
        BlobLocation::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refused(text: &str) -> String {
        match BlobLocation::parse(text) {
            Ok(l) => panic!("{text} was accepted as {l:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn public_cloud_urls() {
        let l = parse("https://myacct.blob.core.windows.net/photos/2024/a%20b+c%25.jpg");
        assert_eq!(l.endpoint.account, "myacct");
        assert_eq!(l.endpoint.authority, "myacct.blob.core.windows.net");
        assert!(l.endpoint.https && !l.endpoint.path_style);
        assert_eq!(l.container, "photos");
        assert_eq!(l.path, "2024/a b+c%.jpg");
        assert!(l.sas().is_none());
        assert_eq!(
            l.describe(),
            "https://myacct.blob.core.windows.net/photos/2024/a%20b%2Bc%25.jpg"
        );
        let dir = parse("https://myacct.blob.core.windows.net/photos/dir/");
        assert_eq!(dir.path, "dir/");
        let whole = parse("HTTPS://MyAcct.Blob.Core.Windows.Net/photos");
        assert_eq!(
            (whole.endpoint.account.as_str(), whole.path.as_str()),
            ("myacct", "")
        );
        let unicode = parse("https://a1b.blob.core.windows.net/c-1/%E2%98%83/x");
        assert_eq!(unicode.path, "☃/x");
        assert_eq!(
            parse("https://acc.blob.core.windows.net/$web/index.html").container,
            "$web"
        );
    }

    #[test]
    fn sovereign_zone_and_data_lake_endpoints() {
        let cn = parse("https://acct.blob.core.chinacloudapi.cn/c01/k");
        assert_eq!(cn.endpoint.account, "acct");
        let gov = parse("https://acct.blob.core.usgovcloudapi.net/c01/k");
        assert_eq!(gov.endpoint.authority, "acct.blob.core.usgovcloudapi.net");
        let zone = parse("https://acct.z12.blob.storage.azure.net/c01/k");
        assert_eq!(zone.endpoint.account, "acct");
        let dfs = parse("https://acct.dfs.core.windows.net/fs1/dir/file");
        assert_eq!(dfs.endpoint.authority, "acct.blob.core.windows.net");
        assert_eq!(
            (dfs.container.as_str(), dfs.path.as_str()),
            ("fs1", "dir/file")
        );
        let dfs_cn = parse("https://acct.dfs.core.chinacloudapi.cn/fs1");
        assert_eq!(dfs_cn.endpoint.authority, "acct.blob.core.chinacloudapi.cn");
    }

    #[test]
    fn path_style_emulator_and_custom_endpoints() {
        let l = parse("http://127.0.0.1:10000/devstoreaccount1/test/dir/file.txt");
        assert_eq!(l.endpoint.authority, "127.0.0.1:10000");
        assert_eq!(l.endpoint.account, "devstoreaccount1");
        assert!(l.endpoint.path_style && !l.endpoint.https);
        assert_eq!(
            (l.container.as_str(), l.path.as_str()),
            ("test", "dir/file.txt")
        );
        assert_eq!(
            l.endpoint.path(Some("test"), Some("dir/a b")),
            "/devstoreaccount1/test/dir/a%20b"
        );
        assert_eq!(l.endpoint.path(None, None), "/devstoreaccount1");
        assert_eq!(
            l.describe(),
            "http://127.0.0.1:10000/devstoreaccount1/test/dir/file.txt"
        );
        let custom = parse("https://storage.internal:8443/acct01/data");
        assert_eq!(custom.endpoint.account, "acct01");
        assert!(custom.endpoint.path_style && custom.endpoint.https);
        let v6 = parse("http://[::1]:10000/devstoreaccount1/test");
        assert_eq!(v6.endpoint.authority, "[::1]:10000");
        let ep = ServiceEndpoint::parse("http://127.0.0.1:10000/devstoreaccount1/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ep.path_style && ep.account == "devstoreaccount1");
        assert!(ServiceEndpoint::parse("http://127.0.0.1:10000/devstoreaccount1/c").is_err());
        let host = ServiceEndpoint::parse("https://acct.blob.core.windows.net")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(host.path(Some("c"), None), "/c");
    }

    #[test]
    fn sas_is_kept_apart_and_never_shown() {
        let url = "https://acct.blob.core.windows.net/c01/k?sv=2025-01-05&sp=r&se=2030-01-01&sig=SeCrEt%3D";
        let l = parse(url);
        assert_eq!(l.path, "k");
        let sas = l
            .sas()
            .map(|s| s.as_query().to_string())
            .unwrap_or_default();
        assert!(sas.ends_with("sig=SeCrEt%3D"), "{sas}");
        for shown in [l.to_string(), l.describe(), format!("{l:?}")] {
            assert!(!shown.contains("SeCrEt"), "{shown}");
        }
        assert_eq!(l.to_string(), "https://acct.blob.core.windows.net/c01/k");
        // A query that is not a SAS is refused, without being repeated.
        let err = refused("https://acct.blob.core.windows.net/c01/k?comp=list&secret=x");
        assert!(
            err.contains("not a SAS") && !err.contains("secret=x"),
            "{err}"
        );
    }

    #[test]
    fn other_services_and_malformed_urls_are_refused() {
        let files = refused("https://acct.file.core.windows.net/share/dir");
        assert!(files.contains("Azure Files is not supported"), "{files}");
        assert!(files.contains(".blob.core.windows.net"), "{files}");
        assert!(refused("https://acct.file.core.chinacloudapi.cn/share").contains("Azure Files"));
        assert!(refused("https://acct.queue.core.windows.net/q1").contains("Queue"));
        assert!(refused("https://acct.table.core.windows.net/t1").contains("Table"));
        assert!(refused("s3://bucket/key").contains("not an http(s) URL"));
        assert!(refused("https://acct.blob.core.windows.net/").contains("no container"));
        assert!(refused("https://acct.blob.core.windows.net").contains("no container"));
        assert!(refused("https://acct.blob.core.windows.net/Photos").contains("container name"));
        assert!(refused("https://acct.blob.core.windows.net/a--b").contains("container name"));
        assert!(refused("https://acct.blob.core.windows.net/ab").contains("container name"));
        assert!(refused("https://UPPER_case.blob.core.windows.net/abc").contains("account name"));
        assert!(refused("http://127.0.0.1:10000/").contains("no account"));
        assert!(refused("http://127.0.0.1:10000/devstoreaccount1").contains("no container"));
        assert!(refused("https://u:p@acct.blob.core.windows.net/abc").contains("user info"));
        assert!(refused("https://acct.blob.core.windows.net/abc/%FF").contains("UTF-8"));
        assert!(refused("https://acct.blob.core.windows.net/abc/a#b").contains("%23"));
    }
}
