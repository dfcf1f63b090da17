//! Test harness: starts real S3 servers (s3s-fs and moto) once per test binary on free
//! ports, gives each test its own bucket and temp dir, and runs the built binary.
//!
//! The servers are installed by `.ci/test.sh` into `target/test-tools/`; `S3S_FS_BIN` and
//! `MOTO_SERVER_BIN` override the paths. A missing server fails the test with a message
//! saying how to install it; nothing is skipped silently.
#![allow(dead_code)]

pub mod azurite;
pub mod chaos;
pub mod records;
pub mod standin;
pub mod sums;
pub mod tls;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use s3sync::s3::credentials::CredentialsCache;
use s3sync::s3::endpoint::Endpoint;
use s3sync::s3::network::Network;
use s3sync::s3::ops::ListRequest;
use s3sync::s3::sign::Credentials;
use s3sync::s3::{Client, ClientConfig};

pub const ACCESS_KEY: &str = "AKIATESTS3SYNC";
pub const SECRET_KEY: &str = "test-secret-key-s3sync-0123456789";

/// Which server a test talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Validates signatures, Content-MD5 and checksums.
    S3sFs,
    /// Versioning, tags, conditional writes; accepts any credentials.
    Moto,
}

pub struct Server {
    pub kind: Kind,
    pub endpoint: String,
    _child: Child,
    _data: Option<PathBuf>,
}

impl Server {
    /// The directory s3s-fs keeps its buckets (and open uploads, as `.upload-<id>.json`) in;
    /// `None` for moto, which keeps everything in memory.
    pub fn data_dir(&self) -> Option<&Path> {
        self._data.as_deref()
    }
}

fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-tools")
}

fn tool(env_var: &str, default: PathBuf) -> PathBuf {
    let path = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or(default);
    assert!(
        path.exists(),
        "test server binary {} not found: run `bash .ci/test.sh` once (it installs s3s-fs and moto into \
         target/test-tools), or point {env_var} at it",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let listener =
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind a free port: {e}"));
    listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no local address: {e}"))
}

/// Starts `program args...` under a shell that kills it when our stdin closes, i.e. when
/// the test process exits, so no server outlives its tests.
fn spawn_guarded(program: &Path, args: &[String], log: &Path) -> Child {
    let log_file = std::fs::File::create(log)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let log_err = log_file
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot clone log handle: {e}"));
    Command::new("sh")
        .arg("-c")
        .arg("\"$@\" & pid=$!; read _unused; kill $pid 2>/dev/null; wait $pid 2>/dev/null")
        .arg("sh")
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log_text = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not start listening on port {port} within 60 s; its log:\n{log_text}");
}

fn start(kind: Kind) -> Server {
    let port = free_port();
    let work = std::env::temp_dir().join(format!("s3sync-tests-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&work);
    match kind {
        Kind::S3sFs => {
            let bin = tool(
                "S3S_FS_BIN",
                tools_dir().join("cargo").join("bin").join("s3s-fs"),
            );
            let data = work.join(format!("s3s-fs-data-{port}"));
            let _ = std::fs::create_dir_all(&data);
            let log = work.join(format!("s3s-fs-{port}.log"));
            let args: Vec<String> = vec![
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--access-key".into(),
                ACCESS_KEY.into(),
                "--secret-key".into(),
                SECRET_KEY.into(),
                data.display().to_string(),
            ];
            let child = spawn_guarded(&bin, &args, &log);
            wait_for_port(port, "s3s-fs", &log);
            Server {
                kind,
                endpoint: format!("http://127.0.0.1:{port}"),
                _child: child,
                _data: Some(data),
            }
        }
        Kind::Moto => {
            let bin = tool(
                "MOTO_SERVER_BIN",
                tools_dir().join("venv").join("bin").join("moto_server"),
            );
            let log = work.join(format!("moto-{port}.log"));
            let args: Vec<String> = vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ];
            let child = spawn_guarded(&bin, &args, &log);
            wait_for_port(port, "moto_server", &log);
            Server {
                kind,
                endpoint: format!("http://127.0.0.1:{port}"),
                _child: child,
                _data: None,
            }
        }
    }
}

static S3S: OnceLock<Server> = OnceLock::new();
static MOTO: OnceLock<Server> = OnceLock::new();

pub fn server(kind: Kind) -> &'static Server {
    match kind {
        Kind::S3sFs => S3S.get_or_init(|| start(Kind::S3sFs)),
        Kind::Moto => MOTO.get_or_init(|| start(Kind::Moto)),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh name for a bucket or directory, unique in this process.
pub fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{}-{n}", std::process::id())
}

/// A client for setting up and inspecting a server.
pub fn client(kind: Kind) -> Client {
    let server = server(kind);
    let endpoint =
        Endpoint::parse(&server.endpoint).unwrap_or_else(|e| panic!("bad endpoint: {e}"));
    Client::new(ClientConfig {
        endpoint,
        region: "us-east-1".into(),
        credentials: Some(Arc::new(CredentialsCache::fixed(Credentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            session_token: None,
        }))),
        network: Network::default(),
        force_path_style: true,
        request_payer: false,
        unsigned_payload: false,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(50),
        max_connections: 4,
        connect_timeout: None,
        read_timeout: None,
        sse_c: None,
        checksum_mode: false,
        limits: Default::default(),
    })
}

/// Options that upload in 5 MiB parts.
pub const PARTS_5MIB: [&str; 4] = [
    "--multipart-threshold",
    "5MiB",
    "--multipart-chunksize",
    "5MiB",
];

/// One test's world: a bucket on a server and a scratch directory.
pub struct World {
    pub kind: Kind,
    pub bucket: String,
    pub dir: PathBuf,
    pub client: Arc<Client>,
}

impl World {
    pub fn new(kind: Kind) -> World {
        let bucket = unique("bkt").to_lowercase();
        let client = Arc::new(client(kind));
        client
            .create_bucket(&bucket)
            .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {e}"));
        let dir = std::env::temp_dir().join(unique("s3sync-test"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        World {
            kind,
            bucket,
            dir,
            client,
        }
    }

    pub fn endpoint(&self) -> &str {
        &server(self.kind).endpoint
    }

    /// `s3://bucket/prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// A path inside the scratch directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The options that point the target side at this world's server.
    pub fn target_args(&self) -> Vec<String> {
        vec![
            "--target-endpoint-url".into(),
            self.endpoint().into(),
            "--target-access-key".into(),
            ACCESS_KEY.into(),
            "--target-secret-access-key".into(),
            SECRET_KEY.into(),
            "--target-force-path-style".into(),
        ]
    }

    /// The options that point the source side at this world's server.
    pub fn source_args(&self) -> Vec<String> {
        self.target_args()
            .into_iter()
            .map(|a| a.replacen("--target-", "--source-", 1))
            .collect()
    }

    /// The target options of this world, with the server reached at `endpoint` (a proxy
    /// in front of it) instead.
    pub fn target_args_at(&self, endpoint: &str) -> Vec<String> {
        let mut args = self.target_args();
        args[1] = endpoint.to_string();
        args
    }

    /// The source options of this world, with the server reached at `endpoint` instead.
    pub fn source_args_at(&self, endpoint: &str) -> Vec<String> {
        let mut args = self.source_args();
        args[1] = endpoint.to_string();
        args
    }

    /// The options of an S3 → S3 run from this world's server to `target`'s, both sides
    /// reached at `endpoint` (a proxy in front of the server) instead.
    pub fn copy_args_at(&self, target: &World, endpoint: &str) -> Vec<String> {
        let mut args = self.source_args_at(endpoint);
        args.extend(target.target_args_at(endpoint));
        args
    }

    /// Runs `s3sync` with this world's server as the target, uploading in 5 MiB parts.
    pub fn sync_in_parts(&self, args: &[&str]) -> Run {
        self.sync(&[&PARTS_5MIB[..], args].concat())
    }

    /// Runs `s3sync` from this world's server (source) to `target`'s (both S3).
    pub fn sync_to(&self, target: &World, args: &[&str]) -> Run {
        let mut all = self.source_args();
        all.extend(target.target_args());
        all.extend(args.iter().map(|s| s.to_string()));
        run(&all, &[])
    }

    /// Runs `s3sync` with this world's server as the source, plus `args`.
    pub fn sync_from(&self, args: &[&str]) -> Run {
        let mut all = self.source_args();
        all.extend(args.iter().map(|s| s.to_string()));
        run(&all, &[])
    }

    /// HeadObject of `key`.
    pub fn head(&self, key: &str) -> s3sync::s3::ops::ObjectHead {
        self.client
            .head_object(&self.bucket, key)
            .unwrap_or_else(|e| panic!("HEAD {key}: {e}"))
            .unwrap_or_else(|| panic!("HEAD {key}: not found"))
    }

    /// Puts an object with extra headers (metadata).
    pub fn put_with(&self, key: &str, data: &[u8], headers: &[(&str, &str)]) {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.client
            .put_object(
                &self.bucket,
                key,
                s3sync::s3::Payload::Bytes(data),
                &headers,
            )
            .unwrap_or_else(|e| panic!("PUT {key}: {e}"));
    }

    /// Runs `s3sync` with the target options plus `args`.
    pub fn sync(&self, args: &[&str]) -> Run {
        let mut all = self.target_args();
        all.extend(args.iter().map(|s| s.to_string()));
        run(&all, &[])
    }

    /// Object keys and sizes under `prefix`, from the listing.
    pub fn list(&self, prefix: &str) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2(
                    &self.bucket,
                    &ListRequest {
                        prefix,
                        continuation_token: token.as_deref(),
                        ..ListRequest::default()
                    },
                )
                .unwrap_or_else(|e| panic!("list {}: {e}", self.bucket));
            for o in page.objects {
                out.insert(o.key, o.size);
            }
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return out,
            }
        }
    }

    /// The whole content of an object.
    pub fn get(&self, key: &str) -> Vec<u8> {
        let resp = self
            .client
            .get_object(&self.bucket, key, None)
            .unwrap_or_else(|e| panic!("GET {key}: {e}"));
        let mut body = Vec::new();
        resp.into_reader()
            .read_to_end(&mut body)
            .unwrap_or_else(|e| panic!("GET {key} body: {e}"));
        body
    }

    /// The ETag of an object (unquoted), from HeadObject.
    pub fn etag(&self, key: &str) -> String {
        let head = self
            .client
            .head_object(&self.bucket, key)
            .unwrap_or_else(|e| panic!("HEAD {key}: {e}"))
            .unwrap_or_else(|| panic!("HEAD {key}: not found"));
        head.etag.unwrap_or_default().trim_matches('"').to_string()
    }

    /// Puts an object directly (setup for deletion tests).
    pub fn put(&self, key: &str, data: &[u8]) {
        self.client
            .put_object(&self.bucket, key, s3sync::s3::Payload::Bytes(data), &[])
            .unwrap_or_else(|e| panic!("PUT {key}: {e}"));
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The value of one counter in the JSON summary record, or of the summary line.
    pub fn summary(&self, field: &str) -> u64 {
        for line in self.stdout.lines().rev() {
            if line.contains("\"message\":\"sync summary\"") {
                let needle = format!("\"{field}\":");
                let start = line
                    .find(&needle)
                    .unwrap_or_else(|| panic!("no {field} in {line}"))
                    + needle.len();
                let digits: String = line[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                return digits
                    .parse()
                    .unwrap_or_else(|_| panic!("bad {field} in {line}"));
            }
        }
        panic!(
            "no JSON summary record in stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }

    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Starts the built binary with `args` in a clean environment and returns at once; stdout
/// is discarded, stderr kept for `wait_with_output`.
pub fn spawn(args: &[String]) -> Child {
    let home = std::env::temp_dir().join(unique("home"));
    let _ = std::fs::create_dir_all(&home);
    Command::new(env!("CARGO_BIN_EXE_s3sync"))
        .env_clear()
        .env("HOME", &home)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start s3sync: {e}"))
}

/// Polls `condition` every 20 ms for up to `limit`; panics with `what` if it never holds.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `s3sync` with `base` (a side's options, say) followed by `extra`.
pub fn run_with(mut base: Vec<String>, extra: &[&str]) -> Run {
    base.extend(extra.iter().map(|a| a.to_string()));
    run(&base, &[])
}

/// Runs the built binary with `args` and `env`, in a clean environment.
pub fn run(args: &[String], env: &[(&str, &str)]) -> Run {
    let home = std::env::temp_dir().join(unique("home"));
    let _ = std::fs::create_dir_all(&home);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3sync"));
    cmd.env_clear().env("HOME", &home).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run s3sync: {e}"));
    let _ = std::fs::remove_dir_all(&home);
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The keys under `prefix` in `w`'s bucket, the prefix removed, in order.
pub fn keys(w: &World, prefix: &str) -> Vec<String> {
    w.list(prefix)
        .into_keys()
        .map(|k| k[prefix.len()..].to_string())
        .collect()
}

/// Writes a file (creating parents) and returns its path.
pub fn write_file(path: &Path, data: &[u8]) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path.to_path_buf()
}

/// Deterministic pseudo-random bytes (xorshift), so sizes and contents are reproducible.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The S3 multipart ETag of `data` cut into `chunk`-byte parts.
pub fn multipart_etag(data: &[u8], chunk: usize) -> String {
    let mut all = Md5::new();
    let mut n = 0;
    for part in data.chunks(chunk) {
        all.update(Md5::digest(part));
        n += 1;
    }
    let hex: String = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{n}")
}

/// Sets a file's modification time `secs` seconds from now.
pub fn touch(path: &Path, offset_secs: i64) {
    let now = std::time::SystemTime::now();
    let when = if offset_secs >= 0 {
        now + Duration::from_secs(offset_secs as u64)
    } else {
        now - Duration::from_secs(offset_secs.unsigned_abs())
    };
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.set_modified(when)
        .unwrap_or_else(|e| panic!("set mtime {}: {e}", path.display()));
}

/// A TCP proxy on a free port in front of `upstream_port` that records every byte the client
/// sends, so a test can check which headers went out. It accepts until the test process ends.
pub struct RecordingProxy {
    pub port: u16,
    sent: Arc<std::sync::Mutex<Vec<u8>>>,
    connections: Arc<AtomicU32>,
}

/// A listener on a free loopback port, and the port.
fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("proxy bind: {e}"));
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("proxy addr: {e}"));
    (listener, port)
}

impl RecordingProxy {
    pub fn start(upstream_port: u16) -> RecordingProxy {
        let (listener, port) = listen();
        let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicU32::new(0));
        let (log, count) = (Arc::clone(&sent), Arc::clone(&connections));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::Relaxed);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                    continue;
                };
                let (mut c_read, mut s_write) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                let (mut s_read, mut c_write) = (server, client);
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = std::io::Read::read(&mut c_read, &mut buf) {
                        if n == 0 || std::io::Write::write_all(&mut s_write, &buf[..n]).is_err() {
                            break;
                        }
                        if let Ok(mut l) = log.lock() {
                            l.extend_from_slice(&buf[..n]);
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        RecordingProxy {
            port,
            sent,
            connections,
        }
    }

    /// Everything clients sent so far, as text (bodies included, lossily).
    pub fn sent(&self) -> String {
        self.sent
            .lock()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u32 {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Which way a [`FaultProxy`] alters bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// Requests (uploads).
    ToServer,
    /// Responses (downloads).
    ToClient,
}

/// A TCP proxy that flips one bit of the byte following each occurrence of `marker` in one
/// direction, as long as its budget of flips lasts: bytes corrupted in transit.
pub struct FaultProxy {
    pub port: u16,
    flips: Arc<AtomicU32>,
}

impl FaultProxy {
    pub fn start(
        upstream_port: u16,
        direction: Direction,
        marker: &[u8],
        budget: u32,
    ) -> FaultProxy {
        let (listener, port) = listen();
        let flips = Arc::new(AtomicU32::new(0));
        let marker: Arc<[u8]> = Arc::from(marker);
        let done = Arc::clone(&flips);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                    continue;
                };
                let (c_read, s_write) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                let (s_read, c_write) = (server, client);
                let up = (direction == Direction::ToServer)
                    .then(|| (Arc::clone(&marker), Arc::clone(&done)));
                let down = (direction == Direction::ToClient)
                    .then(|| (Arc::clone(&marker), Arc::clone(&done)));
                std::thread::spawn(move || pump(c_read, s_write, up, budget));
                std::thread::spawn(move || pump(s_read, c_write, down, budget));
            }
        });
        FaultProxy { port, flips }
    }

    /// Bits flipped so far.
    pub fn flips(&self) -> u32 {
        self.flips.load(Ordering::SeqCst)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Copies `from` into `to`; with a fault, flips the byte after each `marker` while fewer than
/// `budget` flips were made.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    fault: Option<(Arc<[u8]>, Arc<AtomicU32>)>,
    budget: u32,
) {
    let mut buf = vec![0u8; 65536];
    let mut window: Vec<u8> = Vec::new();
    let mut flip_next = false;
    while let Ok(n) = std::io::Read::read(&mut from, &mut buf) {
        if n == 0 {
            break;
        }
        if let Some((marker, flips)) = &fault {
            for byte in &mut buf[..n] {
                if flip_next {
                    flip_next = false;
                    if flips.fetch_add(1, Ordering::SeqCst) < budget {
                        *byte ^= 0x01;
                    } else {
                        flips.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                window.push(*byte);
                if window.len() > marker.len() {
                    window.remove(0);
                }
                if window[..] == marker[..] {
                    flip_next = true;
                }
            }
        }
        if std::io::Write::write_all(&mut to, &buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Server {
    pub fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.endpoint))
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}
