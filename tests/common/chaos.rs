//! An HTTP-aware fault-injecting proxy: it reads each request whole, then, as a plan
//! decides per request number, forwards it faithfully or injects a fault: a reset
//! connection, a `503 SlowDown` or `500 InternalError` answer, a response cut short, or a
//! response held back longer than the client's read timeout. Each request goes to the
//! upstream server on a fresh connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the client's connection without answering.
    Reset,
    /// Answer 503 SlowDown without forwarding.
    SlowDown,
    /// Answer 500 InternalError without forwarding.
    InternalError,
    /// Forward, then send only part of the answer and close.
    Truncate,
    /// Forward, then hold the answer back this long before sending it.
    Stall(Duration),
    /// Answer 403 RequestTimeTooSkewed with a `Date` this many seconds from now.
    Skewed(i64),
    /// Answer 501 NotImplemented without forwarding: a store lacking the operation.
    NotImplemented,
    /// Answer 412 ConditionNotMet without forwarding: the object changed since the tag
    /// the request names was read.
    PreconditionFailed,
}

/// Decides the fate of the n-th request (counting from 0, across all connections), given
/// its head: the request line (`PUT /bucket/key HTTP/1.1`) and the headers as sent.
pub type Plan = fn(u32, &str) -> Option<Fault>;

pub struct ChaosProxy {
    pub port: u16,
    counters: Arc<Counters>,
}

/// What the proxy counts, shared by its connection threads.
#[derive(Default)]
struct Counters {
    requests: AtomicU32,
    injected: AtomicU32,
    /// Part requests (`partNumber=` in the request line) being answered.
    parts: Gauge,
    /// ListObjectsV2 requests (`list-type=2`) being answered.
    lists: Gauge,
}

/// Requests of one kind being answered right now, and the most there ever were at once.
#[derive(Default)]
struct Gauge {
    now: AtomicU32,
    peak: AtomicU32,
}

impl Gauge {
    fn enter(&self) -> InFlight<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(Some(self))
    }
}

/// Counts one request as in flight until it is dropped.
struct InFlight<'g>(Option<&'g Gauge>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.0 {
            g.now.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl ChaosProxy {
    /// Starts the proxy in front of `upstream_port`; `plan` decides each request's fate.
    pub fn start(upstream_port: u16, plan: Plan) -> ChaosProxy {
        let (listener, port) = super::listen();
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counters = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(client, upstream_port, plan, &counters);
                });
            }
        });
        ChaosProxy { port, counters }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests seen so far.
    pub fn requests(&self) -> u32 {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u32 {
        self.counters.injected.load(Ordering::SeqCst)
    }

    /// The most part requests (UploadPart, UploadPartCopy) that were in flight at once.
    pub fn parts_peak(&self) -> u32 {
        self.counters.parts.peak.load(Ordering::SeqCst)
    }

    /// The most ListObjectsV2 requests that were ever being answered at once.
    pub fn lists_peak(&self) -> u32 {
        self.counters.lists.peak.load(Ordering::SeqCst)
    }
}

/// An HTTP message head, up to and including the blank line; `None` at a clean end.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(if head.is_empty() { None } else { Some(head) });
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            return Ok(Some(head));
        }
    }
}

fn header(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Reads a body framed by Content-Length or chunked encoding, returning its raw bytes.
fn read_body(reader: &mut impl BufRead, head: &[u8], no_body: bool) -> std::io::Result<Vec<u8>> {
    if no_body {
        return Ok(Vec::new());
    }
    if header(head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut raw = Vec::new();
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line)?;
            raw.extend_from_slice(&line);
            let text = String::from_utf8_lossy(&line);
            let size = usize::from_str_radix(text.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                // Trailers up to the blank line.
                loop {
                    let mut t = Vec::new();
                    if reader.read_until(b'\n', &mut t)? == 0 {
                        return Ok(raw);
                    }
                    raw.extend_from_slice(&t);
                    if t == b"\r\n" || t == b"\n" {
                        return Ok(raw);
                    }
                }
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            raw.extend_from_slice(&chunk);
        }
    }
    let len: usize = header(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn canned(status: &str, code: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message><RequestId>chaos</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(
    client: TcpStream,
    upstream_port: u16,
    plan: Plan,
    counters: &Counters,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client;
    while let Some(head) = read_head(&mut reader)? {
        let body = read_body(&mut reader, &head, false)?;
        let is_head = head.starts_with(b"HEAD ");
        let line = String::from_utf8_lossy(&head).into_owned();
        let request_line = line.lines().next().unwrap_or_default();
        let _in_flight = if request_line.contains("partNumber=") {
            counters.parts.enter()
        } else if request_line.contains("list-type=2") {
            counters.lists.enter()
        } else {
            InFlight(None)
        };
        let fault = plan(counters.requests.fetch_add(1, Ordering::SeqCst), &line);
        if fault.is_some() {
            counters.injected.fetch_add(1, Ordering::SeqCst);
        }
        match fault {
            Some(Fault::Reset) => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(Fault::SlowDown) => {
                writer.write_all(&canned("503 Slow Down", "SlowDown"))?;
                continue;
            }
            Some(Fault::InternalError) => {
                writer.write_all(&canned("500 Internal Server Error", "InternalError"))?;
                continue;
            }
            Some(Fault::NotImplemented) => {
                writer.write_all(&canned("501 Not Implemented", "NotImplemented"))?;
                continue;
            }
            Some(Fault::PreconditionFailed) => {
                writer.write_all(&canned("412 Precondition Failed", "ConditionNotMet"))?;
                continue;
            }
            Some(Fault::Skewed(offset)) => {
                let mut answer = canned("403 Forbidden", "RequestTimeTooSkewed");
                let date = s3sync::util::time::Timestamp::from_system(std::time::SystemTime::now());
                let shifted = s3sync::util::time::Timestamp {
                    secs: date.secs + offset,
                    nanos: 0,
                };
                let at = answer
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .unwrap_or(0);
                let date_header = format!("\r\nDate: {}", shifted.http_date());
                answer.splice(at..at, date_header.into_bytes());
                writer.write_all(&answer)?;
                continue;
            }
            _ => {}
        }
        let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
        upstream.write_all(&head)?;
        upstream.write_all(&body)?;
        let mut up_reader = BufReader::new(upstream);
        let Some(resp_head) = read_head(&mut up_reader)? else {
            return Ok(());
        };
        let status = String::from_utf8_lossy(&resp_head)
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let no_body = is_head || status == 204 || status == 304 || (100..200).contains(&status);
        let resp_body = read_body(&mut up_reader, &resp_head, no_body)?;
        match fault {
            Some(Fault::Truncate) => {
                if resp_body.len() > 1 {
                    writer.write_all(&resp_head)?;
                    writer.write_all(&resp_body[..resp_body.len() / 2])?;
                } else {
                    writer.write_all(&resp_head[..resp_head.len() / 2])?;
                }
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(Fault::Stall(pause)) => {
                std::thread::sleep(pause);
                writer.write_all(&resp_head)?;
                writer.write_all(&resp_body)?;
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            _ => {
                writer.write_all(&resp_head)?;
                writer.write_all(&resp_body)?;
            }
        }
    }
    Ok(())
}
