//! The error of every Delta operation: which table (as the caller wrote its
//! location) and what went wrong. No SQL names: a binding adds its own with
//! [`DeltaError::in_function`].

use std::fmt::Display;

/// A Delta operation failed on `table`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table '{table}': {message}")]
pub struct DeltaError {
    pub table: String,
    pub message: String,
}

impl DeltaError {
    /// The error as SQL function `function` reports it:
    /// `function: table 'path': message`.
    pub fn in_function(self, function: &'static str) -> crate::error::Error {
        crate::error::Error::Delta {
            function,
            table: self.table,
            message: self.message,
        }
    }
}

pub type Result<T, E = DeltaError> = std::result::Result<T, E>;

/// `table 'path': message`.
pub fn err(table: &str, message: impl Display) -> DeltaError {
    DeltaError {
        table: table.to_string(),
        message: message.to_string(),
    }
}
