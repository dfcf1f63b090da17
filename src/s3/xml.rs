//! Parsers for the S3 XML responses we read, built on a small element tree.
//!
//! Every response document is at most a few megabytes (a list page holds at most 1000 entries),
//! so we read it into a [`Node`] tree first and then pick fields by name. That keeps each
//! parser a handful of lines and tolerant of element order and of extra elements. Element
//! names are matched without namespace prefixes. Input is untrusted: nesting depth and node
//! count are capped, and every failure is an [`XmlError`], never a panic (see `fuzz/`).
//!
//! Listing pages are read with [`read_document_from`], straight from the response stream,
//! which hands each child of the root to the parser as soon as it is complete: neither the
//! page's text (about 300 KB for 1000 entries) nor its whole tree (several times that) is
//! ever held. Several pages are parsed at once by the listings running ahead, so this is
//! what keeps a large sync's memory low.

pub use bodies::*;

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::http::xml::local_name;
pub use crate::http::xml::{Node, XmlError, escape, parse_tree, read_document, read_document_from};
use crate::integrity::checksum::Algorithm;
use crate::util::encoding::percent_decode;
use crate::util::time::Timestamp;

mod bodies;
pub mod uploads;
pub mod versions;

fn expect_root(body: &str, name: &str) -> Result<Node, XmlError> {
    let root = parse_tree(body)?;
    if root.name != name {
        return Err(XmlError(format!(
            "expected <{name}>, found <{}>",
            root.name
        )));
    }
    Ok(root)
}

fn parse_u64(node: &Node, name: &str) -> Result<u64, XmlError> {
    let text = node
        .text_of(name)
        .ok_or_else(|| XmlError(format!("<{name}> missing")))?;
    text.trim()
        .parse()
        .map_err(|_| XmlError(format!("<{name}> is not a number: {text:?}")))
}

/// An S3 `<Error>` document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub request_id: String,
    /// `<Region>` of a wrong-region answer, when present.
    pub region: Option<String>,
}

/// The local name of a document's root element, read without parsing the rest.
fn root_name(body: &str) -> Option<String> {
    let mut reader = Reader::from_str(body);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => return Some(local_name(e.name().as_ref())),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Parses an error document; `None` when the body is not one. Every response body is asked
/// (S3 can answer 200 with an error), so other documents are told apart by their root alone.
pub fn parse_error(body: &str) -> Option<ErrorBody> {
    if root_name(body)? != "Error" {
        return None;
    }
    let root = parse_tree(body).ok()?;
    Some(ErrorBody {
        code: root.text_of("Code").unwrap_or_default().to_string(),
        message: root.text_of("Message").unwrap_or_default().to_string(),
        request_id: root.text_of("RequestId").unwrap_or_default().to_string(),
        region: root.text_of("Region").map(str::to_string),
    })
}

/// One `<Contents>` entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    pub last_modified: Timestamp,
    /// ETag with its quotes, as S3 sends it; some stores omit it in listings.
    pub etag: Option<String>,
    pub storage_class: Option<String>,
    pub checksum_algorithm: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE`, where the store reports it.
    pub checksum_type: Option<String>,
}

/// One ListObjectsV2 page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    pub objects: Vec<ListedObject>,
    pub common_prefixes: Vec<String>,
    pub next_continuation_token: Option<String>,
    pub is_truncated: bool,
}

/// Decodes a key of a listing made with `encoding-type=url` (S3 writes spaces as `+`).
/// How to read the keys of a listing: URL-decoded when it says it was sent with
/// `encoding-type=url`, as they are otherwise.
fn key_decoder(root: &Node) -> impl Fn(&str) -> Result<String, XmlError> + use<> {
    let url_encoded = root
        .text_of("EncodingType")
        .is_some_and(|t| t.eq_ignore_ascii_case("url"));
    move |text: &str| {
        if url_encoded {
            decode_url_key(text)
        } else {
            Ok(text.to_string())
        }
    }
}

fn decode_url_key(text: &str) -> Result<String, XmlError> {
    percent_decode(&text.replace('+', " "))
        .ok_or_else(|| XmlError(format!("key {text:?} is not UTF-8 once decoded")))
}

/// Parses a `ListBucketResult` (ListObjectsV2).
pub fn parse_list_objects_v2(body: &str) -> Result<ListPage, XmlError> {
    read_list_objects_v2(body.as_bytes())
}

/// [`parse_list_objects_v2`] from a stream.
pub fn read_list_objects_v2(input: impl BufRead) -> Result<ListPage, XmlError> {
    // Entries are taken out as they are read; their keys are decoded at the end, once the
    // root's EncodingType (wherever it stands) is known.
    let mut objects = Vec::new();
    let mut prefixes = Vec::new();
    let root = read_document_from(input, &mut |child| {
        match child.name.as_str() {
            "Contents" => objects.push(listed_object(child)?),
            "CommonPrefixes" => prefixes.extend(
                child
                    .children
                    .into_iter()
                    .find(|c| c.name == "Prefix")
                    .map(|p| p.text),
            ),
            _ => return Ok(Some(child)),
        }
        Ok(None)
    })?;
    if root.name != "ListBucketResult" {
        return Err(XmlError(format!(
            "expected <ListBucketResult>, found <{}>",
            root.name
        )));
    }
    let decode = key_decoder(&root);
    for obj in &mut objects {
        obj.key = decode(&obj.key)?;
    }
    let page = ListPage {
        is_truncated: root
            .text_of("IsTruncated")
            .is_some_and(|t| t.trim() == "true"),
        next_continuation_token: root
            .text_of("NextContinuationToken")
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        objects,
        common_prefixes: prefixes
            .iter()
            .map(|p| decode(p))
            .collect::<Result<_, _>>()?,
    };
    if page.is_truncated && page.next_continuation_token.is_none() {
        return Err(XmlError(
            "truncated listing without a continuation token".into(),
        ));
    }
    Ok(page)
}

/// One `<Contents>` element as a [`ListedObject`], its key not yet decoded.
fn listed_object(entry: Node) -> Result<ListedObject, XmlError> {
    let size = parse_u64(&entry, "Size")?;
    let mut obj = ListedObject {
        key: String::new(),
        size,
        last_modified: Timestamp::default(),
        etag: None,
        storage_class: None,
        checksum_algorithm: None,
        checksum_type: None,
    };
    let mut key = None;
    let mut modified = None;
    // The first of repeated fields counts, as `Node::text_of` reads them.
    for field in entry.children {
        let slot = match field.name.as_str() {
            "Key" => &mut key,
            "LastModified" => &mut modified,
            "ETag" => &mut obj.etag,
            "StorageClass" => &mut obj.storage_class,
            "ChecksumAlgorithm" => &mut obj.checksum_algorithm,
            "ChecksumType" => &mut obj.checksum_type,
            _ => continue,
        };
        slot.get_or_insert(field.text);
    }
    obj.etag = obj.etag.filter(|t| !t.is_empty());
    obj.key = key.ok_or_else(|| XmlError("<Contents> without <Key>".into()))?;
    let lm = modified.unwrap_or_default();
    obj.last_modified = Timestamp::parse_rfc3339(lm.trim())
        .ok_or_else(|| XmlError(format!("bad <LastModified> {lm:?}")))?;
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>p%2Fa+b%2Bc%25d</Key><LastModified>2024-06-15T01:02:27.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>p%2F%E2%98%83</Key><LastModified>2024-06-15T01:02:28Z</LastModified><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>p%2Fdir%2F</Prefix></CommonPrefixes>
</ListBucketResult>"#;

    #[test]
    fn parses_url_encoded_listing() {
        let page = parse_list_objects_v2(LIST).unwrap_or_default();
        assert!(page.is_truncated);
        assert_eq!(
            page.next_continuation_token.as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
        assert_eq!(page.objects.len(), 2);
        assert_eq!(page.objects[0].key, "p/a b+c%d");
        assert_eq!(
            page.objects[0].etag.as_deref(),
            Some("\"9b2cf535f27731c974343645a3985328\"")
        );
        assert_eq!(page.objects[0].size, 10);
        assert_eq!(page.objects[0].last_modified.secs, 1_718_413_347);
        assert_eq!(page.objects[1].key, "p/☃");
        assert_eq!(page.objects[1].etag, None);
        assert_eq!(page.common_prefixes, vec!["p/dir/".to_string()]);
    }

    #[test]
    fn plain_listing_keeps_keys_verbatim() {
        let body = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b%20</Key>\
            <LastModified>2024-06-15T01:02:27.000Z</LastModified><Size>1</Size></Contents></ListBucketResult>";
        let page = parse_list_objects_v2(body).unwrap_or_default();
        assert_eq!(page.objects[0].key, "a+b%20");
        assert!(!page.is_truncated);
    }

    /// Entries are parsed before the root's EncodingType is known; it may come last.
    #[test]
    fn listing_fields_in_any_order() {
        let body = "<ListBucketResult><Contents><Size>3</Size><ETag></ETag><Key>a%2Bb</Key>\
            <LastModified>2024-06-15T01:02:27Z</LastModified><Key>ignored</Key></Contents>\
            <CommonPrefixes><Prefix>d%20e/</Prefix></CommonPrefixes><IsTruncated>false</IsTruncated>\
            <EncodingType>url</EncodingType></ListBucketResult>";
        let page = parse_list_objects_v2(body).unwrap_or_default();
        assert_eq!(page.objects.len(), 1);
        assert_eq!(page.objects[0].key, "a+b");
        assert_eq!(page.objects[0].size, 3);
        assert_eq!(page.objects[0].etag, None);
        assert_eq!(page.common_prefixes, vec!["d e/".to_string()]);
        assert!(
            parse_list_objects_v2(
                "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>"
            )
            .is_err()
        );
        assert!(parse_list_objects_v2("<Other><IsTruncated>false</IsTruncated></Other>").is_err());
    }

    #[test]
    fn read_document_keeps_only_what_the_visitor_returns() {
        let mut seen = Vec::new();
        let root = read_document("<r><a>1</a><b><c>2</c></b><a>3</a></r>", &mut |child| {
            if child.name == "a" {
                seen.push(child.text);
                return Ok(None);
            }
            Ok(Some(child))
        })
        .unwrap_or_default();
        assert_eq!(seen, ["1", "3"]);
        assert_eq!(root.children.len(), 1);
        assert_eq!(root.text_of("b"), Some(""));
        assert_eq!(root.child("b").and_then(|b| b.text_of("c")), Some("2"));
        assert_eq!(parse_error(LIST), None);
        assert_eq!(parse_error("not xml <"), None);
    }

    #[test]
    fn rejects_truncated_listing_without_token() {
        let body = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
        assert!(parse_list_objects_v2(body).is_err());
    }

    #[test]
    fn parses_errors() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request \
            signature we calculated does not match</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
        let err = parse_error(body).unwrap_or_default();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        assert_eq!(err.request_id, "4442587FB7D0A2F9");
        assert!(parse_error("<ListBucketResult/>").is_none());
        assert!(parse_error("not xml <").is_none());
    }

    #[test]
    fn parses_multipart_documents() {
        let init = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc-123</UploadId>\
            </InitiateMultipartUploadResult>";
        assert_eq!(parse_initiate_multipart(init), Ok("abc-123".to_string()));
        let done = "<CompleteMultipartUploadResult><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\
            </CompleteMultipartUploadResult>";
        assert_eq!(
            parse_complete_multipart(done),
            Ok(("\"3858f62230ac3c915f300c664312c11f-9\"".to_string(), None))
        );
        let with_sum = "<CompleteMultipartUploadResult><ETag>e-2</ETag><ChecksumCRC32C>AAAAAA==-2</ChecksumCRC32C>\
            </CompleteMultipartUploadResult>";
        assert_eq!(
            parse_complete_multipart(with_sum),
            Ok((
                "e-2".to_string(),
                Some((Algorithm::Crc32c, "AAAAAA==-2".to_string()))
            ))
        );
        let failed = "<Error><Code>InternalError</Code><Message>oops</Message></Error>";
        assert!(
            matches!(parse_complete_multipart(failed), Err(Ok(e)) if e.code == "InternalError")
        );
    }

    #[test]
    fn parses_delete_results_and_builds_bodies() {
        let body = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>\
            <Message>no</Message></Error></DeleteResult>";
        let r = parse_delete_result(body).unwrap_or_default();
        assert_eq!(r.deleted, vec!["a".to_string()]);
        assert_eq!(
            r.errors,
            vec![("b".into(), "AccessDenied".into(), "no".into())]
        );
        assert_eq!(
            delete_objects_body(&["a&b<c".to_string()]),
            "<Delete><Quiet>true</Quiet><Object><Key>a&amp;b&lt;c</Key></Object></Delete>"
        );
        assert_eq!(
            complete_multipart_body(&[CompletedPart {
                number: 1,
                etag: "\"e1\"".into(),
                checksum: None
            }]),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        assert_eq!(
            complete_multipart_body(&[CompletedPart {
                number: 2,
                etag: "e".into(),
                checksum: Some((Algorithm::Sha256, "x+y=".into()))
            }]),
            "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>e</ETag>\
             <ChecksumSHA256>x+y=</ChecksumSHA256></Part></CompleteMultipartUpload>"
        );
    }

    #[test]
    fn tagging_round_trips() {
        let tags = vec![
            ("a b".to_string(), "x&y".to_string()),
            ("k".to_string(), String::new()),
        ];
        assert_eq!(parse_tagging(&tagging_body(&tags)), Ok(tags));
        assert!(parse_tagging("<Tagging/>").is_err());
    }

    #[test]
    fn escaped_keys_round_trip_through_the_parser() {
        let key = "tab\there & <angle> \"q\" 'a' \u{1}";
        let body = format!(
            "<ListBucketResult><Contents><Key>{}</Key><LastModified>2024-06-15T01:02:27Z</LastModified>\
             <Size>1</Size></Contents></ListBucketResult>",
            escape(key)
        );
        let page = parse_list_objects_v2(&body).unwrap_or_default();
        assert_eq!(page.objects.first().map(|o| o.key.as_str()), Some(key));
    }

    #[test]
    fn caps_nesting_depth() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse_tree(&deep).is_err());
        assert!(parse_tree("<a><b></a>").is_err());
        assert!(parse_tree("").is_err());
    }
}
