//! The bodies of the writing calls and their answers: CreateMultipartUpload,
//! CompleteMultipartUpload, DeleteObjects, Get/PutObjectTagging.

use super::*;

/// `UploadId` of an `InitiateMultipartUploadResult`.
pub fn parse_initiate_multipart(body: &str) -> Result<String, XmlError> {
    let root = expect_root(body, "InitiateMultipartUploadResult")?;
    match root.text_of("UploadId") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(XmlError("<UploadId> missing".into())),
    }
}

/// `ETag` of a `CompleteMultipartUploadResult`. S3 can answer 200 with an `<Error>` body here,
/// so an error document is reported as `Err(Some(error))`.
/// One part of a multipart upload, as CompleteMultipartUpload lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    /// The part's additional checksum, when the upload has an algorithm.
    pub checksum: Option<(Algorithm, String)>,
}

/// The ETag and, when the store reports one, the additional checksum of the new object.
pub type Completed = (String, Option<(Algorithm, String)>);

pub fn parse_complete_multipart(body: &str) -> Result<Completed, Result<ErrorBody, XmlError>> {
    if let Some(err) = parse_error(body) {
        return Err(Ok(err));
    }
    let root = expect_root(body, "CompleteMultipartUploadResult").map_err(Err)?;
    let etag = root
        .text_of("ETag")
        .map(str::to_string)
        .ok_or_else(|| Err(XmlError("<ETag> missing".into())))?;
    let checksum = Algorithm::ALL.into_iter().find_map(|a| {
        root.text_of(a.xml_element())
            .map(|v| (a, v.trim().to_string()))
    });
    Ok((etag, checksum))
}

/// Result of one DeleteObjects batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteResult {
    pub deleted: Vec<String>,
    /// (key, code, message) of each key S3 could not delete.
    pub errors: Vec<(String, String, String)>,
}

/// Parses a `DeleteResult`.
pub fn parse_delete_result(body: &str) -> Result<DeleteResult, XmlError> {
    let root = expect_root(body, "DeleteResult")?;
    let mut out = DeleteResult::default();
    for d in root.children_named("Deleted") {
        out.deleted
            .push(d.text_of("Key").unwrap_or_default().to_string());
    }
    for e in root.children_named("Error") {
        out.errors.push((
            e.text_of("Key").unwrap_or_default().to_string(),
            e.text_of("Code").unwrap_or_default().to_string(),
            e.text_of("Message").unwrap_or_default().to_string(),
        ));
    }
    Ok(out)
}

/// Parses a `Tagging` document into (key, value) pairs.
pub fn parse_tagging(body: &str) -> Result<Vec<(String, String)>, XmlError> {
    let root = expect_root(body, "Tagging")?;
    let set = root
        .child("TagSet")
        .ok_or_else(|| XmlError("<TagSet> missing".into()))?;
    Ok(set
        .children_named("Tag")
        .map(|t| {
            (
                t.text_of("Key").unwrap_or_default().to_string(),
                t.text_of("Value").unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// Body of a PutObjectTagging request.
pub fn tagging_body(tags: &[(String, String)]) -> String {
    let mut out = String::from("<Tagging><TagSet>");
    for (k, v) in tags {
        out.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            escape(k),
            escape(v)
        ));
    }
    out.push_str("</TagSet></Tagging>");
    out
}

/// Body of a CompleteMultipartUpload request.
pub fn complete_multipart_body(parts: &[CompletedPart]) -> String {
    let mut out = String::from("<CompleteMultipartUpload>");
    for part in parts {
        out.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>",
            part.number,
            escape(&part.etag)
        ));
        if let Some((algorithm, value)) = &part.checksum {
            let element = algorithm.xml_element();
            out.push_str(&format!("<{element}>{}</{element}>", escape(value)));
        }
        out.push_str("</Part>");
    }
    out.push_str("</CompleteMultipartUpload>");
    out
}

/// Body of a DeleteObjects request (quiet mode: only failures are reported back).
pub fn delete_objects_body(keys: &[String]) -> String {
    let mut out = String::from("<Delete><Quiet>true</Quiet>");
    for key in keys {
        out.push_str("<Object><Key>");
        out.push_str(&escape(key));
        out.push_str("</Key></Object>");
    }
    out.push_str("</Delete>");
    out
}
