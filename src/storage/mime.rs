//! Content-Type of a local file from its extension: a small built-in table, extended by
//! `/etc/mime.types` when the system has one. Files with an unknown or no extension are
//! sent as `application/octet-stream`, as aws-cli and the reference do, rather than with no
//! Content-Type (which some stores turn into `binary/octet-stream`).

use std::collections::HashMap;
use std::sync::OnceLock;

const BUILT_IN: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("avif", "image/avif"),
    ("bin", "application/octet-stream"),
    ("bmp", "image/bmp"),
    ("bz2", "application/x-bzip2"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("eot", "application/vnd.ms-fontobject"),
    ("epub", "application/epub+zip"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ico", "image/vnd.microsoft.icon"),
    ("ics", "text/calendar"),
    ("jar", "application/java-archive"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("jsonld", "application/ld+json"),
    ("m4a", "audio/mp4"),
    ("md", "text/markdown"),
    ("mjs", "text/javascript"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("otf", "font/otf"),
    ("parquet", "application/vnd.apache.parquet"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("rar", "application/vnd.rar"),
    ("rtf", "application/rtf"),
    ("sh", "application/x-sh"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("ts", "video/mp2t"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("weba", "audio/webm"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xhtml", "application/xhtml+xml"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xml", "application/xml"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("zip", "application/zip"),
    ("zst", "application/zstd"),
];

/// Parses the `type ext ext...` lines of a mime.types file.
fn parse_mime_types(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let Some(mime) = fields.next().filter(|m| m.contains('/')) else {
            continue;
        };
        for ext in fields {
            out.entry(ext.to_ascii_lowercase())
                .or_insert_with(|| mime.to_string());
        }
    }
    out
}

fn table() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = std::fs::read_to_string("/etc/mime.types")
            .map(|t| parse_mime_types(&t))
            .unwrap_or_default();
        // The built-in entries win: they are what users of the other tools expect.
        for (ext, mime) in BUILT_IN {
            map.insert((*ext).to_string(), (*mime).to_string());
        }
        map
    })
}

/// The Content-Type for a key or file name, if its extension is known.
pub fn guess(name: &str) -> Option<String> {
    let file = name.rsplit('/').next().unwrap_or(name);
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() && !file[1..].contains('.') {
        // `.bashrc` has no extension.
        return None;
    }
    table().get(&ext.to_ascii_lowercase()).cloned()
}

/// The Content-Type a file of this name is uploaded with.
pub fn content_type_for(name: &str) -> String {
    guess(name).unwrap_or_else(|| "application/octet-stream".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_common_types() {
        assert_eq!(guess("img.png").as_deref(), Some("image/png"));
        assert_eq!(guess("dir/Page.HTML").as_deref(), Some("text/html"));
        assert_eq!(guess("noext"), None);
        assert_eq!(guess(".bashrc"), None);
        assert_eq!(guess("archive.tar.gz").as_deref(), Some("application/gzip"));
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(content_type_for("x.unknownext"), "application/octet-stream");
        assert_eq!(content_type_for("a.png"), "image/png");
    }

    #[test]
    fn reads_mime_types_files() {
        let m = parse_mime_types("# comment\napplication/x-foo foo fo\ntext/plain\n");
        assert_eq!(m.get("foo").map(String::as_str), Some("application/x-foo"));
        assert_eq!(m.get("fo").map(String::as_str), Some("application/x-foo"));
        assert_eq!(m.len(), 2);
    }
}
