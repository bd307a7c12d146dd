//! One error type for what reaches DuckDB, and the guard that keeps Rust
//! panics on our side of the FFI boundary.
//!
//! Capability cores (`delta::ops`, `mlflow`'s backends, `sentiment`'s model)
//! have error types of their own that know nothing of SQL; their SQL
//! bindings turn them into this [`Error`], adding the SQL function's name.
//! Its message becomes the text of the DuckDB error the user sees, so each
//! variant names *what* failed and *where* (function, path, setting, row).
//!
//! This module depends on nothing else in the crate, so every layer can use
//! it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What went wrong, phrased for the person who wrote the SQL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A function was called with an argument it cannot use.
    #[error("{function}: invalid argument `{argument}`: {reason}")]
    InvalidArgument {
        function: &'static str,
        argument: &'static str,
        reason: String,
    },
    /// DuckDB refused a registration (function, setting) while loading.
    #[error("medallion: could not register `{name}`: {reason}")]
    Registration { name: String, reason: String },
    /// Writing a result back into a DuckDB vector failed.
    #[error("{function}: could not write the result: {reason}")]
    Output {
        function: &'static str,
        reason: String,
    },
    /// An MLflow call failed. `problem` says what was attempted, where (the
    /// tracking server and endpoint, or the local store's path) and why; it
    /// never contains a credential.
    #[error("{function}: {problem}")]
    Mlflow {
        function: &'static str,
        problem: String,
    },
    /// Writing a file failed.
    #[error("{function}: cannot write '{path}': {source}")]
    Io {
        function: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A Delta Lake operation failed; names the table (as the user wrote its
    /// path) and the problem.
    #[error("{function}: table '{table}': {message}")]
    Delta {
        function: &'static str,
        table: String,
        message: String,
    },
    /// A sentiment model directory cannot be used (missing, unreadable,
    /// corrupt, or not a graph `bert_sentiment` can feed).
    #[error("{function}: model `{path}`: {problem}")]
    Model {
        function: &'static str,
        path: String,
        problem: String,
    },
    /// The ONNX Runtime shared library could not be loaded or initialised.
    #[error("{function}: ONNX Runtime library `{path}`: {problem} (set `onnxruntime_library` or the ONNXRUNTIME_LIBRARY environment variable to the path of libonnxruntime.so)")]
    OnnxRuntime {
        function: &'static str,
        path: String,
        problem: String,
    },
    /// A setting holds a value its function cannot use.
    #[error("{function}: setting `{name}` = '{value}': {problem}")]
    Setting {
        function: &'static str,
        name: &'static str,
        value: String,
        problem: String,
    },
    /// `enable_external_access = false` forbids what the function was asked
    /// to do (see `duck::access`).
    #[error("{function}: cannot {op} '{target}': {reason}")]
    Refused {
        function: &'static str,
        op: &'static str,
        target: String,
        reason: String,
    },
    /// DuckDB handed us something our own declarations rule out (a column
    /// of another type than the signature says): a bug on our side.
    #[error("{context}: internal error: {message}")]
    Internal { context: String, message: String },
    /// A bug on our side: Rust code panicked. Reported instead of unwinding
    /// into DuckDB, which would abort the host process.
    #[error("{context}: internal error (Rust panic): {message}")]
    Panic { context: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `work`, turning a panic into [`Error::Panic`] attributed to `context`
/// (usually the SQL function name).
///
/// duckdb-rs also contains panics in the callbacks it wraps; this guard is
/// ours so that every entry point — including the extension's init and any
/// raw C callback we register ourselves — reports a panic as a normal DuckDB
/// error with our context, and so that the behaviour is tested here rather
/// than assumed from a dependency.
pub fn guard<T>(context: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => Err(Error::Panic {
            context: context.to_string(),
            message: panic_message(payload.as_ref()),
        }),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_passes_through_success_and_errors() {
        assert_eq!(guard("f", || Ok(7)).unwrap(), 7);
        let err = guard::<()>("f", || {
            Err(Error::InvalidArgument {
                function: "f",
                argument: "x",
                reason: "must be positive".into(),
            })
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "f: invalid argument `x`: must be positive");
    }

    #[test]
    fn guard_turns_a_str_panic_into_an_error_naming_the_context() {
        let err = guard::<()>("delta_write", || panic!("boom")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "delta_write: internal error (Rust panic): boom"
        );
    }

    #[test]
    fn guard_turns_a_formatted_panic_into_an_error() {
        let err = guard::<()>("f", || panic!("row {}", 42)).unwrap_err();
        assert!(err.to_string().ends_with("row 42"), "{err}");
    }

    #[test]
    fn guard_survives_a_non_string_payload() {
        let err = guard::<()>("f", || std::panic::panic_any(17_u32)).unwrap_err();
        assert!(err.to_string().contains("non-string payload"), "{err}");
    }

    #[test]
    fn a_refusal_names_the_function_the_operation_and_the_target() {
        let e = Error::Refused {
            function: "mlflow_log_artifact",
            op: "read",
            target: "/etc/passwd".into(),
            reason: "file system access is disabled (enable_external_access = false)".into(),
        };
        assert_eq!(
            e.to_string(),
            "mlflow_log_artifact: cannot read '/etc/passwd': file system access is disabled (enable_external_access = false)"
        );
    }
}
