//! `delta_checkpoint(path)`: writes a checkpoint of the latest version on
//! demand (Parquet checkpoint + `_last_checkpoint`). Writers also checkpoint
//! automatically every `delta.checkpointInterval` commits (default 100), as
//! other Delta writers do; `delta_write`'s `checkpoint_interval` option sets
//! that property when it creates a table.

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, StringArray};
use arrow59::record_batch::RecordBatch;
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::BindInfo;

use super::bind;
use super::table::{block_on, describe, enter, err, open, At};
use crate::duck::batch_table::BatchFunction;
use crate::error::Result;

pub const NAME: &str = "delta_checkpoint";

/// Checkpoints the latest version; returns it and the checkpoint file name.
pub fn checkpoint(path: &str) -> Result<(i64, String)> {
    let _rt = enter();
    let table = block_on(open(NAME, path, &At::Latest))?;
    block_on(deltalake::checkpoints::create_checkpoint(&table, None))
        .map_err(|e| err(NAME, path, describe(&e)))?;
    let v = table.version().unwrap_or(0) as i64;
    Ok((v, format!("_delta_log/{v:020}.checkpoint.parquet")))
}

pub struct DeltaCheckpoint;

impl BatchFunction for DeltaCheckpoint {
    const NAME: &'static str = NAME;
    type Args = String;

    fn columns() -> Vec<(&'static str, LogicalTypeId)> {
        vec![
            ("version", LogicalTypeId::Bigint),
            ("checkpoint", LogicalTypeId::Varchar),
        ]
    }

    fn parameters() -> Vec<LogicalTypeHandle> {
        vec![LogicalTypeId::Varchar.into()]
    }

    fn bind(b: &BindInfo) -> Result<String> {
        bind::path(NAME, b)
    }

    fn run(path: &String) -> Result<RecordBatch> {
        let (v, file) = checkpoint(path)?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![v])),
            Arc::new(StringArray::from(vec![file])),
        ];
        RecordBatch::try_from_iter(Self::columns().iter().map(|c| c.0).zip(cols))
            .map_err(|e| err(NAME, path, e))
    }
}
