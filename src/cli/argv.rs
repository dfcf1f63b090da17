//! Turning the raw command line plus the environment into the argument list argh parses:
//! `--name=value` is split, `-vvv` is expanded, and options missing from the command line
//! are filled in from their environment variables.

use std::collections::HashSet;
use std::ffi::OsString;

use argh::ArgsInfo;
use argh_shared::FlagInfoKind;

use super::args::Args;

/// Flags that never come from the environment (an `AUTO_COMPLETE_SHELL` variable must not
/// turn every run into printing a script).
const NO_ENV: &[&str] = &[
    "--help",
    "--verbose",
    "--quiet",
    "--version",
    "--auto-complete-shell",
];

/// The environment variable of a long option: `--worker-size` → `WORKER_SIZE`.
pub fn env_name(long: &str) -> String {
    long.trim_start_matches('-')
        .replace('-', "_")
        .to_ascii_uppercase()
}

/// Whether an environment value turns a switch on (clap's rule: these mean off).
fn truthy(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "f" | "no" | "n" | "off"
    )
}

struct FlagSpec {
    long: String,
    short: Option<char>,
    takes_value: bool,
}

fn flag_specs() -> Vec<FlagSpec> {
    Args::get_args_info()
        .flags
        .iter()
        .map(|f| FlagSpec {
            long: f.long.to_string(),
            short: f.short,
            takes_value: matches!(f.kind, FlagInfoKind::Option { .. }),
        })
        .collect()
}

/// Builds argh's argument list. Errors are one line, naming the argument.
pub fn prepare(
    raw: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let specs = flag_specs();
    let find_long = |name: &str| specs.iter().find(|s| s.long == name);
    let find_short = |c: char| specs.iter().find(|s| s.short == Some(c));

    let mut args: Vec<String> = Vec::with_capacity(raw.len() + 8);
    let mut after_separator = false;
    for (i, arg) in raw.into_iter().enumerate() {
        let arg = arg.into_string().map_err(|a| {
            format!(
                "argument {} is not valid UTF-8: {}",
                i + 1,
                a.to_string_lossy()
            )
        })?;
        if after_separator {
            args.push(arg);
            continue;
        }
        if arg == "--" {
            after_separator = true;
            args.push(arg);
        } else if let Some((name, value)) = arg.strip_prefix("--").and_then(|_| arg.split_once('='))
        {
            match find_long(name) {
                Some(spec) if spec.takes_value => {
                    args.push(name.to_string());
                    args.push(value.to_string());
                }
                Some(_) => return Err(format!("{name} is a switch and takes no value")),
                // The value might be a secret typed under a misspelt name: never echo it.
                None => return Err(format!("unknown option {name} (see --help)")),
            }
        } else if arg.len() > 2
            && arg.starts_with('-')
            && !arg.starts_with("--")
            && arg[1..]
                .chars()
                .all(|c| find_short(c).is_some_and(|s| !s.takes_value))
        {
            args.extend(arg[1..].chars().map(|c| format!("-{c}")));
        } else {
            args.push(arg);
        }
    }

    // What the command line already says: long options present and positional count.
    let mut present: HashSet<String> = HashSet::new();
    let mut positionals = 0usize;
    let mut i = 0;
    let mut separator = false;
    while i < args.len() {
        let a = &args[i];
        if separator {
            positionals += 1;
        } else if a == "--" {
            separator = true;
        } else if a.starts_with('-') && a.len() > 1 {
            let spec = if a.starts_with("--") {
                find_long(a)
            } else {
                a.chars().nth(1).and_then(find_short)
            };
            if let Some(spec) = spec {
                present.insert(spec.long.clone());
                if spec.takes_value {
                    i += 1;
                }
            }
        } else {
            positionals += 1;
        }
        i += 1;
    }

    let mut from_env: Vec<String> = Vec::new();
    for spec in &specs {
        if present.contains(&spec.long) || NO_ENV.contains(&spec.long.as_str()) {
            continue;
        }
        let Some(value) = env(&env_name(&spec.long)).filter(|v| !v.is_empty()) else {
            continue;
        };
        if spec.takes_value {
            from_env.push(spec.long.clone());
            from_env.push(value);
        } else if truthy(&value) {
            from_env.push(spec.long.clone());
        }
    }
    let mut env_positionals: Vec<String> = Vec::new();
    let names = ["SOURCE", "TARGET"];
    for name in names.iter().skip(positionals.min(2)) {
        match env(name).filter(|v| !v.is_empty()) {
            Some(v) => env_positionals.push(v),
            None => break,
        }
    }
    from_env.extend(args);
    if !env_positionals.is_empty() {
        if !separator {
            from_env.push("--".into());
        }
        from_env.extend(env_positionals);
    }
    Ok(from_env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn splits_equals_and_expands_short_switches() {
        let out = prepare(os(&["--worker-size=4", "-vvq", "a", "b"]), &|_| None);
        assert_eq!(
            out,
            Ok(vec!["--worker-size", "4", "-v", "-v", "-q", "a", "b"]
                .into_iter()
                .map(String::from)
                .collect())
        );
        assert!(prepare(os(&["--dry-run=yes"]), &|_| None).is_err());
    }

    #[test]
    fn fills_missing_options_and_positionals_from_env() {
        let env = |k: &str| match k {
            "WORKER_SIZE" => Some("8".to_string()),
            "DRY_RUN" => Some("true".to_string()),
            "DELETE" => Some("false".to_string()),
            "TARGET" => Some("s3://b/p".to_string()),
            "SOURCE" => Some("ignored".to_string()),
            _ => None,
        };
        let out = prepare(os(&["--worker-size", "2", "src"]), &env).unwrap_or_default();
        assert_eq!(
            out,
            vec!["--dry-run", "--worker-size", "2", "src", "--", "s3://b/p"]
        );
    }

    #[test]
    fn env_names_follow_the_reference() {
        assert_eq!(env_name("--aws-config-file"), "AWS_CONFIG_FILE");
        assert_eq!(
            env_name("--target-force-path-style"),
            "TARGET_FORCE_PATH_STYLE"
        );
    }
}
