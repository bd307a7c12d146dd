//! Thin helpers over DuckDB's C API, for what duckdb-rs does not expose,
//! shared by every capability (nothing here knows about Delta, sentiment or
//! MLflow; capabilities never call the raw API for these jobs themselves):
//!
//! - [`scalar`]: scalar functions with a bind step (read settings, fold
//!   constant arguments); [`chunk`], [`nested`], [`text`]: reading their
//!   input vectors; [`output`]: writing flat results; [`types`], [`value`]:
//!   owned logical types and values.
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
//! - [`raw`]: the registration connection and small helpers over raw
//!   vectors (STRUCT results, strings).

pub mod aggregate;
pub mod arrow_bridge;
pub mod batch_table;
pub mod chunk;
pub mod chunk_arrow;
pub mod nested;
pub mod output;
pub mod raw;
pub mod scalar;
pub mod text;
pub mod types;
pub mod value;
