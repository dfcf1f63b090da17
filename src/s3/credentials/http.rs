//! The small HTTP exchanges of the credential services (STS, container, instance metadata).

use std::time::Duration;

use ureq::http;

/// Largest answer read from a credential service.
const MAX_BODY: u64 = 1 << 20;

/// A URL split into what the network layer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    /// `host[:port]` (IPv6 in brackets).
    pub authority: String,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses `http(s)://authority[/path]`. Errors never show user info.
    pub fn parse(text: &str) -> Result<Url, String> {
        let (https, rest) = if let Some(r) = text.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = text.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("must start with http:// or https://".into());
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', ' ', '?', '#']) {
            return Err("must be http(s)://host[:port][/path], without user info".into());
        }
        Ok(Url {
            https,
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }

    pub fn to_url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.https { "https" } else { "http" },
            self.authority,
            self.path
        )
    }

    /// The host without brackets or port.
    pub fn host(&self) -> &str {
        crate::http::network::split_authority(&self.authority, 0).0
    }
}

/// Sends one request and returns the status and the body as text. Transport failures
/// come back as text naming the host (never headers, which may carry tokens).
pub fn exchange(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<(u16, String), String> {
    let mut builder = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let result = match body {
        Some(b) => builder
            .header("content-length", b.len().to_string())
            .body(b)
            .map_err(|e| format!("cannot build the request: {e}"))
            .map(|r| agent.run(r)),
        None => builder
            .body(())
            .map_err(|e| format!("cannot build the request: {e}"))
            .map(|r| agent.run(r)),
    }?;
    let response = result.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    Ok((status, text))
}

/// Timeout for each phase of a credential service call.
pub const SERVICE_TIMEOUT: Duration = Duration::from_secs(10);
