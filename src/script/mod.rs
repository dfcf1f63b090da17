//! Lua 5.4 implementations of the [callback traits](crate::callback), as the reference tool
//! defines its scripts: a filter script defines `filter(object)`, an event script
//! `on_event(event)`, a preprocess script `preprocess_callback(object, upload_metadata)`.
//!
//! Each script gets a VM of its own, created when the script is loaded: its top level runs
//! then, once, and the entry function must exist afterwards. Calls into one VM are made one
//! at a time, whatever the number of workers.
//!
//! Limits ([`ScriptOptions`]):
//!
//! * Libraries: by default the safe standard libraries without `io` and `os` (both are
//!   `nil`), C modules cannot be loaded (`package.loadlib`, C searchers) and chunks are
//!   source text only. [`Libraries::Os`] adds `io` and `os`; [`Libraries::Unsafe`] loads
//!   everything, `debug` and C modules included (and so lifts every guarantee).
//! * Memory: allocations past the limit fail as a Lua error ("not enough memory").
//! * Time: each call (and the top level) may run for at most the timeout; it is checked every
//!   [`vm::HOOK_INSTRUCTIONS`] VM instructions, so a single long call into a library function
//!   (a huge `string.rep`, a pathological `string.find`) is only stopped when it returns.

mod event;
mod filter;
mod preprocess;
mod tables;
pub mod vm;

use std::path::Path;
use std::time::Duration;

pub use event::LuaEvent;
pub use filter::LuaFilter;
pub use preprocess::LuaPreprocess;

/// The libraries a script may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Libraries {
    /// The safe standard libraries without `io` and `os`.
    #[default]
    Safe,
    /// The safe standard libraries with `io` and `os` (`--allow-lua-os-library`).
    Os,
    /// Every library, `debug` and C modules included (`--allow-lua-unsafe-vm`).
    Unsafe,
}

/// The sandbox and limits of a script's VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptOptions {
    pub libraries: Libraries,
    /// Bytes the VM may allocate; `None`: no limit.
    pub memory_limit: Option<u64>,
    /// How long one call may run; `None`: no limit.
    pub timeout: Option<Duration>,
}

/// 64 MiB, as the reference.
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 << 20;

/// 10 seconds, as the reference.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for ScriptOptions {
    fn default() -> Self {
        ScriptOptions {
            libraries: Libraries::Safe,
            memory_limit: Some(DEFAULT_MEMORY_LIMIT),
            timeout: Some(DEFAULT_TIMEOUT),
        }
    }
}

/// Why a script could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptError {
    /// The script file cannot be read.
    Read(String),
    /// The script does not compile, fails (or runs out of memory or time) while its top
    /// level runs, or does not define its entry function.
    Load(String),
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptError::Read(m) | ScriptError::Load(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ScriptError {}

/// Reads a script file: its name for messages and its text.
fn read(path: &Path) -> Result<(String, Vec<u8>), ScriptError> {
    let name = path.display().to_string();
    std::fs::read(path)
        .map(|source| (name.clone(), source))
        .map_err(|e| ScriptError::Read(format!("cannot read {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::callback::{FilterCallback, ObjectInfo};

    fn load(source: &str, options: ScriptOptions) -> Result<LuaFilter, ScriptError> {
        LuaFilter::from_source("/scripts/f.lua", source.as_bytes(), &options)
    }

    fn run(source: &str, options: ScriptOptions) -> Result<bool, String> {
        let filter = load(source, options).map_err(|e| e.to_string())?;
        filter
            .filter(&ObjectInfo::default())
            .map_err(|e| e.message().to_string())
    }

    fn quick() -> ScriptOptions {
        ScriptOptions {
            timeout: Some(Duration::from_millis(300)),
            ..ScriptOptions::default()
        }
    }

    #[test]
    fn the_default_sandbox_has_no_io_os_debug_or_c_modules() {
        let probe = r#"function filter()
            assert(io == nil and os == nil and debug == nil, "io/os/debug present")
            local ok = pcall(package.loadlib, "libc.so.6", "puts")
            assert(not ok, "loadlib worked")
            local ok2, err = pcall(require, "nonexistent_c_module")
            assert(not ok2 and string.find(err, "can't load C modules"), err)
            assert(load(string.dump(function() end)) == nil, "bytecode loaded")
            assert(load("return 1")() == 1)
            return true
        end"#;
        assert_eq!(run(probe, ScriptOptions::default()), Ok(true));
    }

    #[test]
    fn os_and_unsafe_modes_add_libraries() {
        let os = ScriptOptions {
            libraries: Libraries::Os,
            ..ScriptOptions::default()
        };
        let probe = "function filter() return io ~= nil and os.time() > 0 and debug == nil end";
        assert_eq!(run(probe, os), Ok(true));
        let unsafe_vm = ScriptOptions {
            libraries: Libraries::Unsafe,
            ..ScriptOptions::default()
        };
        let probe = "function filter() return debug ~= nil and io ~= nil end";
        assert_eq!(run(probe, unsafe_vm), Ok(true));
    }

    #[test]
    fn exceeding_the_memory_limit_is_an_error_naming_the_limit() {
        let options = ScriptOptions {
            memory_limit: Some(1 << 20),
            ..ScriptOptions::default()
        };
        let hog = "function filter() local t = {} for i = 1, 1e8 do t[i] = i end return true end";
        let e = run(hog, options).unwrap_err();
        assert!(e.starts_with("/scripts/f.lua: "), "{e}");
        assert!(e.contains("out of memory") && e.contains("1.00 MiB"), "{e}");
        // Too little memory even to load the script.
        let tiny = ScriptOptions {
            memory_limit: Some(1024),
            ..ScriptOptions::default()
        };
        let e = run("function filter() return true end", tiny).unwrap_err();
        assert!(e.contains("out of memory"), "{e}");
    }

    #[test]
    fn endless_calls_stop_at_the_time_limit_even_when_they_catch_errors() {
        let loops = [
            "function filter() while true do end end",
            "function filter() while true do pcall(function() while true do end end) end end",
            "function filter() local co = coroutine.wrap(function() while true do end end) co() end",
            "function filter()
               while true do
                 local ok = xpcall(function() while true do end end, function(m) return m end)
               end
             end",
        ];
        for source in loops {
            let started = Instant::now();
            let e = run(source, quick()).unwrap_err();
            assert!(
                e.contains("filter() ran longer than the 300 ms time limit"),
                "{source}: {e}"
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{source}");
        }
        // The top level is limited too.
        let e = load("while true do end", quick())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("time limit"), "{e}");
    }

    #[test]
    fn a_vm_that_timed_out_keeps_working() {
        let source = "calls = 0
            function filter(o)
              calls = calls + 1
              if calls == 1 then while true do end end
              return calls
            end";
        let filter = load(source, quick()).unwrap_or_else(|e| panic!("{e}"));
        let first = filter.filter(&ObjectInfo::default());
        assert!(first.is_err_and(|e| e.message().contains("time limit")));
        assert_eq!(filter.filter(&ObjectInfo::default()), Ok(true));
    }

    #[test]
    fn load_errors_are_one_line_naming_the_script() {
        let e = load("function filter(", ScriptOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("/scripts/f.lua: syntax error: f.lua:1:"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = load("x = 1", ScriptOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, "/scripts/f.lua: the script defines no function filter()");
        let e = load("error('boom')", ScriptOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, "/scripts/f.lua: f.lua:1: boom");
        let missing = LuaFilter::load(Path::new("/nonexistent/f.lua"), &ScriptOptions::default());
        assert!(matches!(missing, Err(ScriptError::Read(_))));
    }
}
