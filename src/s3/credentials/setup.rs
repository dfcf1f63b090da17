//! Why a side's credentials could not be set up: the one error every provider's
//! construction shares (a leaf, so the modules that build providers need not import each
//! other for it).

/// Why no provider could be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// A setting is wrong (a flag, a variable, a profile): fix the configuration.
    Invalid(String),
    /// Nothing is configured and instance metadata is disabled.
    Missing(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Invalid(m) | SetupError::Missing(m) => f.write_str(m),
        }
    }
}
