//! Delta Lake from SQL, on delta-rs (`deltalake`, without DataFusion).
//!
//! [`ops`] is the library: plain Rust over delta-rs and arrow 59, its own
//! error type and unit tests, no SQL names. [`sql`] binds it to SQL, one
//! file per function (the COPY format and the `FROM 'path'` replacement scan
//! included), each parsing arguments, checking external access, calling
//! `ops` and writing results.

pub mod ops;
pub mod sql;

use crate::duck::Function;

/// This capability's SQL functions, grouped by what they do to a table.
pub fn functions() -> Vec<Function> {
    use sql::lookup::PerRow;
    use sql::*;
    let reads = vec![
        Function::table::<delta_read::DeltaRead>(),
        Function::table::<delta_changes::DeltaChanges>(),
        Function::replacement_scan::<from_table_path::FromTablePath>(),
    ];
    // What the log says.
    let log = vec![
        Function::scalar::<PerRow<delta_version::DeltaVersion>>(),
        Function::scalar::<PerRow<delta_txn_version::DeltaTxnVersion>>(),
        Function::batch::<delta_history::DeltaHistory>(),
        Function::batch::<delta_files::DeltaFiles>(),
    ];
    let writes = vec![
        Function::aggregate::<delta_write::DeltaWrite>(),
        // files written by many processes, committed by one (a cluster's way)
        Function::aggregate::<delta_write_files::DeltaWriteFiles>(),
        Function::aggregate::<delta_commit_files::DeltaCommitFiles>(),
        Function::copy_format::<copy_format_delta::CopyFormatDelta>(),
    ];
    let maintenance = vec![
        Function::batch::<optimize_zorder::OptimizeZorder>(),
        Function::batch::<delta_vacuum::DeltaVacuum>(),
        Function::batch::<delta_checkpoint::DeltaCheckpoint>(),
    ];
    [reads, log, writes, maintenance]
        .into_iter()
        .flatten()
        .collect()
}
