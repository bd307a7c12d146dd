//! `delta_history(path [, max_versions := N])` → one row per version, newest first:
//! version, timestamp, operation, parameters and metrics (JSON text), user
//! metadata, engine. Read straight from the `_delta_log/*.json` commit files,
//! so every version present is listed with its true number (delta-rs' own
//! history stream drops versions without a `commitInfo`).

use std::sync::Arc;

use arrow59::array::{ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow59::record_batch::RecordBatch;
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::BindInfo;
use serde_json::Value;

use super::bind;
use super::table::{err, local_dir, table_url};
use crate::duck::batch_table::BatchFunction;
use crate::error::Result;

pub const NAME: &str = "delta_history";

/// One commit as listed by `delta_history`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    pub version: i64,
    pub timestamp_ms: Option<i64>,
    pub operation: Option<String>,
    pub parameters: Option<String>,
    pub metrics: Option<String>,
    pub user_metadata: Option<String>,
    pub engine_info: Option<String>,
    pub read_version: Option<i64>,
    pub is_blind_append: Option<bool>,
}

/// The commit files of the table at `path` as (version, file), newest first.
fn commit_files(function: &'static str, path: &str) -> Result<Vec<(i64, std::path::PathBuf)>> {
    let url = table_url(function, path)?;
    let dir = local_dir(&url).ok_or_else(|| err(function, path, "not a local table"))?;
    let entries = std::fs::read_dir(dir.join("_delta_log")).map_err(|_| {
        err(
            function,
            path,
            "no Delta table at this path (no _delta_log)",
        )
    })?;
    let mut versions: Vec<(i64, std::path::PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".json")?;
            (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
                .then(|| stem.parse().ok().map(|v| (v, e.path())))
                .flatten()
        })
        .collect();
    if versions.is_empty() {
        return Err(err(
            function,
            path,
            "no Delta table at this path (no commits in _delta_log)",
        ));
    }
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    Ok(versions)
}

fn read_commit(
    function: &'static str,
    path: &str,
    version: i64,
    file: &std::path::Path,
) -> Result<Commit> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        err(
            function,
            path,
            format!("cannot read {}: {e}", file.display()),
        )
    })?;
    let mut c = Commit {
        version,
        ..Default::default()
    };
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).map_err(|e| {
            err(
                function,
                path,
                format!(
                    "the transaction log (_delta_log) is corrupt: version {version}, line {}: {e}",
                    n + 1
                ),
            )
        })?;
        if let Some(ci) = v.get("commitInfo") {
            c = parse_commit_info(version, ci);
        }
    }
    if c.timestamp_ms.is_none() {
        c.timestamp_ms = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64);
    }
    Ok(c)
}

/// Lists the commits of the table at `path`, newest first.
pub fn history(function: &'static str, path: &str, limit: Option<usize>) -> Result<Vec<Commit>> {
    let mut versions = commit_files(function, path)?;
    if let Some(l) = limit {
        versions.truncate(l);
    }
    versions
        .iter()
        .map(|(v, f)| read_commit(function, path, *v, f))
        .collect()
}

/// The oldest commit still in the log.
pub fn earliest(function: &'static str, path: &str) -> Result<Commit> {
    let versions = commit_files(function, path)?;
    let (v, f) = versions.last().expect("non-empty");
    read_commit(function, path, *v, f)
}

fn parse_commit_info(version: i64, ci: &Value) -> Commit {
    let s = |k: &str| ci.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let json = |k: &str| ci.get(k).filter(|v| !v.is_null()).map(|v| v.to_string());
    Commit {
        version,
        timestamp_ms: ci
            .get("inCommitTimestamp")
            .or(ci.get("timestamp"))
            .and_then(|v| v.as_i64()),
        operation: s("operation"),
        parameters: json("operationParameters"),
        metrics: json("operationMetrics"),
        user_metadata: s("userMetadata"),
        engine_info: s("engineInfo").or(s("clientVersion")),
        read_version: ci.get("readVersion").and_then(|v| v.as_i64()),
        is_blind_append: ci.get("isBlindAppend").and_then(|v| v.as_bool()),
    }
}

pub struct DeltaHistory;

pub struct Args {
    path: String,
    limit: Option<usize>,
}

impl BatchFunction for DeltaHistory {
    const NAME: &'static str = NAME;
    type Args = Args;

    fn columns() -> Vec<(&'static str, LogicalTypeId)> {
        use LogicalTypeId::*;
        vec![
            ("version", Bigint),
            ("timestamp", TimestampTZ),
            ("operation", Varchar),
            ("operation_parameters", Varchar),
            ("operation_metrics", Varchar),
            ("user_metadata", Varchar),
            ("engine_info", Varchar),
            ("read_version", Bigint),
            ("is_blind_append", Boolean),
        ]
    }

    fn parameters() -> Vec<LogicalTypeHandle> {
        vec![LogicalTypeId::Varchar.into()]
    }

    fn named_parameters() -> Vec<(&'static str, LogicalTypeId)> {
        vec![("max_versions", LogicalTypeId::Bigint)]
    }

    fn bind(b: &BindInfo) -> Result<Args> {
        let path = bind::path(NAME, b)?;
        let limit = bind::named_i64(b, "max_versions").map(|l| l.max(0) as usize);
        Ok(Args { path, limit })
    }

    fn run(a: &Args) -> Result<RecordBatch> {
        let h = history(NAME, &a.path, a.limit)?;
        let strs = |f: fn(&Commit) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(h.iter().map(f).collect::<Vec<_>>()))
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(
                h.iter().map(|c| c.version).collect::<Vec<_>>(),
            )),
            Arc::new(
                TimestampMicrosecondArray::from(
                    h.iter()
                        .map(|c| c.timestamp_ms.map(|t| t * 1000))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            strs(|c| c.operation.clone()),
            strs(|c| c.parameters.clone()),
            strs(|c| c.metrics.clone()),
            strs(|c| c.user_metadata.clone()),
            strs(|c| c.engine_info.clone()),
            Arc::new(Int64Array::from(
                h.iter().map(|c| c.read_version).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                h.iter().map(|c| c.is_blind_append).collect::<Vec<_>>(),
            )),
        ];
        RecordBatch::try_from_iter(Self::columns().iter().map(|c| c.0).zip(cols))
            .map_err(|e| err(NAME, &a.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_info_fields_are_read() {
        let ci: Value = serde_json::from_str(
            r#"{"timestamp":1700000000000,"operation":"WRITE","operationParameters":{"mode":"Append"},
               "operationMetrics":{"numFiles":2},"userMetadata":"batch 7","engineInfo":"medallion",
               "readVersion":3,"isBlindAppend":true}"#,
        )
        .unwrap();
        let c = parse_commit_info(4, &ci);
        assert_eq!(c.version, 4);
        assert_eq!(c.operation.as_deref(), Some("WRITE"));
        assert_eq!(c.metrics.as_deref(), Some(r#"{"numFiles":2}"#));
        assert_eq!(c.user_metadata.as_deref(), Some("batch 7"));
        assert_eq!(c.is_blind_append, Some(true));
    }
}
