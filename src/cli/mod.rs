//! The command-line interface: argument definitions, environment fallbacks, validation into
//! a [`Config`]. The only module that knows about arguments and environment variables.

#[macro_use]
mod flag_table;
pub mod args;
pub mod argv;
mod azcopy;
pub mod completions;
mod directions;
mod help;
mod place;
mod reliability;
mod scripts;
mod selection;
mod sides;
mod state;
mod validate;
mod versioning;

use std::ffi::OsString;

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
    let mut args = match argv::parse(raw, env).map_err(CliError::usage)? {
        argv::Parsed::Help => return Ok(Command::Help(help::text())),
        argv::Parsed::Args(args) => args,
    };
    if args.version {
        return Ok(Command::Version);
    }
    if let Some(shell) = &args.auto_complete_shell {
        return completions::script(shell)
            .map(Command::Completions)
            .map_err(CliError::usage);
    }
    azcopy::fold(&mut args)?;
    let config = validate::build(&args, env)?;
    Ok(Command::Run(Box::new(config), env("RUST_LOG")))
}
