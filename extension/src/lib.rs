//! medallion: a DuckDB loadable extension for a tweet-sentiment lakehouse.
//!
//! Imports run one way, top to bottom:
//!
//! ```text
//! lib.rs        the entry point DuckDB calls on LOAD
//! register.rs   loops over each capability's functions() and SETTINGS
//! delta/ sentiment/ mlflow/ chart/ core/ ingest/
//!               capabilities: a plain-Rust core (its own errors, unit tests,
//!               no SQL names) plus thin SQL bindings in sql/, one file per
//!               SQL function
//! duck/         the only place that touches DuckDB's C API
//! error.rs version.rs png.rs
//!               leaves every layer may use
//! ```
//!
//! Capabilities do not import each other, with one exception: `sentiment`
//! resolves a `models:/` URI through `mlflow::resolve_model_uri`.

#![deny(unsafe_code)]

pub mod chart;
pub mod core;
pub mod delta;
#[allow(unsafe_code)]
pub mod duck;
pub mod error;
pub mod ingest;
pub mod mlflow;
pub mod png;
pub mod register;
pub mod sentiment;
pub mod version;

/// Called by DuckDB on `LOAD medallion`; the crate's one entry point.
///
/// # Safety
/// Called by DuckDB with its extension info and access table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn medallion_init_c_api(
    info: duck::entry::ExtensionInfo,
    access: *const duck::entry::ExtensionAccess,
) -> bool {
    // SAFETY: DuckDB passes its own info and access table, as `load` needs.
    unsafe { duck::entry::load(info, access, register::all) }
}
