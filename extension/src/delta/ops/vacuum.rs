//! VACUUM: deletes files in the table directory that no version within the retention window needs — files
//! removed by old commits, and files that were never committed (a crashed or
//! failed writer's finished parts and its in-flight staging files such as
//! `part-….parquet#1`, which delta-rs' own vacuum leaves behind). Reports
//! each file: its path, size and whether it was deleted (not on a dry run).
//!
//! Safety: a file is kept if the latest snapshot references it, if a `remove`
//! newer than the retention cutoff tombstoned it (time travel still needs
//! it), or if it was modified after the cutoff (it may belong to a commit in
//! progress). The default retention is 168 hours, as in Delta Lake.

use std::collections::HashSet;
use std::path::Path;

use futures::TryStreamExt;

use super::error::{err, Result};
use super::store::TableStore;
use super::table::{block_on, describe, enter, local_dir, open, snapshot, At};

/// Delta Lake's default retention window.
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
            path,
            format!("retention_hours must be ≥ 0, got {retention_hours}"),
        ));
    }
    let _rt = enter();
    let table = block_on(open(path, &At::Latest))?;
    let snap = snapshot(path, &table)?;
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
    .map_err(|e| err(path, describe(&e)))?;
    for (p, ts) in tombstones {
        if ts.is_none_or(|t| t > cutoff_ms) {
            keep.insert(p);
        }
    }
    let mut out = Vec::new();
    let mut visit = |rel: &str, size: u64, modified_ms: i64, delete: &dyn Fn() -> Result<()>| {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let protected = keep.contains(rel)
            || name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".crc"))
                .is_some_and(|data| keep.contains(&rel.replace(name, data)));
        if protected || modified_ms > cutoff_ms {
            return Ok(());
        }
        if !dry_run {
            delete()?;
        }
        out.push(Vacuumed {
            path: rel.to_string(),
            size: size as i64,
            deleted: !dry_run,
        });
        Ok(())
    };
    match local_dir(table.table_url()) {
        // the directory itself: it also shows a writer's staging files
        // (`part-….parquet#1`), which an object-store listing hides
        Some(root) => walk(&root, &root, &mut |rel, meta| {
            let modified_ms = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64)
                .unwrap_or(now_ms);
            visit(rel, meta.len(), modified_ms, &|| {
                std::fs::remove_file(root.join(rel))
                    .map_err(|e| err(path, format!("cannot delete {rel}: {e}")))
            })
        })?,
        None => {
            let store = TableStore::at(path, table.table_url().clone())?;
            for f in store.list("")? {
                if f.path
                    .split('/')
                    .next()
                    .is_some_and(|top| top.starts_with('_'))
                {
                    continue; // _delta_log and other Delta metadata
                }
                visit(&f.path, f.size, f.modified_ms, &|| store.delete(&f.path))?;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::testing::table_of;

    #[test]
    fn only_unreferenced_files_past_the_retention_go() {
        let t = table_of("vacuum", &[10]);
        let root = std::path::Path::new(&t);
        // A crashed writer's leftovers: a finished part and a staging file.
        std::fs::write(root.join("part-orphan.parquet"), b"x").unwrap();
        std::fs::write(root.join("part-orphan.parquet#1"), b"y").unwrap();
        // Inside the retention window nothing goes.
        assert!(vacuum(&t, 168.0, false).unwrap().is_empty());
        let dry = vacuum(&t, 0.0, true).unwrap();
        let names: Vec<&str> = dry.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names, vec!["part-orphan.parquet", "part-orphan.parquet#1"]);
        assert!(dry.iter().all(|v| !v.deleted));
        let done = vacuum(&t, 0.0, false).unwrap();
        assert!(done.iter().all(|v| v.deleted));
        assert!(!root.join("part-orphan.parquet").exists());
        // The committed data is untouched.
        let files = crate::delta::ops::files::files(&t, &At::Latest).unwrap();
        assert!(root.join(&files[0].path).is_file());
    }

    #[test]
    fn a_negative_retention_is_refused() {
        let t = table_of("vacuum-neg", &[1]);
        let e = vacuum(&t, -1.0, false).unwrap_err();
        assert!(e.message.contains("retention_hours must be ≥ 0"), "{e}");
    }
}
