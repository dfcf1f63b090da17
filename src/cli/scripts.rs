//! The Lua scripting options: which scripts to load and with what sandbox and limits. The
//! scripts become the run's callbacks (`Config::callbacks`), loaded last, once every other
//! option has been checked, since loading runs their top level.
//!
//! Exit codes: a bad option value, an unreadable script file, and a script that does not
//! compile, fails while its top level runs or lacks its entry function are all argument
//! errors (2), as in the reference: nothing has run yet, and the fix is in what was given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::CliError;
use super::args::Args;
use crate::config::Config;
use crate::script::{
    DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT, Libraries, LuaEvent, LuaFilter, LuaPreprocess,
    ScriptError, ScriptOptions,
};
use crate::util::size::parse_size;

/// The scripting options, checked.
pub struct Scripts {
    filter: Option<PathBuf>,
    event: Option<PathBuf>,
    preprocess: Option<PathBuf>,
    options: ScriptOptions,
}

const FILTER: &str = "--filter-callback-lua-script";
const EVENT: &str = "--event-callback-lua-script";
const PREPROCESS: &str = "--preprocess-callback-lua-script";

/// Checks the scripting options (before anything slow, such as finding credentials).
pub fn check(args: &Args, target_keeps_objects: bool) -> Result<Scripts, CliError> {
    let path = |value: &Option<String>, option: &str| -> Result<Option<PathBuf>, CliError> {
        match value.as_deref() {
            Some("") => Err(CliError::usage(format!("{option}: the path is empty"))),
            other => Ok(other.map(PathBuf::from)),
        }
    };
    let scripts = Scripts {
        filter: path(&args.filter_callback_lua_script, FILTER)?,
        event: path(&args.event_callback_lua_script, EVENT)?,
        preprocess: path(&args.preprocess_callback_lua_script, PREPROCESS)?,
        options: ScriptOptions {
            libraries: if args.allow_lua_unsafe_vm {
                Libraries::Unsafe
            } else if args.allow_lua_os_library {
                Libraries::Os
            } else {
                Libraries::Safe
            },
            memory_limit: match &args.lua_vm_memory_limit {
                None => Some(DEFAULT_MEMORY_LIMIT),
                Some(text) => match parse_size(text) {
                    Ok(0) => None,
                    Ok(n) => Some(n),
                    Err(e) => return Err(CliError::usage(format!("--lua-vm-memory-limit: {e}"))),
                },
            },
            timeout: match args.lua_callback_timeout_milliseconds {
                None => Some(DEFAULT_TIMEOUT),
                Some(0) => None,
                Some(ms) => Some(Duration::from_millis(ms)),
            },
        },
    };
    if scripts.preprocess.is_some() && !target_keeps_objects {
        return Err(CliError::usage(format!(
            "{PREPROCESS} needs an s3:// or Azure Blob TARGET (it shapes the objects written \
             there)"
        )));
    }
    let any_script =
        scripts.filter.is_some() || scripts.event.is_some() || scripts.preprocess.is_some();
    let lua_only = [
        (args.allow_lua_os_library, "--allow-lua-os-library"),
        (args.allow_lua_unsafe_vm, "--allow-lua-unsafe-vm"),
        (args.lua_vm_memory_limit.is_some(), "--lua-vm-memory-limit"),
        (
            args.lua_callback_timeout_milliseconds.is_some(),
            "--lua-callback-timeout-milliseconds",
        ),
    ];
    if let Some((_, name)) = lua_only.iter().find(|(set, _)| *set && !any_script) {
        return Err(CliError::usage(format!(
            "{name} needs a Lua script: {FILTER}, {EVENT} or {PREPROCESS}"
        )));
    }
    Ok(scripts)
}

/// The CLI error of a script that could not be loaded by `option`.
fn load_error(option: &str, e: ScriptError) -> CliError {
    CliError::usage(format!("{option}: {e}"))
}

/// Loads the scripts into `config`'s callbacks.
pub fn load(scripts: Scripts, config: &mut Config) -> Result<(), CliError> {
    let options = &scripts.options;
    if let Some(path) = &scripts.filter {
        let filter = LuaFilter::load(path, options).map_err(|e| load_error(FILTER, e))?;
        config.callbacks.filter = Some(Arc::new(filter));
    }
    if let Some(path) = &scripts.event {
        let event = LuaEvent::load(path, options).map_err(|e| load_error(EVENT, e))?;
        config.callbacks.event = Some(Arc::new(event));
    }
    if let Some(path) = &scripts.preprocess {
        let preprocess =
            LuaPreprocess::load(path, options).map_err(|e| load_error(PREPROCESS, e))?;
        config.callbacks.preprocess = Some(Arc::new(preprocess));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cli::{Command, parse};

    fn code_of(extra: &[&str], target: &str) -> Result<(), (u8, String)> {
        let mut raw: Vec<std::ffi::OsString> = extra.iter().map(|a| (*a).into()).collect();
        raw.push(std::env::temp_dir().into_os_string());
        raw.push(target.into());
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_string()),
            "AWS_REGION" => Some("us-east-1".to_string()),
            _ => None,
        };
        match parse(raw, &env) {
            Ok(Command::Run(config, _)) => {
                assert!(config.callbacks.filter.is_some() || config.callbacks.event.is_some());
                Ok(())
            }
            Ok(_) => Err((0, "not a run".into())),
            Err(e) => Err((e.code, e.message)),
        }
    }

    fn script(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("s3sync-cli-scripts-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path.display().to_string()
    }

    #[test]
    fn bad_values_are_usage_errors_and_bad_scripts_errors() {
        let good = script("good.lua", "function filter() return true end");
        let target = "s3://bucket/p/";
        assert_eq!(
            code_of(&["--filter-callback-lua-script", &good], target),
            Ok(())
        );
        let usage = |extra: &[&str], target: &str| code_of(extra, target).map_err(|(c, _)| c);
        assert_eq!(
            usage(
                &["--filter-callback-lua-script", "/nonexistent/x.lua"],
                target
            ),
            Err(2)
        );
        let flags: [&[&str]; 4] = [
            &["--allow-lua-os-library"],
            &["--allow-lua-unsafe-vm"],
            &["--lua-vm-memory-limit", "1MiB"],
            &["--lua-callback-timeout-milliseconds", "5"],
        ];
        for extra in flags {
            assert_eq!(usage(extra, target), Err(2), "{extra:?}");
        }
        assert_eq!(
            usage(
                &[
                    "--filter-callback-lua-script",
                    &good,
                    "--lua-vm-memory-limit",
                    "lots"
                ],
                target
            ),
            Err(2)
        );
        let local_target = std::env::temp_dir().join("s3sync-cli-scripts-target");
        let preprocess = script("p.lua", "function preprocess_callback() return true end");
        assert_eq!(
            usage(
                &["--preprocess-callback-lua-script", &preprocess],
                &local_target.display().to_string()
            ),
            Err(2)
        );
        let broken = script("broken.lua", "function filter(");
        let e = code_of(&["--filter-callback-lua-script", &broken], target);
        assert!(
            matches!(&e, Err((2, m)) if m.starts_with("--filter-callback-lua-script: ") && m.contains("syntax error")),
            "{e:?}"
        );
        let no_entry = script("no_entry.lua", "x = 1");
        let e = code_of(&["--event-callback-lua-script", &no_entry], target);
        assert!(
            matches!(&e, Err((2, m)) if m.ends_with("defines no function on_event()")),
            "{e:?}"
        );
    }
}
