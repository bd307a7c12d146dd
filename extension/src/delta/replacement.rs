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
//! The file list comes from the Delta log, never from a glob: files that were
//! removed or never committed stay invisible, and the read is one version.
//! When a table needs more than a list of Parquet files (partition values live
//! in the log; deletion vectors or column mapping; files with different
//! columns after `merge_schema`; no files at all; paths DuckDB would take for
//! a glob or a hive partition), the scan becomes `delta_read(path)`, which
//! handles those or says clearly why not.

use std::collections::HashSet;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;

use duckdb::ffi;

use super::scan::ScanPlan;
use super::table::{block_on, open, At};
use crate::error::{guard, Result};

pub const NAME: &str = "FROM '<delta table>'";

/// What a table name becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Replacement {
    /// `read_parquet([...])` over these absolute file paths.
    Parquet(Vec<String>),
    /// `delta_read(path)`.
    DeltaRead(String),
}

/// Whether `name` is the path of a Delta table (a directory with a
/// `_delta_log`), and if so how to scan it. `Ok(None)`: not ours.
pub fn plan(name: &str) -> Result<Option<Replacement>> {
    if !looks_like_path(name) {
        return Ok(None);
    }
    // Refuse before the first file system call once access is off.
    crate::access::check(NAME, name)?;
    if !Path::new(name).join("_delta_log").is_dir() {
        return Ok(None);
    }
    let fallback = Ok(Some(Replacement::DeltaRead(name.to_string())));
    // Any problem opening the table: `delta_read` reports it with context.
    let Ok(table) = block_on(open(NAME, name, &At::Latest)) else {
        return fallback;
    };
    let Ok(scan) = ScanPlan::new(NAME, name, &table) else {
        return fallback;
    };
    if !scan.partition_columns.is_empty() || scan.files.is_empty() {
        return fallback;
    }
    let Ok(snap) = table.snapshot() else {
        return fallback;
    };
    let columns: Vec<&str> = scan
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    if !snap
        .log_data()
        .iter()
        .all(|f| file_has_columns(f.stats().as_deref(), &columns))
    {
        return fallback;
    }
    let files: Vec<String> = scan
        .files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    if files.iter().any(|f| !plain_file_path(f)) {
        return fallback;
    }
    Ok(Some(Replacement::Parquet(files)))
}

/// Table names that can only be paths: a bare `tweets` is never ours, so
/// DuckDB's own "table does not exist" stays the answer and no file is probed.
fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains('\\') || name.starts_with('.')
}

/// A file's `add.stats` names every column (its `nullCount` does, for up to
/// 32 indexed columns): a file without one of them was written before a
/// `merge_schema`, which `read_parquet` without `union_by_name` rejects.
/// No stats, or too many columns to tell: not provable, so `false`.
fn file_has_columns(stats: Option<&str>, columns: &[&str]) -> bool {
    let Some(stats) = stats else { return false };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(stats) else {
        return false;
    };
    let Some(counts) = v.get("nullCount").and_then(|c| c.as_object()) else {
        return false;
    };
    let present: HashSet<&str> = counts.keys().map(|k| k.as_str()).collect();
    columns.iter().all(|c| present.contains(c))
}

/// `read_parquet` globs `*?[{` and takes `key=value` directories for hive
/// partitions (adding columns): such paths go through `delta_read`.
fn plain_file_path(p: &str) -> bool {
    !p.contains(['*', '?', '[', '{'])
        && !Path::new(p)
            .iter()
            .any(|c| c.to_string_lossy().contains('='))
}

unsafe extern "C" fn callback(
    info: ffi::duckdb_replacement_scan_info,
    table_name: *const c_char,
    _data: *mut c_void,
) {
    if table_name.is_null() {
        return;
    }
    let name = unsafe { CStr::from_ptr(table_name) }
        .to_string_lossy()
        .into_owned();
    match guard(NAME, || plan(&name)) {
        Ok(None) => {}
        Ok(Some(r)) => unsafe { apply(info, &r) },
        Err(e) => {
            let msg = CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
            unsafe { ffi::duckdb_replacement_scan_set_error(info, msg.as_ptr()) };
        }
    }
}

unsafe fn apply(info: ffi::duckdb_replacement_scan_info, r: &Replacement) {
    unsafe {
        match r {
            Replacement::Parquet(files) => {
                let fname = CString::new("read_parquet").expect("literal");
                ffi::duckdb_replacement_scan_set_function_name(info, fname.as_ptr());
                let mut items: Vec<ffi::duckdb_value> = files
                    .iter()
                    .map(|f| {
                        let c = CString::new(f.as_str()).unwrap_or_default();
                        ffi::duckdb_create_varchar(c.as_ptr())
                    })
                    .collect();
                let mut ty = ffi::duckdb_create_logical_type(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR);
                let mut list =
                    ffi::duckdb_create_list_value(ty, items.as_mut_ptr(), items.len() as u64);
                ffi::duckdb_replacement_scan_add_parameter(info, list);
                ffi::duckdb_destroy_value(&mut list);
                ffi::duckdb_destroy_logical_type(&mut ty);
                for v in &mut items {
                    ffi::duckdb_destroy_value(v);
                }
            }
            Replacement::DeltaRead(path) => {
                let fname = CString::new(super::read::NAME).expect("literal");
                ffi::duckdb_replacement_scan_set_function_name(info, fname.as_ptr());
                let c = CString::new(path.as_str()).unwrap_or_default();
                let mut v = ffi::duckdb_create_varchar(c.as_ptr());
                ffi::duckdb_replacement_scan_add_parameter(info, v);
                ffi::duckdb_destroy_value(&mut v);
            }
        }
    }
}

/// Registers the scan on the database being loaded.
///
/// # Safety
/// `db` must be the live database handle passed to the entry point.
pub unsafe fn register(db: ffi::duckdb_database) {
    unsafe { ffi::duckdb_add_replacement_scan(db, Some(callback), std::ptr::null_mut(), None) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_that_can_be_paths_are_considered() {
        assert!(!looks_like_path("tweets"));
        assert!(looks_like_path("lake/silver"));
        assert!(looks_like_path("./silver"));
        assert_eq!(plan("no/such/table").unwrap(), None);
    }

    #[test]
    fn a_file_missing_a_column_is_not_read_as_plain_parquet() {
        let s = r#"{"numRecords":2,"nullCount":{"a":0,"b":1}}"#;
        assert!(file_has_columns(Some(s), &["a", "b"]));
        assert!(!file_has_columns(Some(s), &["a", "b", "c"]));
        assert!(!file_has_columns(None, &["a"]));
        assert!(!file_has_columns(Some("{}"), &["a"]));
    }

    #[test]
    fn glob_and_hive_looking_paths_are_not_plain() {
        assert!(plain_file_path("/lake/t/part-0.parquet"));
        assert!(!plain_file_path("/lake/[x]/part-0.parquet"));
        assert!(!plain_file_path("/lake/env=prod/t/part-0.parquet"));
    }
}
