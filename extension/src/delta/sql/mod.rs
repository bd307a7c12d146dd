//! The Delta SQL functions: one file per function, each parsing its
//! arguments, calling [`crate::delta::ops`] and writing the result; errors
//! get the function's name here.

pub mod args;
pub mod copy_format_delta;
pub mod delta_changes;
pub mod delta_checkpoint;
pub mod delta_commit_files;
pub mod delta_files;
pub mod delta_history;
pub mod delta_read;
pub mod delta_txn_version;
pub mod delta_vacuum;
pub mod delta_version;
pub mod delta_write;
pub mod delta_write_files;
pub mod from_table_path;
pub mod lookup;
pub mod optimize_zorder;

pub(crate) use crate::duck::columns::timestamp_tz;
