//! `delta_read(path [, version := N | as_of := TIMESTAMPTZ])` → the table's rows.
//!
//! Bind resolves the snapshot (time travel included) and its file list from
//! the log; the scan streams the Parquet files with projection pushdown and
//! fills partition columns from the log. C API v1 does not pass WHERE filters
//! to table functions, so files cannot be skipped by min/max here; see
//! `delta_files` for the per-file statistics.

use std::sync::{Arc, Mutex};

use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::arrow::{to_duckdb_logical_type, write_arrow_array_to_vector};
use duckdb::vtab::{BindInfo, InitInfo, TableFunctionInfo, VTab};

use super::bind;
use super::history;
use super::scan::{ScanPlan, Scanner};
use super::table::{block_on, err, open, At};
use crate::duck::arrow_bridge::{array_59_to_60, datatype_59_to_60};
use crate::error::guard;

pub const NAME: &str = "delta_read";

pub struct DeltaRead;

pub struct ReadBind {
    plan: Arc<ScanPlan>,
}

pub struct ReadInit {
    scanner: Mutex<Scanner>,
}

type BoxErr = Box<dyn std::error::Error>;

impl VTab for DeltaRead {
    type InitData = ReadInit;
    type BindData = ReadBind;

    fn bind(b: &BindInfo) -> Result<ReadBind, BoxErr> {
        Ok(guard(NAME, || {
            let path = bind::path(NAME, b)?;
            let at = bind::time_travel(NAME, &path, b)?;
            if let At::Timestamp(ts) = &at {
                // delta-rs answers version 0 for a time before the first commit.
                let first = history::earliest(NAME, &path)?;
                if first
                    .timestamp_ms
                    .is_some_and(|f| ts.timestamp_millis() < f)
                {
                    return Err(err(
                        NAME,
                        &path,
                        "no version was committed at or before that time",
                    ));
                }
            }
            let table = block_on(open(NAME, &path, &at))?;
            let plan = ScanPlan::new(NAME, &path, &table)?;
            for f in plan.schema.fields() {
                let dt = datatype_59_to_60(f.data_type()).map_err(|e| err(NAME, &path, e))?;
                let lt = to_duckdb_logical_type(&dt)
                    .map_err(|e| err(NAME, &path, format!("column `{}`: {e}", f.name())))?;
                b.add_result_column(f.name(), lt);
            }
            if let Some(n) = plan.total_rows() {
                b.set_cardinality(n as u64, true);
            }
            Ok(ReadBind {
                plan: Arc::new(plan),
            })
        })?)
    }

    fn init(i: &InitInfo) -> Result<ReadInit, BoxErr> {
        Ok(guard(NAME, || {
            let bind = unsafe { &*i.get_bind_data::<ReadBind>() };
            let projection: Vec<usize> = i
                .get_column_indices()
                .into_iter()
                .map(|c| c as usize)
                .collect();
            i.set_max_threads(1);
            Ok(ReadInit {
                scanner: Mutex::new(Scanner::new(bind.plan.clone(), projection, 2048)),
            })
        })?)
    }

    fn func(f: &TableFunctionInfo<Self>, output: &mut DataChunkHandle) -> Result<(), BoxErr> {
        Ok(guard(NAME, || {
            let init = f.get_init_data();
            let plan = &f.get_bind_data().plan;
            let mut scanner = init.scanner.lock().unwrap_or_else(|p| p.into_inner());
            match scanner.next_batch(NAME)? {
                None => output.set_len(0),
                Some(cols) => {
                    let n = cols.first().map(|c| c.len()).unwrap_or(0);
                    for (i, c) in cols.iter().enumerate() {
                        let a60 = array_59_to_60(c).map_err(|e| err(NAME, &plan.table, e))?;
                        let mut v = unsafe {
                            duckdb::ffi::duckdb_data_chunk_get_vector(output.get_ptr(), i as u64)
                        };
                        write_arrow_array_to_vector(&a60, &mut v)
                            .map_err(|e| err(NAME, &plan.table, e))?;
                    }
                    output.set_len(n);
                }
            }
            Ok(())
        })?)
    }

    fn supports_pushdown() -> bool {
        true
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(vec![LogicalTypeId::Varchar.into()])
    }

    fn named_parameters() -> Option<Vec<(String, LogicalTypeHandle)>> {
        Some(vec![
            ("version".into(), LogicalTypeId::Bigint.into()),
            ("as_of".into(), LogicalTypeId::TimestampTZ.into()),
        ])
    }
}
