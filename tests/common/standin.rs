//! Tiny local servers that stand in for what the tests cannot run for real: the EC2 instance
//! metadata service, the ECS/EKS container credentials endpoint, and an HTTP CONNECT proxy.
//! They speak just enough HTTP/1.1 (one request per connection) and record what they saw.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use s3sync::util::time::Timestamp;

/// One request as a stand-in received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request head (and its body, by Content-Length) from `stream`.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// An HTTP server on a free loopback port whose answers come from `handler`.
pub struct StandIn {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Handler = dyn Fn(&Seen, usize) -> (u16, String) + Send + Sync;

impl StandIn {
    /// `handler(request, index of this request)` gives the status and body.
    pub fn start(
        handler: impl Fn(&Seen, usize) -> (u16, String) + Send + Sync + 'static,
    ) -> StandIn {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("stand-in bind: {e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("stand-in addr: {e}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Ok(write) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(stream);
                let Some(request) = read_request(&mut reader) else {
                    continue;
                };
                let index = {
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    l.push(request.clone());
                    l.len() - 1
                };
                let (status, body) = handler(&request, index);
                let mut write = write;
                let _ = write!(
                    write,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = write.flush();
            }
        });
        StandIn { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// RFC 3339 time `secs` seconds from now.
pub fn in_secs(secs: u64) -> String {
    let t = Timestamp::from_system(SystemTime::now() + Duration::from_secs(secs));
    let text = t.rfc3339_seconds();
    text.replace("+00:00", "Z")
}

/// The credential JSON document of the container endpoint and instance metadata.
pub fn credential_json(access_key: &str, secret: &str, token: &str, expires_in: u64) -> String {
    format!(
        "{{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"{access_key}\",\
         \"SecretAccessKey\":\"{secret}\",\"Token\":\"{token}\",\"Expiration\":\"{}\"}}",
        in_secs(expires_in)
    )
}

/// What a [`ConnectProxy`] saw of one tunnel.
#[derive(Debug, Clone)]
pub struct Tunnel {
    /// `host:port` of the CONNECT line.
    pub target: String,
    pub proxy_authorization: Option<String>,
}

/// An HTTP CONNECT proxy that asks for `Proxy-Authorization: Basic <expected>` (when given)
/// and tunnels bytes to the requested host.
pub struct ConnectProxy {
    pub port: u16,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
}

impl ConnectProxy {
    pub fn start(expected_authorization: Option<String>) -> ConnectProxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("proxy bind: {e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("proxy addr: {e}"));
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                let expected = expected_authorization.clone();
                std::thread::spawn(move || serve_tunnel(stream, &log, expected.as_deref()));
            }
        });
        ConnectProxy { port, tunnels }
    }

    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn serve_tunnel(stream: TcpStream, log: &Mutex<Vec<Tunnel>>, expected: Option<&str>) {
    let Ok(mut client_write) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let authorization = request.header("proxy-authorization").map(str::to_string);
    log.lock().unwrap_or_else(|p| p.into_inner()).push(Tunnel {
        target: request.target.clone(),
        proxy_authorization: authorization.clone(),
    });
    if request.method != "CONNECT" {
        let _ = client_write.write_all(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    if let Some(want) = expected
        && authorization.as_deref() != Some(want)
    {
        let _ = client_write
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let Ok(upstream) = TcpStream::connect(&request.target) else {
        let _ = client_write.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = client_write.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (Ok(mut up_write), Ok(mut up_read)) = (upstream.try_clone(), upstream.try_clone()) else {
        return;
    };
    // Bytes the reader already buffered belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let _ = up_write.write_all(&buffered);
    let mut client_read = reader.into_inner();
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut client_read, &mut up_write);
    let _ = up_write.shutdown(std::net::Shutdown::Write);
    let _ = down.join();
    drop(upstream);
}
