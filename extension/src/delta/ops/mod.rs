//! The Delta Lake library behind the SQL functions: plain Rust over
//! delta-rs and arrow 59, with its own error ([`error::DeltaError`]) and
//! unit tests; no SQL names, nothing of DuckDB (as delta-rs keeps its
//! `operations/` apart from its Python binding).
//!
//! - [`table`]: locations, the async runtime, opening a version, wording.
//! - [`writer`] (+ [`encoder`], [`schema`], [`options`]): appends and
//!   overwrites as one commit, with a `txn` for exactly-once writes.
//! - [`scan`]: a version's files and a streaming Parquet reader.
//! - [`changes`]: what the commits after a version added (streaming reads).
//! - [`history`], [`files`], [`log`]: what the log says.
//! - [`optimize`] (+ [`zorder`]), [`vacuum`], [`checkpoint`]: maintenance.

pub mod changes;
pub mod checkpoint;
pub mod encoder;
pub mod error;
pub mod files;
pub mod history;
pub mod log;
pub mod optimize;
pub mod options;
pub mod scan;
pub mod schema;
pub mod store;
pub mod table;
pub mod vacuum;
pub mod writer;
pub mod zorder;

pub use error::{DeltaError, Result};

#[cfg(test)]
pub(crate) mod testing {
    //! Scratch tables for the unit tests.

    use std::sync::Arc;

    use arrow59::array::{ArrayRef, Int64Array, StringArray};
    use arrow59::record_batch::RecordBatch;

    use super::options::WriteOptions;
    use super::writer::TableWriter;

    /// A fresh, empty directory path for a table named after the test.
    pub fn scratch(name: &str) -> String {
        let d = std::env::temp_dir().join(format!(
            "medallion-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        d.to_string_lossy().into_owned()
    }

    /// Rows `id` (BIGINT) and `who` (`u0`..`u2`).
    pub fn rows(ids: std::ops::Range<i64>) -> RecordBatch {
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone()));
        let who: ArrayRef = Arc::new(StringArray::from_iter_values(
            ids.map(|i| format!("u{}", i % 3)),
        ));
        RecordBatch::try_from_iter(vec![("id", id), ("who", who)]).unwrap()
    }

    /// A scratch table (see [`scratch`]) with one commit per entry of
    /// `commits`, of that many rows: versions 0, 1, ... with ids counting on
    /// from 0 across them.
    pub fn table_of(name: &str, commits: &[i64]) -> String {
        let t = scratch(name);
        let mut start = 0;
        for n in commits {
            write_rows(&t, start..start + n);
            start += n;
        }
        t
    }

    /// Appends `ids` to the table at `path` as one commit.
    pub fn write_rows(path: &str, ids: std::ops::Range<i64>) {
        let b = rows(ids);
        let mut w = TableWriter::start(path, WriteOptions::default(), b.schema()).unwrap();
        w.write(b).unwrap();
        w.commit().unwrap();
    }
}
