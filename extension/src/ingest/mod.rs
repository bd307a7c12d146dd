//! Reading landed files robustly: no input stops the pipeline (issue 11,
//! point 5).
//!
//! Bronze reads raw tweet files dropped into a landing directory. DuckDB's
//! `glob` + `read_text` fail or hang on what a landing directory can hold:
//! one invalid UTF-8 byte aborts the pass (and every later one, as the file
//! stays pending), a byte-order mark spoils the first line, a FIFO named
//! `x.json` blocks the reader forever. Here every such case is data:
//!
//! - `landing_files(pattern)` lists a directory without opening any entry,
//!   with each entry's kind (`file`, `directory`, `fifo`, `symlink` for a
//!   dangling one, `other`), size and modification time;
//! - `landing_lines(files, sizes := ..., max_line_bytes := ...)` streams the
//!   non-blank lines of the listed files with their line number and byte
//!   offset, and reports each bad line or bad file as a row with a
//!   `problem` text instead of failing.
//!
//! Layout: a plain-Rust core ([`pattern`], [`listing`], [`open`], [`lines`],
//! [`problem`], [`error`]: its own error type, unit tests, no SQL names)
//! apart from the SQL bindings in [`sql`], one file per function.

pub mod error;
pub mod lines;
pub mod listing;
pub mod open;
pub mod pattern;
pub mod problem;
pub mod sql;
#[cfg(test)]
mod testing;

use crate::duck::Function;

/// This capability's SQL functions.
pub fn functions() -> Vec<Function> {
    vec![
        Function::batch::<sql::landing_files::LandingFiles>(),
        Function::table::<sql::landing_lines::LandingLinesFn>(),
    ]
}
