//! `delta_write(path, row [, options])` → STRUCT: the SQL binding of
//! [`super::writer`], as an aggregate over the row struct:
//!
//! ```sql
//! SELECT delta_write('lake/bronze', t, {mode: 'append', txn_app_id: 'ingest', txn_version: 7})
//! FROM (SELECT ...) t;
//! ```
//!
//! Each DuckDB thread's state streams its share of the rows into its own
//! Parquet files; `combine` hands finished files to one state; `finalize`
//! commits them all as one Delta version. A query with no rows never reaches
//! `update`, so nothing is known about the table and nothing is written.

use std::ops::Range;
use std::sync::Arc;

use arrow59::array::{Array, ArrayRef, AsArray, StructArray};
use arrow59::datatypes::{DataType, Schema};
use arrow59::record_batch::RecordBatch;

use super::options;
use super::writer::{Session, WriteOutcome};
use crate::duck::aggregate::{Aggregate, Chunk, Output};
use crate::duck::chunk_arrow::vector_to_arrow;
use crate::duck::raw::StructOut;
use crate::duck::types::LogicalType;
use crate::error::{Error, Result};

pub const NAME: &str = "delta_write";

pub struct DeltaWrite;

#[derive(Default)]
pub struct State {
    session: Option<Session>,
}

pub struct Input {
    paths: ArrayRef,
    rows: RecordBatch,
    options: Option<ArrayRef>,
}

/// The STRUCT `delta_write` returns.
pub fn return_type() -> LogicalType {
    LogicalType::structure(&[
        ("version", LogicalType::bigint()),
        ("rows", LogicalType::bigint()),
        ("files_added", LogicalType::bigint()),
        ("files_removed", LogicalType::bigint()),
        ("bytes_added", LogicalType::bigint()),
        ("status", LogicalType::varchar()),
    ])
}

fn invalid(argument: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        function: NAME,
        argument,
        reason: reason.into(),
    }
}

impl Aggregate for DeltaWrite {
    const NAME: &'static str = NAME;
    type State = State;
    type Prepared = Input;

    fn prepare(chunk: Chunk) -> Result<Input> {
        let (ncols, len) = (chunk.column_count(), chunk.len());
        let col = |i: usize, name: &str| unsafe { vector_to_arrow(chunk.vector(i), len, name) };
        let (_, paths) = col(0, "path").map_err(|e| invalid("path", e))?;
        let (_, row) = col(1, "row").map_err(|e| Error::Delta {
            function: NAME,
            table: String::new(),
            message: e,
        })?;
        let DataType::Struct(fields) = row.data_type().clone() else {
            return Err(invalid(
                "row",
                format!(
                    "expected the whole row as a STRUCT, e.g. `SELECT {NAME}('lake/t', t) FROM (SELECT ...) t`, got {}",
                    row.data_type()
                ),
            ));
        };
        let s: &StructArray = row.as_struct();
        let schema = Arc::new(Schema::new(fields));
        let rows = RecordBatch::try_new(schema, s.columns().to_vec())
            .map_err(|e| invalid("row", e.to_string()))?;
        let options = if ncols > 2 {
            Some(col(2, "options").map_err(|e| invalid("options", e))?.1)
        } else {
            None
        };
        Ok(Input {
            paths,
            rows,
            options,
        })
    }

    fn update(state: &mut State, input: &Input, rows: Range<usize>) -> Result<()> {
        let paths = arrow59::compute::cast(&input.paths, &DataType::Utf8)
            .map_err(|e| invalid("path", e.to_string()))?;
        let paths = paths.as_string::<i32>();
        if (rows.start..rows.end).any(|i| paths.is_null(i)) {
            return Err(invalid("path", "the table path is NULL"));
        }
        let path = paths.value(rows.start);
        if let Some(i) = (rows.start..rows.end).find(|i| paths.value(*i) != path) {
            return Err(invalid(
                "path",
                format!(
                    "must be the same for every row, got '{path}' and '{}'",
                    paths.value(i)
                ),
            ));
        }
        let batch = input.rows.slice(rows.start, rows.len());
        if state.session.is_none() {
            // No client context reaches an aggregate: the latch stands in.
            crate::access::check(NAME, path)?;
            let opts = match &input.options {
                Some(o) => options::parse(o, rows.start).map_err(|m| Error::Delta {
                    function: NAME,
                    table: path.to_string(),
                    message: m,
                })?,
                None => options::WriteOptions::default(),
            };
            state.session = Some(Session::start(path, opts, batch.schema())?);
        }
        let session = state.session.as_mut().expect("session");
        if session.path != path {
            return Err(invalid(
                "path",
                format!(
                    "must be the same for every row, got '{}' and '{path}'",
                    session.path
                ),
            ));
        }
        session.write(batch)
    }

    fn combine(source: &mut State, target: &mut State) -> Result<()> {
        if let Some(s) = source.session.take() {
            match target.session.as_mut() {
                Some(t) => t.absorb(s)?,
                None => target.session = Some(s),
            }
        }
        Ok(())
    }

    fn finalize(state: &mut State, out: Output, row: u64) -> Result<()> {
        let outcome = match state.session.take() {
            Some(s) => s.commit()?,
            None => WriteOutcome {
                status: "no rows".into(),
                ..Default::default()
            },
        };
        let o = unsafe { StructOut::new(out.raw(), row) };
        o.set_i64(0, outcome.version);
        o.set_i64(1, Some(outcome.rows as i64));
        o.set_i64(2, Some(outcome.files_added as i64));
        o.set_i64(3, Some(outcome.files_removed as i64));
        o.set_i64(4, Some(outcome.bytes_added as i64));
        o.set_str(5, Some(&outcome.status));
        Ok(())
    }
}
