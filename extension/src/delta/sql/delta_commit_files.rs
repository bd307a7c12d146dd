//! `delta_commit_files(path, files [, options])` → the STRUCT `delta_write`
//! returns: commits, as ONE Delta version, the data files that
//! `delta_write_files` wrote (each row's `files`, from any process), with
//! `delta_write`'s commit options (`mode`, `txn_app_id`, `txn_version`,
//! `txn_from_version`, `commit_message`, `checkpoint_interval`) and its
//! guarantees: exactly once under a `txn` (a commit whose txn was already
//! applied is skipped; the files it was given stay, as they may be committed
//! already, and `delta_vacuum` removes them if not), compare-and-set with
//! `txn_from_version`, a table created if missing.
//!
//! ```sql
//! SELECT delta_commit_files('lake/gold', files, {txn_app_id: 'medallion.gold', txn_version: 12})
//! FROM worker_results;
//! ```
//!
//! NULL `files` (a worker that had no rows) add nothing; with no files at
//! all nothing is committed (`status` 'no files'). Every `files` must have
//! been written into this table with the same schema and partitioning.

use std::ops::Range;

use arrow59::array::{Array, ArrayRef, AsArray};
use arrow59::datatypes::DataType;

use super::args::{check, Use};
use super::delta_write::{
    combine_writers, commit_state, invalid, options_column, return_type, State,
};
use crate::delta::ops::error::err;
use crate::delta::ops::options::{self, WriteOptions};
use crate::delta::ops::writer::{TableWriter, Uncommitted};
use crate::duck::access::latched;
use crate::duck::{Aggregate, AggregateOutput, Chunk, LogicalType, Signature};
use crate::error::Result;

pub const NAME: &str = "delta_commit_files";

pub struct DeltaCommitFiles;

pub struct Input {
    paths: ArrayRef,
    files: ArrayRef,
    options: Option<ArrayRef>,
}

fn text_column(chunk: &Chunk, i: usize, name: &'static str) -> Result<ArrayRef> {
    let (_, column) = chunk.arrow(i, name).map_err(|e| invalid(NAME, name, e))?;
    arrow59::compute::cast(&column, &DataType::Utf8).map_err(|e| invalid(NAME, name, e.to_string()))
}

impl Aggregate for DeltaCommitFiles {
    const NAME: &'static str = NAME;
    type State = State;
    type Prepared = Input;

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![LogicalType::varchar(), LogicalType::varchar()],
            || vec![LogicalType::any()],
            return_type,
        )
    }

    fn prepare(chunk: &Chunk) -> Result<Input> {
        let options = options_column(NAME, chunk)?;
        Ok(Input {
            paths: text_column(chunk, 0, "path")?,
            files: text_column(chunk, 1, "files")?,
            options,
        })
    }

    fn update(state: &mut State, input: &Input, rows: Range<usize>) -> Result<()> {
        let paths = input.paths.as_string::<i32>();
        let files = input.files.as_string::<i32>();
        for i in rows {
            if paths.is_null(i) {
                return Err(invalid(NAME, "path", "the table path is NULL"));
            }
            let path = paths.value(i);
            if files.is_null(i) {
                continue;
            }
            let written = Uncommitted::from_json(files.value(i))
                .map_err(|m| invalid(NAME, "files", format!("row {}: {m}", i + 1)))?;
            if state.writer.is_none() {
                check(NAME, &latched(), path, Use::Write)?;
                let opts = match &input.options {
                    Some(o) => options::parse(o, i).map_err(|m| err(path, m).in_function(NAME))?,
                    None => WriteOptions::default(),
                };
                let schema = written.arrow_schema().map_err(|e| e.in_function(NAME))?;
                let writer =
                    TableWriter::start(path, opts, schema).map_err(|e| e.in_function(NAME))?;
                state.writer = Some(writer);
            }
            let writer = state.writer.as_mut().expect("writer");
            if writer.path != path {
                return Err(invalid(
                    NAME,
                    "path",
                    format!(
                        "must be the same for every row, got '{}' and '{path}'",
                        writer.path
                    ),
                ));
            }
            writer
                .take_files(written)
                .map_err(|e| e.in_function(NAME))?;
        }
        Ok(())
    }

    fn combine(source: &mut State, target: &mut State) -> Result<()> {
        combine_writers(NAME, source, target)
    }

    fn finalize(state: &mut State, out: &AggregateOutput, row: u64) -> Result<()> {
        commit_state(NAME, state, out, row, "no files")
    }
}
