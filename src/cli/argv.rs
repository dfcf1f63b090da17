//! Reading the raw command line, then the environment, into [`Args`].
//!
//! - `--name value` and `--name=value`; short switches alone or together (`-vvq`); `--`
//!   ends the options, so a path may start with `-`.
//! - An option given twice is refused, a switch or count may repeat.
//! - A value taken from the next argument may not look like a long option
//!   (`--source-profile --delete` is a mistake, not a profile named `--delete`); such a
//!   value can still be given with `=`.
//! - `-h`/`--help` anywhere before `--` wins over the other flags and over bad values (an
//!   unknown flag or a missing value is still reported).
//! - Every flag the command line leaves out is then read from its environment variable
//!   (upper snake case), except the few in [`NO_ENV`]; a switch is on when the variable is
//!   set to anything but an empty string, `0`, `false`, `f`, `no`, `n` or `off` (clap's
//!   rule, as the reference uses). Missing SOURCE and TARGET come from those variables.
//!   The azcopy flags are not read from the environment: their names (`LOG_LEVEL`,
//!   `RECURSIVE`, `BACKUP`, `OUTPUT_TYPE`) are too common to belong to us.
//! - An azcopy-style boolean ([`Kind::Bool`]) is `--flag`, `--flag=true` or `--flag=false`;
//!   it never takes the next argument.
//!
//! Errors are one line naming the flag. They never echo the text of an unknown option, which
//! might be a secret typed under a misspelt name.

use std::collections::HashSet;
use std::ffi::OsString;

use super::args::{AZCOPY_SECTION, Args, FLAGS, Flag, Kind};

/// Flags never read from the environment: an `AUTO_COMPLETE_SHELL` or `HELP` variable must
/// not turn every run into printing something else.
const NO_ENV: &[&str] = &["help", "verbose", "quiet", "version", "auto_complete_shell"];

/// What the command line asks for.
pub enum Parsed {
    Help,
    Args(Box<Args>),
}

/// Whether an environment value turns a switch on.
fn truthy(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "f" | "no" | "n" | "off"
    )
}

fn long_flag(name: &str) -> Result<&'static Flag, String> {
    FLAGS.iter().find(|f| f.is_named(name)).ok_or_else(|| {
        if name.contains('_') {
            format!("unknown option --{name} (options are written with '-', see --help)")
        } else {
            format!("unknown option --{name} (see --help)")
        }
    })
}

/// The argument after an option, as its value.
fn next_value(
    raw: &mut impl Iterator<Item = (usize, OsString)>,
    flag: &Flag,
) -> Result<String, String> {
    let long = flag.long();
    let Some((i, value)) = raw.next() else {
        return Err(format!("{long} needs a value"));
    };
    let value = utf8(i, value)?;
    if value.starts_with("--") && value.len() > 2 {
        return Err(format!(
            "{long} needs a value, not another option (a value starting with '--' is written {long}=VALUE)"
        ));
    }
    Ok(value)
}

fn utf8(i: usize, arg: OsString) -> Result<String, String> {
    arg.into_string().map_err(|a| {
        format!(
            "argument {} is not valid UTF-8: {}",
            i + 1,
            a.to_string_lossy()
        )
    })
}

/// Parses the command line (without the program name), then fills in from `env` what it
/// leaves out.
pub fn parse(raw: Vec<OsString>, env: &dyn Fn(&str) -> Option<String>) -> Result<Parsed, String> {
    let mut given: Vec<(&'static Flag, String)> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut raw = raw.into_iter().enumerate();
    let mut only_paths = false;
    while let Some((i, arg)) = raw.next() {
        let arg = utf8(i, arg)?;
        if only_paths || arg == "-" || !arg.starts_with('-') {
            paths.push(arg);
        } else if arg == "--" {
            only_paths = true;
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let flag = long_flag(name)?;
            let value = match (flag.takes_value(), inline) {
                (true, Some(value)) => value.to_string(),
                (true, None) => next_value(&mut raw, flag)?,
                (false, Some(value)) if flag.kind == Kind::Bool => value.to_string(),
                (false, Some(_)) => {
                    return Err(format!("{} is a switch and takes no value", flag.long()));
                }
                (false, None) => String::new(),
            };
            given.push((flag, value));
        } else {
            // One or more short flags: `-v`, `-vvq`, `-h`.
            for c in arg.chars().skip(1) {
                let flag = FLAGS
                    .iter()
                    .find(|f| f.short == Some(c))
                    .ok_or_else(|| format!("unknown option -{c} (see --help)"))?;
                given.push((flag, String::new()));
            }
        }
    }
    if given.iter().any(|(flag, _)| flag.kind == Kind::Help) {
        return Ok(Parsed::Help);
    }

    let mut args = Args::default();
    let mut seen: HashSet<&'static str> = HashSet::new();
    for (flag, value) in &given {
        if !seen.insert(flag.field) && (flag.takes_value() || flag.kind == Kind::Bool) {
            return Err(format!("{} is given more than once", flag.long()));
        }
        flag.apply(&mut args, value)
            .map_err(|e| format!("{}: invalid value '{value}': {e}", flag.long()))?;
    }
    if args.version || args.auto_complete_shell.is_some() {
        return Ok(Parsed::Args(Box::new(args)));
    }

    for flag in FLAGS {
        if seen.contains(flag.field)
            || NO_ENV.contains(&flag.field)
            || flag.section == AZCOPY_SECTION
        {
            continue;
        }
        let name = flag.env_name();
        let Some(value) = env(&name).filter(|v| !v.is_empty()) else {
            continue;
        };
        seen.insert(flag.field);
        match flag.kind {
            Kind::Value | Kind::Bool => flag.apply(&mut args, &value).map_err(|e| {
                format!(
                    "{} (from {name}): invalid value '{value}': {e}",
                    flag.long()
                )
            })?,
            Kind::Switch if truthy(&value) => flag.apply(&mut args, "")?,
            _ => {}
        }
    }
    for name in ["SOURCE", "TARGET"].iter().skip(paths.len().min(2)) {
        match env(name).filter(|v| !v.is_empty()) {
            Some(value) => paths.push(value),
            None => break,
        }
    }
    args.paths = paths;
    args.given = seen;
    Ok(Parsed::Args(Box::new(args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn parsed(args: &[&str], env: &dyn Fn(&str) -> Option<String>) -> Result<Box<Args>, String> {
        match parse(os(args), env)? {
            Parsed::Args(args) => Ok(args),
            Parsed::Help => Err("help".into()),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_both_value_forms_and_grouped_short_switches() {
        let a = parsed(
            &["--worker-size=4", "-vvq", "a", "--max-keys", "7", "b"],
            &no_env,
        )
        .unwrap_or_default();
        assert_eq!(
            (a.worker_size, a.max_keys, a.verbose, a.quiet),
            (4, 7, 2, 1)
        );
        assert_eq!(a.paths, ["a", "b"]);
        let a = parsed(
            &["--multipart-chunksize", "16MiB", "--", "-a", "--b"],
            &no_env,
        )
        .unwrap_or_default();
        assert_eq!(a.multipart_chunksize, 16 << 20);
        assert_eq!(a.paths, ["-a", "--b"]);
        let a = parsed(&["--filter-include-regex=--x", "a", "b"], &no_env).unwrap_or_default();
        assert_eq!(a.filter_include_regex.as_deref(), Some("--x"));
    }

    #[test]
    fn absent_flags_mean_their_defaults() {
        let a = parsed(&["a", "b"], &no_env).unwrap_or_default();
        assert_eq!(
            (a.worker_size, a.max_keys, a.aws_max_attempts),
            (16, 1000, 10)
        );
        assert_eq!(a.multipart_threshold, 8 << 20);
        assert_eq!(a.object_listing_queue_size, 4000);
        assert!(
            !a.dry_run && a.source_profile.is_none() && a.connect_timeout_milliseconds.is_none()
        );
    }

    #[test]
    fn mistakes_are_one_line_errors_naming_the_flag() {
        let error = |args: &[&str]| match parse(os(args), &no_env) {
            Err(e) => e,
            Ok(_) => format!("accepted: {args:?}"),
        };
        assert_eq!(
            error(&["--dry-run=yes"]),
            "--dry-run is a switch and takes no value"
        );
        assert_eq!(error(&["--worker-size"]), "--worker-size needs a value");
        assert!(
            error(&["--source-profile", "--delete"])
                .starts_with("--source-profile needs a value, not another option")
        );
        assert_eq!(
            error(&["--worker-size", "x"]),
            "--worker-size: invalid value 'x': expected a whole number from 0 to 65535"
        );
        assert_eq!(
            error(&["--max-keys", "1", "--max-keys", "2"]),
            "--max-keys is given more than once"
        );
        assert_eq!(error(&["-x"]), "unknown option -x (see --help)");
        assert!(error(&["--worker_size", "2"]).contains("written with '-'"));
        // A misspelt secret option never echoes its value.
        let e = error(&["--source-secret-acces-key=SECRET"]);
        assert_eq!(e, "unknown option --source-secret-acces-key (see --help)");
        // Switches and counts may repeat.
        assert!(parse(os(&["--dry-run", "--dry-run", "-v", "-v"]), &no_env).is_ok());
    }

    #[test]
    fn azcopy_booleans_take_only_an_inline_value() {
        let a = parsed(&["--recursive", "--put-md5=TRUE", "a", "b"], &no_env).unwrap_or_default();
        assert_eq!((a.recursive, a.put_md5), (Some(true), Some(true)));
        let a = parsed(&["--recursive=false", "a", "b"], &no_env).unwrap_or_default();
        assert_eq!(a.recursive, Some(false));
        // The next argument is never its value.
        let a = parsed(&["--recursive", "false", "b"], &no_env).unwrap_or_default();
        assert_eq!((a.recursive, a.paths.len()), (Some(true), 2));
        assert_eq!(
            parsed(&["--recursive=maybe"], &no_env).err().as_deref(),
            Some("--recursive: invalid value 'maybe': expected true or false")
        );
        // Switches still refuse a value; azcopy flags ignore the environment.
        assert!(parsed(&["--dry-run=true"], &no_env).is_err());
        let env = |k: &str| matches!(k, "RECURSIVE" | "LOG_LEVEL").then(|| "x".to_string());
        let a = parsed(&["a", "b"], &env).unwrap_or_default();
        assert!(a.recursive.is_none() && a.log_level.is_none());
        assert!(parsed(&["--recursive", "--recursive=false"], &no_env).is_err());
    }

    #[test]
    fn help_wins_over_everything_else() {
        for args in [
            &["--worker-size", "x", "--help"][..],
            &["-vh"],
            &["a", "-h", "b"],
        ] {
            assert!(
                matches!(parse(os(args), &no_env), Ok(Parsed::Help)),
                "{args:?}"
            );
        }
        // After `--`, `-h` is a path.
        let a = parsed(&["--", "-h", "b"], &no_env).unwrap_or_default();
        assert_eq!(a.paths, ["-h", "b"]);
    }

    #[test]
    fn fills_missing_options_and_paths_from_env() {
        let env = |k: &str| match k {
            "WORKER_SIZE" => Some("8".to_string()),
            "MAX_KEYS" => Some("9".to_string()),
            "DRY_RUN" => Some("true".to_string()),
            "DELETE" => Some("false".to_string()),
            "TARGET" => Some("s3://b/p".to_string()),
            "SOURCE" => Some("ignored".to_string()),
            "HELP" | "VERSION" | "VERBOSE" => Some("1".to_string()),
            _ => None,
        };
        let a = parsed(&["--worker-size", "2", "src"], &env).unwrap_or_default();
        assert_eq!((a.worker_size, a.max_keys), (2, 9));
        assert!(a.dry_run && !a.delete && !a.version && a.verbose == 0);
        assert_eq!(a.paths, ["src", "s3://b/p"]);
        let a = parsed(&[], &env).unwrap_or_default();
        assert_eq!(a.paths, ["ignored", "s3://b/p"]);
        let bad = |k: &str| (k == "WORKER_SIZE").then(|| "zero".to_string());
        assert_eq!(
            parsed(&["a", "b"], &bad).err(),
            Some("--worker-size (from WORKER_SIZE): invalid value 'zero': expected a whole number from 0 to 65535".into())
        );
    }

    #[test]
    fn every_flag_has_its_own_names_and_a_description() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        for flag in FLAGS {
            assert!(longs.insert(flag.long()), "{} twice", flag.long());
            assert!(
                flag.short.is_none_or(|c| shorts.insert(c)),
                "{} short twice",
                flag.long()
            );
            assert!(
                !flag.one_line().is_empty(),
                "{} has no description",
                flag.long()
            );
        }
        assert_eq!(FLAGS[0].long(), "--verbose");
        assert!(
            FLAGS
                .iter()
                .any(|f| f.kind == Kind::Help && f.short == Some('h'))
        );
    }
}
