//! The text of `--help`, laid out from [`FLAGS`]: a usage line, what the tool does, then the
//! flags under their section headings, each with its description wrapped to [`WIDTH`].

use std::fmt::Write;

use super::args::{ABOUT, FLAGS, Flag, NOTES};

/// Columns of the text.
const WIDTH: usize = 100;
/// Where descriptions start; a flag whose names reach it has its description on the next
/// line.
const INDENT: usize = 34;

/// The whole `--help` text, ending in a newline.
pub fn text() -> String {
    let mut out = String::from("Usage: s3sync [OPTIONS] SOURCE TARGET\n\n");
    for paragraph in ABOUT.split("\n\n") {
        wrap(&mut out, "", paragraph, 0);
        out.push('\n');
    }
    out.push_str("Arguments:\n");
    wrap(
        &mut out,
        "  SOURCE",
        "what to copy from: s3://BUCKET[/prefix] or a local directory",
        INDENT,
    );
    wrap(
        &mut out,
        "  TARGET",
        "what to bring in line with it: s3://BUCKET[/prefix] or a local directory",
        INDENT,
    );
    let mut section = "";
    for flag in FLAGS {
        if flag.section != section {
            section = flag.section;
            let _ = write!(out, "\n{section}:\n");
        }
        wrap(&mut out, &names(flag), &flag.one_line(), INDENT);
    }
    for paragraph in NOTES.split("\n\n") {
        out.push('\n');
        wrap(&mut out, "", paragraph, 0);
    }
    out
}

/// `  -v, --verbose` or `      --worker-size <WORKER_SIZE>`.
fn names(flag: &Flag) -> String {
    let short = flag.short.map_or("    ".to_string(), |c| format!("-{c}, "));
    match flag.value_name() {
        Some(value) => format!("  {short}{} <{value}>", flag.long()),
        None if flag.kind == super::args::Kind::Bool => {
            format!("  {short}{}[=true|false]", flag.long())
        }
        None => format!("  {short}{}", flag.long()),
    }
}

/// Appends `head`, then `text` wrapped at [`WIDTH`] with its lines starting at column
/// `indent` (on the line after `head` where `head` reaches that column).
fn wrap(out: &mut String, head: &str, text: &str, indent: usize) {
    let mut line = head.to_string();
    if line.chars().count() + 2 > indent && !head.is_empty() {
        out.push_str(&line);
        out.push('\n');
        line.clear();
    }
    let pad = |line: &mut String| {
        while line.chars().count() < indent {
            line.push(' ');
        }
    };
    pad(&mut line);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line.clear();
            pad(&mut line);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_flag_within_the_width() {
        let help = text();
        for flag in FLAGS {
            assert!(help.contains(&names(flag)), "{} missing", flag.long());
        }
        for line in help.lines() {
            assert!(
                line.chars().count() <= WIDTH || !line.contains(' '),
                "too wide: {line}"
            );
        }
        assert!(help.contains("\nPerformance:\n"), "{help}");
        assert!(help.contains("      --worker-size <WORKER_SIZE>"), "{help}");
        let verbose = format!("{:<INDENT$}more logging", "  -v, --verbose");
        assert!(help.contains(&verbose), "{help}");
    }

    #[test]
    fn wraps_long_descriptions_under_their_column() {
        let mut out = String::new();
        let words = "word ".repeat(40);
        wrap(
            &mut out,
            "  --a-very-long-option-name <WITH_A_VALUE>",
            &words,
            INDENT,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  --a-very-long-option-name <WITH_A_VALUE>");
        assert!(lines.len() > 2, "{out}");
        for line in &lines[1..] {
            assert!(
                line.starts_with(&" ".repeat(INDENT)) && line.len() <= WIDTH,
                "{line}"
            );
        }
        assert_eq!(out.split_whitespace().count(), 42);
    }
}
