//! `delta_vacuum(path [, retention_hours := H, dry_run := true])`: deletes files in the
//! table directory that no version within the retention window needs — files
//! removed by old commits, and files that were never committed (a crashed or
//! failed writer's finished parts and its in-flight staging files such as
//! `part-….parquet#1`, which delta-rs' own vacuum leaves behind). One row per
//! file: its path, size and whether it was deleted (false on a dry run).
//!
//! Safety: a file is kept if the latest snapshot references it, if a `remove`
//! newer than the retention cutoff tombstoned it (time travel still needs
//! it), or if it was modified after the cutoff (it may belong to a commit in
//! progress). The default retention is 168 hours, as in Delta Lake.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use arrow59::array::{ArrayRef, BooleanArray, Int64Array, StringArray};
use arrow59::record_batch::RecordBatch;
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::BindInfo;
use futures::TryStreamExt;

use super::bind;
use super::table::{block_on, describe, enter, err, local_dir, open, At};
use crate::duck::batch_table::BatchFunction;
use crate::error::Result;

pub const NAME: &str = "delta_vacuum";
pub const DEFAULT_RETENTION_HOURS: f64 = 168.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Vacuumed {
    pub path: String,
    pub size: i64,
    pub deleted: bool,
}

pub fn vacuum(path: &str, retention_hours: f64, dry_run: bool) -> Result<Vec<Vacuumed>> {
    if retention_hours < 0.0 || retention_hours.is_nan() {
        return Err(err(
            NAME,
            path,
            format!("retention_hours must be ≥ 0, got {retention_hours}"),
        ));
    }
    let _rt = enter();
    let table = block_on(open(NAME, path, &At::Latest))?;
    let root = local_dir(table.table_url()).ok_or_else(|| err(NAME, path, "not a local table"))?;
    let snap = table
        .snapshot()
        .map_err(|e| err(NAME, path, describe(&e)))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let cutoff_ms = now_ms - (retention_hours * 3_600_000.0) as i64;
    let mut keep: HashSet<String> = snap
        .log_data()
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    let tombstones: Vec<(String, Option<i64>)> = block_on(
        snap.all_tombstones(table.log_store().as_ref())
            .map_ok(|t| (t.path().to_string(), t.deletion_timestamp()))
            .try_collect(),
    )
    .map_err(|e| err(NAME, path, describe(&e)))?;
    for (p, ts) in tombstones {
        if ts.is_none_or(|t| t > cutoff_ms) {
            keep.insert(p);
        }
    }
    let mut out = Vec::new();
    walk(&root, &root, &mut |rel, meta| {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let protected = keep.contains(rel)
            || name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".crc"))
                .is_some_and(|data| keep.contains(&rel.replace(name, data)));
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(now_ms);
        if protected || modified_ms > cutoff_ms {
            return Ok(());
        }
        let mut deleted = false;
        if !dry_run {
            std::fs::remove_file(root.join(rel))
                .map_err(|e| err(NAME, path, format!("cannot delete {rel}: {e}")))?;
            deleted = true;
        }
        out.push(Vacuumed {
            path: rel.to_string(),
            size: meta.len() as i64,
            deleted,
        });
        Ok(())
    })?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Visits every file under `dir` (relative `/` paths), skipping `_delta_log`
/// and other `_`-prefixed directories at the table root (Delta metadata).
fn walk(
    root: &Path,
    dir: &Path,
    f: &mut dyn FnMut(&str, &std::fs::Metadata) -> Result<()>,
) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let rel = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        if meta.is_dir() {
            if dir == root && e.file_name().to_string_lossy().starts_with('_') {
                continue;
            }
            walk(root, &p, f)?;
        } else if meta.is_file() {
            f(&rel, &meta)?;
        }
    }
    Ok(())
}

pub struct DeltaVacuum;

pub struct Args {
    path: String,
    retention_hours: f64,
    dry_run: bool,
}

impl BatchFunction for DeltaVacuum {
    const NAME: &'static str = NAME;
    type Args = Args;

    fn columns() -> Vec<(&'static str, LogicalTypeId)> {
        vec![
            ("path", LogicalTypeId::Varchar),
            ("size_bytes", LogicalTypeId::Bigint),
            ("deleted", LogicalTypeId::Boolean),
        ]
    }

    fn parameters() -> Vec<LogicalTypeHandle> {
        vec![LogicalTypeId::Varchar.into()]
    }

    fn named_parameters() -> Vec<(&'static str, LogicalTypeId)> {
        vec![
            ("retention_hours", LogicalTypeId::Double),
            ("dry_run", LogicalTypeId::Boolean),
        ]
    }

    fn bind(b: &BindInfo) -> Result<Args> {
        let path = bind::path(NAME, b)?;
        let retention_hours = b
            .get_named_parameter("retention_hours")
            .filter(|v| !v.is_null())
            .map(|v| v.to_double())
            .unwrap_or(DEFAULT_RETENTION_HOURS);
        let dry_run = bind::named_bool(b, "dry_run").unwrap_or(false);
        Ok(Args {
            path,
            retention_hours,
            dry_run,
        })
    }

    fn run(a: &Args) -> Result<RecordBatch> {
        let v = vacuum(&a.path, a.retention_hours, a.dry_run)?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(
                v.iter().map(|x| x.path.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                v.iter().map(|x| x.size).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                v.iter().map(|x| x.deleted).collect::<Vec<_>>(),
            )),
        ];
        RecordBatch::try_from_iter(Self::columns().iter().map(|c| c.0).zip(cols))
            .map_err(|e| err(NAME, &a.path, e))
    }
}
