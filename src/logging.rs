//! Log output: `log` records formatted as compact text or JSON lines, filtered with
//! `env_logger` (so `RUST_LOG` works), written to stdout (or stderr) like the reference tool.
//!
//! Text: `2025-07-11T00:48:43.946290Z  INFO sync completed. key="a" size=3`
//! JSON: `{"timestamp":"...","level":"INFO","fields":{"message":"sync completed.","key":"a","size":3}}`

use std::io::Write;

use log::kv::{Key, Value, VisitSource};

use crate::config::OutputConfig;
use crate::engine::progress::SUMMARY_TARGET;
use crate::util::encoding::json_escape;
use crate::util::time::Timestamp;

fn level_name(level: u8) -> &'static str {
    match level {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    }
}

/// Collects a record's key-values as JSON members or `key=value` text.
struct Fields {
    json: bool,
    out: String,
}

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        if self.json {
            self.out.push_str(",\"");
            json_escape(key.as_str(), &mut self.out);
            self.out.push_str("\":");
            push_json_value(&value, &mut self.out);
        } else {
            self.out.push(' ');
            self.out.push_str(key.as_str());
            self.out.push('=');
            if let Some(s) = value.to_borrowed_str() {
                self.out.push('"');
                json_escape(s, &mut self.out);
                self.out.push('"');
            } else {
                self.out.push_str(&value.to_string());
            }
        }
        Ok(())
    }
}

fn push_json_value(value: &Value<'_>, out: &mut String) {
    if let Some(b) = value.to_bool() {
        out.push_str(if b { "true" } else { "false" });
    } else if let Some(n) = value.to_u64() {
        out.push_str(&n.to_string());
    } else if let Some(n) = value.to_i64() {
        out.push_str(&n.to_string());
    } else if let Some(f) = value.to_f64().filter(|f| f.is_finite()) {
        out.push_str(&f.to_string());
    } else {
        out.push('"');
        json_escape(&value.to_string(), out);
        out.push('"');
    }
}

/// Formats one record.
pub fn format_record(record: &log::Record<'_>, json: bool, now: Timestamp) -> String {
    let mut fields = Fields {
        json,
        out: String::new(),
    };
    let _ = record.key_values().visit(&mut fields);
    let message = record.args().to_string();
    let level = record.level().as_str();
    if json {
        let mut line = String::with_capacity(96 + message.len() + fields.out.len());
        line.push_str("{\"timestamp\":\"");
        line.push_str(&now.rfc3339_micros_z());
        line.push_str("\",\"level\":\"");
        line.push_str(level);
        line.push_str("\",\"fields\":{\"message\":\"");
        json_escape(&message, &mut line);
        line.push('"');
        line.push_str(&fields.out);
        line.push_str("}}");
        line
    } else {
        format!(
            "{} {level:>5} {message}{}",
            now.rfc3339_micros_z(),
            fields.out
        )
    }
}

/// The most verbose level `spec` could enable for `module` (a coarse reading of the directives).
fn max_level(spec: &str, module: &str) -> log::LevelFilter {
    let mut level = log::LevelFilter::Off;
    for directive in spec.split(',').map(str::trim) {
        let (name, lvl) = match directive.split_once('=') {
            Some((n, l)) => (Some(n), l),
            None if directive.parse::<log::LevelFilter>().is_ok() => (None, directive),
            None => continue,
        };
        if name.is_none_or(|n| module.starts_with(n)) {
            level = level.max(lvl.parse().unwrap_or(log::LevelFilter::Off));
        }
    }
    level
}

/// Installs the logger. `rust_log` (the `RUST_LOG` value) replaces the level filter.
pub fn init(output: &OutputConfig, rust_log: Option<&str>) {
    let mut builder = env_logger::Builder::new();
    let filters = match rust_log.filter(|v| !v.trim().is_empty()) {
        Some(spec) => spec.to_string(),
        None => format!("s3sync={}", level_name(output.level)),
    };
    builder.parse_filters(&filters);
    // The closing summary record is part of the JSON contract, whatever the verbosity.
    if output.json && output.level > 0 {
        builder.filter_module(SUMMARY_TARGET, log::LevelFilter::Info);
    }
    // The HTTP layers log raw request heads (signatures, tokens, SSE-C keys) at debug and
    // trace; whatever RUST_LOG says, they stay at info at most.
    for module in ["ureq", "ureq_proto", "rustls"] {
        builder.filter_module(
            module,
            log::LevelFilter::Info.min(max_level(&filters, module)),
        );
    }
    let json = output.json;
    builder.format(move |buf, record| {
        let line = format_record(record, json, Timestamp::now());
        writeln!(buf, "{line}")
    });
    builder.target(if output.log_to_stderr {
        env_logger::Target::Stderr
    } else {
        env_logger::Target::Stdout
    });
    let _ = builder.try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_json_and_text() {
        let kvs: [(&str, Value<'_>); 3] = [
            ("key", Value::from("a \"q\"")),
            ("size", Value::from(3u64)),
            ("ok", Value::from(true)),
        ];
        let record = log::Record::builder()
            .args(format_args!("sync completed."))
            .level(log::Level::Info)
            .key_values(&kvs)
            .build();
        let now = Timestamp {
            secs: 1_718_413_347,
            nanos: 5_000,
        };
        assert_eq!(
            format_record(&record, true, now),
            "{\"timestamp\":\"2024-06-15T01:02:27.000005Z\",\"level\":\"INFO\",\"fields\":{\"message\":\
             \"sync completed.\",\"key\":\"a \\\"q\\\"\",\"size\":3,\"ok\":true}}"
        );
        assert_eq!(
            format_record(&record, false, now),
            "2024-06-15T01:02:27.000005Z  INFO sync completed. key=\"a \\\"q\\\"\" size=3 ok=true"
        );
    }
}
