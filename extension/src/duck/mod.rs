//! Reusable DuckDB plumbing that duckdb-rs does not provide, shared by every
//! capability (Delta, sentiment, MLflow). Nothing here knows about Delta.
//!
//! - [`aggregate`]: a raw-FFI aggregate-function wrapper. duckdb-rs 1.20000.1
//!   cannot register aggregates at all, and an aggregate over an ANY-typed
//!   parameter is the only C API v1 shape that consumes a query's rows with
//!   their column names (STRUCT child names) and returns a value.
//! - [`chunk_arrow`]: DuckDB vectors → Arrow arrays (the `arrow` 59 that
//!   `deltalake` uses). duckdb-rs' own converter has no DECIMAL/HUGEINT and
//!   copies row by row; the C API's `duckdb_data_chunk_to_arrow` needs arrow
//!   options from a live connection, which an aggregate never has.
//! - [`arrow_bridge`]: arrow 59 ⇄ arrow 60 (duckdb-rs) through the Arrow C
//!   Data Interface, zero-copy.
//! - [`batch_table`]: table functions computed as one Arrow batch (history,
//!   maintenance reports), run on the first scan call, not at bind.
//! - [`raw`]: the raw connection used to register what duckdb-rs cannot, and
//!   small helpers over raw vectors (STRUCT results, strings).

pub mod aggregate;
pub mod arrow_bridge;
pub mod batch_table;
pub mod chunk_arrow;
pub mod raw;
