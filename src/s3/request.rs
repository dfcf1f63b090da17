//! The shape of one S3 call: operation, method, bucket, key, query, headers and body, and
//! the SSE-C key some calls carry.

/// An SSE-C key: AES256, base64 of 32 bytes, with the base64 MD5 of the raw key. `Debug`
/// never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SseCustomerKey {
    pub key_base64: String,
    pub key_md5_base64: String,
}

impl std::fmt::Debug for SseCustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseCustomerKey")
            .field("key", &"<redacted>")
            .field("key_md5", &self.key_md5_base64)
            .finish()
    }
}

impl SseCustomerKey {
    /// The three headers that present this key, with `prefix` `x-amz-` for the object itself
    /// or `x-amz-copy-source-` for the source of a server-side copy.
    pub fn headers(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (
                format!("{prefix}server-side-encryption-customer-algorithm"),
                "AES256".into(),
            ),
            (
                format!("{prefix}server-side-encryption-customer-key"),
                self.key_base64.clone(),
            ),
            (
                format!("{prefix}server-side-encryption-customer-key-md5"),
                self.key_md5_base64.clone(),
            ),
        ]
    }
}

pub use crate::http::body::Payload;

/// One S3 API call.
pub struct Request<'a> {
    /// Operation name for errors and logs, e.g. `PutObject`.
    pub op: &'static str,
    pub method: &'static str,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
    pub query: Vec<(String, String)>,
    /// Extra headers (lower-case names); all are signed.
    pub headers: Vec<(String, String)>,
    pub payload: Payload<'a>,
}

impl<'a> Request<'a> {
    pub fn new(
        op: &'static str,
        method: &'static str,
        bucket: &'a str,
        key: Option<&'a str>,
    ) -> Request<'a> {
        Request {
            op,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn payload(mut self, payload: Payload<'a>) -> Self {
        self.payload = payload;
        self
    }
}
