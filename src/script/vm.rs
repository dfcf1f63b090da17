//! One Lua VM per script: its libraries (the sandbox), its memory and time limits, loading
//! the script, and calling its entry function one caller at a time.
//!
//! The time limit is a hook run every [`HOOK_INSTRUCTIONS`] VM instructions that compares
//! the clock with the deadline of the current call. Once it has passed, the hook unwinds the
//! call with a Rust panic payload: mlua carries panics through `pcall`/`xpcall` (they are
//! installed with `catch_rust_panics(false)`), so a script cannot catch its own timeout and
//! loop on. The payload never reaches the panic hook (it is raised with `resume_unwind`) and
//! is caught where the call was made. Coroutines inherit the hook.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, VmState};

use super::{Libraries, ScriptError, ScriptOptions};
use crate::callback::CallbackError;
use crate::util::size::human_bytes;

/// How often (in VM instructions) the time limit is checked.
pub const HOOK_INSTRUCTIONS: u32 = 1000;

/// Lua run before the script in the sandboxed modes: chunks are loaded as source text only
/// (precompiled bytecode can corrupt the VM), and `loadfile`/`dofile` never read stdin.
const PRELUDE: &str = r#"
local rawload, rawloadfile = load, loadfile
load = function(chunk, name, _, ...) return rawload(chunk, name, "t", ...) end
loadfile = function(file, _, ...)
  if file == nil then return nil, "loadfile needs a file name" end
  return rawloadfile(file, "t", ...)
end
dofile = function(file)
  local f, err = loadfile(file)
  if not f then error(err, 2) end
  return f()
end
if package and package.searchers then
  local searchpath = package.searchpath
  package.searchers[2] = function(name)
    local path, err = searchpath(name, package.path)
    if not path then return "\n\t" .. err end
    local f, lerr = rawloadfile(path, "t")
    if not f then error(lerr, 2) end
    return f, path
  end
end
"#;

/// The panic payload that ends a call which ran out of time.
struct Timeout;

/// The deadline of the call in progress, shared with the hook.
struct Clock {
    origin: Instant,
    limit: Duration,
    /// Nanoseconds after `origin`; `u64::MAX` while no call runs.
    deadline: AtomicU64,
    expired: AtomicBool,
}

impl Clock {
    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn start(&self) {
        self.expired.store(false, Ordering::Relaxed);
        let limit = u64::try_from(self.limit.as_nanos()).unwrap_or(u64::MAX);
        self.deadline
            .store(self.now().saturating_add(limit), Ordering::Relaxed);
    }

    /// Ends the call; whether it ran out of time.
    fn stop(&self) -> bool {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
        self.expired.load(Ordering::Relaxed)
    }

    fn check(&self) {
        if self.now() > self.deadline.load(Ordering::Relaxed) {
            self.expired.store(true, Ordering::Relaxed);
            resume_unwind(Box::new(Timeout));
        }
    }
}

/// Why a call failed, before it is worded.
pub(super) enum Failure {
    Lua(mlua::Error),
    /// The script returned something unusable.
    Invalid(String),
}

impl From<mlua::Error> for Failure {
    fn from(e: mlua::Error) -> Self {
        Failure::Lua(e)
    }
}

/// A loaded script.
pub(super) struct Vm {
    lua: Lua,
    /// The script's path, for messages.
    script: String,
    /// The global function each call runs.
    entry: &'static str,
    memory_limit: Option<u64>,
    clock: Option<Arc<Clock>>,
    /// One call at a time; the clock belongs to it.
    turn: Mutex<()>,
}

/// A Lua message on one line: without its traceback, lines joined by spaces.
fn one_line(text: &str) -> String {
    let message = text.split("stack traceback:").next().unwrap_or_default();
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Vm {
    /// Creates the VM, runs the script's top level and checks that it defines the global
    /// function `entry`. `script` names it in messages (its path).
    pub(super) fn load(
        script: &str,
        source: &[u8],
        entry: &'static str,
        options: &ScriptOptions,
    ) -> Result<Vm, ScriptError> {
        let fail = |m: String| ScriptError::Load(format!("{script}: {m}"));
        let lua_options = LuaOptions::new().catch_rust_panics(false);
        let lua = match options.libraries {
            Libraries::Safe => {
                Lua::new_with(StdLib::ALL_SAFE ^ StdLib::IO ^ StdLib::OS, lua_options)
            }
            Libraries::Os => Lua::new_with(StdLib::ALL_SAFE, lua_options),
            // SAFETY: asked for by the user (`--allow-lua-unsafe-vm`): the script may load C
            // modules and use `debug`, and so can break out of every limit.
            Libraries::Unsafe => Ok(unsafe { Lua::unsafe_new_with(StdLib::ALL, lua_options) }),
        }
        .map_err(|e| fail(format!("cannot create the Lua VM: {e}")))?;
        let clock = options.timeout.map(|limit| {
            Arc::new(Clock {
                origin: Instant::now(),
                limit,
                deadline: AtomicU64::new(u64::MAX),
                expired: AtomicBool::new(false),
            })
        });
        if let Some(clock) = &clock {
            let hook_clock = Arc::clone(clock);
            lua.set_global_hook(
                HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
                move |_, _| {
                    hook_clock.check();
                    Ok(VmState::Continue)
                },
            )
            .map_err(|e| fail(format!("cannot set the time limit: {e}")))?;
        }
        if options.libraries != Libraries::Unsafe {
            lua.load(PRELUDE)
                .set_name("=s3sync sandbox")
                .exec()
                .map_err(|e| fail(format!("cannot set up the sandbox: {e}")))?;
        }
        if let Some(limit) = options.memory_limit {
            lua.set_memory_limit(usize::try_from(limit).unwrap_or(usize::MAX))
                .map_err(|e| fail(format!("cannot limit the VM's memory: {e}")))?;
        }
        let vm = Vm {
            lua,
            script: script.to_string(),
            entry,
            memory_limit: options.memory_limit,
            clock,
            turn: Mutex::new(()),
        };
        // Chunk names starting with '@' are file names: Lua messages then read `name:line:`.
        let name = std::path::Path::new(script)
            .file_name()
            .map_or_else(|| script.to_string(), |n| n.to_string_lossy().into_owned());
        let mut top_level = vm.lua.load(source).set_name(format!("@{name}"));
        if options.libraries != Libraries::Unsafe {
            top_level = top_level.set_mode(ChunkMode::Text);
        }
        vm.guarded(|_| top_level.exec().map_err(Failure::Lua))
            .map_err(|e| ScriptError::Load(e.message().to_string()))?;
        let defined = vm
            .lua
            .globals()
            .get::<mlua::Value>(entry)
            .map(|v| v.is_function())
            .unwrap_or(false);
        if !defined {
            return Err(fail(format!("the script defines no function {entry}()")));
        }
        Ok(vm)
    }

    /// Calls the entry function: `work` is given it, calls it and reads what it returned,
    /// all under the call's limits.
    pub(super) fn call<R>(
        &self,
        work: impl FnOnce(&Lua, Function) -> Result<R, Failure>,
    ) -> Result<R, CallbackError> {
        self.guarded(|lua| {
            let function: Function = lua
                .globals()
                .get(self.entry)
                .map_err(|_| Failure::Invalid(format!("the global {}() is gone", self.entry)))?;
            work(lua, function)
        })
    }

    /// Runs `work` as one call: one caller at a time, with the deadline set; words any
    /// failure in one line naming the script.
    fn guarded<R>(
        &self,
        work: impl FnOnce(&Lua) -> Result<R, Failure>,
    ) -> Result<R, CallbackError> {
        let _turn = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(clock) = &self.clock {
            clock.start();
        }
        let result = catch_unwind(AssertUnwindSafe(|| work(&self.lua)));
        let expired = self.clock.as_ref().is_some_and(|c| c.stop());
        match result {
            Err(payload) if payload.is::<Timeout>() => Err(self.timed_out()),
            Err(payload) => resume_unwind(payload),
            // A script that caught the timeout and returned is still late.
            Ok(_) if expired => Err(self.timed_out()),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Failure::Invalid(m))) => Err(self.error(&m)),
            Ok(Err(Failure::Lua(e))) => Err(self.error(&self.describe(&e))),
        }
    }

    fn error(&self, message: &str) -> CallbackError {
        CallbackError::new(format!("{}: {message}", self.script))
    }

    fn timed_out(&self) -> CallbackError {
        let limit = self.clock.as_ref().map(|c| c.limit).unwrap_or_default();
        self.error(&format!(
            "{}() ran longer than the {} ms time limit (--lua-callback-timeout-milliseconds)",
            self.entry,
            limit.as_millis()
        ))
    }

    /// One line for a Lua error: the message without its traceback.
    fn describe(&self, e: &mlua::Error) -> String {
        match e {
            mlua::Error::CallbackError { cause, .. } => self.describe(cause),
            mlua::Error::WithContext { cause, .. } => self.describe(cause),
            mlua::Error::MemoryError(_) => match self.memory_limit {
                Some(limit) => format!(
                    "the Lua VM ran out of memory: its limit is {} (--lua-vm-memory-limit)",
                    human_bytes(limit)
                ),
                None => "the Lua VM ran out of memory".to_string(),
            },
            mlua::Error::SyntaxError { message, .. } => {
                format!("syntax error: {}", one_line(message))
            }
            mlua::Error::RuntimeError(message) => one_line(message),
            other => one_line(&other.to_string()),
        }
    }

    /// A global of the script, for tests.
    #[cfg(test)]
    pub(super) fn global<T: mlua::FromLua>(&self, name: &str) -> T {
        self.lua
            .globals()
            .get(name)
            .unwrap_or_else(|e| panic!("global {name}: {e}"))
    }
}
