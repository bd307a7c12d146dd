//! The errors of the ingest core: only what stops a listing before it
//! starts (a pattern it cannot use, a directory it may not list). Problems
//! with the landed data are never errors here: they are rows
//! ([`crate::ingest::lines::Problem`]). No SQL names: a binding adds its own
//! with [`IngestError::in_function`].

/// A listing could not be made.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The pattern is not `directory/name-pattern` with wildcards only in
    /// the name.
    #[error("pattern '{pattern}': {reason}")]
    Pattern { pattern: String, reason: String },
    /// The directory exists but cannot be listed (permissions, I/O): a
    /// reason outside the data, so the caller must see it.
    #[error("cannot list directory '{directory}': {source}")]
    List {
        directory: String,
        #[source]
        source: std::io::Error,
    },
}

impl IngestError {
    /// The error as SQL function `function` reports it. Both kinds are about
    /// the one argument a listing takes, so they read
    /// `function: invalid argument `argument`: ...`.
    pub fn in_function(
        self,
        function: &'static str,
        argument: &'static str,
    ) -> crate::error::Error {
        crate::error::Error::InvalidArgument {
            function,
            argument,
            reason: self.to_string(),
        }
    }
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
