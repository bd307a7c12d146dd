//! DuckDB's `enable_external_access`, for the code paths that cannot read it.
//!
//! Table functions, scalar binds and `COPY` read the option from their client
//! context and refuse to touch files when it is off. Two paths get no client
//! context in C API v1: an aggregate (`delta_write`) and a replacement scan
//! (`FROM 'lake/x'`); and the database handle is freed when `LOAD` returns, so
//! they cannot ask the database either.
//!
//! What makes a latch sound enough: while a database runs, the option can only
//! go from `true` to `false` (DuckDB refuses to re-enable it, and refuses
//! `LOAD` of a file while it is off). So every bind that reads the option
//! records a `false` here, and the context-less paths refuse from then on.
//! The latch is per process, not per database: a process that locked one
//! database down gets the refusal in all of them (fail closed).
//!
//! What it cannot do: see a `SET enable_external_access = false` that no
//! medallion bind has read yet. The `COPY … (FORMAT delta)` form of
//! `delta_write` has a client context and always refuses; README says so.

use std::sync::atomic::{AtomicBool, Ordering};

use duckdb::ffi;

use crate::error::Error;

/// A flag that can be set once and never cleared.
pub struct Latch(AtomicBool);

impl Latch {
    pub const fn new() -> Latch {
        Latch(AtomicBool::new(false))
    }

    /// Records one reading of the option.
    pub fn observe(&self, enabled: bool) {
        if !enabled {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    pub fn disabled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Refuses once the latch is set, naming the function and table.
    pub fn check(&self, function: &'static str, table: &str) -> Result<(), Error> {
        if self.disabled() {
            return Err(Error::Delta {
                function,
                table: table.to_string(),
                message: REFUSAL.into(),
            });
        }
        Ok(())
    }
}

impl Default for Latch {
    fn default() -> Self {
        Latch::new()
    }
}

static PROCESS: Latch = Latch::new();

/// The message every refusal uses, so users can grep one text.
pub const REFUSAL: &str = "file system access is disabled (enable_external_access = false)";

/// Records what a bind read from its client context.
pub fn observe(enabled: bool) {
    PROCESS.observe(enabled);
}

/// Reads `enable_external_access` from a live client context, records it and
/// returns it (`true` when DuckDB does not know the option).
///
/// # Safety
/// `context` must be a live client context (or null, which reads the latch).
pub unsafe fn read(context: ffi::duckdb_client_context) -> bool {
    if context.is_null() {
        return !PROCESS.disabled();
    }
    let enabled = unsafe { crate::settings::read(context, "enable_external_access") }
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    observe(enabled);
    enabled
}

/// For paths without a client context: refuses once any bind saw access off.
pub fn check(function: &'static str, table: &str) -> Result<(), Error> {
    PROCESS.check(function, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latch_only_moves_from_allowed_to_refused() {
        let l = Latch::new();
        l.observe(true);
        assert!(l.check("delta_write", "t").is_ok());
        l.observe(false);
        l.observe(true);
        let e = l.check("delta_write", "lake/t").unwrap_err().to_string();
        assert!(e.contains("lake/t") && e.contains(REFUSAL), "{e}");
    }
}
