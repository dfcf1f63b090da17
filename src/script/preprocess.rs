//! `--preprocess-callback-lua-script`:
//! `function preprocess_callback(source_object, upload_metadata)` returns whether to write the
//! object and, optionally, the upload metadata to write it with.

use std::path::Path;

use mlua::{Lua, MultiValue, Table, Value};

use super::tables::{count, table, text, time, truthy};
use super::vm::{Failure, Vm};
use super::{ScriptError, ScriptOptions};
use crate::callback::{CallbackError, PreprocessCallback, SourceObject, UploadMetadata};
use crate::integrity::checksum::Algorithm;
use crate::util::encoding::parse_tag_query;
use crate::util::encoding::tag_query as tagging_header;
use crate::util::time::Timestamp;

/// A preprocess script.
pub struct LuaPreprocess {
    vm: Vm,
}

impl LuaPreprocess {
    /// Loads the script at `path`.
    pub fn load(path: &Path, options: &ScriptOptions) -> Result<LuaPreprocess, ScriptError> {
        let (name, source) = super::read(path)?;
        LuaPreprocess::from_source(&name, &source, options)
    }

    /// Loads a script from its text; `name` stands for it in messages.
    pub fn from_source(
        name: &str,
        source: &[u8],
        options: &ScriptOptions,
    ) -> Result<LuaPreprocess, ScriptError> {
        Ok(LuaPreprocess {
            vm: Vm::load(name, source, "preprocess_callback", options)?,
        })
    }
}

/// The reference's field for a checksum of this algorithm.
fn checksum_field(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Crc32 => "checksum_crc32",
        Algorithm::Crc32c => "checksum_crc32_c",
        Algorithm::Crc64Nvme => "checksum_crc64_nvme",
        Algorithm::Sha1 => "checksum_sha1",
        Algorithm::Sha256 => "checksum_sha256",
    }
}

/// An `Expires` header as the scripts see it: RFC 3339 when it is a date, else as stored.
fn expires_text(header: Option<&str>) -> Option<String> {
    header
        .map(|h| Timestamp::parse_http_date(h).map_or_else(|| h.to_string(), Timestamp::rfc3339_z))
}

fn metadata_table(lua: &Lua, pairs: &[(String, String)]) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(0, pairs.len())?;
    for (k, v) in pairs {
        t.raw_set(k.as_str(), v.as_str())?;
    }
    Ok(Value::Table(t))
}

fn source_table(lua: &Lua, o: &SourceObject) -> mlua::Result<Value> {
    let m = &o.meta;
    let mut fields = vec![
        ("key", text(lua, Some(&o.key))?),
        ("source_key", text(lua, Some(&o.source_key))?),
        ("content_length", count(Some(o.size))),
        (
            "last_modified",
            text(lua, time(o.last_modified).as_deref())?,
        ),
        ("e_tag", text(lua, o.e_tag.as_deref())?),
        ("version_id", text(lua, o.version_id.as_deref())?),
        ("content_type", text(lua, m.content_type.as_deref())?),
        (
            "content_encoding",
            text(lua, m.content_encoding.as_deref())?,
        ),
        ("cache_control", text(lua, m.cache_control.as_deref())?),
        (
            "content_disposition",
            text(lua, m.content_disposition.as_deref())?,
        ),
        (
            "content_language",
            text(lua, m.content_language.as_deref())?,
        ),
        (
            "expires_string",
            text(lua, expires_text(m.expires.as_deref()).as_deref())?,
        ),
        (
            "website_redirect_location",
            text(lua, m.website_redirect.as_deref())?,
        ),
        ("metadata", metadata_table(lua, &m.user)?),
        ("storage_class", text(lua, o.storage_class.as_deref())?),
        ("tag_count", count(o.tag_count.map(u64::from))),
        ("checksum_type", text(lua, o.checksum_type.as_deref())?),
        ("parts_count", count(o.parts_count.map(u64::from))),
        (
            "server_side_encryption",
            text(lua, o.server_side_encryption.as_deref())?,
        ),
        (
            "sse_customer_algorithm",
            text(lua, o.sse_customer_algorithm.as_deref())?,
        ),
    ];
    if let Some((algorithm, value)) = &o.checksum {
        fields.push((checksum_field(*algorithm), text(lua, Some(value))?));
    }
    Ok(Value::Table(table(lua, fields)?))
}

fn upload_table(lua: &Lua, u: &UploadMetadata) -> mlua::Result<Table> {
    let m = &u.meta;
    let tagging = (!u.tags.is_empty()).then(|| tagging_header(&u.tags));
    let fields = vec![
        ("acl", text(lua, u.acl.as_deref())?),
        ("cache_control", text(lua, m.cache_control.as_deref())?),
        (
            "content_disposition",
            text(lua, m.content_disposition.as_deref())?,
        ),
        (
            "content_encoding",
            text(lua, m.content_encoding.as_deref())?,
        ),
        (
            "content_language",
            text(lua, m.content_language.as_deref())?,
        ),
        ("content_type", text(lua, m.content_type.as_deref())?),
        (
            "expires_string",
            text(lua, expires_text(m.expires.as_deref()).as_deref())?,
        ),
        ("metadata", metadata_table(lua, &m.user)?),
        ("request_payer", text(lua, u.request_payer.as_deref())?),
        ("storage_class", text(lua, u.storage_class.as_deref())?),
        (
            "website_redirect_location",
            text(lua, m.website_redirect.as_deref())?,
        ),
        ("tagging", text(lua, tagging.as_deref())?),
    ];
    table(lua, fields)
}

/// A text value of a script's table: a string, a number (as Lua writes it) or `nil`.
fn text_of(value: Value, what: &str) -> Result<Option<String>, Failure> {
    match value {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_string())),
        Value::Integer(n) => Ok(Some(n.to_string())),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(Failure::Invalid(format!(
            "{what} must be a string or nil, not a {}",
            other.type_name()
        ))),
    }
}

/// Reads the upload metadata back from the script's table. Every field is taken: `nil`
/// clears it.
fn read_upload(t: &Table) -> Result<UploadMetadata, Failure> {
    let field = |name: &str| -> Result<Option<String>, Failure> {
        text_of(t.get::<Value>(name)?, &format!("upload_metadata.{name}"))
    };
    let expires = match field("expires_string")? {
        None => None,
        Some(text) => Some(
            Timestamp::parse_rfc3339(&text)
                .map(Timestamp::http_date)
                .or_else(|| Timestamp::parse_http_date(&text).map(|_| text.clone()))
                .ok_or_else(|| {
                    Failure::Invalid(format!(
                        "upload_metadata.expires_string {text:?} is not an RFC 3339 time"
                    ))
                })?,
        ),
    };
    let mut user = Vec::new();
    match t.get::<Value>("metadata")? {
        Value::Nil => {}
        Value::Table(pairs) => {
            for pair in pairs.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let name = text_of(k, "a upload_metadata.metadata name")?.unwrap_or_default();
                let what = format!("upload_metadata.metadata.{name}");
                user.push((name, text_of(v, &what)?.unwrap_or_default()));
            }
        }
        other => {
            return Err(Failure::Invalid(format!(
                "upload_metadata.metadata must be a table or nil, not a {}",
                other.type_name()
            )));
        }
    }
    user.sort();
    let tags = match field("tagging")? {
        None => Vec::new(),
        Some(query) => parse_tag_query(&query)
            .map_err(|e| Failure::Invalid(format!("upload_metadata.tagging {query:?}: {e}")))?,
    };
    let upload = UploadMetadata {
        meta: crate::storage::props::ObjectMeta {
            content_type: field("content_type")?,
            content_encoding: field("content_encoding")?,
            cache_control: field("cache_control")?,
            content_disposition: field("content_disposition")?,
            content_language: field("content_language")?,
            expires,
            website_redirect: field("website_redirect_location")?,
            user,
        },
        tags,
        storage_class: field("storage_class")?,
        acl: field("acl")?,
        request_payer: field("request_payer")?,
    };
    upload
        .check()
        .map_err(|e| Failure::Invalid(format!("upload_metadata: {e}")))?;
    Ok(upload)
}

impl PreprocessCallback for LuaPreprocess {
    fn preprocess(
        &self,
        object: &SourceObject,
        upload: &mut UploadMetadata,
    ) -> Result<bool, CallbackError> {
        let decided = self.vm.call(|lua, preprocess| {
            let given = upload_table(lua, upload)?;
            let returned: MultiValue =
                preprocess.call((source_table(lua, object)?, given.clone()))?;
            if !truthy(returned.front()) {
                return Ok(None);
            }
            let chosen = match returned.get(1) {
                Some(Value::Table(t)) => t.clone(),
                // `return true`: the table passed in, with any changes made to it.
                None | Some(Value::Nil) => given,
                Some(other) => {
                    return Err(Failure::Invalid(format!(
                        "preprocess_callback must return a boolean and the upload_metadata table, \
                         not a {}",
                        other.type_name()
                    )));
                }
            };
            Ok(Some(read_upload(&chosen)?))
        })?;
        match decided {
            Some(changed) => {
                *upload = changed;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
