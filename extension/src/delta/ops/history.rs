//! A table's commits, newest first: version, timestamp, operation,
//! parameters and metrics (JSON text), user metadata, engine. Read straight
//! from the `_delta_log/*.json` commit files, so every version present is
//! listed with its true number (delta-rs' own history stream drops versions
//! without a `commitInfo`).

use serde_json::Value;

use super::error::Result;
use super::log::{commit_files, read_actions, CommitFile};
use super::store::TableStore;

/// One commit of the log.
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

fn read_commit(store: &TableStore, path: &str, file: &CommitFile) -> Result<Commit> {
    let mut c = Commit {
        version: file.version,
        ..Default::default()
    };
    for v in read_actions(store, path, file.version, &file.file)? {
        if let Some(ci) = v.get("commitInfo") {
            c = parse_commit_info(file.version, ci);
        }
    }
    if c.timestamp_ms.is_none() {
        c.timestamp_ms = Some(file.modified_ms);
    }
    Ok(c)
}

/// Lists the commits of the table at `path`, newest first.
pub fn history(path: &str, limit: Option<usize>) -> Result<Vec<Commit>> {
    let store = TableStore::open(path)?;
    let mut versions = commit_files(&store, path)?;
    if let Some(l) = limit {
        versions.truncate(l);
    }
    versions
        .iter()
        .map(|f| read_commit(&store, path, f))
        .collect()
}

/// The oldest commit still in the log.
pub fn earliest(path: &str) -> Result<Commit> {
    let store = TableStore::open(path)?;
    let versions = commit_files(&store, path)?;
    read_commit(&store, path, versions.last().expect("non-empty"))
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

    #[test]
    fn every_version_is_listed_newest_first_and_limited() {
        let t = crate::delta::ops::testing::table_of("history", &[5, 5, 5]);
        let h = history(&t, None).unwrap();
        let versions: Vec<i64> = h.iter().map(|c| c.version).collect();
        assert_eq!(versions, vec![2, 1, 0]);
        assert_eq!(h[0].operation.as_deref(), Some("WRITE"));
        assert!(h[0].engine_info.is_some());
        assert_eq!(history(&t, Some(1)).unwrap().len(), 1);
        assert_eq!(earliest(&t).unwrap().version, 0);
    }
}
