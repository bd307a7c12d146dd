//! medallion: a DuckDB loadable extension for a tweet-sentiment lakehouse.
//!
//! `extension_entrypoint` is what DuckDB calls on `LOAD`; everything it
//! registers is listed in [`register::all`]. Capabilities live in their own
//! modules (`delta`, `sentiment`, `mlflow`), one file per SQL function.

pub mod core;
pub mod error;
pub mod register;

use std::error::Error as StdError;

use duckdb::duckdb_entrypoint_c_api;
use duckdb::Connection;

/// Called by DuckDB on `LOAD`. Registration runs inside [`error::guard`], so a
/// panic while loading fails the `LOAD` with a message instead of aborting the
/// host.
#[duckdb_entrypoint_c_api(ext_name = "medallion", min_duckdb_version = "v1.5.6")]
pub fn extension_entrypoint(con: Connection) -> Result<(), Box<dyn StdError>> {
    error::guard("LOAD medallion", || register::all(&con))?;
    Ok(())
}
