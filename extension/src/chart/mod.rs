//! Charts for the pipeline's analyses, drawn to PNG files from SQL.
//!
//! The library: [`draw`] (bar and line charts as PNG bytes) and [`file`]
//! (writing a file whole or not at all). The SQL binding: [`sql`].

pub mod draw;
pub mod file;
pub mod sql;

use crate::duck::Function;

/// This capability's SQL functions.
pub fn functions() -> Vec<Function> {
    vec![Function::scalar::<sql::medallion_chart::MedallionChart>()]
}
