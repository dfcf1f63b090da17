//! The options that say how hard to try and how fast to go: whole-object retries, operation
//! and attempt timeouts, stalled-stream protection and the rate limits.

use std::sync::Arc;
use std::time::Duration;

use super::CliError;
use super::args::Args;
use crate::config::{Config, Location};
use crate::http::retry::Limits;
use crate::util::rate::RateLimiter;
use crate::util::size::parse_size;

/// The checked options, ready to apply.
pub struct Reliability {
    limits: Limits,
    force_retry_count: u32,
    force_retry_interval: Duration,
    rate_limit_objects: Option<u32>,
}

fn millis(name: &str, value: Option<u64>) -> Result<Option<Duration>, CliError> {
    match value {
        Some(0) => Err(CliError::usage(format!(
            "{name} must be at least 1 (leave it out for no limit)"
        ))),
        other => Ok(other.map(Duration::from_millis)),
    }
}

/// Checks the options (before anything slow).
pub fn check(args: &Args) -> Result<Reliability, CliError> {
    let operation_timeout = millis(
        "--operation-timeout-milliseconds",
        args.operation_timeout_milliseconds,
    )?;
    let attempt_timeout = millis(
        "--operation-attempt-timeout-milliseconds",
        args.operation_attempt_timeout_milliseconds,
    )?;
    millis(
        "--connect-timeout-milliseconds",
        args.connect_timeout_milliseconds,
    )?;
    millis(
        "--read-timeout-milliseconds",
        args.read_timeout_milliseconds,
    )?;
    if args.rate_limit_objects == Some(0) {
        return Err(CliError::usage(
            "--rate-limit-objects must be at least 1 (objects per second)",
        ));
    }
    let bandwidth = match &args.rate_limit_bandwidth {
        Some(text) => {
            let bytes = parse_size(text)
                .map_err(|e| CliError::usage(format!("--rate-limit-bandwidth: {e}")))?;
            if bytes == 0 {
                return Err(CliError::usage(
                    "--rate-limit-bandwidth must be at least 1 byte per second",
                ));
            }
            Some(Arc::new(RateLimiter::new(bytes)))
        }
        None => None,
    };
    Ok(Reliability {
        limits: Limits {
            operation_timeout,
            attempt_timeout,
            stalled_stream_protection: !args.disable_stalled_stream_protection,
            bandwidth,
            // Set per run by the engine.
            cancel: None,
        },
        force_retry_count: args.force_retry_count,
        force_retry_interval: Duration::from_millis(args.force_retry_interval_milliseconds),
        rate_limit_objects: args.rate_limit_objects,
    })
}

/// Writes the options into `config`; both S3 sides share one bandwidth limit.
pub fn apply(reliability: Reliability, config: &mut Config) {
    for location in [&mut config.source, &mut config.target] {
        if let Location::S3 { client, .. } = location {
            client.limits = reliability.limits.clone();
        }
    }
    config.force_retry_count = reliability.force_retry_count;
    config.force_retry_interval = reliability.force_retry_interval;
    config.rate_limit_objects = reliability.rate_limit_objects;
}
