//! `delta_files(path [, version := N])` → the data files of a version, from
//! the log: path, size, row count, partition values and the per-file column
//! statistics (`{"numRecords", "minValues", "maxValues", "nullCount"}`, JSON
//! text). DuckDB does not hand WHERE filters to extension table functions, so
//! `delta_read` cannot skip files itself; these statistics let a query (or a
//! person) see which files a filter would need.

use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, StringArray};
use arrow59::record_batch::RecordBatch;
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::BindInfo;

use super::bind;
use super::table::{block_on, describe, enter, err, open, At};
use crate::duck::batch_table::BatchFunction;
use crate::error::Result;

pub const NAME: &str = "delta_files";

pub struct DeltaFiles;

pub struct Args {
    path: String,
    at: At,
}

impl BatchFunction for DeltaFiles {
    const NAME: &'static str = NAME;
    type Args = Args;

    fn columns() -> Vec<(&'static str, LogicalTypeId)> {
        use LogicalTypeId::*;
        vec![
            ("path", Varchar),
            ("size_bytes", Bigint),
            ("num_records", Bigint),
            ("partition_values", Varchar),
            ("stats", Varchar),
        ]
    }

    fn parameters() -> Vec<LogicalTypeHandle> {
        vec![LogicalTypeId::Varchar.into()]
    }

    fn named_parameters() -> Vec<(&'static str, LogicalTypeId)> {
        vec![("version", LogicalTypeId::Bigint)]
    }

    fn bind(b: &BindInfo) -> Result<Args> {
        let path = bind::path(NAME, b)?;
        let at = bind::named_i64(b, "version")
            .map(At::Version)
            .unwrap_or_default();
        Ok(Args { path, at })
    }

    fn run(a: &Args) -> Result<RecordBatch> {
        let _rt = enter();
        let t = block_on(open(NAME, &a.path, &a.at))?;
        let snap = t.snapshot().map_err(|e| err(NAME, &a.path, describe(&e)))?;
        let files: Vec<_> = snap.log_data().iter().collect();
        let pv = |f: &deltalake::kernel::LogicalFileView| {
            serde_json::to_string(&f.partition_values_map()).unwrap_or_default()
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                files.iter().map(|f| f.path().to_string()),
            )),
            Arc::new(Int64Array::from_iter_values(files.iter().map(|f| f.size()))),
            Arc::new(Int64Array::from(
                files
                    .iter()
                    .map(|f| f.num_records().map(|n| n as i64))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(files.iter().map(pv))),
            Arc::new(StringArray::from(
                files.iter().map(|f| f.stats()).collect::<Vec<_>>(),
            )),
        ];
        RecordBatch::try_from_iter(Self::columns().iter().map(|c| c.0).zip(cols))
            .map_err(|e| err(NAME, &a.path, e))
    }
}
