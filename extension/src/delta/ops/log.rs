//! The `_delta_log` read directly: which commit files exist and the actions
//! in one of them. For what delta-rs' snapshot does not keep: every
//! version's commit info (history) and the actions of single versions
//! (change reads), at the cost of the versions asked for only. Read through
//! the table's object store, so a table on S3 reads as a local one.

use serde_json::Value;

use super::error::{err, Result};
use super::store::{StoredFile, TableStore};

/// One commit file: its version and where it is (relative to the root).
#[derive(Debug, Clone, PartialEq)]
pub struct CommitFile {
    pub version: i64,
    pub file: String,
    /// When the file was written (ms since the epoch).
    pub modified_ms: i64,
}

/// The commit files of the table at `path` (its `store`), newest first.
pub fn commit_files(store: &TableStore, path: &str) -> Result<Vec<CommitFile>> {
    let mut versions = list(store)?;
    if versions.is_empty() {
        return Err(err(
            path,
            "no Delta table at this path (no commits in _delta_log)",
        ));
    }
    versions.sort_by_key(|c| std::cmp::Reverse(c.version));
    Ok(versions)
}

/// The latest committed version, `None` when there is no table at `path`.
pub fn latest_version(path: &str) -> Result<Option<i64>> {
    latest_in(&TableStore::open(path)?)
}

/// [`latest_version`] of a table whose store is open.
pub fn latest_in(store: &TableStore) -> Result<Option<i64>> {
    Ok(list(store)?.iter().map(|c| c.version).max())
}

fn list(store: &TableStore) -> Result<Vec<CommitFile>> {
    Ok(store
        .list("_delta_log")?
        .into_iter()
        .filter_map(|f: StoredFile| {
            let name = f.path.rsplit('/').next()?;
            let stem = name.strip_suffix(".json")?;
            let version = (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
                .then(|| stem.parse().ok())
                .flatten()?;
            Some(CommitFile {
                version,
                file: f.path,
                modified_ms: f.modified_ms,
            })
        })
        .collect())
}

/// The commit file of `version` (relative to the table's root).
pub fn commit_file(version: i64) -> String {
    format!("_delta_log/{version:020}.json")
}

/// The actions of one commit file of the table at `path` (its `store`),
/// one JSON object per line.
pub fn read_actions(
    store: &TableStore,
    path: &str,
    version: i64,
    file: &str,
) -> Result<Vec<Value>> {
    let bytes = store.read(file)?.ok_or_else(|| {
        err(
            path,
            format!("version {version} is no longer in the log (log retention removed it)"),
        )
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        err(
            path,
            format!("the transaction log (_delta_log) is corrupt: version {version}: {e}"),
        )
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| {
                err(
                    path,
                    format!(
                        "the transaction log (_delta_log) is corrupt: version {version}, line {}: {e}",
                        n + 1
                    ),
                )
            })
        })
        .collect()
}
