//! The command-line interface: argument definitions, environment fallbacks, validation into
//! a [`Config`]. The only module that knows about argh and environment variables.

pub mod args;
pub mod argv;
pub mod completions;
mod reliability;
mod scripts;
mod selection;
mod sides;
mod validate;
mod versioning;

use std::ffi::OsString;

use argh::FromArgs;

use crate::config::Config;
pub use args::Args;

/// Exit code for invalid arguments.
pub const EXIT_USAGE: u8 = 2;

/// A failure before the run starts: a message and the exit code it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Print this text on stdout and exit 0.
    Help(String),
    Version,
    /// Print this shell completion script on stdout and exit 0.
    Completions(String),
    Run(Box<Config>, Option<String>),
}

/// Parses the command line (without the program name) and the environment.
pub fn parse(
    raw: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Command, CliError> {
    let argv = argv::prepare(raw, env).map_err(CliError::usage)?;
    let strs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let args = match Args::from_args(&["s3sync"], &strs) {
        Ok(a) => a,
        Err(early) => {
            return match early.status {
                Ok(()) => Ok(Command::Help(early.output)),
                Err(()) => Err(CliError::usage(early.output.trim().replace('\n', " "))),
            };
        }
    };
    if args.version {
        return Ok(Command::Version);
    }
    if let Some(shell) = &args.auto_complete_shell {
        return completions::script(shell)
            .map(Command::Completions)
            .map_err(CliError::usage);
    }
    let config = validate::build(&args, env)?;
    Ok(Command::Run(Box::new(config), env("RUST_LOG")))
}
