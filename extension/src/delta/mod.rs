//! Delta Lake from SQL, on delta-rs (`deltalake`, without DataFusion).
//!
//! One file per SQL function (`delta_write`, ...), each a thin binding over a
//! plain-Rust module with its own tests (`writer`, `table`, `options`, ...).

pub mod bind;
pub mod checkpoint;
pub mod copy;
pub mod delta_write;
pub mod encoder;
pub mod files;
pub mod history;
pub mod optimize;
pub mod options;
pub mod read;
pub mod replacement;
pub mod scan;
pub mod schema;
pub mod table;
pub mod vacuum;
pub mod writer;
pub mod zorder;

use duckdb::Connection;

use crate::duck::aggregate;
use crate::duck::batch_table;
use crate::duck::types::LogicalType;
use crate::error::{Error, Result};
use crate::register::Registrar;

fn table_function<T: duckdb::vtab::VTab>(con: &Connection, name: &'static str) -> Result<()> {
    con.register_table_function::<T>(name)
        .map_err(|source| Error::Register { name, source })
}

/// Registers the Delta SQL functions.
pub fn register(r: &Registrar) -> Result<()> {
    let (con, raw) = (r.connection(), r.raw_connection());
    table_function::<read::DeltaRead>(con, read::NAME)?;
    batch_table::register::<history::DeltaHistory>(con)?;
    batch_table::register::<optimize::OptimizeZorder>(con)?;
    batch_table::register::<vacuum::DeltaVacuum>(con)?;
    batch_table::register::<checkpoint::DeltaCheckpoint>(con)?;
    batch_table::register::<files::DeltaFiles>(con)?;
    aggregate::register::<delta_write::DeltaWrite>(
        raw,
        &[
            vec![LogicalType::varchar(), LogicalType::any()],
            vec![
                LogicalType::varchar(),
                LogicalType::any(),
                LogicalType::any(),
            ],
        ],
        delta_write::return_type,
    )?;
    copy::register(raw)?;
    // SAFETY: registration runs inside LOAD, while the handle is live.
    unsafe { replacement::register(r.database()) };
    Ok(())
}
