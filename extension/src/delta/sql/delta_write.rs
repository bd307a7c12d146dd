//! `delta_write(path, row [, options])` → STRUCT: appends or overwrites a
//! table with a query's rows, as an aggregate over the row struct:
//!
//! ```sql
//! SELECT delta_write('lake/bronze', t, {mode: 'append', txn_app_id: 'ingest', txn_version: 7})
//! FROM (SELECT ...) t;
//! ```
//!
//! Each DuckDB thread's state streams its share of the rows into its own
//! Parquet files ([`TableWriter`]); `combine` hands finished files to one
//! state; `finalize` commits them all as one Delta version. A query with no
//! rows never reaches `update`, so nothing is known about the table and
//! nothing is written (`COPY ... (FORMAT delta)` can: it knows the path).
//!
//! A NULL row is not a row: it writes nothing but makes the write happen
//! (`... FROM (SELECT t FROM new_rows t UNION ALL SELECT NULL)`), so a query
//! with no rows can still create an empty table or, with a `txn`, record
//! how far a streaming consumer has read.
//!
//! An aggregate gets no client context, so its external-access check uses
//! the latched policy (see `duck::access`).

use std::ops::Range;
use std::sync::Arc;

use arrow59::array::{Array, ArrayRef, AsArray, BooleanArray, StructArray};
use arrow59::compute::filter_record_batch;
use arrow59::datatypes::{DataType, Schema};
use arrow59::record_batch::RecordBatch;

use super::args::{check, Use};
use crate::delta::ops::error::err;
use crate::delta::ops::options::{self, WriteOptions};
use crate::delta::ops::writer::{TableWriter, WriteOutcome};
use crate::duck::access::latched;
use crate::duck::{Aggregate, AggregateOutput, Chunk, LogicalType, Signature};
use crate::error::{Error, Result};

pub const NAME: &str = "delta_write";

pub struct DeltaWrite;

#[derive(Default)]
pub struct State {
    pub(super) writer: Option<TableWriter>,
}

pub struct Input {
    paths: ArrayRef,
    rows: RecordBatch,
    /// Which rows are rows: a NULL row struct is not one (see the module docs).
    present: Option<BooleanArray>,
    options: Option<ArrayRef>,
}

/// The STRUCT `delta_write` (and `delta_commit_files`) returns.
pub(super) fn return_type() -> LogicalType {
    LogicalType::structure(&[
        ("version", LogicalType::bigint()),
        ("rows", LogicalType::bigint()),
        ("files_added", LogicalType::bigint()),
        ("files_removed", LogicalType::bigint()),
        ("bytes_added", LogicalType::bigint()),
        ("status", LogicalType::varchar()),
    ])
}

pub(super) fn invalid(
    function: &'static str,
    argument: &'static str,
    reason: impl Into<String>,
) -> Error {
    Error::InvalidArgument {
        function,
        argument,
        reason: reason.into(),
    }
}

impl Aggregate for DeltaWrite {
    const NAME: &'static str = NAME;
    type State = State;
    type Prepared = Input;

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![LogicalType::varchar(), LogicalType::any()],
            || vec![LogicalType::any()],
            return_type,
        )
    }

    fn prepare(chunk: &Chunk) -> Result<Input> {
        prepare_rows(NAME, chunk)
    }

    fn update(state: &mut State, input: &Input, rows: Range<usize>) -> Result<()> {
        update_rows(NAME, state, input, rows, |_| Ok(()))
    }

    fn combine(source: &mut State, target: &mut State) -> Result<()> {
        combine_writers(NAME, source, target)
    }

    fn finalize(state: &mut State, out: &AggregateOutput, row: u64) -> Result<()> {
        commit_state(NAME, state, out, row, "no rows")
    }
}

/// The path, row and options columns of a chunk of `function`'s input.
pub(super) fn prepare_rows(function: &'static str, chunk: &Chunk) -> Result<Input> {
    let (_, paths) = chunk
        .arrow(0, "path")
        .map_err(|e| invalid(function, "path", e))?;
    let (_, row) = chunk
        .arrow(1, "row")
        .map_err(|e| err("", e).in_function(function))?;
    let DataType::Struct(fields) = row.data_type().clone() else {
        return Err(invalid(
            function,
            "row",
            format!(
                "expected the whole row as a STRUCT, e.g. `SELECT {function}('lake/t', t) FROM (SELECT ...) t`, got {}",
                row.data_type()
            ),
        ));
    };
    let s: &StructArray = row.as_struct();
    let schema = Arc::new(Schema::new(fields));
    let rows = RecordBatch::try_new(schema, s.columns().to_vec())
        .map_err(|e| invalid(function, "row", e.to_string()))?;
    let present = s
        .nulls()
        .filter(|n| n.null_count() > 0)
        .map(|n| BooleanArray::new(n.inner().clone(), None));
    let options = options_column(function, chunk)?;
    Ok(Input {
        paths,
        rows,
        present,
        options,
    })
}

/// Streams `rows` of a chunk into the state's writer, started on the first
/// rows with their options (which `vet` may refuse).
pub(super) fn update_rows(
    function: &'static str,
    state: &mut State,
    input: &Input,
    rows: Range<usize>,
    vet: impl Fn(&WriteOptions) -> std::result::Result<(), String>,
) -> Result<()> {
    let paths = arrow59::compute::cast(&input.paths, &DataType::Utf8)
        .map_err(|e| invalid(function, "path", e.to_string()))?;
    let paths = paths.as_string::<i32>();
    if (rows.start..rows.end).any(|i| paths.is_null(i)) {
        return Err(invalid(function, "path", "the table path is NULL"));
    }
    let path = paths.value(rows.start);
    if let Some(i) = (rows.start..rows.end).find(|i| paths.value(*i) != path) {
        return Err(invalid(
            function,
            "path",
            format!(
                "must be the same for every row, got '{path}' and '{}'",
                paths.value(i)
            ),
        ));
    }
    let batch = input.rows.slice(rows.start, rows.len());
    let batch = match &input.present {
        Some(p) => filter_record_batch(&batch, &p.slice(rows.start, rows.len()))
            .map_err(|e| invalid(function, "row", e.to_string()))?,
        None => batch,
    };
    if state.writer.is_none() {
        check(function, &latched(), path, Use::Write)?;
        let opts = match &input.options {
            Some(o) => {
                options::parse(o, rows.start).map_err(|m| err(path, m).in_function(function))?
            }
            None => WriteOptions::default(),
        };
        vet(&opts).map_err(|m| err(path, m).in_function(function))?;
        let writer =
            TableWriter::start(path, opts, batch.schema()).map_err(|e| e.in_function(function))?;
        state.writer = Some(writer);
    }
    let writer = state.writer.as_mut().expect("writer");
    if writer.path != path {
        return Err(invalid(
            function,
            "path",
            format!(
                "must be the same for every row, got '{}' and '{path}'",
                writer.path
            ),
        ));
    }
    writer.write(batch).map_err(|e| e.in_function(function))
}

/// Hands the source state's finished files to the target's writer.
pub(super) fn combine_writers(
    function: &'static str,
    source: &mut State,
    target: &mut State,
) -> Result<()> {
    if let Some(s) = source.writer.take() {
        match target.writer.as_mut() {
            Some(t) => t.absorb(s).map_err(|e| e.in_function(function))?,
            None => target.writer = Some(s),
        }
    }
    Ok(())
}

/// The optional third argument, the options STRUCT, as Arrow.
pub(super) fn options_column(function: &'static str, chunk: &Chunk) -> Result<Option<ArrayRef>> {
    if chunk.column_count() <= 2 {
        return Ok(None);
    }
    let (_, options) = chunk
        .arrow(2, "options")
        .map_err(|e| invalid(function, "options", e))?;
    Ok(Some(options))
}

/// Commits the state's writer and writes the outcome as row `row`; with no
/// writer (nothing reached `update`), nothing is committed and `status`
/// says why.
pub(super) fn commit_state(
    function: &'static str,
    state: &mut State,
    out: &AggregateOutput,
    row: u64,
    status: &str,
) -> Result<()> {
    let outcome = match state.writer.take() {
        Some(w) => w.commit().map_err(|e| e.in_function(function))?,
        None => WriteOutcome {
            status: status.into(),
            ..Default::default()
        },
    };
    write_outcome(out, row, &outcome);
    Ok(())
}

/// Writes `outcome` as row `row` of a [`return_type`] result.
fn write_outcome(out: &AggregateOutput, row: u64, outcome: &WriteOutcome) {
    let o = out.struct_row(row);
    o.set_i64(0, outcome.version);
    o.set_i64(1, Some(outcome.rows as i64));
    o.set_i64(2, Some(outcome.files_added as i64));
    o.set_i64(3, Some(outcome.files_removed as i64));
    o.set_i64(4, Some(outcome.bytes_added as i64));
    o.set_str(5, Some(&outcome.status));
}
