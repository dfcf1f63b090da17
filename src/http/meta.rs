//! What an object carries besides its bytes, in HTTP terms both stores share.

/// The content headers and user metadata a store keeps with an object and a copy carries
/// over. Each client reads and writes them in its own headers (S3 `x-amz-meta-*`, Blob
/// `x-ms-meta-*` and `x-ms-blob-content-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<String>,
    /// A redirect the store serves instead of the object (S3 website hosting).
    pub website_redirect: Option<String>,
    /// User metadata, names without the store's prefix, sorted by name.
    pub user: Vec<(String, String)>,
}
