//! Small, dependency-free helpers shared by every layer: text encodings, time formats and byte sizes.

pub mod encoding;
pub mod glob;
pub mod json;
pub mod pattern;
pub mod rate;
pub mod redact;
pub mod size;
pub mod time;
