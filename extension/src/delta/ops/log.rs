//! The `_delta_log` read directly: which commit files exist and the actions
//! in one of them. For what delta-rs' snapshot does not keep: every
//! version's commit info (history) and the actions of single versions
//! (change reads), at the cost of the versions asked for only.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{err, Result};
use super::table::{local_dir, table_url};

/// The commit files of the table at `path` as (version, file), newest first.
pub fn commit_files(path: &str) -> Result<Vec<(i64, PathBuf)>> {
    let mut versions = list(path)?;
    if versions.is_empty() {
        return Err(err(
            path,
            "no Delta table at this path (no commits in _delta_log)",
        ));
    }
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    Ok(versions)
}

/// The latest committed version, `None` when there is no table at `path`.
pub fn latest_version(path: &str) -> Result<Option<i64>> {
    match list(path) {
        Ok(v) => Ok(v.iter().map(|(v, _)| *v).max()),
        Err(e) if e.message.starts_with("no Delta table") => Ok(None),
        Err(e) => Err(e),
    }
}

fn list(path: &str) -> Result<Vec<(i64, PathBuf)>> {
    let url = table_url(path)?;
    let dir = local_dir(&url).ok_or_else(|| err(path, "not a local table"))?;
    let entries = std::fs::read_dir(dir.join("_delta_log"))
        .map_err(|_| err(path, "no Delta table at this path (no _delta_log)"))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".json")?;
            (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
                .then(|| stem.parse().ok().map(|v| (v, e.path())))
                .flatten()
        })
        .collect())
}

/// The commit file of `version` of the table at `path`.
pub fn commit_file(path: &str, version: i64) -> Result<PathBuf> {
    let url = table_url(path)?;
    let dir = local_dir(&url).ok_or_else(|| err(path, "not a local table"))?;
    Ok(dir.join("_delta_log").join(format!("{version:020}.json")))
}

/// The actions of one commit file, one JSON object per line.
pub fn read_actions(path: &str, version: i64, file: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(
                path,
                format!("version {version} is no longer in the log (log retention removed it)"),
            )
        } else {
            err(path, format!("cannot read {}: {e}", file.display()))
        }
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
