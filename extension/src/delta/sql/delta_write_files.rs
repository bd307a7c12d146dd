//! `delta_write_files(path, row [, options])` →
//! `STRUCT(rows BIGINT, files_added BIGINT, files VARCHAR)`: writes a
//! query's rows as Parquet data files into a table's directory WITHOUT
//! committing them, and returns them (`files`, JSON) for
//! `delta_commit_files` to commit, here or in another process:
//!
//! ```sql
//! -- on each worker
//! SELECT (delta_write_files('lake/gold', t)).files FROM (SELECT ...) t;
//! -- on the driver, with every worker's `files`
//! SELECT delta_commit_files('lake/gold', files, {txn_app_id: 'gold', txn_version: 12}) FROM results;
//! ```
//!
//! Until that commit no reader sees the files; files nobody commits are
//! removed by `delta_vacuum`. Rows, NULL rows and parallel writing are as in
//! `delta_write`. Only the options that shape files are taken here
//! (`target_file_size`, `partition_by`, `merge_schema`); the commit's
//! (`mode`, `txn_*`, `commit_message`, `checkpoint_interval`) belong to
//! `delta_commit_files`, and are refused here rather than ignored.

use std::ops::Range;

use super::delta_write::{combine_writers, prepare_rows, update_rows, Input, State};
use crate::delta::ops::options::WriteOptions;
use crate::duck::{Aggregate, AggregateOutput, Chunk, LogicalType, Signature};
use crate::error::Result;

pub const NAME: &str = "delta_write_files";

pub struct DeltaWriteFiles;

/// The files of a write only shape the files: the commit decides the rest.
fn vet(opts: &WriteOptions) -> std::result::Result<(), String> {
    let defaults = WriteOptions::default();
    let commit_options = opts.mode != defaults.mode
        || opts.txn.is_some()
        || opts.txn_from.is_some()
        || opts.user_metadata.is_some()
        || opts.checkpoint_interval.is_some();
    if commit_options {
        return Err("`mode`, `txn_app_id`, `txn_version`, `txn_from_version`, `commit_message` and `checkpoint_interval` are options of delta_commit_files, which commits these files".into());
    }
    Ok(())
}

impl Aggregate for DeltaWriteFiles {
    const NAME: &'static str = NAME;
    type State = State;
    type Prepared = Input;

    fn signatures() -> Vec<Signature> {
        Signature::with_optional(
            || vec![LogicalType::varchar(), LogicalType::any()],
            || vec![LogicalType::any()],
            || {
                LogicalType::structure(&[
                    ("rows", LogicalType::bigint()),
                    ("files_added", LogicalType::bigint()),
                    ("files", LogicalType::varchar()),
                ])
            },
        )
    }

    fn prepare(chunk: &Chunk) -> Result<Input> {
        prepare_rows(NAME, chunk)
    }

    fn update(state: &mut State, input: &Input, rows: Range<usize>) -> Result<()> {
        update_rows(NAME, state, input, rows, vet)
    }

    fn combine(source: &mut State, target: &mut State) -> Result<()> {
        combine_writers(NAME, source, target)
    }

    fn finalize(state: &mut State, out: &AggregateOutput, row: u64) -> Result<()> {
        let o = out.struct_row(row);
        match state.writer.take() {
            Some(w) => {
                let files = w.into_uncommitted().map_err(|e| e.in_function(NAME))?;
                o.set_i64(0, Some(files.rows as i64));
                o.set_i64(1, Some(files.files.len() as i64));
                o.set_str(2, Some(&files.to_json()));
            }
            None => {
                o.set_i64(0, Some(0));
                o.set_i64(1, Some(0));
                o.set_str(2, None);
            }
        }
        Ok(())
    }
}
