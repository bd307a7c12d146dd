//! `optimize_zorder(path, columns [, target_file_size := bytes])`: compacts each
//! partition's files into files of about the target size, rows in Z-order of
//! `columns`, committed as ONE `OPTIMIZE` transaction (removes + adds with
//! `dataChange = false`), so readers see either the old files or the new.
//!
//! No DataFusion: the rows of a partition are read with the Parquet reader,
//! sorted by a rank-based Z-order key (`zorder.rs`), cut into files by a row
//! count derived from the input's bytes per row, and committed through the
//! transaction API. A partition's rows are held in memory while it is sorted.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::sync::Arc;

use arrow59::array::{ArrayRef, Int64Array};
use arrow59::compute::concat_batches;
use arrow59::record_batch::RecordBatch;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::Action;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::BindInfo;

use super::bind;
use super::scan::{ScanPlan, Scanner};
use super::table::{block_on, describe, enter, err, open, At};
use super::zorder::{aligned_ranges, zorder_sort};
use crate::duck::batch_table::BatchFunction;
use crate::error::Result;

pub const NAME: &str = "optimize_zorder";
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

/// Z-orders every partition that has more than one file.
pub fn optimize_zorder(path: &str, columns: &[String], target: u64) -> Result<OptimizeReport> {
    let _rt = enter();
    let table = block_on(open(NAME, path, &At::Latest))?;
    let plan = Arc::new(ScanPlan::new(NAME, path, &table)?);
    let names: Vec<&str> = plan
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    if columns.is_empty() {
        return Err(err(NAME, path, "give at least one Z-order column"));
    }
    for c in columns {
        if plan.partition_columns.contains(c) {
            return Err(err(
                NAME,
                path,
                format!("`{c}` is a partition column; Z-order by data columns"),
            ));
        }
        if !names.contains(&c.as_str()) {
            return Err(err(
                NAME,
                path,
                format!(
                    "unknown Z-order column `{c}` (columns: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut groups: BTreeMap<Vec<(String, Option<String>)>, Vec<usize>> = BTreeMap::new();
    for (i, f) in plan.files.iter().enumerate() {
        let mut key: Vec<_> = f.partition_values.clone().into_iter().collect();
        key.sort();
        groups.entry(key).or_default().push(i);
    }
    let snap = table
        .snapshot()
        .map_err(|e| err(NAME, path, describe(&e)))?;
    let all_views: Vec<_> = snap.log_data().iter().collect();
    let mut report = OptimizeReport {
        version: table.version().map(|v| v as i64),
        ..Default::default()
    };
    let mut actions = Vec::new();
    let parts = (!plan.partition_columns.is_empty()).then(|| plan.partition_columns.clone());
    for idxs in groups.values().filter(|v| v.len() > 1) {
        let sub = Arc::new(ScanPlan {
            files: idxs.iter().map(|&i| plan.files[i].clone()).collect(),
            ..(*plan).clone()
        });
        let all: Vec<usize> = (0..plan.schema.fields().len()).collect();
        let mut scanner = Scanner::new(sub.clone(), all, 64 * 1024);
        let mut batches = Vec::new();
        while let Some(cols) = scanner.next_batch(NAME)? {
            batches.push(
                RecordBatch::try_new(plan.schema.clone(), cols).map_err(|e| err(NAME, path, e))?,
            );
        }
        let batch = concat_batches(&plan.schema, &batches).map_err(|e| err(NAME, path, e))?;
        let (sorted, keys) = zorder_sort(&batch, columns).map_err(|e| err(NAME, path, e))?;
        let bytes_in: i64 = sub.files.iter().map(|f| f.size).sum();
        let rows = sorted.num_rows().max(1) as u64;
        let per_file = ((target as u128 * rows as u128) / bytes_in.max(1) as u128)
            .clamp(1024, u32::MAX as u128) as usize;
        let mut w = RecordBatchWriter::try_new(
            table.table_url().as_str(),
            plan.schema.clone(),
            parts.clone(),
            None,
        )
        .map_err(|e| err(NAME, path, describe(&e)))?;
        let mut adds = Vec::new();
        for r in aligned_ranges(&keys, per_file) {
            block_on(w.write(sorted.slice(r.start, r.len())))
                .map_err(|e| err(NAME, path, describe(&e)))?;
            adds.extend(block_on(w.flush()).map_err(|e| err(NAME, path, describe(&e)))?);
        }
        for mut a in adds {
            a.data_change = false;
            report.bytes_added += a.size as u64;
            report.files_added += 1;
            actions.push(Action::Add(a));
        }
        for &i in idxs {
            report.bytes_removed += plan.files[i].size as u64;
            report.files_removed += 1;
            actions.push(Action::Remove(all_views[i].remove_action(false)));
        }
        report.rows += sorted.num_rows() as u64;
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
            format!(
                "medallion {}",
                crate::core::medallion_version::version_string()
            )
            .into(),
        ),
    ]);
    let op = DeltaOperation::Optimize {
        predicate: None,
        target_size: target as i64,
    };
    let done = block_on(
        CommitBuilder::from(props)
            .with_actions(actions)
            .build(Some(snap), table.log_store(), op)
            .into_future(),
    )
    .map_err(|e| err(NAME, path, describe(&e)))?;
    report.version = Some(done.version() as i64);
    Ok(report)
}

pub struct OptimizeZorder;

pub struct Args {
    path: String,
    columns: Vec<String>,
    target: u64,
}

impl BatchFunction for OptimizeZorder {
    const NAME: &'static str = NAME;
    type Args = Args;

    fn columns() -> Vec<(&'static str, LogicalTypeId)> {
        use LogicalTypeId::Bigint;
        vec![
            ("version", Bigint),
            ("files_removed", Bigint),
            ("files_added", Bigint),
            ("bytes_removed", Bigint),
            ("bytes_added", Bigint),
            ("rows", Bigint),
            ("partitions_optimized", Bigint),
        ]
    }

    fn parameters() -> Vec<LogicalTypeHandle> {
        // ANY: a list (['user', 'ts']) or a comma-separated string ('user, ts').
        vec![LogicalTypeId::Varchar.into(), LogicalTypeId::Any.into()]
    }

    fn named_parameters() -> Vec<(&'static str, LogicalTypeId)> {
        vec![("target_file_size", LogicalTypeId::Bigint)]
    }

    fn bind(b: &BindInfo) -> Result<Args> {
        let path = bind::path(NAME, b)?;
        let v = b.get_parameter(1);
        let columns: Vec<String> = match v.to_list() {
            _ if v.is_null() => Vec::new(),
            Some(items) => items
                .iter()
                .filter(|i| !i.is_null())
                .map(|i| i.to_string())
                .collect(),
            None => v
                .to_string()
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        };
        let target = bind::named_i64(b, "target_file_size").unwrap_or(DEFAULT_TARGET as i64);
        if target < 1024 {
            return Err(err(
                NAME,
                &path,
                format!("target_file_size must be at least 1024 bytes, got {target}"),
            ));
        }
        Ok(Args {
            path,
            columns,
            target: target as u64,
        })
    }

    fn run(a: &Args) -> Result<RecordBatch> {
        let r = optimize_zorder(&a.path, &a.columns, a.target)?;
        let i = |v: u64| -> ArrayRef { Arc::new(Int64Array::from(vec![v as i64])) };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![r.version])),
            i(r.files_removed),
            i(r.files_added),
            i(r.bytes_removed),
            i(r.bytes_added),
            i(r.rows),
            i(r.partitions),
        ];
        RecordBatch::try_from_iter(Self::columns().iter().map(|c| c.0).zip(cols))
            .map_err(|e| err(NAME, &a.path, e))
    }
}
