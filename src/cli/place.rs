//! SOURCE and TARGET as the user wrote them: an `s3://bucket/prefix` or a local path, before
//! credentials and endpoints are attached.

use std::path::PathBuf;

use super::CliError;
use crate::azure::location::BlobLocation;
use crate::util::encoding::percent_decode;

/// A SOURCE or TARGET argument, before credentials are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Local(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
    /// An Azure Blob container and prefix (`https://ACCOUNT.blob.core.windows.net/C/P`, or
    /// path-style `http(s)://HOST:PORT/ACCOUNT/C/P` for emulators), its SAS kept apart.
    Blob(Box<BlobLocation>),
}

impl Place {
    pub fn is_local(&self) -> bool {
        matches!(self, Place::Local(_))
    }
}

/// Parses `s3://bucket[/prefix]` or a local path. The prefix is percent-decoded (`%20` is a
/// space, `+` stays `+`), and kept exactly, slashes included.
pub fn parse_place(text: &str, what: &str) -> Result<Place, CliError> {
    if text.is_empty() {
        return Err(CliError::usage(format!("{what}: path must be specified")));
    }
    let scheme_end = text.find("://");
    let is_url = scheme_end.is_some_and(|i| {
        i > 1
            && text[..i]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && text[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let Some(i) = scheme_end.filter(|_| is_url) else {
        return Ok(Place::Local(PathBuf::from(text)));
    };
    let scheme = &text[..i];
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        // An http(s):// location is never S3 (those are s3://): it is Azure Blob Storage.
        // The parser's messages never repeat the query, which may hold a SAS signature.
        return BlobLocation::parse(text)
            .map(|l| Place::Blob(Box::new(l)))
            .map_err(|e| CliError::usage(format!("{what}: {e}")));
    }
    if !scheme.eq_ignore_ascii_case("s3") {
        return Err(CliError::usage(format!(
            "{what} '{text}': the scheme must be s3:// (S3), http(s):// (Azure Blob) or none (a local path)"
        )));
    }
    let rest = &text[i + 3..];
    let (bucket, raw_prefix) = match rest.find('/') {
        Some(j) => (&rest[..j], &rest[j + 1..]),
        None => (rest, ""),
    };
    if bucket.is_empty() {
        return Err(CliError::usage(format!(
            "{what} '{text}': the bucket name must be specified"
        )));
    }
    let prefix = percent_decode(raw_prefix).ok_or_else(|| {
        CliError::usage(format!(
            "{what} '{text}': the prefix is not valid UTF-8 once decoded"
        ))
    })?;
    Ok(Place::S3 {
        bucket: bucket.to_string(),
        prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_places() {
        let s3 = |b: &str, p: &str| {
            Ok(Place::S3 {
                bucket: b.into(),
                prefix: p.into(),
            })
        };
        assert_eq!(parse_place("s3://b", "T"), s3("b", ""));
        assert_eq!(parse_place("s3://b/", "T"), s3("b", ""));
        assert_eq!(parse_place("s3://b//", "T"), s3("b", "/"));
        assert_eq!(parse_place("s3://b/a%20b+c/", "T"), s3("b", "a b+c/"));
        assert_eq!(parse_place("s3://b/☃", "T"), s3("b", "☃"));
        assert_eq!(
            parse_place("./dir", "T"),
            Ok(Place::Local(PathBuf::from("./dir")))
        );
        assert_eq!(
            parse_place("C:\\dir", "T"),
            Ok(Place::Local(PathBuf::from("C:\\dir")))
        );
        assert!(parse_place("s3://", "T").is_err());
        assert!(parse_place("http://x/y", "T").is_err());
        assert!(parse_place("", "T").is_err());
    }
}
