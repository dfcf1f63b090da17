//! Log output: `log` records formatted as compact text or JSON lines, filtered by the
//! `-v`/`-q` level or by `RUST_LOG` (read the way env_logger reads it), written to stdout
//! (or stderr) like the reference tool.
//!
//! Text: `2025-07-11T00:48:43.946290Z  INFO sync completed. key="a" size=3`
//! JSON: `{"timestamp":"...","level":"INFO","fields":{"message":"sync completed.","key":"a","size":3}}`

use std::io::Write;

use log::kv::{Key, Value, VisitSource};

use crate::util::encoding::json_escape;
use crate::util::time::Timestamp;

/// What the run prints and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputConfig {
    /// Log level: 0 off, 1 error, 2 warn (default), 3 info, 4 debug, 5 trace.
    pub level: u8,
    pub json: bool,
    /// Live progress line (on a terminal) and final summary line on stderr.
    pub show_progress: bool,
    /// Write logs to stderr instead of stdout.
    pub log_to_stderr: bool,
    /// azcopy's `--output-type=json`: start, progress and summary records on stdout
    /// (`engine::json_lines`), in place of the progress and summary lines; logs go to stderr.
    pub json_lines: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            level: 2,
            json: false,
            show_progress: true,
            log_to_stderr: false,
            json_lines: false,
        }
    }
}

/// The log target of the summary line, let through at every level but `-qq`.
pub const SUMMARY_TARGET: &str = "s3sync::summary";

/// The target of the per-request lines that `-vvv` shows.
pub const REQUEST_TARGET: &str = "s3sync::request";

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

/// One `RUST_LOG` directive: records whose target starts with `module` (all records when
/// `None`) pass up to `level`.
#[derive(Debug, Clone, PartialEq)]
struct Directive {
    module: Option<String>,
    level: log::LevelFilter,
}

/// A parsed `RUST_LOG` value, read as env_logger reads it: comma-separated `level`,
/// `module`, or `module=level` directives, the longest matching module deciding, and an
/// optional `/text` suffix that keeps only messages containing `text`. Unknown levels are
/// ignored rather than fatal: a typo must not stop a sync.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filter {
    directives: Vec<Directive>,
    contains: Option<String>,
}

impl Filter {
    fn parse(spec: &str) -> Filter {
        let (spec, contains) = match spec.split_once('/') {
            Some((s, text)) => (s, Some(text.to_string()).filter(|t| !t.is_empty())),
            None => (spec, None),
        };
        let mut directives = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let directive = match part.split_once('=') {
                Some((module, level)) => level.trim().parse().ok().map(|level| Directive {
                    module: Some(module.trim().to_string()).filter(|m| !m.is_empty()),
                    level,
                }),
                None => Some(match part.parse::<log::LevelFilter>() {
                    Ok(level) => Directive {
                        module: None,
                        level,
                    },
                    Err(_) => Directive {
                        module: Some(part.to_string()),
                        level: log::LevelFilter::Trace,
                    },
                }),
            };
            directives.extend(directive);
        }
        Filter {
            directives,
            contains,
        }
    }

    /// Adds (or replaces) the directive for `module`.
    fn set(&mut self, module: &str, level: log::LevelFilter) {
        self.directives
            .retain(|d| d.module.as_deref() != Some(module));
        self.directives.push(Directive {
            module: Some(module.to_string()),
            level,
        });
    }

    /// The level for records of `target`: the directive with the longest matching module.
    fn level_for(&self, target: &str) -> log::LevelFilter {
        self.directives
            .iter()
            .filter(|d| d.module.as_deref().is_none_or(|m| target.starts_with(m)))
            .max_by_key(|d| d.module.as_deref().map_or(0, |m| m.len() + 1))
            .map_or(log::LevelFilter::Off, |d| d.level)
    }

    fn max_level(&self) -> log::LevelFilter {
        self.directives
            .iter()
            .map(|d| d.level)
            .max()
            .unwrap_or(log::LevelFilter::Off)
    }
}

/// The installed logger: one line per record, written whole under the stream's lock.
struct Logger {
    filter: Filter,
    json: bool,
    to_stderr: bool,
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.filter.level_for(metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(text) = &self.filter.contains
            && !record.args().to_string().contains(text.as_str())
        {
            return;
        }
        let mut line = format_record(record, self.json, Timestamp::now());
        line.push('\n');
        // A closed pipe (`s3sync ... | head`) must not turn logging into a panic.
        let _ = if self.to_stderr {
            std::io::stderr().lock().write_all(line.as_bytes())
        } else {
            std::io::stdout().lock().write_all(line.as_bytes())
        };
    }

    fn flush(&self) {
        let _ = if self.to_stderr {
            std::io::stderr().flush()
        } else {
            std::io::stdout().flush()
        };
    }
}

/// The filter `init` installs: `RUST_LOG` when set, else the `-v`/`-q` level for s3sync.
fn filter_for(output: &OutputConfig, rust_log: Option<&str>) -> Filter {
    let mut filter = match rust_log.filter(|v| !v.trim().is_empty()) {
        Some(spec) => Filter::parse(spec),
        None => Filter::parse(&format!("s3sync={}", level_name(output.level))),
    };
    // The closing summary record is part of the JSON contract, whatever the verbosity.
    if output.json && output.level > 0 {
        filter.set(SUMMARY_TARGET, log::LevelFilter::Info);
    }
    // One line per S3 request only at trace level (-vvv). Trace records are compiled out
    // (see Cargo.toml), so these lines are debug records of their own target, shown when
    // the filter would show trace for it.
    let requests = filter.level_for(REQUEST_TARGET);
    filter.set(
        REQUEST_TARGET,
        if requests >= log::LevelFilter::Trace {
            log::LevelFilter::Debug
        } else {
            requests.min(log::LevelFilter::Info)
        },
    );
    // The HTTP layers log raw request heads (signatures, tokens, SSE-C keys) at debug and
    // trace; whatever RUST_LOG says, they stay at info at most.
    for module in ["ureq", "ureq_proto", "rustls"] {
        let level = log::LevelFilter::Info.min(filter.level_for(module));
        filter.set(module, level);
    }
    filter
}

/// Installs the logger. `rust_log` (the `RUST_LOG` value) replaces the level filter.
pub fn init(output: &OutputConfig, rust_log: Option<&str>) {
    let filter = filter_for(output, rust_log);
    let max = filter.max_level();
    let logger = Logger {
        filter,
        json: output.json,
        // Stdout carries only the JSON records then.
        to_stderr: output.log_to_stderr || output.json_lines,
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(filter: &Filter, targets: &[&str]) -> Vec<log::LevelFilter> {
        targets.iter().map(|t| filter.level_for(t)).collect()
    }

    #[test]
    fn reads_rust_log_like_env_logger() {
        use log::LevelFilter::*;
        let f = Filter::parse("warn,s3sync=debug,s3sync::engine=trace,quick_xml");
        assert_eq!(
            levels(
                &f,
                &[
                    "s3sync",
                    "s3sync::engine::worker",
                    "s3sync::s3",
                    "other",
                    "quick_xml::de"
                ]
            ),
            [Debug, Trace, Debug, Warn, Trace]
        );
        assert_eq!(f.max_level(), Trace);
        // No default directive: other targets are off; bad levels are ignored.
        let f = Filter::parse("s3sync=info, x=loud ,");
        assert_eq!(levels(&f, &["s3sync::cli", "x", "y"]), [Info, Off, Off]);
        assert_eq!(
            Filter::parse("info/completed").contains.as_deref(),
            Some("completed")
        );
        assert_eq!(Filter::parse("").max_level(), Off);
    }

    #[test]
    fn http_layers_never_log_below_info() {
        use log::LevelFilter::*;
        let output = OutputConfig {
            level: 5,
            ..OutputConfig::default()
        };
        for spec in [Some("trace"), Some("ureq=trace,rustls=debug"), None] {
            let f = filter_for(&output, spec);
            for module in ["ureq", "ureq_proto::client", "rustls::conn"] {
                assert!(f.level_for(module) <= Info, "{spec:?} {module}");
            }
        }
        assert_eq!(filter_for(&output, None).level_for("s3sync::engine"), Trace);
        assert_eq!(
            filter_for(&output, Some("s3sync=warn")).level_for("s3sync"),
            Warn
        );
    }

    #[test]
    fn request_lines_show_only_where_trace_is_asked_for() {
        use log::LevelFilter::*;
        let at = |level: u8, spec: Option<&str>| {
            let output = OutputConfig {
                level,
                ..OutputConfig::default()
            };
            filter_for(&output, spec).level_for(REQUEST_TARGET)
        };
        // Shown (the lines are debug records) at -vvv, or when RUST_LOG says trace.
        assert_eq!(at(5, None), Debug);
        assert_eq!(at(2, Some("s3sync=trace")), Debug);
        assert_eq!(at(2, Some("warn,s3sync::request=trace")), Debug);
        // Hidden at -vv and below, and for RUST_LOG=debug.
        assert!(at(4, None) < Debug);
        assert!(at(2, None) < Debug);
        assert!(at(2, Some("debug")) < Debug);
    }

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
