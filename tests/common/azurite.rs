//! Azurite 3.37.0, the Azure Blob emulator, started once per test binary on a free port:
//! strict (no `--loose`, no `--skipApiVersionCheck`: SharedKey and SAS signatures and the
//! `x-ms-version` are checked), data in a temp dir. `.ci/test.sh` installs it with npm into
//! `target/test-tools/azurite`; `AZURITE_BIN` points at another `azurite-blob`. When it
//! cannot start, the test fails saying why; nothing is skipped.

use std::io::Read;
use std::path::PathBuf;
use std::process::Child;
use std::sync::OnceLock;

use md5::{Digest, Md5};
use s3sync::azure::auth::AccountKey;
use s3sync::azure::location::ServiceEndpoint;
use s3sync::azure::ops::{ListBlobs, WriteOptions};
use s3sync::azure::sas::ServiceSas;
use s3sync::azure::xml::ListEntry;
use s3sync::azure::{Client, ClientConfig, Credentials, Payload};
use s3sync::util::time::Timestamp;

use super::{free_port, spawn_guarded, tools_dir, unique, wait_for_port};

/// Azurite's one account and the development key Microsoft publishes for it (tests only).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    pub endpoint: String,
    _child: Child,
    _data: PathBuf,
}

fn start() -> Azurite {
    start_with(&[], "http")
}

/// A second, secure Azurite of its own: https with `cert`/`key` and `--oauth basic`, so it
/// also takes Entra ID bearer tokens (it checks their issuer, audience and lifetime, not
/// their signature). Not shared: each caller keeps the one it starts.
pub fn start_https(cert: &std::path::Path, key: &std::path::Path) -> Azurite {
    let extra = [
        "--cert".to_string(),
        cert.display().to_string(),
        "--key".to_string(),
        key.display().to_string(),
        "--oauth".to_string(),
        "basic".to_string(),
    ];
    start_with(&extra, "https")
}

fn start_with(extra: &[String], scheme: &str) -> Azurite {
    let bin = std::env::var_os("AZURITE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            tools_dir()
                .join("azurite")
                .join("node_modules")
                .join(".bin")
                .join("azurite-blob")
        });
    assert!(
        bin.exists(),
        "Azurite not found at {}: run `bash .ci/test.sh` once (it runs `npm install --prefix \
         target/test-tools/azurite azurite@3.37.0`; Node 20 or later), or point AZURITE_BIN at \
         an azurite-blob executable",
        bin.display()
    );
    let port = free_port();
    let work = std::env::temp_dir().join(format!("s3sync-tests-{}", std::process::id()));
    let data = work.join(format!("azurite-data-{port}"));
    std::fs::create_dir_all(&data)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
    let log = work.join(format!("azurite-{port}.log"));
    let mut args: Vec<String> = vec![
        "--blobHost".into(),
        "127.0.0.1".into(),
        "--blobPort".into(),
        port.to_string(),
        "--location".into(),
        data.display().to_string(),
        "--silent".into(),
        "--disableTelemetry".into(),
    ];
    args.extend(extra.iter().cloned());
    let child = spawn_guarded(&bin, &args, &log);
    wait_for_port(port, "azurite-blob", &log);
    Azurite {
        endpoint: format!("{scheme}://127.0.0.1:{port}/{ACCOUNT}"),
        _child: child,
        _data: data,
    }
}

static AZURITE: OnceLock<Azurite> = OnceLock::new();

pub fn azurite() -> &'static Azurite {
    AZURITE.get_or_init(start)
}

static AZURITE_LOOSE: OnceLock<Azurite> = OnceLock::new();

/// A second Azurite started with `--loose`: it ignores the headers it does not implement
/// (customer-provided keys, which strict Azurite refuses with 500 FeatureNotSupported)
/// instead of failing the request, so that what a client sends can be recorded in front of
/// it. It still checks SharedKey signatures.
pub fn azurite_loose() -> &'static Azurite {
    AZURITE_LOOSE.get_or_init(|| start_with(&["--loose".to_string()], "http"))
}

/// The emulator's endpoint.
pub fn endpoint() -> ServiceEndpoint {
    ServiceEndpoint::parse(&azurite().endpoint).unwrap_or_else(|e| panic!("endpoint: {e}"))
}

/// The development account's key.
pub fn account_key() -> AccountKey {
    AccountKey::new(ACCOUNT, KEY).unwrap_or_else(|e| panic!("key: {e}"))
}

/// A client with `credentials`, 2 attempts.
pub fn client_with(credentials: Credentials) -> Client {
    let mut cfg = ClientConfig::new(endpoint(), credentials);
    cfg.max_attempts = 2;
    cfg.initial_backoff = std::time::Duration::from_millis(20);
    Client::new(cfg)
}

/// A client signing with the account key.
pub fn client() -> Client {
    client_with(Credentials::SharedKey(std::sync::Arc::new(account_key())))
}

/// A new container (lower case, digits and hyphens), created.
pub fn container(client: &Client) -> String {
    let name = unique("az").to_ascii_lowercase();
    match client.create_container(&name) {
        Ok(true) => name,
        Ok(false) => panic!("container {name} already existed"),
        Err(e) => panic!("CreateContainer {name}: {e}"),
    }
}

pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

pub fn put(client: &Client, container: &str, name: &str, data: &[u8]) {
    client
        .put_blob(
            container,
            name,
            Payload::Bytes(data),
            &WriteOptions::default(),
        )
        .unwrap_or_else(|e| panic!("PutBlob {name}: {e}"));
}

pub fn read_all(
    client: &Client,
    container: &str,
    name: &str,
    range: Option<(u64, Option<u64>)>,
) -> Vec<u8> {
    let mut download = client
        .get_blob(container, name, range)
        .unwrap_or_else(|e| panic!("GetBlob {name}: {e}"));
    let mut out = Vec::new();
    download
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("GetBlob {name} body: {e}"));
    out
}

/// Every name under `prefix`, page by page, `per_page` at a time.
pub fn list_all(
    client: &Client,
    container: &str,
    prefix: &str,
    per_page: u32,
) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_blobs(
                container,
                &ListBlobs {
                    prefix,
                    marker: marker.as_deref(),
                    max_results: Some(per_page),
                    ..ListBlobs::default()
                },
            )
            .unwrap_or_else(|e| panic!("ListBlobs: {e}"));
        pages += 1;
        assert!(page.entries.len() <= per_page as usize);
        for entry in page.entries {
            match entry {
                ListEntry::Blob { name, .. } => names.push(name),
                ListEntry::Prefix(p) => panic!("a flat listing returned prefix {p}"),
            }
        }
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => return (names, pages),
        }
    }
}

/// A service SAS for the blob (or, without one, the container), valid for an hour.
pub fn sas_for(container: &str, blob: Option<&str>, permissions: &str) -> Credentials {
    let sas = ServiceSas {
        container: container.into(),
        blob: blob.map(str::to_string),
        permissions: permissions.into(),
        start: None,
        expiry: Timestamp {
            secs: Timestamp::now().secs + 3600,
            nanos: 0,
        },
        https_only: false,
        ip: None,
    };
    Credentials::Sas(sas.sign(&account_key()))
}

/// The environment that gives s3sync the emulator's account key, as azcopy users set it.
pub fn key_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AZURE_STORAGE_ACCOUNT", ACCOUNT),
        ("AZURE_STORAGE_KEY", KEY),
    ]
}

/// The URL of `prefix` in `container` of the shared emulator.
pub fn url(container: &str, prefix: &str) -> String {
    format!("{}/{container}/{prefix}", azurite().endpoint)
}

/// Runs s3sync with the account key and JSON logs.
pub fn sync_json(args: &[&str]) -> super::Run {
    let mut all: Vec<String> = vec!["--json-tracing".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    super::run(&all, &key_env())
}
