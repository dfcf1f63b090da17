//! Parsers for the listings of uploads in progress: `ListMultipartUploadsResult` and
//! `ListPartsResult`.

use super::{XmlError, expect_root, key_decoder, parse_tree};

/// One multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUpload {
    pub key: String,
    pub upload_id: String,
}

/// One ListMultipartUploads page: the uploads and, when truncated, where the next page
/// starts (`key-marker`, `upload-id-marker`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadPage {
    pub uploads: Vec<OpenUpload>,
    pub next: Option<(String, String)>,
}

/// Parses a page listed with `encoding-type=url`.
pub fn parse_list_multipart_uploads(body: &str) -> Result<UploadPage, XmlError> {
    let root = expect_root(body, "ListMultipartUploadsResult")?;
    let decode = key_decoder(&root);
    let mut page = UploadPage::default();
    for node in root.children_named("Upload") {
        let (Some(key), Some(id)) = (node.text_of("Key"), node.text_of("UploadId")) else {
            return Err(XmlError("<Upload> without <Key> or <UploadId>".into()));
        };
        page.uploads.push(OpenUpload {
            key: decode(key)?,
            upload_id: id.to_string(),
        });
    }
    if root.text_of("IsTruncated") == Some("true") {
        match (
            root.text_of("NextKeyMarker"),
            root.text_of("NextUploadIdMarker"),
        ) {
            (Some(k), Some(u)) => page.next = Some((decode(k)?, u.to_string())),
            _ => {
                return Err(XmlError(
                    "truncated upload listing without next markers".into(),
                ));
            }
        }
    }
    Ok(page)
}

/// One part an upload in progress already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    pub number: u32,
    /// The ETag without quotes; empty where the store lists none (s3s-fs).
    pub etag: String,
    pub size: u64,
}

/// One ListParts page: the parts and, when truncated, the part number the next page starts
/// after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartsPage {
    pub parts: Vec<UploadedPart>,
    pub next: Option<u32>,
}

/// Parses a ListParts page. moto names the root `ListPartsResponse`; S3 and s3s-fs
/// `ListPartsResult`.
pub fn parse_list_parts(body: &str) -> Result<PartsPage, XmlError> {
    let root = parse_tree(body)?;
    if !matches!(root.name.as_str(), "ListPartsResult" | "ListPartsResponse") {
        return Err(XmlError(format!(
            "expected <ListPartsResult>, found <{}>",
            root.name
        )));
    }
    let mut page = PartsPage::default();
    for node in root.children_named("Part") {
        let number = node
            .text_of("PartNumber")
            .and_then(|n| n.trim().parse().ok());
        let size = node.text_of("Size").and_then(|n| n.trim().parse().ok());
        let (Some(number), Some(size)) = (number, size) else {
            return Err(XmlError(
                "<Part> without a valid <PartNumber> or <Size>".into(),
            ));
        };
        let etag = node.text_of("ETag").unwrap_or_default().trim();
        page.parts.push(UploadedPart {
            number,
            etag: crate::integrity::etag::strip_quotes(etag).to_string(),
            size,
        });
    }
    if root.text_of("IsTruncated") == Some("true") {
        match root
            .text_of("NextPartNumberMarker")
            .and_then(|n| n.trim().parse().ok())
        {
            Some(n) => page.next = Some(n),
            None => {
                return Err(XmlError(
                    "truncated part listing without a next part number marker".into(),
                ));
            }
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uploads_and_markers() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextKeyMarker>dir/a%20b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
  <Upload><Key>dir/a%20b</Key><UploadId>u1</UploadId><Initiated>2024-01-01T00:00:00.000Z</Initiated></Upload>
  <Upload><Key>dir/a%20b</Key><UploadId>u2</UploadId></Upload>
</ListMultipartUploadsResult>"#;
        let page = parse_list_multipart_uploads(body).unwrap_or_default();
        assert_eq!(page.uploads.len(), 2);
        assert_eq!(page.uploads[0].key, "dir/a b");
        assert_eq!(page.uploads[1].upload_id, "u2");
        assert_eq!(page.next, Some(("dir/a b".to_string(), "u2".to_string())));
        assert!(parse_list_multipart_uploads("<Other/>").is_err());
    }

    #[test]
    fn parses_parts_and_the_next_marker() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>
  <IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>
  <Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag><Size>5</Size></Part>
  <Part><PartNumber>2</PartNumber><ETag>"bb"</ETag><Size>6</Size></Part>
</ListPartsResult>"#;
        let page = parse_list_parts(body).unwrap_or_default();
        assert_eq!(page.parts.len(), 2);
        assert_eq!(page.parts[0].etag, "aa");
        assert_eq!(page.parts[1].size, 6);
        assert_eq!(page.next, Some(2));
        let moto = body.replace("ListPartsResult", "ListPartsResponse");
        assert_eq!(parse_list_parts(&moto).map(|p| p.parts.len()), Ok(2));
        assert!(parse_list_parts("<Other/>").is_err());
        let empty = "<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>";
        assert_eq!(parse_list_parts(empty).map(|p| p.parts.len()), Ok(0));
        let no_etag = "<ListPartsResult><Part><PartNumber>3</PartNumber><Size>7</Size></Part></ListPartsResult>";
        let parts = parse_list_parts(no_etag)
            .map(|p| p.parts)
            .unwrap_or_default();
        assert_eq!(
            parts.first().map(|p| (p.number, p.etag.as_str())),
            Some((3, ""))
        );
        let bad = "<ListPartsResult><Part><PartNumber>x</PartNumber></Part></ListPartsResult>";
        assert!(parse_list_parts(bad).is_err());
    }
}
