//! Artifacts, independent of the backend: uploading files and directories,
//! and a confusion matrix as an MLflow *table* artifact plus a PNG heatmap.
//!
//! A table artifact is what `mlflow.log_table` writes: a JSON file
//! `{"columns": [...], "data": [[...], ...]}` and an entry
//! `{"path": "<file>.json", "type": "table"}` in the run tag
//! `mlflow.loggedArtifacts` (a JSON list, read, extended and written back),
//! which makes the UI show it as a grid and `mlflow.load_table` read it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::plot::confusion_matrix_png;
use super::tracking::{Batch, Failure, Outcome, Tracking, Upload};
use super::validate::check_artifact_path;

/// Uploads a file, or a directory's files recursively, into the run's
/// artifacts under `artifact_dir` (MLflow's `log_artifact(s)` semantics: a
/// file keeps its name; a directory's contents go under `artifact_dir`).
/// Returns the URI of what was logged.
pub fn log_path(
    t: &dyn Tracking,
    run: &str,
    local: &Path,
    artifact_dir: Option<&str>,
) -> Outcome<String> {
    let dir = artifact_dir
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty());
    if let Some(d) = dir {
        check_artifact_path(d)?;
    }
    let meta =
        std::fs::metadata(local).map_err(|e| Failure::io("cannot read the artifact", local, &e))?;
    if meta.is_file() {
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = match dir {
            Some(d) => format!("{d}/{name}"),
            None => name,
        };
        return t.put_artifact(run, &path, Upload::File(local));
    }
    let mut files = Vec::new();
    walk(local, "", &mut files)?;
    if files.is_empty() {
        return Err(Failure::rejected(format!(
            "directory {} has no files to log",
            local.display()
        )));
    }
    let mut first_uri = String::new();
    for rel in &files {
        let path = match dir {
            Some(d) => format!("{d}/{rel}"),
            None => rel.clone(),
        };
        let uri = t.put_artifact(run, &path, Upload::File(&local.join(rel)))?;
        if first_uri.is_empty() {
            // The directory's URI: the first file's, without the file's path.
            first_uri = uri
                .strip_suffix(&format!("/{rel}"))
                .unwrap_or(&uri)
                .to_string();
        }
    }
    Ok(first_uri)
}

/// The files under `dir`, as `/`-separated paths relative to it, sorted.
fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Outcome<()> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| Failure::io("cannot read", &dir, &e))?;
    let mut names: Vec<_> = entries.flatten().collect();
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry
            .file_type()
            .map_err(|e| Failure::io("cannot read", &entry.path(), &e))?;
        if kind.is_dir() {
            walk(root, &child, out)?;
        } else if entry.path().is_file() {
            out.push(child);
        }
    }
    Ok(())
}

/// A confusion matrix: sorted labels (actual ∪ predicted) and
/// `counts[actual][predicted]`, duplicate pairs summed.
pub fn matrix(rows: &[(String, String, i64)]) -> (Vec<String>, Vec<Vec<i64>>) {
    let mut index = BTreeMap::new();
    for (a, p, _) in rows {
        index.insert(a.clone(), 0);
        index.insert(p.clone(), 0);
    }
    for (i, v) in index.values_mut().enumerate() {
        *v = i;
    }
    let n = index.len();
    let mut counts = vec![vec![0i64; n]; n];
    for (a, p, c) in rows {
        counts[index[a]][index[p]] += c;
    }
    (index.into_keys().collect(), counts)
}

/// The table artifact: one row per actual label, one column per predicted.
pub fn table_json(labels: &[String], counts: &[Vec<i64>]) -> Value {
    let mut columns = vec![json!("actual")];
    columns.extend(labels.iter().map(|l| json!(l)));
    let data: Vec<Value> = labels
        .iter()
        .zip(counts)
        .map(|(label, row)| {
            let mut r = vec![json!(label)];
            r.extend(row.iter().map(|c| json!(c)));
            Value::Array(r)
        })
        .collect();
    json!({ "columns": columns, "data": data })
}

/// Logs `<name>.json` (table) and `<name>.png` (heatmap); returns the JSON's URI.
pub fn log_confusion_matrix(
    t: &dyn Tracking,
    run: &str,
    rows: &[(String, String, i64)],
    name: &str,
) -> Outcome<String> {
    check_artifact_path(name)?;
    if rows.is_empty() {
        return Err(Failure::rejected(
            "the confusion matrix has no (actual, predicted, count) rows",
        ));
    }
    let (labels, counts) = matrix(rows);
    let table = table_json(&labels, &counts).to_string();
    let json_path = format!("{name}.json");
    let uri = t.put_artifact(run, &json_path, Upload::Bytes(table.as_bytes()))?;
    let title = name.rsplit('/').next().unwrap_or(name).replace('_', " ");
    let png = confusion_matrix_png(&title, &labels, &counts)
        .map_err(|e| Failure::rejected(format!("drawing {name}.png failed: {e}")))?;
    t.put_artifact(run, &format!("{name}.png"), Upload::Bytes(&png))?;
    mark_table(t, run, &json_path)?;
    Ok(uri)
}

/// Adds `{"path": path, "type": "table"}` to the run's `mlflow.loggedArtifacts`.
fn mark_table(t: &dyn Tracking, run: &str, path: &str) -> Outcome<()> {
    const TAG: &str = "mlflow.loggedArtifacts";
    let mut list: Vec<Value> = t
        .get_tag(run, TAG)?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    if list.iter().any(|e| e["path"].as_str() == Some(path)) {
        return Ok(());
    }
    list.push(json!({"path": path, "type": "table"}));
    let text = serde_json::to_string(&list).expect("JSON values serialize");
    t.log_batch(run, Batch::tags(&[(TAG.to_string(), text)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_sums_pairs_over_the_union_of_labels() {
        let rows = vec![
            ("pos".to_string(), "pos".to_string(), 5),
            ("neg".to_string(), "pos".to_string(), 2),
            ("pos".to_string(), "pos".to_string(), 1),
            ("neu".to_string(), "neg".to_string(), 3),
        ];
        let (labels, counts) = matrix(&rows);
        assert_eq!(labels, ["neg", "neu", "pos"]);
        assert_eq!(counts, vec![vec![0, 0, 2], vec![3, 0, 0], vec![0, 0, 6]]);
        let t = table_json(&labels, &counts);
        assert_eq!(t["columns"], json!(["actual", "neg", "neu", "pos"]));
        assert_eq!(t["data"][1], json!(["neu", 3, 0, 0]));
    }
}
