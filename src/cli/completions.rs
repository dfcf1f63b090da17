//! Shell completion scripts (`--auto-complete-shell bash|zsh|fish|powershell|elvish`).
//!
//! Why here and how: every script is generated from [`FLAGS`], the same
//! definitions that produce `--help`, so an option added to `args.rs` is completed with no
//! change in this file and no list can fall out of date. Each script completes every long
//! and short flag with its description; after an option that takes a value it completes the
//! values its description enumerates, and file names otherwise (as for SOURCE and TARGET).
//!
//! A description enumerates values when it ends in `: A, B or C` (one or more items) or holds
//! `(A, B, C)` (two or more), every item being a single word of letters, digits and `_-:.`
//! (so `(default 16)`, `key1=value1,key2=value2` and `(http:// or https://)` are not lists).
//! Unit tests below check that the lists found this way are what validation accepts.
//!
//! The fixed part of each script is a template in `completions/`, shell code that reads and
//! checks as such; the functions here fill its `@MARKER@` lines with the flags.

use std::fmt::Write;

use super::args::{FLAGS, Kind};

/// The shells a script can be generated for, as named on the command line.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell", "elvish"];

/// The completion script for `shell` (case-insensitive), or a one-line error naming the option.
pub fn script(shell: &str) -> Result<String, String> {
    let options = options();
    let positionals = positionals();
    let script = match shell.to_ascii_lowercase().as_str() {
        "bash" => bash(&options),
        "zsh" => zsh(&options, &positionals),
        "fish" => fish(&options),
        "powershell" => powershell(&options),
        "elvish" => elvish(&options),
        _ => {
            return Err(format!(
                "--auto-complete-shell '{shell}' is not one of: {}",
                SHELLS.join(", ")
            ));
        }
    };
    Ok(script)
}

/// One flag as the scripts need it.
struct Flag {
    /// With its dashes: `--worker-size`.
    long: String,
    short: Option<char>,
    /// `Some(name of the value)` for an option, `None` for a switch.
    value_name: Option<String>,
    repeats: bool,
    /// On one line.
    description: String,
    /// The values the description enumerates; empty means "complete file names".
    values: Vec<String>,
}

impl Flag {
    fn takes_value(&self) -> bool {
        self.value_name.is_some()
    }

    /// The long form, then the short one if any.
    fn names(&self) -> Vec<String> {
        let mut names = vec![self.long.clone()];
        names.extend(self.short.map(|c| format!("-{c}")));
        names
    }
}

fn options() -> Vec<Flag> {
    FLAGS
        .iter()
        .map(|f| {
            let description = f.one_line();
            let value_name = f.value_name();
            Flag {
                long: f.long(),
                short: f.short,
                repeats: f.kind == Kind::Count,
                values: match value_name {
                    Some(_) => enumerated_values(&description),
                    None => Vec::new(),
                },
                value_name,
                description,
            }
        })
        .collect()
}

/// The positional arguments: (name, repeats).
fn positionals() -> Vec<(String, bool)> {
    vec![("SOURCE".to_string(), false), ("TARGET".to_string(), false)]
}

/// The values a description enumerates (see the module documentation), or none.
fn enumerated_values(description: &str) -> Vec<String> {
    if let Some(values) = description
        .rsplit_once(": ")
        .and_then(|(_, tail)| word_list(tail, 1))
    {
        return values;
    }
    let mut rest = description;
    while let Some(open) = rest.find('(') {
        let inner = &rest[open + 1..];
        let Some(close) = inner.find(')') else { break };
        if let Some(values) = word_list(&inner[..close], 2) {
            return values;
        }
        rest = &inner[close + 1..];
    }
    Vec::new()
}

/// `A, B or C` as words, if there are at least `min` and each is a plain value.
fn word_list(text: &str, min: usize) -> Option<Vec<String>> {
    let items: Vec<&str> = text
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(str::trim)
        .collect();
    let plain = |s: &&str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
    };
    (items.len() >= min && items.iter().all(plain))
        .then(|| items.into_iter().map(String::from).collect())
}

/// POSIX shell single quotes (bash, zsh).
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Single quotes where a quote is doubled (PowerShell, elvish). PowerShell also takes the
/// typographic single quotes as quotes, so those are doubled too.
fn doubled_quote(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A template with each `@NAME@` marker replaced by its lines.
fn fill(template: &str, markers: &[(&str, Vec<String>)]) -> String {
    markers
        .iter()
        .fold(template.to_string(), |text, (marker, lines)| {
            text.replace(marker, &lines.join("\n"))
        })
}

/// Each name of each flag, quoted with `quote`.
fn quoted_names(flag: &Flag, quote: fn(&str) -> String) -> Vec<String> {
    flag.names().iter().map(|n| quote(n)).collect()
}

fn bash(options: &[Flag]) -> String {
    let words: Vec<String> = options.iter().flat_map(Flag::names).collect();
    let mut cases: Vec<String> = options
        .iter()
        .filter(|f| !f.values.is_empty())
        .map(|f| {
            let values = sh_quote(&f.values.join(" "));
            let pattern = quoted_names(f, sh_quote).join("|");
            format!("        {pattern}) _s3sync_reply \"$word\" -W {values}; return 0 ;;")
        })
        .collect();
    let file_options: Vec<String> = options
        .iter()
        .filter(|f| f.takes_value() && f.values.is_empty())
        .flat_map(|f| quoted_names(f, sh_quote))
        .collect();
    if !file_options.is_empty() {
        let pattern = file_options.join("|");
        cases.push(format!(
            "        {pattern}) _s3sync_files \"$word\"; return 0 ;;"
        ));
    }
    fill(
        include_str!("completions/bash.sh"),
        &[
            ("@CASES@", cases),
            ("@WORDS@", vec![sh_quote(&words.join(" "))]),
        ],
    )
}

/// Escapes text for a `[description]` or `:message:` of a zsh `_arguments` spec.
fn zsh_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | ':') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn zsh(options: &[Flag], positionals: &[(String, bool)]) -> String {
    let mut specs = Vec::new();
    for flag in options {
        let names = flag.names();
        // A flag and its other spelling exclude each other, unless it may be repeated.
        let prefix = match (flag.repeats, names.len()) {
            (true, _) => "*".to_string(),
            (false, 1) => String::new(),
            (false, _) => format!("({})", names.join(" ")),
        };
        let description = zsh_escape(&flag.description);
        let argument = flag.value_name.as_deref().map_or(String::new(), |name| {
            let values: Vec<String> = flag.values.iter().map(|v| zsh_escape(v)).collect();
            let action = match values.is_empty() {
                true => "_files".to_string(),
                false => format!("({})", values.join(" ")),
            };
            format!(":{}:{action}", zsh_escape(name))
        });
        for name in &names {
            // `--opt=` takes the value in the same word after `=` or as the next word.
            let equals = if flag.takes_value() && name.starts_with("--") {
                "="
            } else {
                ""
            };
            let spec = format!("{prefix}{name}{equals}[{description}]{argument}");
            specs.push(format!("    {}", sh_quote(&spec)));
        }
    }
    for (name, repeats) in positionals {
        let spec = format!(
            "{}:{}:_files",
            if *repeats { "*" } else { "" },
            zsh_escape(name)
        );
        specs.push(format!("    {}", sh_quote(&spec)));
    }
    fill(include_str!("completions/zsh.zsh"), &[("@SPECS@", specs)])
}

/// fish single quotes: only `\` and `'` are special.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

fn fish(options: &[Flag]) -> String {
    let mut out = String::from(
        "# fish completion for s3sync, generated by `s3sync --auto-complete-shell fish` from the\n\
         # options of `s3sync --help`. Save it as ~/.config/fish/completions/s3sync.fish.\n",
    );
    for flag in options {
        out.push_str("complete -c s3sync");
        if let Some(c) = flag.short {
            let _ = write!(out, " -s {}", fish_quote(&c.to_string()));
        }
        let _ = write!(
            out,
            " -l {}",
            fish_quote(flag.long.trim_start_matches("--"))
        );
        if flag.takes_value() {
            // -r: a value follows; file names are offered unless the values are known.
            out.push_str(" -r");
            if !flag.values.is_empty() {
                let _ = write!(out, " -f -a {}", fish_quote(&flag.values.join(" ")));
            }
        }
        let _ = writeln!(out, " -d {}", fish_quote(&flag.description));
    }
    out
}

fn powershell(options: &[Flag]) -> String {
    let table = options.iter().map(|flag| {
        let values: Vec<String> = flag.values.iter().map(|v| doubled_quote(v)).collect();
        // A completion result needs a non-empty tip.
        let tip = match flag.description.is_empty() {
            true => &flag.long,
            false => &flag.description,
        };
        format!(
            "        [pscustomobject]@{{ Names = @({}); TakesValue = ${}; Values = @({}); Tip = {} }}",
            quoted_names(flag, doubled_quote).join(", "),
            flag.takes_value(),
            values.join(", "),
            doubled_quote(tip)
        )
    });
    let table = ("@OPTIONS@", table.collect());
    fill(include_str!("completions/powershell.ps1"), &[table])
}

fn elvish(options: &[Flag]) -> String {
    let table = options.iter().map(|flag| {
        let values: Vec<String> = flag.values.iter().map(|v| doubled_quote(v)).collect();
        format!(
            "        [&names=[{}] &value=${} &values=[{}] &tip={}]",
            quoted_names(flag, doubled_quote).join(" "),
            flag.takes_value(),
            values.join(" "),
            doubled_quote(&flag.description)
        )
    });
    let table = ("@OPTIONS@", table.collect());
    fill(include_str!("completions/elvish.elv"), &[table])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(long: &str) -> Flag {
        options()
            .into_iter()
            .find(|f| f.long == long)
            .unwrap_or_else(|| panic!("{long} is not an option"))
    }

    #[test]
    fn descriptions_enumerate_values() {
        assert_eq!(
            enumerated_values("a: AES256, aws:kms or aws:kms:dsse"),
            ["AES256", "aws:kms", "aws:kms:dsse"]
        );
        assert_eq!(enumerated_values("when (A, B) differ"), ["A", "B"]);
        for none in [
            "objects at once (default 16)",
            "user metadata: key1=value1,key2=value2",
            "the Expires header (RFC 3339, e.g. 2030-01-01T00:00:00Z)",
            "endpoint URL (http:// or https://)",
            "only one (A)",
        ] {
            assert!(enumerated_values(none).is_empty(), "{none}");
        }
        assert_eq!(flag("--auto-complete-shell").values, SHELLS);
        assert_eq!(flag("--sse").values, ["AES256", "aws:kms", "aws:kms:dsse"]);
        assert_eq!(flag("--storage-class").values.len(), 9);
        assert_eq!(flag("--acl").values.len(), 7);
        assert_eq!(flag("--check-additional-checksum").values.len(), 5);
        assert_eq!(flag("--additional-checksum-algorithm").values.len(), 5);
        assert!(flag("--metadata").values.is_empty());
        assert!(flag("--worker-size").values.is_empty());
    }

    /// Every value offered for an option is one that validation accepts.
    #[test]
    fn enumerated_values_are_accepted() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_string()),
            "AWS_REGION" => Some("us-east-1".to_string()),
            _ => None,
        };
        // An SSE-C algorithm needs its key: base64 of 32 bytes.
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let mut checked = 0;
        for flag in options().iter().filter(|f| !f.values.is_empty()) {
            if flag.long == "--auto-complete-shell" {
                continue;
            }
            for value in &flag.values {
                let mut raw = vec![flag.long.to_string(), value.clone()];
                if flag.long.ends_with("-sse-c") {
                    raw.extend([format!("{}-key", flag.long), key.to_string()]);
                }
                raw.extend(["s3://source/p".to_string(), "s3://target/p".to_string()]);
                let raw = raw.into_iter().map(std::ffi::OsString::from).collect();
                match super::super::parse(raw, &env) {
                    // Values checked against SOURCE and TARGET: valid, if not for s3:// → s3://.
                    Err(e)
                        if matches!(flag.long.as_str(), "--from-to" | "--check-md5")
                            && !e.message.contains("is not one of") => {}
                    Err(e) => panic!("{} {value}: {}", flag.long, e.message),
                    Ok(_) => {}
                }
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} values checked");
    }

    #[test]
    fn unknown_shell_is_one_line_naming_the_option() {
        let e = script("tcsh").err().unwrap_or_default();
        assert!(
            e.contains("--auto-complete-shell") && e.contains("elvish"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        assert!(script("BASH").is_ok());
    }

    #[test]
    fn every_marker_is_filled() {
        for shell in SHELLS {
            let text = script(shell).unwrap_or_default();
            for marker in ["@CASES@", "@WORDS@", "@SPECS@", "@OPTIONS@"] {
                assert!(!text.contains(marker), "{shell}: {marker}");
            }
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("source's"), r"'source'\''s'");
        assert_eq!(fish_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(doubled_quote("a'b\u{2019}"), "'a''b\u{2019}\u{2019}'");
        assert_eq!(zsh_escape("a: [b]"), r"a\: \[b\]");
    }
}
