//! Small conversions shared by the scripts' argument tables.

use mlua::{Lua, Table, Value};

use crate::util::time::Timestamp;

/// Lua truthiness: everything but `nil` and `false` (and no value at all) is true.
pub(super) fn truthy(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Nil) | Some(Value::Boolean(false)))
}

/// A time as the scripts see it: RFC 3339 in UTC (`2024-06-15T01:02:27.123Z`).
pub(super) fn time(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::rfc3339_z)
}

/// A table from `(name, value)` pairs; `nil` values leave the field out.
pub(super) fn table(lua: &Lua, fields: Vec<(&str, Value)>) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, fields.len())?;
    for (name, value) in fields {
        t.raw_set(name, value)?;
    }
    Ok(t)
}

/// A string (or nothing) as a Lua value.
pub(super) fn text(lua: &Lua, value: Option<&str>) -> mlua::Result<Value> {
    match value {
        Some(v) => Ok(Value::String(lua.create_string(v)?)),
        None => Ok(Value::Nil),
    }
}

/// A byte count or counter as a Lua integer.
pub(super) fn count(value: Option<u64>) -> Value {
    match value {
        Some(n) => Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)),
        None => Value::Nil,
    }
}
