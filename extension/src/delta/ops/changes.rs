//! What a range of commits added: the rows of the `add` actions with
//! `dataChange = true` of versions `after + 1 ..= until`, each with its
//! commit's version and time (Delta's change data feed calls them
//! `_commit_version` and `_commit_timestamp`).
//!
//! For the append-only tables of a streaming pipeline: a consumer that
//! recorded "I have read up to version N" reads only what came after, at the
//! cost of the new commits' log files and data files, whatever the table's
//! size. OPTIMIZE rewrites (`dataChange = false`) are not new rows and are
//! skipped. A version that removed rows (delete, update, overwrite) is
//! refused: what it removed cannot be expressed as additions. Versions are
//! read from their own commit files, so a read across a checkpoint works as
//! long as log retention has kept the JSON commits of the range.

use std::collections::HashMap;
use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use serde_json::Value;

use super::error::{err, Result};
use super::log::{commit_file, latest_in, read_actions};
use super::scan::{data_file, ScanFile, ScanPlan, Scanner};
use super::store::TableStore;
use super::table::{block_on, enter, local_dir, open, At};

/// The files a range of commits added, and the commit of each.
#[derive(Debug, Clone)]
pub struct ChangePlan {
    /// The table's schema at `until`; `files` are the added files.
    pub scan: ScanPlan,
    /// Per file of `scan.files`: the version that added it.
    pub versions: Vec<i64>,
    /// Per file: that commit's time (ms since the epoch), if recorded.
    pub timestamps: Vec<Option<i64>>,
    pub after: i64,
    pub until: i64,
}

/// The changes of the table at `path` after version `after` (-1: from the
/// start) up to `until` (default: the latest version).
pub fn changes(path: &str, after: i64, until: Option<i64>) -> Result<ChangePlan> {
    let _rt = enter();
    if after < -1 {
        return Err(err(
            path,
            format!("after_version must be ≥ -1, got {after}"),
        ));
    }
    let store = TableStore::open(path)?;
    let latest = latest_in(&store)?
        .ok_or_else(|| err(path, "no Delta table at this path (no _delta_log)"))?;
    let until = until.unwrap_or(latest);
    if until > latest || until < 0 {
        return Err(err(
            path,
            format!("version {until} does not exist (the latest is {latest})"),
        ));
    }
    let table = block_on(open(path, &At::Version(until)))?;
    let mut scan = ScanPlan::new(path, &table)?;
    let root = local_dir(table.table_url());
    scan.files.clear();
    let mut plan = ChangePlan {
        scan,
        versions: Vec::new(),
        timestamps: Vec::new(),
        after,
        until,
    };
    for version in (after + 1)..=until {
        let actions = read_actions(&store, path, version, &commit_file(version))?;
        let timestamp = actions.iter().find_map(|a| {
            let ci = a.get("commitInfo")?;
            ci.get("inCommitTimestamp")
                .or(ci.get("timestamp"))
                .and_then(Value::as_i64)
        });
        for action in &actions {
            if let Some(add) = action.get("add") {
                if add.get("dataChange").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                plan.scan
                    .files
                    .push(added_file(path, version, add, root.as_deref())?);
                plan.versions.push(version);
                plan.timestamps.push(timestamp);
            } else if let Some(remove) = action.get("remove") {
                if remove.get("dataChange").and_then(Value::as_bool) != Some(false) {
                    return Err(err(
                        path,
                        format!(
                            "version {version} removed rows (a delete, update or overwrite); \
                             only what appends added can be read as changes"
                        ),
                    ));
                }
            }
        }
    }
    Ok(plan)
}

fn added_file(
    path: &str,
    version: i64,
    add: &Value,
    root: Option<&std::path::Path>,
) -> Result<ScanFile> {
    if add.get("deletionVector").is_some_and(|d| !d.is_null()) {
        return Err(err(
            path,
            format!("version {version}: deletion vectors are not supported"),
        ));
    }
    let rel = add.get("path").and_then(Value::as_str).ok_or_else(|| {
        err(
            path,
            format!("version {version}: an add action without a path"),
        )
    })?;
    let rel = percent_encoding::percent_decode_str(rel).decode_utf8_lossy();
    let (file, remote) = data_file(path, root, &rel)?;
    let partition_values: HashMap<String, Option<String>> = add
        .get("partitionValues")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                .collect()
        })
        .unwrap_or_default();
    let num_records = add
        .get("stats")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|s| s.get("numRecords").and_then(Value::as_u64))
        .map(|n| n as usize);
    Ok(ScanFile {
        path: file,
        remote,
        partition_values,
        num_records,
        size: add.get("size").and_then(Value::as_i64).unwrap_or(0),
    })
}

/// Streams a change plan: the table's columns, then `_commit_version` and
/// `_commit_timestamp` (projection indices `n` and `n + 1` for a table of
/// `n` columns).
pub struct ChangeScanner {
    plan: Arc<ChangePlan>,
    inner: Scanner,
    projection: Vec<usize>,
}

impl ChangeScanner {
    pub fn new(plan: Arc<ChangePlan>, projection: Vec<usize>, batch_size: usize) -> Self {
        let inner = Scanner::new(Arc::new(plan.scan.clone()), projection.clone(), batch_size);
        Self {
            plan,
            inner,
            projection,
        }
    }

    /// The next batch of projected columns, `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<ArrayRef>>> {
        let Some((file, mut columns)) = self.inner.next_file_batch()? else {
            return Ok(None);
        };
        let n = self.plan.scan.schema.fields().len();
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        for (out, &c) in self.projection.iter().enumerate() {
            if c == n {
                columns[out] = Arc::new(Int64Array::from(vec![self.plan.versions[file]; rows]));
            } else if c == n + 1 {
                let ts = self.plan.timestamps[file].map(|ms| ms * 1000);
                columns[out] =
                    Arc::new(TimestampMicrosecondArray::from(vec![ts; rows]).with_timezone("UTC"));
            }
        }
        Ok(Some(columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::checkpoint::checkpoint;
    use crate::delta::ops::optimize::{optimize_zorder, Input, DEFAULT_TARGET};
    use crate::delta::ops::testing::{scratch, table_of, write_rows};

    fn read(plan: ChangePlan) -> Vec<(i64, i64)> {
        let n = plan.scan.schema.fields().len();
        let mut s = ChangeScanner::new(Arc::new(plan), vec![0, n], 1000);
        let mut out = Vec::new();
        while let Some(cols) = s.next_batch().unwrap() {
            let ids = cols[0].as_any().downcast_ref::<Int64Array>().unwrap();
            let vs = cols[1].as_any().downcast_ref::<Int64Array>().unwrap();
            out.extend(ids.values().iter().zip(vs.values()).map(|(a, b)| (*a, *b)));
        }
        out.sort();
        out
    }

    #[test]
    fn only_the_rows_of_later_commits_with_their_versions() {
        let t = table_of("changes", &[3, 2, 1]); // v0, v1, v2
        assert_eq!(
            read(changes(&t, 0, None).unwrap()),
            vec![(3, 1), (4, 1), (5, 2)]
        );
        assert_eq!(read(changes(&t, -1, Some(0)).unwrap()).len(), 3);
        assert!(read(changes(&t, 2, None).unwrap()).is_empty());
        let e = changes(&t, 0, Some(9)).unwrap_err();
        assert_eq!(e.message, "version 9 does not exist (the latest is 2)");
    }

    #[test]
    fn an_optimize_is_not_new_rows_and_a_checkpoint_is_crossed() {
        let t = table_of("changes-opt", &[10, 10]); // v0, v1
        optimize_zorder(&t, &["id".to_string()], DEFAULT_TARGET, &Input::all()).unwrap(); // v2
        checkpoint(&t).unwrap();
        write_rows(&t, 20..25); // v3
        let got = read(changes(&t, 1, None).unwrap());
        assert_eq!(got, (20..25).map(|i| (i, 3)).collect::<Vec<_>>());
        // Files that a later OPTIMIZE removed are still read as what v1 added.
        assert_eq!(read(changes(&t, 0, Some(1)).unwrap()).len(), 10);
    }

    #[test]
    fn a_missing_table_and_a_bad_start_are_named() {
        let t = scratch("changes-none");
        assert!(changes(&t, -1, None)
            .unwrap_err()
            .message
            .contains("no Delta table"));
        write_rows(&t, 0..1);
        assert!(changes(&t, -2, None).unwrap_err().message.contains("≥ -1"));
    }
}
