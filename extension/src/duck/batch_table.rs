//! Table functions whose whole (small) result is computed at once as an
//! Arrow batch: history listings, maintenance reports (OPTIMIZE, VACUUM).
//!
//! Why: duckdb-rs' `VTab` wants bind/init/func and hand-written vector
//! writes; this wrapper lets a function declare its columns, parse its
//! arguments at bind, and produce an arrow 59 `RecordBatch` on the first
//! scan call (never at bind, so `EXPLAIN` or a prepared statement does not run
//! maintenance). Rows are emitted in vector-sized slices. Every callback runs
//! inside [`guard`].

use std::marker::PhantomData;
use std::sync::Mutex;

use arrow59::record_batch::RecordBatch;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::arrow::write_arrow_array_to_vector;
use duckdb::vtab::{BindInfo, InitInfo, TableFunctionInfo, VTab};

use super::arrow_bridge::array_59_to_60;
use crate::error::{guard, Error, Result};

/// A table function computed as one batch.
pub trait BatchFunction: 'static {
    const NAME: &'static str;
    type Args: Send + Sync;
    /// Output columns; `run` must return a batch with these, in order, typed
    /// Int64 / Utf8 / Boolean / Float64 / Timestamp(us, "UTC").
    fn columns() -> Vec<(&'static str, LogicalTypeId)>;
    /// Positional parameters (optional ones are `named_parameters`).
    fn parameters() -> Vec<LogicalTypeHandle>;
    fn named_parameters() -> Vec<(&'static str, LogicalTypeId)> {
        Vec::new()
    }
    fn bind(b: &BindInfo) -> Result<Self::Args>;
    fn run(args: &Self::Args) -> Result<RecordBatch>;
}

pub struct BatchTable<T>(PhantomData<T>);

/// Registers `T` under `T::NAME`. The C API keeps one signature per table
/// function name (a second registration does not add an overload), so
/// optional arguments are named parameters.
pub fn register<T: BatchFunction>(con: &duckdb::Connection) -> Result<()> {
    con.register_table_function::<BatchTable<T>>(T::NAME)
        .map_err(|source| Error::Register {
            name: T::NAME,
            source,
        })
}

pub struct Progress {
    batch: Option<RecordBatch>,
    offset: usize,
}

type BoxErr = Box<dyn std::error::Error>;

impl<T: BatchFunction> VTab for BatchTable<T> {
    type BindData = T::Args;
    type InitData = Mutex<Progress>;

    fn bind(b: &BindInfo) -> Result<T::Args, BoxErr> {
        Ok(guard(T::NAME, || {
            for (name, ty) in T::columns() {
                b.add_result_column(name, LogicalTypeHandle::from(ty));
            }
            T::bind(b)
        })?)
    }

    fn init(i: &InitInfo) -> Result<Mutex<Progress>, BoxErr> {
        i.set_max_threads(1);
        Ok(Mutex::new(Progress {
            batch: None,
            offset: 0,
        }))
    }

    fn func(f: &TableFunctionInfo<Self>, output: &mut DataChunkHandle) -> Result<(), BoxErr> {
        Ok(guard(T::NAME, || {
            let mut p = f.get_init_data().lock().unwrap_or_else(|e| e.into_inner());
            if p.batch.is_none() {
                p.batch = Some(T::run(f.get_bind_data())?);
            }
            let batch = p.batch.as_ref().expect("batch");
            let n = (batch.num_rows() - p.offset).min(2048);
            let slice = batch.slice(p.offset, n);
            for (i, col) in slice.columns().iter().enumerate() {
                let a = array_59_to_60(col).map_err(|e| output_error::<T>(e))?;
                let mut v = unsafe {
                    duckdb::ffi::duckdb_data_chunk_get_vector(output.get_ptr(), i as u64)
                };
                write_arrow_array_to_vector(&a, &mut v)
                    .map_err(|e| output_error::<T>(e.to_string()))?;
            }
            output.set_len(n);
            p.offset += n;
            Ok(())
        })?)
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(T::parameters())
    }

    fn named_parameters() -> Option<Vec<(String, LogicalTypeHandle)>> {
        Some(
            T::named_parameters()
                .into_iter()
                .map(|(n, t)| (n.to_string(), LogicalTypeHandle::from(t)))
                .collect(),
        )
    }
}

fn output_error<T: BatchFunction>(reason: String) -> Error {
    Error::Output {
        function: T::NAME,
        reason,
    }
}
