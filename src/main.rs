//! The `s3sync` binary: parse, run, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use s3sync::cli::{self, Command};
use s3sync::interrupt;

fn main() -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let command = match cli::parse(std::env::args_os().skip(1).collect(), &env) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "s3sync: error: {}", e.message);
            return ExitCode::from(e.code);
        }
    };
    match command {
        Command::Help(text) => {
            // A closed stdout (e.g. `| head`) is not an error.
            let _ = write!(std::io::stdout(), "{text}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            let _ = writeln!(std::io::stdout(), "s3sync {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Completions(script) => {
            let _ = write!(std::io::stdout(), "{script}");
            ExitCode::SUCCESS
        }
        Command::Run(config, rust_log) => {
            s3sync::logging::init(&config.output, rust_log.as_deref());
            interrupt::install();
            let report = s3sync::run_cancellable(&config, interrupt::stop_flag());
            if let Some(signal) = interrupt::received().filter(|_| report.interrupted) {
                let _ = writeln!(
                    std::io::stderr(),
                    "s3sync: stopped by {}: unfinished uploads aborted, temporary files removed, \
                     nothing deleted; run again to finish",
                    interrupt::name(signal)
                );
                return ExitCode::from(interrupt::exit_code(signal));
            }
            if let Some(fatal) = &report.fatal {
                log::error!("{fatal}");
                let _ = writeln!(std::io::stderr(), "s3sync: error: {fatal}");
            } else if report.stats.errors > 0 {
                let _ = writeln!(
                    std::io::stderr(),
                    "s3sync: error: {} object(s) failed; the log names each one",
                    report.stats.errors
                );
            }
            if report.has_errors() {
                ExitCode::from(1)
            } else if report.has_warnings() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
