//! Reading the JSON log lines s3sync writes with `--json-tracing`.

/// The value of a string or number field in one JSON log line.
pub fn field(line: &str, name: &str) -> Option<String> {
    let needle = format!("\"{name}\":");
    let start = line.find(&needle)? + needle.len();
    let rest = &line[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map(|end| quoted[..end].to_string())
    } else {
        Some(rest.chars().take_while(|c| c.is_ascii_digit()).collect())
    }
}

/// A counter of the `REPORT_SUMMARY` record of `--report-sync-status`.
pub fn report_summary(stdout: &str, name: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.contains("\"name\":\"REPORT_SUMMARY\""))
        .unwrap_or_else(|| panic!("no REPORT_SUMMARY in:\n{stdout}"));
    field(line, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}
