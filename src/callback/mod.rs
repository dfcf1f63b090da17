//! Hooks into a run: a filter that decides which source objects are looked at, a preprocess
//! step that shapes each object written to S3, and a listener told about everything that
//! happens. Each is a trait; a [`Config`](crate::Config) holds at most one implementation of
//! each in its [`Callbacks`]. The Lua scripts of `--filter-callback-lua-script` and friends
//! are one implementation ([`crate::script`]); a library user can plug in Rust instead.
//!
//! Where they run:
//!
//! * [`FilterCallback`]: after the key patterns (`--filter-include-regex`,
//!   `--filter-exclude-regex`) and before the update check, once per listed source object
//!   (with `--enable-versioning`, once per version and delete marker). Returning `false`
//!   skips the object; its target counterpart is then never deleted.
//! * [`PreprocessCallback`]: last, just before an object is written to an S3 target (PUT,
//!   CopyObject or CreateMultipartUpload), after every filter and the update check; never in
//!   a dry run and never for a local target. It may change what the object is given
//!   (metadata, Content-Type, tags, storage class, ACL) or skip it.
//! * [`EventCallback`]: at the start and end of the run and for every object that is
//!   transferred, filtered, deleted, verified, warned about or fails.
//!
//! An error from the filter or preprocess callback stops the run (the CLI exits 1); an error
//! from the event callback is logged and counted as a warning, and the run goes on.
//!
//! Callbacks are called from several threads at once (workers and the listing stage), so
//! implementations are `Send + Sync` and synchronise what they share.

mod event;
mod object;

use std::fmt;
use std::sync::Arc;

pub use event::{Event, EventKind, EventStats, Snapshot};
pub use object::{ObjectInfo, SourceObject, UploadMetadata};

/// Why a callback failed: one line, naming what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    message: String,
}

impl CallbackError {
    pub fn new(message: impl Into<String>) -> CallbackError {
        CallbackError {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallbackError {}

/// Decides which source objects a run looks at (step 7 of the filter order, see the module
/// docs).
pub trait FilterCallback: Send + Sync {
    /// `Ok(true)` keeps the object, `Ok(false)` skips it (counted as skipped). An error stops
    /// the run.
    fn filter(&self, object: &ObjectInfo) -> Result<bool, CallbackError>;
}

/// Shapes each object just before it is written to an S3 target.
pub trait PreprocessCallback: Send + Sync {
    /// `object` describes the source and `upload` holds what the new object will be given
    /// (after the metadata options). Change `upload` in place and return `Ok(true)` to write
    /// the object, or `Ok(false)` to skip it (counted as skipped). An error stops the run.
    ///
    /// When a written object fails verification and is transferred again, the callback is
    /// asked again.
    fn preprocess(
        &self,
        object: &SourceObject,
        upload: &mut UploadMetadata,
    ) -> Result<bool, CallbackError>;
}

/// Told about what happens during a run.
pub trait EventCallback: Send + Sync {
    /// An error is logged and counted as a warning; the run goes on.
    fn on_event(&self, event: &Event) -> Result<(), CallbackError>;
}

/// The callbacks of one run; each is optional.
#[derive(Clone, Default)]
pub struct Callbacks {
    pub filter: Option<Arc<dyn FilterCallback>>,
    pub preprocess: Option<Arc<dyn PreprocessCallback>>,
    pub event: Option<Arc<dyn EventCallback>>,
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "set" } else { "none" };
        f.debug_struct("Callbacks")
            .field("filter", &set(self.filter.is_some()))
            .field("preprocess", &set(self.preprocess.is_some()))
            .field("event", &set(self.event.is_some()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct KeepAll;

    impl FilterCallback for KeepAll {
        fn filter(&self, _: &ObjectInfo) -> Result<bool, CallbackError> {
            Ok(true)
        }
    }

    #[test]
    fn debug_says_which_callbacks_are_set() {
        let callbacks = Callbacks {
            filter: Some(Arc::new(KeepAll)),
            ..Callbacks::default()
        };
        assert_eq!(
            format!("{callbacks:?}"),
            "Callbacks { filter: \"set\", preprocess: \"none\", event: \"none\" }"
        );
    }
}
