//! The Blob service's XML: List Blobs pages, error documents, block lists and tags.
//!
//! A List Blobs page (up to 5,000 entries, about 2 MB) is read straight from the response
//! stream by a small state machine over `quick-xml` events: each entry is built as its
//! elements pass and nothing holds the page's text or tree. It also reads the `Encoded="true"`
//! attribute the service puts on names that XML cannot carry (percent-encoded then). The small
//! documents (errors, block lists, tags) go through the S3 client's element tree
//! ([`crate::http::xml::parse_tree`]). Input is untrusted: depth is capped and every failure is
//! an [`XmlError`], never a panic.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::blocks::BlockId;
use super::properties::BlobProperties;
pub use crate::http::xml::XmlError;
use crate::http::xml::{escape, parse_tree};
use crate::util::encoding::percent_decode;

const MAX_DEPTH: usize = 32;

/// One entry of a List Blobs page. Nearly every entry is a blob, so the size difference
/// between the variants costs nothing worth a box per entry.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    Blob {
        name: String,
        properties: BlobProperties,
    },
    /// A virtual directory (`BlobPrefix`) of a listing with a delimiter, ending with it.
    Prefix(String),
}

/// One List Blobs page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// In the service's order: UTF-8 byte order of the names.
    pub entries: Vec<ListEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next_marker: Option<String>,
}

fn local_name(raw: &[u8]) -> String {
    let local = match raw.iter().rposition(|&b| b == b':') {
        Some(i) => &raw[i + 1..],
        None => raw,
    };
    String::from_utf8_lossy(local).into_owned()
}

fn is_encoded(e: &BytesStart<'_>) -> bool {
    e.attributes().flatten().any(|a| {
        a.key.as_ref().eq_ignore_ascii_case(b"Encoded")
            && a.value.as_ref().eq_ignore_ascii_case(b"true")
    })
}

/// The entry being read.
#[derive(Default)]
struct Partial {
    name: Option<String>,
    properties: BlobProperties,
    tag_key: Option<String>,
    tag_value: Option<String>,
}

/// Reads a List Blobs page (`EnumerationResults`) from a stream.
pub fn read_list_blobs(input: impl BufRead) -> Result<ListPage, XmlError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut encoded = false;
    let mut page = ListPage::default();
    let mut entry = Partial::default();
    let mut seen_root = false;
    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| XmlError(e.to_string()))?;
        let (start, end) = match &event {
            Event::Start(e) => (Some((local_name(e.name().as_ref()), is_encoded(e))), false),
            Event::Empty(e) => (Some((local_name(e.name().as_ref()), is_encoded(e))), true),
            Event::End(_) => (None, true),
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| XmlError(e.to_string()))?);
                (None, false)
            }
            Event::CData(t) => {
                text.push_str(&String::from_utf8_lossy(t));
                (None, false)
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| XmlError(e.to_string()))?;
                text.push(
                    crate::http::xml::resolve_entity(&name)
                        .ok_or_else(|| XmlError(format!("unknown entity &{name};")))?,
                );
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some((name, enc)) = start {
            if path.is_empty() {
                if seen_root {
                    return Err(XmlError("content after the root element".into()));
                }
                if name != "EnumerationResults" {
                    return Err(XmlError(format!(
                        "expected <EnumerationResults>, found <{name}>"
                    )));
                }
                seen_root = true;
            }
            if path.len() >= MAX_DEPTH {
                return Err(XmlError("elements nested too deeply".into()));
            }
            path.push(name);
            text.clear();
            encoded = enc;
        }
        if end {
            let name = path
                .pop()
                .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
            let parents: Vec<&str> = path.iter().map(String::as_str).collect();
            let value = std::mem::take(&mut text);
            match (parents.as_slice(), name.as_str()) {
                (["EnumerationResults"], "NextMarker") => {
                    page.next_marker = Some(value).filter(|m| !m.is_empty());
                }
                ([.., "Blobs", "Blob" | "BlobPrefix"], "Name") => {
                    let name = if encoded {
                        percent_decode(&value).ok_or_else(|| {
                            XmlError(format!("name {value:?} is not UTF-8 once decoded"))
                        })?
                    } else {
                        value
                    };
                    entry.name = Some(name);
                }
                ([.., "Blobs"], "Blob") => {
                    let done = std::mem::take(&mut entry);
                    let name = done
                        .name
                        .ok_or_else(|| XmlError("<Blob> without <Name>".into()))?;
                    page.entries.push(ListEntry::Blob {
                        name,
                        properties: done.properties,
                    });
                }
                ([.., "Blobs"], "BlobPrefix") => {
                    let done = std::mem::take(&mut entry);
                    let name = done
                        .name
                        .ok_or_else(|| XmlError("<BlobPrefix> without <Name>".into()))?;
                    page.entries.push(ListEntry::Prefix(name));
                }
                ([.., "Blob", "Properties"], property) => entry.properties.set(property, &value),
                ([.., "Blob", "Metadata"], meta) => {
                    entry.properties.metadata.push((meta.to_string(), value));
                }
                ([.., "Blob", "Tags", "TagSet", "Tag"], "Key") => entry.tag_key = Some(value),
                ([.., "Blob", "Tags", "TagSet", "Tag"], "Value") => entry.tag_value = Some(value),
                ([.., "Blob", "Tags", "TagSet"], "Tag") => {
                    if let Some(key) = entry.tag_key.take() {
                        let value = entry.tag_value.take().unwrap_or_default();
                        entry.properties.tags.push((key, value));
                    }
                }
                _ => {}
            }
            encoded = false;
        }
    }
    if !path.is_empty() {
        return Err(XmlError("document ends inside an element".into()));
    }
    if !seen_root {
        return Err(XmlError("empty document".into()));
    }
    Ok(page)
}

/// An `<Error>` document: code and message; `None` when the body is not one.
pub fn parse_error(body: &str) -> Option<(String, String)> {
    let root = parse_tree(body).ok()?;
    if root.name != "Error" {
        return None;
    }
    Some((
        root.text_of("Code").unwrap_or_default().to_string(),
        root.text_of("Message").unwrap_or_default().to_string(),
    ))
}

/// One block of a block list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlock {
    pub id: BlockId,
    pub size: u64,
}

/// A Get Block List answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockList {
    pub committed: Vec<ListedBlock>,
    pub uncommitted: Vec<ListedBlock>,
}

/// Parses a `BlockList` document.
pub fn parse_block_list(body: &str) -> Result<BlockList, XmlError> {
    let root = parse_tree(body)?;
    if root.name != "BlockList" {
        return Err(XmlError(format!(
            "expected <BlockList>, found <{}>",
            root.name
        )));
    }
    let blocks = |group: &str| -> Result<Vec<ListedBlock>, XmlError> {
        let Some(node) = root.child(group) else {
            return Ok(Vec::new());
        };
        node.children_named("Block")
            .map(|b| {
                let id = b.text_of("Name").unwrap_or_default().trim();
                let size = b.text_of("Size").unwrap_or("0").trim();
                Ok(ListedBlock {
                    id: BlockId::from_base64(id),
                    size: size
                        .parse()
                        .map_err(|_| XmlError(format!("block size {size:?} is not a number")))?,
                })
            })
            .collect()
    };
    Ok(BlockList {
        committed: blocks("CommittedBlocks")?,
        uncommitted: blocks("UncommittedBlocks")?,
    })
}

/// The body of Put Block List: every block the latest uploaded under its id, in order.
pub fn block_list_body(ids: &[BlockId]) -> String {
    let mut out = String::with_capacity(64 + ids.len() * 40);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for id in ids {
        out.push_str("<Latest>");
        out.push_str(&escape(id.as_str()));
        out.push_str("</Latest>");
    }
    out.push_str("</BlockList>");
    out
}

/// Parses a `Tags` document (Get Blob Tags).
pub fn parse_tags(body: &str) -> Result<Vec<(String, String)>, XmlError> {
    let root = parse_tree(body)?;
    if root.name != "Tags" {
        return Err(XmlError(format!("expected <Tags>, found <{}>", root.name)));
    }
    Ok(root
        .child("TagSet")
        .map(|set| {
            set.children_named("Tag")
                .map(|t| {
                    (
                        t.text_of("Key").unwrap_or_default().to_string(),
                        t.text_of("Value").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The body of Set Blob Tags.
pub fn tags_body(tags: &[(String, String)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet>");
    for (k, v) in tags {
        out.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            escape(k),
            escape(v)
        ));
    }
    out.push_str("</TagSet></Tags>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page as the service writes it (shape of version 2025-01-05, values invented).
    const PAGE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="photos">
  <Prefix>2024/</Prefix>
  <MaxResults>3</MaxResults>
  <Delimiter>/</Delimiter>
  <Blobs>
    <Blob>
      <Name>2024/a b+c%.jpg</Name>
      <Properties>
        <Creation-Time>Mon, 06 Jan 2025 09:59:59 GMT</Creation-Time>
        <Last-Modified>Mon, 06 Jan 2025 10:00:00 GMT</Last-Modified>
        <Etag>0x8DD2E3F4A5B6C7D</Etag>
        <Content-Length>11</Content-Length>
        <Content-Type>image/jpeg</Content-Type>
        <Content-Encoding />
        <Content-Language />
        <Content-CRC64 />
        <Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5>
        <Cache-Control />
        <Content-Disposition />
        <BlobType>BlockBlob</BlobType>
        <AccessTier>Hot</AccessTier>
        <AccessTierInferred>true</AccessTierInferred>
        <LeaseStatus>unlocked</LeaseStatus>
        <LeaseState>available</LeaseState>
        <ServerEncrypted>true</ServerEncrypted>
        <TagCount>1</TagCount>
      </Properties>
      <Metadata><origin>laptop &amp; phone</origin></Metadata>
      <Tags><TagSet><Tag><Key>project</Key><Value>x&lt;y</Value></Tag></TagSet></Tags>
      <OrMetadata />
    </Blob>
    <Blob>
      <Name Encoded="true">2024/bell%07.txt</Name>
      <Properties>
        <Last-Modified>Mon, 06 Jan 2025 10:00:01 GMT</Last-Modified>
        <Etag>0x8DD2E3F4A5B6C7E</Etag>
        <Content-Length>0</Content-Length>
        <Content-MD5 />
        <BlobType>BlockBlob</BlobType>
      </Properties>
      <Metadata />
    </Blob>
    <BlobPrefix><Name>2024/raw/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!84!MDAwMDE1ITIwMjQvcmF3LyEwMDAwMjghOTk5OS0xMi0zMVQyMzo1OTo1OS45OTk5OTk5Wg--</NextMarker>
</EnumerationResults>"#;

    #[test]
    fn reads_a_list_blobs_page() {
        let page = read_list_blobs(PAGE.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.entries.len(), 3);
        let ListEntry::Blob { name, properties } = &page.entries[0] else {
            panic!("not a blob: {:?}", page.entries[0]);
        };
        assert_eq!(name, "2024/a b+c%.jpg");
        assert_eq!(properties.size, 11);
        assert_eq!(properties.etag.as_deref(), Some("0x8DD2E3F4A5B6C7D"));
        assert_eq!(
            properties.last_modified.map(|t| t.secs),
            Some(1_736_157_600)
        );
        assert_eq!(
            properties.content_md5_base64().as_deref(),
            Some("XrY7u+Ae7tCTyyK7j1rNww==")
        );
        assert_eq!(
            properties.content.content_type.as_deref(),
            Some("image/jpeg")
        );
        assert_eq!(properties.content.content_encoding, None);
        assert_eq!(properties.access_tier.as_deref(), Some("Hot"));
        assert!(properties.access_tier_inferred);
        assert_eq!(properties.tag_count, Some(1));
        assert_eq!(
            properties.metadata,
            vec![("origin".into(), "laptop & phone".into())]
        );
        assert_eq!(properties.tags, vec![("project".into(), "x<y".into())]);
        let ListEntry::Blob { name, properties } = &page.entries[1] else {
            panic!("not a blob: {:?}", page.entries[1]);
        };
        assert_eq!(name, "2024/bell\u{7}.txt");
        assert_eq!((properties.size, properties.content_md5), (0, None));
        assert!(properties.metadata.is_empty());
        assert_eq!(page.entries[2], ListEntry::Prefix("2024/raw/".into()));
        assert!(
            page.next_marker
                .as_deref()
                .is_some_and(|m| m.starts_with("2!84!"))
        );
    }

    #[test]
    fn the_last_page_has_no_marker_and_bad_pages_fail() {
        let last = r#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs /><NextMarker /></EnumerationResults>"#;
        let page = read_list_blobs(last.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page, ListPage::default());
        for bad in [
            "",
            "<Error><Code>X</Code></Error>",
            "<EnumerationResults><Blobs><Blob><Name>a</Name>",
            "<EnumerationResults><Blobs><Blob><Properties/></Blob></Blobs></EnumerationResults>",
            "<EnumerationResults><Blobs><Blob><Name>&bogus;</Name></Blob></Blobs></EnumerationResults>",
        ] {
            assert!(
                read_list_blobs(bad.as_bytes()).is_err(),
                "{bad:?} was accepted"
            );
        }
        let deep = format!("<EnumerationResults>{}", "<a>".repeat(64));
        assert!(read_list_blobs(deep.as_bytes()).is_err());
    }

    #[test]
    fn reads_error_documents() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nRequestId:8d1b1d0e-e01e-0042-5d1d-4c0e2f000000\nTime:2025-01-06T10:00:00.0000000Z</Message><AuthenticationErrorDetail>The MAC signature found in the HTTP request 'abc=' is not the same as any computed signature.</AuthenticationErrorDetail></Error>";
        let (code, message) = parse_error(body.trim_start_matches('\u{feff}')).unwrap_or_default();
        assert_eq!(code, "AuthenticationFailed");
        assert!(message.starts_with("Server failed to authenticate"));
        assert!(parse_error("<EnumerationResults/>").is_none());
        assert!(parse_error("not xml <").is_none());
    }

    #[test]
    fn block_lists_and_tags_round_trip() {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<BlockList>
  <CommittedBlocks><Block><Name>MDAwMDAwMDA=</Name><Size>8388608</Size></Block></CommittedBlocks>
  <UncommittedBlocks>
    <Block><Name>MDAwMDAwMDE=</Name><Size>8388608</Size></Block>
    <Block><Name>MDAwMDAwMDI=</Name><Size>1024</Size></Block>
  </UncommittedBlocks>
</BlockList>"#;
        let list = parse_block_list(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.committed.len(), 1);
        assert_eq!(list.uncommitted[1].size, 1024);
        assert_eq!(list.uncommitted[1].id.index(), Some(2));
        assert_eq!(
            block_list_body(&[BlockId::new(0), BlockId::new(1)]),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>MDAwMDAwMDA=</Latest><Latest>MDAwMDAwMDE=</Latest></BlockList>"
        );
        let tags = vec![
            ("a&b".to_string(), "1 < 2".to_string()),
            ("k".into(), String::new()),
        ];
        assert_eq!(parse_tags(&tags_body(&tags)), Ok(tags));
        assert_eq!(parse_tags("<Tags><TagSet/></Tags>"), Ok(vec![]));
        assert!(parse_tags("<Other/>").is_err());
    }
}
