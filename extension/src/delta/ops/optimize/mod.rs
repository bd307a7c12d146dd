//! Z-order OPTIMIZE: compacts each partition's files into files of about
//! the target size, rows in Z-order of `columns`, committed as ONE
//! `OPTIMIZE` transaction (removes + adds with `dataChange = false`), so
//! readers see either the old files or the new.
//!
//! Each run writes one cube of files under [`CLUSTERED_DIR`]; that is how
//! a later *incremental* run knows them: it clusters only the files not yet
//! clustered (what appends added since), merging cubes that are still small
//! into its own and leaving the others alone, as Delta's ZCubes do, so
//! clustering a stream costs what arrived, not the table (see `select.rs`).
//!
//! No DataFusion: the rows of a partition are read with the Parquet reader,
//! sorted by a rank-based Z-order key (`zorder.rs`), cut into files by a row
//! count derived from the input's bytes per row, and committed through the
//! transaction API. The rows of one sort are held in memory, so the input is
//! sorted in runs of at most [`MAX_SORT_BYTES`] of Parquet (each a sorted
//! range of the cube): memory stays bounded whatever the table's size, at
//! the price of one file per run more for a filter to open.

use std::collections::{HashMap, HashSet};
use std::future::IntoFuture;
use std::sync::Arc;

use arrow59::compute::concat_batches;
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add};
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};

use super::error::{err, Result};
use super::scan::{ScanPlan, Scanner};
use super::table::{block_on, describe, enter, lost_the_version, open, snapshot, At};
use super::zorder::{aligned_ranges, zorder_sort};

mod select;
#[cfg(test)]
mod tests;

pub use select::{cube_of, is_clustered, Input, CLUSTERED_DIR, CUBE_PREFIX};
use select::{select, sort_runs, Live, PartitionKey};

/// The most Parquet bytes sorted at once (decoded, a few times more rows in
/// memory, twice while sorted).
pub const MAX_SORT_BYTES: u64 = 64 * 1024 * 1024;

/// How often a run re-reads and tries again when other commits keep
/// taking its version (each time only if its input is still live).
const COMMIT_ATTEMPTS: usize = 20;

/// The default size of the files OPTIMIZE writes (Delta Lake's default).
pub const DEFAULT_TARGET: u64 = 128 * 1024 * 1024;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct OptimizeReport {
    pub version: Option<i64>,
    pub files_removed: u64,
    pub files_added: u64,
    pub bytes_removed: u64,
    pub bytes_added: u64,
    pub rows: u64,
    pub partitions: u64,
}

/// Z-orders every partition that has more than one file; `incremental`:
/// the files not yet clustered (and the small cubes, with
/// `min_cube_bytes`) of every partition that has new files.
pub fn optimize_zorder(
    path: &str,
    columns: &[String],
    target: u64,
    input: &Input,
) -> Result<OptimizeReport> {
    let _rt = enter();
    let table = block_on(open(path, &At::Latest))?;
    let plan = Arc::new(ScanPlan::new(path, &table)?);
    let names = plan.column_names();
    if columns.is_empty() {
        return Err(err(path, "give at least one Z-order column"));
    }
    for c in columns {
        if plan.partition_columns.contains(c) {
            return Err(err(
                path,
                format!("`{c}` is a partition column; Z-order by data columns"),
            ));
        }
        if !names.contains(&c.as_str()) {
            return Err(err(
                path,
                format!(
                    "unknown Z-order column `{c}` (columns: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let snap = snapshot(path, &table)?;
    let all_views: Vec<_> = snap.log_data().iter().collect();
    let paths: Vec<String> = all_views.iter().map(|v| v.path().into_owned()).collect();
    let live: Vec<Live> = plan
        .files
        .iter()
        .zip(&paths)
        .map(|(f, p)| {
            let mut partition: PartitionKey = f.partition_values.clone().into_iter().collect();
            partition.sort();
            Live {
                path: p,
                size: f.size.max(0) as u64,
                partition,
            }
        })
        .collect();
    let groups = select(&live, input);
    let report = OptimizeReport {
        version: table.version().map(|v| v as i64),
        ..Default::default()
    };
    if groups.is_empty() {
        return Ok(report);
    }
    let id = format!("{CUBE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let cube = Cube {
        dir: format!("{CLUSTERED_DIR}/{id}"),
        url: table
            .table_url()
            .join(&format!("{CLUSTERED_DIR}/{id}/"))
            .map_err(|e| err(path, e))?,
        tags: [
            ("ZCUBE_ID".to_string(), Some(id.clone())),
            (
                "ZCUBE_ZORDER_BY".to_string(),
                Some(serde_json::json!(columns).to_string()),
            ),
        ]
        .into(),
    };
    let mut report = report;
    let mut actions = Vec::new();
    let sizes: Vec<u64> = live.iter().map(|l| l.size).collect();
    for group in &groups {
        for idxs in &sort_runs(group, &sizes, MAX_SORT_BYTES) {
            let (adds, rows) = sort_and_write(path, &plan, idxs, columns, target, &cube)?;
            for a in adds {
                report.bytes_added += a.size as u64;
                report.files_added += 1;
                actions.push(Action::Add(a));
            }
            for &i in idxs {
                report.bytes_removed += plan.files[i].size as u64;
                report.files_removed += 1;
                actions.push(Action::Remove(all_views[i].remove_action(false)));
            }
            report.rows += rows;
        }
        report.partitions += 1;
    }
    if actions.is_empty() {
        return Ok(report);
    }
    let metrics = serde_json::json!({
        "numFilesAdded": report.files_added, "numFilesRemoved": report.files_removed,
        "numAddedBytes": report.bytes_added, "numRemovedBytes": report.bytes_removed,
        "numRows": report.rows, "numPartitionsOptimized": report.partitions,
    });
    let props = CommitProperties::default().with_metadata(vec![
        ("operationMetrics".to_string(), metrics),
        ("zOrderBy".to_string(), serde_json::json!(columns)),
        (
            "engineInfo".to_string(),
            crate::version::engine_info().into(),
        ),
    ]);
    let op = DeltaOperation::Optimize {
        predicate: None,
        target_size: target as i64,
    };
    commit_unless_taken(path, table, actions, props, op, report)
}

/// Where a run writes: the cube's directory (relative to the table root) and
/// URL, and the tags each of its files carries.
struct Cube {
    dir: String,
    url: url::Url,
    tags: HashMap<String, Option<String>>,
}

/// Sorts the rows of the files `idxs` in Z-order and writes them into the
/// cube as files of about `target` bytes: their add actions
/// (`dataChange = false`) and the rows written.
fn sort_and_write(
    path: &str,
    plan: &Arc<ScanPlan>,
    idxs: &[usize],
    columns: &[String],
    target: u64,
    cube: &Cube,
) -> Result<(Vec<Add>, u64)> {
    let sub = Arc::new(ScanPlan {
        files: idxs.iter().map(|&i| plan.files[i].clone()).collect(),
        ..(**plan).clone()
    });
    let all: Vec<usize> = (0..plan.schema.fields().len()).collect();
    let mut scanner = Scanner::new(sub.clone(), all, 64 * 1024);
    let mut batches = Vec::new();
    while let Some(cols) = scanner.next_batch()? {
        batches.push(RecordBatch::try_new(plan.schema.clone(), cols).map_err(|e| err(path, e))?);
    }
    let batch = concat_batches(&plan.schema, &batches).map_err(|e| err(path, e))?;
    drop(batches);
    let (sorted, keys) = zorder_sort(&batch, columns).map_err(|e| err(path, e))?;
    drop(batch);
    let bytes_in: i64 = sub.files.iter().map(|f| f.size).sum();
    let rows = sorted.num_rows().max(1) as u64;
    let per_file = ((target as u128 * rows as u128) / bytes_in.max(1) as u128)
        .clamp(1024, u32::MAX as u128) as usize;
    let parts = (!plan.partition_columns.is_empty()).then(|| plan.partition_columns.clone());
    let mut w = RecordBatchWriter::try_new(cube.url.as_str(), plan.schema.clone(), parts, None)
        .map_err(|e| err(path, describe(&e)))?;
    let mut adds = Vec::new();
    for r in aligned_ranges(&keys, per_file) {
        block_on(w.write(sorted.slice(r.start, r.len()))).map_err(|e| err(path, describe(&e)))?;
        adds.extend(block_on(w.flush()).map_err(|e| err(path, describe(&e)))?);
    }
    let adds = adds
        .into_iter()
        .map(|mut a| {
            a.data_change = false;
            a.path = format!("{}/{}", cube.dir, a.path);
            a.tags = Some(cube.tags.clone());
            a
        })
        .collect();
    Ok((adds, sorted.num_rows() as u64))
}

/// Commits an OPTIMIZE as a compare-and-set on its input: only while every
/// file it removes is still live. delta-rs' conflict checker lets two
/// compactions remove the same file (`dataChange = false` removes never
/// conflict), which would add the same rows twice; so each attempt is made
/// with `max_retries = 0`, and when another commit took the version, the
/// latest snapshot decides: input intact, try again on top of it; input
/// gone (another OPTIMIZE rewrote it), drop this one (no version, no
/// change, its files deleted).
fn commit_unless_taken(
    path: &str,
    mut read: deltalake::DeltaTable,
    actions: Vec<Action>,
    props: CommitProperties,
    op: DeltaOperation,
    mut report: OptimizeReport,
) -> Result<OptimizeReport> {
    let removed: HashSet<&str> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove(r) => Some(r.path.as_str()),
            _ => None,
        })
        .collect();
    for _ in 0..COMMIT_ATTEMPTS {
        let snap = snapshot(path, &read)?;
        let committed = block_on(
            CommitBuilder::from(props.clone())
                .with_max_retries(0)
                .with_actions(actions.clone())
                .build(Some(snap), read.log_store(), op.clone())
                .into_future(),
        );
        match committed {
            Ok(done) => {
                report.version = Some(done.version() as i64);
                return Ok(report);
            }
            Err(e) if lost_the_version(&e) => {
                read = block_on(open(path, &At::Latest))?;
                let live: HashSet<String> = snapshot(path, &read)?
                    .log_data()
                    .iter()
                    .map(|f| f.path().into_owned())
                    .collect();
                if !removed.iter().all(|p| live.contains(*p)) {
                    discard(&read, &actions);
                    return Ok(OptimizeReport {
                        version: read.version().map(|v| v as i64),
                        ..Default::default()
                    });
                }
            }
            Err(e) => {
                discard(&read, &actions);
                return Err(err(path, describe(&e)));
            }
        }
    }
    discard(&read, &actions);
    Err(err(
        path,
        format!("OPTIMIZE not committed: the table changed under it {COMMIT_ATTEMPTS} times in a row; run it again"),
    ))
}

/// Deletes the files of a commit that will not happen (best effort).
fn discard(table: &deltalake::DeltaTable, actions: &[Action]) {
    let added = actions.iter().filter_map(|a| match a {
        Action::Add(add) => Some(add.path.as_str()),
        _ => None,
    });
    super::store::discard(table.table_url(), added);
}
