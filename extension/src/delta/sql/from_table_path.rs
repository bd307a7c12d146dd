//! `SELECT … FROM 'lake/silver' WHERE user = 'x'`: a replacement scan that
//! hands a Delta table's current snapshot to DuckDB's own Parquet reader.
//!
//! Why: C API v1 passes no filters to table functions, so `delta_read` must
//! read every file. `read_parquet` gets the WHERE clause and skips row groups
//! whose min/max statistics exclude it, so after `optimize_zorder` a point
//! filter reads the data of a few files only; it also scans in parallel.
//! (Bench table, 2M rows in 64 Z-ordered files: one user's rows in 0.02 s
//! instead of 0.22 s through `delta_read`; a full scan 0.06 s vs 0.18 s.)
//!
//! The file list comes from the Delta log, never from a glob
//! ([`parquet_files`]): files that were removed or never committed stay
//! invisible, and the read is one version. A table that needs more than a
//! list of Parquet files becomes `delta_read(path)`, which handles it or
//! says clearly why not, as does a table in object storage (`s3://`: DuckDB's
//! reader would need httpfs). A replacement scan gets no client context, so the
//! external-access check uses the latched policy (see `duck::access`).

use std::path::Path;

use super::args::{check, Use};
use crate::delta::ops::log::latest_version;
use crate::delta::ops::scan::parquet_files;
use crate::delta::ops::table::SCHEMES;
use crate::duck::access::latched;
use crate::duck::{Arg, Call, ReplacementScan};
use crate::error::Result;

pub struct FromTablePath;

impl ReplacementScan for FromTablePath {
    const NAME: &'static str = "FROM '<delta table>'";

    /// `Ok(None)` when `name` is not the path of a Delta table (a directory
    /// with a `_delta_log`).
    fn plan(name: &str) -> Result<Option<Call>> {
        if !looks_like_path(name) {
            return Ok(None);
        }
        // Refuse before the first file system call once access is off.
        check(Self::NAME, &latched(), name, Use::Read)?;
        if is_object_store(name) {
            // DuckDB's own reader would need httpfs, which cannot be
            // installed here: medallion reads it (a listing of its log tells
            // whether it is a table; an unreachable store says why)
            return Ok(latest_version(name)
                .map_err(|e| e.in_function(Self::NAME))?
                .map(|_| Call {
                    function: super::delta_read::NAME.into(),
                    args: vec![Arg::Text(name.to_string())],
                }));
        }
        if !Path::new(name).join("_delta_log").is_dir() {
            return Ok(None);
        }
        Ok(Some(match parquet_files(name) {
            Some(files) => Call {
                function: "read_parquet".into(),
                args: vec![Arg::TextList(files)],
            },
            None => Call {
                function: super::delta_read::NAME.into(),
                args: vec![Arg::Text(name.to_string())],
            },
        }))
    }
}

/// A table in object storage (`s3://`, `s3a://`).
fn is_object_store(name: &str) -> bool {
    name.split_once("://")
        .is_some_and(|(scheme, _)| scheme != "file" && SCHEMES.contains(&scheme))
}

/// Table names that can only be paths: a bare `tweets` is never ours, so
/// DuckDB's own "table does not exist" stays the answer and no file is probed.
fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains('\\') || name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_that_can_be_paths_are_considered() {
        assert!(!looks_like_path("tweets"));
        assert!(looks_like_path("lake/silver"));
        assert!(looks_like_path("./silver"));
        assert_eq!(FromTablePath::plan("no/such/table").unwrap(), None);
        assert!(is_object_store("s3://bucket/t") && is_object_store("s3a://bucket/t"));
        assert!(!is_object_store("file:///tmp/t") && !is_object_store("lake/t"));
    }
}
