//! `--filter-callback-lua-script`: `function filter(object)` returns whether to keep it.

use std::path::Path;

use mlua::{Lua, Value};

use super::tables::{count, table, text, time, truthy};
use super::vm::Vm;
use super::{ScriptError, ScriptOptions};
use crate::callback::{CallbackError, FilterCallback, ObjectInfo};

/// A filter script.
pub struct LuaFilter {
    vm: Vm,
}

impl LuaFilter {
    /// Loads the script at `path`.
    pub fn load(path: &Path, options: &ScriptOptions) -> Result<LuaFilter, ScriptError> {
        let (name, source) = super::read(path)?;
        LuaFilter::from_source(&name, &source, options)
    }

    /// Loads a script from its text; `name` stands for it in messages.
    pub fn from_source(
        name: &str,
        source: &[u8],
        options: &ScriptOptions,
    ) -> Result<LuaFilter, ScriptError> {
        Ok(LuaFilter {
            vm: Vm::load(name, source, "filter", options)?,
        })
    }
}

/// The table `filter` is given: the reference's fields, plus `size`.
fn object_table(lua: &Lua, o: &ObjectInfo) -> mlua::Result<Value> {
    let fields = vec![
        ("key", text(lua, Some(&o.key))?),
        ("size", count(Some(o.size))),
        (
            "last_modified",
            text(lua, time(Some(o.last_modified)).as_deref())?,
        ),
        ("version_id", text(lua, o.version_id.as_deref())?),
        ("e_tag", text(lua, o.e_tag.as_deref())?),
        (
            "checksum_algorithm",
            text(lua, o.checksum_algorithm.as_deref())?,
        ),
        ("checksum_type", text(lua, o.checksum_type.as_deref())?),
        ("is_latest", Value::Boolean(o.is_latest)),
        ("is_delete_marker", Value::Boolean(o.is_delete_marker)),
    ];
    Ok(Value::Table(table(lua, fields)?))
}

impl FilterCallback for LuaFilter {
    fn filter(&self, object: &ObjectInfo) -> Result<bool, CallbackError> {
        self.vm.call(|lua, filter| {
            let keep: Value = filter.call(object_table(lua, object)?)?;
            Ok(truthy(Some(&keep)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::time::Timestamp;

    fn object(key: &str) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size: 42,
            last_modified: Timestamp {
                secs: 1_718_413_347,
                nanos: 0,
            },
            is_latest: true,
            ..ObjectInfo::default()
        }
    }

    fn filter(source: &str) -> LuaFilter {
        LuaFilter::from_source("test.lua", source.as_bytes(), &ScriptOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn truthiness_decides_and_every_field_arrives() {
        let f = filter(
            r#"function filter(o)
                 assert(o.size == 42 and o.last_modified == "2024-06-15T01:02:27Z")
                 assert(o.e_tag == nil and o.version_id == nil and o.is_latest == true)
                 assert(o.is_delete_marker == false)
                 return string.find(o.key, "^keep/")
               end"#,
        );
        assert_eq!(f.filter(&object("keep/a")), Ok(true));
        assert_eq!(f.filter(&object("drop/a")), Ok(false));
    }

    #[test]
    fn delete_markers_have_no_etag_and_do_not_crash() {
        let f = filter("function filter(o) return o.is_delete_marker and o.e_tag == nil end");
        let marker = ObjectInfo {
            is_delete_marker: true,
            version_id: Some("v1".into()),
            ..object("gone")
        };
        assert_eq!(f.filter(&marker), Ok(true));
    }

    #[test]
    fn errors_are_one_line_naming_the_script() {
        let f = filter("function filter(o)\n  return o.key + 1\nend");
        let e = f.filter(&object("a")).unwrap_err();
        assert!(e.message().starts_with("test.lua: test.lua:2: "), "{e}");
        assert!(!e.message().contains('\n'), "{e}");
    }
}
