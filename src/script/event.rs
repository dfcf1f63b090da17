//! `--event-callback-lua-script`: `function on_event(event)` is told about every event.

use std::path::Path;

use mlua::{Lua, Value};

use super::tables::{count, table, text, time};
use super::vm::Vm;
use super::{ScriptError, ScriptOptions};
use crate::callback::{CallbackError, Event, EventCallback};
use crate::util::rate::per_second;

/// An event script.
pub struct LuaEvent {
    vm: Vm,
}

impl LuaEvent {
    /// Loads the script at `path`.
    pub fn load(path: &Path, options: &ScriptOptions) -> Result<LuaEvent, ScriptError> {
        let (name, source) = super::read(path)?;
        LuaEvent::from_source(&name, &source, options)
    }

    /// Loads a script from its text; `name` stands for it in messages.
    pub fn from_source(
        name: &str,
        source: &[u8],
        options: &ScriptOptions,
    ) -> Result<LuaEvent, ScriptError> {
        Ok(LuaEvent {
            vm: Vm::load(name, source, "on_event", options)?,
        })
    }
}

/// The table `on_event` is given: the reference's fields (absent ones are `nil`), plus
/// `event_name`.
fn event_table(lua: &Lua, e: &Event) -> mlua::Result<Value> {
    let mut fields = vec![
        ("event_type", Value::Integer(i64::from(e.kind.code()))),
        ("event_name", text(lua, Some(e.kind.name()))?),
        ("dry_run", Value::Boolean(e.dry_run)),
        ("key", text(lua, e.key.as_deref())?),
        (
            "source_version_id",
            text(lua, e.source_version_id.as_deref())?,
        ),
        (
            "target_version_id",
            text(lua, e.target_version_id.as_deref())?,
        ),
        (
            "source_last_modified",
            text(lua, time(e.source_last_modified).as_deref())?,
        ),
        (
            "target_last_modified",
            text(lua, time(e.target_last_modified).as_deref())?,
        ),
        ("source_size", count(e.source_size)),
        ("target_size", count(e.target_size)),
        (
            "checksum_algorithm",
            text(lua, e.checksum_algorithm.as_deref())?,
        ),
        ("source_checksum", text(lua, e.source_checksum.as_deref())?),
        ("target_checksum", text(lua, e.target_checksum.as_deref())?),
        ("source_etag", text(lua, e.source_etag.as_deref())?),
        ("target_etag", text(lua, e.target_etag.as_deref())?),
        ("byte_written", count(e.byte_written)),
        ("message", text(lua, e.message.as_deref())?),
    ];
    if let Some(stats) = &e.stats {
        let c = &stats.counters;
        let rate = |n| count(Some(per_second(n, stats.elapsed)));
        fields.extend([
            ("stats_transferred_byte", count(Some(c.transferred_bytes))),
            ("stats_transferred_byte_per_sec", rate(c.transferred_bytes)),
            (
                "stats_transferred_object",
                count(Some(c.transferred_objects)),
            ),
            (
                "stats_transferred_object_per_sec",
                rate(c.transferred_objects),
            ),
            ("stats_etag_verified", count(Some(c.etag_verified))),
            ("stats_checksum_verified", count(Some(c.checksum_verified))),
            ("stats_deleted", count(Some(c.deleted))),
            ("stats_skipped", count(Some(c.skipped))),
            ("stats_error", count(Some(c.errors))),
            ("stats_warning", count(Some(c.warnings))),
            (
                "stats_duration_sec",
                Value::Number(stats.elapsed.as_secs_f64()),
            ),
        ]);
    }
    Ok(Value::Table(table(lua, fields)?))
}

impl EventCallback for LuaEvent {
    fn on_event(&self, event: &Event) -> Result<(), CallbackError> {
        self.vm.call(|lua, on_event| {
            on_event.call::<()>(event_table(lua, event)?)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::Snapshot;
    use crate::callback::{EventKind, EventStats};

    #[test]
    fn events_arrive_with_their_fields() {
        let script = r#"
            seen = {}
            function on_event(e)
              seen[#seen + 1] = e.event_type .. ":" .. e.event_name .. ":" .. tostring(e.key)
                .. ":" .. tostring(e.message) .. ":" .. tostring(e.stats_transferred_object)
              if e.event_type == 32768 and e.stats_transferred_object ~= 3 then error("bad stats") end
            end"#;
        let callback =
            LuaEvent::from_source("ev.lua", script.as_bytes(), &ScriptOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
        let filtered = Event::about(EventKind::SyncFiltered, "a/b").with_message("filtered by --x");
        assert_eq!(callback.on_event(&filtered), Ok(()));
        let stats = Event {
            stats: Some(EventStats {
                counters: Snapshot {
                    transferred_objects: 3,
                    ..Snapshot::default()
                },
                elapsed: std::time::Duration::from_millis(10),
            }),
            ..Event::new(EventKind::StatsReport)
        };
        assert_eq!(callback.on_event(&stats), Ok(()));
        let seen: Vec<String> = callback.vm.global("seen");
        assert_eq!(
            seen,
            vec![
                "16384:SYNC_FILTERED:a/b:filtered by --x:nil".to_string(),
                "32768:STATS_REPORT:nil:nil:3".to_string(),
            ]
        );
    }
}
