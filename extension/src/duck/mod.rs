//! Thin, safe-ish helpers over DuckDB's C API, for what duckdb-rs does not
//! expose: scalar functions with a bind step (to read settings and fold
//! constant arguments), reading input vectors from a raw data chunk, and
//! building logical types. Capability modules use these; they never call the
//! raw API for these jobs themselves.

pub mod chunk;
pub mod nested;
pub mod output;
pub mod scalar;
pub mod text;
pub mod types;
pub mod value;
