//! Parsers for the versioning documents: a `ListVersionsResult` (ListObjectVersions) and a
//! bucket's versioning status (GetBucketVersioning), plus the PutBucketVersioning body.

use super::{Node, XmlError, expect_root, key_decoder, parse_tree, parse_u64};
use crate::util::time::Timestamp;

/// One `<Version>` or `<DeleteMarker>` of a ListObjectVersions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    pub key: String,
    /// `null` for objects written before versioning was enabled.
    pub version_id: String,
    pub is_latest: bool,
    pub last_modified: Timestamp,
    /// A delete marker has no data: no size, ETag or storage class.
    pub delete_marker: bool,
    pub size: u64,
    /// ETag with its quotes, as S3 sends it.
    pub etag: Option<String>,
    pub storage_class: Option<String>,
}

/// One ListObjectVersions page. `versions` holds object versions and delete markers in the
/// order of the document: S3 interleaves them (key ascending, newest first), while some
/// S3-compatible stores list all versions first and all delete markers after them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionPage {
    pub versions: Vec<ListedVersion>,
    pub is_truncated: bool,
    /// Where the next page starts: the key (decoded) and version id to send as
    /// `key-marker` and `version-id-marker`.
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

fn entry(
    node: &Node,
    decode: &dyn Fn(&str) -> Result<String, XmlError>,
) -> Result<ListedVersion, XmlError> {
    let delete_marker = node.name == "DeleteMarker";
    let key = decode(
        node.text_of("Key")
            .ok_or_else(|| XmlError(format!("<{}> without <Key>", node.name)))?,
    )?;
    let version_id = node
        .text_of("VersionId")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| XmlError(format!("<{}> of {key:?} without <VersionId>", node.name)))?
        .to_string();
    let lm = node.text_of("LastModified").unwrap_or_default();
    let last_modified = Timestamp::parse_rfc3339(lm.trim())
        .ok_or_else(|| XmlError(format!("bad <LastModified> {lm:?}")))?;
    Ok(ListedVersion {
        key,
        version_id,
        is_latest: node.text_of("IsLatest").is_some_and(|t| t.trim() == "true"),
        last_modified,
        delete_marker,
        size: if delete_marker {
            0
        } else {
            parse_u64(node, "Size")?
        },
        etag: node
            .text_of("ETag")
            .filter(|t| !delete_marker && !t.is_empty())
            .map(str::to_string),
        storage_class: node.text_of("StorageClass").map(str::to_string),
    })
}

/// Parses a `ListVersionsResult` (ListObjectVersions). With `encoding-type=url` the keys and
/// the next key marker come back percent-encoded and are decoded here.
pub fn parse_list_object_versions(body: &str) -> Result<VersionPage, XmlError> {
    let root = expect_root(body, "ListVersionsResult")?;
    let decode = key_decoder(&root);
    let mut page = VersionPage {
        is_truncated: root
            .text_of("IsTruncated")
            .is_some_and(|t| t.trim() == "true"),
        next_key_marker: root
            .text_of("NextKeyMarker")
            .filter(|t| !t.is_empty())
            .map(&decode)
            .transpose()?,
        next_version_id_marker: root
            .text_of("NextVersionIdMarker")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        ..VersionPage::default()
    };
    for node in &root.children {
        if node.name == "Version" || node.name == "DeleteMarker" {
            page.versions.push(entry(node, &decode)?);
        }
    }
    if page.is_truncated && page.next_key_marker.is_none() {
        return Err(XmlError(
            "truncated version listing without a next key marker".into(),
        ));
    }
    Ok(page)
}

/// The `<Status>` of a bucket's versioning configuration: `Enabled`, `Suspended`, or `None`
/// when versioning was never turned on. Accepts the root element S3 sends
/// (`VersioningConfiguration`) and the one some S3-compatible stores send
/// (`GetBucketVersioningResponse`).
pub fn parse_bucket_versioning(body: &str) -> Result<Option<String>, XmlError> {
    let root = parse_tree(body)?;
    if root.name != "VersioningConfiguration" && root.name != "GetBucketVersioningResponse" {
        return Err(XmlError(format!(
            "expected <VersioningConfiguration>, found <{}>",
            root.name
        )));
    }
    Ok(root
        .text_of("Status")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string))
}

/// Body of a PutBucketVersioning request.
pub fn versioning_body(enabled: bool) -> String {
    let status = if enabled { "Enabled" } else { "Suspended" };
    format!(
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status>\
         </VersioningConfiguration>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p%2F</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <NextKeyMarker>p%2Fa+b%2Bc</NextKeyMarker><NextVersionIdMarker>3/L4kqtJl40Nr8X8gdRQBpUMLUo</NextVersionIdMarker>
  <MaxKeys>3</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <DeleteMarker><Key>p%2Fa+b%2Bc</Key><VersionId>dm-1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2024-06-15T01:02:29.123Z</LastModified></DeleteMarker>
  <Version><Key>p%2Fa+b%2Bc</Key><VersionId>v-2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2024-06-15T01:02:28.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
    <Size>10</Size><StorageClass>STANDARD</StorageClass></Version>
  <Version><Key>p%2Fa+b%2Bc</Key><VersionId>null</VersionId><IsLatest>false</IsLatest>
    <LastModified>2024-06-15T01:02:27Z</LastModified><ETag>"e-2"</ETag><Size>0</Size></Version>
</ListVersionsResult>"#;

    #[test]
    fn parses_versions_and_delete_markers_in_document_order() {
        let page = parse_list_object_versions(PAGE).unwrap_or_default();
        assert!(page.is_truncated);
        assert_eq!(page.next_key_marker.as_deref(), Some("p/a b+c"));
        assert_eq!(
            page.next_version_id_marker.as_deref(),
            Some("3/L4kqtJl40Nr8X8gdRQBpUMLUo")
        );
        let ids: Vec<&str> = page
            .versions
            .iter()
            .map(|v| v.version_id.as_str())
            .collect();
        assert_eq!(ids, vec!["dm-1", "v-2", "null"]);
        let dm = &page.versions[0];
        assert!(dm.delete_marker && dm.is_latest);
        assert_eq!(
            (dm.key.as_str(), dm.size, dm.etag.as_deref()),
            ("p/a b+c", 0, None)
        );
        assert_eq!(dm.last_modified.nanos, 123_000_000);
        let v = &page.versions[1];
        assert!(!v.delete_marker && !v.is_latest);
        assert_eq!(v.size, 10);
        assert_eq!(
            v.etag.as_deref(),
            Some("\"9b2cf535f27731c974343645a3985328\"")
        );
        assert_eq!(v.storage_class.as_deref(), Some("STANDARD"));
        assert_eq!(page.versions[2].last_modified.secs, 1_718_413_347);
    }

    #[test]
    fn plain_version_listing_keeps_keys_verbatim() {
        let body = "<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>a+b%20</Key>\
            <VersionId>1</VersionId><IsLatest>true</IsLatest><LastModified>2024-06-15T01:02:27Z</LastModified>\
            <Size>1</Size></Version></ListVersionsResult>";
        let page = parse_list_object_versions(body).unwrap_or_default();
        assert_eq!(page.versions[0].key, "a+b%20");
        assert!(!page.is_truncated);
        assert_eq!(page.next_key_marker, None);
    }

    #[test]
    fn rejects_broken_version_listings() {
        let truncated = "<ListVersionsResult><IsTruncated>true</IsTruncated></ListVersionsResult>";
        assert!(parse_list_object_versions(truncated).is_err());
        let no_id = "<ListVersionsResult><Version><Key>k</Key><LastModified>2024-06-15T01:02:27Z</LastModified>\
            <Size>1</Size></Version></ListVersionsResult>";
        assert!(parse_list_object_versions(no_id).is_err());
        let no_size = "<ListVersionsResult><Version><Key>k</Key><VersionId>1</VersionId>\
            <LastModified>2024-06-15T01:02:27Z</LastModified></Version></ListVersionsResult>";
        assert!(parse_list_object_versions(no_size).is_err());
        let bad_time = "<ListVersionsResult><DeleteMarker><Key>k</Key><VersionId>1</VersionId>\
            <LastModified>yesterday</LastModified></DeleteMarker></ListVersionsResult>";
        assert!(parse_list_object_versions(bad_time).is_err());
        assert!(parse_list_object_versions("<ListBucketResult/>").is_err());
    }

    #[test]
    fn reads_the_versioning_status_under_either_root() {
        let s3 = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <Status>Enabled</Status></VersioningConfiguration>";
        assert_eq!(parse_bucket_versioning(s3), Ok(Some("Enabled".into())));
        let other =
            "<GetBucketVersioningResponse><Status>Suspended</Status></GetBucketVersioningResponse>";
        assert_eq!(parse_bucket_versioning(other), Ok(Some("Suspended".into())));
        assert_eq!(
            parse_bucket_versioning("<GetBucketVersioningResponse/>"),
            Ok(None)
        );
        assert!(parse_bucket_versioning("<Tagging/>").is_err());
        assert_eq!(
            parse_bucket_versioning(&versioning_body(true)),
            Ok(Some("Enabled".into()))
        );
    }
}
