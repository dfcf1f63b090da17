//! Ctrl-C (SIGINT) and SIGTERM. The first one asks the run to stop: nothing new is started,
//! transfers in flight are abandoned, their multipart uploads aborted and temporary files
//! removed, no deletion runs, and the process exits with 128 + the signal number (130 for
//! Ctrl-C, 143 for SIGTERM), as shells expect. A second signal exits at once.
//!
//! The only process-wide state is this module's stop flag and the signal number.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The flag the handlers set; hand it to [`crate::engine::run_cancellable`].
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// The signal that asked the run to stop, if one did.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The exit code for a run stopped by `signal`.
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(130)
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    #[cfg(unix)]
    {
        match signal {
            libc::SIGINT => "SIGINT (Ctrl-C)",
            libc::SIGTERM => "SIGTERM",
            _ => "a signal",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = signal;
        "a signal"
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: atomics and _exit.
    if SIGNAL.swap(signal, Ordering::SeqCst) != 0 {
        // SAFETY: _exit is async-signal-safe and ends the process without unwinding.
        unsafe { libc::_exit(128 + signal) };
    }
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handlers for SIGINT and SIGTERM. Blocking calls are restarted rather than
/// failed when a signal arrives (`SA_RESTART`); the run notices the flag instead.
pub fn install() {
    #[cfg(unix)]
    {
        // SAFETY: the sigaction struct is zero-initialised and then filled in as the C API
        // requires; the handler only touches atomics and calls _exit.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            for signal in [libc::SIGINT, libc::SIGTERM] {
                if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                    log::warn!(
                        "cannot install the handler for signal {signal}: Ctrl-C will not stop cleanly"
                    );
                }
            }
        }
    }
}
