//! Parser for a `ListMultipartUploadsResult`.

use super::{XmlError, decode_url_key, expect_root};

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
    let encoded = root.text_of("EncodingType") == Some("url");
    let decode = |text: &str| {
        if encoded {
            decode_url_key(text)
        } else {
            Ok(text.to_string())
        }
    };
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
}
