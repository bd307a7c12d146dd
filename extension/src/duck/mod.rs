//! The only place that touches DuckDB's C API. Capabilities see safe Rust:
//! they describe their SQL functions with the traits here and get Arrow
//! arrays, typed columns and plain values in and out; nothing here knows
//! about Delta, sentiment or MLflow.
//!
//! - Function shapes, each a trait a capability implements and
//!   [`Function`] (plain data) names: [`scalar::BoundScalar`] (scalars with
//!   a bind step), [`aggregate::Aggregate`] (the only C API v1 shape that
//!   consumes a query's rows with their column names),
//!   [`table::TableFunction`] / [`table::BatchFunction`] (Arrow batches out;
//!   [`columns`] reads a batch function's result declared as SQL),
//!   [`copy::CopyTo`] (`COPY ... TO (FORMAT x)`), and
//!   [`replacement::ReplacementScan`] (`FROM 'path'`).
//! - In and out: [`chunk`] (typed column readers), [`nested`], [`text`],
//!   [`output`] (scalar results, Arrow arrays for nested ones),
//!   [`constant`] (bind-time values), [`chunk_arrow`] and [`arrow_bridge`]
//!   (DuckDB vectors → arrow 59; arrow 59 ⇄ 60, zero-copy).
//! - Around them: [`registrar`] (what LOAD registers with; scalar and
//!   aggregate function sets share one `function_set`), [`settings`]
//!   (SET-able settings), [`access`] (`enable_external_access`),
//!   [`message`] (an error as DuckDB's C string), [`entry`] (LOAD itself).
//!
//! Every `unsafe` block in here says why it is sound (`// SAFETY:`).

pub mod access;
pub mod aggregate;
pub mod arrow_bridge;
pub mod chunk;
pub mod chunk_arrow;
pub mod columns;
pub mod constant;
pub mod copy;
pub mod entry;
pub mod function;
mod function_set;
pub mod message;
pub mod nested;
pub mod output;
pub mod registrar;
pub mod replacement;
pub mod scalar;
pub mod settings;
pub mod table;
pub mod text;
pub mod types;

pub use access::{Access, Refused};
pub use aggregate::{Aggregate, Chunk, Output as AggregateOutput};
pub use chunk::{Column, InputChunk};
pub use constant::Constant;
pub use copy::{CopyBind, CopyTo};
pub use function::{Function, Kind};
pub use output::Output;
pub use registrar::Registrar;
pub use replacement::{Arg, Call, ReplacementScan};
pub use scalar::{Bind, BoundScalar};
pub use settings::Setting;
pub use table::{BatchFunction, Bound, TableBind, TableFunction};
pub use types::{LogicalType, Signature, TypeId};
